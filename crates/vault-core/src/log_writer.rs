//! Group commit of the audit and request logs: one writer per store takes the entries of
//! every in-flight request and writes whatever is queued in one transaction, so a burst of
//! uses costs one commit, not one each (DESIGN.md §8). For stores whose commits are round
//! trips to a server (PostgreSQL); a store with a single writer of its own (SQLite's
//! writer thread) groups its log entries with its other writes instead.
//!
//! There is no timer. The writer sleeps until an entry arrives, writes it with everything
//! queued behind it, and releases each waiter once that commit is durable; the next batch
//! is what queued meanwhile. Under light load a batch is one entry and costs what a lone
//! insert did; under load batches grow with the commit's own latency. The queue is
//! bounded: when it is full, callers wait. Nothing is dropped, and a failed commit fails
//! every waiter in it, so a use whose audit event did not commit is refused.
//!
//! Runtime-agnostic: [`LogWriter::start`] returns the writer's loop as a future, which the
//! store spawns on its runtime.

use std::future::Future;
use std::sync::Arc;

use futures::channel::{mpsc, oneshot};
use futures::future::{self, Either};
use futures::stream::FuturesUnordered;
use futures::{SinkExt as _, StreamExt as _};

use crate::logs::LogRecord;
use crate::store::StoreError;

/// Most entries written in one transaction: bounds a statement's size and the time a
/// batch holds the database's write lock.
pub const MAX_BATCH: usize = 512;

/// Transactions of one writer committing at once: under heavy load, while one waits for
/// its commit, the next batch is already on its way (each on a connection of its own).
pub const COMMITS_IN_FLIGHT: usize = 2;

/// Entries waiting before a second transaction starts beside one in flight.
pub const OVERLAP_AT: usize = 8;

/// Entries the queue holds beyond one per waiting caller, before callers wait for room.
pub const QUEUE_CAPACITY: usize = 4096;

/// Where a [`LogWriter`] writes: a store's connections, without the writer itself (the
/// writer's loop holds it, and must end when the store's last clone is dropped).
pub trait LogSink: Send + Sync + 'static {
    /// Writes `records` in one transaction: all of them or none.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when an id exists; otherwise as the store's writes.
    fn append(&self, records: &[LogRecord]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An entry waiting for its commit.
struct Pending {
    record: LogRecord,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle callers append through. Cheap to clone; the writer's loop ends once every
/// clone is dropped and the queue is empty.
#[derive(Clone, Debug)]
pub struct LogWriter {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

impl LogWriter {
    /// A writer into `sink`, and the loop that does its writing, for the caller to spawn.
    pub fn start<S: LogSink>(sink: S) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        (Self { queue }, write_batches(sink, receiver))
    }

    /// Queues `record` and waits until the transaction holding it has committed.
    ///
    /// # Errors
    /// The commit's failure (every entry of a failed batch gets it), or
    /// [`StoreError::Unavailable`] if the writer's loop is gone.
    pub async fn append(&self, record: LogRecord) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        self.queue
            .clone()
            .send(Pending { record, done })
            .await
            .map_err(|_| writer_stopped())?;
        committed.await.unwrap_or_else(|_| Err(writer_stopped()))
    }
}

fn writer_stopped() -> StoreError {
    StoreError::Unavailable("the log writer has stopped".into())
}

/// The writer's loop: everything queued, up to [`MAX_BATCH`], per transaction. With no
/// commit in flight, a batch starts as soon as anything is queued; with one in flight, a
/// second starts only once [`OVERLAP_AT`] entries wait (else they wait for the first to
/// finish, and go together): overlapping commits cut the wait under heavy load, and
/// waiting keeps batches large, and commits per use low, under the rest.
async fn write_batches<S: LogSink>(sink: S, mut receiver: mpsc::Receiver<Pending>) {
    let sink = &sink;
    let mut committing = FuturesUnordered::new();
    let mut queued = Vec::new();
    let mut open = true;
    loop {
        while queued.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(pending) => queued.push(pending),
                Err(_) => break,
            }
        }
        let start = !queued.is_empty()
            && (committing.is_empty()
                || (committing.len() < COMMITS_IN_FLIGHT && queued.len() >= OVERLAP_AT));
        if start {
            let batch: Vec<_> = queued.drain(..queued.len().min(MAX_BATCH)).collect();
            committing.push(async move {
                let (records, waiters): (Vec<_>, Vec<_>) =
                    batch.into_iter().map(|p| (p.record, p.done)).unzip();
                for (waiter, result) in waiters.into_iter().zip(commit(sink, &records).await) {
                    // A waiter that gave up (its request was cancelled) needs no answer.
                    let _ = waiter.send(result);
                }
            });
            continue;
        }
        if committing.is_empty() {
            if !open {
                return;
            }
            match receiver.next().await {
                Some(pending) => queued.push(pending),
                None => open = false,
            }
        } else if open && queued.len() < MAX_BATCH {
            match future::select(receiver.next(), committing.next()).await {
                Either::Left((Some(pending), _)) => queued.push(pending),
                Either::Left((None, _)) => open = false,
                Either::Right(_) => {}
            }
        } else {
            committing.next().await;
        }
    }
}

/// Each record's outcome. A batch refused for an existing id is written again one entry at
/// a time, so only the entry whose id exists fails.
async fn commit<S: LogSink>(sink: &S, records: &[LogRecord]) -> Vec<Result<(), StoreError>> {
    match sink.append(records).await {
        Ok(()) => records.iter().map(|_| Ok(())).collect(),
        Err(StoreError::Conflict) if records.len() > 1 => {
            let mut results = Vec::with_capacity(records.len());
            for record in records {
                results.push(sink.append(std::slice::from_ref(record)).await);
            }
            results
        }
        Err(error) => {
            let shared = Arc::new(error);
            records.iter().map(|_| Err(share(&shared))).collect()
        }
    }
}

/// The same failure for each waiter of a batch, keeping its kind.
fn share(error: &Arc<StoreError>) -> StoreError {
    match error.as_ref() {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict => StoreError::Conflict,
        StoreError::Unavailable(_) => StoreError::Unavailable(Box::new(Shared(error.clone()))),
        StoreError::Backend(_) => StoreError::Backend(Box::new(Shared(error.clone()))),
    }
}

/// A batch's failure, shared by its waiters; shows as the failure itself.
#[derive(Debug)]
struct Shared(Arc<StoreError>);

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match std::error::Error::source(self.0.as_ref()) {
            Some(cause) => std::fmt::Display::fmt(cause, f),
            None => std::fmt::Display::fmt(&self.0, f),
        }
    }
}

impl std::error::Error for Shared {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(self.0.as_ref()).and_then(std::error::Error::source)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt as _;

    use super::*;
    use crate::ids::{CredentialId, OrganizationId};
    use crate::logs::RequestLogEntry;
    use crate::test_support::yield_now;

    /// Records each batch; fails batches while `fail` is set, and any batch holding an id
    /// in `taken`.
    #[derive(Clone, Default)]
    struct Recorder {
        batches: Arc<Mutex<Vec<Vec<uuid::Uuid>>>>,
        fail: Arc<Mutex<bool>>,
        taken: Arc<Mutex<Vec<uuid::Uuid>>>,
        /// Appends running now, and the most there ever were.
        inside: Arc<Mutex<(usize, usize)>>,
    }

    fn id(record: &LogRecord) -> uuid::Uuid {
        match record {
            LogRecord::Audit(event) => event.id,
            LogRecord::Request(entry) => entry.id,
        }
    }

    impl LogSink for Recorder {
        async fn append(&self, records: &[LogRecord]) -> Result<(), StoreError> {
            {
                let mut inside = self.inside.lock().expect("lock");
                inside.0 += 1;
                inside.1 = inside.1.max(inside.0);
            }
            // A commit takes a while, during which others queue.
            for _ in 0..3 {
                yield_now().await;
            }
            self.inside.lock().expect("lock").0 -= 1;
            if *self.fail.lock().expect("lock") {
                return Err(StoreError::Unavailable("disk full".into()));
            }
            let ids: Vec<_> = records.iter().map(id).collect();
            if ids
                .iter()
                .any(|i| self.taken.lock().expect("lock").contains(i))
            {
                return Err(StoreError::Conflict);
            }
            self.batches.lock().expect("lock").push(ids);
            Ok(())
        }
    }

    fn entry() -> LogRecord {
        LogRecord::Request(RequestLogEntry {
            id: uuid::Uuid::now_v7(),
            organization_id: OrganizationId::new(),
            credential_id: CredentialId::new(),
            credential_name: "n".to_owned(),
            method: "GET".to_owned(),
            host: "h".to_owned(),
            path: "/".to_owned(),
            status: Some(200),
            error: None,
            latency_micros: 1,
            at: time::OffsetDateTime::UNIX_EPOCH,
            access_key_id: None,
            actor_subject: None,
            via: None,
        })
    }

    /// Appends `records` concurrently on one thread, the writer's loop beside them; the
    /// results in order.
    fn append_all(sink: &Recorder, records: Vec<LogRecord>) -> Vec<Result<(), StoreError>> {
        let mut pool = LocalPool::new();
        let (writer, run) = LogWriter::start(sink.clone());
        pool.spawner().spawn_local(run).expect("spawned");
        let appends = records.into_iter().map(|r| {
            let writer = writer.clone();
            async move { writer.append(r).await }
        });
        let joined = futures::future::join_all(appends);
        drop(writer);
        pool.run_until(joined)
    }

    #[test]
    fn what_queues_during_a_commit_is_written_together() {
        let sink = Recorder::default();
        let results = append_all(&sink, (0..10).map(|_| entry()).collect());
        assert!(results.iter().all(Result::is_ok));
        let batches = sink.batches.lock().expect("lock").clone();
        // All ten queued before the writer first ran: one transaction.
        assert_eq!(batches.len(), 1, "{batches:?}");
        assert_eq!(batches[0].len(), 10);
    }

    #[test]
    fn commits_overlap_up_to_the_limit_and_every_entry_is_written_once() {
        let sink = Recorder::default();
        let mut pool = LocalPool::new();
        let (writer, run) = LogWriter::start(sink.clone());
        pool.spawner().spawn_local(run).expect("spawned");
        // 16 callers, arriving one after the other, each appending 5 entries in turn, as
        // uses do.
        let callers = (0..16).map(|caller| {
            let writer = writer.clone();
            async move {
                for _ in 0..caller {
                    yield_now().await;
                }
                for _ in 0..5 {
                    writer.append(entry()).await.expect("appended");
                }
            }
        });
        let all = futures::future::join_all(callers);
        drop(writer);
        pool.run_until(all);
        let (_, most) = *sink.inside.lock().expect("lock");
        assert_eq!(most, COMMITS_IN_FLIGHT, "commits at once");
        let batches = sink.batches.lock().expect("lock").clone();
        let mut ids: Vec<_> = batches.concat();
        assert_eq!(ids.len(), 80);
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 80, "an entry written twice");
        assert!(batches.len() < 80, "no batching: {} commits", batches.len());
    }

    #[test]
    fn a_batch_is_at_most_max_batch_entries() {
        let sink = Recorder::default();
        let results = append_all(&sink, (0..MAX_BATCH + 3).map(|_| entry()).collect());
        assert!(results.iter().all(Result::is_ok));
        let sizes: Vec<_> = sink
            .batches
            .lock()
            .expect("lock")
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, vec![MAX_BATCH, 3]);
    }

    #[test]
    fn a_failed_commit_fails_every_waiter_in_it() {
        let sink = Recorder::default();
        *sink.fail.lock().expect("lock") = true;
        let results = append_all(&sink, (0..5).map(|_| entry()).collect());
        assert!(
            results.iter().all(
                |r| matches!(r, Err(StoreError::Unavailable(e)) if e.to_string() == "disk full")
            )
        );
        assert!(sink.batches.lock().expect("lock").is_empty());
    }

    #[test]
    fn an_existing_id_fails_only_its_own_entry() {
        let sink = Recorder::default();
        let records: Vec<_> = (0..4).map(|_| entry()).collect();
        sink.taken.lock().expect("lock").push(id(&records[2]));
        let results = append_all(&sink, records);
        let conflicts: Vec<_> = results
            .iter()
            .map(|r| matches!(r, Err(StoreError::Conflict)))
            .collect();
        assert_eq!(conflicts, vec![false, false, true, false]);
        assert_eq!(sink.batches.lock().expect("lock").len(), 3);
    }

    #[test]
    fn appending_after_the_writer_stopped_fails_as_unavailable() {
        let (writer, run) = LogWriter::start(Recorder::default());
        drop(run);
        let result = futures::executor::block_on(writer.append(entry()));
        assert!(matches!(result, Err(StoreError::Unavailable(_))));
    }
}
