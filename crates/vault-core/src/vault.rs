//! The use cases, as one service over the ports.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::access_key::{AccessKeyName, IssuedAccessKey, Organization, Principal, Scope};
use crate::bundle::{BundleCipher, NoBundleCipher};
use crate::cipher::{Aad, Cipher, CipherError, KeyId, Purpose};
use crate::clock::Clock;
use crate::identity::IdentityVerifier;
use crate::ids::{CredentialId, OrganizationId};
use crate::jwt::{JwtSigner, NoJwtSigner};
use crate::signing::{NoRequestSigner, RequestSigner};
use crate::store::{MetaStore, Store, StoreError};
use crate::token_cache::TokenCache;
use crate::upstream::{NoUpstream, SharedUpstream, Upstream};
use crate::write_lock::WriteLocks;

mod access_keys;
mod assertions;
mod audit;
mod authentication;
mod connect;
mod connection_tokens;
mod credentials;
mod encryption_keys;
mod errors;
mod export;
mod flood;
mod grants;
mod history;
mod import;
mod paging;
mod rebind;
mod update;
mod using;
mod webhooks;

use audit::Actor;
use authentication::CachedKey;

pub use access_keys::{AccessKeyRequest, OPERATOR_SUBJECT};
pub use audit::{CredentialUsage, LogListRequest};
pub use connect::{
    CONNECT_STATE_LIFETIME, CallbackParams, ConnectStart, Connected, ConnectionInfo,
};
pub use encryption_keys::{KeyStatus, RewrapBatch, RewrapFailure};
pub use errors::{NotReady, OpenError, VaultError};
pub use export::{Export, ExportRequest};
pub use import::{IdChoice, ImportOutcome, ImportRequest, Imported};
pub use paging::{ListRequest, Page};
use update::{NewVersions, check_precondition};
pub use using::ProxyResponse;
pub use webhooks::{DeliveryRun, WebhookWithSecret};

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

/// The default [`Vault::with_refresh_lease`]: the default upstream timeout and a margin.
pub const DEFAULT_REFRESH_LEASE: Duration = Duration::seconds(35);

const KEY_CHECK_NAME: &str = "key-check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"vault key check v1";
const HASH_KEY_NAME: &str = "access-key-hash-key";

/// The credential vault: use cases over a store, a cipher and a clock, plus the outbound
/// adapters that applying credentials needs (an HTTP client for proxying and OAuth2 token
/// requests, a JWT signer). Without them ([`NoUpstream`], [`NoJwtSigner`]) the vault still
/// stores and applies static credentials, and refuses what needs the missing part.
///
/// One type parameter, the store: it is the port with the most methods and every call on
/// it is async. The other ports are trait objects, chosen at run time by the deployment;
/// a virtual call costs nothing next to a seal, a signature or an HTTP round trip.
pub struct Vault<S> {
    store: S,
    cipher: Arc<dyn Cipher>,
    clock: Arc<dyn Clock>,
    upstream: Arc<dyn SharedUpstream>,
    signer: Arc<dyn JwtSigner>,
    /// Signs each request of the types that sign requests (`hmac_signature`, `aws_sigv4`).
    request_signer: Arc<dyn RequestSigner>,
    /// Seals export bundles and opens them for import.
    bundles: Arc<dyn BundleCipher>,
    /// Issued OAuth2 tokens and signed JWTs, per credential.
    tokens: TokenCache,
    /// How long a replica may hold a connection's refresh before others take it over:
    /// longer than a token request can take.
    refresh_lease: Duration,
    /// Connected credentials whose access token an upstream refused (401): refreshed at
    /// their next use, unless their token is too fresh for that to help.
    refused_tokens: std::sync::Mutex<std::collections::HashSet<CredentialId>>,
    /// Credentials whose uses the upstream keeps refusing: `credential.use_failed`.
    refusal_streaks: crate::webhooks::RefusalStreaks,
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
    /// Verifies identity-provider tokens, when one is configured.
    identity: Option<Arc<dyn IdentityVerifier>>,
    /// Organizations recently found in the store (for identity-provider tokens), with when
    /// they were found; trusted for `auth_cache_ttl`, like verified access keys.
    known_organizations: std::sync::Mutex<HashMap<OrganizationId, OffsetDateTime>>,
    /// Bounds the audit events of failed authentications that name no organization.
    unattributed_failures: std::sync::Mutex<flood::AuditBudget>,
    /// Counts repeated failed authentications of one key or subject, per reason.
    repeated_failures: std::sync::Mutex<flood::Repeats>,
}

impl<S> fmt::Debug for Vault<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

impl<S: Store> Vault<S> {
    /// Opens a vault: checks that the cipher's keys are this store's keys (refusing to
    /// start otherwise), loads (or on a fresh store creates) the access-key hash key, and
    /// binds access keys stored before bindings existed.
    ///
    /// # Errors
    /// [`OpenError::WrongKey`] when the keyring cannot open the stored key-check value.
    pub async fn open(store: S, cipher: impl Cipher, clock: impl Clock) -> Result<Self, OpenError> {
        let cipher: Arc<dyn Cipher> = Arc::new(cipher);
        let check = load_or_create(&store, &*cipher, KEY_CHECK_NAME, Purpose::KeyCheck, || {
            Ok(Zeroizing::new(KEY_CHECK_PLAINTEXT.to_vec()))
        })
        .await?;
        if check.as_slice().ct_eq(KEY_CHECK_PLAINTEXT).unwrap_u8() != 1 {
            return Err(OpenError::Cipher(CipherError::Tampered));
        }
        let hash_key = load_or_create(
            &store,
            &*cipher,
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
        rebind::bind_current_rows(&store, &*cipher).await?;
        let vault = Self {
            store,
            cipher,
            clock: Arc::new(clock),
            upstream: Arc::new(NoUpstream),
            signer: Arc::new(NoJwtSigner),
            request_signer: Arc::new(NoRequestSigner),
            bundles: Arc::new(NoBundleCipher),
            tokens: TokenCache::default(),
            refresh_lease: DEFAULT_REFRESH_LEASE,
            refused_tokens: std::sync::Mutex::default(),
            refusal_streaks: crate::webhooks::RefusalStreaks::default(),
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

impl<S> Vault<S> {
    /// Sends proxied requests and OAuth2 token requests through `upstream`.
    #[must_use]
    pub fn with_upstream(mut self, upstream: impl Upstream) -> Self {
        self.upstream = Arc::new(upstream);
        self
    }

    /// Lets a replica refreshing an OAuth2 connection hold the refresh for `lease` before
    /// others presume it dead and take over. It must exceed the upstream client's timeout:
    /// a refresh that outlives its lease loses its result (and, at a rotating provider,
    /// the token it presented), while a longer lease only delays recovery from a crash.
    #[must_use]
    pub const fn with_refresh_lease(mut self, lease: Duration) -> Self {
        self.refresh_lease = lease;
        self
    }

    /// Signs JWTs (and checks JWT keys when they are stored) with `signer`.
    #[must_use]
    pub fn with_jwt_signer(mut self, signer: impl JwtSigner) -> Self {
        self.signer = Arc::new(signer);
        self
    }

    /// Signs requests of the types that sign each request with `signer`.
    #[must_use]
    pub fn with_request_signer(mut self, signer: impl RequestSigner) -> Self {
        self.request_signer = Arc::new(signer);
        self
    }

    /// Seals export bundles and opens imported ones with `cipher`. Without one, exports
    /// and imports are refused.
    #[must_use]
    pub fn with_bundle_cipher(mut self, cipher: impl BundleCipher) -> Self {
        self.bundles = Arc::new(cipher);
        self
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

impl<S: Store> Vault<S> {
    /// The store, for adapters' own maintenance tasks.
    pub const fn store(&self) -> &S {
        &self.store
    }

    /// The cipher.
    pub fn cipher(&self) -> &dyn Cipher {
        &*self.cipher
    }

    /// The time by the vault's clock, for views that say whether something has expired.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
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

    /// Creates an organization and its first access key, holding every scope but
    /// `credentials:export` ([`Scope::DEFAULT`]).
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
        // A second organization of a name is almost always a bootstrap run twice.
        if let Some(existing) = self.store.organizations_named(name).await?.first() {
            return Err(crate::validation::FieldError::new(
                "name",
                format!(
                    "an organization named {name:?} exists already ({existing}): choose another \
                     name, or make a new key for that one with `vault-server access-keys create \
                     --org {existing}`"
                ),
            )
            .into());
        }
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
                Scope::DEFAULT.into_iter().collect(),
                None,
                Actor::NONE,
            )
            .await?;
        tracing::info!(organization = %organization.id, "organization created");
        Ok((organization, issued))
    }
}

fn require(who: &Principal, scope: Scope) -> Result<(), VaultError> {
    if who.has(scope) {
        Ok(())
    } else {
        Err(VaultError::MissingScope(scope))
    }
}

/// Reads an installation-wide sealed value, creating it on a fresh store. Several replicas
/// starting at once may race to create it: the store keeps exactly one, and every replica
/// then uses that one.
///
/// # Errors
/// A store failure, or [`OpenError::WrongKey`] when the stored value does not open with
/// `cipher`'s keys.
pub async fn load_or_create<S: MetaStore>(
    store: &S,
    cipher: &dyn Cipher,
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
