//! The JWT signing port. Signing is CPU-bound, so the port is synchronous, like the
//! [`Cipher`](crate::cipher::Cipher).

use secrecy::SecretString;

use crate::credential::JwtAlgorithm;
use crate::store::BoxError;

/// Why a key cannot sign. Messages are fixed words: they reach API callers as the reason a
/// key was refused, and must never quote key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtKeyError {
    /// The key is not a PEM private key this signer can read.
    #[error("is not a PEM private key that can be read ({0})")]
    Unreadable(&'static str),
    /// The key is readable but of another kind than the algorithm needs (an EC key for
    /// RS256, a P-384 key for ES256).
    #[error("does not fit {algorithm}: it needs {needs}")]
    WrongKind {
        /// The algorithm asked for.
        algorithm: &'static str,
        /// What that algorithm needs, in words.
        needs: &'static str,
    },
    /// The key is too weak for the algorithm (an RSA modulus under 2048 bits, an HMAC
    /// secret shorter than allowed).
    #[error("is too weak for {algorithm}: {reason}")]
    TooWeak {
        /// The algorithm asked for.
        algorithm: &'static str,
        /// Why, in words.
        reason: &'static str,
    },
    /// This vault was built without a JWT signer.
    #[error("cannot be used: this vault has no JWT signer")]
    Unsupported,
    /// Signing failed in another way.
    #[error("could not sign")]
    Signing(#[source] BoxError),
}

/// Signs JWTs.
///
/// # Errors
/// An implementation MUST:
/// - accept in `check_key` exactly the keys `sign` can sign with for that algorithm, so a
///   credential refused at use time was refused when it was stored;
/// - take an HMAC secret (HS*) as its UTF-8 bytes, and any other key as a PEM private key
///   (PKCS#8 for every family; PKCS#1 `RSA PRIVATE KEY` and SEC1 `EC PRIVATE KEY` too);
/// - never put key material in an error or log.
pub trait JwtSigner: Send + Sync + 'static {
    /// Checks that `key` can sign with `algorithm`.
    ///
    /// # Errors
    /// [`JwtKeyError`] naming what is wrong with the key.
    fn check_key(&self, algorithm: JwtAlgorithm, key: &SecretString) -> Result<(), JwtKeyError>;

    /// Signs `claims` (a JSON object) with `key`, returning the compact JWS; its header
    /// names the key (`kid`) when `key_id` is given.
    ///
    /// # Errors
    /// [`JwtKeyError`] when the key does not fit, or signing fails.
    fn sign_with_key_id(
        &self,
        algorithm: JwtAlgorithm,
        key: &SecretString,
        key_id: Option<&str>,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<SecretString, JwtKeyError>;

    /// [`sign_with_key_id`](Self::sign_with_key_id) without a `kid`.
    ///
    /// # Errors
    /// As `sign_with_key_id`.
    fn sign(
        &self,
        algorithm: JwtAlgorithm,
        key: &SecretString,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<SecretString, JwtKeyError> {
        self.sign_with_key_id(algorithm, key, None, claims)
    }
}

/// The signer of a vault built without one: refuses every key, so JWT credentials are
/// refused when stored rather than failing when used.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoJwtSigner;

impl JwtSigner for NoJwtSigner {
    fn check_key(&self, _algorithm: JwtAlgorithm, _key: &SecretString) -> Result<(), JwtKeyError> {
        Err(JwtKeyError::Unsupported)
    }

    fn sign_with_key_id(
        &self,
        _algorithm: JwtAlgorithm,
        _key: &SecretString,
        _key_id: Option<&str>,
        _claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<SecretString, JwtKeyError> {
        Err(JwtKeyError::Unsupported)
    }
}
