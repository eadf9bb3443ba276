//! Helpers shared by the end-to-end tests that run the real `vault-server` binary: start
//! it with a clean environment, capture its output, stop it with SIGTERM; and find or make
//! a PostgreSQL database for the tests that need one.
// Until the next commit, which gives the tests one set of helpers.
#![allow(dead_code, reason = "not every helper is used yet")]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) mod postgres;
pub(crate) mod retention;
pub(crate) mod upstream;

/// An HTTP client for the tests. reqwest is built (for the vault's upstream adapter) with
/// rustls and no built-in crypto provider, so the test process names one: ring, as the
/// vault itself uses.
pub(crate) fn http_client() -> reqwest::ClientBuilder {
    let _already = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// Runs a `vault-server` command that must succeed (`what` names it in the failure, with
/// its stderr); returns its output.
pub(crate) fn succeeded(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().expect("run vault-server");
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a `vault-server` command that must succeed; returns its trimmed stdout.
pub(crate) fn run_ok(mut cmd: Command) -> String {
    let out = succeeded(&mut cmd, "vault-server");
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned()
}

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_vault-server");

/// Settings for a vault run in the test process on the SQLite file `db`, under a fresh
/// key, with no previous key and no development mode; the defaults otherwise.
pub(crate) fn sqlite_settings(db: &Path) -> vault_server::Settings {
    let mut settings = vault_server::Settings::load(None).expect("default settings");
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
pub(crate) fn start_bootstrapped(dir: &Path, settings: &[(&str, &str)]) -> (Server, String) {
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
                break rest.split_whitespace().next().expect("address").to_owned();
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
