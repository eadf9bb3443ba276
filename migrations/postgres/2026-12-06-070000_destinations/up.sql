-- Destinations (issue 14): the same change, with the same meaning, as migrations/sqlite.
-- restore_floor: the lowest version of the secret values that may be restored without
-- `credentials:route`. A NOT NULL column with a constant default is a catalog change only.
ALTER TABLE credentials ADD COLUMN restore_floor bigint NOT NULL DEFAULT 0
    CONSTRAINT credentials_restore_floor_check CHECK (restore_floor >= 0);

-- Keys that held every scope there was keep doing everything, with the new scope.
UPDATE access_keys
SET scopes = (scopes::jsonb || '["credentials:route"]'::jsonb)::json
WHERE scopes::jsonb @> '["credentials:read", "credentials:write", "access-keys:manage",
    "credentials:use", "audit:read", "keys:read"]'::jsonb
AND NOT scopes::jsonb @> '["credentials:route"]'::jsonb;
