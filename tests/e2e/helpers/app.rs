//! [`TestApp`]: the vault served in the test process on port 0, on a fresh SQLite file (or a
//! PostgreSQL database of its own) that outlives a stop and a restart, with two
//! organizations.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;
use vault_core::Store;
use vault_server::app::open_postgres;
use vault_server::{Application, Settings, open_sqlite_vault};

use super::http::Api;
use super::postgres::{TestDatabase, psql};
use super::{Backend, stdout_of};

/// Settings for a vault run in the test process on the SQLite file `db`, under a fresh
/// key, with no previous key and no development mode; the defaults otherwise.
pub(crate) fn sqlite_settings(db: &Path) -> Settings {
    let mut settings = Settings::load(None).expect("default settings");
    settings.database_url = format!("sqlite://{}", db.display());
    settings.encryption_key = Some(
        vault_cipher_ring::KeyEncryptionKey::generate()
            .expect("random key")
            .to_base64(),
    );
    settings.encryption_keys_previous = None;
    settings.dev_mode = false;
    settings
}

/// A vault served in the test process.
pub(crate) struct TestApp {
    pub(crate) backend: Backend,
    /// The PostgreSQL database of the test's own (dropped with it), on that backend.
    pub(crate) postgres: Option<TestDatabase>,
    /// Its API; the address changes with each restart.
    pub(crate) api: Api,
    /// The admin key of organization A, `acme`.
    pub(crate) token: String,
    /// The admin key of organization B, `globex`.
    pub(crate) other_token: String,
    pub(crate) settings: Settings,
    pub(crate) handle: Option<vault_server::app::AppHandle>,
    pub(crate) running: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub(crate) dir: TempDir,
}

/// A [`TestApp`] on SQLite with two workers and a 64 KiB body limit; the defaults otherwise.
pub(crate) async fn spawn_app() -> TestApp {
    TestApp::spawn(Backend::Sqlite, |_| {})
        .await
        .expect("SQLite is always there")
}

impl TestApp {
    /// A vault on `backend` with two workers and a 64 KiB body limit, then `configure`d;
    /// `None` (after a loud notice) where PostgreSQL cannot be reached and is not required.
    pub(crate) async fn spawn(
        backend: Backend,
        configure: impl FnOnce(&mut Settings),
    ) -> Option<Self> {
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestDatabase::create()?),
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = sqlite_settings(&dir.path().join("vault.db"));
        settings.workers = 2;
        settings.max_body_bytes = 64 * 1024;
        configure(&mut settings);
        if let Some(db) = &postgres {
            settings.database_url.clone_from(&db.url);
            settings.migrate_on_start = Some(true);
        }
        let mut this = Self {
            backend,
            postgres,
            api: Api::new(""),
            token: String::new(),
            other_token: String::new(),
            settings,
            handle: None,
            running: None,
            dir,
        };
        this.restart().await;
        Some(this)
    }

    pub(crate) async fn serve<S: Store>(&mut self, vault: vault_core::Vault<S>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let app = Application::start(vault, listener, &self.settings)
            .await
            .expect("server starts");
        self.api.base = format!("http://{}", app.address());
        self.handle = Some(app.handle());
        self.running = Some(tokio::spawn(app.run_until_stopped()));
    }

    /// Stops the server (its connections to the file closed); [`TestApp::restart`] then
    /// starts a new one on the same store: a restart, with no cache surviving it.
    pub(crate) async fn stop(&mut self) {
        self.handle.take().expect("running").stop(true).await;
        let _ = self.running.take().expect("running").await;
    }

    /// Opens the vault on its store (the first time: with the two organizations) and
    /// serves it.
    pub(crate) async fn restart(&mut self) {
        match &self.postgres {
            None => {
                let (vault, _) = open_sqlite_vault(&self.settings)
                    .await
                    .expect("vault opens");
                self.organizations(&vault).await;
                self.serve(vault).await;
            }
            Some(db) => {
                let (vault, _) = open_postgres(&self.settings, &db.url)
                    .await
                    .expect("vault opens");
                self.organizations(&vault).await;
                self.serve(vault).await;
            }
        }
    }

    async fn organizations<S: Store>(&mut self, vault: &vault_core::Vault<S>) {
        if self.token.is_empty() {
            let (_, a) = vault.create_organization("acme").await.expect("org");
            let (_, b) = vault.create_organization("globex").await.expect("org");
            self.token = a.token.expose().to_owned();
            self.other_token = b.token.expose().to_owned();
        }
    }

    /// The SQLite file (on the SQLite backend).
    pub(crate) fn db(&self) -> PathBuf {
        self.dir.path().join("vault.db")
    }

    /// Runs SQL on the store behind the server's back: the sqlite3 shell, or psql.
    pub(crate) fn sql(&self, statement: &str) -> String {
        match &self.postgres {
            None => sqlite(&self.db(), statement),
            Some(db) => stdout_of(psql(&db.url, statement), statement),
        }
    }
}

/// Runs SQL on an SQLite file with the sqlite3 command-line shell; its trimmed output.
pub(crate) fn sqlite(db: &Path, statement: &str) -> String {
    // A busy timeout: a stopped server's last background writes (request log, lastUsedAt)
    // may still hold the file for a moment.
    let out = Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(db)
        .arg(statement)
        .output()
        .expect("sqlite3 runs (apt-get install sqlite3)");
    stdout_of(out, statement)
}
