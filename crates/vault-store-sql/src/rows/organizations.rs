//! The rows of organizations and of installation-wide sealed values.

use diesel::prelude::*;
use vault_core::access_key::Organization;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::store::StoreError;
use vault_core::versions::{SealedRef, SealedRow};

use crate::schema::{organizations, vault_meta};
use crate::types::{DbId, DbTime};

/// An organization.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OrganizationRow {
    id: DbId,
    name: String,
    created_at: DbTime,
}

impl OrganizationRow {
    /// The row of `organization`.
    ///
    /// # Errors
    /// A time out of range.
    pub fn encode(organization: &Organization) -> Result<Self, StoreError> {
        Ok(Self {
            id: organization.id.into(),
            name: organization.name.clone(),
            created_at: DbTime::encode(organization.created_at, "organizations.created_at")?,
        })
    }
}

/// An installation-wide sealed value.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = vault_meta)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct MetaRow {
    name: String,
    value: Vec<u8>,
    key_id: String,
}

impl MetaRow {
    /// The row of the value `blob` named `name`.
    #[must_use]
    pub fn encode(name: &str, blob: &SealedBlob) -> Self {
        Self {
            name: name.to_owned(),
            value: blob.bytes.clone(),
            key_id: blob.key_id.as_str().to_owned(),
        }
    }

    /// The value.
    #[must_use]
    pub fn decode(self) -> SealedBlob {
        SealedBlob {
            key_id: KeyId::new(self.key_id),
            bytes: self.value,
        }
    }

    /// As a row for a key rotation.
    #[must_use]
    pub fn into_sealed_row(self) -> SealedRow {
        SealedRow {
            reference: SealedRef::Meta(self.name),
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.value,
            },
        }
    }
}
