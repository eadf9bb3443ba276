-- Keys held by a key manager (issue 19): the keyring of key-encryption keys, wrapped by
-- the key manager (a static key, Transit, AWS KMS, an HSM), unwrapped once at start. Same
-- table, same meaning, as migrations/sqlite.

-- One row for the installation (none while the static ENCRYPTION_KEY is the only key).
CREATE TABLE keyring (
    id smallint PRIMARY KEY CHECK (id = 1),
    -- Incremented by every change, which is a compare-and-set on it; replicas reload the
    -- keyring when it moves.
    generation bigint NOT NULL CHECK (generation >= 1),
    -- vault_core::WrappedKeyring: the manager's kind, which of its keys wrapped it, and its
    -- ciphertext.
    manager text NOT NULL CHECK (length(manager) BETWEEN 1 AND 32),
    manager_key text NOT NULL,
    wrapped bytea NOT NULL,
    -- For a short while after a change: the keyring sealed under the key that was current
    -- before it, and that key's id, so running replicas learn the change without calling
    -- the key manager. Cleared once every row is under the new key.
    handover bytea,
    handover_key_id text,
    changed_at timestamptz NOT NULL,
    CONSTRAINT keyring_handover_check CHECK ((handover IS NULL) = (handover_key_id IS NULL))
);

-- The audit log names three more actions: the keyring's changes. Adding the check scans
-- the existing rows once (all pass: the list only grew), under the migration's lock.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (
    action IN (
        'credential.create', 'credential.update', 'credential.delete', 'credential.use',
        'access_key.create', 'access_key.revoke', 'authentication.failure',
        'grant.create', 'grant.revoke',
        'connection.connect', 'connection.lost', 'connection.revoke',
        'keyring.rotate', 'keyring.rewrap', 'keyring.migrate'
    )
);
