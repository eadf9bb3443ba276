//! The audit and request logs: appends queue for the store's writer (writers.rs), which
//! inserts a group's entries in the group's transaction;
//! lists read on the read-only connections; retention deletes in short batches.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use time::OffsetDateTime;
use vault_core::ids::OrganizationId;
use vault_core::logs::{
    AuditEvent, AuditQuery, LogRecord, RequestLogEntry, RequestLogQuery, id_floor,
};
use vault_core::store::{LogKind, LogStore, StoreError};

use vault_store_sql::error::from_diesel;
use vault_store_sql::rows::{AuditEventRow, RequestLogRow};
use vault_store_sql::schema::{audit_events, request_logs};
use vault_store_sql::types::{DbId, DbTime, Id, Instant};

use crate::SqliteStore;
use crate::prepared::Prepared;
use crate::writers::append_on;

/// An entry of either log, encoded, waiting for the writer.
pub(crate) enum LogRow {
    Audit(AuditEventRow),
    Request(RequestLogRow),
}

/// Inserts a group's entries, inside the writer's transaction: one statement per entry,
/// each prepared once per connection. A refused statement changes nothing (SQLite undoes
/// it by itself), so an entry whose id exists fails alone, with no savepoint. Each
/// entry's outcome, in the order given.
pub(crate) fn insert_logs(
    conn: &mut SqliteConnection,
    rows: impl Iterator<Item = LogRow>,
) -> Vec<Result<(), StoreError>> {
    rows.map(|row| {
        match row {
            LogRow::Audit(row) => {
                Prepared(diesel::insert_into(audit_events::table).values(&row)).run(conn)
            }
            LogRow::Request(row) => {
                Prepared(diesel::insert_into(request_logs::table).values(&row)).run(conn)
            }
        }
        .map(drop)
        .map_err(from_diesel)
    })
    .collect()
}

impl LogStore for SqliteStore {
    async fn append_log(&self, record: LogRecord) -> Result<(), StoreError> {
        let row = match &record {
            LogRecord::Request(entry) => LogRow::Request(RequestLogRow::encode(entry)?),
            LogRecord::Audit(event) => LogRow::Audit(AuditEventRow::encode(event)?),
        };
        append_on(&self.writers, row).await
    }

    async fn list_request_logs(
        &self,
        organization: OrganizationId,
        query: &RequestLogQuery,
    ) -> Result<Vec<RequestLogEntry>, StoreError> {
        let credential_id = query.credential_id;
        let before = query.before;
        let limit = vault_store_sql::limit(query.limit);
        let rows = self.read(move |conn| {
            let mut select = request_logs::table
                .filter(request_logs::organization_id.eq(DbId::from(organization)))
                .select(RequestLogRow::as_select())
                .into_boxed();
            if let Some(credential_id) = credential_id {
                select = select.filter(request_logs::credential_id.eq(DbId::from(credential_id)));
            }
            if let Some(before) = before {
                select = select.filter(request_logs::id.lt(DbId::from(before)));
            }
            // Newest first: ids are UUID v7, and SQLite compares BLOBs bytewise, which is
            // time order.
            select
                .order(request_logs::id.desc())
                .limit(limit)
                .load(conn)
                .map_err(from_diesel)
        })?;
        rows.into_iter().map(RequestLogRow::decode).collect()
    }

    async fn list_audit_events(
        &self,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let action = query.action;
        let target = query.target;
        let before = query.before;
        let limit = vault_store_sql::limit(query.limit);
        let rows = self.read(move |conn| {
            // `= organization` never matches NULL: events of no organization are never
            // listed.
            let mut select = audit_events::table
                .filter(audit_events::organization_id.eq(DbId::from(organization)))
                .select(AuditEventRow::as_select())
                .into_boxed();
            if let Some(action) = action {
                select = select.filter(audit_events::action.eq(action.as_str()));
            }
            if let Some(target) = target {
                select = select.filter(audit_events::target.eq(DbId::from(target)));
            }
            if let Some(before) = before {
                select = select.filter(audit_events::id.lt(DbId::from(before)));
            }
            select
                .order(audit_events::id.desc())
                .limit(limit)
                .load(conn)
                .map_err(from_diesel)
        })?;
        rows.into_iter().map(AuditEventRow::decode).collect()
    }

    async fn prune_log(
        &self,
        log: LogKind,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let floor = DbId::from(id_floor(cutoff));
        let cutoff = DbTime::encode(cutoff, "cutoff")?;
        let limit = vault_store_sql::limit(limit);
        let sql = match log {
            LogKind::Request => PRUNE_REQUEST_LOGS,
            LogKind::Audit => PRUNE_AUDIT_EVENTS,
        };
        let deleted = self
            .run(move |conn| {
                diesel::sql_query(sql)
                    .bind::<Id, _>(floor)
                    .bind::<Instant, _>(cutoff)
                    .bind::<BigInt, _>(limit)
                    .execute(conn)
                    .map_err(from_diesel)
            })
            .await?;
        Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
    }
}

/// One retention batch: the oldest entries by the primary key's index (an id range below
/// the cutoff's [`id_floor`], in id order, so the walk stops after `LIMIT` rows and never
/// scans the newer part of the table), each also older than the cutoff by its time. A
/// short statement, so SQLite's single write lock is held for a moment only.
const PRUNE_REQUEST_LOGS: &str = "\
    DELETE FROM request_logs WHERE id IN ( \
        SELECT id FROM request_logs WHERE id < ?1 AND at < ?2 ORDER BY id LIMIT ?3)";

/// [`PRUNE_REQUEST_LOGS`] for the audit log (events of no organization included).
const PRUNE_AUDIT_EVENTS: &str = "\
    DELETE FROM audit_events WHERE id IN ( \
        SELECT id FROM audit_events WHERE id < ?1 AND at < ?2 ORDER BY id LIMIT ?3)";
