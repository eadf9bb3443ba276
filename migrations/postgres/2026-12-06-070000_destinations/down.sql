UPDATE access_keys
SET scopes = (scopes::jsonb - 'credentials:route')::json;
ALTER TABLE credentials DROP COLUMN restore_floor;
