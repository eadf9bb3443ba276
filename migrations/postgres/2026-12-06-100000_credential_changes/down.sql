DROP TRIGGER vault_credential_truncated ON credentials;
DROP TRIGGER vault_credential_changed ON credentials;
DROP FUNCTION vault_credential_changed();
