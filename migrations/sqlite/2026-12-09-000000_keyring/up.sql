-- Keys held by a key manager (issue 19): the keyring of key-encryption keys, wrapped by
-- the key manager (a static key, Transit, AWS KMS, an HSM), unwrapped once at start. Same
-- table, same meaning, as migrations/postgres.

-- One row for the installation (none while the static ENCRYPTION_KEY is the only key).
CREATE TABLE keyring (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    -- Incremented by every change, which is a compare-and-set on it; replicas reload the
    -- keyring when it moves.
    generation INTEGER NOT NULL CHECK (generation >= 1),
    -- vault_core::WrappedKeyring: the manager's kind, which of its keys wrapped it, and its
    -- ciphertext.
    manager TEXT NOT NULL CHECK (length(manager) BETWEEN 1 AND 32),
    manager_key TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    -- For a short while after a change: the keyring sealed under the key that was current
    -- before it, and that key's id, so running replicas learn the change without calling
    -- the key manager. Cleared once every row is under the new key.
    handover BLOB,
    handover_key_id TEXT,
    changed_at INTEGER NOT NULL,
    CHECK ((handover IS NULL) = (handover_key_id IS NULL))
) STRICT;

-- The audit log names three more actions: the keyring's changes. SQLite changes a CHECK
-- only by rebuilding the table; nothing refers to it, so it is copied, dropped and renamed
-- back, with every column and index it has by now.
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
            'keyring.rotate', 'keyring.rewrap', 'keyring.migrate'
        )
    ),
    target BLOB CHECK (target IS NULL OR length(target) = 16),
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    reason TEXT,
    at INTEGER NOT NULL,
    actor_subject TEXT
        CHECK (actor_subject IS NULL OR length(actor_subject) BETWEEN 1 AND 255),
    occurrences INTEGER NOT NULL DEFAULT 1,
    via TEXT
) STRICT;
INSERT INTO audit_events_rebuilt (
    id, organization_id, actor, action, target, outcome, reason, at, actor_subject,
    occurrences, via
)
SELECT id, organization_id, actor, action, target, outcome, reason, at, actor_subject,
    occurrences, via
FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_rebuilt RENAME TO audit_events;
CREATE INDEX audit_events_organization_id ON audit_events (organization_id, id);
CREATE INDEX audit_events_organization_action_id ON audit_events (organization_id, action, id);
CREATE INDEX audit_events_organization_target_id ON audit_events (organization_id, target, id);
