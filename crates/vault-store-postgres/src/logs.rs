//! Log appends: they go through the store's group-committing
//! [`LogWriter`](vault_core::log_writer::LogWriter), whose batches [`LogTables`] writes as
//! one statement each ([`LogBatch`]).

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Binary, Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use vault_core::audit_chain::AuditChain;
use vault_core::log_writer::{COMMITS_IN_FLIGHT, LogSink};
use vault_core::logs::LogRecord;
use vault_core::store::StoreError;

use vault_store_sql::rows::{AuditEventRow, RequestLogRow};
use vault_store_sql::types::{DbId, DbTime, Id, Instant};

use crate::Connections;
use crate::error::{Failure, from_diesel, unavailable};

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
        let mut batch = LogBatch::default();
        let mut audit = Vec::new();
        for record in records {
            match record {
                LogRecord::Audit(event) => audit.push(event),
                LogRecord::Request(entry) => batch.requests.push(RequestLogRow::encode(entry)?),
            }
        }
        // Each audit event takes its chain's head row lock (the database's trigger), held
        // to the commit, and two batches may commit at once (COMMITS_IN_FLIGHT). Inserted
        // in chain order, every batch takes the locks it needs in one same order, so two
        // batches wait for each other at most one way, never in a cycle (a deadlock). The
        // sort is stable: a chain's events keep the order they were appended in, which is
        // the order the chain numbers them.
        audit.sort_by_key(|event| AuditChain::of(event.organization_id));
        for event in audit {
            batch.audit.push(AuditEventRow::encode(event)?);
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
            batch.execute(conn).await.map_err(from_diesel)?;
            Ok(())
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

/// A batch of both logs as one statement of fixed text, each column an array the server
/// unnests: prepared once per connection whatever the batch holds (diesel prepares a
/// multi-row `INSERT` anew for every row count), and atomic without `BEGIN`/`COMMIT`.
#[derive(Default, QueryId)]
struct LogBatch {
    audit: AuditColumns,
    requests: RequestColumns,
}

#[derive(Default)]
struct AuditColumns {
    id: Vec<DbId>,
    organization_id: Vec<Option<DbId>>,
    actor: Vec<Option<DbId>>,
    action: Vec<String>,
    target: Vec<Option<DbId>>,
    outcome: Vec<String>,
    reason: Vec<Option<String>>,
    at: Vec<DbTime>,
    actor_subject: Vec<Option<String>>,
    occurrences: Vec<i64>,
    via: Vec<Option<String>>,
    digest: Vec<Option<Vec<u8>>>,
}

impl AuditColumns {
    fn push(&mut self, row: AuditEventRow) {
        self.id.push(row.id);
        self.organization_id.push(row.organization_id);
        self.actor.push(row.actor);
        self.action.push(row.action);
        self.target.push(row.target);
        self.outcome.push(row.outcome);
        self.reason.push(row.reason);
        self.at.push(row.at);
        self.actor_subject.push(row.actor_subject);
        self.occurrences.push(row.occurrences);
        self.via.push(row.via);
        // The link's columns are the database's to fill in (its trigger).
        self.digest.push(row.digest);
    }
}

#[derive(Default)]
struct RequestColumns {
    id: Vec<DbId>,
    organization_id: Vec<DbId>,
    credential_id: Vec<DbId>,
    credential_name: Vec<String>,
    method: Vec<String>,
    host: Vec<String>,
    path: Vec<String>,
    status: Vec<Option<i32>>,
    error: Vec<Option<String>>,
    latency_micros: Vec<i64>,
    at: Vec<DbTime>,
    access_key_id: Vec<Option<DbId>>,
    actor_subject: Vec<Option<String>>,
    via: Vec<Option<String>>,
}

impl RequestColumns {
    fn push(&mut self, row: RequestLogRow) {
        self.id.push(row.id);
        self.organization_id.push(row.organization_id);
        self.credential_id.push(row.credential_id);
        self.credential_name.push(row.credential_name);
        self.method.push(row.method);
        self.host.push(row.host);
        self.path.push(row.path);
        self.status.push(row.status);
        self.error.push(row.error);
        self.latency_micros.push(row.latency_micros);
        self.at.push(row.at);
        self.access_key_id.push(row.access_key_id);
        self.actor_subject.push(row.actor_subject);
        self.via.push(row.via);
    }
}

/// Pushes `unnest(arrays...)`, each bound as an array of its SQL type.
macro_rules! unnest {
    ($out:ident, $first_type:ty => $first:expr $(, $ty:ty => $array:expr)* $(,)?) => {{
        $out.push_sql("unnest(");
        $out.push_bind_param::<Array<$first_type>, _>($first)?;
        $(
            $out.push_sql(", ");
            $out.push_bind_param::<Array<$ty>, _>($array)?;
        )*
        $out.push_sql(")");
    }};
}

impl QueryFragment<Pg> for LogBatch {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let a = &self.audit;
        // The rows are inserted (so chained, their heads locked) in the arrays' order,
        // which is chain order (see `append`). SQL promises no order of a query's rows
        // without an ORDER BY, so the ordinality makes it one.
        out.push_sql(
            "WITH audit AS (INSERT INTO audit_events (id, organization_id, actor, action, \
             target, outcome, reason, at, actor_subject, occurrences, via, digest) \
             SELECT id, organization_id, actor, action, target, outcome, reason, at, \
             actor_subject, occurrences, via, digest FROM ",
        );
        unnest!(out,
            Id => &a.id,
            Nullable<Id> => &a.organization_id,
            Nullable<Id> => &a.actor,
            Text => &a.action,
            Nullable<Id> => &a.target,
            Text => &a.outcome,
            Nullable<Text> => &a.reason,
            Instant => &a.at,
            Nullable<Text> => &a.actor_subject,
            BigInt => &a.occurrences,
            Nullable<Text> => &a.via,
            Nullable<Binary> => &a.digest,
        );
        let r = &self.requests;
        out.push_sql(
            " WITH ORDINALITY AS event (id, organization_id, actor, action, target, outcome, \
             reason, at, actor_subject, occurrences, via, digest, n) ORDER BY n) \
             INSERT INTO request_logs (id, organization_id, credential_id, credential_name, \
             method, host, path, status, error, latency_micros, at, access_key_id, \
             actor_subject, via) SELECT * FROM ",
        );
        unnest!(out,
            Id => &r.id,
            Id => &r.organization_id,
            Id => &r.credential_id,
            Text => &r.credential_name,
            Text => &r.method,
            Text => &r.host,
            Text => &r.path,
            Nullable<Integer> => &r.status,
            Nullable<Text> => &r.error,
            BigInt => &r.latency_micros,
            Instant => &r.at,
            Nullable<Id> => &r.access_key_id,
            Nullable<Text> => &r.actor_subject,
            Nullable<Text> => &r.via,
        );
        Ok(())
    }
}
