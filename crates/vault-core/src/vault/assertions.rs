//! The JWTs an OAuth2 credential signs with its private key (RFC 7523): the client
//! assertion of `private_key_jwt`, and the JWT-bearer grant's assertion. Each is signed for
//! one request, with a fresh `jti`, and never cached.

use secrecy::SecretString;

use super::{Vault, VaultError};
use crate::cipher::CipherError;
use crate::credential::{OAuth2ClientAuth, OAuth2Config, OAuth2Grant, StoredCredential};
use crate::oauth2::ClientProof;
use crate::store::Store;

/// How long an assertion is good for: long enough for a slow token endpoint, short enough
/// that a captured one is soon useless (RFC 7523 §3 asks for a limited lifetime).
const ASSERTION_LIFETIME: time::Duration = time::Duration::minutes(2);

impl<S: Store> Vault<S> {
    /// How the credential's client proves itself at its endpoints: its secret, an
    /// assertion signed now, or nothing (a public client, the JWT-bearer grant).
    pub(super) fn client_proof(
        &self,
        stored: &StoredCredential,
        config: &OAuth2Config,
    ) -> Result<ClientProof, VaultError> {
        let field = match config.client_auth {
            OAuth2ClientAuth::Basic | OAuth2ClientAuth::Body => "clientSecret",
            // The JWT-bearer grant's own assertion proves the client (RFC 7523 §3.1), as
            // Google's token endpoint takes it: no second one.
            OAuth2ClientAuth::PrivateKeyJwt if config.grant == OAuth2Grant::JwtBearer => {
                return Ok(ClientProof::None);
            }
            OAuth2ClientAuth::PrivateKeyJwt => "privateKey",
            OAuth2ClientAuth::None => return Ok(ClientProof::None),
        };
        let secrets = self.open_secrets(stored)?;
        let secret = secrets
            .text(field)
            .ok_or(VaultError::Cipher(CipherError::Malformed))?;
        if config.client_auth != OAuth2ClientAuth::PrivateKeyJwt {
            return Ok(ClientProof::Secret(secret.clone()));
        }
        // RFC 7523 §3: the client is both issuer and subject; the audience is the
        // authorization server, named by its token endpoint.
        let mut claims = serde_json::Map::new();
        claims.insert("iss".to_owned(), config.client_id.clone().into());
        claims.insert("sub".to_owned(), config.client_id.clone().into());
        self.sign_assertion(config, secret, claims)
            .map(ClientProof::Assertion)
    }

    /// The JWT-bearer grant's assertion (RFC 7523 §2.1, as Google's service accounts take
    /// it): issued by the client id, for the token endpoint, with the scopes as a claim
    /// and the subject a service account acts for.
    pub(super) fn bearer_assertion(
        &self,
        stored: &StoredCredential,
        config: &OAuth2Config,
    ) -> Result<SecretString, VaultError> {
        let secrets = self.open_secrets(stored)?;
        let key = secrets
            .text("privateKey")
            .ok_or(VaultError::Cipher(CipherError::Malformed))?;
        let mut claims = serde_json::Map::new();
        claims.insert("iss".to_owned(), config.client_id.clone().into());
        if let Some(subject) = &config.assertion_subject {
            claims.insert("sub".to_owned(), subject.clone().into());
        }
        if !config.scopes.is_empty() {
            claims.insert("scope".to_owned(), config.scopes.join(" ").into());
        }
        self.sign_assertion(config, key, claims)
    }

    /// Signs `claims` with `key`, for the token endpoint, now, with a fresh `jti`.
    fn sign_assertion(
        &self,
        config: &OAuth2Config,
        key: &SecretString,
        mut claims: serde_json::Map<String, serde_json::Value>,
    ) -> Result<SecretString, VaultError> {
        let algorithm = config
            .assertion_algorithm
            .ok_or(VaultError::Cipher(CipherError::Malformed))?;
        let now = self.clock.now();
        claims.insert("aud".to_owned(), config.token_url.clone().into());
        claims.insert("iat".to_owned(), now.unix_timestamp().into());
        claims.insert(
            "exp".to_owned(),
            (now + ASSERTION_LIFETIME).unix_timestamp().into(),
        );
        claims.insert("jti".to_owned(), uuid::Uuid::new_v4().to_string().into());
        self.signer
            .sign_with_key_id(algorithm, key, config.assertion_key_id.as_deref(), &claims)
            .map_err(VaultError::Signing)
    }
}
