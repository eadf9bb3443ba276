//! Rows as stored, and their translation to and from domain values.
//!
//! Decoding checks everything the domain's constructors check (UUIDs, name rules, the JSON
//! of public fields and hints, the type tag agreeing with the public fields, hash lengths,
//! times within range), so a row edited behind the vault's back surfaces as a
//! [`StoreError::Backend`] naming the column, never as a panic and never with the
//! offending value in the message.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use vault_core::access_key::{
    AccessKey, AccessKeyName, KeyBinding, Organization, Scope, StoredAccessKey, TokenHash,
};
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::credential::{
    Credential, CredentialKind, CredentialName, CredentialType, Description, StoredCredential,
};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{AuditEvent, RequestLogEntry};
use vault_core::store::StoreError;
use vault_core::versions::{KeyUsage, SealedRef, SealedRow, SecretVersion, VersionInfo};

use crate::columns::{ColumnError, fold_key_usage, undecodable as bad};
use crate::schema::{
    access_keys, audit_events, credential_versions, credentials, organizations, request_logs,
    vault_meta,
};
use crate::types::{DbId, DbJson, DbTime};

/// `Debug` of rows that shows their type only: a row holds sealed bytes or a key's hash,
/// which have no place in a log.
macro_rules! debug_by_name {
    ($($row:ident),+ $(,)?) => {
        $(
            impl std::fmt::Debug for $row {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct(stringify!($row)).finish_non_exhaustive()
                }
            }
        )+
    };
}

debug_by_name!(
    OrganizationRow,
    CredentialSummaryRow,
    CredentialRow,
    CredentialUpdate,
    AccessKeySummaryRow,
    AccessKeyRow,
    RequestLogRow,
    AuditEventRow,
    VersionInfoRow,
    VersionRow,
    SealedCredentialRow,
    SealedVersionRow,
    MetaRow,
    KeyCountRow,
);

/// An id that may be absent, as a domain id.
fn optional_id<T>(
    id: Option<DbId>,
    column: &'static str,
    make: impl FnOnce(uuid::Uuid) -> T,
) -> Result<Option<T>, StoreError> {
    id.map(|id| id.decode(column).map(make)).transpose()
}

// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------

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
    /// `credentials.public_fields`.
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
                public_fields: DbJson::encode(&c.kind, "credentials.public_fields")?,
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
        let kind: CredentialKind = self.public_fields.decode("credentials.public_fields")?;
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
            secret_hints,
            expires_at: DbTime::decode_optional(self.expires_at, "credentials.expires_at")?,
            created_at: self.created_at.decode("credentials.created_at")?,
            updated_at: self.updated_at.decode("credentials.updated_at")?,
            version: self.version,
        })
    }
}

// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------

/// A request-log row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = request_logs)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct RequestLogRow {
    /// `request_logs.id`.
    pub id: DbId,
    /// `request_logs.organization_id`.
    pub organization_id: DbId,
    /// `request_logs.credential_id`.
    pub credential_id: DbId,
    /// `request_logs.credential_name`.
    pub credential_name: String,
    /// `request_logs.method`.
    pub method: String,
    /// `request_logs.host`.
    pub host: String,
    /// `request_logs.path`.
    pub path: String,
    /// `request_logs.status`.
    pub status: Option<i32>,
    /// `request_logs.error`.
    pub error: Option<String>,
    /// `request_logs.latency_micros`.
    pub latency_micros: i64,
    /// `request_logs.at`.
    pub at: DbTime,
    /// `request_logs.access_key_id`.
    pub access_key_id: Option<DbId>,
    /// `request_logs.actor_subject`.
    pub actor_subject: Option<String>,
}

impl RequestLogRow {
    /// The row of `entry`.
    ///
    /// # Errors
    /// A time out of range.
    pub fn encode(entry: &RequestLogEntry) -> Result<Self, StoreError> {
        Ok(Self {
            id: entry.id.into(),
            organization_id: entry.organization_id.into(),
            credential_id: entry.credential_id.into(),
            credential_name: entry.credential_name.clone(),
            method: entry.method.clone(),
            host: entry.host.clone(),
            path: entry.path.clone(),
            status: entry.status.map(i32::from),
            error: entry.error.clone(),
            latency_micros: entry.latency_micros,
            at: DbTime::encode(entry.at, "request_logs.at")?,
            access_key_id: entry.access_key_id.map(DbId::from),
            actor_subject: entry.actor_subject.clone(),
        })
    }

    /// The entry.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<RequestLogEntry, StoreError> {
        Ok(RequestLogEntry {
            id: self.id.decode("request_logs.id")?,
            organization_id: OrganizationId::from_uuid(
                self.organization_id
                    .decode("request_logs.organization_id")?,
            ),
            credential_id: CredentialId::from_uuid(
                self.credential_id.decode("request_logs.credential_id")?,
            ),
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
            at: self.at.decode("request_logs.at")?,
            access_key_id: optional_id(
                self.access_key_id,
                "request_logs.access_key_id",
                AccessKeyId::from_uuid,
            )?,
            actor_subject: self.actor_subject,
        })
    }
}

/// An audit-event row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AuditEventRow {
    /// `audit_events.id`.
    pub id: DbId,
    /// `audit_events.organization_id`.
    pub organization_id: Option<DbId>,
    /// `audit_events.actor`.
    pub actor: Option<DbId>,
    /// `audit_events.action`.
    pub action: String,
    /// `audit_events.target`.
    pub target: Option<DbId>,
    /// `audit_events.outcome`.
    pub outcome: String,
    /// `audit_events.reason`.
    pub reason: Option<String>,
    /// `audit_events.at`.
    pub at: DbTime,
    /// `audit_events.actor_subject`.
    pub actor_subject: Option<String>,
    /// `audit_events.occurrences`.
    pub occurrences: i64,
}

impl AuditEventRow {
    /// The row of `event`.
    ///
    /// # Errors
    /// A time out of range.
    pub fn encode(event: &AuditEvent) -> Result<Self, StoreError> {
        Ok(Self {
            id: event.id.into(),
            organization_id: event.organization_id.map(DbId::from),
            actor: event.actor.map(DbId::from),
            action: event.action.as_str().to_owned(),
            target: event.target.map(DbId::from),
            outcome: event.outcome.as_str().to_owned(),
            reason: event.reason.clone(),
            at: DbTime::encode(event.at, "audit_events.at")?,
            actor_subject: event.actor_subject.clone(),
            occurrences: i64::from(event.count),
        })
    }

    /// The event.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            id: self.id.decode("audit_events.id")?,
            organization_id: optional_id(
                self.organization_id,
                "audit_events.organization_id",
                OrganizationId::from_uuid,
            )?,
            actor: optional_id(self.actor, "audit_events.actor", AccessKeyId::from_uuid)?,
            action: self
                .action
                .parse()
                .map_err(|_| bad("audit_events.action"))?,
            target: optional_id(self.target, "audit_events.target", |id| id)?,
            outcome: self
                .outcome
                .parse()
                .map_err(|_| bad("audit_events.outcome"))?,
            reason: self.reason,
            at: self.at.decode("audit_events.at")?,
            count: u32::try_from(self.occurrences).map_err(|_| bad("audit_events.occurrences"))?,
            actor_subject: self.actor_subject,
        })
    }
}

// ---------------------------------------------------------------------------------------

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

/// A credential's ids and sealed value, as `sealed_batch` reads them.
#[derive(Queryable, Selectable)]
#[diesel(table_name = credentials)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SealedCredentialRow {
    organization_id: DbId,
    id: DbId,
    version: i64,
    sealed: Vec<u8>,
    key_id: String,
}

impl SealedCredentialRow {
    /// As a row for a key rotation.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming an id column that does not decode.
    pub fn decode(self) -> Result<SealedRow, StoreError> {
        Ok(SealedRow {
            reference: SealedRef::Credential {
                organization_id: OrganizationId::from_uuid(
                    self.organization_id.decode("credentials.organization_id")?,
                ),
                id: CredentialId::from_uuid(self.id.decode("credentials.id")?),
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
#[diesel(table_name = credential_versions)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SealedVersionRow {
    organization_id: DbId,
    credential_id: DbId,
    number: i64,
    sealed: Vec<u8>,
    key_id: String,
}

impl SealedVersionRow {
    /// As a row for a key rotation.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming an id column that does not decode.
    pub fn decode(self) -> Result<SealedRow, StoreError> {
        Ok(SealedRow {
            reference: SealedRef::Version {
                organization_id: OrganizationId::from_uuid(
                    self.organization_id
                        .decode("credential_versions.organization_id")?,
                ),
                credential_id: CredentialId::from_uuid(
                    self.credential_id
                        .decode("credential_versions.credential_id")?,
                ),
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

// ---------------------------------------------------------------------------------------

/// How many rows of one table one key protects: a row of
/// [`KEY_USAGE_SQL`](crate::statements::KEY_USAGE_SQL).
#[derive(QueryableByName)]
pub struct KeyCountRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

impl KeyCountRow {
    /// Folds rows into one [`KeyUsage`] per key id.
    ///
    /// # Errors
    /// A kind the statement does not produce.
    pub fn fold(rows: Vec<Self>) -> Result<Vec<KeyUsage>, StoreError> {
        fold_key_usage(rows.into_iter().map(|r| (r.key_id, r.kind, r.count)))
    }
}
