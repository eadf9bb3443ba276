//! What the end-to-end tests share, written once: the vault in the test process
//! ([`TestApp`]) and the real binary ([`Server`], [`TestServer`], [`Installation`]), one
//! HTTP client with typed calls ([`Api`], [`Reply`]), PostgreSQL databases and clusters of
//! the tests' own, an upstream that records what it gets, and seeded log entries.

pub(crate) mod app;
pub(crate) mod assertions;
pub(crate) mod http;
pub(crate) use vault_testkit::key_managers;
pub(crate) mod oauth_servers;
pub(crate) mod postgres;
pub(crate) mod python;
pub(crate) mod retention;
pub(crate) mod server;
pub(crate) mod upstream;
pub(crate) mod webhooks;

use std::process::Output;

use secrecy::ExposeSecret as _;

pub(crate) use app::{TestApp, spawn_app};
pub(crate) use http::{Api, Reply, client_with_timeout, http_client};
pub(crate) use server::{BIN, Installation, Server, TestServer, command, replicas, run_ok};

/// Skips (loudly) or fails (under `CI=true`) a test that cannot get an outside tool.
pub(crate) use vault_testkit::tool_unavailable;

/// A clock the test moves, for a vault built in the test process.
#[derive(Clone)]
pub(crate) struct SteppedClock(std::sync::Arc<std::sync::Mutex<time::OffsetDateTime>>);

impl SteppedClock {
    pub(crate) fn at(start: time::OffsetDateTime) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(start)))
    }

    pub(crate) fn advance(&self, by: time::Duration) {
        *self.0.lock().expect("clock") += by;
    }
}

impl vault_core::Clock for SteppedClock {
    fn now(&self) -> time::OffsetDateTime {
        *self.0.lock().expect("clock")
    }
}

/// A vault of the test process on the in-memory store, on `clock`, with the organization
/// `acme`; and its admin.
pub(crate) async fn memory_vault(
    clock: &SteppedClock,
) -> (
    vault_core::Vault<vault_testkit::memory::MemoryStore>,
    vault_core::Principal,
) {
    let cipher = vault_cipher_ring::RingCipher::new(
        vault_cipher_ring::KeyEncryptionKey::generate().expect("a key"),
        Vec::new(),
    );
    let vault = vault_core::Vault::open(
        vault_testkit::memory::MemoryStore::new(),
        cipher,
        clock.clone(),
    )
    .await
    .expect("a vault");
    let (_, admin) = vault.create_organization("acme").await.expect("an org");
    let admin = vault
        .authenticate(admin.token.expose())
        .await
        .expect("admin");
    (vault, admin)
}

/// Where a vault keeps its data, for tests that run on both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub(crate) const ALL: [Self; 2] = [Self::Sqlite, Self::Postgres];

    /// Its name in the tests' reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// Asserts that a program ran successfully; `what` (the program, or the statement it ran)
/// names it in the failure, with its stderr.
pub(crate) fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The trimmed stdout of a program that must have run successfully ([`assert_success`]).
pub(crate) fn stdout_of(out: Output, what: &str) -> String {
    assert_success(&out, what);
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned()
}

/// A unique secret to put in and look for where it must never come out.
pub(crate) fn canary(label: &str) -> String {
    format!("CANARY-{label}-{}", uuid::Uuid::new_v4().simple())
}

/// A fresh `ENCRYPTION_KEY`.
/// The id of `key` (a key as `ENCRYPTION_KEY` takes it), as the vault records it.
pub(crate) fn key_id(key: &str) -> String {
    vault_cipher_ring::KeyEncryptionKey::parse(key)
        .expect("a key")
        .key_id()
        .as_str()
        .to_owned()
}

/// Polls `check` every 100 ms until it holds; fails with `what` after `within`.
pub(crate) async fn eventually<F: AsyncFnMut() -> Option<T>, T>(
    within: std::time::Duration,
    what: &str,
    mut check: F,
) -> T {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(done) = check().await {
            return done;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} within {within:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

pub(crate) fn new_key() -> String {
    vault_cipher_ring::KeyEncryptionKey::generate()
        .expect("random")
        .to_base64()
        .expose_secret()
        .to_owned()
}

/// The `id` of a created credential or access key, as the API returned it.
pub(crate) trait Id {
    fn id(&self) -> String;
}

impl Id for serde_json::Value {
    fn id(&self) -> String {
        self["id"].as_str().expect("id").to_owned()
    }
}
