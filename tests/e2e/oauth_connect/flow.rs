//! Connect, use, refresh, lose, reconnect and delete, end to end.

use super::*;
use crate::helpers::oauth_servers::MockOAuthServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_credential_is_used_refreshed_lost_reconnected_and_revoked() {
    let vault = vault();
    let (api, admin) = (&vault.api, vault.token.as_str());
    let server = rotating(&vault, RotatingConfig::new(Duration::from_secs(2))).await;
    let mut replies = Vec::new();

    let created = api
        .create_credential(admin, &credential_body(&server))
        .await;
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(created["grant"], "authorization_code");
    assert_eq!(created["connection"]["status"], "pending", "{created}");
    let early = use_once(api, &id, admin, &server).await;
    early.assert_problem(StatusCode::CONFLICT, "not-connected");
    replies.push(early);

    // The authorization request: PKCE S256, a state, the registered redirect, the extras.
    let started = start_connect(api, &id, admin).await;
    assert_eq!(started["redirectUri"], callback(&vault));
    let url = url::Url::parse(started["authorizationUrl"].as_str().expect("a URL")).expect("URL");
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43);
    assert_eq!(query["redirect_uri"], callback(&vault));
    assert_eq!(query["scope"], "read write");
    assert_eq!(query["access_type"], "offline");
    let state = query["state"].clone();
    let back = approve(url.as_str()).await;
    let page = land(&back).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("crm on behalf of ada"), "{}", page.body);
    replies.push(page);
    // The state is single use: the same callback again changes nothing.
    let replay = land(&back).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.body);
    replies.push(replay);
    let connected = status(api, &id, admin).await;
    assert_eq!(connected["status"], "connected", "{connected}");

    // Uses carry the access token; across expiries, one refresh per token lifetime.
    for _ in 0..3 {
        let used = use_once(api, &id, admin, &server).await;
        assert_eq!(used.status, StatusCode::OK, "{}", used.body);
        assert_eq!(used.status, StatusCode::OK, "{}", used.body);
        replies.push(used);
    }
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    for _ in 0..3 {
        let used = use_once(api, &id, admin, &server).await;
        assert_eq!(used.status, StatusCode::OK, "{}", used.body);
        replies.push(used);
    }
    let counters = server.counters();
    assert_eq!(
        (counters.code_exchanges, counters.refreshes),
        (1, 1),
        "{counters:?}"
    );
    assert_eq!(counters.reuse_detections, 0);

    // A thief replays an old refresh token: the provider revokes the family, and the
    // vault's next refresh gets invalid_grant. Uses then fail fast, sending nothing.
    steal_and_replay(&server).await;
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    let lost = use_once(api, &id, admin, &server).await;
    let problem = lost.assert_problem(StatusCode::CONFLICT, "reconnect-required");
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.contains(&id)),
        "{problem}"
    );
    replies.push(lost);
    let resource_calls = server.counters().resource_ok + server.counters().resource_401s;
    let again = use_once(api, &id, admin, &server).await;
    again.assert_problem(StatusCode::CONFLICT, "reconnect-required");
    let after = server.counters();
    assert_eq!(
        after.resource_ok + after.resource_401s,
        resource_calls,
        "nothing went upstream"
    );
    let needs = status(api, &id, admin).await;
    assert_eq!(
        (needs["status"].as_str(), needs["reason"].as_str()),
        (Some("needs-reconnect"), Some("invalid_grant"))
    );
    let lost_events = audited(api, admin, "connection.lost").await;
    assert_eq!(lost_events.len(), 1, "{lost_events:?}");
    assert_eq!(lost_events[0]["reason"], "invalid_grant");
    let refused_uses: Vec<Value> = audited(api, admin, "credential.use")
        .await
        .into_iter()
        .filter(|e| e["reason"] == "reconnect-required")
        .collect();
    assert!(refused_uses.len() >= 2, "{refused_uses:?}");

    // Connecting again restores it.
    connect(api, &id, admin).await;
    assert_eq!(status(api, &id, admin).await["status"], "connected");
    let restored = use_once(api, &id, admin, &server).await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);

    // Deleting it revokes its refresh token at the provider (RFC 7009), audited.
    let deleted = api.delete_credential(&id, admin).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let revocations = server.revocations();
    assert_eq!(revocations.len(), 1, "{revocations:?}");
    let revoked = audited(api, admin, "connection.revoke").await;
    assert_eq!(
        (revoked.len(), revoked[0]["outcome"].as_str()),
        (1, Some("success")),
        "{revoked:?}"
    );
    let connects = audited(api, admin, "connection.connect").await;
    assert_eq!(connects.len(), 2, "{connects:?}");

    // Nothing issued, and neither the state nor the code, anywhere.
    let mut secrets = server.issued_secrets();
    secrets.push(state);
    secrets.push(CLIENT_SECRET.to_owned());
    let code = url::Url::parse(&back)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    secrets.push(code);
    for reply in &replies {
        reply.reveals_none(&secrets);
    }
    let audit = api.get("/audit-events?limit=100", admin).await;
    audit.reveals_none(&secrets);
    let logs = api.get("/request-logs?limit=100", admin).await;
    logs.reveals_none(&secrets);
    let TestServer {
        server: process,
        dir,
        ..
    } = vault;
    let (_, stderr) = process.stop();
    for secret in &secrets {
        assert!(
            !stderr.contains(secret.as_str()),
            "{secret} in the server log"
        );
    }
    // The database holds the tokens sealed only.
    let mut stored = Vec::new();
    for file in std::fs::read_dir(dir.path().join("data")).expect("the data directory") {
        stored.extend(std::fs::read(file.expect("an entry").path()).expect("readable"));
    }
    let stored = String::from_utf8_lossy(&stored);
    for secret in server.issued_secrets() {
        assert!(
            !stored.contains(secret.as_str()),
            "{secret} in the database file"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_use_refresh_path_runs_against_oauth2_mock_server() {
    let Some(mock) = MockOAuthServer::start_with_token_lifetime(2) else {
        return;
    };
    let vault = vault();
    let (api, admin) = (&vault.api, vault.token.as_str());
    let upstream = crate::helpers::upstream::start_upstream().await;
    // A public client: oauth2-mock-server knows no clients, and PKCE is the proof.
    let created = api
        .create_credential(
            admin,
            &json!({
                "name": "mock provider", "type": "oauth2", "grant": "authorization_code",
                "clientId": "public-app", "clientAuth": "none",
                "authorizationUrl": mock.authorization_endpoint(),
                "tokenUrl": mock.token_endpoint(), "scopes": ["openid", "read"],
                "allowedHosts": [mock.base_url(), upstream.origin()],
            }),
        )
        .await;
    let id = created["id"].as_str().expect("an id");
    connect(api, id, admin).await;
    let call = json!({"method": "GET", "url": upstream.url("/record/mock")});
    let first = api.proxy(id, admin, &call).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let token = || {
        upstream
            .last()
            .header("authorization")
            .first()
            .map(|t| (*t).to_owned())
    };
    let first_token = token().expect("a bearer token upstream");
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    let second = api.proxy(id, admin, &call).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let second_token = token().expect("a bearer token upstream");
    assert_ne!(first_token, second_token, "a refreshed token after expiry");
    assert!(
        second_token.starts_with("Bearer ey"),
        "a JWT from the mock server"
    );
    assert_eq!(status(api, id, admin).await["status"], "connected");
    first.reveals_none(&[first_token.trim_start_matches("Bearer ")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_the_upstream_refuses_is_refreshed_at_the_next_use() {
    let vault = vault();
    let (api, admin) = (&vault.api, vault.token.as_str());
    // 10 s tokens: due for refresh after 5 s, refreshed early after a 401 from 2.5 s.
    let server = rotating(&vault, RotatingConfig::new(Duration::from_secs(10))).await;
    let id = create(api, admin, &server).await;
    connect(api, &id, admin).await;
    assert_eq!(
        use_once(api, &id, admin, &server).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2_700)).await;
    // The provider revokes every token of the connection (a thief replayed one).
    steal_and_replay(&server).await;
    let refused = use_once(api, &id, admin, &server).await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "the upstream's own 401, passed on"
    );
    // Long before the token's own refresh time, the next use refreshes: and learns that
    // the grant is gone.
    let next = use_once(api, &id, admin, &server).await;
    next.assert_problem(StatusCode::CONFLICT, "reconnect-required");
    assert_eq!(
        server.counters().resource_401s,
        1,
        "the dead token was sent once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_client_or_token_endpoint_ends_the_connection() {
    let vault = vault();
    let (api, admin) = (&vault.api, vault.token.as_str());
    let server = rotating(&vault, RotatingConfig::new(Duration::from_secs(30))).await;
    let id = create(api, admin, &server).await;
    connect(api, &id, admin).await;
    // Other scopes: the same client, the same grant; the connection stays.
    let rescoped = api
        .update_credential(&id, admin, &json!({"scopes": ["read"]}))
        .await;
    assert_eq!(rescoped.status, StatusCode::OK, "{}", rescoped.body);
    assert_eq!(status(api, &id, admin).await["status"], "connected");
    assert_eq!(
        use_once(api, &id, admin, &server).await.status,
        StatusCode::OK
    );
    // Another client id: its refresh token is not this client's to present.
    let moved = api
        .update_credential(&id, admin, &json!({"clientId": "another-app"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let ended = status(api, &id, admin).await;
    assert_eq!(
        (ended["status"].as_str(), ended["reason"].as_str()),
        (Some("needs-reconnect"), Some("client-changed")),
        "{ended}"
    );
    let calls = server.counters().resource_ok;
    use_once(api, &id, admin, &server)
        .await
        .assert_problem(StatusCode::CONFLICT, "reconnect-required");
    assert_eq!(
        server.counters().resource_ok,
        calls,
        "nothing went upstream"
    );
    let lost = audited(api, admin, "connection.lost").await;
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(lost[0]["reason"], "client-changed");
    assert!(
        lost[0]["actorAccessKeyId"].is_string(),
        "the key that changed it: {lost:?}"
    );
}
