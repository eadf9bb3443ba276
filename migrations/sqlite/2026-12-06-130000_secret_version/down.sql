ALTER TABLE credentials DROP COLUMN secret_version;
