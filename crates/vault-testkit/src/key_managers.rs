//! The key managers the key-manager tests run against, real servers on 127.0.0.1 that no one
//! here wrote, installed at pinned versions in `target/key-managers/` by
//! `scripts/install-key-managers.sh` (which `make test` runs):
//!
//! - [`OpenBaoDev`]: OpenBao's `bao server -dev` (in memory, unsealed, a root token of the
//!   test's choosing), for Transit;
//! - [`MotoServer`]: moto's server, AWS KMS on 127.0.0.1, with botocore (the reference AWS
//!   client) in the same venv to check against ([`MotoServer::botocore`]);
//! - [`SoftHsm`]: a SoftHSM2 token initialised in a temporary directory, for PKCS#11.
//!
//! Where one is not installed the tests that need it skip loudly, unless `CI=true`, which
//! turns the absence into a failure ([`unavailable`]).

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

const INSTALL: &str = "scripts/install-key-managers.sh";

/// Skips (loudly) or fails (under `CI=true`) a test that cannot get a key manager.
fn unavailable<T>(why: &str) -> Option<T> {
    crate::tool_unavailable(why, INSTALL)
}

/// A port on 127.0.0.1 that was free a moment ago (bind port 0, read it, let it go).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// `target/key-managers/` of the repository (this crate is `crates/vault-testkit`).
fn prefix() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/vault-testkit is two levels down")
        .join("target/key-managers")
}

/// Whether `program args` runs and exits 0.
fn runs(program: &Path, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The status of `GET path` on 127.0.0.1:`port`, or `None` while nothing answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A server process with its output in a file of its own directory; killed on drop.
struct Daemon {
    child: Child,
    dir: TempDir,
}

impl Daemon {
    /// Spawns `command` and waits (30 s at most) until `ready`; `Err(output)` when it exits
    /// first (a lost race for its port: the caller may try again).
    fn start(mut command: Command, name: &str, ready: impl Fn() -> bool) -> Result<Self, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = File::create(dir.path().join("output.log")).expect("log file");
        let child = command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        let mut daemon = Self { child, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready() {
            if let Some(status) = daemon.child.try_wait().expect("wait") {
                return Err(format!("{name} exited with {status}: {}", daemon.output()));
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not answer in 30 s: {}",
                daemon.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(daemon)
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("output.log")).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server on a fresh port, trying again (a few times) when another process took
/// the port between [`free_port`] and the server's bind.
fn start_on_free_port(start: impl Fn(u16) -> Result<Daemon, String>) -> (Daemon, u16) {
    let mut failures = Vec::new();
    for _ in 0..3 {
        let port = free_port();
        match start(port) {
            Ok(daemon) => return (daemon, port),
            Err(output) => failures.push(output),
        }
    }
    panic!("{}", failures.join("\n----\n"));
}

// --- OpenBao -------------------------------------------------------------------------

/// OpenBao's `bao server -dev` on 127.0.0.1: in memory, unsealed, with a random root token.
/// Its cluster listener takes the next port up (dev mode's rule).
pub struct OpenBaoDev {
    daemon: Daemon,
    addr: String,
    root_token: String,
}

impl OpenBaoDev {
    /// Starts one and waits until `/v1/sys/health` says it is active; `None` (after a loud
    /// skip notice) when `bao` is not installed and `CI` is not `true`.
    pub fn start() -> Option<Self> {
        let bao = prefix().join("bin/bao");
        if !runs(&bao, &["version"]) {
            return unavailable(&format!("OpenBao is not installed ({})", bao.display()));
        }
        let root_token = format!("root-{}", uuid::Uuid::new_v4().simple());
        let (daemon, port) = start_on_free_port(|port| {
            // The cluster listener's port (port + 1) must be free too.
            let cluster = port.checked_add(1).ok_or("no port above 65535")?;
            if TcpListener::bind(("127.0.0.1", cluster)).is_err() {
                return Err(format!("127.0.0.1:{cluster} is taken"));
            }
            let mut command = Command::new(&bao);
            command
                .args(["server", "-dev", "-dev-no-store-token"])
                .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
                .arg(format!("-dev-root-token-id={root_token}"))
                .env_remove("BAO_ADDR")
                .env_remove("BAO_TOKEN");
            // 200: initialised, unsealed and active.
            Daemon::start(command, "bao server -dev", || {
                http_status(port, "/v1/sys/health") == Some(200)
            })
        });
        Some(Self {
            daemon,
            addr: format!("http://127.0.0.1:{port}"),
            root_token,
        })
    }

    /// `http://127.0.0.1:<port>` (what `BAO_ADDR` / `VAULT_ADDR` would be).
    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn root_token(&self) -> &str {
        &self.root_token
    }

    /// An API call with `token` (e.g. [`Self::root_token`]) to `/v1/<path>`:
    /// `call(token, Method::POST, "transit/keys/kek", None)`. Its status and body: JSON, or
    /// the text as a JSON string when it is not JSON (`""` for a 204).
    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = http_client()
            .request(method, format!("{}/v1/{path}", self.addr))
            .header("X-Vault-Token", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("OpenBao answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Everything it printed so far, for failure messages.
    pub fn output(&self) -> String {
        self.daemon.output()
    }
}

// --- moto (AWS KMS) ------------------------------------------------------------------

/// What [`MotoServer::botocore`] runs before a test's script, under
/// [`MotoServer::aws_env`] alone: `kms`, a botocore KMS client (the endpoint, credentials
/// and region from that environment), `kms_in(region)` for another region, and
/// `error_code(lambda: ...)`, the AWS error code a call fails with (`None` if it succeeds).
const BOTOCORE_PRELUDE: &str = r#"
import base64, json, os, sys, urllib.request
import botocore.session
from botocore.exceptions import ClientError
def kms_in(region):
    return botocore.session.get_session().create_client("kms", region_name=region)
kms = botocore.session.get_session().create_client("kms")
def error_code(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None
"#;

/// moto's server on 127.0.0.1: the AWS APIs in memory, KMS among them. Any credentials
/// are accepted; keys are per region.
pub struct MotoServer {
    daemon: Daemon,
    endpoint: String,
}

impl MotoServer {
    /// Starts one and waits until it answers; `None` (after a loud skip notice) when it is
    /// not installed and `CI` is not `true`.
    pub fn start() -> Option<Self> {
        let moto = prefix().join("venv/bin/moto_server");
        if !runs(&moto, &["--help"]) {
            return unavailable(&format!("moto is not installed ({})", moto.display()));
        }
        let (daemon, port) = start_on_free_port(|port| {
            let mut command = Command::new(&moto);
            command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            Daemon::start(command, "moto_server", || {
                http_status(port, "/moto-api/") == Some(200)
            })
        });
        Some(Self {
            daemon,
            endpoint: format!("http://127.0.0.1:{port}"),
        })
    }

    /// `http://127.0.0.1:<port>`: the endpoint URL of every AWS service it serves.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The environment an AWS client needs to use it: the endpoint (`AWS_ENDPOINT_URL`),
    /// dummy static credentials and region us-east-1.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ]
    }

    /// Runs `script` in the venv's Python after [`BOTOCORE_PRELUDE`] (botocore, the
    /// reference AWS client, as the independent judge), in an environment of
    /// [`Self::aws_env`] only, and returns the JSON document of its last line of output.
    pub fn botocore(&self, script: &str) -> Value {
        let python = prefix().join("venv/bin/python");
        let out = Command::new(&python)
            .arg("-c")
            .arg(format!("{BOTOCORE_PRELUDE}\n{script}"))
            .env_clear()
            .envs(self.aws_env())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .stdin(Stdio::null())
            .output()
            .expect("run the venv's python");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "botocore script failed: {}\n{stdout}\nmoto: {}",
            String::from_utf8_lossy(&out.stderr),
            self.daemon.output()
        );
        let last = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last).unwrap_or_else(|e| panic!("JSON from the script: {e}: {stdout}"))
    }
}

// --- SoftHSM2 (PKCS#11) --------------------------------------------------------------

/// Where Debian (on every architecture) and a source build put SoftHSM2's PKCS#11 module.
const SOFTHSM_MODULES: [&str; 2] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// A SoftHSM2 token, initialised in a temporary directory of its own with random PINs.
/// Everything that opens it (the module, `softhsm2-util`, `pkcs11-tool`, the vault) must
/// run with `SOFTHSM2_CONF` = [`SoftHsm::conf_path`]: [`SoftHsm::command`] sets it.
pub struct SoftHsm {
    dir: TempDir,
    module: PathBuf,
    slot: u64,
    pin: String,
}

impl SoftHsm {
    pub const LABEL: &'static str = "vault-test";

    /// Initialises the token; `None` (after a loud skip notice) when SoftHSM2 is not
    /// installed and `CI` is not `true`.
    pub fn init() -> Option<Self> {
        if !runs(Path::new("softhsm2-util"), &["--version"]) {
            return unavailable("SoftHSM2 is not installed (softhsm2-util)");
        }
        let Some(module) = SOFTHSM_MODULES
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
        else {
            return unavailable("SoftHSM2's module libsofthsm2.so is not installed");
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token directory");
        let conf = format!(
            "directories.tokendir = {}\nlog.level = ERROR\n",
            tokens.display()
        );
        std::fs::write(dir.path().join("softhsm2.conf"), conf).expect("softhsm2.conf");
        let pin = || format!("{:08}", uuid::Uuid::new_v4().as_u128() % 100_000_000);
        let mut hsm = Self {
            dir,
            module,
            slot: 0,
            pin: pin(),
        };
        // The security officer's PIN is not kept: the tests never re-initialise a token.
        let out = hsm
            .command("softhsm2-util")
            .args(["--init-token", "--free", "--label", Self::LABEL])
            .args(["--pin", &hsm.pin, "--so-pin", &pin()])
            .output()
            .expect("run softhsm2-util");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "softhsm2-util --init-token: {said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // "The token has been initialized and is reassigned to slot 1234"
        hsm.slot = said
            .split_whitespace()
            .last()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a slot number in: {said}"));
        Some(hsm)
    }

    /// `program` with `SOFTHSM2_CONF` pointing at this token's configuration.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env("SOFTHSM2_CONF", self.conf_path());
        command
    }

    /// OpenSC's `pkcs11-tool` on this token (`--module`, `--token-label`), or `None` (after
    /// a loud skip notice) when it is not installed and `CI` is not `true`. Add `--login
    /// --pin` for private objects.
    pub fn pkcs11_tool(&self) -> Option<Command> {
        // It exits 1 after its usage: that it starts at all is what counts.
        if Command::new("pkcs11-tool").arg("--help").output().is_err() {
            return unavailable("pkcs11-tool is not installed (apt-get install opensc)");
        }
        let mut command = self.command("pkcs11-tool");
        command
            .arg("--module")
            .arg(&self.module)
            .args(["--token-label", Self::LABEL]);
        Some(command)
    }

    /// Generates an AES-256 key inside the token with `pkcs11-tool`, labelled `label` with
    /// `CKA_ID` = `id` (hex).
    ///
    /// # Panics
    /// When `pkcs11-tool` is missing or fails.
    pub fn keygen(&self, label: &str, id: &str) {
        let out = self
            .pkcs11_tool()
            .expect("pkcs11-tool")
            .args(["--login", "--pin", &self.pin])
            .args([
                "--keygen",
                "--key-type",
                "AES:32",
                "--label",
                label,
                "--id",
                id,
            ])
            .output()
            .expect("run pkcs11-tool");
        assert!(
            out.status.success(),
            "pkcs11-tool --keygen: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The PKCS#11 module to load (`libsofthsm2.so`).
    pub fn module_path(&self) -> &Path {
        &self.module
    }

    /// The `softhsm2.conf` to set as `SOFTHSM2_CONF`.
    pub fn conf_path(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    pub fn label(&self) -> &str {
        Self::LABEL
    }

    /// The slot the token was given on initialisation.
    pub fn slot(&self) -> u64 {
        self.slot
    }

    /// The user PIN.
    pub fn pin(&self) -> &str {
        &self.pin
    }
}

impl std::fmt::Debug for OpenBaoDev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenBaoDev")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for MotoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MotoServer")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SoftHsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftHsm")
            .field("module", &self.module)
            .field("slot", &self.slot)
            .finish_non_exhaustive()
    }
}

/// A plain HTTP client for the servers here. Its TLS is configured with ring explicitly:
/// with reqwest's `rustls-no-provider` on (as the workspace builds it), a default client
/// would panic for want of a process-wide crypto provider.
fn http_client() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client")
}
