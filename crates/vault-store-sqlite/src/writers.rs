//! This process's writes to the file: one thread owns the one write connection, and every
//! write (credential changes, log entries, single statements) queues for it. SQLite has
//! one write lock per file anyway, and a connection that finds it taken sleeps in SQLite's
//! busy handler (1, 2, 5, 10 ... 100 ms), which is what made writes under load slow at the
//! tail; the busy timeout is left for other processes (`keys rewrap`).
//!
//! Writes are group-committed, without a timer: the thread takes everything queued (up to
//! [`MOST_IN_GROUP`]) and writes it as one SQLite transaction, so a burst writes its pages
//! to the WAL once, not once per write; what queues meanwhile is the next group. Each
//! transaction runs in a savepoint of its own, so one that fails undoes its own
//! statements only (a group of one is its own transaction, with no savepoint). Log entries
//! need none: each is one statement, and SQLite undoes a failed statement by itself. Each waiter learns its outcome when the commit is known.
//!
//! A dedicated thread rather than tokio's blocking pool: a write then costs one hand-off
//! to the thread and one wake-up back, not a pool connection, a blocking task and a
//! runtime's turn each way. This is the log writer of the SQLite store too (vault-core's
//! `LogWriter` groups appends for stores whose commits are network round trips).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use diesel::connection::Connection as _;
use diesel::sqlite::SqliteConnection;
use tokio::sync::oneshot;
use vault_core::store::StoreError;

use vault_store_sql::error::{Abort, from_diesel, unavailable};

use crate::logs::{LogRow, insert_logs};
use crate::open_writer;

/// Most queued writes taken into one transaction, so that a waiter's wait stays short.
const MOST_IN_GROUP: usize = 256;

/// The queue of writes and the thread that writes them. Dropping it lets the thread write
/// what is queued, then waits for it to close the connection.
pub(crate) struct Writers {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    arrived: Condvar,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

#[expect(
    clippy::large_enum_variant,
    reason = "most jobs are log entries: boxing them would allocate for the common case"
)]
enum Job {
    Transaction(Transaction),
    Log(LogRow, oneshot::Sender<Result<(), StoreError>>),
}

/// How a queued transaction runs: as the whole group's transaction, in a savepoint of the
/// group's, or not at all (the group could not begin).
enum Run<'a> {
    Alone(&'a mut SqliteConnection),
    Savepoint(&'a mut SqliteConnection),
    Not,
}

/// A queued transaction. It returns how to tell its waiter the outcome once the group's
/// commit is known (`None`: committed, or the transaction ran alone and its result says).
type Transaction = Box<dyn FnOnce(Run<'_>) -> Settle + Send>;
type Settle = Box<dyn FnOnce(Option<&StoreError>) + Send>;

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Writers {
    /// Starts the writing thread on `connection` (opened on `path`, which a writer reopens
    /// should a write panic).
    pub(crate) fn start(connection: SqliteConnection, path: String) -> Result<Self, StoreError> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("vault-sqlite-writer".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || write_until_closed(&shared, connection, &path)
            })
            .map_err(unavailable)?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Writes waiting for the thread.
    pub(crate) fn queued(&self) -> usize {
        self.shared.queue().jobs.len()
    }

    fn push(&self, job: Job) {
        self.shared.queue().jobs.push_back(job);
        self.shared.arrived.notify_one();
    }
}

impl Drop for Writers {
    fn drop(&mut self) {
        self.shared.queue().closed = true;
        self.shared.arrived.notify_one();
        if let Some(thread) = self.thread.take() {
            // Only the queued writes remain to be written; a panic was already reported.
            let _ = thread.join();
        }
    }
}

/// Runs `operation` as a transaction, group-committed with whatever else is queued: every
/// statement in it commits or none does. Queued, it is written even if the caller stops
/// waiting.
pub(crate) async fn write_on<R, F>(writers: &Writers, operation: F) -> Result<R, StoreError>
where
    R: Send + 'static,
    F: FnOnce(&mut SqliteConnection) -> Result<R, Abort> + Send + 'static,
{
    write_then(writers, operation, |_| {}).await
}

/// As [`write_on`], then runs `settled` on the writer thread once the outcome is known
/// (with whether the transaction committed), before the caller hears it: even if the
/// caller stopped waiting, so what follows a write cannot be skipped by cancelling it.
pub(crate) async fn write_then<R, F>(
    writers: &Writers,
    operation: F,
    settled: impl FnOnce(bool) + Send + 'static,
) -> Result<R, StoreError>
where
    R: Send + 'static,
    F: FnOnce(&mut SqliteConnection) -> Result<R, Abort> + Send + 'static,
{
    let (done, outcome) = oneshot::channel();
    let settled = Settled(Some(settled));
    writers.push(Job::Transaction(Box::new(move |run| {
        let result = match run {
            Run::Alone(conn) => Some(conn.immediate_transaction(operation)),
            Run::Savepoint(conn) => Some(conn.transaction(operation)),
            Run::Not => None,
        };
        Box::new(move |commit| {
            let outcome = match (commit, result) {
                (None, Some(result)) => result.map_err(|Abort(error)| error),
                (Some(error), _) => Err(each_waiter(error)),
                // Never given: a group that did not begin has an error.
                (None, None) => Err(StoreError::Backend("the write did not run".into())),
            };
            settled.run(outcome.is_ok());
            let _ = done.send(outcome);
        })
    })));
    outcome.await.unwrap_or_else(|_| Err(lost()))
}

/// A write's `settled` hook: run once, with `false` if the job is dropped unrun (the writer
/// panicked or closed), since then nobody knows whether it committed.
struct Settled<F: FnOnce(bool)>(Option<F>);

impl<F: FnOnce(bool)> Settled<F> {
    fn run(mut self, committed: bool) {
        if let Some(settled) = self.0.take() {
            settled(committed);
        }
    }
}

impl<F: FnOnce(bool)> Drop for Settled<F> {
    fn drop(&mut self) {
        if let Some(settled) = self.0.take() {
            settled(false);
        }
    }
}

/// Appends a log entry, group-committed with whatever else is queued.
pub(crate) async fn append_on(writers: &Writers, row: LogRow) -> Result<(), StoreError> {
    let (done, outcome) = oneshot::channel();
    writers.push(Job::Log(row, done));
    outcome.await.unwrap_or_else(|_| Err(lost()))
}

fn lost() -> StoreError {
    StoreError::Backend("the write was lost before its outcome was known".into())
}

/// The thread: a group at a time until the queue is closed and empty.
fn write_until_closed(shared: &Shared, connection: SqliteConnection, path: &str) {
    let mut connection = Some(connection);
    loop {
        let group: Vec<Job> = {
            let mut queue = shared.queue();
            while queue.jobs.is_empty() {
                if queue.closed {
                    return;
                }
                queue = shared
                    .arrived
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            let count = queue.jobs.len().min(MOST_IN_GROUP);
            queue.jobs.drain(..count).collect()
        };
        let conn = match connection.take().map_or_else(|| open_writer(path), Ok) {
            Ok(conn) => connection.insert(conn),
            Err(error) => {
                fail(group, &error);
                continue;
            }
        };
        if catch_unwind(AssertUnwindSafe(|| write_group(conn, group))).is_err() {
            // The group's waiters learn that their write was lost. The connection may be
            // left inside a transaction: closing it rolls that back, and the next group
            // opens a new one.
            connection = None;
        }
    }
}

/// Writes `group` as one IMMEDIATE transaction (the write lock is taken at `BEGIN`,
/// waiting up to the busy timeout, so it never fails half-way because another process
/// started writing first), then tells each waiter its outcome.
fn write_group(conn: &mut SqliteConnection, group: Vec<Job>) {
    let mut transactions = Vec::new();
    let (mut rows, mut logs) = (Vec::new(), Vec::new());
    for job in group {
        match job {
            Job::Transaction(transaction) => transactions.push(transaction),
            Job::Log(row, done) => {
                rows.push(row);
                logs.push(done);
            }
        }
    }
    if logs.is_empty()
        && transactions.len() == 1
        && let Some(transaction) = transactions.pop()
    {
        return transaction(Run::Alone(conn))(None);
    }
    let mut settles = Vec::new();
    let mut appended = Vec::new();
    let committed = conn.immediate_transaction(|conn| {
        for transaction in transactions.drain(..) {
            settles.push(transaction(Run::Savepoint(&mut *conn)));
        }
        appended = insert_logs(conn, rows.drain(..));
        Ok::<_, diesel::result::Error>(())
    });
    let error = committed.err().map(from_diesel);
    // `BEGIN` failed: none ran.
    settles.extend(transactions.into_iter().map(|t| t(Run::Not)));
    for settle in settles {
        settle(error.as_ref());
    }
    let mut appended = appended.into_iter();
    for done in logs {
        let _ = done.send(match &error {
            Some(error) => Err(each_waiter(error)),
            None => appended.next().unwrap_or_else(|| Err(lost())),
        });
    }
}

fn fail(group: Vec<Job>, error: &StoreError) {
    for job in group {
        match job {
            Job::Transaction(transaction) => transaction(Run::Not)(Some(error)),
            Job::Log(_, done) => {
                let _ = done.send(Err(each_waiter(error)));
            }
        }
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
