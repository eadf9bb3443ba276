-- The chains go: the trigger first (events written after this are unchained), then the
-- heads and checkpoints, then the links. The events themselves stay.
DROP TRIGGER vault_audit_chain ON audit_events;
DROP FUNCTION vault_audit_chain();
DROP TABLE audit_checkpoints;
DROP TABLE audit_chain_heads;
DROP INDEX audit_events_installation_chain_seq;
DROP INDEX audit_events_organization_chain_seq;
-- Dropping the columns would drop their constraints too; named here to say what goes.
ALTER TABLE audit_events
    DROP CONSTRAINT audit_events_chain_link_check,
    DROP CONSTRAINT audit_events_chain_hashes_check,
    DROP COLUMN chain_hash,
    DROP COLUMN previous_hash,
    DROP COLUMN chain_seq,
    DROP COLUMN digest;
