//! Credentials: create, read, list, delete, and open for use. (Changes to an existing
//! credential are in `update`, its versions in `history`.)

use secrecy::SecretString;

use crate::access_key::{Principal, Scope};
use crate::ca_bundle::CaBundle;
use crate::cipher::{Aad, CipherError, SealedBlob};
use crate::credential::{
    Credential, CredentialKind, CredentialSecrets, CredentialType, StoredCredential,
};
use crate::duration::parse_iso8601_duration;
use crate::ids::{CredentialId, OrganizationId};
use crate::input::{CredentialFields, NewCredential};
use crate::logs::AuditAction;
use crate::store::{CredentialWrite, ListQuery, Store, StoreError};
use crate::upstream::{TlsSettings, TlsSettingsError};
use crate::validation::{FieldError, ValidationErrors};

use super::paging::{page_limit, paginate, parse_cursor};
use super::update::check_precondition;
use super::{DEFAULT_PAGE_SIZE, ListRequest, Page, Vault, VaultError, require};

impl<S: Store> Vault<S> {
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
        let created = self
            .insert_new_credential(who, credential_type, fields)
            .await;
        self.audit_if_refused(who, AuditAction::CredentialCreate, None, created)
            .await
    }

    async fn insert_new_credential(
        &self,
        who: &Principal,
        credential_type: CredentialType,
        fields: &CredentialFields,
    ) -> Result<Credential, VaultError> {
        require(who, Scope::CredentialsWrite)?;
        let now = self.clock.now();
        let new = self.checked_new(credential_type, fields, now)?;
        let id = CredentialId::new();
        let sealed = self.seal_secrets(who.organization_id, id, 1, &new.secrets)?;
        let credential = Credential {
            id,
            organization_id: who.organization_id,
            name: new.name,
            description: new.description,
            kind: new.kind,
            allowed_hosts: new.allowed_hosts,
            ca_bundle: new.ca_bundle,
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
        let deleted = async {
            require(who, Scope::CredentialsWrite)?;
            let audit = self.success(who, AuditAction::CredentialDelete, *id.as_uuid());
            // A connected credential's tokens are revoked at the provider once it is gone:
            // read (and opened) now, while they are still stored.
            let revocable = self.revocable_tokens(who, id).await;
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
            if let Some((stored, tokens)) = revocable {
                self.revoke_connection(who, &stored, tokens).await;
            }
            Ok(())
        }
        .await;
        self.audit_if_refused(
            who,
            AuditAction::CredentialDelete,
            Some(*id.as_uuid()),
            deleted,
        )
        .await
    }

    /// Opens a credential's secrets, for an embedder applying them itself. The secrets stay
    /// in memory-wiping types; nothing here logs or returns them to an API caller. No grant
    /// can bound what is done with them, so it takes `credentials:use-all`.
    ///
    /// # Errors
    /// Missing scope, not found, or a cipher failure (wrong key, tampered row).
    #[tracing::instrument(skip(self, who), fields(organization = %who.organization_id))]
    pub async fn open_credential(
        &self,
        who: &Principal,
        id: CredentialId,
    ) -> Result<(Credential, CredentialSecrets), VaultError> {
        require(who, Scope::CredentialsUseAll)?;
        let stored = self.store.get_credential(who.organization_id, id).await?;
        let secrets = self.open_secrets(&stored)?;
        Ok((stored.credential, secrets))
    }

    /// A create body checked as a create checks it: its fields (an expiry after `now`),
    /// its TLS settings (an archive opened, the certificate read) and its JWT key.
    pub(super) fn checked_new(
        &self,
        credential_type: CredentialType,
        fields: &CredentialFields,
        now: time::OffsetDateTime,
    ) -> Result<NewCredential, VaultError> {
        let mut new = NewCredential::validate(credential_type, fields, now)?;
        self.check_tls(
            &mut new.kind,
            &mut new.secrets,
            new.ca_bundle.as_ref(),
            &mut new.expires_at,
        )?;
        if let Some(key) = new.kind.jwt_key() {
            self.check_jwt_key(key, &new.secrets)?;
        }
        Ok(new)
    }

    /// Refuses a JWT key the signer cannot sign with, naming the field that holds it.
    pub(super) fn check_jwt_key(
        &self,
        (algorithm, field): (crate::credential::JwtAlgorithm, &'static str),
        secrets: &CredentialSecrets,
    ) -> Result<(), VaultError> {
        let Some(key) = secrets.text(field) else {
            return Err(VaultError::Cipher(CipherError::Malformed));
        };
        self.signer
            .check_key(algorithm, key)
            .map_err(|error| FieldError::new(field, error.to_string()).into())
    }

    /// Has the upstream adapter check a credential's TLS settings: its CA bundle parses,
    /// and the client certificate it presents (opened first from a PKCS#12 archive, whose
    /// PEM then replaces it in `secrets`) has its key and is read; `expires_at` is brought
    /// forward to the certificate's `notAfter`. Nothing for a credential with neither.
    pub(super) fn check_tls(
        &self,
        kind: &mut CredentialKind,
        secrets: &mut CredentialSecrets,
        ca_bundle: Option<&CaBundle>,
        expires_at: &mut Option<time::OffsetDateTime>,
    ) -> Result<(), VaultError> {
        let refused =
            |refusal: TlsSettingsError| FieldError::new(refusal.field(), refusal.reason());
        let open =
            |archive: &[u8], password: &SecretString| self.upstream.open_pkcs12(archive, password);
        if let Some(unpacked) = kind.unpacked(secrets, &open).map_err(refused)? {
            *secrets = unpacked;
        }
        let tls = TlsSettings {
            reuse_key: (uuid::Uuid::nil(), 0),
            client_identity: kind.client_identity(secrets),
            server_roots: ca_bundle.cloned(),
        };
        if tls.client_identity.is_none() && tls.server_roots.is_none() {
            return Ok(());
        }
        if let Some(facts) = self.upstream.inspect_tls(&tls).map_err(refused)? {
            kind.certified(&facts);
            *expires_at = Some(expires_at.map_or(facts.not_after, |at| at.min(facts.not_after)));
        }
        Ok(())
    }

    /// Seals a credential's current secrets for `version`, the version the row is written at.
    pub(super) fn seal_secrets(
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
