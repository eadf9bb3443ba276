-- The bindings of the keys changed are cleared again; the earlier release binds them.
UPDATE access_keys
SET scopes = (
    SELECT json_group_array(value) FROM json_each(access_keys.scopes)
    WHERE value <> 'credentials:use-all'
), binding = NULL
WHERE EXISTS (
    SELECT 1 FROM json_each(access_keys.scopes) WHERE value = 'credentials:use-all'
);
ALTER TABLE grants DROP COLUMN binding;
ALTER TABLE grants DROP COLUMN parent_id;
DROP INDEX grants_organization_granted_by;
ALTER TABLE request_logs DROP COLUMN via;
ALTER TABLE audit_events DROP COLUMN via;
