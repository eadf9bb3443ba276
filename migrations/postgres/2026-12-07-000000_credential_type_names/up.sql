-- Credential types are the application's list (vault_core::credential_types), not the
-- schema's: a new type needs no migration unless it needs new columns. The column keeps
-- a check on the shape of a type name. Same change, same meaning, as migrations/sqlite.
ALTER TABLE credentials DROP CONSTRAINT credentials_credential_type_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_credential_type_check
    CHECK (credential_type ~ '^[a-z][a-z0-9_]{0,63}$');
