//! Exporting an organization's credentials, secret values included, in a sealed bundle.

use futures::future::try_join_all;

use super::{Vault, VaultError, require};
use crate::access_key::{Principal, Scope};
use crate::bundle::document::{DocumentWriter, ExportedCredential, ExportedVersion};
use crate::bundle::{BundleRecipient, MAX_BUNDLE_BYTES};
use crate::cipher::{Aad, CipherError};
use crate::credential::{CredentialSecrets, StoredCredential};
use crate::ids::{CredentialId, OrganizationId};
use crate::logs::{AuditAction, LogRecord};
use crate::store::{ListQuery, Store, StoreError};
use crate::validation::FieldError;

/// Credentials read per store round trip.
const PAGE: usize = 100;

/// What to export, and to whom.
#[derive(Debug)]
pub struct ExportRequest {
    /// Whom the bundle is sealed to.
    pub to: BundleRecipient,
    /// Also export the kept versions of each credential's secret values.
    pub versions: bool,
    /// The organization the caller means to export: refused unless it is the access
    /// key's own (a guard for someone switching between keys).
    pub organization: Option<String>,
}

/// A sealed bundle.
pub struct Export {
    /// The bundle's bytes (an age file).
    pub bundle: Vec<u8>,
    /// How many credentials it holds.
    pub credentials: usize,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export")
            .field("bytes", &self.bundle.len())
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl<S: Store> Vault<S> {
    /// Exports every credential of the caller's organization, with its current secret
    /// values (and, on request, its kept versions), in a bundle sealed to a passphrase or
    /// to public keys. Needs `credentials:export`, which no key has unless issued by name.
    /// Each credential exported is audited (`credential.export`) before the bundle is
    /// returned; a refusal is audited too.
    ///
    /// # Errors
    /// Missing scope, a recipient that cannot be sealed to, an organization too large for
    /// one bundle, or a store, cipher or bundle-cipher failure.
    #[tracing::instrument(skip(self, who, request), fields(organization = %who.organization_id))]
    pub async fn export_credentials(
        &self,
        who: &Principal,
        request: ExportRequest,
    ) -> Result<Export, VaultError> {
        let exported = self.export(who, request).await;
        self.audit_if_refused(who, AuditAction::CredentialExport, None, exported)
            .await
    }

    async fn export(&self, who: &Principal, request: ExportRequest) -> Result<Export, VaultError> {
        require(who, Scope::CredentialsExport)?;
        let organization = who.organization_id;
        if let Some(named) = &request.organization
            && named.parse::<OrganizationId>().ok() != Some(organization)
        {
            return Err(FieldError::new(
                "organization",
                "is not the organization of the access key making the request",
            )
            .into());
        }
        request.to.check()?;
        self.bundles.check_recipient(&request.to)?;
        let mut writer = DocumentWriter::new(organization, self.clock.now());
        let mut exported = Vec::new();
        let mut after = None;
        loop {
            let query = ListQuery {
                after,
                limit: PAGE,
                ..ListQuery::default()
            };
            let page = self.store.list_credentials(organization, &query).await?;
            for listed in &page {
                let stored = match self.store.get_credential(organization, listed.id).await {
                    Ok(stored) => stored,
                    // Deleted since it was listed.
                    Err(StoreError::NotFound) => continue,
                    Err(error) => return Err(error.into()),
                };
                self.write_entry(&mut writer, &stored, request.versions)
                    .await?;
                exported.push(stored.credential.id);
                // Sealing adds a 16-byte tag per 64 KiB and a header: the file must still
                // be one an import takes.
                if writer.len() > MAX_BUNDLE_BYTES / 1024 * 1023 {
                    return Err(FieldError::new(
                        "versions",
                        format!(
                            "the organization's credentials come to more than the {} MiB a bundle holds{}",
                            MAX_BUNDLE_BYTES >> 20,
                            if request.versions { ": export without versions" } else { "" }
                        ),
                    )
                    .into());
                }
            }
            match page.last() {
                Some(last) if page.len() == PAGE => after = Some(last.id),
                _ => break,
            }
        }
        let bundle = self.bundles.seal(writer.finish(), request.to).await?;
        // Every credential that left is on the record before the bundle is handed over;
        // the events go to the log writer together, so they share its commits.
        try_join_all(exported.iter().map(|id| {
            let event = self.success(who, AuditAction::CredentialExport, *id.as_uuid());
            self.store.append_log(LogRecord::Audit(event))
        }))
        .await?;
        tracing::info!(
            credentials = exported.len(),
            versions = request.versions,
            "credentials exported"
        );
        Ok(Export {
            bundle,
            credentials: exported.len(),
        })
    }

    /// Opens one credential (and its versions when asked) into the document.
    async fn write_entry(
        &self,
        writer: &mut DocumentWriter,
        stored: &StoredCredential,
        with_versions: bool,
    ) -> Result<(), VaultError> {
        let secrets = self.open_secrets(stored)?;
        let credential = &stored.credential;
        let versions = if with_versions && stored.secret_version > 0 {
            self.open_versions(credential.organization_id, credential.id, stored)
                .await?
        } else {
            Vec::new()
        };
        let (current_version, restore_floor) = if versions.is_empty() {
            // Without its history the credential starts afresh where it lands.
            (1, 0)
        } else {
            (stored.secret_version, stored.restore_floor)
        };
        writer
            .push(&ExportedCredential {
                credential,
                secrets: &secrets,
                current_version,
                restore_floor,
                versions: &versions,
            })
            .map_err(|_| VaultError::Cipher(CipherError::Malformed))
    }

    async fn open_versions(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        stored: &StoredCredential,
    ) -> Result<Vec<ExportedVersion>, VaultError> {
        let kind = stored.credential.kind.credential_type();
        let mut versions = Vec::new();
        let listed = self.store.list_versions(organization, id).await?;
        // Versions made after the current values were read belong to a later export.
        for info in listed
            .into_iter()
            .filter(|v| v.number <= stored.secret_version)
        {
            let version = match self.store.get_version(organization, id, info.number).await {
                Ok(version) => version,
                // Pruned since it was listed.
                Err(StoreError::NotFound) => continue,
                Err(error) => return Err(error.into()),
            };
            let aad = Aad::credential_version(organization, id, info.number);
            let plaintext = self.cipher.open(&version.sealed, &aad)?;
            let secrets = CredentialSecrets::from_plaintext(kind, &plaintext)
                .map_err(|_| VaultError::Cipher(CipherError::Malformed))?;
            versions.push(ExportedVersion { info, secrets });
        }
        // The current values are always among them: a concurrent change may have pruned
        // the version they were read as, so such a history is left out.
        if !versions
            .iter()
            .any(|v| v.info.number == stored.secret_version)
        {
            versions.clear();
        }
        Ok(versions)
    }
}
