//! The REST API through a real server on a random port, on a real SQLite file: the seed
//! page's curl flows for every credential type, every error class, access keys and scopes,
//! organization isolation, and that no secret ever comes back.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Id, Reply, TestApp, canary, spawn_app};

/// Bodies of one credential per type, each with canary secrets; returns (body, canaries).
fn six_credentials() -> Vec<(Value, Vec<String>)> {
    let api_key = canary("apikey");
    let bearer = canary("bearer");
    let password = canary("password");
    let client_secret = canary("clientsecret");
    let jwt_secret = canary("jwtsecret");
    let header = canary("header");
    vec![
        (
            json!({"name": "Stripe API Key", "type": "api_key", "value": api_key,
                   "description": "Production Stripe key"}),
            vec![api_key],
        ),
        (
            json!({"name": "GitHub token", "type": "bearer_token", "value": bearer,
                   "expiresAt": "2031-01-01T00:00:00Z"}),
            vec![bearer],
        ),
        (
            json!({"name": "Jenkins", "type": "basic_auth", "username": "ci-bot", "password": password}),
            vec![password],
        ),
        (
            json!({"name": "Auth0 M2M", "type": "oauth2", "clientId": "client-123",
                   "clientSecret": client_secret, "tokenUrl": "https://idp.example.com/oauth/token",
                   "allowedHosts": ["idp.example.com", "api.example.com"],
                   "scopes": ["read:users", "write:users"], "clientAuth": "body",
                   "audience": "https://api.example.com"}),
            vec![client_secret],
        ),
        (
            json!({"name": "Internal JWT", "type": "jwt", "algorithm": "HS256", "secret": jwt_secret,
                   "claims": {"iss": "vault", "sub": "svc-a", "aud": "svc-b", "tenant": "t1"},
                   "ttlSeconds": 120}),
            vec![jwt_secret],
        ),
        (
            json!({"name": "Legacy partner", "type": "custom",
                   "headers": {"X-Partner-Key": header, "X-Partner-Id": "partner-42"}}),
            vec![header],
        ),
    ]
}

impl TestApp {
    /// `method path` with organization A's admin key.
    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.api.call(method, path, &self.token, body).await
    }

    /// [`TestApp::call`] with an `If-Match` header.
    pub(crate) async fn call_if_match(
        &self,
        method: Method,
        path: &str,
        if_match: &str,
        body: Option<&Value>,
    ) -> Reply {
        let key = &self.token;
        self.api
            .call_if_match(method, path, key, if_match, body)
            .await
    }
}

#[tokio::test]
async fn seed_flows_work_for_all_six_types_and_never_return_a_secret() {
    let app = spawn_app().await;
    for (body, canaries) in six_credentials() {
        let kind = body["type"].as_str().expect("type").to_owned();
        // Create -> 201 + Location.
        let response = app.call(Method::POST, "/credentials", Some(&body)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{kind}");
        let location = response.header("location").to_owned();
        response.reveals_none(&canaries);
        let created = response.json();
        let id = created.id();
        assert_eq!(location, format!("/credentials/{id}"));
        assert_eq!(created["type"], kind.as_str());
        assert_eq!(created["name"], body["name"]);
        assert_eq!(created["revision"], 1);
        assert!(created["createdAt"].is_string() && created["updatedAt"].is_string());

        // List and detail show public fields only.
        let list = app.call(Method::GET, "/credentials", None).await;
        list.reveals_none(&canaries);
        assert_eq!(list.status, StatusCode::OK);
        let list = list.json();
        assert!(
            list["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|c| c["id"] == id.as_str())
        );
        assert!(list.get("nextCursor").is_some());
        let detail = app.call(Method::GET, &location, None).await;
        detail.reveals_none(&canaries);
        assert_eq!(detail.status, StatusCode::OK);
        let detail = detail.json();
        assert_eq!(detail, created);

        // Update: a new secret value and a new description.
        let new_secret = canary("rotated");
        let patch = match kind.as_str() {
            "api_key" | "bearer_token" => json!({"value": new_secret}),
            "basic_auth" => json!({"password": new_secret}),
            "oauth2" => json!({"clientSecret": new_secret}),
            "jwt" => json!({"secret": new_secret}),
            _ => json!({"headers": {"X-Partner-Key": new_secret}}),
        };
        let mut patch = patch;
        patch["description"] = json!("rotated");
        let mut all = canaries.clone();
        all.push(new_secret.clone());
        let updated = app.call(Method::PATCH, &location, Some(&patch)).await;
        updated.reveals_none(&all);
        assert_eq!(updated.status, StatusCode::OK, "{kind}: {}", updated.body);
        let updated = updated.json();
        assert_eq!(updated["revision"], 2);
        assert_eq!(updated["description"], "rotated");
        assert_eq!(
            updated["name"], body["name"],
            "partial update kept the name"
        );

        // Delete -> 204, then 404.
        let response = app.call(Method::DELETE, &location, None).await;
        assert_eq!(response.status, StatusCode::NO_CONTENT);
        app.call(Method::GET, &location, None)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not-found");
    }
}

#[tokio::test]
async fn public_fields_and_hints_are_shown() {
    let app = spawn_app().await;
    let oauth = app
        .api
        .create_credential(&app.token, &six_credentials()[3].0)
        .await;
    assert_eq!(oauth["clientId"], "client-123");
    assert_eq!(oauth["tokenUrl"], "https://idp.example.com/oauth/token");
    assert_eq!(oauth["scopes"], json!(["read:users", "write:users"]));
    assert_eq!(oauth["clientAuth"], "body");
    assert_eq!(oauth["audience"], "https://api.example.com");
    assert!(
        oauth["secretHints"]["clientSecret"]
            .as_str()
            .expect("hint")
            .starts_with('…')
    );

    let api_key = app
        .api
        .create_credential(&app.token, &six_credentials()[0].0)
        .await;
    assert_eq!(
        api_key["placement"],
        json!({"in": "header", "name": "X-API-Key"})
    );
    let custom = app
        .api
        .create_credential(&app.token, &six_credentials()[5].0)
        .await;
    assert_eq!(
        custom["headerNames"],
        json!(["X-Partner-Id", "X-Partner-Key"])
    );
    let jwt = app
        .api
        .create_credential(&app.token, &six_credentials()[4].0)
        .await;
    assert_eq!(jwt["algorithm"], "HS256");
    assert_eq!(
        jwt["claims"],
        json!({"iss": "vault", "sub": "svc-a", "aud": "svc-b", "tenant": "t1"})
    );
    assert_eq!(jwt["ttlSeconds"], 120);
    let basic = app
        .api
        .create_credential(&app.token, &six_credentials()[2].0)
        .await;
    assert_eq!(basic["username"], "ci-bot");
    assert_eq!(basic["secretHints"], json!({}), "no hint for passwords");
}

#[tokio::test]
async fn another_organization_sees_nothing_and_changes_nothing() {
    let app = spawn_app().await;
    let created = app
        .api
        .create_credential(&app.token, &six_credentials()[0].0)
        .await;
    let path = format!("/credentials/{}", created.id());
    let other = app.other_token.as_str();

    let get = app.api.get(&path, other).await;
    get.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let patch = app
        .api
        .call(
            Method::PATCH,
            &path,
            other,
            Some(&json!({"name": "pwned", "value": "x"})),
        )
        .await;
    patch.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let delete = app.api.call(Method::DELETE, &path, other, None).await;
    delete.assert_problem(StatusCode::NOT_FOUND, "not-found");
    let list: Value = app.api.get("/credentials", other).await.json();
    assert_eq!(list["items"], json!([]));

    let unchanged: Value = app.call(Method::GET, &path, None).await.json();
    assert_eq!(unchanged, created);
}

#[tokio::test]
async fn every_error_class_is_a_problem_with_a_stable_code() {
    let app = spawn_app().await;
    let secret = canary("err");

    // 400 malformed JSON: the message must not echo the body.
    let response = Reply::send(
        app.api
            .request(Method::POST, "/credentials")
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body(format!("{{\"name\": \"x\", \"value\": \"{secret}\"")),
    )
    .await;
    let body = response.assert_problem(StatusCode::BAD_REQUEST, "malformed-json");
    assert!(!body.to_string().contains(&secret));

    // 400 unknown field.
    let body = app
        .call(
            Method::POST,
            "/credentials",
            Some(&json!({"name": "x", "type": "bearer_token", "value": secret, "valu": 1})),
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "unknown-field");
    assert_eq!(body["field"], "valu");

    // 400 not an object.
    app.call(Method::POST, "/credentials", Some(&json!([1, 2])))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-body");

    // 422 missing and invalid fields, each named; wrong JSON types too; no value echoed.
    let body = app
        .call(
            Method::POST,
            "/credentials",
            Some(&json!({"name": "x", "type": "oauth2", "clientSecret": secret})),
        )
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("f"))
        .collect();
    assert_eq!(fields, ["clientId", "tokenUrl"]);
    let body = app
        .call(
            Method::POST,
            "/credentials",
            Some(&json!({"name": "x", "type": "bearer_token", "value": 42})),
        )
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert_eq!(body["field"], "value");
    let body = app
        .call(
            Method::POST,
            "/credentials",
            Some(&json!({"name": "x", "type": "jwt", "algorithm": "RS256", "secret": secret})),
        )
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert!(!body.to_string().contains(&secret));
    let body = app
        .call(
            Method::POST,
            "/credentials",
            Some(&json!({"name": "x", "type": "magic", "value": secret})),
        )
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert_eq!(body["field"], "type");
    let injected = format!("{secret}\r\nX-Injected: 1");
    let body = app
        .call(
            Method::POST,
            "/credentials",
            Some(&json!({"name": "x", "type": "bearer_token", "value": injected})),
        )
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert!(!body.to_string().contains(&secret));

    // 401 without, with a malformed, and with an unknown key.
    let none = app.api.call_without_key(Method::GET, "/credentials").await;
    assert_eq!(none.headers["www-authenticate"], "Bearer realm=\"vault\"");
    none.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let bad = app.api.get("/credentials", "not-a-key").await;
    bad.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let mut forged = app.token.clone();
    forged.replace_range(10..11, if &forged[10..11] == "a" { "b" } else { "a" });
    let forged = app.api.get("/credentials", &forged).await;
    forged.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");

    // 403 missing scope.
    let reader = app
        .api
        .access_key(&app.token, "limited", &["credentials:read"])
        .await
        .secret;
    let response = app
        .api
        .call(
            Method::POST,
            "/credentials",
            &reader,
            Some(&six_credentials()[1].0),
        )
        .await;
    let body = response.assert_problem(StatusCode::FORBIDDEN, "insufficient-scope");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("credentials:write")
    );

    // 404 for unknown and malformed ids, and unknown routes.
    app.call(
        Method::GET,
        &format!("/credentials/{}", uuid::Uuid::now_v7()),
        None,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not-found");
    app.call(Method::GET, "/credentials/not-a-uuid", None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");
    app.call(Method::GET, "/nope", None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");

    // 405 for a method the resource does not have.
    let put = app
        .api
        .call(Method::PUT, "/credentials", &app.token, None)
        .await;
    put.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");

    // 413 over the body limit (declared and streamed).
    let huge = json!({"name": "x", "type": "bearer_token", "value": "v".repeat(70 * 1024)});
    app.call(Method::POST, "/credentials", Some(&huge))
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");

    // 415 for anything but JSON.
    let response = Reply::send(
        app.api
            .request(Method::POST, "/credentials")
            .bearer_auth(&app.token)
            .header("content-type", "text/plain")
            .body("name=x"),
    )
    .await;
    response.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");

    // 422 on bad list parameters.
    app.call(Method::GET, "/credentials?limit=0", None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    app.call(Method::GET, "/credentials?limit=abc", None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    app.call(Method::GET, "/credentials?cursor=zzz", None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    app.call(Method::GET, "/credentials?expiringWithin=soon", None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    app.call(Method::GET, "/credentials?colour=red", None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "unknown-field");

    // Nothing was created by any of the above.
    let list: Value = app.call(Method::GET, "/credentials", None).await.json();
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn patch_errors_change_nothing() {
    let app = spawn_app().await;
    let created = app
        .api
        .create_credential(&app.token, &six_credentials()[3].0)
        .await;
    let path = format!("/credentials/{}", created.id());
    for (body, status) in [
        (
            json!({"tokenUrl": "ftp://nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"type": "api_key"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"value": "belongs to api keys"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"name": ""}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"nmae": "typo"}), StatusCode::BAD_REQUEST),
        (
            json!({"clientSecret": "", "name": "new name"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let response = app.call(Method::PATCH, &path, Some(&body)).await;
        assert_eq!(response.status, status, "{body}");
    }
    let after: Value = app.call(Method::GET, &path, None).await.json();
    assert_eq!(after, created);

    // null clears nullable fields.
    let cleared: Value = app
        .call(
            Method::PATCH,
            &path,
            Some(&json!({"audience": null, "description": null})),
        )
        .await
        .json();
    assert!(cleared.get("audience").is_none());
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["revision"], 2);
}

#[tokio::test]
async fn list_paginates_and_filters() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (i, (body, _)) in six_credentials().into_iter().enumerate() {
        let mut body = body;
        if i == 0 {
            body["expiresAt"] = json!(
                (time::OffsetDateTime::now_utc() + time::Duration::days(3))
                    .format(&time::format_description::well_known::Rfc3339)
                    .expect("format")
            );
        }
        ids.push(app.api.create_credential(&app.token, &body).await.id());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/credentials?limit=4&cursor={c}"),
            None => "/credentials?limit=4".to_owned(),
        };
        let page: Value = app.call(Method::GET, &path, None).await.json();
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 4);
        seen.extend(items.iter().map(|c| c.id()));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every credential once, in creation order");

    let jwt: Value = app
        .call(Method::GET, "/credentials?type=jwt", None)
        .await
        .json();
    assert_eq!(jwt["items"].as_array().expect("items").len(), 1);
    assert_eq!(jwt["items"][0]["type"], "jwt");

    let soon: Value = app
        .call(Method::GET, "/credentials?expiringWithin=P7D", None)
        .await
        .json();
    let soon: Vec<&str> = soon["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        soon,
        [ids[0].as_str()],
        "only the one expiring in 3 days (the bearer token expires in 2031)"
    );
}

#[tokio::test]
async fn access_keys_are_shown_once_scoped_and_revocable() {
    let app = spawn_app().await;
    let response = app
        .call(
            Method::POST,
            "/access-keys",
            Some(&json!({"name": "ci", "scopes": ["credentials:read", "credentials:write"]})),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.headers["cache-control"], "no-store");
    let created = response.json();
    let key = created["keySecret"].as_str().expect("key").to_owned();
    assert!(key.starts_with("vlt_") && key.len() == 50, "{key}");
    assert_eq!(
        created["scopes"],
        json!(["credentials:read", "credentials:write"])
    );

    // The new key works, within its scopes.
    let ok = app
        .api
        .call(
            Method::POST,
            "/credentials",
            &key,
            Some(&six_credentials()[1].0),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    let denied = app.api.get("/access-keys", &key).await;
    denied.assert_problem(StatusCode::FORBIDDEN, "insufficient-scope");

    // The list never shows a key or a hash, and records use.
    let list = app.call(Method::GET, "/access-keys", None).await;
    list.reveals_none(std::slice::from_ref(&key));
    let text = &list.body;
    assert!(
        !text.contains("keySecret") && !text.contains("hash"),
        "{text}"
    );
    let list = list.json();
    let entry = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|k| k["id"] == created["id"])
        .expect("listed")
        .clone();
    assert!(entry["lastUsedAt"].is_string(), "{entry}");

    // A key cannot mint a more powerful key.
    let manager = app
        .api
        .access_key(&app.token, "limited", &["access-keys:manage"])
        .await
        .secret;
    let escalate = app
        .api
        .call(
            Method::POST,
            "/access-keys",
            &manager,
            Some(&json!({"name": "root", "scopes": ["credentials:write"]})),
        )
        .await;
    escalate.assert_problem(StatusCode::FORBIDDEN, "scope-escalation");
    let bad_scope = app
        .call(
            Method::POST,
            "/access-keys",
            Some(&json!({"name": "x", "scopes": ["root"]})),
        )
        .await;
    bad_scope.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");

    // Revoked -> 401 at once; another organization cannot revoke.
    let path = format!("/access-keys/{}", created.id());
    let foreign = app
        .api
        .call(Method::DELETE, &path, &app.other_token, None)
        .await;
    foreign.assert_problem(StatusCode::NOT_FOUND, "not-found");
    assert_eq!(
        app.call(Method::DELETE, &path, None).await.status,
        StatusCode::NO_CONTENT
    );
    let revoked = app.api.get("/credentials", &key).await;
    revoked.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn expired_access_keys_are_refused() {
    let app = spawn_app().await;
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::seconds(2))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let created: Value = app
        .call(
            Method::POST,
            "/access-keys",
            Some(&json!({"name": "short", "scopes": ["credentials:read"], "expiresAt": expires})),
        )
        .await
        .json();
    let key = created["keySecret"].as_str().expect("key").to_owned();
    assert_eq!(
        app.api.get("/credentials", &key).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let expired = app.api.get("/credentials", &key).await;
    expired.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn concurrent_patches_lose_no_write() {
    let app = spawn_app().await;
    let created = app
        .api
        .create_credential(
            &app.token,
            &json!({"name": "shared", "type": "custom", "headers": {"X-A": "a"}}),
        )
        .await;
    let path = format!("/credentials/{}", created.id());
    let patches = (0..20).map(|i| {
        let app = &app;
        let path = path.clone();
        async move {
            let response = app
                .call(
                    Method::PATCH,
                    &path,
                    Some(&json!({"headers": {format!("X-Writer-{i}"): format!("v{i}")}})),
                )
                .await;
            assert_eq!(response.status, StatusCode::OK);
        }
    });
    futures::future::join_all(patches).await;
    let after: Value = app.call(Method::GET, &path, None).await.json();
    assert_eq!(
        after["revision"], 21,
        "each of 20 patches advanced the version once"
    );
}

#[tokio::test]
async fn health_needs_no_key_and_request_ids_are_echoed() {
    let app = spawn_app().await;
    let response = Reply::send(
        app.api
            .request(Method::GET, "/healthz")
            .header("x-request-id", "trace-123"),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["x-request-id"], "trace-123");
    let unsafe_id = Reply::send(
        app.api
            .request(Method::GET, "/healthz")
            .header("x-request-id", "a b\tc"),
    )
    .await;
    assert_ne!(unsafe_id.headers["x-request-id"], "a b\tc");
}
