//! Building and running the application: open the store and the cipher, check the key,
//! start actix-web.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::web::Data;
use actix_web::{App, HttpServer};
use anyhow::{Context, anyhow};
use vault_cipher_ring::RingCipher;
use vault_core::{Cipher, Clock, Store, SystemClock, Vault};
use vault_http::ApiConfig;
use vault_store_sqlite::SqliteStore;

use crate::keyring::{self, KeySource};
use crate::settings::{Database, Settings};

/// The vault on the embedded default.
pub type SqliteVault = Vault<SqliteStore, RingCipher, SystemClock>;

/// Opens the configured store and keyring, and checks the key against the database.
///
/// # Errors
/// Unreachable store, bad or wrong key: each with a message that says what to do.
pub async fn open_vault(settings: &Settings) -> anyhow::Result<(SqliteVault, KeySource)> {
    let Database::Sqlite(path) = Database::parse(&settings.database_url).map_err(|e| anyhow!(e))?;
    let (cipher, source) = keyring::load(settings, &path)?;
    let store = SqliteStore::open(&settings.database_url)
        .await
        .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
    let vault = Vault::open(store, cipher, SystemClock)
        .await
        .context("cannot open the vault")?;
    Ok((vault, source))
}

/// A started HTTP server.
pub struct Application {
    server: Server,
    address: SocketAddr,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Starts serving `vault` on an already bound listener (port 0 in tests).
    ///
    /// # Errors
    /// When the listener cannot be used.
    pub fn start<S: Store, C: Cipher, K: Clock>(
        vault: Vault<S, C, K>,
        listener: TcpListener,
        settings: &Settings,
    ) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let vault = Data::new(vault);
        let api = ApiConfig {
            max_body_bytes: settings.max_body_bytes,
        };
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(vault_http::request_context))
                .configure(vault_http::routes(vault.clone(), api.clone()))
        })
        .shutdown_timeout(settings.shutdown_timeout_seconds)
        .client_request_timeout(Duration::from_secs(10))
        .listen(listener)?;
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        Ok(Self {
            server: server.run(),
            address,
        })
    }

    /// The bound address.
    #[must_use]
    pub const fn address(&self) -> SocketAddr {
        self.address
    }

    /// A handle to stop the server.
    #[must_use]
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGTERM/SIGINT stop gracefully).
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// `vault-server serve`.
///
/// # Errors
/// Any start-up failure, with a message for the operator.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (vault, source) = open_vault(&settings).await?;
    if let KeySource::DevFile(file) = &source {
        tracing::warn!("{}", keyring::dev_warning(file));
        if vault.is_fresh().await? {
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
    let app = Application::start(vault, listener, &settings)?;
    tracing::info!(address = %app.address(), "vault listening on http://{}", app.address());
    app.run_until_stopped().await?;
    tracing::info!("vault stopped");
    Ok(())
}

/// `vault-server bootstrap --org NAME`: prints the new organization's admin key alone on
/// stdout, so `TOKEN=$(vault-server bootstrap --org acme)` works.
///
/// # Errors
/// Any start-up failure or an invalid name.
pub async fn bootstrap(settings: Settings, organization: &str) -> anyhow::Result<()> {
    let (vault, source) = open_vault(&settings).await?;
    if let KeySource::DevFile(file) = &source {
        tracing::warn!("{}", keyring::dev_warning(file));
    }
    let (organization, issued) = vault
        .create_organization(organization)
        .await
        .context("cannot create the organization")?;
    tracing::info!(organization = %organization.id, "created organization {:?}; its admin access key follows on stdout", organization.name);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", issued.token.expose())?;
    out.flush()?;
    Ok(())
}

/// `vault-server keys generate`: a fresh key for `ENCRYPTION_KEY`.
///
/// # Errors
/// When the system random generator fails.
pub fn generate_key() -> anyhow::Result<()> {
    let key = vault_cipher_ring::KeyEncryptionKey::generate().context("cannot generate a key")?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        secrecy::ExposeSecret::expose_secret(&key.to_base64())
    )?;
    Ok(())
}
