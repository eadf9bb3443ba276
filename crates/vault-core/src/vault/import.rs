//! Importing a bundle: every credential in it checked as a create body is, then created
//! with its values sealed under this installation's keys.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Vault, VaultError, require};
use crate::access_key::{Principal, Scope};
use crate::bundle::document::{self, Entry, Version};
use crate::bundle::{BundleIdentity, MAX_BUNDLE_BYTES};
use crate::credential::{Credential, CredentialSecrets, CredentialType, StoredCredential};
use crate::credential_types;
use crate::ids::{CredentialId, OrganizationId};
use crate::input::{CredentialFields, JsonFields};
use crate::logs::AuditAction;
use crate::store::{CredentialWrite, Store, StoreError};
use crate::validation::{FieldError, ValidationErrors};
use crate::versions::SecretVersion;

/// Whether imported credentials keep the ids they had.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdChoice {
    /// The ids of the bundle: moving an organization to another installation.
    #[default]
    Keep,
    /// New ids, derived from this organization and each exported id, so that importing
    /// the same bundle again finds the credentials it made: copying an organization
    /// within one installation.
    New,
}

/// A bundle to import.
#[derive(Debug)]
pub struct ImportRequest {
    /// The bundle's bytes.
    pub bundle: Vec<u8>,
    /// What opens it.
    pub with: BundleIdentity,
    /// Which ids the credentials get.
    pub ids: IdChoice,
}

/// What became of one credential of a bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Created.
    Created,
    /// Already in this organization under its id (an earlier import): left as it is.
    Exists,
    /// Its id belongs to another organization of this installation: import with new ids.
    IdTaken,
}

impl ImportOutcome {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Exists => "exists",
            Self::IdTaken => "idTaken",
        }
    }
}

/// One credential of an imported bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    /// Its id in the bundle.
    pub source_id: Uuid,
    /// Its id here.
    pub id: CredentialId,
    /// Its name.
    pub name: String,
    /// What became of it.
    pub outcome: ImportOutcome,
}

/// A credential ready to be written.
struct Prepared {
    source_id: Uuid,
    stored: StoredCredential,
    versions: Vec<SecretVersion>,
}

impl<S: Store> Vault<S> {
    /// Imports a bundle into the caller's organization. The bundle is opened, and every
    /// credential in it checked as a create body is, before anything is written: a wrong
    /// passphrase or one invalid credential imports nothing. Each credential is then
    /// created (audited as `credential.import` in the same commit) unless its id is
    /// already here, so importing a bundle again changes nothing. Needs
    /// `credentials:write`: an import creates credentials, its secret values given.
    ///
    /// # Errors
    /// Missing scope, a bundle that does not open or does not hold a valid document, an
    /// invalid credential (named `credentials[i].field`), or a store or cipher failure.
    #[tracing::instrument(skip(self, who, request), fields(organization = %who.organization_id))]
    pub async fn import_credentials(
        &self,
        who: &Principal,
        request: ImportRequest,
    ) -> Result<Vec<Imported>, VaultError> {
        let imported = self.import(who, request).await;
        self.audit_if_refused(who, AuditAction::CredentialImport, None, imported)
            .await
    }

    async fn import(
        &self,
        who: &Principal,
        request: ImportRequest,
    ) -> Result<Vec<Imported>, VaultError> {
        require(who, Scope::CredentialsWrite)?;
        request.with.check()?;
        if request.bundle.len() > MAX_BUNDLE_BYTES {
            return Err(FieldError::new(
                "bundle",
                format!("must be at most {} MiB", MAX_BUNDLE_BYTES >> 20),
            )
            .into());
        }
        let plaintext = self.bundles.open(request.bundle, request.with).await?;
        let document = document::read(&plaintext)?;
        drop(plaintext);
        let mut errors = ValidationErrors::default();
        let mut prepared = Vec::with_capacity(document.credentials.len());
        for (at, entry) in document.credentials.into_iter().enumerate() {
            let source = (document.organization_id, request.ids);
            match self.prepare(who, entry, source) {
                Ok(ready) => prepared.push(ready),
                Err(VaultError::Invalid(found)) => {
                    for error in found.errors() {
                        errors.add(
                            format!("credentials[{at}].{}", error.field),
                            error.message.clone(),
                        );
                    }
                }
                Err(other) => return Err(other),
            }
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let mut report = Vec::with_capacity(prepared.len());
        for ready in prepared {
            report.push(self.write_imported(who, ready).await?);
        }
        let created = report
            .iter()
            .filter(|r| r.outcome == ImportOutcome::Created)
            .count();
        tracing::info!(credentials = report.len(), created, exported_at = %document.exported_at, "bundle imported");
        Ok(report)
    }

    async fn write_imported(
        &self,
        who: &Principal,
        ready: Prepared,
    ) -> Result<Imported, VaultError> {
        let credential = &ready.stored.credential;
        let audit = self.success(who, AuditAction::CredentialImport, *credential.id.as_uuid());
        let write = CredentialWrite {
            versions: &ready.versions,
            keep_versions: self.keep_versions,
            audit: &audit,
        };
        let outcome = match self.store.insert_credential(&ready.stored, &write).await {
            Ok(()) => ImportOutcome::Created,
            Err(StoreError::Conflict) => {
                match self
                    .store
                    .get_credential(who.organization_id, credential.id)
                    .await
                {
                    Ok(_) => ImportOutcome::Exists,
                    Err(StoreError::NotFound) => ImportOutcome::IdTaken,
                    Err(error) => return Err(error.into()),
                }
            }
            Err(error) => return Err(error.into()),
        };
        Ok(Imported {
            source_id: ready.source_id,
            id: credential.id,
            name: credential.name.as_str().to_owned(),
            outcome,
        })
    }

    /// Checks one credential of a bundle as a create body, and seals it for this
    /// organization.
    fn prepare(
        &self,
        who: &Principal,
        entry: Entry,
        (source_organization, ids): (Uuid, IdChoice),
    ) -> Result<Prepared, VaultError> {
        let mut fields = JsonFields::new(entry.credential);
        let credential_type = match fields.string("type") {
            Some(raw) => raw.parse::<CredentialType>()?,
            None => return Err(FieldError::new("type", "is required").into()),
        };
        let input = CredentialFields::take_from(&mut fields);
        refuse_leftovers(&mut fields)?;
        // The expiry is kept as exported, past or not: an expired credential is never
        // applied either way, and a copy should not refuse what the original holds.
        let new = self.checked_new(credential_type, &input, OffsetDateTime::UNIX_EPOCH)?;
        let organization = who.organization_id;
        let id = match ids {
            IdChoice::Keep => CredentialId::from_uuid(entry.id),
            IdChoice::New => self.imported_id(
                organization,
                source_organization,
                entry.id,
                entry.created_at,
            ),
        };
        let credential = Credential {
            id,
            organization_id: organization,
            name: new.name,
            description: new.description,
            kind: new.kind,
            allowed_hosts: new.allowed_hosts,
            ca_bundle: new.ca_bundle,
            secret_hints: new.secrets.hints(),
            expires_at: new.expires_at,
            created_at: entry.created_at,
            updated_at: entry.updated_at.max(entry.created_at),
            version: 1,
        };
        let (versions, current, floor) = if entry.versions.is_empty() {
            let only = self.version_of(&credential, 1, &new.secrets, who.access_key_id, None)?;
            (vec![only], 1, 0)
        } else {
            let current = entry.current_version;
            let versions = self.imported_versions(who, &credential, entry.versions, current)?;
            (versions, current, entry.restore_floor.clamp(0, current))
        };
        let sealed = self.seal_secrets(organization, id, 1, &new.secrets)?;
        Ok(Prepared {
            source_id: entry.id,
            stored: StoredCredential {
                credential,
                sealed,
                restore_floor: floor,
                secret_version: current,
            },
            versions,
        })
    }

    /// The versions of an entry, each checked as a change of the credential's secret
    /// values would be; the current one must be the newest.
    fn imported_versions(
        &self,
        who: &Principal,
        credential: &Credential,
        versions: Vec<Version>,
        current: i64,
    ) -> Result<Vec<SecretVersion>, VaultError> {
        let numbers: Vec<i64> = versions.iter().map(|v| v.number).collect();
        let newest = numbers.iter().copied().max().unwrap_or(0);
        let distinct = numbers
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if numbers.iter().any(|n| *n < 1) || distinct != numbers.len() || newest != current {
            return Err(FieldError::new(
                "versions",
                "must be numbered from 1, each number once, the newest being currentVersion",
            )
            .into());
        }
        versions
            .into_iter()
            .map(|version| {
                let (number, created_at) = (version.number, version.created_at);
                let restored_from = version
                    .restored_from
                    .filter(|from| (1..number).contains(from));
                let secrets = version_secrets(credential, version)?;
                let mut row = self.version_of(
                    credential,
                    number,
                    &secrets,
                    who.access_key_id,
                    restored_from,
                )?;
                row.created_at = created_at;
                Ok(row)
            })
            .collect()
    }

    /// The id a credential gets when imported with new ids: a UUID v7 of its creation
    /// time whose random part is a digest of this organization and its exported id, so
    /// that a second import of the same bundle finds the credentials the first made.
    fn imported_id(
        &self,
        organization: OrganizationId,
        source_organization: Uuid,
        source: Uuid,
        created_at: OffsetDateTime,
    ) -> CredentialId {
        let mut message = Vec::with_capacity(64);
        message.extend_from_slice(b"vault import id v1\0");
        message.extend_from_slice(organization.as_bytes());
        message.extend_from_slice(source_organization.as_bytes());
        message.extend_from_slice(source.as_bytes());
        let digest = self.cipher.digest(&message);
        let mut random = [0u8; 10];
        random.copy_from_slice(&digest[..10]);
        let millis = u64::try_from(created_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        CredentialId::from_uuid(
            uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid(),
        )
    }
}

/// The secret values of one version, checked as a change of them would be.
fn version_secrets(
    credential: &Credential,
    version: Version,
) -> Result<CredentialSecrets, VaultError> {
    let number = version.number;
    let mut fields = JsonFields::new(version.secrets);
    let input = CredentialFields::take_from(&mut fields);
    refuse_leftovers(&mut fields)?;
    let mut errors = ValidationErrors::default();
    let kind = credential.kind.credential_type();
    let checked = credential_types::validate(kind, &input, Some(&credential.kind), &mut errors);
    let prefix = |errors: ValidationErrors| {
        let mut named = ValidationErrors::default();
        for error in errors.errors() {
            named.add(
                format!("versions[{number}].{}", error.field),
                error.message.clone(),
            );
        }
        VaultError::Invalid(named)
    };
    match checked {
        Some((_, Some(secrets))) if errors.is_empty() => Ok(secrets),
        _ if !errors.is_empty() => Err(prefix(errors)),
        _ => Err(prefix(ValidationErrors::single(
            "secrets",
            "must hold the type's secret values",
        ))),
    }
}

/// Refuses what is left of a body once its fields were taken: a name no create body has,
/// or a value of the wrong JSON type.
fn refuse_leftovers(fields: &mut JsonFields) -> Result<(), VaultError> {
    let mut errors = std::mem::take(&mut fields.errors);
    for name in fields.remaining() {
        errors.add(name.to_owned(), "is not a field of a create body");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.into())
    }
}
