//! Updating a credential: a partial change of its fields, one writer of a credential at a
//! time, its new secret values sealed as a new version.

use super::{MAX_UPDATE_ATTEMPTS, Vault, VaultError, require};
use crate::access_key::{Principal, Scope};
use crate::credential::{Credential, CredentialKind, StoredCredential};
use crate::destinations::{RouteAuthority, widened_fields};
use crate::ids::CredentialId;
use crate::input::{CredentialFields, ValidPatch};
use crate::logs::AuditAction;
use crate::store::{CredentialWrite, Store, StoreError};
use crate::versions::SecretVersion;

impl<S: Store> Vault<S> {
    /// Applies a partial update. Public fields change in place; new secret values are
    /// sealed afresh. Concurrent updates never lose a write: each one is applied to the
    /// latest version, retrying when another writer got there first.
    ///
    /// # Errors
    /// Missing scope, invalid fields, not found, or a store or cipher failure.
    #[tracing::instrument(skip(self, who, fields), fields(organization = %who.organization_id))]
    pub async fn update_credential(
        &self,
        who: &Principal,
        id: CredentialId,
        fields: &CredentialFields,
        precondition: Option<&[i64]>,
    ) -> Result<Credential, VaultError> {
        let updated = self.apply_patch(who, id, fields, precondition).await;
        self.change_audited(who, id, updated).await
    }

    /// Audits the refusal of a change of a credential (an update or a restore), and drops
    /// its cached token after a change: it was issued for the old configuration or secret.
    pub(super) async fn change_audited(
        &self,
        who: &Principal,
        id: CredentialId,
        result: Result<Credential, VaultError>,
    ) -> Result<Credential, VaultError> {
        let action = AuditAction::CredentialUpdate;
        let changed = self
            .audit_if_refused(who, action, Some(*id.as_uuid()), result)
            .await?;
        self.tokens.invalidate(id);
        Ok(changed)
    }

    async fn apply_patch(
        &self,
        who: &Principal,
        id: CredentialId,
        fields: &CredentialFields,
        precondition: Option<&[i64]>,
    ) -> Result<Credential, VaultError> {
        require(who, Scope::CredentialsWrite)?;
        let organization = who.organization_id;
        let _turn = self.writers.lock(id).await;
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let current = self.store.get_credential(organization, id).await?;
            check_precondition(precondition, &current.credential)?;
            let now = self.clock.now();
            let mut patch = ValidPatch::validate(&current.credential.kind, fields, now)?;
            let had_secrets = patch.secrets.is_some();
            if patch.is_empty() {
                return Ok(current.credential);
            }
            let mut next = current.clone();
            let c = &mut next.credential;
            if let Some(name) = patch.name {
                c.name = name;
            }
            if let Some(description) = patch.description {
                c.description = description;
            }
            if let Some(expires_at) = patch.expires_at {
                c.expires_at = expires_at;
            }
            if let Some(kind) = patch.kind {
                c.kind = kind;
            }
            if let Some(hosts) = patch.allowed_hosts {
                c.allowed_hosts = hosts;
            }
            if let Some(ca_bundle) = patch.ca_bundle {
                c.ca_bundle = ca_bundle;
            }
            c.kind.check_destinations(&c.allowed_hosts)?;
            let widened = widened_fields(&current.credential, c);
            let route = if widened.is_empty() {
                None
            } else if patch.secrets.is_some() {
                Some(RouteAuthority::SecretReentered)
            } else if who.has(Scope::CredentialsRoute) {
                Some(RouteAuthority::RouteScope)
            } else {
                return Err(VaultError::RouteNotAllowed(widened));
            };
            // Changed TLS settings are checked (a client certificate read) again; an expiry
            // set past the certificate's notAfter is brought back to it.
            let presents = matches!(c.kind, CredentialKind::Mtls(_));
            let new_identity =
                presents && (c.kind != current.credential.kind || patch.secrets.is_some());
            let new_roots = c.ca_bundle != current.credential.ca_bundle;
            if new_identity || new_roots {
                let mut secrets = match patch.secrets.take() {
                    Some(secrets) => secrets,
                    None => self.open_secrets(&current)?,
                };
                let roots = c.ca_bundle.as_ref().filter(|_| new_roots);
                self.check_tls(&mut c.kind, &mut secrets, roots, &mut c.expires_at)?;
                // Opened only to be checked: kept sealed as they were.
                patch.secrets = had_secrets.then_some(secrets);
            }
            // A new algorithm or a new key must still make a key that signs.
            if let Some(key) = c.kind.jwt_key() {
                let algorithm_changed = current.credential.kind.jwt_key() != Some(key);
                match &patch.secrets {
                    Some(secrets) => self.check_jwt_key(key, secrets)?,
                    None if algorithm_changed => {
                        let secrets = self.open_secrets(&current)?;
                        self.check_jwt_key(key, &secrets)?;
                    }
                    None => {}
                }
            }
            next.credential.version = current.credential.version + 1;
            next.credential.updated_at = now.max(current.credential.updated_at);
            let versions = match &patch.secrets {
                Some(secrets) => {
                    next.sealed =
                        self.seal_secrets(organization, id, next.credential.version, secrets)?;
                    next.credential.secret_hints = secrets.hints();
                    self.next_versions(who, &current, &next.credential, secrets, None)?
                }
                None => NewVersions::default(),
            };
            next.secret_version = versions.current(&current);
            if route.is_some() {
                // Older values were entered for fewer destinations: restoring one needs
                // the route scope from now on. (Values predating versions become version 1.)
                next.restore_floor = next.secret_version.max(1);
            }
            let reason = route.map(RouteAuthority::audit_reason);
            if self
                .write_update(who, &current, &next, &versions, precondition, reason)
                .await?
            {
                tracing::info!(credential = %id, version = next.credential.version, "credential updated");
                self.end_connection_of_another_client(who, &current.credential, &next.credential)
                    .await;
                return Ok(next.credential);
            }
        }
        Err(VaultError::Conflict)
    }

    /// Writes an update (with its versions and audit event, whose `reason` says what
    /// authorised added destinations) if the credential is still at the version it was
    /// read at. `Ok(false)`: it moved on; read again and retry.
    pub(super) async fn write_update(
        &self,
        who: &Principal,
        current: &StoredCredential,
        next: &StoredCredential,
        versions: &NewVersions,
        precondition: Option<&[i64]>,
        reason: Option<&'static str>,
    ) -> Result<bool, VaultError> {
        // The current row is bound to the version, and every update moves the version: a
        // row whose secrets did not change is sealed again, as they are, for the new one.
        let resealed;
        let next = if next.sealed == current.sealed {
            let secrets = self.open_secrets(current)?;
            resealed = StoredCredential {
                sealed: self.seal_secrets(
                    who.organization_id,
                    next.credential.id,
                    next.credential.version,
                    &secrets,
                )?,
                ..next.clone()
            };
            &resealed
        } else {
            next
        };
        let mut audit = self.success(
            who,
            AuditAction::CredentialUpdate,
            *next.credential.id.as_uuid(),
        );
        audit.reason = reason.map(str::to_owned);
        let write = CredentialWrite {
            versions: &versions.rows,
            // Pruning costs a statement: ask for it only when there is something to prune.
            keep_versions: if versions.prune {
                self.keep_versions
            } else {
                0
            },
            audit: &audit,
        };
        match self
            .store
            .update_credential(
                who.organization_id,
                next,
                current.credential.version,
                &write,
            )
            .await
        {
            Ok(()) => Ok(true),
            // With a precondition, someone else's change in between is a mismatch.
            Err(StoreError::Conflict) if precondition.is_some() => {
                Err(VaultError::PreconditionFailed)
            }
            Err(StoreError::Conflict) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }
}

/// The version rows a change adds, and whether the oldest must then be pruned.
#[derive(Default)]
pub(super) struct NewVersions {
    pub(super) rows: Vec<SecretVersion>,
    pub(super) prune: bool,
}

impl NewVersions {
    /// The number of the version holding the current values once these are written.
    pub(super) fn current(&self, before: &StoredCredential) -> i64 {
        self.rows
            .last()
            .map_or(before.secret_version, |new| new.number)
    }
}

/// Refuses a change whose precondition (the versions the caller would accept, from
/// `If-Match`: any one of them may be current) is stale.
pub(super) fn check_precondition(
    precondition: Option<&[i64]>,
    current: &Credential,
) -> Result<(), VaultError> {
    match precondition {
        Some(accepted) if !accepted.contains(&current.version) => {
            Err(VaultError::PreconditionFailed)
        }
        _ => Ok(()),
    }
}
