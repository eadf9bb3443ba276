-- Dropping a table drops its indexes and constraints.
DROP TABLE audit_events;
DROP TABLE request_logs;
ALTER TABLE credentials DROP COLUMN allowed_hosts;
