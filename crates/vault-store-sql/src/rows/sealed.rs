//! What a key rotation reads: sealed rows with their ids, and sealed-row counts per key.

use diesel::prelude::*;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::ids::{CredentialId, OrganizationId, WebhookId};
use vault_core::store::StoreError;
use vault_core::versions::{KeyUsage, SealedRef, SealedRow};

use crate::columns::{fold_key_usage, undecodable};
use crate::schema::{credential_versions, credentials, oauth_connections, webhooks};
use crate::types::DbId;

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

/// A connection's ids and sealed tokens, as `sealed_batch` reads them (only rows that
/// hold tokens).
#[derive(Queryable, Selectable)]
#[diesel(table_name = oauth_connections)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SealedConnectionRow {
    organization_id: DbId,
    credential_id: DbId,
    generation: i64,
    sealed: Option<Vec<u8>>,
    key_id: Option<String>,
}

impl SealedConnectionRow {
    /// As a row for a key rotation.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming an id column that does not decode, or the sealed
    /// value of a row read without one.
    pub fn decode(self) -> Result<SealedRow, StoreError> {
        let (Some(bytes), Some(key_id)) = (self.sealed, self.key_id) else {
            return Err(undecodable("oauth_connections.sealed"));
        };
        Ok(SealedRow {
            reference: SealedRef::Connection {
                organization_id: OrganizationId::from_uuid(
                    self.organization_id
                        .decode("oauth_connections.organization_id")?,
                ),
                credential_id: CredentialId::from_uuid(
                    self.credential_id
                        .decode("oauth_connections.credential_id")?,
                ),
                generation: self.generation,
            },
            sealed: SealedBlob {
                key_id: KeyId::new(key_id),
                bytes,
            },
        })
    }
}

/// A subscription's ids and sealed signing secret, as `sealed_batch` reads them.
#[derive(Queryable, Selectable)]
#[diesel(table_name = webhooks)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SealedWebhookRow {
    organization_id: DbId,
    id: DbId,
    sealed: Vec<u8>,
    key_id: String,
}

impl SealedWebhookRow {
    /// As a row for a key rotation.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming an id column that does not decode.
    pub fn decode(self) -> Result<SealedRow, StoreError> {
        Ok(SealedRow {
            reference: SealedRef::Webhook {
                organization_id: OrganizationId::from_uuid(
                    self.organization_id.decode("webhooks.organization_id")?,
                ),
                id: WebhookId::from_uuid(self.id.decode("webhooks.id")?),
            },
            sealed: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.sealed,
            },
        })
    }
}

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
