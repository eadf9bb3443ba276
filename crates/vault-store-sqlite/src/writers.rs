//! This process's writes to the file. SQLite has one write lock per file, and a connection
//! that finds it taken sleeps in SQLite's busy handler (1, 2, 5, 10 ... 100 ms), which is
//! what made writes under load slow at the tail. So this process's writers take turns
//! here, in order, and reach SQLite one at a time; the busy timeout is left for other
//! processes (`keys rewrap`).
//!
//! Transactions are group-committed: each waits in a queue, and whoever takes the turn
//! writes every transaction queued by then (up to [`MOST_IN_GROUP`]) as one SQLite
//! transaction, each in a savepoint of its own. A transaction that fails rolls back to its
//! savepoint, undoing its own statements only; the others commit together, once, so a
//! burst of writes writes its pages to the WAL once, not once per transaction. Each waiter
//! learns its outcome when the group's commit is known: its own error, or the commit's.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use diesel::connection::Connection as _;
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use tokio::sync::oneshot;
use tokio::sync::oneshot::error::TryRecvError;
use vault_core::store::StoreError;

use crate::error::{from_diesel, from_pool};
use crate::{Abort, AsyncSqlite};

/// Most transactions written as one, so that a waiter's wait stays short.
const MOST_IN_GROUP: usize = 64;

/// The pooled connections that write, whose turn it is, and what waits to be written.
pub(crate) struct Writers {
    pub(crate) pool: Pool<AsyncSqlite>,
    turn: tokio::sync::Mutex<()>,
    queued: Mutex<VecDeque<Queued>>,
}

/// A queued transaction: given the group's connection (`None` if the group could not
/// start), it runs in its own savepoint and returns how to tell its waiter the outcome
/// once the group's commit is known (`None`: committed).
type Queued = Box<dyn FnOnce(Option<&mut SqliteConnection>) -> Settle + Send>;
type Settle = Box<dyn FnOnce(Option<&StoreError>) + Send>;

impl Writers {
    pub(crate) fn new(pool: Pool<AsyncSqlite>) -> Self {
        Self {
            pool,
            turn: tokio::sync::Mutex::default(),
            queued: Mutex::default(),
        }
    }

    fn queued(&self) -> std::sync::MutexGuard<'_, VecDeque<Queued>> {
        self.queued.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `operation` on a pooled connection, in turn, on the blocking pool (it may wait up
/// to the busy timeout for another process, which must not stall an async worker). For
/// single statements, which need no transaction of their own.
pub(crate) async fn run_on<R, F>(writers: &Writers, operation: F) -> Result<R, StoreError>
where
    R: Send + 'static,
    F: FnOnce(&mut SqliteConnection) -> Result<R, StoreError> + Send + 'static,
{
    let _turn = writers.turn.lock().await;
    let mut connection = writers.pool.get().await.map_err(from_pool)?;
    connection
        .spawn_blocking(move |conn| Ok(operation(conn)))
        .await
        .map_err(from_diesel)?
}

/// Runs `operation` as a transaction, group-committed with whatever else is queued: every
/// statement in it commits or none does. Queued, it is written even if the caller stops
/// waiting.
pub(crate) async fn write_on<R, F>(writers: &Writers, operation: F) -> Result<R, StoreError>
where
    R: Send + 'static,
    F: FnOnce(&mut SqliteConnection) -> Result<R, Abort> + Send + 'static,
{
    let (done, mut outcome) = oneshot::channel();
    let queued: Queued = Box::new(move |conn| {
        // A savepoint, inside the group's transaction.
        let result = conn.map(|conn| conn.transaction(operation).map_err(|Abort(error)| error));
        Box::new(move |commit| {
            let _ = done.send(match (commit, result) {
                (None, Some(result)) => result,
                (Some(error), _) => Err(each_waiter(error)),
                // Never given: a group that did not start has an error.
                (None, None) => Err(StoreError::Backend("the write did not run".into())),
            });
        })
    });
    writers.queued().push_back(queued);
    loop {
        let turn = writers.turn.lock().await;
        // A group written before this turn came may have held it.
        if let Ok(result) = outcome.try_recv() {
            return result;
        }
        let group: Vec<Queued> = {
            let mut queued = writers.queued();
            let count = queued.len().min(MOST_IN_GROUP);
            queued.drain(..count).collect()
        };
        write_group(writers, group).await;
        drop(turn);
        // Written oldest first: unless more than a group's worth was queued before it,
        // this one was in the group.
        match outcome.try_recv() {
            Ok(result) => return result,
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Closed) => {
                return Err(StoreError::Backend(
                    "the write was lost before its outcome was known".into(),
                ));
            }
        }
    }
}

/// Writes `group` as one IMMEDIATE transaction (the write lock is taken at `BEGIN`,
/// waiting up to the busy timeout, so it never fails half-way because another process
/// started writing first), then tells each waiter its outcome.
async fn write_group(writers: &Writers, group: Vec<Queued>) {
    if group.is_empty() {
        return;
    }
    let mut connection = match writers.pool.get().await {
        Ok(connection) => connection,
        Err(error) => return fail(group, &from_pool(error)),
    };
    let written = connection
        .spawn_blocking(move |conn| {
            let mut group = Some(group);
            let mut settles = Vec::new();
            let committed = conn.immediate_transaction(|conn| {
                for queued in group.take().into_iter().flatten() {
                    settles.push(queued(Some(&mut *conn)));
                }
                Ok::<_, diesel::result::Error>(())
            });
            match committed {
                Ok(()) => settles.into_iter().for_each(|settle| settle(None)),
                Err(error) => {
                    let error = from_diesel(error);
                    // `BEGIN` failed: none ran.
                    settles.extend(group.into_iter().flatten().map(|queued| queued(None)));
                    settles.into_iter().for_each(|settle| settle(Some(&error)));
                }
            }
            Ok(())
        })
        .await;
    // The blocking task failed to run: its waiters learn that their sender was dropped.
    drop(written);
}

fn fail(group: Vec<Queued>, error: &StoreError) {
    for queued in group {
        queued(None)(Some(error));
    }
}

/// The group's failure, for one of its waiters.
fn each_waiter(error: &StoreError) -> StoreError {
    match error {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict => StoreError::Conflict,
        StoreError::Unavailable(cause) => StoreError::Unavailable(cause.to_string().into()),
        StoreError::Backend(cause) => StoreError::Backend(cause.to_string().into()),
        other => StoreError::Backend(other.to_string().into()),
    }
}
