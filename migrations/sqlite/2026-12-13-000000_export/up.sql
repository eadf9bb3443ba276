-- The audit log names two more actions: a credential leaving in an export bundle, and one
-- created from an import. SQLite changes a CHECK only by rebuilding the table; nothing
-- refers to it, so it is copied, dropped and renamed back, with every column and index it
-- has (as the webhooks migration rebuilt it).
CREATE TABLE audit_events_rebuilt (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    organization_id BLOB REFERENCES organizations (id),
    actor BLOB CHECK (actor IS NULL OR length(actor) = 16),
    -- vault_core::logs::AuditAction::as_str. A new action needs a migration that widens
    -- this list, which is the point: a row this schema cannot name is refused on write.
    action TEXT NOT NULL CHECK (
        action IN (
            'credential.create', 'credential.update', 'credential.delete', 'credential.use',
            'access_key.create', 'access_key.revoke', 'authentication.failure',
            'grant.create', 'grant.revoke',
            'connection.connect', 'connection.lost', 'connection.revoke',
            'keyring.rotate', 'keyring.rewrap', 'keyring.migrate',
            'webhook.create', 'webhook.update', 'webhook.delete', 'webhook.replay',
            'credential.export', 'credential.import'
        )
    ),
    target BLOB CHECK (target IS NULL OR length(target) = 16),
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    reason TEXT,
    at INTEGER NOT NULL,
    actor_subject TEXT
        CHECK (actor_subject IS NULL OR length(actor_subject) BETWEEN 1 AND 255),
    occurrences INTEGER NOT NULL DEFAULT 1,
    via TEXT,
    digest BLOB CHECK (digest IS NULL OR length(digest) = 32),
    chain_seq INTEGER CHECK (chain_seq IS NULL OR chain_seq >= 1),
    previous_hash BLOB CHECK (previous_hash IS NULL OR length(previous_hash) = 32),
    chain_hash BLOB
        CHECK (chain_hash IS NULL OR length(chain_hash) = 32)
        CHECK (
            (chain_seq IS NULL) = (previous_hash IS NULL)
            AND (chain_seq IS NULL) = (chain_hash IS NULL)
            AND (chain_seq IS NULL OR digest IS NOT NULL)
        )
) STRICT;
INSERT INTO audit_events_rebuilt (
    id, organization_id, actor, action, target, outcome, reason, at, actor_subject,
    occurrences, via, digest, chain_seq, previous_hash, chain_hash
)
SELECT id, organization_id, actor, action, target, outcome, reason, at, actor_subject,
    occurrences, via, digest, chain_seq, previous_hash, chain_hash
FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_rebuilt RENAME TO audit_events;
CREATE INDEX audit_events_organization_id ON audit_events (organization_id, id);
CREATE INDEX audit_events_organization_action_id ON audit_events (organization_id, action, id);
CREATE INDEX audit_events_organization_target_id ON audit_events (organization_id, target, id);
CREATE UNIQUE INDEX audit_events_organization_chain_seq
    ON audit_events (organization_id, chain_seq) WHERE chain_seq IS NOT NULL;
CREATE UNIQUE INDEX audit_events_installation_chain_seq
    ON audit_events (chain_seq) WHERE organization_id IS NULL AND chain_seq IS NOT NULL;
