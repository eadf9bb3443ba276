//! An OAuth2 connection's row, what a write of it changes, and a connect flow's row.

use diesel::prelude::*;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::connections::{ConnectState, Connection, ConnectionStatus, Lease, StateHash};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::store::StoreError;

use super::optional_id;
use crate::columns::{undecodable as bad, unencodable};
use crate::schema::{oauth_connect_states, oauth_connections};
use crate::types::{DbId, DbTime};

/// A whole connection row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_connections)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ConnectionRow {
    /// `oauth_connections.credential_id`.
    pub credential_id: DbId,
    /// `oauth_connections.organization_id`.
    pub organization_id: DbId,
    status: String,
    generation: i64,
    sealed: Option<Vec<u8>>,
    key_id: Option<String>,
    access_expires_at: Option<DbTime>,
    lease_holder: Option<DbId>,
    lease_until: Option<DbTime>,
    reason: Option<String>,
    connected_at: DbTime,
    updated_at: DbTime,
}

/// What a write of a connection over an existing row sets: every column but the
/// credential and the organization, which never change. `None` writes NULL (a lease
/// released, tokens refused).
#[derive(AsChangeset)]
#[diesel(table_name = oauth_connections, treat_none_as_null = true)]
pub struct ConnectionUpdate {
    status: String,
    generation: i64,
    sealed: Option<Vec<u8>>,
    key_id: Option<String>,
    access_expires_at: Option<DbTime>,
    lease_holder: Option<DbId>,
    lease_until: Option<DbTime>,
    reason: Option<String>,
    connected_at: DbTime,
    updated_at: DbTime,
}

impl ConnectionRow {
    /// The row of `connection`.
    ///
    /// # Errors
    /// A value that cannot be stored: a time out of range, or a pending connection (which
    /// is the absence of a row, never one).
    pub fn encode(connection: &Connection) -> Result<Self, StoreError> {
        if connection.status == ConnectionStatus::Pending {
            return Err(unencodable("oauth_connections.status"));
        }
        Ok(Self {
            credential_id: connection.credential_id.into(),
            organization_id: connection.organization_id.into(),
            status: connection.status.as_str().to_owned(),
            generation: connection.generation,
            sealed: connection.sealed.as_ref().map(|s| s.bytes.clone()),
            key_id: connection
                .sealed
                .as_ref()
                .map(|s| s.key_id.as_str().to_owned()),
            access_expires_at: DbTime::encode_optional(
                connection.access_expires_at,
                "oauth_connections.access_expires_at",
            )?,
            lease_holder: connection.lease.map(|l| DbId::from(l.holder)),
            lease_until: DbTime::encode_optional(
                connection.lease.map(|l| l.until),
                "oauth_connections.lease_until",
            )?,
            reason: connection.reason.clone(),
            connected_at: DbTime::encode(
                connection.connected_at,
                "oauth_connections.connected_at",
            )?,
            updated_at: DbTime::encode(connection.updated_at, "oauth_connections.updated_at")?,
        })
    }

    /// The columns an update over the stored row writes.
    #[must_use]
    pub fn into_update(self) -> ConnectionUpdate {
        ConnectionUpdate {
            status: self.status,
            generation: self.generation,
            sealed: self.sealed,
            key_id: self.key_id,
            access_expires_at: self.access_expires_at,
            lease_holder: self.lease_holder,
            lease_until: self.lease_until,
            reason: self.reason,
            connected_at: self.connected_at,
            updated_at: self.updated_at,
        }
    }

    /// The connection.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`](crate::columns::ColumnError) naming
    /// the first bad column (a sealed value without its key id, or a lease holder without
    /// its end, included).
    pub fn decode(self) -> Result<Connection, StoreError> {
        let status = ConnectionStatus::parse(&self.status)
            .filter(|s| *s != ConnectionStatus::Pending)
            .ok_or_else(|| bad("oauth_connections.status"))?;
        let sealed = match (self.sealed, self.key_id) {
            (Some(bytes), Some(key_id)) => Some(SealedBlob {
                key_id: KeyId::new(key_id),
                bytes,
            }),
            (None, None) => None,
            _ => return Err(bad("oauth_connections.key_id")),
        };
        let lease = match (self.lease_holder, self.lease_until) {
            (Some(holder), Some(until)) => Some(Lease {
                holder: holder.decode("oauth_connections.lease_holder")?,
                until: until.decode("oauth_connections.lease_until")?,
            }),
            (None, None) => None,
            _ => return Err(bad("oauth_connections.lease_until")),
        };
        Ok(Connection {
            organization_id: OrganizationId::from_uuid(
                self.organization_id
                    .decode("oauth_connections.organization_id")?,
            ),
            credential_id: CredentialId::from_uuid(
                self.credential_id
                    .decode("oauth_connections.credential_id")?,
            ),
            status,
            generation: self.generation,
            sealed,
            access_expires_at: DbTime::decode_optional(
                self.access_expires_at,
                "oauth_connections.access_expires_at",
            )?,
            lease,
            reason: self.reason,
            connected_at: self.connected_at.decode("oauth_connections.connected_at")?,
            updated_at: self.updated_at.decode("oauth_connections.updated_at")?,
        })
    }
}

/// A connect flow in progress.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_connect_states)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ConnectStateRow {
    /// `oauth_connect_states.state_hash`.
    pub state_hash: Vec<u8>,
    organization_id: DbId,
    credential_id: DbId,
    access_key_id: Option<DbId>,
    subject: Option<String>,
    redirect_uri: String,
    expires_at: DbTime,
}

impl ConnectStateRow {
    /// The row of `state`.
    ///
    /// # Errors
    /// A value that cannot be stored (a time out of range).
    pub fn encode(state: &ConnectState) -> Result<Self, StoreError> {
        Ok(Self {
            state_hash: state.hash.0.to_vec(),
            organization_id: state.organization_id.into(),
            credential_id: state.credential_id.into(),
            access_key_id: state.access_key_id.map(DbId::from),
            subject: state.subject.clone(),
            redirect_uri: state.redirect_uri.clone(),
            expires_at: DbTime::encode(state.expires_at, "oauth_connect_states.expires_at")?,
        })
    }

    /// The connect state.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`](crate::columns::ColumnError) naming
    /// the first bad column.
    pub fn decode(self) -> Result<ConnectState, StoreError> {
        let hash = <[u8; 32]>::try_from(self.state_hash.as_slice())
            .map_err(|_| bad("oauth_connect_states.state_hash"))?;
        Ok(ConnectState {
            hash: StateHash(hash),
            organization_id: OrganizationId::from_uuid(
                self.organization_id
                    .decode("oauth_connect_states.organization_id")?,
            ),
            credential_id: CredentialId::from_uuid(
                self.credential_id
                    .decode("oauth_connect_states.credential_id")?,
            ),
            access_key_id: optional_id(
                self.access_key_id,
                "oauth_connect_states.access_key_id",
                AccessKeyId::from_uuid,
            )?,
            subject: self.subject,
            redirect_uri: self.redirect_uri,
            expires_at: self.expires_at.decode("oauth_connect_states.expires_at")?,
        })
    }
}
