//! Why a use case, opening a vault, or a readiness check failed.

use time::OffsetDateTime;

use crate::access_key::Scope;
use crate::bundle::BundleError;
use crate::cipher::{CipherError, KeyId};
use crate::grants::{BrokenRule, Window};
use crate::identity::IdentityError;
use crate::jwt::JwtKeyError;
use crate::oauth2::TokenEndpointError;
use crate::store::StoreError;
use crate::upstream::UpstreamError;
use crate::validation::{FieldError, ValidationErrors};

/// Why a use case failed. Messages never contain secret values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The input is invalid; each problem names its field.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// No valid, active access key was presented.
    #[error("missing, malformed, unknown, expired or revoked access key")]
    Unauthenticated,
    /// The access key lacks a scope the operation needs.
    #[error("the access key lacks the scope {0}")]
    MissingScope(Scope),
    /// A key tried to grant scopes it does not hold itself, or to revoke a key holding them.
    #[error("an access key can neither grant nor revoke scopes it does not hold")]
    ScopeEscalation(Vec<Scope>),
    /// No such record in the caller's organization.
    #[error("not found")]
    NotFound,
    /// Too many concurrent writers on one record; the caller may retry.
    #[error("the record is being changed concurrently; retry")]
    Conflict,
    /// The store cannot be reached.
    #[error("the store is unavailable")]
    Unavailable(#[source] StoreError),
    /// The store failed.
    #[error("the store failed")]
    Store(#[source] StoreError),
    /// Sealing or opening failed (wrong key, tampered row, missing key).
    #[error("encryption failure")]
    Cipher(#[source] CipherError),
    /// The credential has expired; it is never applied.
    #[error("the credential expired at {at}")]
    Expired {
        /// When it expired.
        at: OffsetDateTime,
    },
    /// The destination is not one of the credential's `allowedHosts`.
    #[error("the destination is not in this credential's allowedHosts")]
    DestinationNotAllowed,
    /// A change would let the stored secret go somewhere new (the fields named), and the
    /// request neither re-enters the secret values nor holds `credentials:route`; or a
    /// restore would bring back a secret sealed before the destinations widened.
    #[error("adding a destination needs the secret values re-entered or credentials:route")]
    RouteNotAllowed(Vec<&'static str>),
    /// The upstream could not be reached, or its address is forbidden.
    #[error("the upstream request failed: {0}")]
    Upstream(#[source] UpstreamError),
    /// The OAuth2 token endpoint gave no usable token.
    #[error("{0}")]
    TokenEndpoint(#[source] TokenEndpointError),
    /// A stored JWT key no longer signs (it was checked when stored).
    #[error("the credential's key could not sign a JWT")]
    Signing(#[source] JwtKeyError),
    /// A stored value cannot be put in a request (it was checked when stored).
    #[error("the credential holds a value that cannot be sent")]
    Unsendable,
    /// The same failure, shared by callers that waited for one token fetch.
    #[error("{0}")]
    Shared(std::sync::Arc<VaultError>),
    /// The caller's precondition (`If-Match`) names another version than the current one.
    #[error("the credential is not at the version the request names")]
    PreconditionFailed,
    /// The identity verifier failed in itself (not the token's fault).
    #[error("the identity verifier failed")]
    IdentityVerifier(#[source] IdentityError),
    /// The principal holds neither `credentials:use-all` nor a live grant of the credential.
    #[error("no grant lets you use this credential")]
    NotGranted,
    /// The principal's grants of the credential do not allow this request; the rule named
    /// is the one it broke.
    #[error("the request is outside your grant's {}", .0.field())]
    RequestNotGranted(BrokenRule),
    /// The grant's budget for this window is spent; nothing was sent.
    #[error("the grant's {} budget is spent", .window.as_str())]
    BudgetExhausted {
        /// The window at its cap.
        window: Window,
        /// Seconds until it ends (none for the total, which never does).
        retry_after: Option<i64>,
    },
    /// The credential is not an `oauth2` credential with the authorization-code grant, so
    /// it has no connection.
    #[error("only an oauth2 credential with the authorization_code grant can be connected")]
    NotConnectable,
    /// The authorization-code credential was never connected: a user must connect it.
    #[error("credential {0} is not connected yet: connect it (POST /credentials/{0}/connect)")]
    NotConnected(crate::ids::CredentialId),
    /// The provider refused the credential's refresh token: a user must connect it again.
    #[error("credential {0} must be connected again: its provider refused the refresh token")]
    ReconnectRequired(crate::ids::CredentialId),
    /// A connect callback's `state` is missing, unknown, already used or expired.
    #[error("the connect link is invalid, already used or expired; start connecting again")]
    InvalidConnectState,
    /// The provider sent the user back without a code: the OAuth2 `error` it gave, when
    /// well formed (`access_denied`).
    #[error("the provider did not authorize the connection{}", .0.as_deref().map(|e| format!(" (error: {e})")).unwrap_or_default())]
    AuthorizationRefused(Option<String>),
    /// An export bundle could not be sealed or opened.
    #[error("{0}")]
    Bundle(#[source] BundleError),
}

impl VaultError {
    /// A stable machine code, as problem responses and audit events carry it.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid-field",
            Self::Unauthenticated => "unauthorized",
            Self::MissingScope(_) => "insufficient-scope",
            Self::ScopeEscalation(_) => "scope-escalation",
            Self::NotFound => "not-found",
            Self::Conflict => "conflict",
            Self::Unavailable(_) => "store-unavailable",
            Self::Cipher(CipherError::UnknownKey(_)) => "encryption-key-missing",
            Self::Cipher(CipherError::Tampered) => "sealed-data-tampered",
            Self::Store(_)
            | Self::Cipher(_)
            | Self::Signing(_)
            | Self::Unsendable
            | Self::IdentityVerifier(_) => "internal-error",
            Self::Expired { .. } => "credential-expired",
            Self::DestinationNotAllowed => "destination-not-allowed",
            Self::RouteNotAllowed(_) => "route-not-allowed",
            Self::Upstream(error) => error.code(),
            Self::TokenEndpoint(_) => "token-endpoint-failed",
            Self::Shared(error) => error.code(),
            Self::PreconditionFailed => "precondition-failed",
            Self::NotGranted => "not-granted",
            Self::RequestNotGranted(_) => "request-not-granted",
            Self::BudgetExhausted { .. } => "budget-exhausted",
            Self::NotConnectable => "not-connectable",
            Self::NotConnected(_) => "not-connected",
            Self::ReconnectRequired(_) => "reconnect-required",
            Self::InvalidConnectState => "invalid-connect-state",
            Self::AuthorizationRefused(_) => "authorization-refused",
            Self::Bundle(BundleError::Invalid(_)) => "invalid-field",
            Self::Bundle(BundleError::Unreadable) => "bundle-unreadable",
            Self::Bundle(BundleError::WrongIdentity) => "bundle-not-opened",
            Self::Bundle(BundleError::TooCostly(_)) => "bundle-too-costly",
            Self::Bundle(BundleError::Unsupported) => "bundles-unsupported",
            Self::Bundle(_) => "internal-error",
        }
    }
}

impl From<BundleError> for VaultError {
    fn from(error: BundleError) -> Self {
        match error {
            BundleError::Invalid(field) => Self::Invalid(field.into()),
            other => Self::Bundle(other),
        }
    }
}

impl From<StoreError> for VaultError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict => Self::Conflict,
            StoreError::Unavailable(_) => Self::Unavailable(error),
            other => Self::Store(other),
        }
    }
}

impl From<CipherError> for VaultError {
    fn from(error: CipherError) -> Self {
        Self::Cipher(error)
    }
}

impl From<ValidationErrors> for VaultError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<FieldError> for VaultError {
    fn from(error: FieldError) -> Self {
        Self::Invalid(error.into())
    }
}

/// Why a vault could not be opened over a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The configured key is not the key this database was sealed with.
    #[error(
        "ENCRYPTION_KEY does not match this database: its key-check value was sealed with key id {stored}, \
         and the configured keyring (current key id {current}) cannot open it. \
         Start with the ENCRYPTION_KEY this database was created with (keep it as a previous key when rotating)"
    )]
    WrongKey {
        /// The key id recorded in the database.
        stored: KeyId,
        /// The configured current key id.
        current: KeyId,
    },
    /// The store failed.
    #[error("the store failed while checking the encryption key")]
    Store(#[from] StoreError),
    /// The cipher failed in another way.
    #[error("the cipher failed while checking the encryption key")]
    Cipher(#[from] CipherError),
}

/// Why a vault cannot serve right now (`/readyz`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotReady {
    /// The store did not answer.
    #[error("the database is not reachable")]
    Store(#[source] StoreError),
    /// The key-check value is missing or the loaded keyring cannot open it.
    #[error("the encryption key cannot open this database's key-check value")]
    Key,
}
