//! Access keys: creating (never stronger, nor longer-lived, than their creator), listing
//! and revoking them (only keys no stronger than the revoker; on request with every key
//! they created), and the bindings that tie each stored key to its organization.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use super::audit::Actor;
use super::paging::{page_limit, paginate, parse_cursor};
use super::{DEFAULT_PAGE_SIZE, Page, Vault, VaultError, require};
use crate::access_key::{
    AccessKey, AccessKeyName, AccessToken, IssuedAccessKey, KeyBinding, Principal, Scope,
    StoredAccessKey, TokenHash, binding_message,
};
use crate::clock::truncate_to_micros;
use crate::ids::{AccessKeyId, OrganizationId};
use crate::logs::{AuditAction, AuditEvent, AuditOutcome};
use crate::store::{KeyListQuery, Store, StoreError};
use crate::validation::{FieldError, ValidationErrors};

/// Who audit events name as the actor of keys created by the operator's
/// `vault-server access-keys create` (no access key: it works on the database directly).
pub const OPERATOR_SUBJECT: &str = "vault-server operator";

/// Keys read per store round trip when a revocation needs an organization's keys, and per
/// batch when unbound keys are bound.
const KEY_BATCH: usize = 500;

/// A new access key, as a caller asks for it.
#[derive(Clone, Debug, Default)]
pub struct AccessKeyRequest {
    /// Display name.
    pub name: Option<String>,
    /// Scope names.
    pub scopes: Option<Vec<String>>,
    /// Optional expiry, ISO 8601.
    pub expires_at: Option<String>,
}

/// A key request that passed validation.
struct ValidKeyRequest {
    name: AccessKeyName,
    scopes: BTreeSet<Scope>,
    expires_at: Option<OffsetDateTime>,
}

/// Validates a key request, reporting every invalid field at once. `cap` is the creator's
/// own expiry: a later `expiresAt` is refused, and a request without one gets `cap`, so a
/// created key never outlives its creator.
fn validate_key_request(
    request: &AccessKeyRequest,
    now: OffsetDateTime,
    cap: Option<OffsetDateTime>,
) -> Result<ValidKeyRequest, VaultError> {
    let mut errors = ValidationErrors::default();
    let name = match &request.name {
        Some(raw) => errors.take(AccessKeyName::parse(raw)),
        None => {
            errors.add("name", "is required");
            None
        }
    };
    let scopes: Option<BTreeSet<Scope>> = match &request.scopes {
        Some(raw) if raw.is_empty() => {
            errors.add("scopes", "must name at least one scope");
            None
        }
        Some(raw) => raw
            .iter()
            .map(|s| s.parse::<Scope>())
            .collect::<Result<_, _>>()
            .map_err(|e| errors.add(e.field, e.message))
            .ok(),
        None => {
            errors.add("scopes", "is required");
            None
        }
    };
    let expires_at = request.expires_at.as_deref().and_then(|raw| {
        let parsed = OffsetDateTime::parse(raw, &Rfc3339)
            .map_err(|_| {
                FieldError::new(
                    "expiresAt",
                    "must be an ISO 8601 timestamp with a time zone",
                )
            })
            .and_then(|at| {
                let at = truncate_to_micros(at.to_offset(time::UtcOffset::UTC));
                if at <= now {
                    return Err(FieldError::new("expiresAt", "must be in the future"));
                }
                match cap {
                    Some(cap) if at > cap => Err(FieldError::new(
                        "expiresAt",
                        format!(
                            "must not be later than {}, when the creating key or token \
                             expires: a key never outlives its creator",
                            cap.format(&Rfc3339).unwrap_or_default()
                        ),
                    )),
                    _ => Ok(at),
                }
            });
        errors.take(parsed)
    });
    match errors.finish(|| (name, scopes))? {
        (Some(name), Some(scopes)) => Ok(ValidKeyRequest {
            name,
            scopes,
            expires_at: expires_at.or(cap),
        }),
        // Unreachable: each missing value recorded an error above.
        _ => Err(ValidationErrors::single("name", "is required").into()),
    }
}

impl<S: Store> Vault<S> {
    /// Creates an access key. A key can only grant scopes it holds itself, and never
    /// outlives its creator: a request without `expiresAt` gets the creator's expiry (an
    /// access key's, or an identity-provider token's `exp`), and a later one is refused.
    ///
    /// # Errors
    /// Missing scope, escalation, invalid fields, or a store failure.
    #[tracing::instrument(skip(self, who, request), fields(organization = %who.organization_id))]
    pub async fn create_access_key(
        &self,
        who: &Principal,
        request: &AccessKeyRequest,
    ) -> Result<IssuedAccessKey, VaultError> {
        let issued = self.issue_requested_key(who, request).await;
        self.audit_if_refused(who, AuditAction::AccessKeyCreate, None, issued)
            .await
    }

    async fn issue_requested_key(
        &self,
        who: &Principal,
        request: &AccessKeyRequest,
    ) -> Result<IssuedAccessKey, VaultError> {
        require(who, Scope::AccessKeysManage)?;
        let valid = validate_key_request(request, self.clock.now(), who.expires_at)?;
        let beyond: Vec<Scope> = valid.scopes.difference(&who.scopes).copied().collect();
        if !beyond.is_empty() {
            return Err(VaultError::ScopeEscalation(beyond));
        }
        let issued = self
            .issue_access_key(
                who.organization_id,
                valid.name,
                valid.scopes,
                valid.expires_at,
                Actor::of(who),
            )
            .await?;
        tracing::info!(access_key = %issued.key.id, "access key created");
        Ok(issued)
    }

    /// Creates an access key in an existing organization for the operator, who works on
    /// the database and the encryption key directly (`vault-server access-keys create`):
    /// the way back for an organization left without a working key. Any scopes; audited
    /// in the organization's log with [`OPERATOR_SUBJECT`] as the actor.
    ///
    /// # Errors
    /// Invalid fields, an organization that does not exist ([`VaultError::NotFound`]), or
    /// a store failure.
    #[tracing::instrument(skip(self, request))]
    pub async fn create_access_key_as_operator(
        &self,
        organization: OrganizationId,
        request: &AccessKeyRequest,
    ) -> Result<IssuedAccessKey, VaultError> {
        let valid = validate_key_request(request, self.clock.now(), None)?;
        if !self.store.organization_exists(organization).await? {
            return Err(VaultError::NotFound);
        }
        let actor = Actor {
            key: None,
            subject: Some(OPERATOR_SUBJECT),
        };
        let issued = self
            .issue_access_key(
                organization,
                valid.name,
                valid.scopes,
                valid.expires_at,
                actor,
            )
            .await?;
        tracing::warn!(
            %organization,
            access_key = %issued.key.id,
            "access key created by the operator"
        );
        Ok(issued)
    }

    /// Lists an organization's access keys (never their tokens or hashes).
    ///
    /// # Errors
    /// Missing scope, invalid parameters, or a store failure.
    pub async fn list_access_keys(
        &self,
        who: &Principal,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<AccessKey>, VaultError> {
        require(who, Scope::AccessKeysManage)?;
        let mut errors = ValidationErrors::default();
        let limit = errors.take(page_limit(limit)).flatten();
        let after = cursor.and_then(|c| errors.take(parse_cursor(c)));
        let limit = errors.finish(|| limit)?.unwrap_or(DEFAULT_PAGE_SIZE);
        let query = KeyListQuery {
            after: after.map(AccessKeyId::from_uuid),
            limit: limit as usize + 1,
        };
        let items = self
            .store
            .list_access_keys(who.organization_id, &query)
            .await?;
        Ok(paginate(items, limit as usize, |k| *k.id.as_uuid()))
    }

    /// Revokes an access key; it stops authenticating at once. A principal may revoke
    /// only keys whose scopes are all its own (so a key holding `access-keys:manage` alone
    /// cannot revoke the admin key). The keys this one created stay (see
    /// [`Self::revoke_access_key_cascade`]).
    ///
    /// # Errors
    /// Missing scope, a stronger key ([`VaultError::ScopeEscalation`]), not found, or a
    /// store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn revoke_access_key(
        &self,
        who: &Principal,
        id: AccessKeyId,
    ) -> Result<AccessKey, VaultError> {
        let mut revoked = self.revoke_audited(who, id, false).await?;
        Ok(revoked.swap_remove(0))
    }

    /// Revokes an access key and every key it created, transitively (keys created by those,
    /// and so on). Each revocation is audited; those of the created keys carry the reason
    /// `cascade:<id of the key revoked first>`. All or nothing up front: if any of them
    /// holds a scope the principal lacks, none is revoked. Returns the key, then the keys
    /// revoked with it (keys already revoked are passed through, not revoked again).
    ///
    /// # Errors
    /// As [`Self::revoke_access_key`]; a store failure part-way leaves the keys revoked so
    /// far revoked, and running it again finishes the job.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn revoke_access_key_cascade(
        &self,
        who: &Principal,
        id: AccessKeyId,
    ) -> Result<Vec<AccessKey>, VaultError> {
        self.revoke_audited(who, id, true).await
    }

    async fn revoke_audited(
        &self,
        who: &Principal,
        id: AccessKeyId,
        cascade: bool,
    ) -> Result<Vec<AccessKey>, VaultError> {
        let revoked = self.revoke_keys(who, id, cascade).await;
        self.audit_if_refused(
            who,
            AuditAction::AccessKeyRevoke,
            Some(*id.as_uuid()),
            revoked,
        )
        .await
    }

    async fn revoke_keys(
        &self,
        who: &Principal,
        id: AccessKeyId,
        cascade: bool,
    ) -> Result<Vec<AccessKey>, VaultError> {
        require(who, Scope::AccessKeysManage)?;
        let keys = self.all_access_keys(who.organization_id).await?;
        let root = keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(VaultError::NotFound)?;
        let mut doomed = vec![root];
        if cascade {
            let mut created: BTreeMap<AccessKeyId, Vec<&AccessKey>> = BTreeMap::new();
            for key in &keys {
                if let Some(creator) = key.created_by {
                    created.entry(creator).or_default().push(key);
                }
            }
            // Breadth first, each key once: `created_by` is the database's word, and a
            // row edited into a cycle must not make this loop forever.
            let mut seen = BTreeSet::from([id]);
            let mut next = 0;
            while let Some(key) = doomed.get(next) {
                next += 1;
                if let Some(children) = created.get(&key.id) {
                    for child in children {
                        if seen.insert(child.id) {
                            doomed.push(child);
                        }
                    }
                }
            }
        }
        // Checked for every key before any is revoked: nothing changes on a refusal.
        let beyond: BTreeSet<Scope> = doomed
            .iter()
            .flat_map(|k| k.scopes.difference(&who.scopes).copied())
            .collect();
        if !beyond.is_empty() {
            return Err(VaultError::ScopeEscalation(beyond.into_iter().collect()));
        }
        let mut revoked = Vec::with_capacity(doomed.len());
        let audit = self.success(who, AuditAction::AccessKeyRevoke, *id.as_uuid());
        revoked.push(self.revoke_one(who, id, &audit).await?);
        let reason = format!("cascade:{id}");
        for key in doomed.iter().skip(1) {
            if key.revoked_at.is_some() {
                revoked.push((*key).clone());
                continue;
            }
            let mut audit = self.success(who, AuditAction::AccessKeyRevoke, *key.id.as_uuid());
            audit.reason = Some(reason.clone());
            revoked.push(self.revoke_one(who, key.id, &audit).await?);
        }
        if cascade {
            tracing::info!(access_key = %id, with = revoked.len() - 1, "access keys revoked by cascade");
        }
        Ok(revoked)
    }

    async fn revoke_one(
        &self,
        who: &Principal,
        id: AccessKeyId,
        audit: &AuditEvent,
    ) -> Result<AccessKey, VaultError> {
        let key = self
            .store
            .revoke_access_key(who.organization_id, id, self.clock.now(), audit)
            .await?;
        self.forget_key(id);
        tracing::info!(access_key = %id, "access key revoked");
        Ok(key)
    }

    /// Every access key of an organization, revoked ones included.
    async fn all_access_keys(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<AccessKey>, VaultError> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let query = KeyListQuery {
                after,
                limit: KEY_BATCH,
            };
            let page = self.store.list_access_keys(organization, &query).await?;
            let done = page.len() < KEY_BATCH;
            after = page.last().map(|k| k.id);
            all.extend(page);
            if done || after.is_none() {
                return Ok(all);
            }
        }
    }

    pub(super) async fn issue_access_key(
        &self,
        organization_id: OrganizationId,
        name: AccessKeyName,
        scopes: BTreeSet<Scope>,
        expires_at: Option<OffsetDateTime>,
        creator: Actor<'_>,
    ) -> Result<IssuedAccessKey, VaultError> {
        let token = loop {
            // 96 bytes leave ample room for rejection sampling of 40 characters.
            let mut random = Zeroizing::new([0u8; 96]);
            self.cipher.fill_random(random.as_mut_slice())?;
            if let Some(token) = AccessToken::from_random(random.as_slice()) {
                break token;
            }
        };
        let key = AccessKey {
            id: AccessKeyId::new(),
            organization_id,
            name,
            scopes,
            created_by: creator.key,
            created_at: self.clock.now(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        let hash = self.hash_token(&token);
        let stored = StoredAccessKey {
            binding: Some(self.binding_of(&key, &hash)),
            key,
            hash,
        };
        let audit = AuditEvent {
            id: uuid::Uuid::now_v7(),
            organization_id: Some(organization_id),
            actor: creator.key,
            actor_subject: creator.subject.map(str::to_owned),
            action: AuditAction::AccessKeyCreate,
            target: Some(*stored.key.id.as_uuid()),
            outcome: AuditOutcome::Success,
            reason: None,
            at: stored.key.created_at,
            count: 1,
            via: None,
            chain: None,
        };
        self.store.insert_access_key(&stored, &audit).await?;
        Ok(IssuedAccessKey {
            key: stored.key,
            token,
        })
    }

    /// What ties a stored key to its organization, creator, expiry, scopes and token.
    pub(super) fn binding_of(&self, key: &AccessKey, hash: &TokenHash) -> KeyBinding {
        KeyBinding(
            self.cipher
                .keyed_hash(&self.token_hash_key, &binding_message(key, hash)),
        )
    }

    /// Binds the keys stored before bindings existed, and those a migration changed the
    /// scopes of (only the vault holds the hash key, so no migration can). Runs whenever a vault opens the store; after the first run
    /// there is nothing to do. Each key bound is logged, so a binding cleared behind the
    /// vault's back (to have a tampered row bound afresh) shows in the log.
    pub(super) async fn bind_unbound_access_keys(&self) -> Result<u64, StoreError> {
        let mut bound = 0;
        let mut after = None;
        loop {
            let batch = self.store.unbound_access_keys(after, KEY_BATCH).await?;
            let done = batch.len() < KEY_BATCH;
            after = batch.last().map(|k| k.key.id);
            for stored in batch {
                let binding = self.binding_of(&stored.key, &stored.hash);
                if self.store.bind_access_key(stored.key.id, &binding).await? {
                    bound += 1;
                    tracing::warn!(
                        access_key = %stored.key.id,
                        organization = %stored.key.organization_id,
                        "bound an access key stored without a binding (expected once, for \
                         keys created before bindings existed or given scopes by a migration)"
                    );
                }
            }
            if done || after.is_none() {
                return Ok(bound);
            }
        }
    }

    pub(super) fn hash_token(&self, token: &AccessToken) -> TokenHash {
        TokenHash(
            self.cipher
                .keyed_hash(&self.token_hash_key, token.expose().as_bytes()),
        )
    }
}
