//! An OAuth2 token endpoint over plain HTTP on 127.0.0.1 that judges the JWTs an oauth2
//! credential signs, client assertions (`private_key_jwt`, RFC 7523 §2.2) and JWT-bearer
//! grants (RFC 7523 §2.1), with PyPI's PyJWT (a verifier no one here wrote, installed by
//! `scripts/install-jwt-verifier.sh` into `target/py-jwt/`) as the judge of their
//! signatures and claims: `assertion_token_endpoint.py`. Without the package the tests
//! skip loudly, or fail under `CI=true`.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const INSTALL: &str = "scripts/install-jwt-verifier.sh";

/// The running endpoint; killed on drop.
pub(crate) struct AssertionEndpoint {
    child: Child,
    port: u16,
    client: reqwest::Client,
    /// Holds the public key file the endpoint read.
    _dir: tempfile::TempDir,
}

impl Drop for AssertionEndpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl AssertionEndpoint {
    /// Starts an endpoint that accepts only JWTs signed with the private half of
    /// `public_key_pem` under `algorithm` (`RS256`, `ES256`, ...; any other `alg` is
    /// refused), issued by `client_id`, and answers tokens valid for `expires_in` seconds;
    /// or `None` (after a loud skip) without PyJWT.
    pub(crate) fn start(
        public_key_pem: &str,
        algorithm: &str,
        client_id: &str,
        expires_in: u64,
    ) -> Option<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let packages = root.join("target/py-jwt");
        if !packages.join("jwt").is_dir() {
            return vault_testkit::tool_unavailable(
                &format!("PyJWT is not installed in {}", packages.display()),
                INSTALL,
            );
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let key_file = dir.path().join("public.pem");
        std::fs::write(&key_file, public_key_pem).expect("the public key file");
        let mut child = Command::new("python3")
            .arg(root.join("tests/e2e/helpers/assertion_token_endpoint.py"))
            .arg("--public-key")
            .arg(&key_file)
            .args(["--algorithm", algorithm, "--client-id", client_id])
            .args(["--expires-in", &expires_in.to_string()])
            .env("PYTHONPATH", &packages)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Its errors (a traceback) land in the test's output.
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the endpoint's stdout");
        let Ok(port) = line.trim().parse() else {
            let status = child.wait().expect("wait");
            panic!("the assertion token endpoint printed no port ({status}); its stderr is above");
        };
        let client = crate::helpers::http_client()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        Some(Self {
            child,
            port,
            client,
            _dir: dir,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The token URL, which is also the only `aud` the endpoint accepts.
    pub(crate) fn token_url(&self) -> String {
        format!("{}/token", self.origin())
    }

    /// Every token request so far, in arrival order, as the endpoint recorded it:
    /// `{"kind": "client_assertion" | "jwt_bearer", "ok", "error", "claims", "header",
    /// "form", "access_token"}`. `claims` are those PyJWT verified the signature of (`null`
    /// when it did not); `header` is the JWT's, unverified; `form` is the request's form
    /// without the assertion; `error` names the failed check (`"signature: ..."`,
    /// `"audience ..."`, `"algorithm ..."`, `"replayed jti ..."`, `"lifetime: ..."`).
    pub(crate) async fn received(&self) -> Vec<Value> {
        self.client
            .get(format!("{}/_received", self.origin()))
            .send()
            .await
            .expect("the endpoint answers")
            .json()
            .await
            .expect("the token requests")
    }
}
