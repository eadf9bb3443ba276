//! Building and running the application: open the store and the cipher, check the key and
//! the schema, start actix-web.

use std::future::Future;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::web::Data;
use actix_web::{App, HttpServer};
use anyhow::{Context, anyhow, bail};
use vault_audit::CheckpointSigner;
use vault_bundle_age::AgeBundles;
use vault_cipher_ring::RingCipher;
use vault_core::{Store, SystemClock, Vault};
use vault_http::{
    ApiConfig, CheckpointKeyInfo, FailureLimit, FailureLimiter, InFlight, KeyManagerHealth,
    ProxyLimits, RateLimit, RateLimiter, SourceAddresses,
};
use vault_jwt::JsonWebTokenSigner;
use vault_metrics::{MeteredCipher, MeteredStore, MeteredUpstream, Metrics};
use vault_request_signer::RingRequestSigner;
use vault_store_postgres::{PgOptions, PgStore, SchemaStatus};
use vault_store_sqlite::SqliteStore;
use vault_upstream::{HttpUpstream, UpstreamConfig};

use crate::audit::{AuditCheckpoints, AuditStreaming};
use crate::background::Jobs;
use crate::keyring::{self, KeyHierarchy, KeySource};
use crate::retention::LogRetention;
use crate::settings::{Database, Settings, redact_url};
use crate::webhooks::{EventsFromAudit, WebhookJob, WebhookWork};

/// The vault the server runs, over a store `S`. Store, cipher and upstream are metered:
/// their calls are counted and timed for `/metrics`, in the store's registry.
pub type ServerVault<S> = Vault<MeteredStore<S>>;
/// The vault on the embedded default.
pub type SqliteVault = ServerVault<SqliteStore>;
/// The vault on PostgreSQL.
pub type PostgresVault = ServerVault<PgStore>;

/// Work done once the vault is open, whichever store the configuration names. (A trait
/// rather than a closure because the work is generic over the store type.)
pub trait VaultJob {
    /// What the work returns.
    type Output;
    /// Does the work.
    fn run<S: Store>(
        self,
        vault: ServerVault<S>,
        keys: KeyHierarchy,
    ) -> impl Future<Output = anyhow::Result<Self::Output>>;
}

/// Opens the configured store and keyring, checks key and schema, and runs `job`.
///
/// # Errors
/// Unreachable store, bad or wrong key, a key manager that refuses or cannot be reached, a
/// schema the binary cannot serve: each with a message that says what to do.
pub async fn with_vault<J: VaultJob>(settings: &Settings, job: J) -> anyhow::Result<J::Output> {
    match Database::parse(&settings.database_url).map_err(|e| anyhow!(e))? {
        Database::Sqlite(path) => {
            let (vault, keys) = open_sqlite(settings, &path).await?;
            job.run(vault, keys).await
        }
        Database::Postgres(url) => {
            let (vault, keys) = open_postgres(settings, &url).await?;
            job.run(vault, keys).await
        }
    }
}

/// Whether the configured key manager is the static key (which then must be given).
fn static_key_required(settings: &Settings) -> bool {
    settings.key_manager == "static"
}

/// Opens the vault on the configured SQLite file (tests use this directly).
///
/// # Errors
/// As [`with_vault`], or when the configured database is not SQLite.
pub async fn open_sqlite_vault(settings: &Settings) -> anyhow::Result<(SqliteVault, KeyHierarchy)> {
    match Database::parse(&settings.database_url).map_err(|e| anyhow!(e))? {
        Database::Sqlite(path) => open_sqlite(settings, &path).await,
        Database::Postgres(_) => bail!("DATABASE_URL is not an SQLite database"),
    }
}

async fn open_sqlite(
    settings: &Settings,
    path: &Path,
) -> anyhow::Result<(SqliteVault, KeyHierarchy)> {
    let statics = keyring::environment::load(settings, Some(path), static_key_required(settings))?;
    // SQLite always migrates on open: it is the zero-set-up embedded default.
    let store = SqliteStore::open(&settings.database_url)
        .await
        .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
    let (cipher, keys) = keyring::hierarchy::open(&store, settings, statics).await?;
    let vault = open_metered(store, cipher).await?;
    Ok((finish(vault, settings)?, keys))
}

/// The system clock, waiting on tokio's timer (the domain's default parks a thread).
#[derive(Clone, Copy, Debug)]
struct RuntimeClock;

impl vault_core::Clock for RuntimeClock {
    fn now(&self) -> time::OffsetDateTime {
        vault_core::Clock::now(&SystemClock)
    }

    fn sleep(&self, duration: Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Opens the vault over a metered store and cipher sharing one metrics registry.
async fn open_metered<S: Store>(store: S, cipher: RingCipher) -> anyhow::Result<ServerVault<S>> {
    let metrics = Arc::new(Metrics::new());
    Vault::open(
        MeteredStore::new(store, metrics.clone()),
        MeteredCipher::new(cipher, metrics),
        RuntimeClock,
    )
    .await
    .context("cannot open the vault")
}

/// Adds what every server vault has on top of store and cipher: the outbound HTTP client,
/// the JWT signer and the access-key cache.
fn finish<S: Store>(vault: ServerVault<S>, settings: &Settings) -> anyhow::Result<ServerVault<S>> {
    let upstream = HttpUpstream::new(UpstreamConfig {
        allow_private_networks: settings.proxy_allow_private_networks,
        connect_timeout: Duration::from_millis(settings.proxy_connect_timeout_ms),
        total_timeout: Duration::from_millis(settings.proxy_timeout_ms),
        max_response_bytes: settings.proxy_max_response_bytes,
        extra_roots: settings.proxy_ca_file.clone(),
        ..UpstreamConfig::default()
    })
    .context("cannot set up the upstream HTTP client")?;
    if settings.proxy_allow_private_networks {
        tracing::warn!(
            "VAULT_PROXY_ALLOW_PRIVATE_NETWORKS is on: credentials can be sent to private, \
             loopback and link-local addresses. Use it for tests and local development only"
        );
    }
    let upstream = MeteredUpstream::new(upstream, vault.store().metrics().clone());
    let vault = vault
        .with_upstream(upstream)
        .with_jwt_signer(JsonWebTokenSigner)
        .with_request_signer(RingRequestSigner)
        .with_bundle_cipher(AgeBundles::default())
        .with_auth_cache(auth_cache_ttl(settings))
        .with_version_retention(settings.credential_versions_kept)
        // Longer than any token request can take (the upstream's timeout): a refresh
        // never outlives its lease.
        .with_refresh_lease(
            time::Duration::milliseconds(
                i64::try_from(settings.proxy_timeout_ms).unwrap_or(i64::MAX),
            ) + time::Duration::seconds(5),
        );
    // Identity-provider tokens beside access keys, when idp_issuer is set.
    Ok(match crate::identity::verifier(settings)? {
        Some(verifier) => vault.with_identity_verifier(verifier),
        None => vault,
    })
}

/// `public_url`, checked: an absolute http(s) URL with nothing after its path.
fn public_url(settings: &Settings) -> std::io::Result<Option<String>> {
    let Some(raw) = settings.public_url.as_deref() else {
        return Ok(None);
    };
    let valid = url::Url::parse(raw).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
    });
    if !valid {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "VAULT_PUBLIC_URL must be an absolute http or https URL without query or fragment (https://vault.example.com)",
        ));
    }
    Ok(Some(raw.trim_end_matches('/').to_owned()))
}

fn auth_cache_ttl(settings: &Settings) -> time::Duration {
    time::Duration::milliseconds(i64::try_from(settings.auth_cache_ttl_ms).unwrap_or(i64::MAX))
}

/// Opens the vault on PostgreSQL: migrates first when configured, refuses a schema that is
/// behind or ahead of this binary.
///
/// # Errors
/// As [`with_vault`].
pub async fn open_postgres(
    settings: &Settings,
    url: &str,
) -> anyhow::Result<(PostgresVault, KeyHierarchy)> {
    let statics = keyring::environment::load(settings, None, static_key_required(settings))?;
    let shown = redact_url(url);
    if settings.migrate_on_start == Some(true) {
        let applied = PgStore::migrate(url)
            .await
            .with_context(|| format!("cannot migrate the PostgreSQL database {shown}"))?;
        tracing::info!(applied, "PostgreSQL migrations applied");
    }
    let options = PgOptions {
        max_connections: settings.database_max_connections,
        acquire_timeout: Duration::from_millis(settings.database_acquire_timeout_ms),
    };
    let store = PgStore::connect(url, options)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {shown}"))?;
    match store
        .schema_status()
        .await
        .context("cannot read the schema version")?
    {
        SchemaStatus::UpToDate => {}
        SchemaStatus::Pending(missing) => bail!(
            "the database schema at {shown} is behind this binary (missing migrations {}); \
             run `vault-server migrate` first, or start with VAULT_MIGRATE_ON_START=true",
            missing.join(", ")
        ),
        SchemaStatus::Newer(unknown) => bail!(
            "the database schema at {shown} is newer than this binary (it has migrations {} \
             that this release does not know); run the release that migrated it, or a newer one",
            unknown.join(", ")
        ),
    }
    let (cipher, keys) = keyring::hierarchy::open(&store, settings, statics).await?;
    let vault = open_metered(store, cipher).await?;
    Ok((finish(vault, settings)?, keys))
}

/// Writes the vault's pending counts of repeated failed authentications: those whose
/// window has ended, or (`true`) all of them.
type FlushAudit =
    Arc<dyn Fn(bool) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// How often a running server writes the counts of repeated failed authentications whose
/// one-minute window has ended, so that none waits for the next failure to be written.
const FLUSH_AUDIT_EVERY: Duration = Duration::from_secs(10);

/// A started HTTP server.
pub struct Application {
    server: Server,
    address: SocketAddr,
    flush_audit: FlushAudit,
    /// Background jobs, started by [`Application::run_until_stopped`].
    jobs: Jobs,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Starts serving `vault` on an already bound listener (port 0 in tests), with a
    /// metrics registry of its own (HTTP metrics only: `vault`'s adapters are not metered).
    ///
    /// # Errors
    /// When the listener cannot be used, or the audit log's signing key cannot be read or
    /// made.
    pub async fn start<S: Store>(
        vault: Vault<S>,
        listener: TcpListener,
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        Self::start_with_metrics(vault, listener, settings, Arc::new(Metrics::new())).await
    }

    /// Starts serving a server vault, whose store, cipher and upstream count into the
    /// registry `/metrics` serves.
    ///
    /// # Errors
    /// As [`Self::start`].
    pub async fn start_metered<S: Store>(
        vault: ServerVault<S>,
        listener: TcpListener,
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        let metrics = vault.store().metrics().clone();
        Self::start_with_metrics(vault, listener, settings, metrics).await
    }

    /// [`Self::start_metered`], following the key hierarchy: every
    /// `keyring_refresh_interval_ms` the server loads a keyring another process changed,
    /// and checks the key manager's reachability for `/readyz`.
    ///
    /// # Errors
    /// As [`Self::start`].
    pub async fn start_with_keys<S: Store>(
        vault: ServerVault<S>,
        keys: KeyHierarchy,
        listener: TcpListener,
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        let metrics = vault.store().metrics().clone();
        Self::start_serving(vault, listener, settings, metrics, Some(Arc::new(keys))).await
    }

    async fn start_with_metrics<S: Store>(
        vault: Vault<S>,
        listener: TcpListener,
        settings: &Settings,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        Self::start_serving(vault, listener, settings, metrics, None).await
    }

    async fn start_serving<S: Store>(
        vault: Vault<S>,
        listener: TcpListener,
        settings: &Settings,
        metrics: Arc<Metrics>,
        keys: Option<Arc<KeyHierarchy>>,
    ) -> anyhow::Result<Self> {
        // Made on a fresh store, sealed like every installation secret; replicas starting
        // together all end with the one stored first.
        let signer = Arc::new(
            CheckpointSigner::load_or_create(vault.store(), vault.cipher())
                .await
                .context("cannot open the audit log's checkpoint signing key")?,
        );
        let sinks = crate::audit::streaming::configured_sinks(settings)?;
        let health = keys.as_ref().map(|keys| {
            let health = KeyManagerHealth::new(keys.manager().kind());
            // It answered a moment ago: the keyring was just unwrapped (or needs nothing).
            health.record(true);
            Arc::new(health)
        });
        let address = listener.local_addr()?;
        let vault = Data::new(vault);
        let failure_limiter = Arc::new(failure_limiter(settings)?);
        let flushed = vault.clone();
        let api_metrics = metrics.clone();
        let api = ApiConfig {
            metrics,
            max_body_bytes: settings.max_body_bytes,
            max_proxy_body_bytes: settings.max_proxy_body_bytes,
            body_timeout: Duration::from_millis(settings.http_body_timeout_ms),
            rate_limiter: Arc::new(RateLimiter::new(RateLimit {
                per_second: settings.rate_limit_per_second,
                burst: settings.rate_limit_burst,
            })),
            failure_limiter,
            proxy_in_flight: Arc::new(InFlight::new(ProxyLimits {
                max_in_flight: settings.proxy_max_in_flight,
                max_in_flight_per_caller: settings.proxy_max_in_flight_per_key,
            })),
            public_url: public_url(settings)?,
            key_manager: health.clone(),
            checkpoint_key: Some(CheckpointKeyInfo {
                key_id: signer.public_key().id().to_owned(),
                public_key: signer.public_key().to_base64(),
            }),
        };
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(vault_http::request_context))
                .configure(vault_http::routes(vault.clone(), api.clone()))
        })
        .shutdown_timeout(settings.shutdown_timeout_seconds)
        // actix would install its signal handlers only when the server is first polled, so a
        // SIGTERM sent right after "listening" could kill the process outright. Whoever runs
        // the application installs them first instead (`Serve` does; see `stop_on_signals`).
        .disable_signals()
        // Slow clients: the request head must arrive in time, idle connections close. At
        // least a second: actix's deadlines come from a clock cached for 500 ms, so a
        // shorter one could cut off a prompt client.
        .client_request_timeout(Duration::from_millis(
            settings.http_header_timeout_ms.max(1000),
        ))
        .keep_alive(Duration::from_secs(settings.http_keep_alive_seconds))
        .listen(listener)?;
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let mut jobs = Jobs::default();
        let owner = flushed.clone().into_inner();
        if let Some(retention) =
            LogRetention::new(owner.clone(), Vault::store, signer.clone(), settings)
        {
            jobs.add(
                retention,
                Duration::from_secs(settings.log_prune_interval_seconds.max(1)),
            );
        }
        jobs.add(
            AuditCheckpoints::new(owner.clone(), Vault::store, signer),
            Duration::from_secs(settings.audit_checkpoint_interval_seconds.max(1)),
        );
        for (name, sink) in sinks {
            jobs.add(
                AuditStreaming::new(owner.clone(), Vault::store, name, sink, api_metrics.clone()),
                Duration::from_millis(settings.audit_sink_interval_ms),
            );
        }
        jobs.add(
            AuditStreaming::new(
                owner.clone(),
                Vault::store,
                "webhooks",
                EventsFromAudit::new(owner.clone()),
                api_metrics.clone(),
            ),
            Duration::from_millis(settings.webhook_send_interval_ms),
        );
        jobs.add(
            WebhookJob::new(owner.clone(), WebhookWork::Send),
            Duration::from_millis(settings.webhook_send_interval_ms),
        );
        jobs.add(
            WebhookJob::new(owner.clone(), WebhookWork::Remind),
            Duration::from_secs(settings.webhook_reminder_interval_seconds.max(1)),
        );
        if settings.webhook_delivery_retention_days > 0 {
            jobs.add(
                WebhookJob::new(
                    owner.clone(),
                    WebhookWork::Prune(settings.webhook_delivery_retention_days),
                ),
                Duration::from_secs(settings.log_prune_interval_seconds.max(1)),
            );
        }
        if let (Some(keys), Some(health)) = (keys, health) {
            let vault = flushed.clone();
            let metrics = api_metrics.clone();
            metrics.set_key_manager_reachable(keys.manager().kind(), true);
            jobs.add_per_replica(keys.refresh_interval(), move || {
                let (keys, health, vault, metrics) =
                    (keys.clone(), health.clone(), vault.clone(), metrics.clone());
                async move { follow_keys(&keys, &health, &metrics, &vault).await }
            });
        }
        let flush_audit: FlushAudit = Arc::new(move |everything| {
            let vault = flushed.clone();
            Box::pin(async move { vault.flush_failed_authentications(everything).await })
        });
        Ok(Self {
            server: server.run(),
            address,
            flush_audit,
            jobs,
        })
    }

    /// The bound address.
    #[must_use]
    pub const fn address(&self) -> SocketAddr {
        self.address
    }

    /// A handle to stop the server.
    #[must_use]
    pub fn handle(&self) -> AppHandle {
        AppHandle {
            server: self.server.handle(),
            flush_audit: self.flush_audit.clone(),
        }
    }

    /// Serves until stopped through [`Application::handle`] or [`stop_on_signals`]. Counts
    /// of repeated failed authentications are written every few seconds once their window
    /// has ended, and all that remain when the server has stopped. The background jobs
    /// (log retention) run meanwhile, and stop with the server.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let jobs = self.jobs.start();
        let flush = self.flush_audit;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let periodic = tokio::spawn({
            let flush = flush.clone();
            async move {
                let mut tick = tokio::time::interval(FLUSH_AUDIT_EVERY);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = &mut stopped => break,
                    }
                    // Never cancelled midway: counts taken out are always written.
                    flush(false).await;
                }
            }
        });
        let result = self.server.await;
        jobs.stop().await;
        let _ = stop.send(());
        let _ = periodic.await;
        // After the last request: nothing counts any more, so nothing is left behind.
        flush(true).await;
        result
    }
}

/// One tick of following the key hierarchy: load a keyring another process changed, and
/// check the key manager for `/readyz`. Failures are logged, never fatal: the keys held
/// keep serving.
async fn follow_keys<S: Store>(
    keys: &KeyHierarchy,
    health: &KeyManagerHealth,
    metrics: &Metrics,
    vault: &Vault<S>,
) {
    if let Err(error) = keys.refresh(vault.store(), vault.cipher()).await {
        tracing::error!(
            error = format!("{error:#}"),
            "cannot load the changed keyring; serving with the keys held"
        );
    }
    let checked = keys.manager().check().await;
    health.record(checked.is_ok());
    metrics.set_key_manager_reachable(keys.manager().kind(), checked.is_ok());
    match checked {
        Ok(()) => {}
        Err(error) => {
            tracing::warn!(
                %error,
                key_manager = keys.manager().describe(),
                "the key manager's check failed; serving with the keys held"
            );
        }
    }
}

/// The budget of failed authentications per source, with how sources are found.
///
/// # Errors
/// A `trusted_proxies` entry or a `forwarded_header` that cannot be read.
fn failure_limiter(settings: &Settings) -> std::io::Result<FailureLimiter> {
    let invalid = |what: &str, e: String| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {e}"))
    };
    let header = settings
        .forwarded_header
        .parse()
        .map_err(|e| invalid("VAULT_FORWARDED_HEADER", e))?;
    let sources = SourceAddresses::new(settings.trusted_proxies.iter().map(String::as_str), header)
        .map_err(|e| invalid("VAULT_TRUSTED_PROXIES", e))?;
    Ok(FailureLimiter::new(
        FailureLimit {
            per_minute: settings.auth_failure_limit_per_minute,
            burst: settings.auth_failure_limit_burst,
        },
        sources,
    ))
}

/// Stops a running [`Application`].
#[derive(Clone)]
pub struct AppHandle {
    server: ServerHandle,
    flush_audit: FlushAudit,
}

impl std::fmt::Debug for AppHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppHandle").finish_non_exhaustive()
    }
}

impl AppHandle {
    /// Writes the open counts of repeated failed authentications, then stops the server
    /// (`graceful`: requests in flight get the shutdown timeout). The counts are written
    /// first, while the workers run: a store connection a worker opened may not outlive
    /// it (the SQLite store's connections do their blocking work on the runtime that
    /// opened them). Failures during the shutdown are written once the server has stopped
    /// ([`Application::run_until_stopped`]).
    pub async fn stop(&self, graceful: bool) {
        (self.flush_audit)(true).await;
        self.server.stop(graceful).await;
    }
}

/// `vault-server serve`.
#[derive(Debug)]
pub struct Serve<'a>(pub &'a Settings);

impl VaultJob for Serve<'_> {
    type Output = ();

    async fn run<S: Store>(self, vault: ServerVault<S>, keys: KeyHierarchy) -> anyhow::Result<()> {
        let settings = self.0;
        let fresh = vault.is_fresh().await?;
        if fresh && !matches!(keys.source(), KeySource::DevFile(_)) {
            // Nothing opens an empty database until an operator makes its first key.
            tracing::warn!(
                "the database holds no organization yet, so no access key opens it: create \
                 the first one with `vault-server bootstrap --org <name>`, which prints its \
                 admin access key once (with this server's DATABASE_URL and ENCRYPTION_KEY)"
            );
        }
        if let KeySource::DevFile(file) = keys.source() {
            tracing::warn!("{}", keyring::dev_warning(file));
            if fresh {
                let (organization, issued) = vault
                    .create_organization(&settings.dev_organization)
                    .await?;
                let banner = format!(
                    "\n================================================================================\n\
                     vault: created organization \"{}\" ({}) on an empty database.\n\
                     Its admin access key is printed this once; it cannot be shown again:\n\n    {}\n\n\
                     export TOKEN={}\n\
                     ================================================================================\n",
                    organization.name,
                    organization.id,
                    issued.token.expose(),
                    issued.token.expose(),
                );
                let mut out = std::io::stdout().lock();
                out.write_all(banner.as_bytes())?;
                out.flush()?;
            }
        }
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {} (VAULT_BIND)", settings.bind))?;
        let app = Application::start_with_keys(vault, keys, listener, settings).await?;
        stop_on_signals(app.handle())?;
        tracing::info!(address = %app.address(), "vault listening on http://{}", app.address());
        app.run_until_stopped().await?;
        tracing::info!("vault stopped");
        Ok(())
    }
}

/// Stops the server gracefully on SIGTERM or SIGINT: in-flight requests get the shutdown
/// timeout to finish. The handlers are in place when this returns, so a signal that follows
/// the "listening" log line is never fatal.
///
/// # Errors
/// When a signal handler cannot be installed.
pub fn stop_on_signals(server: AppHandle) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    actix_web::rt::spawn(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!("{name}: stopping after the requests in flight");
        server.stop(true).await;
    });
    Ok(())
}

/// `vault-server bootstrap --org NAME`: prints the new organization's admin key alone on
/// stdout, so `TOKEN=$(vault-server bootstrap --org acme)` works.
#[derive(Debug)]
pub struct Bootstrap<'a>(pub &'a str);

impl VaultJob for Bootstrap<'_> {
    type Output = ();

    async fn run<S: Store>(self, vault: ServerVault<S>, keys: KeyHierarchy) -> anyhow::Result<()> {
        dev_key_notice(keys.source())?;
        let (organization, issued) = vault
            .create_organization(self.0)
            .await
            .context("cannot create the organization")?;
        tracing::info!(organization = %organization.id, "created organization {:?}; its admin access key follows on stdout", organization.name);
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", issued.token.expose())?;
        out.flush()?;
        Ok(())
    }
}

/// `vault-server serve`.
///
/// # Errors
/// Any start-up failure, with a message for the operator.
pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    with_vault(settings, Serve(settings)).await
}

/// `vault-server bootstrap --org NAME`.
///
/// # Errors
/// Any start-up failure or an invalid name.
pub async fn bootstrap(settings: &Settings, organization: &str) -> anyhow::Result<()> {
    with_vault(settings, Bootstrap(organization)).await
}

/// Tells the operator, on stderr and whatever the log settings, that an admin command
/// runs on the development key file rather than a configured key.
pub(crate) fn dev_key_notice(keys: &KeySource) -> anyhow::Result<()> {
    if let KeySource::DevFile(file) = keys {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "{}!!! ENCRYPTION_KEY is not set: this command uses the development key file {}.\n",
            keyring::dev_warning(file),
            file.display()
        )?;
    }
    Ok(())
}

/// `vault-server migrate`, once the schema is migrated: opening the vault binds rows of
/// earlier releases to their versions (which needs the key).
#[derive(Debug)]
struct Migrated;

impl VaultJob for Migrated {
    type Output = ();

    async fn run<S: Store>(self, _vault: ServerVault<S>, keys: KeyHierarchy) -> anyhow::Result<()> {
        dev_key_notice(keys.source())?;
        tracing::info!("schema and sealed rows up to date");
        Ok(())
    }
}

/// `vault-server migrate`: applies pending migrations, brings sealed rows of earlier
/// releases up to date, and exits. Needs the key, like every admin command.
///
/// # Errors
/// When the key is missing, the database unreachable or a migration fails.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    if let Database::Postgres(url) =
        Database::parse(&settings.database_url).map_err(|e| anyhow!(e))?
    {
        // Refuse a missing or bad key before touching the schema.
        keyring::environment::load(settings, None, static_key_required(settings))?;
        let applied = PgStore::migrate(&url).await.with_context(|| {
            format!(
                "cannot migrate the PostgreSQL database {}",
                redact_url(&url)
            )
        })?;
        tracing::info!(applied, "PostgreSQL schema up to date");
    }
    // SQLite migrates when it is opened.
    with_vault(settings, Migrated).await
}
