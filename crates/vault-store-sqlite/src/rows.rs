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
use vault_core::access_key::{AccessKey, KeyBinding, Organization, StoredAccessKey, TokenHash};
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::columns::{
    AccessKeyColumns, CredentialColumns, from_json, to_json as json, undecodable as bad,
    unencodable,
};
use vault_core::credential::{Credential, StoredCredential};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{AuditEvent, RequestLogEntry};
use vault_core::versions::{KeyUsage, SealedRef, SealedRow, SecretVersion, VersionInfo};

use crate::schema::{
    access_keys, audit_events, credential_versions, credentials, organizations, request_logs,
    vault_meta,
};

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

fn optional_uuid(bytes: Option<&[u8]>, column: &'static str) -> Result<Option<Uuid>, StoreError> {
    bytes.map(|bytes| uuid_of(bytes, column)).transpose()
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
    pub(crate) allowed_hosts: String,
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
    pub(crate) restore_floor: i64,
    pub(crate) secret_version: i64,
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
                allowed_hosts: json(&c.allowed_hosts, "credentials.allowed_hosts")?,
                secret_hints: json(&c.secret_hints, "credentials.secret_hints")?,
                expires_at: optional_micros(c.expires_at, "credentials.expires_at")?,
                created_at: micros(c.created_at, "credentials.created_at")?,
                updated_at: micros(c.updated_at, "credentials.updated_at")?,
                version: c.version,
            },
            sealed: stored.sealed.bytes.clone(),
            key_id: stored.sealed.key_id.as_str().to_owned(),
            restore_floor: stored.restore_floor,
            secret_version: stored.secret_version,
        })
    }

    pub(crate) fn decode(self) -> Result<StoredCredential, StoreError> {
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

impl CredentialSummaryRow {
    pub(crate) fn decode(self) -> Result<Credential, StoreError> {
        CredentialColumns {
            id: uuid_of(&self.id, "credentials.id")?,
            organization_id: uuid_of(&self.organization_id, "credentials.organization_id")?,
            name: &self.name,
            description: self.description.as_deref(),
            credential_type: &self.credential_type,
            public_fields: self.public_fields.as_bytes(),
            allowed_hosts: self.allowed_hosts.as_bytes(),
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
    binding: Option<Vec<u8>>,
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
            binding: stored.binding.map(|b| b.0.to_vec()),
        })
    }

    pub(crate) fn decode(self) -> Result<StoredAccessKey, StoreError> {
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

/// A request-log row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = request_logs, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct RequestLogRow {
    id: Vec<u8>,
    organization_id: Vec<u8>,
    credential_id: Vec<u8>,
    credential_name: String,
    method: String,
    host: String,
    path: String,
    status: Option<i32>,
    error: Option<String>,
    latency_micros: i64,
    at: i64,
    access_key_id: Option<Vec<u8>>,
    actor_subject: Option<String>,
}

impl RequestLogRow {
    pub(crate) fn encode(entry: &RequestLogEntry) -> Result<Self, StoreError> {
        Ok(Self {
            id: entry.id.as_bytes().to_vec(),
            organization_id: entry.organization_id.as_bytes().to_vec(),
            credential_id: entry.credential_id.as_bytes().to_vec(),
            credential_name: entry.credential_name.clone(),
            method: entry.method.clone(),
            host: entry.host.clone(),
            path: entry.path.clone(),
            status: entry.status.map(i32::from),
            error: entry.error.clone(),
            latency_micros: entry.latency_micros,
            at: micros(entry.at, "request_logs.at")?,
            access_key_id: entry.access_key_id.map(|id| id.as_bytes().to_vec()),
            actor_subject: entry.actor_subject.clone(),
        })
    }

    pub(crate) fn decode(self) -> Result<RequestLogEntry, StoreError> {
        Ok(RequestLogEntry {
            id: uuid_of(&self.id, "request_logs.id")?,
            organization_id: OrganizationId::from_uuid(uuid_of(
                &self.organization_id,
                "request_logs.organization_id",
            )?),
            credential_id: CredentialId::from_uuid(uuid_of(
                &self.credential_id,
                "request_logs.credential_id",
            )?),
            credential_name: self.credential_name,
            method: self.method,
            host: self.host,
            path: self.path,
            status: self
                .status
                .map(|status| u16::try_from(status).map_err(|_| bad("request_logs.status")))
                .transpose()?,
            error: self.error,
            latency_micros: self.latency_micros,
            at: time_of(self.at, "request_logs.at")?,
            access_key_id: optional_uuid(
                self.access_key_id.as_deref(),
                "request_logs.access_key_id",
            )?
            .map(AccessKeyId::from_uuid),
            actor_subject: self.actor_subject,
        })
    }
}

/// An audit-event row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct AuditEventRow {
    id: Vec<u8>,
    organization_id: Option<Vec<u8>>,
    actor: Option<Vec<u8>>,
    action: String,
    target: Option<Vec<u8>>,
    outcome: String,
    reason: Option<String>,
    at: i64,
    actor_subject: Option<String>,
    occurrences: i64,
}

impl AuditEventRow {
    pub(crate) fn encode(event: &AuditEvent) -> Result<Self, StoreError> {
        Ok(Self {
            id: event.id.as_bytes().to_vec(),
            organization_id: event.organization_id.map(|id| id.as_bytes().to_vec()),
            actor: event.actor.map(|id| id.as_bytes().to_vec()),
            action: event.action.as_str().to_owned(),
            target: event.target.map(|id| id.as_bytes().to_vec()),
            outcome: event.outcome.as_str().to_owned(),
            reason: event.reason.clone(),
            at: micros(event.at, "audit_events.at")?,
            actor_subject: event.actor_subject.clone(),
            occurrences: i64::from(event.count),
        })
    }

    pub(crate) fn decode(self) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            id: uuid_of(&self.id, "audit_events.id")?,
            organization_id: optional_uuid(
                self.organization_id.as_deref(),
                "audit_events.organization_id",
            )?
            .map(OrganizationId::from_uuid),
            actor: optional_uuid(self.actor.as_deref(), "audit_events.actor")?
                .map(AccessKeyId::from_uuid),
            action: self
                .action
                .parse()
                .map_err(|_| bad("audit_events.action"))?,
            target: optional_uuid(self.target.as_deref(), "audit_events.target")?,
            outcome: self
                .outcome
                .parse()
                .map_err(|_| bad("audit_events.outcome"))?,
            reason: self.reason,
            at: time_of(self.at, "audit_events.at")?,
            count: u32::try_from(self.occurrences).map_err(|_| bad("audit_events.occurrences"))?,
            actor_subject: self.actor_subject,
        })
    }
}

// ---------------------------------------------------------------------------------------

/// Every column of a version but its ids and sealed values: what a list loads.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_versions, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct VersionInfoRow {
    number: i64,
    secret_hints: String,
    created_at: i64,
    created_by: Option<Vec<u8>>,
    restored_from: Option<i64>,
}

/// A whole version row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_versions, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct VersionRow {
    credential_id: Vec<u8>,
    organization_id: Vec<u8>,
    #[diesel(embed)]
    info: VersionInfoRow,
    sealed: Vec<u8>,
    key_id: String,
}

impl VersionRow {
    pub(crate) fn encode(version: &SecretVersion) -> Result<Self, StoreError> {
        Ok(Self {
            credential_id: version.credential_id.as_bytes().to_vec(),
            organization_id: version.organization_id.as_bytes().to_vec(),
            info: VersionInfoRow {
                number: version.number,
                secret_hints: json(&version.secret_hints, "credential_versions.secret_hints")?,
                created_at: micros(version.created_at, "credential_versions.created_at")?,
                created_by: version.created_by.map(|id| id.as_bytes().to_vec()),
                restored_from: version.restored_from,
            },
            sealed: version.sealed.bytes.clone(),
            key_id: version.sealed.key_id.as_str().to_owned(),
        })
    }

    pub(crate) fn decode(self) -> Result<SecretVersion, StoreError> {
        let info = self.info.decode()?;
        Ok(SecretVersion {
            credential_id: CredentialId::from_uuid(uuid_of(
                &self.credential_id,
                "credential_versions.credential_id",
            )?),
            organization_id: OrganizationId::from_uuid(uuid_of(
                &self.organization_id,
                "credential_versions.organization_id",
            )?),
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
}

impl VersionInfoRow {
    pub(crate) fn decode(self) -> Result<VersionInfo, StoreError> {
        Ok(VersionInfo {
            number: self.number,
            secret_hints: from_json(
                self.secret_hints.as_bytes(),
                "credential_versions.secret_hints",
            )?,
            created_at: time_of(self.created_at, "credential_versions.created_at")?,
            created_by: optional_uuid(
                self.created_by.as_deref(),
                "credential_versions.created_by",
            )?
            .map(AccessKeyId::from_uuid),
            restored_from: self.restored_from,
        })
    }
}

/// The id columns of a sealed row, as `sealed_batch` reads them (with the sealed value).
#[derive(Queryable, Selectable)]
#[diesel(table_name = credentials, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct SealedCredentialRow {
    organization_id: Vec<u8>,
    id: Vec<u8>,
    version: i64,
    sealed: Vec<u8>,
    key_id: String,
}

impl SealedCredentialRow {
    pub(crate) fn decode(self) -> Result<SealedRow, StoreError> {
        Ok(SealedRow {
            reference: SealedRef::Credential {
                organization_id: OrganizationId::from_uuid(uuid_of(
                    &self.organization_id,
                    "credentials.organization_id",
                )?),
                id: CredentialId::from_uuid(uuid_of(&self.id, "credentials.id")?),
                version: self.version,
            },
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.sealed,
            },
        })
    }
}

/// A version's ids and sealed value, as `sealed_batch` reads them.
#[derive(Queryable, Selectable)]
#[diesel(table_name = credential_versions, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct SealedVersionRow {
    organization_id: Vec<u8>,
    credential_id: Vec<u8>,
    number: i64,
    sealed: Vec<u8>,
    key_id: String,
}

impl SealedVersionRow {
    pub(crate) fn decode(self) -> Result<SealedRow, StoreError> {
        Ok(SealedRow {
            reference: SealedRef::Version {
                organization_id: OrganizationId::from_uuid(uuid_of(
                    &self.organization_id,
                    "credential_versions.organization_id",
                )?),
                credential_id: CredentialId::from_uuid(uuid_of(
                    &self.credential_id,
                    "credential_versions.credential_id",
                )?),
                number: self.number,
            },
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.sealed,
            },
        })
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

    /// As a row for a key rotation.
    pub(crate) fn into_sealed_row(self) -> SealedRow {
        SealedRow {
            reference: SealedRef::Meta(self.name),
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.value,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------

/// How many rows of one table one key protects: a row of
/// [`KEY_USAGE_SQL`](vault_core::columns::KEY_USAGE_SQL).
#[derive(QueryableByName)]
pub(crate) struct KeyCountRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

/// Folds [`KeyCountRow`]s into one [`KeyUsage`] per key id.
pub(crate) fn key_usage(rows: Vec<KeyCountRow>) -> Result<Vec<KeyUsage>, StoreError> {
    vault_core::columns::fold_key_usage(rows.into_iter().map(|r| (r.key_id, r.kind, r.count)))
}
