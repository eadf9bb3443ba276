-- secret_version (issue 15): the number of the version holding a credential's current
-- secret values, so that a change numbers its new version without listing the versions.
-- 0 for a credential whose values predate versions (they become version 1 on their first
-- change). Same change, same meaning, as migrations/postgres.
ALTER TABLE credentials ADD COLUMN secret_version INTEGER NOT NULL DEFAULT 0
    CHECK (secret_version >= 0);

UPDATE credentials
SET secret_version = (
    SELECT max(number) FROM credential_versions WHERE credential_id = credentials.id
)
WHERE EXISTS (SELECT 1 FROM credential_versions WHERE credential_id = credentials.id);
