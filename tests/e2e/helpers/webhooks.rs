//! A receiver of Standard Webhooks deliveries over HTTPS on 127.0.0.1, with PyPI's
//! `standardwebhooks` (a verifier no one here wrote, installed by
//! `scripts/install-webhook-verifier.sh` into `target/py-webhooks/`) as the judge of their
//! signatures: `webhook_receiver.py`, behind a CA of the test's own making. Without the
//! package the tests skip loudly, or fail under `CI=true`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde::Deserialize;
use serde_json::{Value, json};

use super::python::PythonServer;

const INSTALL: &str = "scripts/install-webhook-verifier.sh";

/// One delivery as the receiver recorded it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Received {
    /// The request target, query included.
    pub(crate) path: String,
    /// Lower-case names; a repeated header joined with `, `.
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: String,
    /// What `standardwebhooks` said of the signature; `None` when no secret was set for
    /// the path.
    pub(crate) verified: Option<bool>,
    /// The verifier's refusal, when `verified` is `Some(false)`.
    pub(crate) error: Option<String>,
    /// The status the receiver answered.
    pub(crate) status: u16,
}

impl Received {
    /// The body, parsed as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("a JSON body ({e}): {}", self.body))
    }
}

/// The running receiver; killed on drop.
pub(crate) struct WebhookReceiver {
    server: PythonServer,
    ca_file: PathBuf,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl WebhookReceiver {
    /// Starts a receiver, or `None` (after a loud skip) without `standardwebhooks`.
    pub(crate) async fn start() -> Option<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let packages = root.join("target/py-webhooks");
        if !packages.join("standardwebhooks").is_dir() {
            return vault_testkit::tool_unavailable(
                &format!(
                    "standardwebhooks is not installed in {}",
                    packages.display()
                ),
                INSTALL,
            );
        }
        // reqwest is built with `rustls-no-provider`: the control client needs a default.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();

        let dir = tempfile::tempdir().expect("temp dir");
        let ca_pem = write_certificates(dir.path());
        let ca_file = dir.path().join("ca.pem");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let args: [&std::ffi::OsStr; 4] = [
            "--cert".as_ref(),
            cert.as_ref(),
            "--key".as_ref(),
            key.as_ref(),
        ];
        let server = PythonServer::start("webhook_receiver.py", &args, Some(&packages));
        let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("the test CA");
        let client = reqwest::Client::builder()
            .tls_certs_only([ca])
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        Some(Self {
            server,
            ca_file,
            client,
            _dir: dir,
        })
    }

    /// The CA (PEM) that signed the receiver's certificate, for the vault to trust.
    pub(crate) fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The https URL of `path` (`/hooks/a`) on the receiver.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.server.port)
    }

    /// Has deliveries to `path` verified with `secret` (`whsec_...`).
    pub(crate) async fn set_secret(&self, path: &str, secret: &str) {
        self.control(json!({"secrets": {path: secret}})).await;
    }

    /// Answers deliveries to `path` (`*`: any path without its own) with `status`.
    pub(crate) async fn set_status(&self, path: &str, status: u16) {
        self.control(json!({"status": {path: status}})).await;
    }

    async fn control(&self, settings: Value) {
        let response = self
            .client
            .post(self.url("/_control"))
            .json(&settings)
            .send()
            .await
            .expect("the receiver answers");
        assert_eq!(response.status(), 204, "{settings}");
    }

    /// Every delivery so far, in arrival order.
    pub(crate) async fn received(&self) -> Vec<Received> {
        self.client
            .get(self.url("/_received"))
            .send()
            .await
            .expect("the receiver answers")
            .json()
            .await
            .expect("the deliveries")
    }

    /// Polls every 50 ms until at least `count` deliveries arrived; fails with what did
    /// after `within`.
    pub(crate) async fn eventually_received(
        &self,
        count: usize,
        within: Duration,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received().await;
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{count} deliveries within {within:?}, got {}: {received:#?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl WebhookReceiver {
    /// The settings under which a server delivers to this receiver: loopback allowed,
    /// its CA trusted, due deliveries sent every 100 ms and reminders computed every
    /// second.
    pub(crate) fn server_settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true".to_owned()),
            ("VAULT_PROXY_CA_FILE", self.ca_file.display().to_string()),
            ("VAULT_WEBHOOK_SEND_INTERVAL_MS", "100".to_owned()),
            ("VAULT_WEBHOOK_REMINDER_INTERVAL_SECONDS", "1".to_owned()),
        ]
    }

    /// Subscribes the organization of `token` to `events` at `path` here (with `extra`
    /// fields merged into the body), and has the receiver verify what arrives there with
    /// the secret the vault returned. The created webhook, secret included.
    pub(crate) async fn subscribe(
        &self,
        api: &crate::helpers::Api,
        token: &str,
        path: &str,
        events: &[&str],
        extra: Value,
    ) -> Value {
        let mut body = json!({"url": self.url(path), "events": events});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let created = api
            .call(reqwest::Method::POST, "/webhooks", token, Some(&body))
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.body);
        let webhook = created.json();
        let secret = webhook["secret"].as_str().expect("the secret, shown once");
        self.set_secret(path, secret).await;
        webhook
    }
}

/// Writes a CA (`ca.pem`) and, signed by it, a certificate for 127.0.0.1 and `localhost`
/// (`cert.pem`, `key.pem`) into `dir`; returns the CA's PEM.
fn write_certificates(dir: &Path) -> String {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: by default both would be "rcgen self signed cert".
    params
        .distinguished_name
        .push(DnType::CommonName, "vault e2e webhook CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a CA key"))
        .expect("the CA");

    let mut params = CertificateParams::new(["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("valid names");
    params
        .distinguished_name
        .push(DnType::CommonName, "webhook receiver");
    let key = KeyPair::generate().expect("a key");
    let cert = params.signed_by(&key, &ca).expect("the certificate");

    let write = |name: &str, pem: &str| std::fs::write(dir.join(name), pem).expect(name);
    write("ca.pem", &ca.pem());
    write("cert.pem", &cert.pem());
    write("key.pem", &key.serialize_pem());
    ca.pem()
}
