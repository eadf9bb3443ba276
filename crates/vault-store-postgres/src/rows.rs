//! Rows as stored, and their translation to and from domain values.
//!
//! Decoding checks everything the domain's constructors check (name rules, the JSON of
//! public fields and hints, the type tag agreeing with the public fields: the rules every
//! store shares, in `vault_core::columns`; here also the hash length and times within
//! range), so a row edited behind the vault's back surfaces as a [`StoreError::Backend`]
//! naming the column, never as a panic and never with the offending value in the message.

use std::io::Write as _;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::data_types::PgTimestamp;
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Json;
use time::OffsetDateTime;
use uuid::Uuid;
use vault_core::StoreError;
use vault_core::access_key::{AccessKey, KeyBinding, Organization, StoredAccessKey, TokenHash};
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::columns::{
    AccessKeyColumns, CredentialColumns, from_json, to_json, undecodable as bad, unencodable,
};
use vault_core::credential::{Credential, StoredCredential};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{AuditEvent, RequestLogEntry};
use vault_core::versions::{KeyUsage, SealedRef, SealedRow, SecretVersion, VersionInfo};

use crate::schema::{
    access_keys, audit_events, credential_versions, credentials, organizations, request_logs,
    vault_meta,
};

// ---------------------------------------------------------------------------------------
// Column types
// ---------------------------------------------------------------------------------------

/// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix microseconds.
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

/// A time as a `timestamptz`: microseconds since PostgreSQL's epoch, the column's own
/// precision (and the precision every store keeps, `vault_core::clock`), so what is read
/// back equals what was written. Converted here rather than by diesel's `time` feature so
/// that a value out of range (PostgreSQL's `infinity`, say) is an error naming the column.
pub(crate) fn pg_time(t: OffsetDateTime, column: &'static str) -> Result<PgTimestamp, StoreError> {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000))
        .ok()
        .and_then(|unix| unix.checked_sub(PG_EPOCH_UNIX_MICROS))
        .map(PgTimestamp)
        .ok_or_else(|| unencodable(column))
}

fn optional_pg_time(
    t: Option<OffsetDateTime>,
    column: &'static str,
) -> Result<Option<PgTimestamp>, StoreError> {
    t.map(|t| pg_time(t, column)).transpose()
}

fn time_of(t: PgTimestamp, column: &'static str) -> Result<OffsetDateTime, StoreError> {
    let unix =
        t.0.checked_add(PG_EPOCH_UNIX_MICROS)
            .ok_or_else(|| bad(column))?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix) * 1_000).map_err(|_| bad(column))
}

fn optional_time(
    t: Option<PgTimestamp>,
    column: &'static str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    t.map(|t| time_of(t, column)).transpose()
}

/// The text of a `json` column, exactly as written. PostgreSQL's binary format for `json`
/// is the text itself, so this is sent and received verbatim; decoding happens in the row
/// types, where an error can name the column.
#[derive(Debug, AsExpression, FromSqlRow)]
#[diesel(sql_type = Json)]
pub(crate) struct JsonText(Vec<u8>);

impl ToSql<Json, Pg> for JsonText {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(&self.0)?;
        Ok(IsNull::No)
    }
}

impl FromSql<Json, Pg> for JsonText {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(value.as_bytes().to_vec()))
    }
}

fn json<T: serde::Serialize>(value: &T, column: &'static str) -> Result<JsonText, StoreError> {
    to_json(value, column).map(|text| JsonText(text.into_bytes()))
}

// ---------------------------------------------------------------------------------------

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations, check_for_backend(Pg))]
pub(crate) struct OrganizationRow {
    id: Uuid,
    name: String,
    created_at: PgTimestamp,
}

impl OrganizationRow {
    pub(crate) fn encode(organization: &Organization) -> Result<Self, StoreError> {
        Ok(Self {
            id: *organization.id.as_uuid(),
            name: organization.name.clone(),
            created_at: pg_time(organization.created_at, "organizations.created_at")?,
        })
    }
}

// ---------------------------------------------------------------------------------------

/// Every column of a credential but the sealed secrets: what a list loads.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credentials, check_for_backend(Pg))]
pub(crate) struct CredentialSummaryRow {
    pub(crate) id: Uuid,
    pub(crate) organization_id: Uuid,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) credential_type: String,
    pub(crate) public_fields: JsonText,
    pub(crate) allowed_hosts: JsonText,
    pub(crate) secret_hints: JsonText,
    pub(crate) expires_at: Option<PgTimestamp>,
    pub(crate) created_at: PgTimestamp,
    pub(crate) updated_at: PgTimestamp,
    pub(crate) version: i64,
}

/// A whole credential row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credentials, check_for_backend(Pg))]
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
                id: *c.id.as_uuid(),
                organization_id: *c.organization_id.as_uuid(),
                name: c.name.as_str().to_owned(),
                description: c.description.as_ref().map(|d| d.as_str().to_owned()),
                credential_type: c.kind.credential_type().as_str().to_owned(),
                public_fields: json(&c.kind, "credentials.public_fields")?,
                allowed_hosts: json(&c.allowed_hosts, "credentials.allowed_hosts")?,
                secret_hints: json(&c.secret_hints, "credentials.secret_hints")?,
                expires_at: optional_pg_time(c.expires_at, "credentials.expires_at")?,
                created_at: pg_time(c.created_at, "credentials.created_at")?,
                updated_at: pg_time(c.updated_at, "credentials.updated_at")?,
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
            id: self.id,
            organization_id: self.organization_id,
            name: &self.name,
            description: self.description.as_deref(),
            credential_type: &self.credential_type,
            public_fields: &self.public_fields.0,
            allowed_hosts: &self.allowed_hosts.0,
            secret_hints: &self.secret_hints.0,
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
#[diesel(table_name = access_keys, check_for_backend(Pg))]
pub(crate) struct AccessKeySummaryRow {
    id: Uuid,
    organization_id: Uuid,
    name: String,
    scopes: JsonText,
    created_by: Option<Uuid>,
    created_at: PgTimestamp,
    expires_at: Option<PgTimestamp>,
    last_used_at: Option<PgTimestamp>,
    revoked_at: Option<PgTimestamp>,
}

/// A whole access-key row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = access_keys, check_for_backend(Pg))]
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
                id: *k.id.as_uuid(),
                organization_id: *k.organization_id.as_uuid(),
                name: k.name.as_str().to_owned(),
                scopes: json(&k.scopes, "access_keys.scopes")?,
                created_by: k.created_by.map(|id| *id.as_uuid()),
                created_at: pg_time(k.created_at, "access_keys.created_at")?,
                expires_at: optional_pg_time(k.expires_at, "access_keys.expires_at")?,
                last_used_at: optional_pg_time(k.last_used_at, "access_keys.last_used_at")?,
                revoked_at: optional_pg_time(k.revoked_at, "access_keys.revoked_at")?,
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
            id: self.id,
            organization_id: self.organization_id,
            name: &self.name,
            scopes: &self.scopes.0,
            created_by: self.created_by,
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
#[diesel(table_name = request_logs, check_for_backend(Pg))]
pub(crate) struct RequestLogRow {
    pub(crate) id: Uuid,
    pub(crate) organization_id: Uuid,
    pub(crate) credential_id: Uuid,
    pub(crate) credential_name: String,
    pub(crate) method: String,
    pub(crate) host: String,
    pub(crate) path: String,
    pub(crate) status: Option<i32>,
    pub(crate) error: Option<String>,
    pub(crate) latency_micros: i64,
    pub(crate) at: PgTimestamp,
    pub(crate) access_key_id: Option<Uuid>,
    pub(crate) actor_subject: Option<String>,
}

impl RequestLogRow {
    pub(crate) fn encode(entry: &RequestLogEntry) -> Result<Self, StoreError> {
        Ok(Self {
            id: entry.id,
            organization_id: *entry.organization_id.as_uuid(),
            credential_id: *entry.credential_id.as_uuid(),
            credential_name: entry.credential_name.clone(),
            method: entry.method.clone(),
            host: entry.host.clone(),
            path: entry.path.clone(),
            status: entry.status.map(i32::from),
            error: entry.error.clone(),
            latency_micros: entry.latency_micros,
            at: pg_time(entry.at, "request_logs.at")?,
            access_key_id: entry.access_key_id.map(|id| *id.as_uuid()),
            actor_subject: entry.actor_subject.clone(),
        })
    }

    pub(crate) fn decode(self) -> Result<RequestLogEntry, StoreError> {
        Ok(RequestLogEntry {
            id: self.id,
            organization_id: OrganizationId::from_uuid(self.organization_id),
            credential_id: CredentialId::from_uuid(self.credential_id),
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
            access_key_id: self.access_key_id.map(AccessKeyId::from_uuid),
            actor_subject: self.actor_subject,
        })
    }
}

/// An audit-event row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, check_for_backend(Pg))]
pub(crate) struct AuditEventRow {
    pub(crate) id: Uuid,
    pub(crate) organization_id: Option<Uuid>,
    pub(crate) actor: Option<Uuid>,
    pub(crate) action: String,
    pub(crate) target: Option<Uuid>,
    pub(crate) outcome: String,
    pub(crate) reason: Option<String>,
    pub(crate) at: PgTimestamp,
    pub(crate) actor_subject: Option<String>,
    pub(crate) occurrences: i64,
}

impl AuditEventRow {
    pub(crate) fn encode(event: &AuditEvent) -> Result<Self, StoreError> {
        Ok(Self {
            id: event.id,
            organization_id: event.organization_id.map(|id| *id.as_uuid()),
            actor: event.actor.map(|id| *id.as_uuid()),
            action: event.action.as_str().to_owned(),
            target: event.target,
            outcome: event.outcome.as_str().to_owned(),
            reason: event.reason.clone(),
            at: pg_time(event.at, "audit_events.at")?,
            actor_subject: event.actor_subject.clone(),
            occurrences: i64::from(event.count),
        })
    }

    pub(crate) fn decode(self) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            id: self.id,
            organization_id: self.organization_id.map(OrganizationId::from_uuid),
            actor: self.actor.map(AccessKeyId::from_uuid),
            action: self
                .action
                .parse()
                .map_err(|_| bad("audit_events.action"))?,
            target: self.target,
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
#[diesel(table_name = credential_versions, check_for_backend(Pg))]
pub(crate) struct VersionInfoRow {
    pub(crate) number: i64,
    pub(crate) secret_hints: JsonText,
    pub(crate) created_at: PgTimestamp,
    pub(crate) created_by: Option<Uuid>,
    pub(crate) restored_from: Option<i64>,
}

/// A whole version row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_versions, check_for_backend(Pg))]
pub(crate) struct VersionRow {
    pub(crate) credential_id: Uuid,
    pub(crate) organization_id: Uuid,
    #[diesel(embed)]
    pub(crate) info: VersionInfoRow,
    pub(crate) sealed: Vec<u8>,
    pub(crate) key_id: String,
}

impl VersionRow {
    pub(crate) fn encode(version: &SecretVersion) -> Result<Self, StoreError> {
        Ok(Self {
            credential_id: *version.credential_id.as_uuid(),
            organization_id: *version.organization_id.as_uuid(),
            info: VersionInfoRow {
                number: version.number,
                secret_hints: json(&version.secret_hints, "credential_versions.secret_hints")?,
                created_at: pg_time(version.created_at, "credential_versions.created_at")?,
                created_by: version.created_by.map(|id| *id.as_uuid()),
                restored_from: version.restored_from,
            },
            sealed: version.sealed.bytes.clone(),
            key_id: version.sealed.key_id.as_str().to_owned(),
        })
    }

    pub(crate) fn decode(self) -> Result<SecretVersion, StoreError> {
        let info = self.info.decode()?;
        Ok(SecretVersion {
            credential_id: CredentialId::from_uuid(self.credential_id),
            organization_id: OrganizationId::from_uuid(self.organization_id),
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
            secret_hints: from_json(&self.secret_hints.0, "credential_versions.secret_hints")?,
            created_at: time_of(self.created_at, "credential_versions.created_at")?,
            created_by: self.created_by.map(AccessKeyId::from_uuid),
            restored_from: self.restored_from,
        })
    }
}

/// A credential's ids and sealed value, as `sealed_batch` reads them.
#[derive(Queryable, Selectable)]
#[diesel(table_name = credentials, check_for_backend(Pg))]
pub(crate) struct SealedCredentialRow {
    organization_id: Uuid,
    id: Uuid,
    version: i64,
    sealed: Vec<u8>,
    key_id: String,
}

impl SealedCredentialRow {
    pub(crate) fn into_sealed_row(self) -> SealedRow {
        SealedRow {
            reference: SealedRef::Credential {
                organization_id: OrganizationId::from_uuid(self.organization_id),
                id: CredentialId::from_uuid(self.id),
                version: self.version,
            },
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.sealed,
            },
        }
    }
}

/// A version's ids and sealed value, as `sealed_batch` reads them.
#[derive(Queryable, Selectable)]
#[diesel(table_name = credential_versions, check_for_backend(Pg))]
pub(crate) struct SealedVersionRow {
    organization_id: Uuid,
    credential_id: Uuid,
    number: i64,
    sealed: Vec<u8>,
    key_id: String,
}

impl SealedVersionRow {
    pub(crate) fn into_sealed_row(self) -> SealedRow {
        SealedRow {
            reference: SealedRef::Version {
                organization_id: OrganizationId::from_uuid(self.organization_id),
                credential_id: CredentialId::from_uuid(self.credential_id),
                number: self.number,
            },
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.sealed,
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

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = vault_meta, check_for_backend(Pg))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_to_the_microsecond_and_out_of_range_names_the_column() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_764_115_200_123_456_000)
            .expect("a valid time");
        let stored = pg_time(t, "c").expect("in range");
        assert_eq!(time_of(stored, "c").expect("decodes"), t);
        let epoch = pg_time(
            OffsetDateTime::from_unix_timestamp(946_684_800).expect("a valid time"),
            "c",
        )
        .expect("in range");
        assert_eq!(epoch.0, 0, "PostgreSQL counts from 2000-01-01");
        // PostgreSQL's `infinity` is i64::MAX microseconds.
        let error = time_of(PgTimestamp(i64::MAX), "credentials.expires_at")
            .expect_err("infinity is no OffsetDateTime");
        assert!(
            format!("{error:?}").contains("credentials.expires_at"),
            "{error:?}"
        );
    }
}
