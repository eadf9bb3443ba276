//! WAL checkpoints on a thread of their own. SQLite's automatic checkpoint runs inside the
//! commit that crosses its threshold, on the writer's thread: every write queued behind
//! that commit then waits for pages to be copied into the database file and for its
//! `fsync`, which was most of the writes' p99. So the writer's connection checkpoints
//! nothing itself, and asks this thread for a `PASSIVE` checkpoint every
//! [`COMMITS_PER_CHECKPOINT`] commits; a passive checkpoint never blocks the writer, nor
//! waits for it. Requests made while one runs become one more.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use diesel::connection::SimpleConnection as _;
use diesel::sqlite::SqliteConnection;
use vault_core::store::StoreError;

use crate::error::unavailable;
use crate::open_writer;

/// Commits between two checkpoints. SQLite's default threshold is 1,000 WAL pages; a
/// commit writes a few to a dozen, so the WAL stays near the size SQLite would keep it at.
pub(crate) const COMMITS_PER_CHECKPOINT: u64 = 64;

/// The checkpointing thread. Dropping it stops the thread once its checkpoint, if any, ends.
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    due: bool,
    closed: bool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Checkpointer {
    /// Starts the thread, on a connection of its own to `path`.
    pub(crate) fn start(path: &str) -> Result<Self, StoreError> {
        let connection = open_writer(path)?;
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("vault-sqlite-checkpoints".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || checkpoint_when_due(&shared, connection)
            })
            .map_err(unavailable)?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint; returns at once.
    pub(crate) fn request(&self) {
        self.shared.state().due = true;
        self.shared.wake.notify_one();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.state().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn checkpoint_when_due(shared: &Shared, mut connection: SqliteConnection) {
    loop {
        {
            let mut state = shared.state();
            while !state.due && !state.closed {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.closed {
                return;
            }
            state.due = false;
        }
        if let Err(error) = connection.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
            // The WAL only grows until the next one succeeds; nothing is lost.
            tracing::warn!(%error, "SQLite WAL checkpoint failed; the next one retries");
        }
    }
}
