//! Background jobs: the one pattern every periodic task of the server follows (DESIGN.md
//! §8). A job is a run of batches, repeated every interval on the tokio runtime that runs
//! the server, and stopped with it. Each batch runs under the store's exclusion for the
//! job ([`JobStore::exclusive`]): on PostgreSQL an advisory lock, so that one replica at a
//! time works on a job; on an SQLite file (one process) and in memory, in-process only.
//! A replica that finds the job busy skips this run and tries again at the next interval.
//! A failed batch ends the run, is logged, and is retried at the next interval: a job never
//! takes the server down. A job whose progress is not in its data (streaming the audit log
//! out, say) keeps its cursor in the store, not here: nothing this module holds outlives
//! the process. Log retention needs none: what is left to prune is what is still there.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use vault_core::store::{JobName, JobStore, StoreError};

/// Whether a run has more batches to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Run another batch (after yielding to other tasks).
    More,
    /// The run is complete.
    Done,
}

/// How a run ended.
#[derive(Debug)]
pub enum End {
    /// Its last batch said [`Step::Done`].
    Done,
    /// Another replica was running a batch of the job: this one left the run to it.
    Busy,
    /// A batch failed; the next interval tries again.
    Failed(StoreError),
}

/// A periodic job: what one run does, batch by batch, and how it reports itself.
pub trait Job: Send + Sync + 'static {
    /// The store the job works on, and whose exclusion it runs under.
    type Store: JobStore;
    /// What a run carries from batch to batch (its inputs, its counts).
    type Run: Send;

    /// The job's name: its exclusion key, the same on every replica (a method, not a
    /// constant, so that one job type can run as several jobs: one per audit sink).
    fn name(&self) -> JobName;

    /// The store.
    fn store(&self) -> &Self::Store;

    /// Starts a run.
    fn start(&self) -> Self::Run;

    /// One batch: short, so that the job's exclusion (and any lock the batch takes in the
    /// store) is held briefly.
    fn batch(&self, run: &mut Self::Run) -> impl Future<Output = Result<Step, StoreError>> + Send;

    /// Reports a run that ended (one log line).
    fn finish(&self, run: Self::Run, end: &End);
}

/// Runs `job` once: batches under the job's exclusion until one says it is the last, the
/// job is busy elsewhere, or a batch fails. Yields between batches, so a long run never
/// holds a runtime thread.
pub async fn run_once<J: Job>(job: &J) -> End {
    let mut run = job.start();
    let end = loop {
        match job
            .store()
            .exclusive(job.name(), || job.batch(&mut run))
            .await
        {
            Ok(Some(Step::More)) => tokio::task::yield_now().await,
            Ok(Some(Step::Done)) => break End::Done,
            Ok(None) => break End::Busy,
            Err(error) => break End::Failed(error),
        }
    };
    job.finish(run, &end);
    end
}

type Task =
    Box<dyn FnOnce(watch::Receiver<bool>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// The jobs of a server, not started yet.
#[derive(Default)]
pub struct Jobs {
    pending: Vec<Task>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Jobs {
    /// Adds `job`, to run every `every` (at least 100 ms) once started; the first run
    /// comes one interval after the start, not with it, so a start is never slowed.
    pub fn add<J: Job>(&mut self, job: J, every: Duration) {
        let every = every.max(Duration::from_millis(100));
        self.pending.push(Box::new(move |stop| {
            Box::pin(async move { run_every(job, every, stop).await })
        }));
    }

    /// Adds a task every replica runs for itself every `every`, with no exclusion: for
    /// work on this process's own state (following a keyring another process changed),
    /// which running on one replica only would defeat. It logs its own failures.
    pub fn add_per_replica<F, Fut>(&mut self, every: Duration, task: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let every = every.max(Duration::from_millis(100));
        self.pending.push(Box::new(move |mut stop| {
            Box::pin(async move {
                let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = stop.changed() => return,
                    }
                    tokio::select! {
                        () = task() => {}
                        _ = stop.changed() => return,
                    }
                }
            })
        }));
    }

    /// Spawns every job on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    #[must_use]
    pub fn start(self) -> Running {
        let (stop, stopped) = watch::channel(false);
        let tasks = self
            .pending
            .into_iter()
            .map(|task| tokio::spawn(task(stopped.clone())))
            .collect();
        Running { stop, tasks }
    }
}

/// Started jobs.
#[derive(Debug)]
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops every job where it is and waits for them. A batch cut short is not half
    /// applied: each is one statement or transaction, and its exclusion ends with it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn run_every<J: Job>(job: J, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    // A run longer than the interval delays the next one rather than bunching them up.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        tokio::select! {
            _ = run_once(&job) => {}
            _ = stop.changed() => return,
        }
    }
}

/// An error with its whole cause chain, for a log line (store errors carry no secret).
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}
