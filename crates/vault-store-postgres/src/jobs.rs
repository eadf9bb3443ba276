//! Background work on PostgreSQL: the advisory lock that lets one replica at a time run a
//! batch of a job (a retention batch is one statement, shared with SQLite: vault-store-sql).

use std::future::Future;

use diesel::sql_types::BigInt;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use vault_core::store::{JobName, JobStore, StoreError};
use vault_store_sql::error::Abort;

use crate::PgStore;

diesel::define_sql_function! {
    /// `pg_try_advisory_xact_lock(bigint)`: takes the lock for the rest of the transaction
    /// if no other session holds it, and says whether it did; never waits.
    fn pg_try_advisory_xact_lock(key: BigInt) -> Bool;
}

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
