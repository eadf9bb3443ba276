//! The OAuth2 token servers the OAuth2 tests run against, on 127.0.0.1:
//!
//! - [`MockOAuthServer`]: npm's `oauth2-mock-server`, a standards OAuth2/OpenID Connect
//!   server that no one here wrote (installed by `scripts/install-oauth2-mock-server.sh`,
//!   which `make test` runs). Where it is not installed the tests that need it skip loudly,
//!   unless `CI=true`, which turns the absence into a failure.
//! - [`RotatingTokenServer`]: a strict server written for the tests. It rotates the refresh
//!   token on every refresh and, when a spent refresh token comes back, revokes the whole
//!   token family (reuse detection: OAuth 2.1 §4.3.1, RFC 6819 §5.2.2.3), optionally with a
//!   grace period for the immediately previous refresh token; with counters a test reads.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// npm's oauth2-mock-server
// ---------------------------------------------------------------------------------------

/// The repository's root (the tests' package is `crates/vault-server`).
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/vault-server is two levels down")
        .to_path_buf()
}

/// Skips (loudly) or fails (under `CI=true`) a test that cannot get the mock server.
fn mock_unavailable<T>(why: &str) -> Option<T> {
    super::tool_unavailable(why, "scripts/install-oauth2-mock-server.sh")
}

/// Appends every line `stream` yields to `sink`, on a thread of its own.
fn capture(stream: impl Read + Send + 'static, sink: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut all = sink.lock().expect("lock");
            all.push_str(&line);
            all.push('\n');
        }
    });
}

/// npm's `oauth2-mock-server` on 127.0.0.1 and a port the system picked, run by `node`
/// through `tests/e2e/fixtures/oauth2-mock-server.mjs`. It signs its tokens (JWTs, RS256)
/// with a key it generates on start and publishes at [`MockOAuthServer::jwks_uri`]. Killed on
/// drop (and it exits by itself when the test process goes: its standard input closes).
pub(crate) struct MockOAuthServer {
    child: Child,
    issuer: String,
    output: Arc<Mutex<String>>,
}

impl MockOAuthServer {
    /// Starts one and waits until it listens; `None` (after a loud skip notice) when it or
    /// Node.js is not installed and `CI` is not `true`.
    pub(crate) fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// [`MockOAuthServer::start`], its tokens living `seconds` (`expires_in` and `exp`).
    pub(crate) fn start_with_token_lifetime(seconds: u32) -> Option<Self> {
        Self::start_with(Some(seconds))
    }

    fn start_with(lifetime: Option<u32>) -> Option<Self> {
        let root = repository();
        let prefix = root.join("target/oauth2-mock-server");
        if !prefix
            .join("node_modules/oauth2-mock-server/package.json")
            .is_file()
        {
            return mock_unavailable(&format!(
                "oauth2-mock-server is not installed in {}",
                prefix.display()
            ));
        }
        if !Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
        {
            return mock_unavailable("node is not installed");
        }
        let mut child = Command::new("node")
            .arg(root.join("tests/e2e/fixtures/oauth2-mock-server.mjs"))
            .arg(&prefix)
            .args(lifetime.map(|s| s.to_string()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn node");
        let output = Arc::new(Mutex::new(String::new()));
        capture(child.stdout.take().expect("stdout"), output.clone());
        capture(child.stderr.take().expect("stderr"), output.clone());
        let deadline = Instant::now() + Duration::from_secs(30);
        let issuer = loop {
            let printed = output.lock().expect("lock").clone();
            // The launcher's one JSON line, printed once the server listens.
            let ready = printed
                .lines()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .find_map(|line| line["issuer"].as_str().map(str::to_owned));
            if let Some(issuer) = ready {
                break issuer;
            }
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("oauth2-mock-server exited with {status}: {printed}");
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("oauth2-mock-server did not start in 30 s: {printed}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            issuer.starts_with("http://127.0.0.1:"),
            "the mock server is on 127.0.0.1: {issuer}"
        );
        Some(Self {
            child,
            issuer,
            output,
        })
    }

    /// `http://127.0.0.1:<port>`: its address, and its issuer (`iss` of its tokens).
    pub(crate) fn base_url(&self) -> &str {
        &self.issuer
    }

    /// The `iss` of the tokens it signs (the same as [`Self::base_url`]).
    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `path` on the server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    pub(crate) fn token_endpoint(&self) -> String {
        self.url("/token")
    }

    pub(crate) fn authorization_endpoint(&self) -> String {
        self.url("/authorize")
    }

    /// Its public keys, a JWK set.
    pub(crate) fn jwks_uri(&self) -> String {
        self.url("/jwks")
    }

    pub(crate) fn discovery_url(&self) -> String {
        self.url("/.well-known/openid-configuration")
    }

    /// Everything it printed so far (stdout and stderr), for failure messages.
    pub(crate) fn output(&self) -> String {
        self.output.lock().expect("lock").clone()
    }
}

impl Drop for MockOAuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

mod config;
mod pkce;
mod rotating;

pub(crate) use config::*;
pub(crate) use pkce::{pkce_challenge, pkce_verifier, sha256};
pub(crate) use rotating::*;
