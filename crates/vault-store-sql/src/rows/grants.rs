//! A grant's row, and its budget counters'.

use diesel::prelude::*;
use vault_core::grants::{Budget, Grant, GrantBinding, Grantee, Permission, RequestRules};
use vault_core::ids::{AccessKeyId, CredentialId, GrantId, OrganizationId};
use vault_core::store::StoreError;

use super::optional_id;
use crate::columns::undecodable as bad;
use crate::schema::grants;
use crate::types::{DbId, DbJson, DbTime};

/// A whole grant row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = grants)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct GrantRow {
    /// `grants.id`.
    pub id: DbId,
    /// `grants.organization_id`.
    pub organization_id: DbId,
    /// `grants.credential_id`.
    pub credential_id: DbId,
    grantee: String,
    permission: String,
    rules: DbJson,
    budget: Option<DbJson>,
    expires_at: Option<DbTime>,
    granted_by: Option<DbId>,
    created_at: DbTime,
    parent_id: Option<DbId>,
    binding: Option<Vec<u8>>,
}

impl GrantRow {
    /// The row of `grant`.
    ///
    /// # Errors
    /// A value that cannot be stored (a time out of range).
    pub fn encode(grant: &Grant) -> Result<Self, StoreError> {
        let permission = match grant.permission {
            Permission::Use => "use",
            Permission::Manage => "manage",
        };
        Ok(Self {
            id: grant.id.into(),
            organization_id: grant.organization_id.into(),
            credential_id: grant.credential_id.into(),
            grantee: grant.grantee.to_string(),
            permission: permission.to_owned(),
            rules: DbJson::encode(&grant.rules, "grants.rules")?,
            budget: grant
                .budget
                .as_ref()
                .map(|budget| DbJson::encode(budget, "grants.budget"))
                .transpose()?,
            expires_at: DbTime::encode_optional(grant.expires_at, "grants.expires_at")?,
            granted_by: grant.granted_by.map(DbId::from),
            created_at: DbTime::encode(grant.created_at, "grants.created_at")?,
            parent_id: grant.parent.map(DbId::from),
            binding: grant.binding.map(|b| b.0.to_vec()),
        })
    }

    /// The grant.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`](crate::columns::ColumnError) naming
    /// the first bad column.
    pub fn decode(self) -> Result<Grant, StoreError> {
        let budget: Option<Budget> = self
            .budget
            .map(|budget| budget.decode("grants.budget"))
            .transpose()?;
        let rules: RequestRules = self.rules.decode("grants.rules")?;
        Ok(Grant {
            id: GrantId::from_uuid(self.id.decode("grants.id")?),
            organization_id: OrganizationId::from_uuid(
                self.organization_id.decode("grants.organization_id")?,
            ),
            credential_id: CredentialId::from_uuid(
                self.credential_id.decode("grants.credential_id")?,
            ),
            grantee: self
                .grantee
                .parse::<Grantee>()
                .map_err(|_| bad("grants.grantee"))?,
            permission: self
                .permission
                .parse::<Permission>()
                .map_err(|_| bad("grants.permission"))?,
            rules,
            budget,
            expires_at: DbTime::decode_optional(self.expires_at, "grants.expires_at")?,
            granted_by: optional_id(self.granted_by, "grants.granted_by", AccessKeyId::from_uuid)?,
            created_at: self.created_at.decode("grants.created_at")?,
            parent: optional_id(self.parent_id, "grants.parent_id", GrantId::from_uuid)?,
            binding: self
                .binding
                .map(|b| <[u8; 32]>::try_from(b.as_slice()).map(GrantBinding))
                .transpose()
                .map_err(|_| bad("grants.binding"))?,
        })
    }
}
