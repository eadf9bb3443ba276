//! Using credentials through the real `vault-server` binary against upstreams this test
//! runs on 127.0.0.1: what each type puts on the wire, OAuth2 token caching and single
//! flight, JWTs for every algorithm verified with the public key, the destination rules,
//! expiry, the request and audit logs, and that no secret reaches a response or a log line.

mod assertions;
mod ca_bundle;
mod jwt;
mod logs;
pub(crate) mod mtls;
mod signing;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::upstream::start_upstream;
use crate::helpers::{Id, Reply, TestServer, canary};

// ---------------------------------------------------------------------------------------
// The vault: the real binary on an SQLite file
// ---------------------------------------------------------------------------------------

struct Vault {
    app: TestServer,
    /// Every secret any test put in: none may come back or be logged.
    canaries: Vec<String>,
}

impl Vault {
    fn start(allow_private_networks: bool) -> Self {
        let allow = allow_private_networks.to_string();
        let app = TestServer::start(&[
            ("RUST_LOG", "debug"),
            ("VAULT_PROXY_TIMEOUT_MS", "5000"),
            ("VAULT_PROXY_MAX_RESPONSE_BYTES", "200000"),
            ("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", &allow),
            // 100 concurrent uses of one key (the single-flight token test) are past
            // the default in-flight bounds; those bounds have their own test
            // (`attacks::proxy`).
            ("VAULT_PROXY_MAX_IN_FLIGHT", "0"),
            ("VAULT_PROXY_MAX_IN_FLIGHT_PER_KEY", "0"),
        ]);
        Self {
            app,
            canaries: Vec::new(),
        }
    }

    fn secret(&mut self, label: &str) -> String {
        let secret = canary(label);
        self.canaries.push(secret.clone());
        secret
    }

    /// `reply`, after checking neither its body nor its headers carry a canary.
    fn checked(&self, reply: Reply) -> Reply {
        reply.reveals_none(&self.canaries);
        reply
    }

    /// `method path` with the admin key, checked.
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let reply = self.app.api.call(method, path, &self.app.token, body).await;
        self.checked(reply)
    }

    /// Creates a credential; returns its id.
    async fn create(&self, body: &Value) -> String {
        let created = self.call(Method::POST, "/credentials", Some(body)).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "create {body}: {}",
            created.body
        );
        created.json().id()
    }

    async fn patch(&self, id: &str, body: &Value) -> Reply {
        let path = format!("/credentials/{id}");
        self.call(Method::PATCH, &path, Some(body)).await
    }

    async fn proxy_as(&self, key: &str, id: &str, body: &Value) -> Reply {
        self.checked(self.app.api.proxy(id, key, body).await)
    }

    async fn proxy(&self, id: &str, body: &Value) -> Reply {
        self.proxy_as(&self.app.token, id, body).await
    }

    async fn get_json(&self, path: &str) -> Value {
        let reply = self.call(Method::GET, path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}");
        reply.json()
    }

    /// Stops the server and checks its whole output for canaries.
    fn stop_and_check_logs(self, extra: &[String]) {
        let (stdout, stderr) = self.app.stop();
        assert!(stderr.contains("DEBUG"), "debug logging was on");
        for c in self.canaries.iter().chain(extra) {
            assert!(!stdout.contains(c.as_str()), "secret {c} on stdout");
            assert!(!stderr.contains(c.as_str()), "secret {c} in the log");
        }
    }
}

/// The lines of a PEM key's body: secret, so none may come back or be logged.
fn key_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(str::to_owned)
        .collect()
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_reaches_the_upstream_exactly_as_specified() {
    let upstream = start_upstream().await;
    let mut vault = Vault::start(true);
    let hosts = json!([upstream.origin()]);
    let (k1, k2, k3, bearer, password, h1, client_secret, hmac) = (
        vault.secret("apikey-header"),
        vault.secret("apikey-query"),
        vault.secret("apikey-prefixed"),
        vault.secret("bearer"),
        vault.secret("password"),
        vault.secret("header"),
        vault.secret("client-secret"),
        format!("{}{}", vault.secret("hmac"), "-padded-to-at-least-32-bytes"),
    );
    vault.canaries.push(hmac.clone());
    let token_url = upstream.url("/token");

    // (credential body, the auth header name and exact value the upstream must see, or a
    // query parameter).
    let cases: Vec<(Value, &str, Option<String>)> = vec![
        (
            json!({"name": "a", "type": "api_key", "value": k1, "allowedHosts": hosts}),
            "x-api-key",
            Some(k1.clone()),
        ),
        (
            json!({"name": "b", "type": "api_key", "value": k2, "allowedHosts": hosts,
                   "placement": {"in": "query", "name": "api_key"}}),
            "?api_key",
            Some(k2.clone()),
        ),
        (
            json!({"name": "c", "type": "api_key", "value": k3, "allowedHosts": hosts,
                   "placement": {"in": "header", "name": "Authorization", "prefix": "Token "}}),
            "authorization",
            Some(format!("Token {k3}")),
        ),
        (
            json!({"name": "d", "type": "bearer_token", "value": bearer, "allowedHosts": hosts}),
            "authorization",
            Some(format!("Bearer {bearer}")),
        ),
        (
            json!({"name": "e", "type": "basic_auth", "username": "ci-bot", "password": password, "allowedHosts": hosts}),
            "authorization",
            Some(basic("ci-bot", &password)),
        ),
        (
            json!({"name": "f", "type": "custom", "headers": {"X-Partner-Key": h1, "X-Partner-Id": "p-42"}, "allowedHosts": hosts}),
            "x-partner-key",
            Some(h1.clone()),
        ),
        (
            json!({"name": "g", "type": "oauth2", "clientId": "client:1", "clientSecret": client_secret,
                   "tokenUrl": token_url, "scopes": ["read", "write"], "audience": "https://api.example.com",
                   "allowedHosts": hosts}),
            "authorization",
            Some("Bearer tok-1".to_owned()),
        ),
        (
            json!({"name": "h", "type": "jwt", "algorithm": "HS256", "secret": hmac,
                   "claims": {"iss": "vault", "sub": "svc"}, "allowedHosts": hosts}),
            "authorization",
            None, // checked below by verifying the token
        ),
    ];
    for (body, name, expected) in &cases {
        let id = vault.create(body).await;
        let Reply {
            status,
            headers,
            body: text,
        } = vault
            .proxy(
                &id,
                &json!({"method": "POST", "url": upstream.url("/record/x?keep=1&api_key=caller"),
                        "headers": {"Authorization": "Bearer caller", "X-API-Key": "caller",
                                    "X-Partner-Key": "caller", "X-Caller": "c"},
                        "body": "payload"}),
            )
            .await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::OK, "upstream-ok"),
            "{body}"
        );
        assert_eq!(headers["x-upstream"], "yes");
        let got = upstream.last();
        assert_eq!(
            (got.method.as_str(), got.path.as_str(), got.body.as_slice()),
            ("POST", "/record/x", b"payload".as_slice())
        );
        assert_eq!(got.header("x-caller"), ["c"]);
        match (name.strip_prefix('?'), expected) {
            (Some(param), Some(value)) => {
                let query = got.query.clone().unwrap_or_default();
                let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
                assert_eq!(
                    pairs,
                    [
                        ("keep".to_owned(), "1".to_owned()),
                        (param.to_owned(), value.clone())
                    ],
                    "the caller's {param} is replaced, not kept"
                );
            }
            (None, Some(value)) => assert_eq!(got.header(name), [value.as_str()], "{body}"),
            (None, None) => {
                let auth = got.header("authorization");
                assert_eq!(auth.len(), 1);
                let jwt = auth[0].strip_prefix("Bearer ").expect("bearer jwt");
                let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
                validation.validate_aud = false;
                let data = jsonwebtoken::decode::<Value>(
                    jwt,
                    &jsonwebtoken::DecodingKey::from_secret(hmac.as_bytes()),
                    &validation,
                )
                .expect("the JWT verifies with the secret");
                assert_eq!(data.claims["iss"], "vault");
            }
            (Some(_), None) => unreachable!(),
        }
    }

    // The token request: client_secret_basic, scopes and audience.
    let token_request = upstream.state.token_requests.lock().expect("lock")[0].clone();
    assert_eq!(
        token_request.header("authorization"),
        [basic("client%3A1", &client_secret).as_str()]
    );
    let sent = form(&token_request.body);
    assert_eq!(sent["grant_type"], "client_credentials");
    assert_eq!(sent["scope"], "read write");
    assert_eq!(sent["audience"], "https://api.example.com");
    assert!(!sent.contains_key("client_secret"));

    // Reading everything back shows no secret (checked_text asserts it).
    vault.get_json("/credentials").await;
    vault.get_json("/request-logs").await;
    vault.get_json("/audit-events").await;
    vault.stop_and_check_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_tokens_are_fetched_once_for_concurrent_uses_and_refetched_after_changes() {
    let upstream = start_upstream().await;
    let mut vault = Vault::start(true);
    let secret = vault.secret("client-secret");
    let id = vault
        .create(
            &json!({"name": "m2m", "type": "oauth2", "clientId": "client-1", "clientSecret": secret,
                        "clientAuth": "body", "tokenUrl": upstream.url("/token"), "scopes": ["a"],
                        "allowedHosts": [upstream.origin()]}),
        )
        .await;
    upstream.state.token_delay_ms.store(300, Ordering::SeqCst);
    let call = json!({"method": "GET", "url": upstream.url("/record/concurrent")});
    let results = futures::future::join_all((0..100).map(|_| vault.proxy(&id, &call))).await;
    assert!(results.iter().all(|reply| reply.status == StatusCode::OK));
    assert_eq!(
        upstream.token_calls(),
        1,
        "100 concurrent uses, one token request"
    );
    let requests = upstream.requests();
    assert_eq!(requests.len(), 100);
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == ["Bearer tok-1"])
    );
    let sent = form(&upstream.state.token_requests.lock().expect("lock")[0].body);
    assert_eq!(
        (
            sent["client_id"].as_str(),
            sent["client_secret"].as_str(),
            sent["scope"].as_str()
        ),
        ("client-1", secret.as_str(), "a")
    );

    // Cached: another use asks nothing.
    upstream.state.token_delay_ms.store(0, Ordering::SeqCst);
    vault.proxy(&id, &call).await;
    assert_eq!(upstream.token_calls(), 1);

    // An update drops the token: the next use fetches one for the new configuration.
    let status = vault
        .patch(&id, &json!({"scopes": ["b", "c"]}))
        .await
        .status;
    assert_eq!(status, StatusCode::OK);
    vault.proxy(&id, &call).await;
    assert_eq!(upstream.token_calls(), 2);
    assert_eq!(upstream.last().header("authorization"), ["Bearer tok-2"]);
    assert_eq!(
        form(&upstream.state.token_requests.lock().expect("lock")[1].body)["scope"],
        "b c"
    );

    // A refusing token endpoint is a 502 naming its status and error, never the secret it
    // echoed back; nothing is sent upstream without a token.
    let rotated = vault.secret("rotated-secret");
    vault.patch(&id, &json!({"clientSecret": rotated})).await;
    upstream.state.token_refuses.store(true, Ordering::SeqCst);
    let before = upstream.requests().len();
    let reply = vault.proxy(&id, &call).await;
    assert_eq!(
        reply.problem(),
        (StatusCode::BAD_GATEWAY, "token-endpoint-failed".to_owned())
    );
    assert!(
        reply.body.contains("401") && reply.body.contains("invalid_client"),
        "{}",
        reply.body
    );
    assert_eq!(upstream.requests().len(), before);

    // Deleting the credential: it is gone for every use.
    let response = vault
        .call(Method::DELETE, &format!("/credentials/{id}"), None)
        .await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    upstream.state.token_refuses.store(false, Ordering::SeqCst);
    let reply = vault.proxy(&id, &call).await;
    assert_eq!(
        reply.problem(),
        (StatusCode::NOT_FOUND, "not-found".to_owned())
    );
    vault.stop_and_check_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_destinations_are_refused_unless_allowed() {
    let upstream = start_upstream().await;
    let mut vault = Vault::start(false);
    let key = vault.secret("apikey");
    let port = upstream.port;
    let id = vault
        .create(&json!({"name": "a", "type": "api_key", "value": key,
                        "allowedHosts": [format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}"),
                                         format!("http://[::1]:{port}"), "http://169.254.169.254"]}))
        .await;
    for url in [
        upstream.url("/record/a"),
        format!("http://localhost:{port}/record/a"),
        format!("http://[::1]:{port}/record/a"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
    ] {
        let reply = vault
            .proxy(&id, &json!({"method": "GET", "url": url}))
            .await;
        assert_eq!(
            reply.problem(),
            (StatusCode::FORBIDDEN, "forbidden-destination".to_owned()),
            "{url}"
        );
    }
    // Not in allowedHosts at all; and https-only unless an entry names http.
    for url in [
        format!("http://127.0.0.2:{port}/"),
        "https://example.com/".to_owned(),
    ] {
        let reply = vault
            .proxy(&id, &json!({"method": "GET", "url": url}))
            .await;
        assert_eq!(
            reply.problem(),
            (StatusCode::FORBIDDEN, "destination-not-allowed".to_owned()),
            "{url}"
        );
    }
    let https_only = vault
        .create(&json!({"name": "b", "type": "bearer_token", "value": key, "allowedHosts": [format!("127.0.0.1:{port}")]}))
        .await;
    let reply = vault
        .proxy(
            &https_only,
            &json!({"method": "GET", "url": upstream.url("/record/b")}),
        )
        .await;
    assert_eq!(
        reply.problem(),
        (StatusCode::FORBIDDEN, "destination-not-allowed".to_owned())
    );

    // The token endpoint is held to the same rules. (The call goes to a name: a literal
    // non-public address there would be refused before any token is asked for.)
    let secret = vault.secret("client-secret");
    let oauth = vault
        .create(
            &json!({"name": "o", "type": "oauth2", "clientId": "c", "clientSecret": secret,
                        "tokenUrl": upstream.url("/token"),
                        "allowedHosts": [upstream.origin(), "https://api.example.invalid"]}),
        )
        .await;
    let reply = vault
        .proxy(
            &oauth,
            &json!({"method": "GET", "url": "https://api.example.invalid/o"}),
        )
        .await;
    assert_eq!(
        reply.problem(),
        (StatusCode::BAD_GATEWAY, "token-endpoint-failed".to_owned())
    );
    assert!(reply.body.contains("non-public"), "{}", reply.body);
    // Naming the token endpoint allows it for token requests, unlisted; plain http only
    // where allowedHosts names its origin with http://. It is no proxy destination.
    let response = vault
        .call(
            Method::POST,
            "/credentials",
            Some(&json!({"name": "o2", "type": "oauth2", "clientId": "c", "clientSecret": secret,
                         "tokenUrl": "http://idp.example.com/token", "allowedHosts": ["idp.example.com"]})),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json()["field"], "tokenUrl");
    let unlisted = vault
        .create(
            &json!({"name": "o3", "type": "oauth2", "clientId": "c", "clientSecret": secret,
                        "tokenUrl": "https://idp.example.com/token",
                        "allowedHosts": ["api.example.com"]}),
        )
        .await;
    let reply = vault
        .proxy(
            &unlisted,
            &json!({"method": "GET", "url": "https://idp.example.com/userinfo"}),
        )
        .await;
    assert_eq!(
        reply.problem(),
        (StatusCode::FORBIDDEN, "destination-not-allowed".to_owned())
    );

    assert!(
        upstream.requests().is_empty(),
        "nothing reached the upstream"
    );
    assert_eq!(upstream.token_calls(), 0);

    // Malformed proxy requests are refused with the field named.
    for (body, status, code) in [
        (
            json!({"url": upstream.url("/")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            json!({"method": "GET", "url": "ftp://example.com/"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            json!({"method": "GET", "url": upstream.url("/"), "headers": {"Host": "evil"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
        ),
        (
            json!({"method": "GET", "url": upstream.url("/"), "followRedirects": true}),
            StatusCode::BAD_REQUEST,
            "unknown-field",
        ),
    ] {
        let reply = vault.proxy(&id, &body).await;
        assert_eq!(reply.problem(), (status, code.to_owned()), "{body}");
    }
    vault.stop_and_check_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_other_hosts_come_back_unfollowed_and_responses_are_bounded() {
    let upstream = start_upstream().await;
    let mut vault = Vault::start(true);
    let key = vault.secret("apikey");
    let port = upstream.port;
    let id = vault
        .create(&json!({"name": "a", "type": "api_key", "value": key,
                        "allowedHosts": [upstream.origin(), format!("http://localhost:{port}")]}))
        .await;
    let reply = vault
        .proxy(
            &id,
            &json!({"method": "GET", "url": upstream.url("/redirect-away")}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(
        reply.header("location"),
        format!("http://localhost:{port}/record/away")
    );
    assert!(
        upstream.requests().iter().all(|r| r.path != "/record/away"),
        "not followed"
    );

    let reply = vault
        .proxy(
            &id,
            &json!({"method": "GET", "url": upstream.url("/redirect-same")}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "upstream-ok")
    );
    assert_eq!(upstream.last().path, "/record/same");
    assert_eq!(upstream.last().header("x-api-key"), [key.as_str()]);

    // Statuses pass through as they came; oversized bodies are a 502.
    let reply = vault
        .proxy(
            &id,
            &json!({"method": "DELETE", "url": upstream.url("/status/503")}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "upstream-ok")
    );
    let reply = vault
        .proxy(&id, &json!({"method": "GET", "url": upstream.url("/big")}))
        .await;
    assert_eq!(
        reply.problem(),
        (
            StatusCode::BAD_GATEWAY,
            "upstream-response-too-large".to_owned()
        )
    );

    // A binary body goes out byte for byte.
    let bytes: Vec<u8> = (0..=255).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    vault
        .proxy(
            &id,
            &json!({"method": "PUT", "url": upstream.url("/record/bin"), "bodyBase64": encoded}),
        )
        .await;
    assert_eq!(upstream.last().body, bytes);
    vault.stop_and_check_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_credential_is_never_applied() {
    let upstream = start_upstream().await;
    let mut vault = Vault::start(true);
    let token = vault.secret("bearer");
    let expires = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(1500);
    let id = vault
        .create(&json!({"name": "short-lived", "type": "bearer_token", "value": token,
                        "expiresAt": expires.format(&time::format_description::well_known::Rfc3339).expect("format"),
                        "allowedHosts": [upstream.origin()]}))
        .await;
    let call = json!({"method": "GET", "url": upstream.url("/record/e")});
    let status = vault.proxy(&id, &call).await.status;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let reply = vault.proxy(&id, &call).await;
    assert_eq!(
        reply.problem(),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "credential-expired".to_owned()
        )
    );
    assert_eq!(
        upstream.requests().len(),
        1,
        "the expired credential sent nothing"
    );
    let events = vault
        .get_json(&format!("/audit-events?action=credential.use&target={id}"))
        .await;
    let outcomes: Vec<(&str, Option<&str>)> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["outcome"].as_str().expect("outcome"),
                e["reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [("failure", Some("credential-expired")), ("success", None)]
    );
    vault.stop_and_check_logs(&[]);
}
