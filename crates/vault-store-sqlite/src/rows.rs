//! Rows as stored, and their translation to and from domain values.
//!
//! Decoding checks everything the domain's constructors check (UUID length, name rules,
//! the JSON of public fields and hints, the type tag agreeing with the public fields: all
//! in `vault_core::columns`, shared by every store), so a row edited behind the vault's back surfaces as a [`StoreError::Backend`] naming the
//! column, never as a panic and never with the offending value in the message.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;
use vault_core::StoreError;
use vault_core::access_key::{AccessKey, Organization, StoredAccessKey, TokenHash};
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::columns::{
    AccessKeyColumns, CredentialColumns, to_json as json, undecodable as bad, unencodable,
};
use vault_core::credential::{Credential, StoredCredential};

use crate::schema::{access_keys, credentials, organizations, vault_meta};

/// Unix microseconds: the precision every store keeps (`vault_core::clock`).
pub(crate) fn micros(t: OffsetDateTime, column: &'static str) -> Result<i64, StoreError> {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000)).map_err(|_| unencodable(column))
}

fn optional_micros(
    t: Option<OffsetDateTime>,
    column: &'static str,
) -> Result<Option<i64>, StoreError> {
    t.map(|t| micros(t, column)).transpose()
}

fn time_of(micros: i64, column: &'static str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).map_err(|_| bad(column))
}

fn optional_time(
    micros: Option<i64>,
    column: &'static str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    micros.map(|m| time_of(m, column)).transpose()
}

fn uuid_of(bytes: &[u8], column: &'static str) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|_| bad(column))
}

// ---------------------------------------------------------------------------------------

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct OrganizationRow {
    id: Vec<u8>,
    name: String,
    created_at: i64,
}

impl OrganizationRow {
    pub(crate) fn encode(organization: &Organization) -> Result<Self, StoreError> {
        Ok(Self {
            id: organization.id.as_bytes().to_vec(),
            name: organization.name.clone(),
            created_at: micros(organization.created_at, "organizations.created_at")?,
        })
    }
}

// ---------------------------------------------------------------------------------------

/// Every column of a credential but the sealed secrets: what a list loads.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credentials, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct CredentialSummaryRow {
    pub(crate) id: Vec<u8>,
    pub(crate) organization_id: Vec<u8>,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) credential_type: String,
    pub(crate) public_fields: String,
    pub(crate) secret_hints: String,
    pub(crate) expires_at: Option<i64>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) version: i64,
}

/// A whole credential row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credentials, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct CredentialRow {
    #[diesel(embed)]
    pub(crate) summary: CredentialSummaryRow,
    pub(crate) sealed: Vec<u8>,
    pub(crate) key_id: String,
}

impl CredentialRow {
    pub(crate) fn encode(stored: &StoredCredential) -> Result<Self, StoreError> {
        let c = &stored.credential;
        Ok(Self {
            summary: CredentialSummaryRow {
                id: c.id.as_bytes().to_vec(),
                organization_id: c.organization_id.as_bytes().to_vec(),
                name: c.name.as_str().to_owned(),
                description: c.description.as_ref().map(|d| d.as_str().to_owned()),
                credential_type: c.kind.credential_type().as_str().to_owned(),
                public_fields: json(&c.kind, "credentials.public_fields")?,
                secret_hints: json(&c.secret_hints, "credentials.secret_hints")?,
                expires_at: optional_micros(c.expires_at, "credentials.expires_at")?,
                created_at: micros(c.created_at, "credentials.created_at")?,
                updated_at: micros(c.updated_at, "credentials.updated_at")?,
                version: c.version,
            },
            sealed: stored.sealed.bytes.clone(),
            key_id: stored.sealed.key_id.as_str().to_owned(),
        })
    }

    pub(crate) fn decode(self) -> Result<StoredCredential, StoreError> {
        Ok(StoredCredential {
            credential: self.summary.decode()?,
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.sealed,
            },
        })
    }
}

impl CredentialSummaryRow {
    pub(crate) fn decode(self) -> Result<Credential, StoreError> {
        CredentialColumns {
            id: uuid_of(&self.id, "credentials.id")?,
            organization_id: uuid_of(&self.organization_id, "credentials.organization_id")?,
            name: &self.name,
            description: self.description.as_deref(),
            credential_type: &self.credential_type,
            public_fields: self.public_fields.as_bytes(),
            secret_hints: self.secret_hints.as_bytes(),
            expires_at: optional_time(self.expires_at, "credentials.expires_at")?,
            created_at: time_of(self.created_at, "credentials.created_at")?,
            updated_at: time_of(self.updated_at, "credentials.updated_at")?,
            version: self.version,
        }
        .decode()
    }
}

// ---------------------------------------------------------------------------------------

/// Every column of an access key but its hash: what a list loads.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = access_keys, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct AccessKeySummaryRow {
    id: Vec<u8>,
    organization_id: Vec<u8>,
    name: String,
    scopes: String,
    created_by: Option<Vec<u8>>,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// A whole access-key row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = access_keys, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct AccessKeyRow {
    #[diesel(embed)]
    summary: AccessKeySummaryRow,
    key_hash: Vec<u8>,
}

impl AccessKeyRow {
    pub(crate) fn encode(stored: &StoredAccessKey) -> Result<Self, StoreError> {
        let k = &stored.key;
        Ok(Self {
            summary: AccessKeySummaryRow {
                id: k.id.as_bytes().to_vec(),
                organization_id: k.organization_id.as_bytes().to_vec(),
                name: k.name.as_str().to_owned(),
                scopes: json(&k.scopes, "access_keys.scopes")?,
                created_by: k.created_by.map(|id| id.as_bytes().to_vec()),
                created_at: micros(k.created_at, "access_keys.created_at")?,
                expires_at: optional_micros(k.expires_at, "access_keys.expires_at")?,
                last_used_at: optional_micros(k.last_used_at, "access_keys.last_used_at")?,
                revoked_at: optional_micros(k.revoked_at, "access_keys.revoked_at")?,
            },
            key_hash: stored.hash.0.to_vec(),
        })
    }

    pub(crate) fn decode(self) -> Result<StoredAccessKey, StoreError> {
        let hash: [u8; 32] = self
            .key_hash
            .as_slice()
            .try_into()
            .map_err(|_| bad("access_keys.key_hash"))?;
        Ok(StoredAccessKey {
            key: self.summary.decode()?,
            hash: TokenHash(hash),
        })
    }
}

impl AccessKeySummaryRow {
    pub(crate) fn decode(self) -> Result<AccessKey, StoreError> {
        AccessKeyColumns {
            id: uuid_of(&self.id, "access_keys.id")?,
            organization_id: uuid_of(&self.organization_id, "access_keys.organization_id")?,
            name: &self.name,
            scopes: self.scopes.as_bytes(),
            created_by: self
                .created_by
                .as_deref()
                .map(|bytes| uuid_of(bytes, "access_keys.created_by"))
                .transpose()?,
            created_at: time_of(self.created_at, "access_keys.created_at")?,
            expires_at: optional_time(self.expires_at, "access_keys.expires_at")?,
            last_used_at: optional_time(self.last_used_at, "access_keys.last_used_at")?,
            revoked_at: optional_time(self.revoked_at, "access_keys.revoked_at")?,
        }
        .decode()
    }
}

// ---------------------------------------------------------------------------------------

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = vault_meta, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct MetaRow {
    name: String,
    value: Vec<u8>,
    key_id: String,
}

impl MetaRow {
    pub(crate) fn encode(name: &str, blob: &SealedBlob) -> Self {
        Self {
            name: name.to_owned(),
            value: blob.bytes.clone(),
            key_id: blob.key_id.as_str().to_owned(),
        }
    }

    pub(crate) fn decode(self) -> SealedBlob {
        SealedBlob {
            key_id: KeyId::new(self.key_id),
            bytes: self.value,
        }
    }
}
