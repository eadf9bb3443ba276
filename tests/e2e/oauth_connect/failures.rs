//! What a connect flow refuses, and what an authorization-code credential must be: each
//! failure is clear, audited, and leaves the credential as it was.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_connects_leave_the_credential_pending_and_are_audited() {
    let vault = vault();
    let (api, admin) = (&vault.api, vault.token.as_str());
    let server = rotating(&vault, RotatingConfig::new(Duration::from_secs(30))).await;
    let id = create(api, admin, &server).await;

    // The user says no: the provider sends them back with access_denied.
    server.deny_authorizations(true);
    let started = start_connect(api, &id, admin).await;
    let back = approve(started["authorizationUrl"].as_str().expect("a URL")).await;
    let denied = land(&back).await;
    assert_eq!(denied.status, StatusCode::BAD_REQUEST, "{}", denied.body);
    assert!(denied.body.contains("access_denied"), "{}", denied.body);
    server.deny_authorizations(false);

    // A state nobody issued, and none at all.
    for forged in [
        format!("{}?code=abc&state=forged", callback(&vault)),
        format!("{}?code=abc", callback(&vault)),
    ] {
        let page = land(&forged).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(page.body.contains("Invalid connect link"), "{}", page.body);
    }

    // A real state with a code the provider never issued: the exchange fails.
    let started = start_connect(api, &id, admin).await;
    let back = approve(started["authorizationUrl"].as_str().expect("a URL")).await;
    let mut tampered = url::Url::parse(&back).expect("URL");
    let pairs: Vec<(String, String)> = tampered
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "code" {
                (k, "not-a-code".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    let failed = land(tampered.as_str()).await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY, "{}", failed.body);
    // Its state is spent too: the genuine code cannot follow with it.
    assert_eq!(land(&back).await.status, StatusCode::BAD_REQUEST);

    assert_eq!(status(api, &id, admin).await["status"], "pending");
    let events = audited(api, admin, "connection.connect").await;
    let reasons: Vec<&str> = events.iter().filter_map(|e| e["reason"].as_str()).collect();
    // A link that names no live state names no organization either: those failures are
    // audited outside every organization, as keyless authentication failures are.
    assert_eq!(reasons, ["access_denied", "invalid_grant"], "{events:?}");
    // Failures a state names are the credential's and its starter's.
    assert_eq!(events[0]["targetId"], id.as_str());
    assert!(events.iter().all(|e| e["outcome"] == "failure"));
    for page in [&denied, &failed] {
        page.reveals_none(&[CLIENT_SECRET]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_needs_write_and_an_authorization_code_credential() {
    let vault = vault();
    let (api, admin) = (&vault.api, vault.token.as_str());
    let server = rotating(&vault, RotatingConfig::new(Duration::from_secs(30))).await;
    let id = create(api, admin, &server).await;
    let user = api
        .access_key(admin, "user", &["credentials:use-all", "credentials:read"])
        .await;
    api.call(
        Method::POST,
        &format!("/credentials/{id}/connect"),
        &user.secret,
        None,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "insufficient-scope");
    let static_id = api
        .create_credential(
            admin,
            &json!({"name": "static", "type": "bearer_token", "value": "tok_0123456789"}),
        )
        .await["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    api.call(
        Method::POST,
        &format!("/credentials/{static_id}/connect"),
        admin,
        None,
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "not-connectable");
    let view = api
        .get_json(&format!("/credentials/{static_id}"), admin)
        .await;
    assert!(view.get("connection").is_none(), "{view}");

    // What an authorization-code credential must be.
    let base = credential_body(&server);
    let with = |change: Value| {
        let mut body = base.clone();
        for (k, v) in change.as_object().expect("an object") {
            if v.is_null() {
                body.as_object_mut().expect("an object").remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for (body, field) in [
        (with(json!({"authorizationUrl": null})), "authorizationUrl"),
        (
            with(json!({"grant": "client_credentials"})),
            "authorizationUrl",
        ),
        (with(json!({"clientAuth": "none"})), "clientSecret"),
        (with(json!({"clientSecret": null})), "clientSecret"),
        (
            with(json!({"authorizationParams": {"state": "x"}})),
            "authorizationParams.state",
        ),
        // Plain http only where allowedHosts names the origin so.
        (
            with(json!({"revocationUrl": "http://elsewhere.example/revoke"})),
            "revocationUrl",
        ),
        (with(json!({"grant": "implicit"})), "grant"),
    ] {
        let reply = api
            .call(Method::POST, "/credentials", admin, Some(&body))
            .await;
        let problem = reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{field}: {problem}");
    }
    // A public client has no secret; the grant never changes.
    let public = api
        .create_credential(
            admin,
            &with(json!({"clientAuth": "none", "clientSecret": null})),
        )
        .await;
    assert!(
        public["secretHints"]
            .as_object()
            .is_none_or(|h| h.is_empty()),
        "{public}"
    );
    let changed = api
        .update_credential(&id, admin, &json!({"grant": "client_credentials"}))
        .await;
    changed.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessed_connect_links_spend_the_source_s_failed_authentications() {
    let vault = TestServer::start(&[
        ("VAULT_AUTH_FAILURE_LIMIT_PER_MINUTE", "1"),
        ("VAULT_AUTH_FAILURE_LIMIT_BURST", "3"),
    ]);
    let guess = |n: u32| format!("{}?code=c&state=guess-{n}", callback(&vault));
    for n in 0..3 {
        assert_eq!(land(&guess(n)).await.status, StatusCode::BAD_REQUEST);
    }
    let refused = land(&guess(3)).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    // The same budget as bad keys: the address is refused there too, before any lookup.
    let reply = vault.api.get("/credentials", "vlt_not-a-key").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}
