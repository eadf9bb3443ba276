-- Dropping a table drops its indexes and constraints. The versions (every earlier secret
-- value) go with it.
DROP TABLE credential_versions;
