//! The request-signing port: the primitives of the credential types that sign each request
//! rather than attach a fixed value (`hmac_signature`, `aws_sigv4`). What a type signs is
//! the type module's; how bytes are hashed, and SigV4's canonical form, are the adapter's.
//! Signing is CPU-bound, so the port is synchronous, like the [`Cipher`](crate::cipher::Cipher).

use std::fmt;
use std::time::SystemTime;

use secrecy::SecretString;

use crate::upstream::OutgoingRequest;

/// The hash an HMAC or a digest uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

/// What SigV4 signs with. `Debug` shows no secret.
pub struct SigV4Params<'a> {
    /// The access key id (public).
    pub access_key_id: &'a str,
    /// The secret access key.
    pub secret_access_key: &'a SecretString,
    /// The session token of temporary credentials.
    pub session_token: Option<&'a SecretString>,
    /// The region, such as `eu-west-1`.
    pub region: &'a str,
    /// The service's signing name, such as `s3` or `execute-api`.
    pub service: &'a str,
    /// Signs the literal `UNSIGNED-PAYLOAD` instead of the body's hash (S3 allows it).
    pub unsigned_payload: bool,
    /// Also sends the body's hash as `x-amz-content-sha256` (S3 requires it).
    pub content_sha256_header: bool,
    /// The signing time.
    pub at: SystemTime,
}

impl fmt::Debug for SigV4Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Params")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// Why a request could not be signed. Fixed words: never key material or a header value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The request cannot be put in the scheme's canonical form (a header value that is
    /// not text, say).
    #[error("the request cannot be signed: {0}")]
    Unsignable(&'static str),
    /// This vault was built without a request signer.
    #[error("this vault has no request signer")]
    Unsupported,
}

/// Signs requests.
///
/// # Errors
/// An implementation MUST never put key material, a header value or the URL in an error
/// or a log.
pub trait RequestSigner: Send + Sync + 'static {
    /// The HMAC of `message` under `key`.
    ///
    /// # Errors
    /// [`SigningError::Unsupported`] from a vault without a signer.
    fn mac(
        &self,
        algorithm: HashAlgorithm,
        key: &[u8],
        message: &[u8],
    ) -> Result<Vec<u8>, SigningError>;

    /// The digest of `message`.
    ///
    /// # Errors
    /// [`SigningError::Unsupported`] from a vault without a signer.
    fn digest(&self, algorithm: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>, SigningError>;

    /// The headers AWS Signature Version 4 adds to `request` as it is (method, URL,
    /// headers and body): `authorization`, `x-amz-date`, and as asked
    /// `x-amz-security-token` and `x-amz-content-sha256`. Values that carry a secret are
    /// marked sensitive.
    ///
    /// # Errors
    /// [`SigningError`] when the request cannot be signed.
    fn sigv4(
        &self,
        request: &OutgoingRequest,
        params: &SigV4Params<'_>,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, SigningError>;
}

/// The signer of a vault built without one: signs nothing, so signing credentials are
/// refused when used.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRequestSigner;

impl RequestSigner for NoRequestSigner {
    fn mac(
        &self,
        _algorithm: HashAlgorithm,
        _key: &[u8],
        _message: &[u8],
    ) -> Result<Vec<u8>, SigningError> {
        Err(SigningError::Unsupported)
    }

    fn digest(&self, _algorithm: HashAlgorithm, _message: &[u8]) -> Result<Vec<u8>, SigningError> {
        Err(SigningError::Unsupported)
    }

    fn sigv4(
        &self,
        _request: &OutgoingRequest,
        _params: &SigV4Params<'_>,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, SigningError> {
        Err(SigningError::Unsupported)
    }
}
