//! Authentication: access keys (cached for a while) and identity-provider tokens, and the
//! audit of every refusal.

use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use super::audit::Actor;
use super::{Vault, VaultError, flood};
use crate::access_key::{AccessKey, AccessToken, Principal, TOKEN_PREFIX, TokenHash};
use crate::identity::{IdentityError, IdentityRefusal, IdentityVerifier};
use crate::ids::{AccessKeyId, OrganizationId};
use crate::logs::{AuditAction, AuditEvent, AuditOutcome, LogRecord};
use crate::store::Store;

/// `last_used_at` is written at most this often per key, so authentication stays a read.
const LAST_USED_GRANULARITY: Duration = Duration::minutes(1);

/// Most access keys an authentication cache holds before it starts afresh.
const AUTH_CACHE_CAPACITY: usize = 10_000;

/// Why an identity-provider token was refused when its organization is not in the store.
const UNKNOWN_ORGANIZATION: &str = "unknown-organization";

/// Why a presented access key did not authenticate.
enum Refusal {
    /// The key is malformed, unknown, revoked or expired (with the key when it is known).
    Key {
        reason: &'static str,
        key: Option<AccessKey>,
    },
    /// The store failed while looking.
    Store(VaultError),
}

impl Refusal {
    const fn key(reason: &'static str) -> Self {
        Self::Key { reason, key: None }
    }
}

/// A recently verified access key. Keyed by the token's HMAC, never by the token.
#[derive(Clone)]
pub(super) struct CachedKey {
    key: AccessKey,
    verified_at: OffsetDateTime,
}

impl<S: Store> Vault<S> {
    /// Checks a presented access key, or (when an identity verifier is configured) an
    /// identity provider's token, and returns who it speaks for. Anything with the access
    /// keys' `vlt_` prefix is judged as an access key only. Every refusal is audited
    /// (`authentication.failure`, with the reason code); those naming no organization up
    /// to a budget, as anyone can send them, and repeated ones of one key or subject as
    /// one event per minute with their count (see `vault/flood.rs`).
    ///
    /// # Errors
    /// [`VaultError::Unauthenticated`] for anything but an active key of ours or a valid
    /// token of an existing organization; a store failure; a failing verifier.
    pub async fn authenticate(&self, presented: &str) -> Result<Principal, VaultError> {
        if let Some(identity) = &self.identity
            && !presented.starts_with(TOKEN_PREFIX)
        {
            return self
                .authenticate_identity(identity.as_ref(), presented)
                .await;
        }
        match self.verify(presented).await {
            Ok(principal) => Ok(principal),
            Err(Refusal::Store(error)) => Err(error),
            Err(Refusal::Key { reason, key }) => {
                let (organization, actor) =
                    key.map_or((None, None), |k| (Some(k.organization_id), Some(k.id)));
                let actor = Actor {
                    key: actor,
                    subject: None,
                };
                self.audit_failed_authentication(organization, actor, reason)
                    .await;
                Err(VaultError::Unauthenticated)
            }
        }
    }

    async fn audit_failed_authentication(
        &self,
        organization: Option<OrganizationId>,
        actor: Actor<'_>,
        reason: &str,
    ) {
        let now = self.clock.now();
        if let Some(organization) = organization {
            // The organization's own key or subject: every failure counts, but a replay
            // loop writes one row per window, not one per attempt.
            let repeat = flood::Repeat {
                organization,
                key: actor.key,
                subject: actor.subject.map(str::to_owned),
                reason: reason.to_owned(),
            };
            let due = self
                .repeated_failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .record(repeat, now);
            self.write_repeated_failures(due).await;
            return;
        }
        // Any failure is the "next event" that writes the counts of ended windows.
        self.flush_failed_authentications(false).await;
        let admission = self
            .unattributed_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .admit(now);
        if let Some(dropped) = admission.report {
            tracing::warn!(
                dropped,
                burst = flood::BURST,
                per_second = flood::PER_SECOND,
                "failed authentications naming no organization are over their audit \
                 budget: these were counted, not audited"
            );
        }
        if !admission.write {
            return;
        }
        if let Err(error) = self
            .audit_reason(
                None,
                actor,
                AuditAction::AuthenticationFailure,
                actor.key.map(|a| *a.as_uuid()),
                Some(reason),
            )
            .await
        {
            tracing::error!(%error, "could not audit a failed authentication");
        }
    }

    /// Writes the counts of repeated failed authentications (of one key or subject, for
    /// one reason) whose one-minute window has ended, or every count still open when
    /// `everything` is set. Counts are otherwise written at the next failed
    /// authentication; a server calls this now and then so that none waits for one, and
    /// with `everything` when it stops, so that none is lost.
    pub async fn flush_failed_authentications(&self, everything: bool) {
        let due = self
            .repeated_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .flush(self.clock.now(), everything);
        self.write_repeated_failures(due).await;
    }

    async fn write_repeated_failures(&self, due: Vec<flood::Due>) {
        for due in due {
            let flood::Due { repeat, count, at } = due;
            let event = AuditEvent {
                id: uuid::Uuid::now_v7(),
                organization_id: Some(repeat.organization),
                actor: repeat.key,
                actor_subject: repeat.subject,
                action: AuditAction::AuthenticationFailure,
                target: repeat.key.map(|key| *key.as_uuid()),
                outcome: AuditOutcome::Failure,
                reason: Some(repeat.reason),
                at,
                count,
                via: None,
                chain: None,
            };
            if let Err(error) = self.store.append_log(LogRecord::Audit(event)).await {
                // Said loudly, with the count: these failures are not in the audit log.
                tracing::error!(%error, count, "could not audit failed authentications");
            }
        }
    }

    /// Verifies an identity provider's token, then checks that its organization exists.
    async fn authenticate_identity(
        &self,
        verifier: &dyn IdentityVerifier,
        presented: &str,
    ) -> Result<Principal, VaultError> {
        let now = self.clock.now();
        let (reason, signed_organization, subject) = match verifier.verify(presented, now) {
            Ok(identity) => {
                if self
                    .organization_exists(identity.organization_id(), now)
                    .await?
                {
                    return Ok(identity.into_principal());
                }
                // Signed by the identity provider, but naming no organization of ours.
                (
                    UNKNOWN_ORGANIZATION,
                    None,
                    Some(identity.subject().to_owned()),
                )
            }
            Err(IdentityRefusal {
                error: error @ IdentityError::Backend(_),
                ..
            }) => {
                self.audit_failed_authentication(None, Actor::NONE, error.code())
                    .await;
                return Err(VaultError::IdentityVerifier(error));
            }
            Err(refusal) => (
                refusal.error.code(),
                refusal.organization_id,
                refusal.subject,
            ),
        };
        // A signed but refused token (an expired one, say) is audited in its
        // organization's log, if that exists: the log's organization is a foreign key.
        let organization = match signed_organization {
            Some(id) if self.organization_exists(id, now).await? => Some(id),
            _ => None,
        };
        let actor = Actor {
            key: None,
            subject: subject.as_deref(),
        };
        self.audit_failed_authentication(organization, actor, reason)
            .await;
        tracing::info!(reason, "identity-provider token refused");
        Err(VaultError::Unauthenticated)
    }

    /// Whether an organization exists, trusting a positive answer for `auth_cache_ttl`
    /// like a verified access key: one store round trip per organization and period, not
    /// one per request. (Organizations are never deleted; a negative answer is not kept,
    /// so a new organization is found at once.)
    async fn organization_exists(
        &self,
        id: OrganizationId,
        now: OffsetDateTime,
    ) -> Result<bool, VaultError> {
        if !self.auth_cache_ttl.is_zero() {
            let known = self
                .known_organizations
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if known
                .get(&id)
                .is_some_and(|at| now - *at < self.auth_cache_ttl)
            {
                return Ok(true);
            }
        }
        let exists = self.store.organization_exists(id).await?;
        if exists && !self.auth_cache_ttl.is_zero() {
            let mut known = self
                .known_organizations
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if known.len() >= AUTH_CACHE_CAPACITY && !known.contains_key(&id) {
                known.clear();
            }
            known.insert(id, now);
        }
        Ok(exists)
    }

    async fn verify(&self, presented: &str) -> Result<Principal, Refusal> {
        let token = AccessToken::parse(presented).map_err(|_| Refusal::key("malformed-key"))?;
        let hash = self.hash_token(&token);
        let now = self.clock.now();
        let key = match self.cached_key(&hash, now) {
            Some(key) => key,
            None => {
                let Some(stored) = self
                    .store
                    .find_access_key(&hash)
                    .await
                    .map_err(|e| Refusal::Store(e.into()))?
                else {
                    return Err(Refusal::key("unknown-key"));
                };
                // The store found it by hash already; compare again in constant time so
                // no store's lookup strategy can turn into a timing oracle.
                if stored.hash.0.ct_eq(&hash.0).unwrap_u8() != 1 {
                    return Err(Refusal::key("unknown-key"));
                }
                // The row must be the one the vault wrote: not moved to another
                // organization, its scopes and expiry unedited. Its organization is then
                // unknown, so the refusal names none.
                let expected = self.binding_of(&stored.key, &hash);
                let intact = stored
                    .binding
                    .is_some_and(|b| b.0.ct_eq(&expected.0).unwrap_u8() == 1);
                if !intact {
                    tracing::warn!(
                        access_key = %stored.key.id,
                        "an access key row does not match its binding: refused"
                    );
                    return Err(Refusal::key("tampered-key"));
                }
                stored.key
            }
        };
        if !key.is_active(now) {
            let reason = if key.revoked_at.is_some() {
                "revoked-key"
            } else {
                "expired-key"
            };
            return Err(Refusal::Key {
                reason,
                key: Some(key),
            });
        }
        let mut key = key;
        let stale = key
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_GRANULARITY);
        if stale {
            match self
                .store
                .touch_access_key(key.organization_id, key.id, now)
                .await
            {
                Ok(()) => key.last_used_at = Some(now),
                // Losing a last-used stamp is not worth failing the request over.
                Err(error) => tracing::warn!(%error, "could not record access-key use"),
            }
        }
        let principal = Principal {
            organization_id: key.organization_id,
            access_key_id: Some(key.id),
            subject: None,
            scopes: key.scopes.clone(),
            groups: Vec::new(),
            expires_at: key.expires_at,
        };
        self.remember_key(hash, key, now);
        Ok(principal)
    }

    fn cached_key(&self, hash: &TokenHash, now: OffsetDateTime) -> Option<AccessKey> {
        if self.auth_cache_ttl.is_zero() {
            return None;
        }
        let cache = self
            .auth_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(&hash.0)
            .filter(|cached| now - cached.verified_at < self.auth_cache_ttl)
            .map(|cached| cached.key.clone())
    }

    fn remember_key(&self, hash: TokenHash, key: AccessKey, now: OffsetDateTime) {
        if self.auth_cache_ttl.is_zero() {
            return;
        }
        let mut cache = self
            .auth_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= AUTH_CACHE_CAPACITY && !cache.contains_key(&hash.0) {
            // Simplest bound there is: start afresh. Every entry can be re-read.
            cache.clear();
        }
        // Keep the first verification time: a hit must not extend an entry's life.
        let verified_at = cache
            .get(&hash.0)
            .filter(|c| now - c.verified_at < self.auth_cache_ttl)
            .map_or(now, |c| c.verified_at);
        cache.insert(hash.0, CachedKey { key, verified_at });
    }

    pub(super) fn forget_key(&self, id: AccessKeyId) {
        let mut cache = self
            .auth_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.retain(|_, cached| cached.key.id != id);
    }
}
