-- Credential versions (SQLite): every value a credential's secret fields have had (the
-- create, each update with new secret values, each restore), newest kept, so a bad
-- rotation can be undone. Same conventions as the initial migration: UUIDs as 16-byte
-- BLOBs, times as Unix microseconds, STRICT tables.
--
-- Unlike the logs' credential_id, this one IS a foreign key to credentials: a version is
-- the credential's own secret data (sealed for that credential), not history that must
-- outlive it. Still no cascade, as everywhere: the store deletes a credential's versions
-- itself, in the same transaction as the credential, and the foreign key refuses a delete
-- that forgets them (or a version of a credential that does not exist).
CREATE TABLE credential_versions (
    credential_id BLOB NOT NULL REFERENCES credentials (id),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    -- 1, 2, 3, ... per credential; the largest is the current value.
    number INTEGER NOT NULL CHECK (number >= 1),
    -- The secret fields, sealed by the cipher (bound to organization, credential and
    -- number), and the id of the key that wrapped them, kept apart so a key rotation can
    -- count and find rows per key without parsing blobs.
    sealed BLOB NOT NULL,
    key_id TEXT NOT NULL,
    -- Non-reversible hints of the values: a JSON object, field -> hint.
    secret_hints TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- The access key that made the version (NULL: the vault itself). Not a foreign key,
    -- as in access_keys.created_by: history outlives the key that made it.
    created_by BLOB CHECK (created_by IS NULL OR length(created_by) = 16),
    -- The version this one restored, when a restore made it.
    restored_from INTEGER CHECK (restored_from IS NULL OR restored_from >= 1),
    -- Also the index every per-credential access uses: list (newest first), get by
    -- number, prune to the newest N, delete with the credential, and the foreign key's
    -- check when a credential is deleted.
    PRIMARY KEY (credential_id, number)
) STRICT;

-- Key rotation: count the rows per key, find those still sealed under an old key.
CREATE INDEX credential_versions_key_id ON credential_versions (key_id);
