//! The rows of the request log and the audit log.

use diesel::prelude::*;
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{AuditEvent, RequestLogEntry};
use vault_core::store::StoreError;

use super::optional_id;
use crate::columns::undecodable as bad;
use crate::schema::{audit_events, request_logs};
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
            via: self.via,
        })
    }
}
