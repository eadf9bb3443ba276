-- Grants (issue 17), enforced: the same change, with the same meaning, as
-- migrations/sqlite. Nullable columns without a default are catalog changes only.
ALTER TABLE audit_events ADD COLUMN via text;
ALTER TABLE request_logs ADD COLUMN via text;

CREATE INDEX grants_organization_granted_by ON grants (organization_id, granted_by);

-- The manage grant a `use` grant was made under (see migrations/sqlite).
ALTER TABLE grants ADD COLUMN parent_id uuid;

-- Each grant's binding (see migrations/sqlite).
ALTER TABLE grants ADD COLUMN binding bytea CONSTRAINT grants_binding_check
    CHECK (binding IS NULL OR length(binding) = 32);

-- `credentials:use` keys gain `credentials:use-all`; their bindings (which cover scopes)
-- are cleared, and the vault binds them again when it next opens the store.
UPDATE access_keys
SET scopes = (scopes::jsonb || '["credentials:use-all"]'::jsonb)::json, binding = NULL
WHERE scopes::jsonb @> '["credentials:use"]'::jsonb
AND NOT scopes::jsonb @> '["credentials:use-all"]'::jsonb;
