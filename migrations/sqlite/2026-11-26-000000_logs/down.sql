-- Dropping a table drops its indexes. DROP COLUMN needs SQLite 3.35 or later (the bundled
-- SQLite is newer).
DROP TABLE audit_events;
DROP TABLE request_logs;
ALTER TABLE credentials DROP COLUMN allowed_hosts;
