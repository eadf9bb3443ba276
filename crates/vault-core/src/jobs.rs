//! Background jobs' exclusion port: one batch of a job at a time across the processes
//! sharing a store, so that two replicas never do the same work at once (DESIGN.md §8).

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use crate::store::StoreError;

/// A background job's name. Every replica running the job uses the same name, which is
/// what a store keys its exclusion on (see [`JobStore`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JobName(&'static str);

impl JobName {
    /// A job named `name` (lower case and dashes, by convention: `log-retention`).
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// The name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

/// One batch of a background job at a time, across every process sharing the store, so
/// that two replicas never do the same work at once.
///
/// # Errors
/// - `exclusive` MUST run `batch` only while no other `exclusive` call for the same `job`
///   (in this process or another one sharing the store) is running its batch, and
///   otherwise return `Ok(None)` at once without running it: it never waits for the other.
/// - Calls for different jobs MUST NOT exclude each other.
/// - Whatever happens (the batch fails, the caller drops the future, the process dies),
///   the exclusion MUST end with the call: nothing is left held.
/// - A failed batch's error is returned as it is.
pub trait JobStore: Send + Sync + 'static {
    /// Runs `batch` as `job`'s only batch in flight, or returns `None` when another one is.
    fn exclusive<T, F, Fut>(
        &self,
        job: JobName,
        batch: F,
    ) -> impl Future<Output = Result<Option<T>, StoreError>> + Send
    where
        T: Send,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, StoreError>> + Send;
}

/// In-process exclusion, for stores only one process uses at a time (an SQLite file, the
/// in-memory store): there, the jobs of this process are the only ones to exclude.
#[derive(Debug, Default)]
pub struct LocalJobs {
    running: Mutex<HashSet<JobName>>,
}

impl LocalJobs {
    /// [`JobStore::exclusive`] within this process.
    ///
    /// # Errors
    /// The batch's.
    pub async fn exclusive<T, F, Fut>(
        &self,
        job: JobName,
        batch: F,
    ) -> Result<Option<T>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let Some(_running) = self.enter(job) else {
            return Ok(None);
        };
        batch().await.map(Some)
    }

    fn enter(&self, job: JobName) -> Option<Running<'_>> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        // `then`, not `then_some`: a `Running` made and dropped here would leave the set
        // while this lock is held.
        running.insert(job).then(|| Running { jobs: self, job })
    }
}

/// A batch in flight: leaves the set when dropped, so a failed or cancelled batch (its
/// future dropped midway) leaves nothing held.
struct Running<'a> {
    jobs: &'a LocalJobs,
    job: JobName,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.jobs
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: JobName = JobName::new("one");
    const OTHER: JobName = JobName::new("other");

    #[test]
    fn one_batch_of_a_job_at_a_time_and_nothing_held_after() {
        let jobs = LocalJobs::default();
        let nested = futures::executor::block_on(jobs.exclusive(ONE, || async {
            let same = jobs.exclusive(ONE, || async { Ok(1) }).await?;
            let other = jobs.exclusive(OTHER, || async { Ok(2) }).await?;
            Ok((same, other))
        }));
        assert_eq!(nested.expect("no error"), Some((None, Some(2))));
        let failed: Result<Option<()>, _> = futures::executor::block_on(
            jobs.exclusive(ONE, || async { Err(StoreError::Conflict) }),
        );
        assert!(matches!(failed, Err(StoreError::Conflict)));
        let again = futures::executor::block_on(jobs.exclusive(ONE, || async { Ok(3) }));
        assert_eq!(again.expect("no error"), Some(3));
    }
}
