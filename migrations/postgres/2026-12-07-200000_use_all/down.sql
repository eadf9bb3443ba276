UPDATE access_keys
SET scopes = (scopes::jsonb - 'credentials:use-all')::json, binding = NULL
WHERE scopes::jsonb @> '["credentials:use-all"]'::jsonb;
ALTER TABLE grants DROP COLUMN binding;
ALTER TABLE grants DROP COLUMN parent_id;
DROP INDEX grants_organization_granted_by;
ALTER TABLE request_logs DROP COLUMN via;
ALTER TABLE audit_events DROP COLUMN via;
