//! What every store adapter does when it turns stored columns back into domain values:
//! the JSON columns, the cross-check of type against public fields, the re-validation of
//! names, and errors that name the column and never quote its value. Each adapter only
//! converts its own column types (bytes or `uuid`, micros or `timestamptz`) before calling
//! in here, so every store applies exactly the same rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::access_key::{AccessKey, AccessKeyName, Scope};
use crate::cipher::KeyId;
use crate::credential::{Credential, CredentialKind, CredentialName, CredentialType, Description};
use crate::ids::{AccessKeyId, CredentialId, OrganizationId};
use crate::store::StoreError;
use crate::versions::KeyUsage;

/// A column whose stored value could not become a domain value (or the reverse). Carries
/// only names: a stored value may be secret-adjacent, and never belongs in a log.
#[derive(Debug)]
pub struct ColumnError {
    /// `table.column`.
    pub column: &'static str,
    /// What is wrong, in fixed words.
    pub problem: &'static str,
}

impl fmt::Display for ColumnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.problem)
    }
}

impl std::error::Error for ColumnError {}

/// A stored value that does not decode.
#[must_use]
pub fn undecodable(column: &'static str) -> StoreError {
    StoreError::Backend(Box::new(ColumnError {
        column,
        problem: "the stored value does not decode",
    }))
}

/// A domain value that cannot be stored.
#[must_use]
pub fn unencodable(column: &'static str) -> StoreError {
    StoreError::Backend(Box::new(ColumnError {
        column,
        problem: "the value cannot be stored",
    }))
}

/// A value as the text of a JSON column.
///
/// # Errors
/// When the value does not serialize (it always does for the domain's types).
pub fn to_json<T: serde::Serialize>(value: &T, column: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| unencodable(column))
}

/// The value of a JSON column.
///
/// # Errors
/// When the text is not JSON of that shape. The serde error is dropped on purpose: its
/// message can quote the stored text.
pub fn from_json<T: serde::de::DeserializeOwned>(
    text: &[u8],
    column: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_slice(text).map_err(|_| undecodable(column))
}

/// A credential's public columns, already converted from the store's own column types.
#[derive(Debug)]
pub struct CredentialColumns<'a> {
    /// `credentials.id`.
    pub id: Uuid,
    /// `credentials.organization_id`.
    pub organization_id: Uuid,
    /// `credentials.name`.
    pub name: &'a str,
    /// `credentials.description`.
    pub description: Option<&'a str>,
    /// `credentials.credential_type`.
    pub credential_type: &'a str,
    /// `credentials.public_fields`, JSON text.
    pub public_fields: &'a [u8],
    /// `credentials.allowed_hosts`, JSON text (an array of entries).
    pub allowed_hosts: &'a [u8],
    /// `credentials.secret_hints`, JSON text.
    pub secret_hints: &'a [u8],
    /// `credentials.expires_at`.
    pub expires_at: Option<OffsetDateTime>,
    /// `credentials.created_at`.
    pub created_at: OffsetDateTime,
    /// `credentials.updated_at`.
    pub updated_at: OffsetDateTime,
    /// `credentials.version`.
    pub version: i64,
}

impl CredentialColumns<'_> {
    /// Rebuilds the credential, checking that the columns agree with each other and with
    /// the domain's rules.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<Credential, StoreError> {
        let credential_type: CredentialType = self
            .credential_type
            .parse()
            .map_err(|_| undecodable("credentials.credential_type"))?;
        let kind: CredentialKind = from_json(self.public_fields, "credentials.public_fields")?;
        if kind.credential_type() != credential_type {
            return Err(StoreError::Backend(Box::new(ColumnError {
                column: "credentials.public_fields",
                problem: "the public fields are of another type than credentials.credential_type",
            })));
        }
        let secret_hints: BTreeMap<String, String> =
            from_json(self.secret_hints, "credentials.secret_hints")?;
        Ok(Credential {
            id: CredentialId::from_uuid(self.id),
            organization_id: OrganizationId::from_uuid(self.organization_id),
            name: CredentialName::parse(self.name).map_err(|_| undecodable("credentials.name"))?,
            description: self
                .description
                .map(Description::parse)
                .transpose()
                .map_err(|_| undecodable("credentials.description"))?,
            kind,
            allowed_hosts: from_json(self.allowed_hosts, "credentials.allowed_hosts")?,
            secret_hints,
            expires_at: self.expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

/// An access key's columns (but its hash), already converted from the store's types.
#[derive(Debug)]
pub struct AccessKeyColumns<'a> {
    /// `access_keys.id`.
    pub id: Uuid,
    /// `access_keys.organization_id`.
    pub organization_id: Uuid,
    /// `access_keys.name`.
    pub name: &'a str,
    /// `access_keys.scopes`, JSON text.
    pub scopes: &'a [u8],
    /// `access_keys.created_by`.
    pub created_by: Option<Uuid>,
    /// `access_keys.created_at`.
    pub created_at: OffsetDateTime,
    /// `access_keys.expires_at`.
    pub expires_at: Option<OffsetDateTime>,
    /// `access_keys.last_used_at`.
    pub last_used_at: Option<OffsetDateTime>,
    /// `access_keys.revoked_at`.
    pub revoked_at: Option<OffsetDateTime>,
}

impl AccessKeyColumns<'_> {
    /// Rebuilds the access key.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<AccessKey, StoreError> {
        let scopes: BTreeSet<Scope> = from_json(self.scopes, "access_keys.scopes")?;
        Ok(AccessKey {
            id: AccessKeyId::from_uuid(self.id),
            organization_id: OrganizationId::from_uuid(self.organization_id),
            name: AccessKeyName::parse(self.name).map_err(|_| undecodable("access_keys.name"))?,
            scopes,
            created_by: self.created_by.map(AccessKeyId::from_uuid),
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }
}

/// Sealed rows per key id and table, in one statement (so one snapshot): three GROUP BYs
/// over the `key_id` columns (index-only where the table has a `key_id` index), never a
/// blob. Plain SQL that SQLite and PostgreSQL both run; each row is (key id, kind, count).
pub const KEY_USAGE_SQL: &str = "\
    SELECT key_id, 'meta' AS kind, count(*) AS count FROM vault_meta GROUP BY key_id \
    UNION ALL \
    SELECT key_id, 'credentials' AS kind, count(*) AS count FROM credentials GROUP BY key_id \
    UNION ALL \
    SELECT key_id, 'versions' AS kind, count(*) AS count FROM credential_versions \
    GROUP BY key_id";

/// Folds the rows of [`KEY_USAGE_SQL`] (key id, kind, count) into one [`KeyUsage`] per key
/// id, in key id order.
///
/// # Errors
/// A kind the statement does not produce.
pub fn fold_key_usage(
    rows: impl IntoIterator<Item = (String, String, i64)>,
) -> Result<Vec<KeyUsage>, StoreError> {
    let mut by_key: BTreeMap<String, KeyUsage> = BTreeMap::new();
    for (key_id, kind, count) in rows {
        // COUNT(*) is never negative.
        let count = u64::try_from(count).unwrap_or_default();
        let usage = by_key
            .entry(key_id)
            .or_insert_with_key(|key_id| KeyUsage::none(KeyId::new(key_id.clone())));
        match kind.as_str() {
            "meta" => usage.meta += count,
            "credentials" => usage.credentials += count,
            "versions" => usage.versions += count,
            _ => return Err(undecodable("key usage kind")),
        }
    }
    Ok(by_key.into_values().collect())
}

/// [`fold_key_usage`] of the credential rows' and the version rows' counts per key id,
/// when a store reads them apart (a key rotation's own count).
///
/// # Errors
/// None in practice: both kinds are known.
pub fn fold_row_key_usage(
    credentials: impl IntoIterator<Item = (String, i64)>,
    versions: impl IntoIterator<Item = (String, i64)>,
) -> Result<Vec<KeyUsage>, StoreError> {
    let tagged = |kind: &'static str| move |(key, count)| (key, kind.to_owned(), count);
    fold_key_usage(
        credentials
            .into_iter()
            .map(tagged("credentials"))
            .chain(versions.into_iter().map(tagged("versions"))),
    )
}
