//! Keys held by a key manager, with the real binary and real key managers on 127.0.0.1:
//!
//! - `servers`: OpenBao, moto's KMS and SoftHSM2 checked on their own, before anything
//!   relies on them;
//! - `transit`, `awskms`, `pkcs11`: the vault on each: create, restart, use, the key
//!   manager's own key rotated, `keys rewrap`, `keys rotate`, restart again; and the
//!   failures (down at start, a revoked or disabled key, down while running);
//! - `static_key`: `keys rotate` on `ENCRYPTION_KEY` alone, which then wraps a stored keyring;
//! - `migration`: `static` → `transit` under load, and `transit` → `awskms`.
//!
//! [`Lifecycle`] is the sequence every key manager runs.

mod awskms;
mod migration;
mod pkcs11;
mod servers;
mod static_key;
mod transit;

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::upstream::{Upstream, start_upstream};
use crate::helpers::{Api, Server, command, run_ok};

/// How often the servers of these tests look at the stored keyring: fast, so a rotation
/// reaches a running server (and `keys rewrap` waits) well under a second.
pub(crate) const REFRESH_MS: &str = "200";

/// A vault on an SQLite file whose keys a key manager holds: `settings` are the key
/// manager's environment variables (no `ENCRYPTION_KEY` unless the test adds one).
pub(crate) struct OnManager {
    pub(crate) dir: TempDir,
    pub(crate) settings: Vec<(String, String)>,
}

impl OnManager {
    pub(crate) fn new(settings: &[(&str, &str)]) -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            settings: settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// A `vault-server` command on this database with the key manager's settings.
    pub(crate) fn command(&self) -> Command {
        let mut cmd = command(self.dir.path());
        cmd.env(
            "DATABASE_URL",
            format!("sqlite://{}", self.database().display()),
        )
        .env("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")
        .env("VAULT_KEYRING_REFRESH_INTERVAL_MS", REFRESH_MS)
        .env("RUST_LOG", "info");
        for (name, value) in &self.settings {
            cmd.env(name, value);
        }
        cmd
    }

    pub(crate) fn database(&self) -> std::path::PathBuf {
        self.dir.path().join("vault.db")
    }

    /// `vault-server <args>`, which must succeed: its stdout and stderr.
    pub(crate) fn run(&self, args: &[&str]) -> (String, String) {
        let out = self.command().args(args).output().expect("vault-server");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(
            out.status.success(),
            "vault-server {args:?} failed:\n{stderr}\n{stdout}"
        );
        (stdout, stderr)
    }

    /// `vault-server <args>`, which must fail (within 30 s: see [`refused_within`]): its
    /// stderr.
    pub(crate) fn refused(&self, args: &[&str]) -> String {
        let mut cmd = self.command();
        cmd.args(args);
        refused_within(cmd)
    }

    pub(crate) fn start(&self) -> Server {
        Server::start(self.command())
    }

    /// Sets the environment variable `name` of every later command (replacing it).
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.settings.retain(|(n, _)| n != name);
        self.settings.push((name.to_owned(), value.to_owned()));
    }

    /// The database's bytes (the SQLite file and its write-ahead log, absent = empty), to
    /// show that a refused start wrote nothing ([`Self::assert_unchanged`]). Taken while the
    /// key manager works: `keys status` runs first, because a server's graceful stop
    /// sometimes leaves frames in the write-ahead log, and whichever process opens the
    /// database next (a refused start too) checkpoints them into the file, changing its
    /// bytes but not what it holds.
    pub(crate) fn snapshot(&self) -> (Vec<u8>, Vec<u8>) {
        self.run(&["keys", "status"]);
        self.bytes()
    }

    fn bytes(&self) -> (Vec<u8>, Vec<u8>) {
        let wal = self.dir.path().join("vault.db-wal");
        (
            std::fs::read(self.database()).expect("database"),
            std::fs::read(wal).unwrap_or_default(),
        )
    }

    /// The database is byte for byte the [`Self::snapshot`] `before`; `what` names the step.
    pub(crate) fn assert_unchanged(&self, before: &(Vec<u8>, Vec<u8>), what: &str) {
        let now = self.bytes();
        assert!(
            now == *before,
            "{what} wrote to the database: file {} -> {} bytes ({}), write-ahead log {} -> {} \
             bytes ({})",
            before.0.len(),
            now.0.len(),
            if now.0 == before.0 { "same" } else { "changed" },
            before.1.len(),
            now.1.len(),
            if now.1 == before.1 { "same" } else { "changed" },
        );
    }
}

/// The sequence every key manager runs, on an installation with the organization `acme`.
pub(crate) struct Lifecycle {
    pub(crate) on: OnManager,
    pub(crate) token: String,
    pub(crate) upstream: Upstream,
    /// Credential ids and the secret each sends.
    pub(crate) credentials: Vec<(String, String)>,
}

impl Lifecycle {
    /// Bootstraps `acme` on `on`: the first start with the key manager creates the keyring.
    pub(crate) async fn bootstrap(on: OnManager) -> Self {
        let token = run_ok({
            let mut cmd = on.command();
            cmd.args(["bootstrap", "--org", "acme"]);
            cmd
        });
        Self {
            on,
            token,
            upstream: start_upstream().await,
            credentials: Vec::new(),
        }
    }

    /// Creates `count` bearer-token credentials through `server`.
    pub(crate) async fn create(&mut self, server: &Server, count: usize) {
        let api = Api::new(&server.base);
        for _ in 0..count {
            let secret = format!("sk_{}", uuid::Uuid::new_v4().simple());
            let created = api
                .create_credential(
                    &self.token,
                    &json!({
                        "name": format!("c-{}", self.credentials.len()),
                        "type": "bearer_token",
                        "value": secret,
                        "allowedHosts": [self.upstream.origin()],
                    }),
                )
                .await;
            let id = created["id"].as_str().expect("id").to_owned();
            self.credentials.push((id, secret));
        }
    }

    /// Uses every credential through `server`: each reaches the upstream with its secret.
    pub(crate) async fn use_all(&self, server: &Server) {
        let api = Api::new(&server.base);
        for (id, secret) in &self.credentials {
            let reply = api
                .proxy(
                    id,
                    &self.token,
                    &json!({"method": "GET", "url": self.upstream.url("/record/km")}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{id}: {}", reply.body);
            let last = self.upstream.last();
            assert_eq!(
                last.header("authorization"),
                vec![format!("Bearer {secret}").as_str()],
                "{id} sent its own secret"
            );
        }
    }

    /// `keys rotate` beside the running `server`, two credentials created through it, then
    /// `keys rewrap`, which must leave every row under the new key.
    pub(crate) async fn rotate_and_rewrap(&mut self, server: &Server) {
        let (rotated, _) = self.on.run(&["keys", "rotate"]);
        let new_key = rotated
            .split_whitespace()
            .nth(1)
            .expect("the new key's id")
            .to_owned();
        // The running server loads the new keyring and seals under the new key.
        self.create(server, 2).await;
        let (rewrapped, _) = self.on.run(&["keys", "rewrap"]);
        assert!(
            rewrapped.contains(&format!("to key {new_key}"))
                && rewrapped.contains("0 rows remain under older keys"),
            "{rewrapped}"
        );
    }

    /// `keys status`, as printed.
    pub(crate) fn status(&self) -> String {
        self.on.run(&["keys", "status"]).0
    }

    /// The whole sequence: create, restart, use, the key manager's own key rotated
    /// (`rotate_manager_key`) and the keyring wrapped again by `keys rewrap`, a new
    /// key-encryption key by `keys rotate` picked up by the running server, rows moved by
    /// `keys rewrap`, restart, use.
    pub(crate) async fn run(self, rotate_manager_key: impl AsyncFnOnce()) -> Self {
        self.run_switching(async move || {
            rotate_manager_key().await;
            Vec::new()
        })
        .await
    }

    /// [`Self::run`] for a key manager whose own rotation is a new key the vault is pointed
    /// at: `rotate_manager_key` returns the settings to change (`VAULT_AWSKMS_KEY_ID`, ...),
    /// set on every command after it (`keys rewrap`, and the restarts).
    pub(crate) async fn run_switching(
        mut self,
        rotate_manager_key: impl AsyncFnOnce() -> Vec<(String, String)>,
    ) -> Self {
        let server = self.on.start();
        self.create(&server, 5).await;
        self.use_all(&server).await;
        server.stop();

        let server = self.on.start();
        self.use_all(&server).await;
        let status = self.status();
        assert!(status.contains("keyring generation 1 (1 keys)"), "{status}");

        for (name, value) in rotate_manager_key().await {
            self.on.set(&name, &value);
        }
        let (_, stderr) = self.on.run(&["keys", "rewrap"]);
        assert!(
            stderr.contains("wrapped the keyring again with"),
            "the key manager's new key wraps the keyring: {stderr}"
        );
        let status = self.status();
        assert!(status.contains("keyring generation 2 (1 keys)"), "{status}");
        self.use_all(&server).await;

        self.rotate_and_rewrap(&server).await;
        let status = self.status();
        assert!(
            status.contains("keyring generation 3 (2 keys)")
                && status.contains("every sealed row is under the current key"),
            "{status}"
        );
        self.use_all(&server).await;
        let readiness = readyz(&server).await;
        assert_eq!(
            readiness["keyManager"]["reachable"],
            json!(true),
            "{readiness}"
        );
        server.stop();

        let server = self.on.start();
        self.use_all(&server).await;
        server.stop();
        self
    }
}

/// `cmd` (a `vault-server` command), which must exit unsuccessfully within 30 s: its
/// stderr. A `serve` that starts instead of being refused is killed and fails the test,
/// rather than hanging it.
pub(crate) fn refused_within(mut cmd: Command) -> String {
    use std::io::Read as _;
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn vault-server");
    let mut pipe = child.stderr.take().expect("stderr");
    // Read as it comes, so a chatty process never blocks on a full pipe.
    let reader = std::thread::spawn(move || {
        let mut stderr = String::new();
        let _ = pipe.read_to_string(&mut stderr);
        stderr
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "vault-server was not refused within 30 s:\n{}",
                reader.join().expect("stderr")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let stderr = reader.join().expect("stderr");
    assert!(!status.success(), "vault-server succeeded:\n{stderr}");
    stderr
}

/// `GET /readyz`, which must answer 200: its body.
pub(crate) async fn readyz(server: &Server) -> Value {
    let reply = reqwest::get(format!("{}/readyz", server.base))
        .await
        .expect("readyz");
    assert_eq!(reply.status(), StatusCode::OK);
    reply.json().await.expect("json")
}
