//! Webhooks' background work: three jobs of the one pattern (see `background.rs`), each
//! run by one replica at a time.
//! - Events from the audit log: a follower of the chains (like a sink, with its own
//!   cursor) that publishes `key.rotated`, `oauth.reconnect_required` and
//!   `oauth.reconnected` for the events that stand for them.
//! - Reminders: `credential.expiring`, `credential.expired`, `access_key.expiring`, each
//!   recorded once (see `vault_core::vault::webhooks`).
//! - Sending: the due deliveries, signed, with retries on the core's schedule.
//! - Retention: the settled deliveries older than `webhook_delivery_retention_days`.

use std::sync::Arc;

use futures::future::BoxFuture;
use vault_core::logs::AuditEvent;
use vault_core::store::{JobName, StoreError};
use vault_core::webhooks::event_of_audit;
use vault_core::{Store, Vault, VaultError};

use crate::audit::streaming::AuditFollower;
use crate::background::{End, Job, Step, chain};
use crate::retention::PRUNE_BATCH;

/// Deliveries sent per batch.
const SEND_BATCH: usize = 50;

/// Publishes the webhook events that audit events stand for.
pub struct EventsFromAudit<S> {
    vault: Arc<Vault<S>>,
}

impl<S> std::fmt::Debug for EventsFromAudit<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsFromAudit").finish_non_exhaustive()
    }
}

impl<S> EventsFromAudit<S> {
    /// The follower publishing through `vault`.
    pub const fn new(vault: Arc<Vault<S>>) -> Self {
        Self { vault }
    }
}

impl<S: Store> AuditFollower for EventsFromAudit<S> {
    fn take<'a>(&'a self, events: &'a [AuditEvent]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            for (organization, event) in events.iter().filter_map(event_of_audit) {
                self.vault
                    .publish_webhook_event(organization, &event)
                    .await
                    .map_err(|error| chain(&error))?;
            }
            Ok(())
        })
    }
}

/// Which of the webhook jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookWork {
    /// Send the due deliveries.
    Send,
    /// Record the due expiry reminders.
    Remind,
    /// Delete the settled deliveries older than this many days.
    Prune(u32),
}

/// A webhook job over a vault.
pub struct WebhookJob<S> {
    vault: Arc<Vault<S>>,
    work: WebhookWork,
}

impl<S> std::fmt::Debug for WebhookJob<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookJob")
            .field("work", &self.work)
            .finish_non_exhaustive()
    }
}

impl<S> WebhookJob<S> {
    /// The job doing `work` on `vault`.
    pub const fn new(vault: Arc<Vault<S>>, work: WebhookWork) -> Self {
        Self { vault, work }
    }
}

/// What a run did: deliveries sent and failed, or reminders made.
#[derive(Debug, Default)]
pub struct WebhookRun {
    done: usize,
    failed: usize,
}

impl<S: Store> Job for WebhookJob<S> {
    type Store = S;
    type Run = WebhookRun;

    fn name(&self) -> JobName {
        JobName::new(match self.work {
            WebhookWork::Send => "webhook-deliveries",
            WebhookWork::Remind => "webhook-reminders",
            WebhookWork::Prune(_) => "webhook-delivery-retention",
        })
    }

    fn store(&self) -> &S {
        self.vault.store()
    }

    fn start(&self) -> WebhookRun {
        WebhookRun::default()
    }

    async fn batch(&self, run: &mut WebhookRun) -> Result<Step, StoreError> {
        match self.work {
            WebhookWork::Send => {
                let sent = self
                    .vault
                    .send_due_webhooks(SEND_BATCH)
                    .await
                    .map_err(store_error)?;
                run.done += sent.delivered;
                run.failed += sent.failed;
                let full = sent.delivered + sent.failed == SEND_BATCH;
                Ok(if full { Step::More } else { Step::Done })
            }
            WebhookWork::Remind => {
                run.done += self
                    .vault
                    .send_expiry_reminders()
                    .await
                    .map_err(store_error)?;
                Ok(Step::Done)
            }
            WebhookWork::Prune(days) => {
                let deleted = self
                    .vault
                    .prune_webhook_deliveries(days, PRUNE_BATCH)
                    .await
                    .map_err(store_error)?;
                run.done += usize::try_from(deleted).unwrap_or(usize::MAX);
                // A short batch: nothing older is left.
                Ok(if deleted < PRUNE_BATCH as u64 {
                    Step::Done
                } else {
                    Step::More
                })
            }
        }
    }

    fn finish(&self, run: WebhookRun, end: &End) {
        let job = self.name();
        if run.done + run.failed > 0 {
            tracing::debug!(
                job = job.as_str(),
                done = run.done,
                failed = run.failed,
                "webhook job ran"
            );
        }
        if let End::Failed(error) = end {
            tracing::warn!(job = job.as_str(), error = %chain(error), "a webhook job failed (retried at the next interval)");
        }
    }
}

/// A use case's failure as the job reports it: the store's own error where there is one.
fn store_error(error: VaultError) -> StoreError {
    match error {
        VaultError::Store(error) | VaultError::Unavailable(error) => error,
        // A sealed secret that does not open, say: reported, and retried next interval.
        other => StoreError::Backend(chain(&other).into()),
    }
}
