-- The initial schema of the embedded (SQLite) store.
--
-- Ids are UUIDs as 16-byte BLOBs and times are Unix microseconds, the precision every
-- store keeps. Tables are STRICT, so a value of the wrong type is refused on write instead
-- of surfacing later as a row that fails to decode; in STRICT tables a 64-bit integer
-- column is spelled INTEGER (SQLite's only integer type, the BIGINT of other databases).
--
-- No foreign key cascades: deleting an organization must never silently take credentials,
-- access keys, or (later) request logs, audit events and credential versions with it.

CREATE TABLE organizations (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE credentials (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    description TEXT,
    credential_type TEXT NOT NULL CHECK (
        credential_type IN ('api_key', 'bearer_token', 'basic_auth', 'oauth2', 'jwt', 'custom')
    ),
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
    version INTEGER NOT NULL CHECK (version >= 1)
) STRICT;

-- Get, update, delete and list (ordered by id after a cursor) within an organization.
CREATE INDEX credentials_organization_id ON credentials (organization_id, id);
-- List filtered by type.
CREATE INDEX credentials_organization_type_id ON credentials (organization_id, credential_type, id);
-- List filtered by expiry (expiringWithin).
CREATE INDEX credentials_organization_expires_at ON credentials (organization_id, expires_at);
-- Rewrap after a key rotation: the rows still sealed under an old key.
CREATE INDEX credentials_key_id ON credentials (key_id);

CREATE TABLE access_keys (
    id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    -- HMAC-SHA-256 of the token under the installation's hash key; never the token.
    key_hash BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    -- JSON array of scope names.
    scopes TEXT NOT NULL,
    created_by BLOB CHECK (created_by IS NULL OR length(created_by) = 16),
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER,
    revoked_at INTEGER
) STRICT;

-- List an organization's keys in id order.
CREATE INDEX access_keys_organization_id ON access_keys (organization_id, id);

-- Installation-wide sealed values (the key-check value, the access-key hash key).
CREATE TABLE vault_meta (
    name TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    key_id TEXT NOT NULL
) STRICT;
