//! Issue 14 findings: input.
//!
//! - finding 10: failed authentications are limited per source address, before the key
//!   is looked up; a trusted proxy's forwarded client is a source of its own; a replayed
//!   key is audited as counted events, not a row per attempt;
//! - duplicate JSON keys, at any depth, on every JSON body;
//! - bidirectional-override and zero-width characters in names and descriptions;
//! - `If-Match` with a list of tags;
//! - `X-Content-Type-Options: nosniff` on every response of the API.

use std::net::IpAddr;

use vault_server::app::{PostgresVault, SqliteVault};

use super::*;
use crate::helpers::http_client;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

impl TestApp {
    /// Restarts the server with its store metered into the registry `/metrics` serves,
    /// so that a test can count store calls.
    async fn restart_metered(&mut self) {
        self.stop().await;
        match &self.postgres {
            None => {
                let (vault, _): (SqliteVault, _) = open_sqlite_vault(&self.settings)
                    .await
                    .expect("vault opens");
                self.serve_metered(vault).await;
            }
            Some(db) => {
                let (vault, _): (PostgresVault, _) = open_postgres(&self.settings, &db.url)
                    .await
                    .expect("vault opens");
                self.serve_metered(vault).await;
            }
        }
    }

    async fn serve_metered<S: Store>(&mut self, vault: vault_server::app::ServerVault<S>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let app = Application::start_metered(vault, listener, &self.settings)
            .await
            .expect("starts");
        self.api.base = format!("http://{}", app.address());
        self.handle = Some(app.handle());
        self.running = Some(tokio::spawn(app.run_until_stopped()));
    }

    /// Access-key lookups in the store so far (every outcome), from `/metrics`.
    async fn key_lookups(&self) -> u64 {
        let text = self
            .api
            .call_without_key(Method::GET, "/metrics")
            .await
            .body;
        text.lines()
            .filter(|l| {
                l.starts_with("vault_store_operation_duration_seconds_count")
                    && l.contains("operation=\"find_access_key\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}

/// An HTTP client whose connections come from `address` (any of 127.0.0.0/8 on Linux).
fn client_from(address: &str) -> Client {
    http_client()
        .local_address(address.parse::<IpAddr>().expect("address"))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a client")
}

/// A key of the right shape and checksum that nobody was issued.
fn random_key() -> String {
    let random: Vec<u8> = (0..128).map(|_| fastrand::u8(..)).collect();
    vault_core::access_key::AccessToken::from_random(&random)
        .expect("enough random bytes")
        .expose()
        .to_owned()
}

fn count(vault: &TestApp, sql: &str) -> u64 {
    let out = vault.sql(sql);
    out.parse()
        .unwrap_or_else(|_| panic!("{sql}: not a count: {out}"))
}

// ---------------------------------------------------------------------------------------
// Finding 10: failed authentications
// ---------------------------------------------------------------------------------------

/// 600 random keys from one address: the first `BURST` are looked up and refused (401,
/// audited), every later one is a 429 with `Retry-After` that costs no store read and no
/// audit row. Another address is not blocked, and headers cannot make the vault believe a
/// request came from elsewhere when no proxy is trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_are_limited_per_source_before_the_key_is_looked_up() {
    const BURST: u64 = 20;
    for backend in Backend::ALL {
        let Some(mut vault) = start_on(backend, false).await else {
            continue;
        };
        // One failure a minute regained: nothing refills during the test.
        vault.settings.auth_failure_limit_per_minute = 1;
        vault.settings.auth_failure_limit_burst = u32::try_from(BURST).expect("small");
        vault.restart_metered().await;
        let unattributed = "SELECT count(*) FROM audit_events WHERE organization_id IS NULL";
        assert_eq!(count(&vault, unattributed), 0);

        let attacker = client_from("127.0.0.2");
        let url = format!("{}/credentials", vault.api.base);
        let lookups_before = vault.key_lookups().await;
        let (mut refused, mut limited) = (0_u64, 0_u64);
        for i in 0..600 {
            let mut request = attacker.get(&url).bearer_auth(random_key());
            if i % 2 == 1 {
                // Without a trusted proxy, a forwarded-for header changes nothing.
                request = request.header("x-forwarded-for", format!("198.51.100.{}", i % 250));
            }
            let reply = Reply::send(request).await;
            match reply.problem() {
                (StatusCode::UNAUTHORIZED, code) if code == "unauthorized" => {
                    assert_eq!(limited, 0, "{backend:?}: a 401 after a 429");
                    refused += 1;
                }
                (StatusCode::TOO_MANY_REQUESTS, code) if code == "rate-limited" => {
                    let wait: u64 = reply.headers["retry-after"]
                        .to_str()
                        .expect("ascii")
                        .parse()
                        .expect("seconds");
                    assert!((1..=60).contains(&wait), "{backend:?}: Retry-After {wait}");
                    limited += 1;
                }
                other => panic!("{backend:?}: {other:?}: {}", reply.body),
            }
        }
        assert_eq!((refused, limited), (BURST, 600 - BURST), "{backend:?}");
        assert_eq!(
            vault.key_lookups().await - lookups_before,
            BURST,
            "{backend:?}: a limited request never reaches the store"
        );
        assert_eq!(
            count(&vault, unattributed),
            BURST,
            "{backend:?}: a limited request is never audited"
        );

        // The blocked source is refused whatever its key, before it is looked up.
        let reply = Reply::send(attacker.get(&url).bearer_auth(&vault.token)).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
        // Another address is not: its keys work, and its failures are its own.
        let reply = vault.api.get("/credentials", &vault.token).await;
        assert_eq!(reply.status, StatusCode::OK, "{backend:?}: {}", reply.body);
        let reply = Reply::send(client_from("127.0.0.3").get(&url).bearer_auth(random_key())).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{backend:?}");
        vault.stop().await;
    }
}

/// Behind a trusted reverse proxy, each forwarded client (the rightmost hop that is not a
/// trusted proxy) has a budget of its own; a hop the client wrote itself changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let mut vault = start(false).await;
    vault.settings.auth_failure_limit_per_minute = 1;
    vault.settings.auth_failure_limit_burst = 5;
    vault.settings.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
    vault.restart().await;
    let url = format!("{}/credentials", vault.api.base);
    let proxy = &vault.api.client;
    let via = |client: &Client, forwarded: &str, key: &str| {
        client
            .get(&url)
            .bearer_auth(key)
            .header("x-forwarded-for", forwarded)
    };

    // One client behind the proxy spends its budget.
    for _ in 0..5 {
        let reply = Reply::send(via(proxy, "203.0.113.7", &random_key())).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    }
    let reply = Reply::send(via(proxy, "203.0.113.7", &random_key())).await;
    assert_eq!(reply.problem().1, "rate-limited", "{}", reply.body);
    // Writing another address in front of its own does not help it: the proxy appended the
    // real one, and that is the rightmost untrusted hop.
    let reply = Reply::send(via(proxy, "198.51.100.9, 203.0.113.7", &random_key())).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );

    // Another client behind the same proxy: its key works, its failures are its own.
    let reply = Reply::send(via(proxy, "198.51.100.9", &vault.token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = Reply::send(via(proxy, "198.51.100.9", &random_key())).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    // A peer that is not a trusted proxy is judged by its own address, whatever it claims.
    let reply = Reply::send(via(&client_from("127.0.0.2"), "203.0.113.7", &random_key())).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    vault.stop().await;
}

/// A revoked key replayed 150 times: every failure is counted, but in two audit rows (the
/// first failure at once, the other 149 as one event with their count), and the count
/// still open when the server stops is written then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_key_is_audited_as_counted_events_not_a_row_per_attempt() {
    for backend in Backend::ALL {
        let Some(mut vault) = start_on(backend, false).await else {
            continue;
        };
        let AccessKey {
            id: revoked_id,
            secret: revoked,
        } = vault
            .api
            .access_key(&vault.token, "k", &["credentials:read"])
            .await;
        vault.revoke(&revoked_id).await;
        let rows = "SELECT count(*) FROM audit_events WHERE reason = 'revoked-key'";
        let total = "SELECT coalesce(sum(occurrences), 0) FROM audit_events \
                     WHERE reason = 'revoked-key'";
        for _ in 0..150 {
            let reply = vault.api.get("/credentials", &revoked).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        }
        // The first failure is in the log at once; the others are being counted.
        assert_eq!(
            (count(&vault, rows), count(&vault, total)),
            (1, 1),
            "{backend:?}"
        );

        vault.stop().await;
        assert_eq!(
            (count(&vault, rows), count(&vault, total)),
            (2, 150),
            "{backend:?}: the open count is written at shutdown"
        );
        vault.restart().await;
        let listed = vault
            .api
            .get_json("/audit-events?action=authentication.failure", &vault.token)
            .await;
        let counts: Vec<(Value, Value, Value)> = listed["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| {
                (
                    e["count"].clone(),
                    e["reason"].clone(),
                    e["targetId"].clone(),
                )
            })
            .collect();
        assert_eq!(
            counts,
            [
                (json!(149), json!("revoked-key"), json!(revoked_id)),
                (json!(1), json!("revoked-key"), json!(revoked_id)),
            ],
            "{backend:?}"
        );
        // Every other event stands for one occurrence.
        let others = vault
            .api
            .get_json("/audit-events?limit=100", &vault.token)
            .await;
        for event in others["items"].as_array().expect("items") {
            if event["reason"] != "revoked-key" {
                assert_eq!(event["count"], 1, "{event}");
            }
        }
        vault.stop().await;
    }
}

// ---------------------------------------------------------------------------------------
// Duplicate JSON keys
// ---------------------------------------------------------------------------------------

/// A body that names a field twice, at the top or nested (`headers`, `placement`), is a
/// 400 `duplicate-field` naming it, on every route that reads JSON, and nothing happens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_json_keys_are_refused_on_every_body_and_change_nothing() {
    let upstream = start_upstream().await;
    let vault = start(true).await;
    let id = vault
        .api
        .create_credential(
            &vault.token,
            &json!({"name": "c", "type": "custom", "headers": {"X-Partner-Key": canary("h")},
                    "allowedHosts": [upstream.origin()]}),
        )
        .await
        .id();
    let before = vault.snapshot(&vault.token).await;
    let target = upstream.url("/record/dup");
    let cases = [
        (
            Method::POST,
            "/credentials".to_owned(),
            r#"{"name":"d","type":"api_key","value":"first","value":"second"}"#.to_owned(),
            "value",
        ),
        (
            Method::POST,
            "/credentials".to_owned(),
            r#"{"name":"d","type":"custom","headers":{"X-A":"1","X-A":"2"}}"#.to_owned(),
            "headers.X-A",
        ),
        (
            Method::POST,
            "/credentials".to_owned(),
            r#"{"name":"d","type":"api_key","value":"v","placement":{"in":"header","in":"query"}}"#
                .to_owned(),
            "placement.in",
        ),
        (
            Method::PATCH,
            format!("/credentials/{id}"),
            r#"{"headers":{"X-Partner-Key":"a","X-Partner-Key":"b"}}"#.to_owned(),
            "headers.X-Partner-Key",
        ),
        (
            Method::PATCH,
            format!("/credentials/{id}"),
            r#"{"name":"a","name":"b"}"#.to_owned(),
            "name",
        ),
        (
            Method::POST,
            "/access-keys".to_owned(),
            r#"{"name":"k","scopes":["credentials:read"],"scopes":["audit:read"]}"#.to_owned(),
            "scopes",
        ),
        (
            Method::POST,
            format!("/credentials/{id}/proxy"),
            format!(r#"{{"method":"GET","method":"DELETE","url":"{target}"}}"#),
            "method",
        ),
        (
            Method::POST,
            format!("/credentials/{id}/proxy"),
            format!(r#"{{"method":"GET","url":"{target}","headers":{{"X-C":"1","X-C":"2"}}}}"#),
            "headers.X-C",
        ),
    ];
    for (method, path, body, field) in cases {
        let reply = Reply::send(
            vault
                .api
                .request(method.clone(), &path)
                .bearer_auth(&vault.token)
                .header("content-type", "application/json")
                .body(body.clone()),
        )
        .await;
        assert_eq!(
            reply.problem(),
            (StatusCode::BAD_REQUEST, "duplicate-field".to_owned()),
            "{method} {path} {body}: {}",
            reply.body
        );
        assert_eq!(reply.json()["field"], field, "{body}: {}", reply.body);
        reply.reveals_none(&["first", "second"]);
    }
    assert!(upstream.requests().is_empty(), "no proxy call went out");
    assert_eq!(
        vault.snapshot(&vault.token).await,
        before,
        "nothing changed"
    );
}

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

/// Every bidirectional-override, isolate and zero-width character is refused in
/// credential names, descriptions and access-key names (create and update), with a 422
/// naming the field; nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordering_and_invisible_characters_are_refused_in_names() {
    let vault = start(false).await;
    let id = vault
        .api
        .create_credential(
            &vault.token,
            &json!({"name": "plain", "type": "bearer_token", "value": canary("n")}),
        )
        .await
        .id();
    let before = vault.snapshot(&vault.token).await;
    let characters = ('\u{200B}'..='\u{200F}')
        .chain('\u{202A}'..='\u{202E}')
        .chain('\u{2066}'..='\u{2069}');
    let mut tried = 0;
    for c in characters {
        // "payroll" that shows as something else, or hides a character.
        let text = format!("pay{c}llor");
        let cases = [
            (
                Method::POST,
                "/credentials".to_owned(),
                json!({"name": text, "type": "bearer_token", "value": "v"}),
                "name",
            ),
            (
                Method::POST,
                "/credentials".to_owned(),
                json!({"name": "n", "description": text, "type": "bearer_token", "value": "v"}),
                "description",
            ),
            (
                Method::PATCH,
                format!("/credentials/{id}"),
                json!({"name": text}),
                "name",
            ),
            (
                Method::PATCH,
                format!("/credentials/{id}"),
                json!({"description": text}),
                "description",
            ),
            (
                Method::POST,
                "/access-keys".to_owned(),
                json!({"name": text, "scopes": ["credentials:read"]}),
                "name",
            ),
        ];
        for (method, path, body, field) in cases {
            let reply = vault
                .api
                .call(method.clone(), &path, &vault.token, Some(&body))
                .await;
            assert_eq!(
                reply.problem(),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid-field".to_owned()),
                "U+{:04X} {method} {path}: {}",
                u32::from(c),
                reply.body
            );
            assert_eq!(reply.json()["field"], field, "{}", reply.body);
            tried += 1;
        }
    }
    assert_eq!(tried, 14 * 5);
    assert_eq!(
        vault.snapshot(&vault.token).await,
        before,
        "nothing changed"
    );
}

// ---------------------------------------------------------------------------------------
// If-Match
// ---------------------------------------------------------------------------------------

/// RFC 9110 §13.1.1: any listed tag may match (strongly: a weak tag never does), on
/// update, restore and delete; a malformed header is a 400 and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_match_accepts_any_listed_tag_and_refuses_a_malformed_one() {
    for backend in Backend::ALL {
        let Some(vault) = start_on(backend, false).await else {
            continue;
        };
        let id = vault
            .api
            .create_credential(
                &vault.token,
                &json!({"name": "tagged", "type": "bearer_token", "value": canary("t")}),
            )
            .await
            .id();
        let path = format!("/credentials/{id}");
        let version = |reply: &Reply| reply.json()["revision"].as_i64();

        // Version 1: "7" does not match, "1" does.
        let reply = vault
            .api
            .call_if_match(
                Method::PATCH,
                &path,
                &vault.token,
                "\"7\", \"1\"",
                Some(&json!({"description": "second"})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{backend:?}: {}", reply.body);
        assert_eq!(version(&reply), Some(2));
        // Several header lines are one list.
        let reply = Reply::send(
            vault
                .api
                .request(Method::PATCH, &path)
                .bearer_auth(&vault.token)
                .header("if-match", "\"9\"")
                .header("if-match", "W/\"1\", \"2\"")
                .json(&json!({"value": canary("t2")})),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{backend:?}: {}", reply.body);
        assert_eq!(version(&reply), Some(3));

        let before = vault.snapshot(&vault.token).await;
        // A weak tag of the current version, or a list without it: 412.
        for stale in ["W/\"3\"", "\"1\", \"2\", W/\"3\"", "\"abc\", \"4\""] {
            for (method, target) in [
                (Method::PATCH, path.clone()),
                (Method::POST, format!("{path}/versions/1/restore")),
                (Method::DELETE, path.clone()),
            ] {
                let body = (method == Method::PATCH).then(|| json!({"description": "lost"}));
                let reply = vault
                    .api
                    .call_if_match(method, &target, &vault.token, stale, body.as_ref())
                    .await;
                assert_eq!(
                    reply.problem(),
                    (
                        StatusCode::PRECONDITION_FAILED,
                        "precondition-failed".to_owned()
                    ),
                    "{backend:?} {stale} {target}: {}",
                    reply.body
                );
            }
        }
        // Malformed: 400, before anything is done.
        for bad in ["3", "\"3", "\"3\" \"4\"", "*, \"3\"", "W/3", "\"3\"x"] {
            for (method, target) in [
                (Method::PATCH, path.clone()),
                (Method::POST, format!("{path}/versions/1/restore")),
                (Method::DELETE, path.clone()),
            ] {
                let body = (method == Method::PATCH).then(|| json!({"description": "lost"}));
                let reply = vault
                    .api
                    .call_if_match(method, &target, &vault.token, bad, body.as_ref())
                    .await;
                assert_eq!(
                    reply.problem(),
                    (StatusCode::BAD_REQUEST, "invalid-header".to_owned()),
                    "{backend:?} {bad} {target}: {}",
                    reply.body
                );
                // An unquoted revision is the usual slip: the answer says how to write it.
                assert!(
                    reply.json()["detail"]
                        .as_str()
                        .is_some_and(|d| d.contains("double quotes")),
                    "{}",
                    reply.body
                );
            }
        }
        assert_eq!(
            vault.snapshot(&vault.token).await,
            before,
            "{backend:?}: nothing changed"
        );

        // Restore and delete accept a list too.
        let reply = vault
            .api
            .call_if_match(
                Method::POST,
                &format!("{path}/versions/1/restore"),
                &vault.token,
                "\"1\", \"3\"",
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{backend:?}: {}", reply.body);
        assert_eq!(version(&reply), Some(4));
        let reply = vault
            .api
            .call_if_match(
                Method::DELETE,
                &path,
                &vault.token,
                "\"2\", \"4\", \"6\"",
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NO_CONTENT,
            "{backend:?}: {}",
            reply.body
        );
        let gone = vault.api.get(&path, &vault.token).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
}

// ---------------------------------------------------------------------------------------
// nosniff
// ---------------------------------------------------------------------------------------

/// Every answer of the API, successes and errors, public routes and authenticated ones,
/// carries `X-Content-Type-Options: nosniff`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_response_says_nosniff() {
    let vault = start(false).await;
    let id = vault
        .api
        .create_credential(
            &vault.token,
            &json!({"name": "n", "type": "bearer_token", "value": canary("n")}),
        )
        .await
        .id();
    // (method, path, access key, JSON body, expected status)
    type Case<'a> = (Method, String, Option<&'a str>, Option<&'a str>, StatusCode);
    let cases: Vec<Case<'_>> = vec![
        (Method::GET, "/healthz".into(), None, None, StatusCode::OK),
        (Method::HEAD, "/healthz".into(), None, None, StatusCode::OK),
        (Method::GET, "/readyz".into(), None, None, StatusCode::OK),
        (
            Method::GET,
            "/openapi.json".into(),
            None,
            None,
            StatusCode::OK,
        ),
        (Method::GET, "/metrics".into(), None, None, StatusCode::OK),
        (Method::GET, "/".into(), None, None, StatusCode::OK),
        (
            Method::GET,
            "/console/app.js".into(),
            None,
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/credentials".into(),
            Some(&vault.token),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("/credentials/{id}"),
            Some(&vault.token),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/credentials".into(),
            Some("nope"),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::GET,
            "/credentials".into(),
            None,
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::GET,
            "/nowhere".into(),
            None,
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::PUT,
            "/credentials".into(),
            Some(&vault.token),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::POST,
            "/credentials".into(),
            Some(&vault.token),
            Some("{"),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/credentials".into(),
            Some(&vault.token),
            Some("{\"name\": 1}"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::GET,
            format!("/credentials/{}", uuid::Uuid::new_v4()),
            Some(&vault.token),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/audit-events?limit=0".into(),
            Some(&vault.token),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (method, path, token, body, status) in cases {
        let mut request = vault.api.request(method.clone(), &path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let reply = Reply::send(request).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        assert_eq!(
            reply
                .headers
                .get("x-content-type-options")
                .map(|v| v.to_str().ok()),
            Some(Some("nosniff")),
            "{method} {path}: {:?}",
            reply.headers
        );
    }
}

// ---------------------------------------------------------------------------------------
// Finding 10, as a library: when a count is written
// ---------------------------------------------------------------------------------------

/// The counts of a replayed key's failures reach the log when their minute ends: at the
/// next failed authentication (here one naming no organization), or at a flush, never
/// before and never twice.
#[tokio::test]
async fn a_repeated_failure_count_is_written_when_its_window_ends() {
    use vault_core::{AccessKeyRequest, LogListRequest, VaultError};

    let clock = SteppedClock::at(time::macros::datetime!(2026-12-06 12:00 UTC));
    let (vault, admin) = crate::helpers::memory_vault(&clock).await;
    let issued = vault
        .create_access_key(
            &admin,
            &AccessKeyRequest {
                name: Some("replayed".to_owned()),
                scopes: Some(vec!["credentials:read".to_owned()]),
                expires_at: None,
            },
        )
        .await
        .expect("a key");
    vault
        .revoke_access_key(&admin, issued.key.id)
        .await
        .expect("revoked");
    let replay = || async {
        let refused = vault.authenticate(issued.token.expose()).await;
        assert!(matches!(refused, Err(VaultError::Unauthenticated)));
    };
    let counts = || async {
        let request = LogListRequest {
            action: Some("authentication.failure".to_owned()),
            ..LogListRequest::default()
        };
        let page = vault
            .list_audit_events(&admin, &request)
            .await
            .expect("listed");
        page.items.iter().map(|e| e.count).collect::<Vec<_>>()
    };

    for _ in 0..10 {
        replay().await;
    }
    assert_eq!(counts().await, [1], "the first at once");
    clock.advance(time::Duration::seconds(59));
    vault.flush_failed_authentications(false).await;
    assert_eq!(counts().await, [1], "nothing before the window ends");
    clock.advance(time::Duration::seconds(1));
    vault.flush_failed_authentications(false).await;
    assert_eq!(counts().await, [9, 1], "the count when it ends");
    vault.flush_failed_authentications(true).await;
    assert_eq!(counts().await, [9, 1], "never twice");

    // A new window: written at once, then counted; its end is noticed by the next failed
    // authentication of anyone (a malformed key here).
    for _ in 0..5 {
        replay().await;
    }
    assert_eq!(counts().await, [1, 9, 1]);
    clock.advance(time::Duration::seconds(61));
    let refused = vault.authenticate("not-a-key").await;
    assert!(matches!(refused, Err(VaultError::Unauthenticated)));
    assert_eq!(counts().await, [4, 1, 9, 1]);
    let total: u32 = counts().await.iter().sum();
    assert_eq!(total, 15, "every failure counted once");
}
