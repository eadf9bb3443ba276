#![doc = include_str!("../README.md")]

mod signing_key;

use secrecy::{ExposeSecret as _, SecretString};
use vault_core::credential::JwtAlgorithm;
use vault_core::jwt::{JwtKeyError, JwtSigner};

use crate::signing_key::SigningKey;

/// The [`JwtSigner`] of the vault, on [jsonwebtoken](https://docs.rs/jsonwebtoken)'s
/// RustCrypto backend.
///
/// It keeps nothing: every call reads the key it is given, so no key outlives the call
/// (the vault caches the signed tokens, not the keys).
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonWebTokenSigner;

impl JsonWebTokenSigner {
    /// A signer.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl JwtSigner for JsonWebTokenSigner {
    fn check_key(&self, algorithm: JwtAlgorithm, key: &SecretString) -> Result<(), JwtKeyError> {
        // A real trial, down the same path as `sign`: reading a key proves its kind and
        // strength, but only signing proves its numbers make up a key (an RSA key is only
        // validated when it signs). So a key passes exactly when `sign` would take it.
        let mut claims = serde_json::Map::new();
        claims.insert("sub".to_owned(), "vault key check".into());
        SigningKey::read(algorithm, key.expose_secret())?
            .sign(None, &claims)
            .map(drop)
    }

    fn sign_with_key_id(
        &self,
        algorithm: JwtAlgorithm,
        key: &SecretString,
        key_id: Option<&str>,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<SecretString, JwtKeyError> {
        SigningKey::read(algorithm, key.expose_secret())?.sign(key_id, claims)
    }
}
