-- Destinations (issue 14): adding a place a credential's secret may go needs the secret
-- re-entered or the new scope `credentials:route`.
--
-- restore_floor: the lowest version of the secret values that may be restored without
-- `credentials:route`; older versions were entered when the credential reached fewer
-- destinations. 0 (every version) for existing rows: no widening has been judged yet.
ALTER TABLE credentials ADD COLUMN restore_floor INTEGER NOT NULL DEFAULT 0
    CHECK (restore_floor >= 0);

-- Keys that held every scope there was (the bootstrap admin, and keys made like it) were
-- meant to do everything: they keep doing so with the new scope. No other key gains it.
UPDATE access_keys
SET scopes = json_insert(scopes, '$[#]', 'credentials:route')
WHERE (
    SELECT count(DISTINCT value) FROM json_each(access_keys.scopes)
    WHERE value IN (
        'credentials:read', 'credentials:write', 'access-keys:manage', 'credentials:use',
        'audit:read', 'keys:read'
    )
) = 6
AND NOT EXISTS (
    SELECT 1 FROM json_each(access_keys.scopes) WHERE value = 'credentials:route'
);
