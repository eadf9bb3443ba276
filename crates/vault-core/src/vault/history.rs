//! A credential's history: the versions of its secret values, listing them, and restoring
//! one (without anyone reading it).

use super::{MAX_UPDATE_ATTEMPTS, NewVersions, Vault, VaultError, check_precondition, require};
use crate::access_key::{Principal, Scope};
use crate::cipher::{Aad, CipherError};
use crate::credential::{Credential, CredentialSecrets, StoredCredential};
use crate::ids::{AccessKeyId, CredentialId};
use crate::store::Store;
use crate::validation::FieldError;
use crate::versions::{SecretVersion, VersionInfo};

impl<S: Store> Vault<S> {
    /// The version rows a change of secret values adds: the new values as the next number,
    /// and, for a credential stored before versions existed, its current values as version 1.
    pub(super) fn next_versions(
        &self,
        who: &Principal,
        current: &StoredCredential,
        next: &Credential,
        secrets: &CredentialSecrets,
        restored_from: Option<i64>,
    ) -> Result<NewVersions, VaultError> {
        let mut rows = Vec::with_capacity(2);
        let number = if current.secret_version > 0 {
            current.secret_version + 1
        } else {
            let old = self.open_secrets(current)?;
            rows.push(self.version_of(&current.credential, 1, &old, None, None)?);
            2
        };
        rows.push(self.version_of(next, number, secrets, who.access_key_id, restored_from)?);
        // Pruning removes the oldest, so the numbers kept run without gaps up to the
        // newest: more than `keep_versions` exist only past that number.
        let prune = self.keep_versions > 0
            && usize::try_from(number).is_ok_and(|number| number > self.keep_versions);
        Ok(NewVersions { rows, prune })
    }

    /// A version row: `secrets` sealed for version `number` of `credential`.
    pub(super) fn version_of(
        &self,
        credential: &Credential,
        number: i64,
        secrets: &CredentialSecrets,
        created_by: Option<AccessKeyId>,
        restored_from: Option<i64>,
    ) -> Result<SecretVersion, VaultError> {
        let aad = Aad::credential_version(credential.organization_id, credential.id, number);
        Ok(SecretVersion {
            credential_id: credential.id,
            organization_id: credential.organization_id,
            number,
            sealed: self.cipher.seal(&secrets.to_plaintext(), &aad)?,
            secret_hints: secrets.hints(),
            created_at: credential.updated_at,
            created_by,
            restored_from,
        })
    }

    /// Lists the versions of a credential's secret values, newest (current) first. Never
    /// their values.
    ///
    /// # Errors
    /// Missing scope, not found, or a store failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn list_versions(
        &self,
        who: &Principal,
        id: CredentialId,
    ) -> Result<Vec<VersionInfo>, VaultError> {
        require(who, Scope::CredentialsRead)?;
        Ok(self.store.list_versions(who.organization_id, id).await?)
    }

    /// Makes version `number` of a credential's secret values current again, as a new
    /// version, without anyone reading it. The credential's public fields stay as they
    /// are, so a JWT key must still fit today's algorithm; a custom credential's header
    /// names follow the restored headers.
    ///
    /// # Errors
    /// Missing scope, not found (credential or version), a failed precondition, a restored
    /// key that no longer fits, or a store or cipher failure.
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn restore_version(
        &self,
        who: &Principal,
        id: CredentialId,
        number: i64,
        precondition: Option<&[i64]>,
    ) -> Result<Credential, VaultError> {
        let restored = self.restore(who, id, number, precondition).await;
        self.change_audited(who, id, restored).await
    }

    async fn restore(
        &self,
        who: &Principal,
        id: CredentialId,
        number: i64,
        precondition: Option<&[i64]>,
    ) -> Result<Credential, VaultError> {
        require(who, Scope::CredentialsWrite)?;
        let organization = who.organization_id;
        let _turn = self.writers.lock(id).await;
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let current = self.store.get_credential(organization, id).await?;
            check_precondition(precondition, &current.credential)?;
            if number < current.restore_floor && !who.has(Scope::CredentialsRoute) {
                return Err(VaultError::RouteNotAllowed(vec!["version"]));
            }
            let version = self.store.get_version(organization, id, number).await?;
            let aad = Aad::credential_version(organization, id, number);
            let plaintext = self.cipher.open(&version.sealed, &aad)?;
            let kind = current.credential.kind.credential_type();
            let mut secrets = CredentialSecrets::from_plaintext(kind, &plaintext)
                .map_err(|_| VaultError::Cipher(CipherError::Malformed))?;
            let mut next = current.clone();
            if let Err(why) = next.credential.kind.restore(&secrets) {
                return Err(FieldError::new("version", format!("version {number} {why}")).into());
            }
            if let Some(key) = next.credential.kind.jwt_key() {
                self.check_jwt_key(key, &secrets)?;
            }
            let credential = &mut next.credential;
            // Only the client certificate changes: the roots stay as they were checked.
            self.check_tls(
                &mut credential.kind,
                &mut secrets,
                None,
                &mut credential.expires_at,
            )?;
            let now = self.clock.now();
            next.credential.version = current.credential.version + 1;
            next.sealed = self.seal_secrets(organization, id, next.credential.version, &secrets)?;
            next.credential.secret_hints = secrets.hints();
            next.credential.updated_at = now.max(current.credential.updated_at);
            let versions =
                self.next_versions(who, &current, &next.credential, &secrets, Some(number))?;
            next.secret_version = versions.current(&current);
            if self
                .write_update(who, &current, &next, &versions, precondition, None)
                .await?
            {
                tracing::info!(credential = %id, restored = number, version = next.credential.version, "credential version restored");
                return Ok(next.credential);
            }
        }
        Err(VaultError::Conflict)
    }
}
