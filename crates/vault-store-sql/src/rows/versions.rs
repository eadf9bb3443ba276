//! A credential's version rows.

use diesel::prelude::*;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::store::StoreError;
use vault_core::versions::{SecretVersion, VersionInfo};

use super::optional_id;
use crate::schema::credential_versions;
use crate::types::{DbId, DbJson, DbTime};

/// Every column of a version but its ids and sealed values: what a list loads.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_versions)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct VersionInfoRow {
    /// `credential_versions.number`.
    pub number: i64,
    /// `credential_versions.secret_hints`.
    pub secret_hints: DbJson,
    /// `credential_versions.created_at`.
    pub created_at: DbTime,
    /// `credential_versions.created_by`.
    pub created_by: Option<DbId>,
    /// `credential_versions.restored_from`.
    pub restored_from: Option<i64>,
}

/// A whole version row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_versions)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct VersionRow {
    /// `credential_versions.credential_id`.
    pub credential_id: DbId,
    /// `credential_versions.organization_id`.
    pub organization_id: DbId,
    /// The other columns but these.
    #[diesel(embed)]
    pub info: VersionInfoRow,
    /// `credential_versions.sealed`.
    pub sealed: Vec<u8>,
    /// `credential_versions.key_id`.
    pub key_id: String,
}

impl VersionRow {
    /// The row of `version`.
    ///
    /// # Errors
    /// A value that cannot be stored (a time out of range).
    pub fn encode(version: &SecretVersion) -> Result<Self, StoreError> {
        Ok(Self {
            credential_id: version.credential_id.into(),
            organization_id: version.organization_id.into(),
            info: VersionInfoRow {
                number: version.number,
                secret_hints: DbJson::encode(
                    &version.secret_hints,
                    "credential_versions.secret_hints",
                )?,
                created_at: DbTime::encode(version.created_at, "credential_versions.created_at")?,
                created_by: version.created_by.map(DbId::from),
                restored_from: version.restored_from,
            },
            sealed: version.sealed.bytes.clone(),
            key_id: version.sealed.key_id.as_str().to_owned(),
        })
    }

    /// The version.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<SecretVersion, StoreError> {
        let info = self.info.decode()?;
        Ok(SecretVersion {
            credential_id: CredentialId::from_uuid(
                self.credential_id
                    .decode("credential_versions.credential_id")?,
            ),
            organization_id: OrganizationId::from_uuid(
                self.organization_id
                    .decode("credential_versions.organization_id")?,
            ),
            number: info.number,
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.sealed,
            },
            secret_hints: info.secret_hints,
            created_at: info.created_at,
            created_by: info.created_by,
            restored_from: info.restored_from,
        })
    }

    /// The rows of a credential write's versions. They must belong to the credential
    /// written with them: reads find versions by their own organization column, so a row
    /// naming another organization would be readable there. Oldest first; a number given
    /// twice is taken, as one already stored is.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for a number given twice; [`StoreError::Backend`] for a
    /// version of another credential or organization, or one that cannot be stored.
    pub fn encode_all(
        versions: &[SecretVersion],
        organization: OrganizationId,
        credential: CredentialId,
    ) -> Result<Vec<Self>, StoreError> {
        let mut versions: Vec<&SecretVersion> = versions.iter().collect();
        versions.sort_unstable_by_key(|version| version.number);
        if versions
            .windows(2)
            .any(|pair| pair[0].number == pair[1].number)
        {
            return Err(StoreError::Conflict);
        }
        versions
            .into_iter()
            .map(|version| {
                if version.organization_id != organization || version.credential_id != credential {
                    return Err(StoreError::Backend(
                        "a version row names another credential or organization than the \
                         credential written with it"
                            .into(),
                    ));
                }
                Self::encode(version)
            })
            .collect()
    }
}

impl VersionInfoRow {
    /// The version, without its ids and sealed values.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<VersionInfo, StoreError> {
        Ok(VersionInfo {
            number: self.number,
            secret_hints: self
                .secret_hints
                .decode("credential_versions.secret_hints")?,
            created_at: self.created_at.decode("credential_versions.created_at")?,
            created_by: optional_id(
                self.created_by,
                "credential_versions.created_by",
                AccessKeyId::from_uuid,
            )?,
            restored_from: self.restored_from,
        })
    }
}
