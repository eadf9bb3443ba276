//! The request and audit logs of uses: every use recorded, and the entries outlive the
//! credential they name.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_and_audit_logs_record_every_use_and_outlive_the_credential() {
    let upstream = start_upstream().await;
    let mut vault = Vault::start(true);
    let key = vault.secret("apikey");
    let id = vault
        .create(&json!({"name": "Stripe", "type": "api_key", "value": key,
                        "placement": {"in": "query", "name": "key"}, "allowedHosts": [upstream.origin()]}))
        .await;
    let (api, admin) = (vault.app.api.clone(), vault.app.token.clone());
    let reader = api
        .access_key(&admin, "limited", &["credentials:read"])
        .await;
    let user = api
        .access_key(&admin, "limited", &["credentials:use"])
        .await;
    // Without `credentials:use-all`, a key uses only what it is granted.
    let grant = api
        .grant(
            &id,
            &admin,
            &json!({"principal": format!("key:{}", user.id)}),
        )
        .await;
    vault.canaries.push(reader.secret.clone());
    vault.canaries.push(user.secret.clone());

    let call = |path: &str| json!({"method": "GET", "url": upstream.url(&format!("{path}?secret-looking=q1"))});
    let reply = vault
        .proxy_as(&reader.secret, &id, &call("/record/r"))
        .await;
    assert_eq!(
        reply.problem(),
        (StatusCode::FORBIDDEN, "insufficient-scope".to_owned())
    );
    for path in ["/record/one", "/record/two", "/status/503"] {
        vault.proxy_as(&user.secret, &id, &call(path)).await;
    }
    // A failed authentication, and one by a revoked key.
    let response = api.get("/credentials", "vlt_not-a-real-key").await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    let response = api.revoke_access_key(&reader.id, &admin).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    let response = api.get("/credentials", &reader.secret).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);

    let response = api.delete_credential(&id, &admin).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);

    // The request log survives the deletion, newest first, paginated, without queries.
    let page = vault
        .get_json(&format!("/request-logs?credentialId={id}&limit=2"))
        .await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["path"], "/status/503");
    assert_eq!(items[0]["status"], 503);
    assert_eq!(items[1]["path"], "/record/two");
    for item in items {
        assert_eq!(item["credentialName"], "Stripe");
        assert_eq!(item["method"], "GET");
        assert_eq!(item["host"], format!("127.0.0.1:{}", upstream.port));
        assert_eq!(item["accessKeyId"], user.id.as_str());
        assert_eq!(item["via"], format!("grant:{grant}"));
        assert!(item["latencyMs"].as_f64().is_some_and(|l| l >= 0.0));
        assert!(item["at"].as_str().is_some());
    }
    let cursor = page["nextCursor"].as_str().expect("a second page");
    let rest = vault
        .get_json(&format!(
            "/request-logs?credentialId={id}&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["items"][0]["path"], "/record/one");
    assert!(rest["nextCursor"].is_null());
    let text = format!("{page}{rest}");
    assert!(
        !text.contains("q1") && !text.contains(&key),
        "no query values in the request log"
    );

    // The audit log: every change, use, key operation and failed authentication.
    let mut actions: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/audit-events?limit=5&cursor={c}"),
            None => "/audit-events?limit=5".to_owned(),
        };
        let page = vault.get_json(&path).await;
        for event in page["items"].as_array().expect("items") {
            let key = (
                event["action"].as_str().expect("action").to_owned(),
                format!(
                    "{}:{}",
                    event["outcome"].as_str().expect("outcome"),
                    event["reason"].as_str().unwrap_or("")
                ),
            );
            *actions.entry(key).or_default() += 1;
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let count = |action: &str, outcome: &str| {
        actions
            .get(&(action.to_owned(), outcome.to_owned()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(count("credential.create", "success:"), 1, "{actions:?}");
    assert_eq!(count("credential.delete", "success:"), 1);
    assert_eq!(count("credential.use", "success:"), 3);
    assert_eq!(count("grant.create", "success:"), 1);
    assert_eq!(count("credential.use", "failure:insufficient-scope"), 1);
    // The bootstrap admin key and the two made here.
    assert_eq!(count("access_key.create", "success:"), 3);
    assert_eq!(count("access_key.revoke", "success:"), 1);
    // The unknown key has no organization; the revoked one is this organization's.
    assert_eq!(count("authentication.failure", "failure:revoked-key"), 1);
    assert_eq!(count("authentication.failure", "failure:malformed-key"), 0);

    // Reading the audit log needs its own scope.
    let response = api.get("/audit-events", &user.secret).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    vault.stop_and_check_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credentials_usage_is_counted_per_hour_and_status_class() {
    let upstream = start_upstream().await;
    let mut vault = Vault::start(true);
    let key = vault.secret("usage");
    let id = vault
        .create(
            &json!({"name": "charted", "type": "bearer_token", "value": key,
                        "allowedHosts": [upstream.origin()]}),
        )
        .await;
    let fresh = vault.get_json(&format!("/credentials/{id}/usage")).await;
    assert_eq!(fresh["buckets"], json!([]));
    assert_eq!(fresh["lastUse"], Value::Null);
    for path in [
        "/record/a",
        "/record/b",
        "/record/c",
        "/status/404",
        "/status/502",
    ] {
        vault
            .proxy(&id, &json!({"method": "GET", "url": upstream.url(path)}))
            .await;
    }
    let usage = vault
        .get_json(&format!("/credentials/{id}/usage?days=7"))
        .await;
    let counts: BTreeMap<String, u64> = usage["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| {
            (
                b["statusClass"].as_str().expect("a class").to_owned(),
                b["count"].as_u64().expect("a count"),
            )
        })
        .fold(BTreeMap::new(), |mut all, (class, n)| {
            *all.entry(class).or_default() += n;
            all
        });
    assert_eq!(
        counts,
        BTreeMap::from([
            ("2xx".to_owned(), 3),
            ("4xx".to_owned(), 1),
            ("5xx".to_owned(), 1)
        ])
    );
    assert_eq!(usage["lastUse"]["path"], "/status/502");
    assert_eq!(usage["lastUse"]["status"], 502);
    let since = time::OffsetDateTime::parse(
        usage["since"].as_str().expect("since"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("a time");
    assert_eq!((since.minute(), since.second()), (0, 0), "whole hours");
    for bad in ["days=0", "days=32", "days=x", "from=1"] {
        let reply = vault
            .call(Method::GET, &format!("/credentials/{id}/usage?{bad}"), None)
            .await;
        assert!(reply.status.is_client_error(), "{bad}: {}", reply.body);
    }
    let unknown = uuid::Uuid::new_v4();
    let reply = vault
        .call(Method::GET, &format!("/credentials/{unknown}/usage"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    vault.stop_and_check_logs(&[]);
}
