//! The rows of the request log and the audit log.

use diesel::prelude::*;
use vault_core::audit_chain::{
    AuditChain, ChainHash, ChainHead, ChainLink, Checkpoint, CheckpointKind,
};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{AuditEvent, RequestLogEntry};
use vault_core::store::StoreError;

use super::optional_id;
use crate::columns::undecodable as bad;
use crate::schema::{audit_chain_heads, audit_checkpoints, audit_events, request_logs};
use crate::types::{DbId, DbTime};

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
    /// `request_logs.via`.
    pub via: Option<String>,
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
            via: entry.via.clone(),
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
            via: self.via,
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
    /// `audit_events.via`.
    pub via: Option<String>,
    /// `audit_events.digest`: the SHA-256 of the event's canonical form, made as the row
    /// is encoded.
    pub digest: Option<Vec<u8>>,
    /// `audit_events.chain_seq`, set as the row is written (by the store, or on
    /// PostgreSQL by the database), never by the caller.
    pub chain_seq: Option<i64>,
    /// `audit_events.previous_hash`, set with `chain_seq`.
    pub previous_hash: Option<Vec<u8>>,
    /// `audit_events.chain_hash`, set with `chain_seq`.
    pub chain_hash: Option<Vec<u8>>,
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
            via: event.via.clone(),
            digest: Some(vault_audit::digest(event).to_vec()),
            chain_seq: None,
            previous_hash: None,
            chain_hash: None,
        })
    }

    /// The chain key of the row's chain: its organization, or nil for the installation.
    #[must_use]
    pub fn chain_key(&self) -> DbId {
        self.organization_id
            .unwrap_or_else(|| DbId::from(uuid::Uuid::nil()))
    }

    /// Links the row after `head` (its chain's last number and hash; `None` for an empty
    /// chain), for a store that chains as it writes; the head after it.
    ///
    /// # Errors
    /// A row that cannot be decoded.
    pub fn link_after(&mut self, head: Option<(u64, ChainHash)>) -> Result<ChainLink, StoreError> {
        let event = self.decode_content()?;
        let link = vault_audit::next_link(head, &event);
        self.chain_seq = Some(i64::try_from(link.seq).map_err(|_| bad("audit_events.chain_seq"))?);
        self.previous_hash = Some(link.previous.to_vec());
        self.chain_hash = Some(link.hash.to_vec());
        Ok(link)
    }

    /// The event.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`] naming the first bad column.
    pub fn decode(self) -> Result<AuditEvent, StoreError> {
        let chain = self.link()?;
        Ok(AuditEvent {
            chain,
            ..self.decode_content()?
        })
    }

    /// The row's link, when it has one. A hash of the wrong length (a row edited behind
    /// the vault's back) reads as all zeros, which no verification accepts, so the break is
    /// reported where it is rather than as an unreadable row.
    fn link(&self) -> Result<Option<ChainLink>, StoreError> {
        let Some(seq) = self.chain_seq else {
            return Ok(None);
        };
        let hash = |bytes: &Option<Vec<u8>>| -> ChainHash {
            bytes
                .as_deref()
                .and_then(|b| <ChainHash>::try_from(b).ok())
                .unwrap_or([0; 32])
        };
        Ok(Some(ChainLink {
            seq: u64::try_from(seq).map_err(|_| bad("audit_events.chain_seq"))?,
            digest: hash(&self.digest),
            previous: hash(&self.previous_hash),
            hash: hash(&self.chain_hash),
        }))
    }

    /// The event without its link.
    fn decode_content(&self) -> Result<AuditEvent, StoreError> {
        let this = self;
        Ok(AuditEvent {
            id: this.id.decode("audit_events.id")?,
            organization_id: optional_id(
                this.organization_id,
                "audit_events.organization_id",
                OrganizationId::from_uuid,
            )?,
            actor: optional_id(this.actor, "audit_events.actor", AccessKeyId::from_uuid)?,
            action: this
                .action
                .parse()
                .map_err(|_| bad("audit_events.action"))?,
            target: optional_id(this.target, "audit_events.target", |id| id)?,
            outcome: this
                .outcome
                .parse()
                .map_err(|_| bad("audit_events.outcome"))?,
            reason: this.reason.clone(),
            at: this.at.decode("audit_events.at")?,
            count: u32::try_from(this.occurrences).map_err(|_| bad("audit_events.occurrences"))?,
            actor_subject: this.actor_subject.clone(),
            via: this.via.clone(),
            chain: None,
        })
    }
}

/// A chain's head record.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_chain_heads)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ChainHeadRow {
    /// `audit_chain_heads.chain_key`.
    pub chain_key: DbId,
    /// `audit_chain_heads.seq`.
    pub seq: i64,
    /// `audit_chain_heads.hash`.
    pub hash: Vec<u8>,
    /// `audit_chain_heads.previous_hash`.
    pub previous_hash: Vec<u8>,
}

impl ChainHeadRow {
    /// The head.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming the first bad column.
    pub fn decode(self) -> Result<ChainHead, StoreError> {
        Ok(ChainHead {
            chain: AuditChain::from_key(self.chain_key.decode("audit_chain_heads.chain_key")?),
            seq: u64::try_from(self.seq).map_err(|_| bad("audit_chain_heads.seq"))?,
            hash: self
                .hash
                .as_slice()
                .try_into()
                .map_err(|_| bad("audit_chain_heads.hash"))?,
        })
    }
}

/// A signed checkpoint.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_checkpoints)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CheckpointRow {
    /// `audit_checkpoints.chain_key`.
    pub chain_key: DbId,
    /// `audit_checkpoints.seq`.
    pub seq: i64,
    /// `audit_checkpoints.hash`.
    pub hash: Vec<u8>,
    /// `audit_checkpoints.at`.
    pub at: DbTime,
    /// `audit_checkpoints.kind`.
    pub kind: String,
    /// `audit_checkpoints.key_id`.
    pub key_id: String,
    /// `audit_checkpoints.signature`.
    pub signature: Vec<u8>,
}

impl CheckpointRow {
    /// The row of `checkpoint`.
    ///
    /// # Errors
    /// A number or time out of range.
    pub fn encode(checkpoint: &Checkpoint) -> Result<Self, StoreError> {
        Ok(Self {
            chain_key: DbId::from(checkpoint.chain.key()),
            seq: i64::try_from(checkpoint.seq)
                .map_err(|_| crate::columns::unencodable("audit_checkpoints.seq"))?,
            hash: checkpoint.hash.to_vec(),
            at: DbTime::encode(checkpoint.at, "audit_checkpoints.at")?,
            kind: checkpoint.kind.as_str().to_owned(),
            key_id: checkpoint.key_id.clone(),
            signature: checkpoint.signature.clone(),
        })
    }

    /// The checkpoint.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming the first bad column.
    pub fn decode(self) -> Result<Checkpoint, StoreError> {
        Ok(Checkpoint {
            chain: AuditChain::from_key(self.chain_key.decode("audit_checkpoints.chain_key")?),
            seq: u64::try_from(self.seq).map_err(|_| bad("audit_checkpoints.seq"))?,
            hash: self
                .hash
                .as_slice()
                .try_into()
                .map_err(|_| bad("audit_checkpoints.hash"))?,
            at: self.at.decode("audit_checkpoints.at")?,
            kind: CheckpointKind::parse(&self.kind).ok_or_else(|| bad("audit_checkpoints.kind"))?,
            key_id: self.key_id,
            signature: self.signature,
        })
    }
}

/// A row of [`SqlStore::CREDENTIAL_USAGE_SQL`](crate::ports::SqlStore::CREDENTIAL_USAGE_SQL):
/// one hour's uses of one status class.
#[derive(Debug, QueryableByName)]
pub struct UsageRow {
    /// Hours since the Unix epoch.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    hour: i64,
    /// The status divided by 100; 0 for no answer.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    class: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    uses: i64,
}

impl UsageRow {
    /// The bucket it counts.
    ///
    /// # Errors
    /// An hour or class out of range.
    pub fn decode(self) -> Result<vault_core::logs::UsageBucket, StoreError> {
        let hour = self
            .hour
            .checked_mul(3600)
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or_else(|| bad("request_logs.at"))?;
        Ok(vault_core::logs::UsageBucket {
            hour,
            status_class: u8::try_from(self.class).map_err(|_| bad("request_logs.status"))?,
            count: u64::try_from(self.uses).unwrap_or(0),
        })
    }
}
