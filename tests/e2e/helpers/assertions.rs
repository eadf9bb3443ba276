//! An OAuth2 token endpoint over plain HTTP on 127.0.0.1 that judges the JWTs an oauth2
//! credential signs, client assertions (`private_key_jwt`, RFC 7523 §2.2) and JWT-bearer
//! grants (RFC 7523 §2.1), with PyPI's PyJWT (a verifier no one here wrote, installed by
//! `scripts/install-jwt-verifier.sh` into `target/py-jwt/`) as the judge of their
//! signatures and claims: `assertion_token_endpoint.py`. Without the package the tests
//! skip loudly, or fail under `CI=true`.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::python::PythonServer;

const INSTALL: &str = "scripts/install-jwt-verifier.sh";

/// The running endpoint; killed on drop.
pub(crate) struct AssertionEndpoint {
    server: PythonServer,
    client: reqwest::Client,
    /// Holds the public key file the endpoint read.
    _dir: tempfile::TempDir,
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
        let expires_in = expires_in.to_string();
        let args: [&std::ffi::OsStr; 8] = [
            "--public-key".as_ref(),
            key_file.as_ref(),
            "--algorithm".as_ref(),
            algorithm.as_ref(),
            "--client-id".as_ref(),
            client_id.as_ref(),
            "--expires-in".as_ref(),
            expires_in.as_ref(),
        ];
        let server = PythonServer::start("assertion_token_endpoint.py", &args, Some(&packages));
        let client = crate::helpers::http_client()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        Some(Self {
            server,
            client,
            _dir: dir,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
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
