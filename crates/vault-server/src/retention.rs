//! Log retention, the first background job: deletes request-log entries and audit events
//! older than their configured number of days, in batches, every interval. Audit events
//! go chain by chain, each cut verified and marked by a signed retention checkpoint
//! ([`vault_audit::cut_chain_before`]), so every chain still verifies from its cut.

use std::sync::Arc;

use time::OffsetDateTime;
use vault_audit::{ChainBreak, CheckpointSigner, Cut, cut_chain_before};
use vault_core::audit_chain::{AuditChain, AuditChainStore};
use vault_core::store::{JobName, JobStore, LogKind, LogStore, StoreError};

use crate::background::{End, Job, Step, chain};
use crate::settings::Settings;

/// Rows per batch: each is one short statement, so a use waits at most that long for the
/// database's write lock (SQLite) or never (PostgreSQL: row locks on old rows only).
pub const PRUNE_BATCH: usize = 1_000;

/// The job: how long each log is kept, and the store, reached through what owns it (the
/// served vault holds its store).
pub struct LogRetention<T, S> {
    owner: Arc<T>,
    store: fn(&T) -> &S,
    signer: Arc<CheckpointSigner>,
    request_days: u32,
    audit_days: u32,
    batch: usize,
}

impl<T, S> std::fmt::Debug for LogRetention<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogRetention")
            .field("request_days", &self.request_days)
            .field("audit_days", &self.audit_days)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl<T, S> LogRetention<T, S> {
    /// The job for `settings`, signing audit cuts with `signer`, or `None` when both logs
    /// are kept forever.
    pub fn new(
        owner: Arc<T>,
        store: fn(&T) -> &S,
        signer: Arc<CheckpointSigner>,
        settings: &Settings,
    ) -> Option<Self> {
        Self::with_batch(
            owner,
            store,
            signer,
            settings.request_log_retention_days,
            settings.audit_retention_days,
            PRUNE_BATCH,
        )
    }

    /// The job with explicit retentions (days, 0: forever) and batch size.
    pub fn with_batch(
        owner: Arc<T>,
        store: fn(&T) -> &S,
        signer: Arc<CheckpointSigner>,
        request_days: u32,
        audit_days: u32,
        batch: usize,
    ) -> Option<Self> {
        (request_days > 0 || audit_days > 0).then_some(Self {
            owner,
            store,
            signer,
            request_days,
            audit_days,
            batch: batch.max(1),
        })
    }

    const fn days(&self, log: LogKind) -> u32 {
        match log {
            LogKind::Request => self.request_days,
            LogKind::Audit => self.audit_days,
        }
    }
}

/// One run: the logs still to prune with their cutoffs, what was deleted so far, and for
/// the audit log, whether its events from before chains are done and the chains still to
/// cut (read when their turn comes).
#[derive(Debug)]
pub struct PruneRun {
    pending: Vec<(LogKind, OffsetDateTime)>,
    request_deleted: u64,
    audit_deleted: u64,
    unchained_done: bool,
    chains: Option<Vec<AuditChain>>,
    broken: Vec<ChainBreak>,
}

impl<T, S> Job for LogRetention<T, S>
where
    T: Send + Sync + 'static,
    S: LogStore + AuditChainStore + JobStore,
{
    type Store = S;
    type Run = PruneRun;

    fn name(&self) -> JobName {
        JobName::new("log-retention")
    }

    fn store(&self) -> &S {
        (self.store)(&self.owner)
    }

    fn start(&self) -> PruneRun {
        let now = OffsetDateTime::now_utc();
        // A retention too long to subtract from now keeps everything, as 0 does.
        let pending = LogKind::ALL
            .into_iter()
            .filter(|&log| self.days(log) > 0)
            .filter_map(|log| {
                let cutoff = now.checked_sub(time::Duration::days(i64::from(self.days(log))))?;
                Some((log, cutoff))
            })
            .collect();
        PruneRun {
            pending,
            request_deleted: 0,
            audit_deleted: 0,
            unchained_done: false,
            chains: None,
            broken: Vec::new(),
        }
    }

    async fn batch(&self, run: &mut PruneRun) -> Result<Step, StoreError> {
        let Some(&(log, cutoff)) = run.pending.first() else {
            return Ok(Step::Done);
        };
        let finished = match log {
            LogKind::Request => {
                let deleted = self.store().prune_log(log, cutoff, self.batch).await?;
                run.request_deleted += deleted;
                // A short batch: nothing older is left in this log.
                deleted < self.batch as u64
            }
            LogKind::Audit => self.cut_audit(run, cutoff).await?,
        };
        if finished {
            run.pending.remove(0);
        }
        Ok(if run.pending.is_empty() {
            Step::Done
        } else {
            Step::More
        })
    }

    fn finish(&self, run: PruneRun, end: &End) {
        for broken in &run.broken {
            tracing::error!(
                chain = %broken.chain,
                seq = broken.seq,
                "log retention left an audit chain uncut, as it does not verify: {broken}"
            );
        }
        let (request, audit) = (run.request_deleted, run.audit_deleted);
        let (request_days, audit_days) = (self.request_days, self.audit_days);
        match end {
            End::Done => tracing::info!(
                request_log_deleted = request,
                audit_events_deleted = audit,
                request_log_retention_days = request_days,
                audit_retention_days = audit_days,
                "log retention: pruned {request} request-log entries and {audit} audit events"
            ),
            // Before any batch: the other replica is pruning; nothing to report.
            End::Busy if request == 0 && audit == 0 => tracing::debug!(
                "log retention: another replica holds the job; skipped until the next interval"
            ),
            End::Busy => tracing::info!(
                request_log_deleted = request,
                audit_events_deleted = audit,
                "log retention: pruned {request} request-log entries and {audit} audit events, \
                 then another replica took the job over"
            ),
            End::Failed(error) => tracing::warn!(
                request_log_deleted = request,
                audit_events_deleted = audit,
                error = %chain(error),
                "log retention failed (retried at the next interval) after pruning {request} \
                 request-log entries and {audit} audit events"
            ),
        }
    }
}

impl<T, S> LogRetention<T, S>
where
    S: LogStore + AuditChainStore,
{
    /// One batch of the audit log: events from before chains first (by id), then each
    /// chain's old events, one cut per batch. Whether the log is done.
    async fn cut_audit(
        &self,
        run: &mut PruneRun,
        cutoff: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let store = (self.store)(&self.owner);
        if !run.unchained_done {
            let deleted = store.prune_log(LogKind::Audit, cutoff, self.batch).await?;
            run.audit_deleted += deleted;
            run.unchained_done = deleted < self.batch as u64;
            return Ok(false);
        }
        let chains = match &mut run.chains {
            Some(chains) => chains,
            None => {
                let heads = store.chain_heads().await?;
                run.chains
                    .insert(heads.into_iter().map(|head| head.chain).collect())
            }
        };
        let Some(&chain) = chains.last() else {
            return Ok(true);
        };
        let now = OffsetDateTime::now_utc();
        let more =
            match cut_chain_before(store, &self.signer, chain, cutoff, self.batch, now).await? {
                Cut::Nothing => false,
                Cut::Done { deleted, more, .. } => {
                    run.audit_deleted += deleted;
                    more
                }
                Cut::Broken(broken) => {
                    run.broken.push(broken);
                    false
                }
            };
        if !more {
            chains.pop();
        }
        Ok(chains.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use vault_core::ids::CredentialId;
    use vault_core::logs::{AuditEvent, LogRecord, RequestLogEntry, RequestLogQuery};
    use vault_core::store::OrganizationStore;
    use vault_testkit::memory::MemoryStore;
    use vault_testkit::store_suite::{
        log_id_at, sample_audit_event, sample_organization, sample_request_log,
    };

    use super::*;
    use crate::background::run_once;

    /// A store with 5 request-log entries and 5 audit events 10 days old, and one of each
    /// from now.
    async fn store_with_old_and_new() -> (Arc<MemoryStore>, vault_core::OrganizationId) {
        let store = Arc::new(MemoryStore::new());
        let organization = sample_organization();
        store
            .insert_organization(&organization)
            .await
            .expect("organization");
        let now = vault_core::clock::truncate_to_micros(OffsetDateTime::now_utc());
        for age in [10, 10, 10, 10, 10, 0] {
            let at = now - Duration::days(age);
            let entry = RequestLogEntry {
                id: log_id_at(at),
                at,
                ..sample_request_log(organization.id, CredentialId::new())
            };
            store
                .append_log(LogRecord::Request(entry))
                .await
                .expect("entry");
            let event = AuditEvent {
                id: log_id_at(at),
                at,
                ..sample_audit_event(Some(organization.id))
            };
            store
                .append_log(LogRecord::Audit(event))
                .await
                .expect("event");
        }
        (store, organization.id)
    }

    fn job(
        store: &Arc<MemoryStore>,
        request_days: u32,
        audit_days: u32,
    ) -> LogRetention<MemoryStore, MemoryStore> {
        let signer = Arc::new(CheckpointSigner::generate().expect("a signer"));
        LogRetention::with_batch(store.clone(), |s| s, signer, request_days, audit_days, 2)
            .expect("a job")
    }

    async fn request_log_len(store: &MemoryStore, org: vault_core::OrganizationId) -> usize {
        let query = RequestLogQuery {
            limit: 100,
            ..RequestLogQuery::default()
        };
        store
            .list_request_logs(org, &query)
            .await
            .expect("list")
            .len()
    }

    #[tokio::test]
    async fn a_run_prunes_in_batches_until_a_short_one_and_keeps_what_is_kept_forever() {
        let (store, org) = store_with_old_and_new().await;
        let retention = job(&store, 1, 0);
        assert!(matches!(run_once(&retention).await, End::Done));
        assert_eq!(
            request_log_len(&store, org).await,
            1,
            "the old entries stay"
        );
        // Audit retention 0: every audit event is kept.
        let audit = store
            .list_audit_events(
                org,
                &vault_core::logs::AuditQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(audit.len(), 6);
        let signer = Arc::new(CheckpointSigner::generate().expect("a signer"));
        let store_of: fn(&MemoryStore) -> &MemoryStore = |s| s;
        assert!(LogRetention::with_batch(store.clone(), store_of, signer, 0, 0, 2).is_none());
    }

    #[tokio::test]
    async fn audit_retention_cuts_each_chain_under_a_signed_checkpoint_it_verifies_from() {
        let (store, org) = store_with_old_and_new().await;
        let retention = job(&store, 0, 1);
        assert!(matches!(run_once(&retention).await, End::Done));
        let chain = AuditChain::Organization(org);
        let left = store.chain_events(chain, 0, 100).await.expect("events");
        assert_eq!(left.len(), 1, "the old events stay");
        let cuts = store.list_checkpoints(chain, None, 10).await.expect("list");
        // Batches of 2: a cut each, each under its retention checkpoint.
        let retention_kind = vault_core::audit_chain::CheckpointKind::Retention;
        assert_eq!(
            cuts.iter().map(|c| (c.seq, c.kind)).collect::<Vec<_>>(),
            [
                (5, retention_kind),
                (4, retention_kind),
                (2, retention_kind)
            ]
        );
        let key = retention.signer.public_key().clone();
        let reports = vault_audit::verify_chains(&*store, &key, Some(chain), &[])
            .await
            .expect("verified");
        assert_eq!(reports[0].broken, None, "{reports:?}");
        assert_eq!((reports[0].first, reports[0].last), (Some(6), Some(6)));
    }

    #[tokio::test]
    async fn audit_retention_never_cuts_a_chain_that_does_not_verify() {
        use vault_testkit::store_suite::Tamper as _;
        let (store, org) = store_with_old_and_new().await;
        let chain = AuditChain::Organization(org);
        let second = store.chain_events(chain, 2, 1).await.expect("events")[0].id;
        store.set_reason(second, "edited").await;
        let retention = job(&store, 0, 1);
        let mut run = retention.start();
        while retention.batch(&mut run).await.expect("batch") == Step::More {}
        assert_eq!(run.broken.len(), 1);
        assert_eq!(run.broken[0].seq, 2);
        assert_eq!(
            store
                .chain_events(chain, 0, 100)
                .await
                .expect("events")
                .len(),
            6,
            "a tampered chain was cut"
        );
        assert!(
            store
                .list_checkpoints(chain, None, 10)
                .await
                .expect("list")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_run_leaves_the_job_to_whoever_holds_it() {
        let (store, org) = store_with_old_and_new().await;
        let retention = job(&store, 1, 0);
        let name = retention.name();
        // Another holder of the job (a replica's batch, here a task of this process).
        let (entered, is_entered) = tokio::sync::oneshot::channel();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let holder = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .exclusive(name, || async move {
                        let _ = entered.send(());
                        let _ = released.await;
                        Ok(())
                    })
                    .await
            }
        });
        is_entered.await.expect("the holder entered");
        let end = run_once(&retention).await;
        let _ = release.send(());
        holder.await.expect("joined").expect("no error");
        assert!(matches!(end, End::Busy), "{end:?}");
        assert_eq!(request_log_len(&store, org).await, 6, "a busy run deleted");
        assert!(matches!(run_once(&retention).await, End::Done));
        assert_eq!(request_log_len(&store, org).await, 1);
    }
}
