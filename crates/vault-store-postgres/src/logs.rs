//! The audit and request logs: appends go through the store's group-committing
//! [`LogWriter`], whose batches [`LogTables`] writes as one statement each (one
//! transaction of two when a batch holds entries of both logs); lists are one statement.

use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;
use vault_core::ids::OrganizationId;
use vault_core::log_writer::{COMMITS_IN_FLIGHT, LogRecord, LogSink};
use vault_core::logs::{AuditEvent, AuditQuery, RequestLogEntry, RequestLogQuery};
use vault_core::store::{LogKind, LogStore, StoreError};

use crate::error::{Failure, from_diesel, unavailable};
use crate::rows::{AuditEventRow, RequestLogRow};
use crate::schema::{audit_events, request_logs};
use crate::{Connections, PgStore, aborted, clamp_limit};

/// The log tables, written by the store's log writer on connections of its own (one per
/// commit it may have in flight), opened by the writer's task, so their I/O is driven where
/// the writer runs rather than by a busy HTTP worker's runtime. It holds the pool only to learn that the store was closed, and
/// holds no log writer, so the writer's loop ends with the store's last clone.
pub(crate) struct LogTables {
    db: Connections,
    url: String,
    own: Vec<tokio::sync::Mutex<Option<AsyncPgConnection>>>,
}

impl LogTables {
    pub(crate) fn new(db: Connections, url: &str) -> Self {
        Self {
            db,
            url: url.to_owned(),
            own: (0..COMMITS_IN_FLIGHT)
                .map(|_| tokio::sync::Mutex::default())
                .collect(),
        }
    }
}

impl LogSink for LogTables {
    async fn append(&self, records: &[LogRecord]) -> Result<(), StoreError> {
        if self.db.is_closed() {
            return Err(unavailable(Failure("the store is closed".to_owned())));
        }
        let mut audit = Vec::new();
        let mut requests = Vec::new();
        for record in records {
            match record {
                LogRecord::Audit(event) => audit.push(AuditEventRow::encode(event)?),
                LogRecord::Request(entry) => requests.push(RequestLogRow::encode(entry)?),
            }
        }
        let free = self.own.iter().find_map(|own| own.try_lock().ok());
        let mut own = match free {
            Some(own) => own,
            None => self.own[0].lock().await,
        };
        let conn = match own.as_mut() {
            Some(conn) => conn,
            None => own.insert(self.db.dedicated(&self.url).await?),
        };
        let write = async {
            match (audit.is_empty(), requests.is_empty()) {
                (false, true) => insert_audit(conn, &audit).await,
                (true, false) => insert_requests(conn, &requests).await,
                _ => conn
                    .transaction(async move |conn| {
                        insert_audit(conn, &audit).await?;
                        insert_requests(conn, &requests).await?;
                        Ok(())
                    })
                    .await
                    .map_err(aborted),
            }
        };
        let result = self.db.bounded(write).await;
        // A connection that failed that way is not trusted again: the next batch opens
        // another.
        if matches!(result, Err(StoreError::Unavailable(_))) {
            *own = None;
        }
        result
    }
}

async fn insert_audit(
    conn: &mut AsyncPgConnection,
    rows: &[AuditEventRow],
) -> Result<(), StoreError> {
    diesel::insert_into(audit_events::table)
        .values(rows)
        .execute(conn)
        .await
        .map_err(from_diesel)?;
    Ok(())
}

async fn insert_requests(
    conn: &mut AsyncPgConnection,
    rows: &[RequestLogRow],
) -> Result<(), StoreError> {
    diesel::insert_into(request_logs::table)
        .values(rows)
        .execute(conn)
        .await
        .map_err(from_diesel)?;
    Ok(())
}

impl LogStore for PgStore {
    async fn insert_request_log(&self, entry: &RequestLogEntry) -> Result<(), StoreError> {
        self.logs.append(LogRecord::Request(entry.clone())).await
    }

    async fn list_request_logs(
        &self,
        organization: OrganizationId,
        query: &RequestLogQuery,
    ) -> Result<Vec<RequestLogEntry>, StoreError> {
        let mut select = request_logs::table
            .filter(request_logs::organization_id.eq(*organization.as_uuid()))
            .select(RequestLogRow::as_select())
            .into_boxed();
        if let Some(credential_id) = query.credential_id {
            select = select.filter(request_logs::credential_id.eq(*credential_id.as_uuid()));
        }
        if let Some(before) = query.before {
            select = select.filter(request_logs::id.lt(before));
        }
        // Newest first: ids are UUID v7, and PostgreSQL orders `uuid` bytewise, which is
        // time order.
        let select = select
            .order(request_logs::id.desc())
            .limit(clamp_limit(query.limit));
        let rows: Vec<RequestLogRow> = self
            .with_connection(async move |conn| select.load(conn).await.map_err(from_diesel))
            .await?;
        rows.into_iter().map(RequestLogRow::decode).collect()
    }

    async fn insert_audit_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.logs.append(LogRecord::Audit(event.clone())).await
    }

    async fn list_audit_events(
        &self,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        // `= organization` never matches NULL: events of no organization are never listed.
        let mut select = audit_events::table
            .filter(audit_events::organization_id.eq(*organization.as_uuid()))
            .select(AuditEventRow::as_select())
            .into_boxed();
        if let Some(action) = query.action {
            select = select.filter(audit_events::action.eq(action.as_str()));
        }
        if let Some(target) = query.target {
            select = select.filter(audit_events::target.eq(target));
        }
        if let Some(before) = query.before {
            select = select.filter(audit_events::id.lt(before));
        }
        let select = select
            .order(audit_events::id.desc())
            .limit(clamp_limit(query.limit));
        let rows: Vec<AuditEventRow> = self
            .with_connection(async move |conn| select.load(conn).await.map_err(from_diesel))
            .await?;
        rows.into_iter().map(AuditEventRow::decode).collect()
    }

    async fn prune_log(
        &self,
        log: LogKind,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<u64, StoreError> {
        self.prune(log, cutoff, limit).await
    }
}
