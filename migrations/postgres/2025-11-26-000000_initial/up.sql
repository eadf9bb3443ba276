-- The initial schema of the PostgreSQL store: the same tables, with the same meaning, as
-- migrations/sqlite, in PostgreSQL's own types.
--
-- Ids are `uuid` (UUID v7, so ids sort by creation time and B-tree inserts stay local);
-- times are `timestamptz`, whose microsecond precision is the precision every store keeps;
-- sealed secrets and hashes are `bytea`.
--
-- The JSON columns are `json`, not `jsonb`: `json` keeps the text exactly as written (jsonb
-- rewrites numbers such as 1e16 and refuses \u0000), so what is read back decodes to exactly
-- the value that was stored, while PostgreSQL still refuses text that is not JSON.
--
-- Foreign keys point at organizations WITHOUT any ON DELETE CASCADE, on purpose: deleting
-- an organization must never silently take its credentials or access keys with it, and the
-- history tables to come (request logs, audit events, credential versions) must never
-- cascade away when a credential is deleted. Delete what you mean to delete, explicitly.

CREATE TABLE organizations (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE credentials (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name text NOT NULL,
    description text,
    credential_type text NOT NULL CHECK (
        credential_type IN ('api_key', 'bearer_token', 'basic_auth', 'oauth2', 'jwt', 'custom')
    ),
    -- The credential's public fields: the JSON of vault_core::CredentialKind.
    public_fields json NOT NULL,
    -- Non-reversible hints of the secret values: a JSON object, field -> hint.
    secret_hints json NOT NULL,
    -- The secret fields, sealed by the cipher (never plaintext), and the id of the key
    -- that wrapped them, kept apart so a key rotation can count and find rows per key.
    sealed bytea NOT NULL,
    key_id text NOT NULL,
    expires_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version bigint NOT NULL CHECK (version >= 1)
);

-- Get, update, delete and list (ordered by id after a cursor) within an organization.
CREATE INDEX credentials_organization_id ON credentials (organization_id, id);
-- List filtered by type.
CREATE INDEX credentials_organization_type_id ON credentials (organization_id, credential_type, id);
-- List filtered by expiry (expiringWithin).
CREATE INDEX credentials_organization_expires_at ON credentials (organization_id, expires_at);
-- Rewrap after a key rotation: the rows still sealed under an old key.
CREATE INDEX credentials_key_id ON credentials (key_id);

CREATE TABLE access_keys (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name text NOT NULL,
    -- HMAC-SHA-256 of the token under the installation's hash key; never the token.
    key_hash bytea NOT NULL CHECK (length(key_hash) = 32),
    -- JSON array of scope names.
    scopes json NOT NULL,
    -- The key that created this one. Not a foreign key: a key's history must outlive the
    -- key that made it, whatever later happens to that one.
    created_by uuid,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT access_keys_key_hash_key UNIQUE (key_hash)
);

-- List an organization's keys in id order.
CREATE INDEX access_keys_organization_id ON access_keys (organization_id, id);

-- Installation-wide sealed values (the key-check value, the access-key hash key).
CREATE TABLE vault_meta (
    name text PRIMARY KEY,
    value bytea NOT NULL,
    key_id text NOT NULL
);
