//! The real `vault-server` binary: start it with a clean environment, capture its output,
//! stop it with SIGTERM or SIGKILL; [`TestServer`], a bootstrapped one with its API; and
//! [`Installation`], a database with an organization for tests that restart the binary.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::http::Api;
use super::postgres::TestDatabase;
use super::{Backend, assert_success, stdout_of};

/// Runs a `vault-server` command that must succeed (`what` names it in the failure, with
/// its stderr); returns its output.
pub(crate) fn succeeded(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().expect("run vault-server");
    assert_success(&out, what);
    out
}

/// Runs a `vault-server` command that must succeed; returns its trimmed stdout.
pub(crate) fn run_ok(mut cmd: Command) -> String {
    stdout_of(cmd.output().expect("run vault-server"), "vault-server")
}

/// The `vault-server` binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_vault-server");

/// A running server process with its output captured.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) stdout: Arc<Mutex<String>>,
    pub(crate) stderr: Arc<Mutex<String>>,
}

pub(crate) fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VAULT_BIND", "127.0.0.1:0")
        .stdin(Stdio::null());
    cmd
}

/// Starts a server on a fresh SQLite database in `dir`: a generated `ENCRYPTION_KEY`, the
/// organization `acme` made with `vault-server bootstrap`, and `settings` (environment
/// variables) on top of the defaults. Returns the server and the organization's admin key.
fn start_bootstrapped(dir: &Path, settings: &[(&str, &str)]) -> (Server, String) {
    let key = run_ok({
        let mut cmd = command(dir);
        cmd.args(["keys", "generate"]);
        cmd
    });
    let configure = |cmd: &mut Command| {
        cmd.env("ENCRYPTION_KEY", &key);
        for (name, value) in settings {
            cmd.env(name, value);
        }
    };
    let admin = run_ok({
        let mut cmd = command(dir);
        configure(&mut cmd);
        cmd.args(["bootstrap", "--org", "acme"]);
        cmd
    });
    let mut cmd = command(dir);
    configure(&mut cmd);
    (Server::start(cmd), admin)
}

fn capture(stream: impl Read + Send + 'static, sink: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut all = sink.lock().expect("lock");
            all.push_str(&line);
            all.push('\n');
        }
    });
}

impl Server {
    pub(crate) fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn vault-server");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        capture(child.stdout.take().expect("stdout"), stdout.clone());
        capture(child.stderr.take().expect("stderr"), stderr.clone());
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            let log = stderr.lock().expect("lock").clone();
            if let Some(rest) = log.split("vault listening on ").nth(1) {
                // Up to a space, or in the JSON log format the message's closing quote.
                let base = rest.split(|c: char| c.is_whitespace() || c == '"').next();
                break base.expect("address").to_owned();
            }
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("server exited with {status}: {log}");
            }
            if Instant::now() >= deadline {
                // Not left running behind the failed test.
                let _ = child.kill();
                panic!("server did not start: {log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Self {
            child,
            base,
            stdout,
            stderr,
        }
    }

    /// SIGTERM, then wait: a graceful stop exits 0.
    pub(crate) fn stop(mut self) -> (String, String) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                break exit;
            }
            assert!(Instant::now() < deadline, "server ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the reader threads drain the pipes.
        std::thread::sleep(Duration::from_millis(100));
        assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
        let out = self.stdout.lock().expect("lock").clone();
        let err = self.stderr.lock().expect("lock").clone();
        (out, err)
    }

    /// SIGKILL, then wait: a crash, with no chance to finish anything in flight.
    pub(crate) fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The real binary on a fresh SQLite database, bootstrapped (see [`start_bootstrapped`]),
/// with its API.
pub(crate) struct TestServer {
    pub(crate) server: Server,
    pub(crate) api: Api,
    /// The admin key of the organization `acme`.
    pub(crate) token: String,
    /// The server's working directory (its database is `data/vault.db` in it).
    pub(crate) dir: TempDir,
}

impl TestServer {
    /// Starts one with `settings` (environment variables) on top of the defaults.
    pub(crate) fn start(settings: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (server, token) = start_bootstrapped(dir.path(), settings);
        Self {
            api: Api::new(&server.base),
            server,
            token,
            dir,
        }
    }

    /// Everything the server has written to stderr so far.
    pub(crate) fn log(&self) -> String {
        self.server.stderr.lock().expect("lock").clone()
    }

    /// A graceful stop ([`Server::stop`]): its stdout and stderr.
    pub(crate) fn stop(self) -> (String, String) {
        self.server.stop()
    }
}

/// A database with the organization `acme` bootstrapped in it, for tests that start, kill
/// and restart the binary on it under keys of their choosing.
pub(crate) struct Installation {
    pub(crate) dir: TempDir,
    pub(crate) database_url: String,
    /// The admin key of `acme`.
    pub(crate) token: String,
    _database: Option<TestDatabase>,
}

impl Installation {
    /// An SQLite file in a temporary directory, or a PostgreSQL database of the test's own;
    /// `None` when PostgreSQL is wanted but absent (after the loud skip notice).
    pub(crate) fn new(backend: Backend, key: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, database) = match backend {
            Backend::Postgres => {
                let database = TestDatabase::create()?;
                (database.url.clone(), Some(database))
            }
            Backend::Sqlite => {
                let file = dir.path().join("vault.db");
                (format!("sqlite://{}", file.display()), None)
            }
        };
        Some(Self::bootstrap(dir, database_url, key, database))
    }

    /// On `database_url`: a server the test runs (and stops) itself.
    pub(crate) fn on(database_url: &str, key: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::bootstrap(dir, database_url.to_owned(), key, None)
    }

    fn bootstrap(
        dir: TempDir,
        database_url: String,
        key: &str,
        database: Option<TestDatabase>,
    ) -> Self {
        let mut installation = Self {
            dir,
            database_url,
            token: String::new(),
            _database: database,
        };
        let mut bootstrap = installation.command(key);
        bootstrap.args(["bootstrap", "--org", "acme"]);
        installation.token = run_ok(bootstrap);
        installation
    }

    /// A `vault-server` command on this database under `key`, migrating it on start.
    pub(crate) fn command(&self, key: &str) -> Command {
        let mut cmd = command(self.dir.path());
        cmd.env("DATABASE_URL", &self.database_url)
            .env("ENCRYPTION_KEY", key)
            .env("VAULT_MIGRATE_ON_START", "true");
        cmd
    }
}

/// A `vault-server` replica on PostgreSQL `database` under `key`, that may call upstreams
/// on 127.0.0.1 and lets hundreds of uses be in flight, with `settings` (environment
/// variables) on top.
pub(crate) fn replica(dir: &Path, database: &str, key: &str, settings: &[(&str, &str)]) -> Command {
    let mut cmd = command(dir);
    cmd.env("DATABASE_URL", database)
        .env("ENCRYPTION_KEY", key)
        .env("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")
        .env("VAULT_PROXY_MAX_IN_FLIGHT", "256")
        .env("VAULT_PROXY_MAX_IN_FLIGHT_PER_KEY", "256")
        .env("VAULT_RATE_LIMIT_PER_SECOND", "10000")
        .env("VAULT_RATE_LIMIT_BURST", "10000");
    for (name, value) in settings {
        cmd.env(name, value);
    }
    cmd
}

/// `count` replicas ([`replica`]) of one freshly migrated database with the organization
/// `acme` bootstrapped in it, and its admin key.
pub(crate) fn replicas(
    dir: &Path,
    database: &str,
    count: usize,
    settings: &[(&str, &str)],
) -> (Vec<Server>, String) {
    let key = super::new_key();
    let mut migrate = replica(dir, database, &key, settings);
    migrate.arg("migrate");
    run_ok(migrate);
    let mut bootstrap = replica(dir, database, &key, settings);
    bootstrap.args(["bootstrap", "--org", "acme"]);
    let admin = run_ok(bootstrap);
    let servers = (0..count)
        .map(|_| Server::start(replica(dir, database, &key, settings)))
        .collect();
    (servers, admin)
}
