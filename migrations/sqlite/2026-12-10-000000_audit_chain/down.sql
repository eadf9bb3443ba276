DROP TABLE audit_checkpoints;
DROP TABLE audit_chain_heads;
DROP INDEX audit_events_installation_chain_seq;
DROP INDEX audit_events_organization_chain_seq;
-- chain_hash first: its CHECK names the other three columns, and SQLite drops no column a
-- CHECK of another column names.
ALTER TABLE audit_events DROP COLUMN chain_hash;
ALTER TABLE audit_events DROP COLUMN previous_hash;
ALTER TABLE audit_events DROP COLUMN chain_seq;
ALTER TABLE audit_events DROP COLUMN digest;
