//! The audit checkpoints job: every interval, each chain that grew since its last
//! checkpoint is verified from there to its head and, only if it verifies, a checkpoint of
//! the head is signed and stored. A chain that does not verify is logged as an error at
//! every run until someone looks: nothing signs over a tampered stretch.

use std::sync::Arc;

use time::OffsetDateTime;
use vault_audit::{ChainBreak, CheckpointSigner, Checkpointed, checkpoint_chain};
use vault_core::audit_chain::{AuditChainStore, ChainHead};
use vault_core::store::{JobName, JobStore, StoreError};

use crate::background::{End, Job, Step, chain};

/// The job: the signer, and the store reached through what owns it.
pub struct AuditCheckpoints<T, S> {
    owner: Arc<T>,
    store: fn(&T) -> &S,
    signer: Arc<CheckpointSigner>,
}

impl<T, S> std::fmt::Debug for AuditCheckpoints<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditCheckpoints")
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl<T, S> AuditCheckpoints<T, S> {
    /// The job over `owner`'s store, signing with `signer`.
    pub const fn new(owner: Arc<T>, store: fn(&T) -> &S, signer: Arc<CheckpointSigner>) -> Self {
        Self {
            owner,
            store,
            signer,
        }
    }
}

/// One run: the chains still to look at (read at its first batch), and what came of the
/// others.
#[derive(Debug, Default)]
pub struct CheckpointRun {
    chains: Option<Vec<ChainHead>>,
    signed: u64,
    broken: Vec<ChainBreak>,
}

impl CheckpointRun {
    /// How many checkpoints the run signed.
    #[must_use]
    pub const fn signed(&self) -> u64 {
        self.signed
    }

    /// The chains that did not verify.
    #[must_use]
    pub fn broken(&self) -> &[ChainBreak] {
        &self.broken
    }
}

impl<T, S> Job for AuditCheckpoints<T, S>
where
    T: Send + Sync + 'static,
    S: AuditChainStore + JobStore,
{
    type Store = S;
    type Run = CheckpointRun;

    fn name(&self) -> JobName {
        JobName::new("audit-checkpoints")
    }

    fn store(&self) -> &S {
        (self.store)(&self.owner)
    }

    fn start(&self) -> CheckpointRun {
        CheckpointRun::default()
    }

    async fn batch(&self, run: &mut CheckpointRun) -> Result<Step, StoreError> {
        let chains = match &mut run.chains {
            Some(chains) => chains,
            None => run.chains.insert(self.store().chain_heads().await?),
        };
        // One chain per batch: the job's exclusion is held for one chain's walk at most.
        let Some(head) = chains.pop() else {
            return Ok(Step::Done);
        };
        let now = OffsetDateTime::now_utc();
        match checkpoint_chain(self.store(), &self.signer, head, now).await? {
            Checkpointed::UpToDate => {}
            Checkpointed::Signed(_) => run.signed += 1,
            Checkpointed::Broken(broken) => run.broken.push(broken),
        }
        Ok(if chains.is_empty() {
            Step::Done
        } else {
            Step::More
        })
    }

    fn finish(&self, run: CheckpointRun, end: &End) {
        for broken in &run.broken {
            tracing::error!(
                chain = %broken.chain,
                seq = broken.seq,
                "audit chain does not verify, so no checkpoint was signed: {broken}"
            );
        }
        let signed = run.signed;
        match end {
            End::Done if signed > 0 => {
                tracing::info!(
                    checkpoints_signed = signed,
                    "audit checkpoints: signed {signed}"
                );
            }
            End::Done | End::Busy => {}
            End::Failed(error) => tracing::warn!(
                checkpoints_signed = signed,
                error = %chain(error),
                "audit checkpoints failed (retried at the next interval) after signing {signed}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use vault_core::audit_chain::AuditChain;
    use vault_core::logs::LogRecord;
    use vault_core::store::{LogStore, OrganizationStore};
    use vault_testkit::memory::MemoryStore;
    use vault_testkit::store_suite::{Tamper, sample_audit_event, sample_organization};

    use super::*;
    use crate::background::run_once;

    #[tokio::test]
    async fn a_run_signs_each_grown_chain_once_and_never_a_tampered_one() {
        let store = Arc::new(MemoryStore::new());
        let mut chains = Vec::new();
        for _ in 0..2 {
            let organization = sample_organization();
            store
                .insert_organization(&organization)
                .await
                .expect("organization");
            chains.push(AuditChain::Organization(organization.id));
            for _ in 0..3 {
                let event = sample_audit_event(Some(organization.id));
                store
                    .append_log(LogRecord::Audit(event))
                    .await
                    .expect("event");
            }
        }
        let signer = Arc::new(CheckpointSigner::generate().expect("signer"));
        let job = AuditCheckpoints::new(store.clone(), |s| s, signer.clone());
        assert!(matches!(run_once(&job).await, End::Done));
        for chain in &chains {
            let kept = store
                .list_checkpoints(*chain, None, 10)
                .await
                .expect("list");
            assert_eq!(
                kept.iter().map(|c| c.seq).collect::<Vec<_>>(),
                [3],
                "{chain}"
            );
            assert!(signer.public_key().verifies(&kept[0]));
        }
        // Nothing new: nothing signed.
        let mut run = job.start();
        while job.batch(&mut run).await.expect("batch") == Step::More {}
        assert_eq!(run.signed(), 0);

        // Both chains grow, and the second is tampered with after its last checkpoint: only
        // the first is signed. (A stretch before the last checkpoint is `audit verify`'s
        // to find: the job walks on from the checkpoint it trusts.)
        let mut grown = Vec::new();
        for chain in &chains {
            let event = sample_audit_event(chain.organization());
            grown.push(event.id);
            store
                .append_log(LogRecord::Audit(event))
                .await
                .expect("event");
        }
        store.set_reason(grown[1], "edited").await;
        let mut run = job.start();
        while job.batch(&mut run).await.expect("batch") == Step::More {}
        assert_eq!(run.signed(), 1);
        assert_eq!(run.broken().len(), 1);
        assert_eq!(run.broken()[0].chain, chains[1]);
        let kept = store
            .list_checkpoints(chains[1], None, 10)
            .await
            .expect("list");
        assert_eq!(kept.len(), 1, "a tampered chain was signed");
    }
}
