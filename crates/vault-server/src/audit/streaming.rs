//! Following the audit log: one background job per follower, a sink (a JSON-lines file,
//! syslog) or the webhook events the log stands for. Each batch finds a chain the
//! follower is behind on, hands it the next events after its cursor, and moves the cursor
//! once the follower has them. The cursor is in the database (one per follower and
//! chain), so a restart resumes where it stopped, and a chain's numbers follow commit
//! order with no gap, so nothing is skipped. Delivery is at-least-once: a batch taken
//! whose cursor did not move is handed over again, and receivers tell repeats apart by
//! organization and sequence.
//!
//! A follower that fails is retried with exponential backoff (one second, doubling, at
//! most a minute); meanwhile its backlog stays in the database, and uses never wait on
//! it: the job only reads what they committed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use vault_audit_sinks::{AuditSink, StreamedEvent};
use vault_core::audit_chain::{AuditChain, AuditChainStore, ChainHead};
use vault_core::logs::{AuditEvent, AuditOutcome};
use vault_core::store::{JobName, JobStore, StoreError};
use vault_metrics::Metrics;

use crate::background::{End, Job, Step, chain};

/// Events handed to a sink at once.
pub const STREAM_BATCH: usize = 500;

/// The longest wait between two attempts at a failing sink.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What follows the audit log: it takes each batch of one chain's events, in order.
pub trait AuditFollower: Send + Sync + 'static {
    /// Takes `events`; `Err` (a message naming no event content) has the batch handed
    /// over again later, after a backoff.
    fn take<'a>(&'a self, events: &'a [AuditEvent]) -> BoxFuture<'a, Result<(), String>>;
}

/// A sink follows the log by having each event delivered in its streamed form.
impl AuditFollower for Arc<dyn AuditSink> {
    fn take<'a>(&'a self, events: &'a [AuditEvent]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let batch: Vec<StreamedEvent> = events.iter().map(streamed).collect();
            // The cause chain (refused, timed out, disk full); never an event's content.
            self.deliver(&batch).await.map_err(|error| chain(&error))
        })
    }
}

/// The job of one follower: the follower, its metrics, and when it may be tried again.
pub struct AuditStreaming<T, S> {
    owner: Arc<T>,
    store: fn(&T) -> &S,
    follower: Box<dyn AuditFollower>,
    /// The follower's label in metrics and its name in the cursors (`file`, `syslog`,
    /// `webhooks`).
    name: &'static str,
    job: JobName,
    metrics: Arc<Metrics>,
    backoff: Mutex<Backoff>,
}

impl<T, S> std::fmt::Debug for AuditStreaming<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditStreaming")
            .field("follower", &self.name)
            .finish_non_exhaustive()
    }
}

/// Consecutive failures, and when the next attempt may come.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
    until: Option<Instant>,
}

impl Backoff {
    fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let wait =
            Duration::from_secs(1 << self.failures.min(6).saturating_sub(1)).min(MAX_BACKOFF);
        self.until = Some(Instant::now() + wait);
        wait
    }

    fn succeeded(&mut self) {
        *self = Self::default();
    }

    fn waiting(&self) -> bool {
        self.until.is_some_and(|until| Instant::now() < until)
    }
}

impl<T, S> AuditStreaming<T, S> {
    /// The job handing the log to `follower`, named `name` (`file`, `syslog`, `webhooks`:
    /// its metrics label and its cursors' key; one job per name).
    pub fn new(
        owner: Arc<T>,
        store: fn(&T) -> &S,
        name: &'static str,
        follower: impl AuditFollower,
        metrics: Arc<Metrics>,
    ) -> Self {
        let job = JobName::new(match name {
            "file" => "audit-stream-file",
            "syslog" => "audit-stream-syslog",
            "https" => "audit-stream-https",
            "webhooks" => "audit-stream-webhooks",
            _ => "audit-stream",
        });
        Self {
            owner,
            store,
            follower: Box::new(follower),
            name,
            job,
            metrics,
            backoff: Mutex::default(),
        }
    }

    fn backoff(&self) -> std::sync::MutexGuard<'_, Backoff> {
        self.backoff.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One run: how many events it handed over, and the last failure.
#[derive(Debug, Default)]
pub struct StreamRun {
    delivered: u64,
    failure: Option<String>,
}

impl StreamRun {
    /// Events handed over in this run.
    #[must_use]
    pub const fn delivered(&self) -> u64 {
        self.delivered
    }
}

impl<T, S> Job for AuditStreaming<T, S>
where
    T: Send + Sync + 'static,
    S: AuditChainStore + JobStore,
{
    type Store = S;
    type Run = StreamRun;

    fn name(&self) -> JobName {
        self.job
    }

    fn store(&self) -> &S {
        (self.store)(&self.owner)
    }

    fn start(&self) -> StreamRun {
        StreamRun::default()
    }

    async fn batch(&self, run: &mut StreamRun) -> Result<Step, StoreError> {
        if self.backoff().waiting() {
            return Ok(Step::Done);
        }
        let store = self.store();
        // Read afresh each batch: another replica may have delivered meanwhile.
        let cursors: HashMap<AuditChain, u64> =
            store.sink_cursors(self.name).await?.into_iter().collect();
        let heads = store.chain_heads().await?;
        let lag = |heads: &[ChainHead], cursors: &HashMap<AuditChain, u64>| -> u64 {
            heads
                .iter()
                .map(|h| {
                    h.seq
                        .saturating_sub(cursors.get(&h.chain).copied().unwrap_or(0))
                })
                .sum()
        };
        self.metrics
            .set_audit_sink_lag(self.name, lag(&heads, &cursors));
        let behind = heads
            .iter()
            .map(|h| (h.chain, cursors.get(&h.chain).copied().unwrap_or(0), h.seq))
            .filter(|(_, cursor, head)| cursor < head)
            // The chain furthest behind first, so that no chain waits on a busy one.
            .max_by_key(|(chain, cursor, head)| (head - cursor, std::cmp::Reverse(*chain)));
        let Some((chain, cursor, _)) = behind else {
            return Ok(Step::Done);
        };
        let events = store.chain_events(chain, cursor + 1, STREAM_BATCH).await?;
        let Some(last) = events.last().and_then(|e| e.chain) else {
            return Ok(Step::Done);
        };
        if let Some(first) = events.first().and_then(|e| e.chain)
            && first.seq > cursor + 1
        {
            tracing::warn!(
                follower = self.name,
                chain = %chain,
                "audit events {} to {} of {chain} were cut by retention before {} took them",
                cursor + 1,
                first.seq - 1,
                self.name
            );
        }
        if let Err(error) = self.follower.take(&events).await {
            self.metrics.count_audit_sink_failure(self.name);
            let wait = self.backoff().failed();
            run.failure = Some(format!("{error} (next attempt in {}s)", wait.as_secs()));
            return Ok(Step::Done);
        }
        self.backoff().succeeded();
        store.save_sink_cursor(self.name, chain, last.seq).await?;
        run.delivered += events.len() as u64;
        Ok(Step::More)
    }

    fn finish(&self, run: StreamRun, end: &End) {
        let (sink, delivered) = (self.name, run.delivered);
        if let Some(failure) = &run.failure {
            tracing::warn!(
                sink,
                audit_events_delivered = delivered,
                "audit sink {sink} failed, its backlog kept in the database: {failure}"
            );
        } else if delivered > 0 {
            tracing::debug!(
                sink,
                audit_events_delivered = delivered,
                "audit events streamed"
            );
        }
        if let End::Failed(error) = end {
            tracing::warn!(
                sink,
                error = %chain(error),
                "audit streaming to {sink} could not read the store (retried at the next interval)"
            );
        }
    }
}

/// The sinks `settings` configure, each with its name (`file`, `syslog`, `https`).
///
/// # Errors
/// A sink that cannot work: a file in a missing directory, a syslog address or facility
/// that does not parse.
pub fn configured_sinks(
    settings: &crate::settings::Settings,
) -> anyhow::Result<Vec<(&'static str, Arc<dyn AuditSink>)>> {
    use anyhow::Context as _;
    use vault_audit_sinks::{
        FileSink, HttpsConfig, HttpsSink, Rotation, SyslogAddress, SyslogConfig, SyslogSink,
    };

    let mut sinks: Vec<(&'static str, Arc<dyn AuditSink>)> = Vec::new();
    if let Some(path) = settings
        .audit_sink_file
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        let rotation = Rotation {
            max_bytes: settings.audit_sink_file_max_bytes,
            keep: settings.audit_sink_file_keep as usize,
        };
        let sink = FileSink::new(path, rotation).with_context(|| {
            format!("cannot stream the audit log to {path} (VAULT_AUDIT_SINK_FILE)")
        })?;
        sinks.push(("file", Arc::new(sink)));
    }
    if let Some(address) = settings
        .audit_sink_syslog
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        let address: SyslogAddress = address
            .parse()
            .context("VAULT_AUDIT_SINK_SYSLOG must be tcp://host:port or udp://host:port")?;
        let mut config = SyslogConfig::new(address, hostname());
        config.facility = settings
            .audit_sink_syslog_facility
            .parse()
            .context("VAULT_AUDIT_SINK_SYSLOG_FACILITY is not a syslog facility")?;
        sinks.push(("syslog", Arc::new(SyslogSink::new(config))));
    }
    if let Some(url) = settings
        .audit_sink_https
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        use secrecy::ExposeSecret as _;
        let header = settings
            .audit_sink_https_header
            .as_ref()
            .map(|h| h.expose_secret().to_owned());
        let config = HttpsConfig::new(url, header.as_deref())
            .context("VAULT_AUDIT_SINK_HTTPS or VAULT_AUDIT_SINK_HTTPS_HEADER")?;
        // The operator chose this collector: unlike a credential's destinations, it may be
        // on a private network.
        let upstream = vault_upstream::HttpUpstream::new(vault_upstream::UpstreamConfig {
            allow_private_networks: true,
            connect_timeout: Duration::from_millis(settings.proxy_connect_timeout_ms),
            total_timeout: Duration::from_millis(settings.proxy_timeout_ms),
            extra_roots: settings.proxy_ca_file.clone(),
            ..vault_upstream::UpstreamConfig::default()
        })
        .context("cannot set up the HTTP client of the audit HTTPS sink")?;
        sinks.push(("https", Arc::new(HttpsSink::new(config, upstream))));
    }
    Ok(sinks)
}

/// This machine's name, for syslog's HOSTNAME (`None`: sent as `-`).
fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

/// `event` as sinks take it.
fn streamed(event: &AuditEvent) -> StreamedEvent {
    let link = event.chain;
    StreamedEvent {
        json: vault_http::audit_event_json(event),
        at: event.at,
        action: event.action.as_str().to_owned(),
        outcome_failure: event.outcome == AuditOutcome::Failure,
        organization_id: event.organization_id.map(|o| *o.as_uuid()),
        sequence: link.map_or(0, |l| l.seq),
        hash_hex: link.map(|l| hex::encode(l.hash)).unwrap_or_default(),
    }
}
