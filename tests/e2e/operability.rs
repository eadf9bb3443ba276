//! Operability through the real `vault-server` binary, on 127.0.0.1 only:
//!
//! - the OpenAPI document served at `/openapi.json` is exactly `vault_http::openapi()`, and
//!   every operation it names is really routed (and nothing it does not name is);
//! - `/healthz` and `/readyz` answer without an access key, and readiness follows a
//!   PostgreSQL outage and its end by itself while liveness stays up;
//! - `/metrics` counts requests by route pattern, store, cipher, OAuth2 and proxy calls,
//!   and never carries a secret, a credential name or id, an access key or an organization;
//! - request ids are echoed, put in problem bodies, and carried by every log line of the
//!   request, in the human and the JSON log formats;
//! - the per-access-key rate limit (429 + Retry-After) and its off switch;
//! - per-route body limits, and slow bodies and request heads cut off in time;
//! - log retention: the server prunes old request-log entries and audit events by itself.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::helpers::postgres::TempCluster;
use crate::helpers::upstream::start_upstream;
use crate::helpers::{Api, Id, Reply, Server, TestServer, canary, command, eventually, new_key};

/// The real binary on a fresh SQLite database with two workers, an organization
/// bootstrapped, and `settings` on top of the defaults.
fn start(settings: &[(&str, &str)]) -> TestServer {
    let all: Vec<(&str, &str)> = [("VAULT_WORKERS", "2")]
        .into_iter()
        .chain(settings.iter().copied())
        .collect();
    TestServer::start(&all)
}

// ---------------------------------------------------------------------------------------
// Raw HTTP/1.1 on a TcpStream, for the slow and partial clients reqwest cannot play
// ---------------------------------------------------------------------------------------

struct RawResponse {
    status: u16,
    body: Vec<u8>,
}

fn connect(base: &str) -> TcpStream {
    let address = base.strip_prefix("http://").expect("an http base URL");
    let stream = TcpStream::connect(address).expect("connect");
    // Bounded: a server that never answers fails the test at the read, not hangs it.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream
}

/// Reads one response (head, then a `Content-Length` body); `None` when the server closed
/// the connection before sending anything.
fn read_response(stream: &mut TcpStream) -> std::io::Result<Option<RawResponse>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            assert!(buffer.is_empty(), "a truncated response head: {buffer:?}");
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head}"));
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        assert!(n > 0, "the body ended early");
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(RawResponse { status, body }))
}

// ---------------------------------------------------------------------------------------
// 1. OpenAPI
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_openapi_document_is_the_generated_one_and_every_operation_is_routed() {
    let vault = start(&[]);
    let response = vault
        .api
        .call_without_key(Method::GET, "/openapi.json")
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let served = response.json();
    let generated = serde_json::to_value(vault_http::openapi()).expect("document");
    assert_eq!(
        served, generated,
        "the served document is the generated one"
    );
    assert!(
        served["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        served["openapi"]
    );

    let mut checked = 0;
    for (pattern, item) in served["paths"].as_object().expect("paths") {
        let path = pattern
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{number}", "1")
            .replace("{grantId}", &uuid::Uuid::new_v4().to_string())
            .replace("{deliveryId}", &uuid::Uuid::new_v4().to_string());
        assert!(!path.contains('{'), "an unknown parameter in {pattern}");
        for (method, operation) in item.as_object().expect("path item") {
            if method == "parameters" {
                continue;
            }
            // Operations the document marks public (`security: [{}]`) are the probes, the
            // metrics and the document; every other needs an access key and gets 401.
            let public = operation["security"].as_array().is_some_and(|s| {
                s.iter()
                    .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            let status = vault
                .api
                .call_without_key(method.clone(), &path)
                .await
                .status;
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed: {status}"
            );
            if path == "/oauth/callback" {
                // Public, but its single-use state authenticates it: without one, a 400.
                assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}");
            } else if public {
                assert!(
                    [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE].contains(&status),
                    "{method} {path}: {status}"
                );
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, vault_http::ROUTES.len(), "every route was tried");

    // Controls: the same check tells an undocumented path and method apart.
    let response = vault
        .api
        .call_without_key(Method::GET, "/credentialz")
        .await;
    response.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let response = vault
        .api
        .call_without_key(Method::PUT, "/credentials")
        .await;
    response.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    vault.stop();
}

// ---------------------------------------------------------------------------------------
// 2. Health
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probes_answer_without_an_access_key() {
    let vault = start(&[]);
    let response = vault.api.call_without_key(Method::GET, "/healthz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), json!({"status": "ok"}));

    let response = vault.api.call_without_key(Method::GET, "/readyz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["cache-control"], "no-store");
    let ready = response.json();
    // The key id is the current key's, as the key-status endpoint reports it.
    let keys = vault.api.get_json("/admin/keys", &vault.token).await;
    let key_id = keys["currentKeyId"].as_str().expect("currentKeyId");
    assert!(!key_id.is_empty());
    assert_eq!(
        ready,
        json!({"status": "ok", "database": "ok", "encryptionKey": "ok", "keyId": key_id,
               "keyManager": {"kind": "static", "reachable": true}})
    );
    vault.stop();
}

/// The web console's page and assets come from the binary itself, without an access key,
/// each with its content type and the security headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_from_the_binary_with_its_security_headers() {
    let vault = start(&[]);
    for (path, content_type, marker) in [
        (
            "/",
            "text/html; charset=utf-8",
            r#"<script src="/console/app.js" defer>"#,
        ),
        (
            "/console/app.js",
            "text/javascript; charset=utf-8",
            "vault.accessKey",
        ),
        (
            "/console/app.css",
            "text/css; charset=utf-8",
            "@media (max-width: 600px)",
        ),
    ] {
        let response = vault.api.call_without_key(Method::GET, path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        let headers = response.headers.clone();
        assert_eq!(headers["content-type"], content_type, "{path}");
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        if path == "/" {
            assert_eq!(headers["cache-control"], "no-store");
        }
        let body = response.body;
        assert!(body.contains(marker), "{path}");
    }
    vault.stop();
}

/// `/readyz` on a `TempCluster` that is halted and resumed under the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_a_postgresql_outage_while_liveness_stays_up() {
    let Some(cluster) = TempCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = command(dir.path());
    cmd.env("DATABASE_URL", &cluster.url)
        .env("ENCRYPTION_KEY", new_key())
        .env("VAULT_MIGRATE_ON_START", "true")
        // A request waits this long for a connection before it is answered 503.
        .env("VAULT_DATABASE_ACQUIRE_TIMEOUT_MS", "1000");
    let server = Server::start(cmd);
    let api = Api::new(&server.base);
    let probe = async |path: &str| {
        let response = api.call_without_key(Method::GET, path).await;
        (response.status, response.json())
    };

    let (status, ready) = probe("/readyz").await;
    assert_eq!((status, &ready["database"]), (StatusCode::OK, &json!("ok")));
    assert!(ready["keyId"].as_str().is_some_and(|k| !k.is_empty()));

    cluster.halt();
    let down = eventually(Duration::from_secs(20), "/readyz says 503", async || {
        let (status, body) = probe("/readyz").await;
        (status == StatusCode::SERVICE_UNAVAILABLE).then_some(body)
    })
    .await;
    assert_eq!(
        down,
        json!({"status": "unavailable", "database": "unavailable", "encryptionKey": "unknown", "keyId": null,
               "keyManager": {"kind": "static", "reachable": true}})
    );
    // Liveness checks nothing else: an orchestrator must not restart a replica for this.
    let (status, _) = probe("/healthz").await;
    assert_eq!(status, StatusCode::OK, "the process stays live");

    cluster.resume();
    let up = eventually(Duration::from_secs(30), "/readyz back to 200", async || {
        let (status, body) = probe("/readyz").await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert_eq!(
        (&up["database"], &up["encryptionKey"]),
        (&json!("ok"), &json!("ok"))
    );
    server.stop();
}

// ---------------------------------------------------------------------------------------
// 3. Metrics
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_by_route_pattern_and_carry_no_secret_name_or_id() {
    let upstream = start_upstream().await;
    let vault = start(&[("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")]);
    let hosts = json!([upstream.origin()]);
    let (api_name, api_secret) = (canary("api-name"), canary("api-secret"));
    let (oauth_name, oauth_secret) = (canary("oauth-name"), canary("oauth-secret"));
    let api = vault
        .api
        .create_credential(
            &vault.token,
            &json!({"name": api_name, "type": "api_key", "value": api_secret,
                    "allowedHosts": hosts}),
        )
        .await
        .id();
    let oauth = vault
        .api
        .create_credential(
            &vault.token,
            &json!({"name": oauth_name, "type": "oauth2", "clientId": "client-1",
                    "clientSecret": oauth_secret, "tokenUrl": upstream.url("/token"),
                    "allowedHosts": hosts}),
        )
        .await
        .id();

    // A read, failed requests (an unknown id, no access key, a path no route matches),
    // proxied calls answered 200 and 503, and one that needs an OAuth2 token.
    let response = vault
        .api
        .get(&format!("/credentials/{api}"), &vault.token)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let unknown = uuid::Uuid::new_v4().to_string();
    let response = vault
        .api
        .get(&format!("/credentials/{unknown}"), &vault.token)
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let response = vault
        .api
        .call_without_key(Method::GET, "/credentials")
        .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    let probe = canary("probe-path");
    let response = vault
        .api
        .call_without_key(Method::GET, &format!("/{probe}"))
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let call = |path: &str| json!({"method": "GET", "url": upstream.url(path)});
    let proxy = async |id: &str, path: &str| {
        let reply = vault.api.proxy(id, &vault.token, &call(path)).await;
        reply.status
    };
    assert_eq!(proxy(&api, "/record/ok").await, StatusCode::OK);
    assert_eq!(
        proxy(&api, "/status/503").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(proxy(&oauth, "/record/oauth").await, StatusCode::OK);
    assert_eq!(upstream.token_calls(), 1);

    let organization = vault.api.get_json("/audit-events", &vault.token).await["items"]
        .as_array()
        .expect("items")
        .iter()
        .find_map(|e| e["organizationId"].as_str().map(str::to_owned))
        .expect("an event of the organization");
    let key_ids: Vec<String> = vault.api.get_json("/access-keys", &vault.token).await["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|k| k.id())
        .collect();

    let response = vault.api.call_without_key(Method::GET, "/metrics").await;
    assert_eq!(response.status, StatusCode::OK);
    let content_type = response.headers["content-type"].to_str().expect("ascii");
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.body;
    for expected in [
        r#"vault_http_requests_total{method="GET",route="/credentials/{id}",status="200"}"#,
        r#"vault_http_requests_total{method="GET",route="/credentials/{id}",status="404"}"#,
        r#"vault_http_requests_total{method="POST",route="/credentials/{id}/proxy",status="503"}"#,
        r#"vault_http_requests_total{method="GET",route="unmatched",status="404"}"#,
        "vault_http_request_duration_seconds_bucket{",
        "vault_store_operation_duration_seconds_bucket{",
        "vault_store_operation_duration_seconds_count{",
        r#"vault_cipher_operations_total{operation="seal",outcome="ok"}"#,
        r#"vault_oauth2_token_fetches_total{outcome="ok"}"#,
        r#"vault_proxy_requests_total{upstream_status="200"}"#,
        r#"vault_proxy_requests_total{upstream_status="503"}"#,
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    // Every route label is a registered pattern (or `unmatched`), never a raw path.
    for label in text.split("route=\"").skip(1) {
        let route = label.split('"').next().expect("a quoted value");
        assert!(
            route == "unmatched" || vault_http::ROUTES.iter().any(|(_, p)| *p == route),
            "route label {route} is not a pattern"
        );
    }
    let forbidden = [
        &api_name,
        &api_secret,
        &oauth_name,
        &oauth_secret,
        &api,
        &oauth,
        &unknown,
        &probe,
        &vault.token,
        &organization,
    ];
    for value in forbidden.into_iter().chain(&key_ids) {
        assert!(!text.contains(value.as_str()), "{value} in the metrics");
    }
    // The token the endpoint issued is a secret too.
    assert!(!text.contains("tok-1"));
    // Nor any other id: no UUID-shaped word at all.
    let uuids: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|word| uuid::Uuid::try_parse(word).is_ok())
        .collect();
    assert!(uuids.is_empty(), "ids in the metrics: {uuids:?}");
    vault.stop();
}

// ---------------------------------------------------------------------------------------
// 4. Request ids
// ---------------------------------------------------------------------------------------

/// Sends a request with a caller's id and returns the server's log lines of that request:
/// the requests here are sequential, so the lines written from the send until the
/// request's "request finished" line are all and only this request's.
async fn logged_request(
    vault: &TestServer,
    request: RequestBuilder,
    id: &str,
) -> (Reply, Vec<String>) {
    let before = vault.log().len();
    let response = Reply::send(request.header("x-request-id", id)).await;
    assert_eq!(response.header("x-request-id"), id, "the id is echoed");
    // Lines go through a background writer: wait for the request's last one.
    let lines = eventually(
        Duration::from_secs(10),
        "the request's log lines",
        async || {
            let log = vault.log();
            let lines: Vec<String> = log[before..].lines().map(str::to_owned).collect();
            lines
                .iter()
                .any(|l| l.contains("request finished") && l.contains(id))
                .then_some(lines)
        },
    )
    .await;
    (response, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_and_on_every_log_line_of_their_request() {
    let vault = start(&[("RUST_LOG", "debug")]);
    assert!(vault.log().contains("DEBUG"), "debug logging is on");

    // A failed authentication: the id in the header, the problem body and every line.
    let id = format!("trace-{}", uuid::Uuid::new_v4());
    let path = format!("/credentials/{}", uuid::Uuid::new_v4());
    let request = vault
        .api
        .request(Method::GET, &path)
        .bearer_auth("vlt_not-a-real-key");
    let (response, lines) = logged_request(&vault, request, &id).await;
    let body = response.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(body["requestId"], id.as_str());
    let span = format!("request{{request_id={id} method=GET path={path}}}");
    assert!(
        lines.iter().any(|l| l.contains("authentication failed")),
        "{lines:#?}"
    );
    for line in &lines {
        assert!(
            line.contains(&span),
            "a line without the request's span: {line}"
        );
    }
    // Found by the path instead: none of the request's lines is outside the span.
    for line in vault.log().lines().filter(|l| l.contains(&path)) {
        assert!(line.contains(&span), "{line}");
    }

    // A success that writes to the store: its lines, nested spans included, carry it too.
    let id = format!("trace-{}", uuid::Uuid::new_v4());
    let request = vault
        .api
        .request(Method::POST, "/credentials")
        .bearer_auth(&vault.token)
        .json(&json!({"name": "traced", "type": "api_key", "value": canary("traced")}));
    let (response, lines) = logged_request(&vault, request, &id).await;
    assert_eq!(response.status, StatusCode::CREATED);
    assert!(
        lines.iter().any(|l| l.contains("credential created")),
        "{lines:#?}"
    );
    for line in &lines {
        assert!(
            line.contains(&format!(
                "request{{request_id={id} method=POST path=/credentials}}"
            )),
            "a line without the request's span: {line}"
        );
    }

    // Without a caller's id (or with one that could inject log content) the server makes
    // one, and the problem body quotes the same.
    for header in [None, Some("not an acceptable id")] {
        let mut request = vault.api.request(Method::GET, "/credentials");
        if let Some(header) = header {
            request = request.header("x-request-id", header);
        }
        let response = Reply::send(request).await;
        let generated = response.header("x-request-id").to_owned();
        uuid::Uuid::parse_str(&generated).expect("a generated UUID");
        let body = response.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(body["requestId"], generated.as_str());
    }
    vault.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_carry_the_request_id_in_their_span_fields() {
    let vault = start(&[("RUST_LOG", "debug"), ("VAULT_LOG_FORMAT", "json")]);
    let in_request_span = |line: &Value, id: &str| {
        line["spans"].as_array().is_some_and(|spans| {
            spans
                .iter()
                .any(|s| s["name"] == "request" && s["request_id"] == id)
        })
    };

    let id = format!("trace-{}", uuid::Uuid::new_v4());
    let path = format!("/credentials/{}", uuid::Uuid::new_v4());
    let request = vault
        .api
        .request(Method::GET, &path)
        .bearer_auth("vlt_not-a-real-key");
    let (response, lines) = logged_request(&vault, request, &id).await;
    let body = response.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(body["requestId"], id.as_str());
    assert!(
        lines.len() >= 2,
        "authentication failed, request finished: {lines:#?}"
    );
    for line in &lines {
        let parsed: Value = serde_json::from_str(line).expect("a JSON log line");
        assert!(in_request_span(&parsed, &id), "{line}");
        assert_eq!(parsed["span"]["request_id"], id.as_str(), "{line}");
        assert_eq!(parsed["span"]["path"], path.as_str(), "{line}");
    }

    let id = format!("trace-{}", uuid::Uuid::new_v4());
    let request = vault
        .api
        .request(Method::POST, "/credentials")
        .bearer_auth(&vault.token)
        .json(&json!({"name": "traced", "type": "api_key", "value": canary("traced")}));
    let (response, lines) = logged_request(&vault, request, &id).await;
    assert_eq!(response.status, StatusCode::CREATED);
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("a JSON log line"))
        .collect();
    assert!(
        parsed.iter().any(|l| l["message"] == "credential created"),
        "{lines:#?}"
    );
    for line in &parsed {
        assert!(in_request_span(line, &id), "{line}");
    }
    vault.stop();
}

// ---------------------------------------------------------------------------------------
// 5. Rate limit
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_holds_each_access_key_to_its_own_bucket() {
    let vault = start(&[
        ("VAULT_RATE_LIMIT_PER_SECOND", "1"),
        ("VAULT_RATE_LIMIT_BURST", "3"),
    ]);
    // The admin key's first three requests: creating a second key, then two reads.
    let second = vault
        .api
        .access_key(&vault.token, "second", &["credentials:read"])
        .await
        .secret;
    for _ in 0..2 {
        let response = vault.api.get("/credentials", &vault.token).await;
        assert_eq!(response.status, StatusCode::OK);
    }
    let response = vault.api.get("/credentials", &vault.token).await;
    let retry_after = response.headers.get("retry-after").cloned();
    response.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    let retry_after: u64 = retry_after
        .expect("a Retry-After header")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    // One request a second: the next is at most a second away, rounded up.
    assert!((1..=2).contains(&retry_after), "Retry-After: {retry_after}");

    // The second key has a bucket of its own.
    for _ in 0..3 {
        let response = vault.api.get("/credentials", &second).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "the second key is not limited"
        );
    }

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let response = vault.api.get("/credentials", &vault.token).await;
    assert_eq!(response.status, StatusCode::OK, "after Retry-After");
    vault.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_rate_turns_the_limit_off() {
    // A burst of 1: were the rate not off, the second request would already be refused.
    let vault = start(&[
        ("VAULT_RATE_LIMIT_PER_SECOND", "0"),
        ("VAULT_RATE_LIMIT_BURST", "1"),
    ]);
    for n in 0..300 {
        let response = vault.api.get("/credentials", &vault.token).await;
        assert_eq!(response.status, StatusCode::OK, "request {n}");
    }
    vault.stop();
}

// ---------------------------------------------------------------------------------------
// 6. Body limits and timeouts
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limits_are_per_route() {
    let upstream = start_upstream().await;
    let vault = start(&[
        ("VAULT_MAX_BODY_BYTES", "4096"),
        ("VAULT_MAX_PROXY_BODY_BYTES", "65536"),
        ("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true"),
    ]);
    let too_big = json!({"name": "big", "type": "api_key", "value": "sk_0123456789",
                         "description": "d".repeat(8 * 1024)});
    let response = vault
        .api
        .call(Method::POST, "/credentials", &vault.token, Some(&too_big))
        .await;
    response.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");

    // Without a Content-Length (chunked), the limit holds while the body is read.
    let body = serde_json::to_vec(&too_big).expect("json");
    let mut stream = connect(&vault.api.base);
    let mut request = format!(
        "POST /credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        vault.token
    )
    .into_bytes();
    for piece in body.chunks(1024) {
        request.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        request.extend_from_slice(piece);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&request).expect("sent");
    let response = read_response(&mut stream)
        .expect("read")
        .expect("a response");
    let problem_body: Value = serde_json::from_slice(&response.body).expect("problem json");
    assert_eq!(
        (response.status, &problem_body["code"]),
        (413, &json!("payload-too-large"))
    );
    let list = vault.api.get_json("/credentials", &vault.token).await;
    assert_eq!(list["items"], json!([]), "nothing was created");

    // The proxy has its own, larger limit.
    let id = vault
        .api
        .create_credential(
            &vault.token,
            &json!({"name": "p", "type": "api_key", "value": "sk_0123456789",
                    "allowedHosts": [upstream.origin()]}),
        )
        .await
        .id();
    let payload = "p".repeat(32 * 1024);
    let call = json!({"method": "POST", "url": upstream.url("/record/big"), "body": payload});
    assert_eq!(
        vault.api.proxy(&id, &vault.token, &call).await.status,
        StatusCode::OK
    );
    assert_eq!(
        upstream.last().body,
        payload.as_bytes(),
        "the upstream got it all"
    );
    let call = json!({"method": "POST", "url": upstream.url("/record/bigger"),
                      "body": "p".repeat(100 * 1024)});
    let response = vault.api.proxy(&id, &vault.token, &call).await;
    response.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    assert_eq!(
        upstream.requests().len(),
        1,
        "the oversized call was not sent"
    );
    vault.stop();
}

#[test]
fn a_body_that_stalls_is_answered_408() {
    let vault = start(&[("VAULT_HTTP_BODY_TIMEOUT_MS", "500")]);
    // From before the connection: the server's clock cannot start earlier than this.
    let started = Instant::now();
    let mut stream = connect(&vault.api.base);
    let head = format!(
        "POST /credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        vault.token
    );
    stream.write_all(head.as_bytes()).expect("head sent");
    // 10 of the 100 bytes announced, then nothing.
    stream.write_all(br#"{"name":"x"#).expect("body sent");
    let response = read_response(&mut stream)
        .expect("an answer, not a read timeout")
        .expect("a response, not a closed connection");
    let waited = started.elapsed();
    let body: Value = serde_json::from_slice(&response.body).expect("problem json");
    assert_eq!(
        (response.status, &body["code"]),
        (408, &json!("request-timeout"))
    );
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(5),
        "answered after {waited:?}"
    );
    // The rest of the body will never come: the connection is closed, its slot freed.
    let mut rest = [0u8; 64];
    match stream.read(&mut rest) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("the connection was kept after the 408: {other:?}"),
    }
    vault.stop();
}

#[test]
fn a_request_head_that_stalls_is_cut_off() {
    let vault = start(&[("VAULT_HTTP_HEADER_TIMEOUT_MS", "500")]);
    let started = Instant::now();
    let mut stream = connect(&vault.api.base);
    stream.write_all(b"GET /heal").expect("half a request line");
    // actix answers 408 or just closes: either ends the connection in time.
    match read_response(&mut stream) {
        Ok(Some(response)) => assert_eq!(response.status, 408),
        Ok(None) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the connection was left open: {e}"),
    }
    // No lower bound: actix reads its clock from a cache refreshed every 500 ms, so its
    // head deadline can fire up to that much early.
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "ended after {waited:?}");
    // The server lives on: `stop` asserts a graceful exit.
    vault.stop();
}

// ---------------------------------------------------------------------------------------
// Log retention
// ---------------------------------------------------------------------------------------

/// The real server prunes its logs by itself: with 1 day of retention and a 1-second
/// interval, the request-log entries and audit events written 10 days ago (and a keyless
/// failure's event 20 days ago) go, exactly those, while recent ones stay, and each run
/// logs its counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_prunes_entries_older_than_the_retention_and_keeps_the_rest() {
    use crate::helpers::retention::{OLD_AUDIT, OLD_REQUESTS, log_ids, pruned_counts, seed};

    let vault = start(&[
        ("VAULT_REQUEST_LOG_RETENTION_DAYS", "1"),
        ("VAULT_AUDIT_RETENTION_DAYS", "1"),
        ("VAULT_LOG_PRUNE_INTERVAL_SECONDS", "1"),
    ]);
    // The server's own file, opened beside it (WAL: both may write).
    let db = vault.dir.path().join("data").join("vault.db");
    let store = vault_store_sqlite::SqliteStore::open(&format!("sqlite://{}", db.display()))
        .await
        .expect("the server's database");
    let seeded = seed(&store).await;
    let counts = eventually(
        Duration::from_secs(30),
        "the old entries pruned by the server",
        async || {
            let counts = pruned_counts(&vault.log());
            (counts.0 >= OLD_REQUESTS && counts.1 >= OLD_AUDIT).then_some(counts)
        },
    )
    .await;
    assert_eq!(
        counts,
        (OLD_REQUESTS, OLD_AUDIT),
        "the server pruned other entries than the old ones"
    );
    let (requests, audit) = log_ids(&store, seeded.organization).await;
    assert_eq!(requests, seeded.recent_requests, "the request log");
    assert_eq!(audit, seeded.recent_audit, "the audit log");
    // The bootstrap's own (recent) audit events are still listed through the API.
    let listed = vault.api.get_json("/audit-events", &vault.token).await;
    assert!(
        listed["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty()),
        "{listed}"
    );
}
