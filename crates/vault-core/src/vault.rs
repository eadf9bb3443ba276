//! The use cases, as one service over the ports.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::access_key::{AccessKeyName, IssuedAccessKey, Organization, Principal, Scope};
use crate::cipher::{Aad, Cipher, CipherError, KeyId, Purpose, SealedBlob};
use crate::clock::Clock;
use crate::credential::{
    Credential, CredentialKind, CredentialSecrets, CredentialType, StoredCredential,
};
use crate::duration::parse_iso8601_duration;
use crate::identity::{IdentityError, IdentityVerifier};
use crate::ids::{CredentialId, OrganizationId};
use crate::input::{CredentialFields, NewCredential};
use crate::jwt::{JwtKeyError, JwtSigner, NoJwtSigner};
use crate::logs::AuditAction;
use crate::oauth2::TokenEndpointError;
use crate::store::{CredentialWrite, ListQuery, Store, StoreError};
use crate::token_cache::TokenCache;
use crate::upstream::{NoUpstream, Upstream, UpstreamError};
use crate::validation::{FieldError, ValidationErrors};
use crate::write_lock::WriteLocks;

mod access_keys;
mod audit;
mod authentication;
mod flood;
mod history;
mod keys;
mod rebind;
mod update;
mod using;

use audit::Actor;
use authentication::CachedKey;

pub use access_keys::{AccessKeyRequest, OPERATOR_SUBJECT};
pub use audit::LogListRequest;
pub use keys::{KeyStatus, RewrapBatch, RewrapFailure};
use update::{NewVersions, check_precondition};
pub use using::ProxyResponse;

/// Default page size of list calls.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page size of list calls.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Versions of a credential's secret values kept by default.
pub const DEFAULT_VERSIONS_KEPT: usize = 10;
/// How often an update re-reads and retries after losing a race with a writer in another
/// process (writers in this one take turns). Each retry makes progress for someone, so
/// this bounds only pathological contention.
const MAX_UPDATE_ATTEMPTS: usize = 128;

const KEY_CHECK_NAME: &str = "key-check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"vault key check v1";
const HASH_KEY_NAME: &str = "access-key-hash-key";

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

/// One page of a list, with the cursor of the next page when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Pass back as `cursor` to get the next page.
    pub next_cursor: Option<String>,
}

/// Raw list parameters, as a caller gives them.
#[derive(Clone, Debug, Default)]
pub struct ListRequest {
    /// Page size (1 to 100, default 50).
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Only credentials of this type.
    pub credential_type: Option<String>,
    /// Only credentials expiring within this ISO 8601 duration (already expired included).
    pub expiring_within: Option<String>,
}

/// The credential vault: use cases over a store, a cipher and a clock, plus the outbound
/// adapters that applying credentials needs (an HTTP client for proxying and OAuth2 token
/// requests, a JWT signer). Without them ([`NoUpstream`], [`NoJwtSigner`]) the vault still
/// stores and applies static credentials, and refuses what needs the missing part.
pub struct Vault<S, C, K, U = NoUpstream, J = NoJwtSigner> {
    store: S,
    cipher: C,
    clock: K,
    upstream: U,
    signer: J,
    /// Issued OAuth2 tokens and signed JWTs, per credential.
    tokens: TokenCache,
    /// One update or restore of a credential at a time in this process.
    writers: WriteLocks<CredentialId>,
    /// How many versions of a credential's secret values are kept (0: all).
    keep_versions: usize,
    token_hash_key: Zeroizing<[u8; 32]>,
    /// How long a verified access key is trusted without asking the store again (zero:
    /// never). Revocation through this process evicts at once; through another replica
    /// it takes effect within this time.
    auth_cache_ttl: Duration,
    auth_cache: std::sync::Mutex<HashMap<[u8; 32], CachedKey>>,
    /// Verifies identity-provider tokens, when one is configured. A trait object rather
    /// than a sixth type parameter: whether an identity provider is configured is a
    /// run-time choice of the deployment, and every HTTP handler is generic over five
    /// parameters already. One virtual call per token costs nothing next to a signature
    /// check.
    identity: Option<Arc<dyn IdentityVerifier>>,
    /// Organizations recently found in the store (for identity-provider tokens), with when
    /// they were found; trusted for `auth_cache_ttl`, like verified access keys.
    known_organizations: std::sync::Mutex<HashMap<OrganizationId, OffsetDateTime>>,
    /// Bounds the audit events of failed authentications that name no organization.
    unattributed_failures: std::sync::Mutex<flood::AuditBudget>,
    /// Counts repeated failed authentications of one key or subject, per reason.
    repeated_failures: std::sync::Mutex<flood::Repeats>,
}

impl<S, C, K, U, J> fmt::Debug for Vault<S, C, K, U, J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

impl<S: Store, C: Cipher, K: Clock> Vault<S, C, K> {
    /// Opens a vault: checks that the cipher's keys are this store's keys (refusing to
    /// start otherwise), loads (or on a fresh store creates) the access-key hash key, and
    /// binds access keys stored before bindings existed.
    ///
    /// # Errors
    /// [`OpenError::WrongKey`] when the keyring cannot open the stored key-check value.
    pub async fn open(store: S, cipher: C, clock: K) -> Result<Self, OpenError> {
        let check = load_or_create(&store, &cipher, KEY_CHECK_NAME, Purpose::KeyCheck, || {
            Ok(Zeroizing::new(KEY_CHECK_PLAINTEXT.to_vec()))
        })
        .await?;
        if check.as_slice().ct_eq(KEY_CHECK_PLAINTEXT).unwrap_u8() != 1 {
            return Err(OpenError::Cipher(CipherError::Tampered));
        }
        let hash_key = load_or_create(
            &store,
            &cipher,
            HASH_KEY_NAME,
            Purpose::AccessKeyHashKey,
            || {
                let mut key = Zeroizing::new(vec![0u8; 32]);
                cipher.fill_random(&mut key)?;
                Ok(key)
            },
        )
        .await?;
        let mut token_hash_key = Zeroizing::new([0u8; 32]);
        if hash_key.len() != 32 {
            return Err(OpenError::Cipher(CipherError::Malformed));
        }
        token_hash_key.copy_from_slice(&hash_key);
        // Current secrets of earlier releases, bound to their version once (see `rebind`).
        rebind::bind_current_rows(&store, &cipher).await?;
        let vault = Self {
            store,
            cipher,
            clock,
            upstream: NoUpstream,
            signer: NoJwtSigner,
            tokens: TokenCache::default(),
            writers: WriteLocks::default(),
            keep_versions: DEFAULT_VERSIONS_KEPT,
            token_hash_key,
            auth_cache_ttl: Duration::ZERO,
            auth_cache: std::sync::Mutex::default(),
            identity: None,
            known_organizations: std::sync::Mutex::default(),
            unattributed_failures: std::sync::Mutex::default(),
            repeated_failures: std::sync::Mutex::default(),
        };
        // Keys stored before bindings existed; only the vault, holding the hash key, can
        // bind them.
        vault.bind_unbound_access_keys().await?;
        Ok(vault)
    }
}

impl<S, C, K, U, J> Vault<S, C, K, U, J> {
    /// Sends proxied requests and OAuth2 token requests through `upstream`.
    #[must_use]
    pub fn with_upstream<U2: Upstream>(self, upstream: U2) -> Vault<S, C, K, U2, J> {
        Vault {
            store: self.store,
            cipher: self.cipher,
            clock: self.clock,
            upstream,
            signer: self.signer,
            tokens: self.tokens,
            writers: self.writers,
            keep_versions: self.keep_versions,
            token_hash_key: self.token_hash_key,
            auth_cache_ttl: self.auth_cache_ttl,
            auth_cache: self.auth_cache,
            identity: self.identity,
            known_organizations: self.known_organizations,
            unattributed_failures: self.unattributed_failures,
            repeated_failures: self.repeated_failures,
        }
    }

    /// Signs JWTs (and checks JWT keys when they are stored) with `signer`.
    #[must_use]
    pub fn with_jwt_signer<J2: JwtSigner>(self, signer: J2) -> Vault<S, C, K, U, J2> {
        Vault {
            store: self.store,
            cipher: self.cipher,
            clock: self.clock,
            upstream: self.upstream,
            signer,
            tokens: self.tokens,
            writers: self.writers,
            keep_versions: self.keep_versions,
            token_hash_key: self.token_hash_key,
            auth_cache_ttl: self.auth_cache_ttl,
            auth_cache: self.auth_cache,
            identity: self.identity,
            known_organizations: self.known_organizations,
            unattributed_failures: self.unattributed_failures,
            repeated_failures: self.repeated_failures,
        }
    }

    /// Keeps the newest `count` versions of each credential's secret values (0: every
    /// version). Older ones are removed as new ones are made.
    #[must_use]
    pub const fn with_version_retention(mut self, count: usize) -> Self {
        self.keep_versions = count;
        self
    }

    /// Trusts a verified access key for `ttl` before asking the store again, saving a
    /// store round trip on almost every request. Expiry is still checked on every request
    /// and a revocation through this vault evicts at once; a revocation through another
    /// replica takes effect within `ttl`. Zero (the default) disables the cache.
    #[must_use]
    pub fn with_auth_cache(mut self, ttl: Duration) -> Self {
        self.auth_cache_ttl = ttl;
        self
    }

    /// Also authenticates bearer tokens of an identity provider with `verifier`: a token
    /// that is not an access key (no `vlt_` prefix) is handed to it. Without one, such
    /// tokens are refused as malformed access keys.
    #[must_use]
    pub fn with_identity_verifier(mut self, verifier: impl IdentityVerifier) -> Self {
        self.identity = Some(Arc::new(verifier));
        self
    }
}

impl<S: Store, C: Cipher, K: Clock, U: Upstream, J: JwtSigner> Vault<S, C, K, U, J> {
    /// The store, for adapters' own maintenance tasks.
    pub const fn store(&self) -> &S {
        &self.store
    }

    /// The cipher.
    pub const fn cipher(&self) -> &C {
        &self.cipher
    }

    /// True when no organization exists yet.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn is_fresh(&self) -> Result<bool, VaultError> {
        Ok(self.store.count_organizations().await? == 0)
    }

    /// Checks that this vault can serve: the store answers, and the keyring still opens
    /// the stored key-check value (so the key is loaded and is this database's key).
    /// Returns the current key's id.
    ///
    /// # Errors
    /// [`NotReady`] naming which of the two failed.
    pub async fn readiness(&self) -> Result<KeyId, NotReady> {
        let blob = self
            .store
            .get_meta(KEY_CHECK_NAME)
            .await
            .map_err(NotReady::Store)?
            .ok_or(NotReady::Key)?;
        let check = self
            .cipher
            .open(&blob, &Aad::installation(Purpose::KeyCheck))
            .map_err(|_| NotReady::Key)?;
        if check.as_slice().ct_eq(KEY_CHECK_PLAINTEXT).unwrap_u8() != 1 {
            return Err(NotReady::Key);
        }
        Ok(self.cipher.current_key_id())
    }

    /// Creates an organization and its first access key, holding every scope.
    ///
    /// # Errors
    /// An invalid name, or a store failure.
    #[tracing::instrument(skip(self))]
    pub async fn create_organization(
        &self,
        name: &str,
    ) -> Result<(Organization, IssuedAccessKey), VaultError> {
        let name = name.trim();
        crate::credential::check_text("name", name, 1, 200, false)?;
        let organization = Organization {
            id: OrganizationId::new(),
            name: name.to_owned(),
            created_at: self.clock.now(),
        };
        self.store.insert_organization(&organization).await?;
        let issued = self
            .issue_access_key(
                organization.id,
                AccessKeyName::parse("bootstrap admin")?,
                Scope::ALL.into_iter().collect(),
                None,
                Actor::NONE,
            )
            .await?;
        tracing::info!(organization = %organization.id, "organization created");
        Ok((organization, issued))
    }

    /// Creates a credential: validates, seals the secrets bound to (organization, id), stores.
    ///
    /// # Errors
    /// Missing scope, invalid fields, or a store or cipher failure.
    #[tracing::instrument(skip(self, who, fields), fields(organization = %who.organization_id))]
    pub async fn create_credential(
        &self,
        who: &Principal,
        credential_type: CredentialType,
        fields: &CredentialFields,
    ) -> Result<Credential, VaultError> {
        let result = self
            .insert_new_credential(who, credential_type, fields)
            .await;
        if let Err(error) = &result {
            self.audit_refusal(who, AuditAction::CredentialCreate, None, error)
                .await;
        }
        result
    }

    async fn insert_new_credential(
        &self,
        who: &Principal,
        credential_type: CredentialType,
        fields: &CredentialFields,
    ) -> Result<Credential, VaultError> {
        require(who, Scope::CredentialsWrite)?;
        let now = self.clock.now();
        let new = NewCredential::validate(credential_type, fields, now)?;
        if let CredentialKind::Jwt(config) = &new.kind {
            self.check_jwt_key(config.algorithm, &new.secrets)?;
        }
        let id = CredentialId::new();
        let sealed = self.seal_secrets(who.organization_id, id, 1, &new.secrets)?;
        let credential = Credential {
            id,
            organization_id: who.organization_id,
            name: new.name,
            description: new.description,
            kind: new.kind,
            allowed_hosts: new.allowed_hosts,
            secret_hints: new.secrets.hints(),
            expires_at: new.expires_at,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let version = self.version_of(&credential, 1, &new.secrets, who.access_key_id, None)?;
        let stored = StoredCredential {
            credential,
            sealed,
            restore_floor: 0,
            secret_version: 1,
        };
        let audit = self.success(who, AuditAction::CredentialCreate, *id.as_uuid());
        let write = CredentialWrite {
            versions: std::slice::from_ref(&version),
            // One version: nothing to prune yet.
            keep_versions: 0,
            audit: &audit,
        };
        self.store.insert_credential(&stored, &write).await?;
        tracing::info!(credential = %id, kind = %credential_type, "credential created");
        Ok(stored.credential)
    }

    /// Reads a credential's public part.
    ///
    /// # Errors
    /// Missing scope, or not found in the caller's organization.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn get_credential(
        &self,
        who: &Principal,
        id: CredentialId,
    ) -> Result<Credential, VaultError> {
        require(who, Scope::CredentialsRead)?;
        Ok(self
            .store
            .get_credential(who.organization_id, id)
            .await?
            .credential)
    }

    /// Lists credentials, a page at a time.
    ///
    /// # Errors
    /// Missing scope, invalid parameters, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn list_credentials(
        &self,
        who: &Principal,
        request: &ListRequest,
    ) -> Result<Page<Credential>, VaultError> {
        require(who, Scope::CredentialsRead)?;
        let mut errors = ValidationErrors::default();
        let limit = errors.take(page_limit(request.limit)).flatten();
        let after = request
            .cursor
            .as_deref()
            .and_then(|c| errors.take(parse_cursor(c)))
            .map(CredentialId::from_uuid);
        let credential_type = request
            .credential_type
            .as_deref()
            .and_then(|t| errors.take(t.parse::<CredentialType>()));
        let within = request
            .expiring_within
            .as_deref()
            .and_then(|d| errors.take(parse_iso8601_duration("expiringWithin", d)));
        let limit = errors.finish(|| limit)?.unwrap_or(DEFAULT_PAGE_SIZE);
        let query = ListQuery {
            after,
            limit: limit as usize + 1,
            credential_type,
            expires_before: within.map(|d| self.clock.now() + d),
        };
        let items = self
            .store
            .list_credentials(who.organization_id, &query)
            .await?;
        Ok(paginate(items, limit as usize, |c| *c.id.as_uuid()))
    }

    /// Deletes a credential.
    ///
    /// # Errors
    /// Missing scope, not found, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn delete_credential(
        &self,
        who: &Principal,
        id: CredentialId,
        precondition: Option<&[i64]>,
    ) -> Result<(), VaultError> {
        let result = async {
            require(who, Scope::CredentialsWrite)?;
            let audit = self.success(who, AuditAction::CredentialDelete, *id.as_uuid());
            // The store deletes at one version: of several accepted ones, the current one
            // (if it changes meanwhile, the store refuses, as for a single one).
            let expected = match precondition {
                None => None,
                Some([one]) => Some(*one),
                Some(accepted) => {
                    let current = self.store.get_credential(who.organization_id, id).await?;
                    check_precondition(Some(accepted), &current.credential)?;
                    Some(current.credential.version)
                }
            };
            match self
                .store
                .delete_credential(who.organization_id, id, expected, &audit)
                .await
            {
                Err(StoreError::Conflict) => return Err(VaultError::PreconditionFailed),
                other => other?,
            }
            self.tokens.invalidate(id);
            tracing::info!(credential = %id, "credential deleted");
            Ok(())
        }
        .await;
        if let Err(error) = &result {
            self.audit_refusal(
                who,
                AuditAction::CredentialDelete,
                Some(*id.as_uuid()),
                error,
            )
            .await;
        }
        result
    }

    /// Opens a credential's secrets, for applying them to a request. The secrets stay in
    /// memory-wiping types; nothing here logs or returns them to an API caller.
    ///
    /// # Errors
    /// Not found, or a cipher failure (wrong key, tampered row).
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn open_credential(
        &self,
        who: &Principal,
        id: CredentialId,
    ) -> Result<(Credential, CredentialSecrets), VaultError> {
        require(who, Scope::CredentialsUse)?;
        let stored = self.store.get_credential(who.organization_id, id).await?;
        let secrets = self.open_secrets(&stored)?;
        Ok((stored.credential, secrets))
    }

    /// Refuses a JWT key the signer cannot sign with, naming the field that holds it.
    fn check_jwt_key(
        &self,
        algorithm: crate::credential::JwtAlgorithm,
        secrets: &CredentialSecrets,
    ) -> Result<(), VaultError> {
        let (field, key) = match secrets {
            CredentialSecrets::JwtSecret(key) => ("secret", key),
            CredentialSecrets::JwtPrivateKey(key) => ("privateKey", key),
            _ => return Err(VaultError::Cipher(CipherError::Malformed)),
        };
        self.signer
            .check_key(algorithm, key)
            .map_err(|error| FieldError::new(field, error.to_string()).into())
    }

    /// Seals a credential's current secrets for `version`, the version the row is written at.
    fn seal_secrets(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        version: i64,
        secrets: &CredentialSecrets,
    ) -> Result<SealedBlob, VaultError> {
        let plaintext = secrets.to_plaintext();
        Ok(self.cipher.seal(
            &plaintext,
            &Aad::credential_secrets(organization, id, version),
        )?)
    }
}

fn require(who: &Principal, scope: Scope) -> Result<(), VaultError> {
    if who.has(scope) {
        Ok(())
    } else {
        Err(VaultError::MissingScope(scope))
    }
}

fn page_limit(limit: Option<u32>) -> Result<Option<u32>, FieldError> {
    match limit {
        Some(n) if !(1..=MAX_PAGE_SIZE).contains(&n) => Err(FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        )),
        other => Ok(other),
    }
}

fn parse_cursor(raw: &str) -> Result<uuid::Uuid, FieldError> {
    uuid::Uuid::try_parse(raw)
        .map_err(|_| FieldError::new("cursor", "is not a cursor this API returned"))
}

fn paginate<T>(mut items: Vec<T>, limit: usize, id: impl Fn(&T) -> uuid::Uuid) -> Page<T> {
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| id(last).simple().to_string())
    } else {
        None
    };
    Page { items, next_cursor }
}

/// Reads an installation-wide sealed value, creating it on a fresh store. Several replicas
/// starting at once may race to create it: the store keeps exactly one, and every replica
/// then uses that one.
async fn load_or_create<S: Store, C: Cipher>(
    store: &S,
    cipher: &C,
    name: &str,
    purpose: Purpose,
    create: impl FnOnce() -> Result<Zeroizing<Vec<u8>>, CipherError>,
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let aad = Aad::installation(purpose);
    let existing = match store.get_meta(name).await? {
        Some(blob) => blob,
        None => {
            let value = create()?;
            let blob = cipher.seal(&value, &aad)?;
            if store.insert_meta_if_absent(name, &blob).await? {
                return Ok(value);
            }
            store.get_meta(name).await?.ok_or(StoreError::NotFound)?
        }
    };
    cipher.open(&existing, &aad).map_err(|error| match error {
        CipherError::UnknownKey(_) | CipherError::Tampered => OpenError::WrongKey {
            stored: existing.key_id.clone(),
            current: cipher.current_key_id(),
        },
        other => OpenError::Cipher(other),
    })
}
