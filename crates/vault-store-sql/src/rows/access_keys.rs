//! An access key's row, and the part of it a list reads.

use std::collections::BTreeSet;

use diesel::prelude::*;
use vault_core::access_key::{
    AccessKey, AccessKeyName, KeyBinding, Scope, StoredAccessKey, TokenHash,
};
use vault_core::ids::{AccessKeyId, OrganizationId};
use vault_core::store::StoreError;

use super::optional_id;
use crate::columns::undecodable as bad;
use crate::schema::access_keys;
use crate::types::{DbId, DbJson, DbTime};

/// Every column of an access key but its hash and binding: what a list loads.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = access_keys)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AccessKeySummaryRow {
    id: DbId,
    organization_id: DbId,
    name: String,
    scopes: DbJson,
    created_by: Option<DbId>,
    created_at: DbTime,
    expires_at: Option<DbTime>,
    last_used_at: Option<DbTime>,
    revoked_at: Option<DbTime>,
}

/// A whole access-key row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = access_keys)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AccessKeyRow {
    #[diesel(embed)]
    summary: AccessKeySummaryRow,
    key_hash: Vec<u8>,
    binding: Option<Vec<u8>>,
}

impl AccessKeyRow {
    /// The row of `stored`.
    ///
    /// # Errors
    /// A value that cannot be stored (a time out of range).
    pub fn encode(stored: &StoredAccessKey) -> Result<Self, StoreError> {
        let k = &stored.key;
        Ok(Self {
            summary: AccessKeySummaryRow {
                id: k.id.into(),
                organization_id: k.organization_id.into(),
                name: k.name.as_str().to_owned(),
                scopes: DbJson::encode(&k.scopes, "access_keys.scopes")?,
                created_by: k.created_by.map(DbId::from),
                created_at: DbTime::encode(k.created_at, "access_keys.created_at")?,
                expires_at: DbTime::encode_optional(k.expires_at, "access_keys.expires_at")?,
                last_used_at: DbTime::encode_optional(k.last_used_at, "access_keys.last_used_at")?,
                revoked_at: DbTime::encode_optional(k.revoked_at, "access_keys.revoked_at")?,
            },
            key_hash: stored.hash.0.to_vec(),
            binding: stored.binding.map(|b| b.0.to_vec()),
        })
    }

    /// The stored key.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<StoredAccessKey, StoreError> {
        let hash: [u8; 32] = self
            .key_hash
            .as_slice()
            .try_into()
            .map_err(|_| bad("access_keys.key_hash"))?;
        let binding = self
            .binding
            .map(|bytes| {
                <[u8; 32]>::try_from(bytes.as_slice())
                    .map(KeyBinding)
                    .map_err(|_| bad("access_keys.binding"))
            })
            .transpose()?;
        Ok(StoredAccessKey {
            key: self.summary.decode()?,
            hash: TokenHash(hash),
            binding,
        })
    }
}

impl AccessKeySummaryRow {
    /// The access key.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<AccessKey, StoreError> {
        let scopes: BTreeSet<Scope> = self.scopes.decode("access_keys.scopes")?;
        Ok(AccessKey {
            id: AccessKeyId::from_uuid(self.id.decode("access_keys.id")?),
            organization_id: OrganizationId::from_uuid(
                self.organization_id.decode("access_keys.organization_id")?,
            ),
            name: AccessKeyName::parse(&self.name).map_err(|_| bad("access_keys.name"))?,
            scopes,
            created_by: optional_id(
                self.created_by,
                "access_keys.created_by",
                AccessKeyId::from_uuid,
            )?,
            created_at: self.created_at.decode("access_keys.created_at")?,
            expires_at: DbTime::decode_optional(self.expires_at, "access_keys.expires_at")?,
            last_used_at: DbTime::decode_optional(self.last_used_at, "access_keys.last_used_at")?,
            revoked_at: DbTime::decode_optional(self.revoked_at, "access_keys.revoked_at")?,
        })
    }
}
