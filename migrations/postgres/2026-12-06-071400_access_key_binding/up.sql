-- Access-key bindings: the same column, with the same meaning, as migrations/sqlite.
-- HMAC-SHA-256, under the installation's access-key hash key, of the key's organization,
-- id, creator, expiry, scopes and token hash. A row moved to another organization, or
-- whose scopes or expiry were edited behind the vault's back, no longer authenticates.
-- NULL for rows written before this migration: the vault binds those when it next opens
-- the database (only it holds the hash key).
--
-- A nullable column without a default is a catalog change only (no table rewrite). The
-- partial index finds the rows still unbound without scanning the table.
ALTER TABLE access_keys ADD COLUMN binding bytea
    CONSTRAINT access_keys_binding_check CHECK (octet_length(binding) = 32);
CREATE INDEX access_keys_unbound ON access_keys (id) WHERE binding IS NULL;
