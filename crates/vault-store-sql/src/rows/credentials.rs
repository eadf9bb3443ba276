//! A credential's row, the part of it a list reads, and what an update writes.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use vault_core::ca_bundle::CaBundle;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::credential::{
    Credential, CredentialKind, CredentialName, CredentialType, Description, StoredCredential,
};
use vault_core::ids::{CredentialId, OrganizationId};
use vault_core::store::StoreError;

use crate::columns::{ColumnError, undecodable as bad};
use crate::schema::credentials;
use crate::types::{DbId, DbJson, DbTime};

/// The public fields column: the type and its fields, beside the fields every type may
/// have and no type owns (`caBundle`, which an `mtls` credential kept there before every
/// type had it).
#[derive(Serialize, Deserialize)]
struct PublicFields<K, T> {
    #[serde(flatten)]
    kind: K,
    #[serde(rename = "caBundle", default, skip_serializing_if = "Option::is_none")]
    ca_bundle: Option<T>,
}

/// Every column of a credential but the sealed secrets: what a list loads.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credentials)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CredentialSummaryRow {
    /// `credentials.id`.
    pub id: DbId,
    /// `credentials.organization_id`.
    pub organization_id: DbId,
    /// `credentials.name`.
    pub name: String,
    /// `credentials.description`.
    pub description: Option<String>,
    /// `credentials.credential_type`.
    pub credential_type: String,
    /// `credentials.public_fields`: the type's, and `caBundle` (see [`PublicFields`]).
    pub public_fields: DbJson,
    /// `credentials.allowed_hosts`, an array of entries.
    pub allowed_hosts: DbJson,
    /// `credentials.secret_hints`.
    pub secret_hints: DbJson,
    /// `credentials.expires_at`.
    pub expires_at: Option<DbTime>,
    /// `credentials.created_at`.
    pub created_at: DbTime,
    /// `credentials.updated_at`.
    pub updated_at: DbTime,
    /// `credentials.version`.
    pub version: i64,
}

/// A whole credential row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credentials)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CredentialRow {
    /// Every column but these.
    #[diesel(embed)]
    pub summary: CredentialSummaryRow,
    /// `credentials.sealed`.
    pub sealed: Vec<u8>,
    /// `credentials.key_id`.
    pub key_id: String,
    /// `credentials.restore_floor`.
    pub restore_floor: i64,
    /// `credentials.secret_version`.
    pub secret_version: i64,
}

impl CredentialRow {
    /// The row of `stored`.
    ///
    /// # Errors
    /// A value that cannot be stored (a time out of range).
    pub fn encode(stored: &StoredCredential) -> Result<Self, StoreError> {
        let c = &stored.credential;
        Ok(Self {
            summary: CredentialSummaryRow {
                id: c.id.into(),
                organization_id: c.organization_id.into(),
                name: c.name.as_str().to_owned(),
                description: c.description.as_ref().map(|d| d.as_str().to_owned()),
                credential_type: c.kind.credential_type().as_str().to_owned(),
                public_fields: DbJson::encode(
                    &PublicFields {
                        kind: &c.kind,
                        ca_bundle: c.ca_bundle.as_ref().map(CaBundle::as_str),
                    },
                    "credentials.public_fields",
                )?,
                allowed_hosts: DbJson::encode(&c.allowed_hosts, "credentials.allowed_hosts")?,
                secret_hints: DbJson::encode(&c.secret_hints, "credentials.secret_hints")?,
                expires_at: DbTime::encode_optional(c.expires_at, "credentials.expires_at")?,
                created_at: DbTime::encode(c.created_at, "credentials.created_at")?,
                updated_at: DbTime::encode(c.updated_at, "credentials.updated_at")?,
                version: c.version,
            },
            sealed: stored.sealed.bytes.clone(),
            key_id: stored.sealed.key_id.as_str().to_owned(),
            restore_floor: stored.restore_floor,
            secret_version: stored.secret_version,
        })
    }

    /// The stored credential.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<StoredCredential, StoreError> {
        Ok(StoredCredential {
            credential: self.summary.decode()?,
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.sealed,
            },
            restore_floor: self.restore_floor,
            secret_version: self.secret_version,
        })
    }
}

/// What a credential's update writes: every column but its id and organization, which
/// never change. In the order the columns are declared, so the statement's text is one.
#[derive(AsChangeset)]
#[diesel(table_name = credentials, treat_none_as_null = true)]
pub struct CredentialUpdate {
    name: String,
    description: Option<String>,
    credential_type: String,
    public_fields: DbJson,
    allowed_hosts: DbJson,
    secret_hints: DbJson,
    sealed: Vec<u8>,
    key_id: String,
    expires_at: Option<DbTime>,
    created_at: DbTime,
    updated_at: DbTime,
    version: i64,
    restore_floor: i64,
    secret_version: i64,
}

impl CredentialRow {
    /// The row as an update of the credential: its id, and what the update writes.
    #[must_use]
    pub fn into_update(self) -> (DbId, CredentialUpdate) {
        let Self {
            summary: s,
            sealed,
            key_id,
            restore_floor,
            secret_version,
        } = self;
        let update = CredentialUpdate {
            name: s.name,
            description: s.description,
            credential_type: s.credential_type,
            public_fields: s.public_fields,
            allowed_hosts: s.allowed_hosts,
            secret_hints: s.secret_hints,
            sealed,
            key_id,
            expires_at: s.expires_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
            version: s.version,
            restore_floor,
            secret_version,
        };
        (s.id, update)
    }
}

impl CredentialSummaryRow {
    /// Rebuilds the credential, checking that the columns agree with each other and with
    /// the domain's rules.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<Credential, StoreError> {
        let credential_type: CredentialType = self
            .credential_type
            .parse()
            .map_err(|_| bad("credentials.credential_type"))?;
        let PublicFields { kind, ca_bundle }: PublicFields<CredentialKind, String> =
            self.public_fields.decode("credentials.public_fields")?;
        if kind.credential_type() != credential_type {
            return Err(StoreError::Backend(Box::new(ColumnError {
                column: "credentials.public_fields",
                problem: "the public fields are of another type than credentials.credential_type",
            })));
        }
        let secret_hints: BTreeMap<String, String> =
            self.secret_hints.decode("credentials.secret_hints")?;
        Ok(Credential {
            id: CredentialId::from_uuid(self.id.decode("credentials.id")?),
            organization_id: OrganizationId::from_uuid(
                self.organization_id.decode("credentials.organization_id")?,
            ),
            name: CredentialName::parse(&self.name).map_err(|_| bad("credentials.name"))?,
            description: self
                .description
                .as_deref()
                .map(Description::parse)
                .transpose()
                .map_err(|_| bad("credentials.description"))?,
            kind,
            allowed_hosts: self.allowed_hosts.decode("credentials.allowed_hosts")?,
            ca_bundle: ca_bundle
                .as_deref()
                .map(CaBundle::parse)
                .transpose()
                .map_err(|_| bad("credentials.public_fields"))?,
            secret_hints,
            expires_at: DbTime::decode_optional(self.expires_at, "credentials.expires_at")?,
            created_at: self.created_at.decode("credentials.created_at")?,
            updated_at: self.updated_at.decode("credentials.updated_at")?,
            version: self.version,
        })
    }
}
