//! The rows of organizations, of installation-wide sealed values and of the keyring.

use diesel::prelude::*;
use vault_core::access_key::Organization;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::key_manager::WrappedKeyring;
use vault_core::keyring::StoredKeyring;
use vault_core::store::StoreError;
use vault_core::versions::{SealedRef, SealedRow};

use crate::schema::{keyring, organizations, vault_meta};
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

/// The keyring (one row, id 1).
#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = keyring)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
// An update that drops the hand-over must write NULL, not leave the old one.
#[diesel(treat_none_as_null = true)]
pub struct KeyringRow {
    id: i16,
    generation: i64,
    manager: String,
    manager_key: String,
    wrapped: Vec<u8>,
    handover: Option<Vec<u8>>,
    handover_key_id: Option<String>,
    changed_at: DbTime,
}

impl KeyringRow {
    /// The row of `stored`.
    ///
    /// # Errors
    /// A time out of range.
    pub fn encode(stored: &StoredKeyring) -> Result<Self, StoreError> {
        Ok(Self {
            id: 1,
            generation: stored.generation,
            manager: stored.wrapped.manager.clone(),
            manager_key: stored.wrapped.key.clone(),
            wrapped: stored.wrapped.bytes.clone(),
            handover: stored.handover.as_ref().map(|h| h.bytes.clone()),
            handover_key_id: stored
                .handover
                .as_ref()
                .map(|h| h.key_id.as_str().to_owned()),
            changed_at: DbTime::encode(stored.changed_at, "keyring.changed_at")?,
        })
    }

    /// The keyring.
    ///
    /// # Errors
    /// A stored value out of range.
    pub fn decode(self) -> Result<StoredKeyring, StoreError> {
        Ok(StoredKeyring {
            generation: self.generation,
            wrapped: WrappedKeyring {
                manager: self.manager,
                key: self.manager_key,
                bytes: self.wrapped,
            },
            handover: match (self.handover, self.handover_key_id) {
                (Some(bytes), Some(key_id)) => Some(SealedBlob {
                    key_id: KeyId::new(key_id),
                    bytes,
                }),
                _ => None,
            },
            changed_at: self.changed_at.decode("keyring.changed_at")?,
        })
    }
}
