-- Credential types are the application's list (vault_core::credential_types), not the
-- schema's: a new type needs no migration unless it needs new columns. The column keeps
-- a check on the shape of a type name. Same change, same meaning, as migrations/postgres.
--
-- SQLite changes a CHECK only by rebuilding the table. This runs in the migration's
-- transaction with foreign keys on, so the versions table, whose foreign key points at
-- credentials, is rebuilt with it: each copy refers to the other copy, the originals are
-- dropped (nothing refers to them then), and renaming the copies back rewrites the
-- reference. Indexes are made again as they were.
CREATE TABLE credentials_rebuilt (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    description TEXT,
    credential_type TEXT NOT NULL CHECK (credential_type GLOB '[a-z]*' AND credential_type NOT GLOB '*[^a-z0-9_]*'
        AND length(credential_type) <= 64),
    -- The credential's public fields: the JSON of vault_core::CredentialKind.
    public_fields TEXT NOT NULL,
    -- Non-reversible hints of the secret values: a JSON object, field -> hint.
    secret_hints TEXT NOT NULL,
    -- The secret fields, sealed by the cipher (never plaintext), and the id of the key
    -- that wrapped them, kept apart so a key rotation can count and find rows per key.
    sealed BLOB NOT NULL,
    key_id TEXT NOT NULL,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    allowed_hosts TEXT NOT NULL DEFAULT '[]',
    restore_floor INTEGER NOT NULL DEFAULT 0 CHECK (restore_floor >= 0),
    secret_version INTEGER NOT NULL DEFAULT 0 CHECK (secret_version >= 0)
) STRICT;
INSERT INTO credentials_rebuilt (
    id, organization_id, name, description, credential_type, public_fields, secret_hints,
    sealed, key_id, expires_at, created_at, updated_at, version, allowed_hosts,
    restore_floor, secret_version
)
SELECT
    id, organization_id, name, description, credential_type, public_fields, secret_hints,
    sealed, key_id, expires_at, created_at, updated_at, version, allowed_hosts,
    restore_floor, secret_version
FROM credentials;

CREATE TABLE credential_versions_rebuilt (
    credential_id BLOB NOT NULL REFERENCES credentials_rebuilt (id),
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
INSERT INTO credential_versions_rebuilt (
    credential_id, organization_id, number, sealed, key_id, secret_hints, created_at,
    created_by, restored_from
)
SELECT
    credential_id, organization_id, number, sealed, key_id, secret_hints, created_at,
    created_by, restored_from
FROM credential_versions;

DROP TABLE credential_versions;
DROP TABLE credentials;
-- Renaming rewrites the versions' foreign key to follow: it names credentials again.
ALTER TABLE credentials_rebuilt RENAME TO credentials;
ALTER TABLE credential_versions_rebuilt RENAME TO credential_versions;

CREATE INDEX credentials_organization_id ON credentials (organization_id, id);
CREATE INDEX credentials_organization_type_id ON credentials (organization_id, credential_type, id);
CREATE INDEX credentials_organization_expires_at ON credentials (organization_id, expires_at);
CREATE INDEX credentials_key_id ON credentials (key_id);
CREATE INDEX credential_versions_key_id ON credential_versions (key_id);
