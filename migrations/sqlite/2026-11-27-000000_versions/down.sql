-- Dropping a table drops its indexes. The versions (every earlier secret value) go with it.
DROP TABLE credential_versions;
