-- Dropping a column drops its constraints. The subjects of identity-provider actors go
-- with it.
ALTER TABLE request_logs DROP COLUMN actor_subject;
ALTER TABLE audit_events DROP COLUMN actor_subject;
