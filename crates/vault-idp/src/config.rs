//! What the verifier is configured with, and why a configuration is refused.

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;

/// Default tolerance for clock skew between the identity provider and the vault.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;
/// The largest leeway accepted: more would keep expired tokens working for too long.
pub const MAX_LEEWAY_SECONDS: u64 = 600;

/// Which claims carry the organization, the subject, the scopes and the groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimNames {
    /// The claim holding the organization id (a UUID). Default `org`.
    pub organization: String,
    /// The claim holding the subject. Default `sub`.
    pub subject: String,
    /// The claim holding the scopes: a space-separated string (OAuth2's `scope`) or an
    /// array of strings. Default `scope`.
    pub scopes: String,
    /// The claim holding the groups or roles grants may name (`group:<name>`): an array of
    /// strings or a space-separated string. Default `groups`.
    pub groups: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            organization: "org".to_owned(),
            subject: "sub".to_owned(),
            scopes: "scope".to_owned(),
            groups: "groups".to_owned(),
        }
    }
}

/// The identity provider: who issues tokens, for whom, and the keys that verify them.
#[derive(Clone)]
pub struct IdpConfig {
    /// The exact `iss` tokens must carry.
    pub issuer: String,
    /// The audience tokens must name in `aud` (a string, or one of an array).
    pub audience: String,
    /// Tolerance for clock skew on `exp` and `nbf`, in seconds (at most
    /// [`MAX_LEEWAY_SECONDS`]).
    pub leeway_seconds: u64,
    /// Shared HS256 secrets, each at least 32 bytes (taken as their UTF-8 bytes).
    pub hs256_secrets: Vec<SecretString>,
    /// PEM files of public keys: RSA ones verify RS256, EC P-256 ones ES256.
    pub public_key_files: Vec<PathBuf>,
    /// A JWKS file (RFC 7517): its RSA and EC P-256 signing keys, matched by `kid`.
    pub jwks_file: Option<PathBuf>,
    /// The claims mapped to organization, subject and scopes.
    pub claims: ClaimNames,
}

impl IdpConfig {
    /// A configuration for `issuer` and `audience` with the default leeway and claim names
    /// and no key yet.
    #[must_use]
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
            hs256_secrets: Vec::new(),
            public_key_files: Vec::new(),
            jwks_file: None,
            claims: ClaimNames::default(),
        }
    }
}

impl fmt::Debug for IdpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdpConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_seconds", &self.leeway_seconds)
            // Only how many: the secrets never appear.
            .field("hs256_secrets", &self.hs256_secrets.len())
            .field("public_key_files", &self.public_key_files)
            .field("jwks_file", &self.jwks_file)
            .field("claims", &self.claims)
            .finish()
    }
}

/// Why a configuration is refused at start-up. Messages say what to fix, naming files and
/// settings, never a secret or a file's content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdpConfigError {
    /// No issuer.
    #[error("the identity provider's issuer (idp_issuer) must not be empty")]
    MissingIssuer,
    /// No audience.
    #[error(
        "the identity provider's audience (idp_audience) must be set: tokens must name this vault in aud"
    )]
    MissingAudience,
    /// Not a single key.
    #[error(
        "no key verifies the identity provider's tokens: set idp_hs256_secrets, idp_public_key_files or idp_jwks_file"
    )]
    NoKey,
    /// An HS256 secret is too short.
    #[error(
        "HS256 secret #{number} of idp_hs256_secrets is shorter than 32 bytes (RFC 7518 asks for at least the hash size)"
    )]
    SecretTooShort {
        /// Its position, from 1.
        number: usize,
    },
    /// A key file cannot be read.
    #[error("cannot read {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A PEM file is not a usable public key.
    #[error("{} is not a usable public key: {reason}", path.display())]
    PublicKey {
        /// The file.
        path: PathBuf,
        /// What is wrong, in fixed words.
        reason: &'static str,
    },
    /// A JWKS file is not usable.
    #[error("{} is not a usable JWKS file: {reason}", path.display())]
    Jwks {
        /// The file.
        path: PathBuf,
        /// What is wrong (key ids and fixed words only).
        reason: String,
    },
    /// The leeway is too large.
    #[error("idp_leeway_seconds must be at most {MAX_LEEWAY_SECONDS}")]
    LeewayTooLarge,
    /// A claim name is empty.
    #[error("the claim name {0} must not be empty")]
    EmptyClaimName(&'static str),
}
