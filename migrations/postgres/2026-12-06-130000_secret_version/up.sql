-- secret_version (issue 15): the number of the version holding a credential's current
-- secret values, so that a change numbers its new version without listing the versions.
-- 0 for a credential whose values predate versions (they become version 1 on their first
-- change). Same change, same meaning, as migrations/sqlite.
ALTER TABLE credentials ADD COLUMN secret_version bigint NOT NULL DEFAULT 0
    CONSTRAINT credentials_secret_version_check CHECK (secret_version >= 0);

UPDATE credentials c
SET secret_version = v.latest
FROM (
    SELECT credential_id, max(number) AS latest FROM credential_versions GROUP BY credential_id
) v
WHERE v.credential_id = c.id;
