ALTER TABLE credentials DROP CONSTRAINT credentials_credential_type_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_credential_type_check CHECK (
    credential_type IN ('api_key', 'bearer_token', 'basic_auth', 'oauth2', 'jwt', 'custom')
);
