//! Grants: making, listing and revoking them, and the check every use of a credential
//! passes (see [`crate::grants`] for the model and its two pure decisions).

use time::OffsetDateTime;

use super::{Vault, VaultError, require};
use crate::access_key::{Principal, Scope};
use crate::grants::authority::{Authority, UseRefusal, check_grant, grant_for, grantees_of};
use crate::grants::{Grant, GrantBinding, GrantInput, Grantee, Permission, Via, binding_message};
use crate::ids::{AccessKeyId, CredentialId, GrantId};
use crate::logs::AuditAction;
use crate::store::{BudgetSpend, KeyListQuery, Store};
use crate::validation::FieldError;

/// The grantees `who` is.
fn grantees(who: &Principal) -> Vec<Grantee> {
    grantees_of(who.access_key_id, who.subject.as_deref(), &who.groups)
}

/// True when `who` may grant and revoke anything on every credential: it may change
/// credentials and use every one of them.
fn is_organization_wide(who: &Principal) -> bool {
    who.has(Scope::CredentialsWrite) && who.has(Scope::CredentialsUseAll)
}

/// The live `manage` grant of one of `mine`, among a credential's `grants`.
fn manage_grant<'g>(
    grants: &'g [Grant],
    mine: &[Grantee],
    now: OffsetDateTime,
) -> Option<&'g Grant> {
    grants.iter().find(|g| {
        g.permission == Permission::Manage && mine.contains(&g.grantee) && g.is_live(grants, now)
    })
}

impl<S: Store> Vault<S> {
    /// The binding of `grant` (see [`GrantBinding`]).
    fn grant_binding(&self, grant: &Grant) -> GrantBinding {
        GrantBinding(
            self.cipher
                .keyed_hash(&self.token_hash_key, &binding_message(grant)),
        )
    }

    /// The grants of `grants` that the vault wrote as they stand, checked in constant
    /// time; each other one is logged and left out: it grants nothing.
    fn bound(&self, grants: Vec<Grant>) -> Vec<Grant> {
        grants
            .into_iter()
            .filter(|grant| {
                let expected = self.grant_binding(grant);
                let intact = grant
                    .binding
                    .is_some_and(|b| subtle::ConstantTimeEq::ct_eq(&b.0[..], &expected.0[..]).into());
                if !intact {
                    tracing::warn!(grant = %grant.id, credential = %grant.credential_id, "a grant row does not match its binding: it grants nothing");
                }
                intact
            })
            .collect()
    }

    /// A credential's grants that the vault wrote as they stand.
    async fn bound_grants(
        &self,
        who: &Principal,
        id: CredentialId,
    ) -> Result<Vec<Grant>, VaultError> {
        Ok(self.bound(self.store.list_grants(who.organization_id, id).await?))
    }

    /// Grants a principal the use (or the management) of credential `id`. A principal
    /// holding `credentials:write` and `credentials:use-all` may grant anything; one
    /// holding a live `manage` grant of the credential may grant `use` within that grant's
    /// own rules, budget and expiry. Nobody grants to themselves, and a grant never
    /// outlives its granter's key or token: without an `expiresAt` it gets the granter's.
    ///
    /// # Errors
    /// Invalid fields (an unknown or revoked key among them) or a grant beyond the
    /// granter's rights (422, naming the field), no right to grant
    /// ([`VaultError::NotGranted`]), not found, or a store failure.
    #[tracing::instrument(skip(self, who, input), fields(organization = %who.organization_id))]
    pub async fn create_grant(
        &self,
        who: &Principal,
        id: CredentialId,
        input: &GrantInput,
    ) -> Result<Grant, VaultError> {
        let created = self.insert_new_grant(who, id, input).await;
        // A refused grant has no id: its event names no target.
        self.audit_if_refused(who, AuditAction::GrantCreate, None, created)
            .await
    }

    async fn insert_new_grant(
        &self,
        who: &Principal,
        id: CredentialId,
        input: &GrantInput,
    ) -> Result<Grant, VaultError> {
        let now = self.clock.now();
        let existing = self.bound_grants(who, id).await?;
        let mine = grantees(who);
        let authority = if is_organization_wide(who) {
            // The credential must exist, even for a principal who may grant anything.
            self.store.get_credential(who.organization_id, id).await?;
            Authority::Organization
        } else {
            manage_grant(&existing, &mine, now)
                .map(Authority::Manage)
                .ok_or(VaultError::NotGranted)?
        };
        let valid = input.validate(now)?;
        if let Grantee::AccessKey(key) = valid.grantee {
            self.check_active_key(who, key, now).await?;
        }
        let parent = match authority {
            Authority::Manage(manage) => Some(manage.id),
            Authority::Organization => None,
        };
        let valid = check_grant(authority, &mine, who.expires_at, valid)?;
        let mut grant = Grant {
            id: GrantId::new(),
            organization_id: who.organization_id,
            credential_id: id,
            grantee: valid.grantee,
            permission: valid.permission,
            rules: valid.rules,
            budget: valid.budget,
            expires_at: valid.expires_at,
            granted_by: who.access_key_id,
            created_at: now,
            parent,
            binding: None,
        };
        grant.binding = Some(self.grant_binding(&grant));
        let audit = self.success(who, AuditAction::GrantCreate, *grant.id.as_uuid());
        self.store.insert_grant(&grant, &audit).await?;
        tracing::info!(grant = %grant.id, credential = %id, "grant created");
        Ok(grant)
    }

    /// Refuses a grant to a key that is not an active key of the caller's organization.
    async fn check_active_key(
        &self,
        who: &Principal,
        key: AccessKeyId,
        now: OffsetDateTime,
    ) -> Result<(), VaultError> {
        // Keys list in id order after a cursor: the one right after the id before it.
        let before = uuid::Uuid::from_u128(key.as_uuid().as_u128().wrapping_sub(1));
        let query = KeyListQuery {
            after: Some(AccessKeyId::from_uuid(before)),
            limit: 1,
        };
        let found = self
            .store
            .list_access_keys(who.organization_id, &query)
            .await?;
        match found.first() {
            Some(found) if found.id == key && found.is_active(now) => Ok(()),
            _ => Err(FieldError::new(
                "principal",
                "names no active access key of this organization",
            )
            .into()),
        }
    }

    /// A credential's grants, in id order: for a principal with `credentials:read`, or
    /// one holding a live `manage` grant of it.
    ///
    /// # Errors
    /// Neither, not found, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn list_grants(
        &self,
        who: &Principal,
        id: CredentialId,
    ) -> Result<Vec<Grant>, VaultError> {
        let grants = self.store.list_grants(who.organization_id, id).await?;
        if !who.has(Scope::CredentialsRead) {
            manage_grant(
                &self.bound(grants.clone()),
                &grantees(who),
                self.clock.now(),
            )
            .ok_or(VaultError::MissingScope(Scope::CredentialsRead))?;
        }
        if grants.is_empty() {
            // An empty list says the credential exists: only when it does.
            self.store.get_credential(who.organization_id, id).await?;
        }
        Ok(grants)
    }

    /// The grants of `principal` (`key:<id>`, `subject:<sub>`, `group:<name>`), of every
    /// credential; without one, the caller's own (its key, subject and groups). Anyone may
    /// list their own; others' need `credentials:read`.
    ///
    /// # Errors
    /// An invalid principal, a missing scope, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn grants_of(
        &self,
        who: &Principal,
        principal: Option<&str>,
    ) -> Result<Vec<Grant>, VaultError> {
        let mine = grantees(who);
        let asked = match principal {
            Some(raw) => vec![raw.parse::<Grantee>()?],
            None => mine.clone(),
        };
        if !asked.iter().all(|g| mine.contains(g)) {
            require(who, Scope::CredentialsRead)?;
        }
        Ok(self.store.grants_of(who.organization_id, &asked).await?)
    }

    /// Revokes grant `grant` of credential `id`. Effective at once: every use reads the
    /// credential's grants from the store. A principal holding `credentials:write` and
    /// `credentials:use-all` may revoke any grant; one holding a live `manage` grant of the
    /// credential may revoke its `use` grants.
    ///
    /// # Errors
    /// No right to revoke it, not found, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn revoke_grant(
        &self,
        who: &Principal,
        id: CredentialId,
        grant: GrantId,
    ) -> Result<Grant, VaultError> {
        let revoked = self.delete_grant(who, id, grant).await;
        self.audit_if_refused(
            who,
            AuditAction::GrantRevoke,
            Some(*grant.as_uuid()),
            revoked,
        )
        .await
    }

    async fn delete_grant(
        &self,
        who: &Principal,
        id: CredentialId,
        grant: GrantId,
    ) -> Result<Grant, VaultError> {
        let grants = self.bound_grants(who, id).await?;
        if !is_organization_wide(who) {
            manage_grant(&grants, &grantees(who), self.clock.now())
                .ok_or(VaultError::NotGranted)?;
            let target = grants
                .iter()
                .find(|g| g.id == grant)
                .ok_or(VaultError::NotFound)?;
            if target.permission != Permission::Use {
                return Err(VaultError::NotGranted);
            }
        }
        let audit = self.success(who, AuditAction::GrantRevoke, *grant.as_uuid());
        let revoked = self
            .store
            .delete_grant(who.organization_id, id, grant, &audit)
            .await?;
        tracing::info!(grant = %grant, credential = %id, "grant revoked");
        // The grants made under it let nothing through any more (`Grant::is_live`); they
        // go too, each audited. One left by a failure here is inert, and listed.
        for child in grants.iter().filter(|g| g.parent == Some(grant)) {
            let audit = self.success(who, AuditAction::GrantRevoke, *child.id.as_uuid());
            match self
                .store
                .delete_grant(who.organization_id, id, child.id, &audit)
                .await
            {
                Ok(_) | Err(crate::store::StoreError::NotFound) => {}
                Err(error) => {
                    tracing::warn!(%error, grant = %child.id, "could not revoke a grant made under a revoked one");
                }
            }
        }
        Ok(revoked)
    }

    /// What lets `who` use credential `id` for `request` (method and normalized path;
    /// `None` for a use naming no request): `credentials:use-all`, or a live grant whose
    /// rules allow the request. Checked before anything is opened or fetched; the grant's
    /// budget is spent separately ([`Self::spend_grant`]), once every other check passed.
    ///
    /// # Errors
    /// No use scope, [`VaultError::NotGranted`], [`VaultError::RequestNotGranted`], or a
    /// store failure.
    pub(super) async fn authorize_use(
        &self,
        who: &Principal,
        id: CredentialId,
        request: Option<(&str, &str)>,
    ) -> Result<Option<Grant>, VaultError> {
        if who.has(Scope::CredentialsUseAll) {
            return Ok(None);
        }
        require(who, Scope::CredentialsUse)?;
        let organization = who.organization_id;
        let cached = self.store.list_grants(organization, id).await?;
        match self.decide(who, cached, request) {
            // A refusal is read again as committed: a grant made a moment ago through
            // another replica may not have reached this one's cache yet.
            Err(_) => {
                let fresh = self.store.list_grants_fresh(organization, id).await?;
                self.decide(who, fresh, request)
            }
            allowed => allowed,
        }
    }

    /// Which of `grants` lets `who` make `request`, if one does.
    fn decide(
        &self,
        who: &Principal,
        grants: Vec<Grant>,
        request: Option<(&str, &str)>,
    ) -> Result<Option<Grant>, VaultError> {
        let mine = grantees(who);
        // Only the grants that could decide (the principal's, and manage grants, which
        // others may be made under) are checked against their bindings.
        let deciding = grants
            .into_iter()
            .filter(|g| mine.contains(&g.grantee) || g.permission == Permission::Manage)
            .collect();
        let grants = self.bound(deciding);
        match grant_for(&grants, &mine, request, self.clock.now()) {
            Ok(grant) => Ok(Some(grant.clone())),
            Err(UseRefusal::NotGranted) => Err(VaultError::NotGranted),
            Err(UseRefusal::RequestNotGranted(rule)) => Err(VaultError::RequestNotGranted(rule)),
        }
    }

    /// Counts one use against `grant`'s budget, if it has one, and says what allowed it.
    ///
    /// # Errors
    /// [`VaultError::BudgetExhausted`] (nothing counted), or a store failure; a grant
    /// revoked since it was read is [`VaultError::NotGranted`].
    pub(super) async fn spend_grant(&self, grant: Option<&Grant>) -> Result<Via, VaultError> {
        let Some(grant) = grant else {
            return Ok(Via::Organization);
        };
        if let Some(budget) = &grant.budget {
            // Longest window first: when several are spent, the store names the first it
            // finds full, and the longest is the one a retry must wait out.
            let caps: Vec<_> = budget.caps().rev().collect();
            let now = self.clock.now();
            let spent = self
                .store
                .spend_budget(grant.organization_id, grant.id, &caps, now)
                .await
                .map_err(|error| match VaultError::from(error) {
                    VaultError::NotFound => VaultError::NotGranted,
                    other => other,
                })?;
            if let BudgetSpend::Exhausted(window) = spent {
                return Err(VaultError::BudgetExhausted {
                    window,
                    retry_after: window.retry_after(now),
                });
            }
        }
        Ok(Via::Grant(grant.id))
    }
}
