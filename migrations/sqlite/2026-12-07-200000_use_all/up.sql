-- Grants (issue 17), enforced: a key with `credentials:use` alone uses only the
-- credentials granted to it; `credentials:use-all` uses every one without a grant.

-- What let each use through: `grant:<id>`, or `credentials:use-all`.
ALTER TABLE audit_events ADD COLUMN via TEXT;
ALTER TABLE request_logs ADD COLUMN via TEXT;

-- Revoking a key ends the grants it made.
CREATE INDEX grants_organization_granted_by ON grants (organization_id, granted_by);

-- The manage grant a `use` grant was made under: it lets nothing through once that one
-- is gone or expired. Not a foreign key: revoking the manage grant revokes these too.
ALTER TABLE grants ADD COLUMN parent_id BLOB CHECK (parent_id IS NULL OR length(parent_id) = 16);

-- What each grant allows, bound under the vault's access-key hash key as keys are: a row
-- written or edited behind the vault's back grants nothing. No grant exists yet (the
-- previous release had no way to make one), so none is left unbound.
ALTER TABLE grants ADD COLUMN binding BLOB CHECK (binding IS NULL OR length(binding) = 32);

-- Keys that could use every credential keep doing so: `credentials:use` gains
-- `credentials:use-all`, so nothing breaks on upgrade. A key's binding covers its scopes,
-- so it is cleared here, and the vault binds the key again when it next opens the store
-- (logging each key it binds), as it bound the keys of releases before bindings.
UPDATE access_keys
SET scopes = json_insert(scopes, '$[#]', 'credentials:use-all'), binding = NULL
WHERE EXISTS (SELECT 1 FROM json_each(access_keys.scopes) WHERE value = 'credentials:use')
AND NOT EXISTS (
    SELECT 1 FROM json_each(access_keys.scopes) WHERE value = 'credentials:use-all'
);
