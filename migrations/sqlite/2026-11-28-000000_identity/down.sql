-- DROP COLUMN needs SQLite 3.35 or later (the bundled SQLite is newer). The subjects of
-- identity-provider actors go with it.
ALTER TABLE request_logs DROP COLUMN actor_subject;
ALTER TABLE audit_events DROP COLUMN actor_subject;
