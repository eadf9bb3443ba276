//! Background work on PostgreSQL: one retention batch of a log, and the advisory lock that
//! lets one replica at a time run a batch of a job.

use std::future::Future;

use diesel::sql_types::BigInt;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use time::OffsetDateTime;
use vault_core::logs::id_floor;
use vault_core::store::{JobName, JobStore, LogKind, StoreError};

use vault_store_sql::error::Abort;
use vault_store_sql::types::{DbId, DbTime, Id, Instant};

use crate::PgStore;

diesel::define_sql_function! {
    /// `pg_try_advisory_xact_lock(bigint)`: takes the lock for the rest of the transaction
    /// if no other session holds it, and says whether it did; never waits.
    fn pg_try_advisory_xact_lock(key: BigInt) -> Bool;
}

/// One retention batch: the oldest entries by the primary key's index (an id range below
/// the cutoff's [`id_floor`], walked in id order, so the scan stops after `LIMIT` rows and
/// never reads the newer part of the table), each also older than the cutoff by its time.
/// One short statement: row locks on those rows only, held for milliseconds, and no lock
/// that inserts of new entries wait on.
const PRUNE_REQUEST_LOGS: &str = "\
    DELETE FROM request_logs WHERE id IN ( \
        SELECT id FROM request_logs WHERE id < $1 AND at < $2 ORDER BY id LIMIT $3)";

/// [`PRUNE_REQUEST_LOGS`] for the audit log (events of no organization included).
const PRUNE_AUDIT_EVENTS: &str = "\
    DELETE FROM audit_events WHERE id IN ( \
        SELECT id FROM audit_events WHERE id < $1 AND at < $2 ORDER BY id LIMIT $3)";

/// The advisory lock key of a background job: the 64-bit FNV-1a hash of its name. Public
/// so that an operator can see a job's lock in `pg_locks` (or hold every replica's job off
/// with `SELECT pg_advisory_lock(<key>)` in a session of their own), and tests can too.
/// Advisory locks are per database, so other installations on the server never collide.
#[must_use]
pub const fn job_lock_key(job: JobName) -> i64 {
    let bytes = job.as_str().as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

impl PgStore {
    /// [`LogStore::prune_log`](vault_core::store::LogStore::prune_log).
    pub(crate) async fn prune(
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
            .with_connection(async move |conn| {
                diesel::sql_query(sql)
                    .bind::<Id, _>(floor)
                    .bind::<Instant, _>(cutoff)
                    .bind::<BigInt, _>(limit)
                    .execute(conn)
                    .await
                    .map_err(crate::error::from_diesel)
            })
            .await?;
        Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
    }
}

/// An advisory lock taken inside a transaction (`pg_try_advisory_xact_lock`), per batch,
/// rather than a lease row or a session lock: no table and no migration, no lease expiry to
/// tune, and it ends with the transaction, so a replica that crashes or loses its
/// connection holds nothing, and a pooled connection never carries a lock on to its next
/// caller (a session-level lock would). The transaction does nothing else: it stays open
/// on its own connection while the batch runs its statements on others, and its commit
/// (or, if the batch fails or is dropped midway, its rollback or the connection's close:
/// diesel-async marks a connection left inside a transaction broken, and the pool drops
/// it) releases the lock. Between batches another replica may take the job over, which
/// is harmless for batch work that is idempotent, as pruning is, and keeps every hold short.
/// The batch therefore needs a second pooled connection while this one is held.
impl JobStore for PgStore {
    async fn exclusive<T, F, Fut>(&self, job: JobName, batch: F) -> Result<Option<T>, StoreError>
    where
        T: Send,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        let key = job_lock_key(job);
        let mut conn = self.connection().await?;
        let result = conn
            .transaction(async move |conn| {
                let locked: bool = diesel::select(pg_try_advisory_xact_lock(key))
                    .get_result(conn)
                    .await?;
                if !locked {
                    return Ok(None);
                }
                Ok(Some(batch().await?))
            })
            .await
            .map_err(|Abort(error)| error);
        if matches!(result, Err(StoreError::Unavailable(_))) {
            drop(Object::take(conn));
        }
        result
    }
}
