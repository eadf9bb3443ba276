//! The adapter over https: OpenBao's `bao server -dev -dev-tls` (a CA and a certificate for
//! 127.0.0.1 of its own making), started here because the testkit's `OpenBaoDev` speaks
//! plain http.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Certificate, Client, Method};
use secrecy::SecretString;
use serde_json::{Value, json};
use vault_core::{KeyManager, KeyManagerError};
use vault_keymanager_transit::{TransitAuth, TransitConfig, TransitKeyManager};
use vault_testkit::key_manager_suite;
use vault_testkit::key_managers::free_port;

const ROOT_TOKEN: &str = "root-token-for-the-tls-test";

/// `bao server -dev -dev-tls` on 127.0.0.1; killed on drop.
struct TlsBao {
    child: Child,
    dir: PathBuf,
    addr: String,
    client: Client,
}

impl Drop for TlsBao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TlsBao {
    async fn start() -> Option<Self> {
        let bao = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/key-managers/bin/bao");
        if !bao.is_file() {
            return vault_testkit::tool_unavailable(
                &format!("OpenBao is not installed ({})", bao.display()),
                "scripts/install-key-managers.sh",
            );
        }
        // The setup client below is a plain reqwest one: with `rustls-no-provider` it needs
        // a process-wide provider (the adapter passes ring to its own client).
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("transit-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let log = File::create(dir.join("output.log")).expect("log file");
        let child = Command::new(&bao)
            .args(["server", "-dev", "-dev-tls", "-dev-no-store-token"])
            .arg(format!("-dev-tls-cert-dir={}", dir.display()))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .arg(format!("-dev-root-token-id={ROOT_TOKEN}"))
            .env_remove("BAO_ADDR")
            .env_remove("BAO_TOKEN")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("spawn bao");
        let mut server = Self {
            child,
            addr: format!("https://127.0.0.1:{port}"),
            client: Client::new(),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(pem) = std::fs::read(server.ca_file()) {
                let ca = Certificate::from_pem(&pem).expect("the dev CA");
                server.client = Client::builder()
                    .tls_certs_only([ca])
                    .build()
                    .expect("client");
                if server
                    .call(Method::GET, "sys/health", None)
                    .await
                    .is_some_and(|(s, _)| s == 200)
                {
                    return Some(server);
                }
            }
            if let Some(status) = server.child.try_wait().expect("wait") {
                panic!("bao exited with {status}: {}", server.output());
            }
            assert!(
                Instant::now() < deadline,
                "bao did not answer: {}",
                server.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.join("vault-ca.pem")
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.join("output.log")).unwrap_or_default()
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Option<(u16, Value)> {
        let mut request = self
            .client
            .request(method, format!("{}/v1/{path}", self.addr))
            .header("X-Vault-Token", ROOT_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn root(&self, method: Method, path: &str, body: Option<Value>) {
        let (status, answer) = self.call(method, path, body).await.expect("bao answers");
        assert!((200..300).contains(&status), "{path}: {status} {answer}");
    }

    fn manager(&self, ca_file: Option<PathBuf>) -> TransitKeyManager {
        TransitKeyManager::new(TransitConfig {
            address: self.addr.clone(),
            mount: "transit".to_owned(),
            key: "vault-kek".to_owned(),
            auth: TransitAuth::Token(SecretString::from(ROOT_TOKEN)),
            namespace: None,
            ca_file,
            timeout: Duration::from_secs(10),
        })
        .expect("a valid configuration")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_verifies_the_server_against_ca_file() {
    let Some(bao) = TlsBao::start().await else {
        return;
    };
    bao.root(
        Method::POST,
        "sys/mounts/transit",
        Some(json!({"type": "transit"})),
    )
    .await;
    bao.root(Method::POST, "transit/keys/vault-kek", None).await;

    let trusting = bao.manager(Some(bao.ca_file()));
    key_manager_suite::run_all(&trusting).await;

    // The platform's verifier does not know the dev CA: the handshake fails, and nothing
    // is sent (the token included).
    let error = bao.manager(None).check().await.expect_err("an unknown CA");
    assert!(
        matches!(error, KeyManagerError::Unreachable(_)),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("certificate") && !message.contains(ROOT_TOKEN),
        "{message}"
    );
}
