//! The REST API through a real server on a random port, on a real SQLite file: the seed
//! page's curl flows for every credential type, every error class, access keys and scopes,
//! organization isolation, and that no secret ever comes back.

use crate::helpers as support;

use std::net::TcpListener;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use vault_server::{Application, open_sqlite_vault};

struct TestApp {
    base: String,
    client: Client,
    /// Admin key of the first organization.
    token: String,
    /// Admin key of a second organization.
    other_token: String,
    _dir: TempDir,
}

async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = support::sqlite_settings(&dir.path().join("vault.db"));
    settings.workers = 2;
    settings.max_body_bytes = 64 * 1024;
    let (vault, _) = open_sqlite_vault(&settings).await.expect("vault opens");
    let (_, admin) = vault.create_organization("acme").await.expect("org");
    let (_, other) = vault.create_organization("globex").await.expect("org");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = Application::start(vault, listener, &settings).expect("server starts");
    let base = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: support::http_client().build().expect("an HTTP client"),
        token: admin.token.expose().to_owned(),
        other_token: other.token.expose().to_owned(),
        _dir: dir,
    }
}

fn canary(label: &str) -> String {
    format!("CANARY-{label}-{}", uuid::Uuid::new_v4().simple())
}

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
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request sent")
    }

    async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, Some(&self.token), Some(body))
            .await
    }

    async fn get(&self, path: &str) -> Response {
        self.send(reqwest::Method::GET, path, Some(&self.token), None)
            .await
    }

    async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::PATCH, path, Some(&self.token), Some(body))
            .await
    }

    async fn delete(&self, path: &str) -> Response {
        self.send(reqwest::Method::DELETE, path, Some(&self.token), None)
            .await
    }

    async fn create(&self, body: &Value) -> Value {
        let response = self.post("/credentials", body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "create {body}");
        response.json().await.expect("json")
    }

    async fn key_with_scopes(&self, scopes: &[&str]) -> String {
        let response = self
            .post(
                "/access-keys",
                &json!({"name": "limited", "scopes": scopes}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        body["keySecret"].as_str().expect("key").to_owned()
    }
}

/// Reads a response whole (headers and body) and asserts no canary is in it.
async fn text_without(response: Response, canaries: &[String]) -> (StatusCode, String) {
    let status = response.status();
    let headers = format!("{:?}", response.headers());
    let body = response.text().await.expect("body");
    for c in canaries {
        assert!(!body.contains(c.as_str()), "secret {c} in body: {body}");
        assert!(
            !headers.contains(c.as_str()),
            "secret {c} in headers: {headers}"
        );
    }
    (status, body)
}

async fn problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["requestId"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    body
}

#[tokio::test]
async fn seed_flows_work_for_all_six_types_and_never_return_a_secret() {
    let app = spawn_app().await;
    for (body, canaries) in six_credentials() {
        let kind = body["type"].as_str().expect("type").to_owned();
        // Create -> 201 + Location.
        let response = app.post("/credentials", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{kind}");
        let location = response.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let (_, text) = text_without(response, &canaries).await;
        let created: Value = serde_json::from_str(&text).expect("json");
        let id = created["id"].as_str().expect("id").to_owned();
        assert_eq!(location, format!("/credentials/{id}"));
        assert_eq!(created["type"], kind.as_str());
        assert_eq!(created["name"], body["name"]);
        assert_eq!(created["version"], 1);
        assert!(created["createdAt"].is_string() && created["updatedAt"].is_string());

        // List and detail show public fields only.
        let (status, list) = text_without(app.get("/credentials").await, &canaries).await;
        assert_eq!(status, StatusCode::OK);
        let list: Value = serde_json::from_str(&list).expect("json");
        assert!(
            list["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|c| c["id"] == id.as_str())
        );
        assert!(list.get("nextCursor").is_some());
        let (status, detail) = text_without(app.get(&location).await, &canaries).await;
        assert_eq!(status, StatusCode::OK);
        let detail: Value = serde_json::from_str(&detail).expect("json");
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
        let (status, updated) = text_without(app.patch(&location, &patch).await, &all).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {updated}");
        let updated: Value = serde_json::from_str(&updated).expect("json");
        assert_eq!(updated["version"], 2);
        assert_eq!(updated["description"], "rotated");
        assert_eq!(
            updated["name"], body["name"],
            "partial update kept the name"
        );

        // Delete -> 204, then 404.
        let response = app.delete(&location).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        problem(app.get(&location).await, StatusCode::NOT_FOUND, "not-found").await;
    }
}

#[tokio::test]
async fn public_fields_and_hints_are_shown() {
    let app = spawn_app().await;
    let oauth = app.create(&six_credentials()[3].0).await;
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

    let api_key = app.create(&six_credentials()[0].0).await;
    assert_eq!(
        api_key["placement"],
        json!({"in": "header", "name": "X-API-Key"})
    );
    let custom = app.create(&six_credentials()[5].0).await;
    assert_eq!(
        custom["headerNames"],
        json!(["X-Partner-Id", "X-Partner-Key"])
    );
    let jwt = app.create(&six_credentials()[4].0).await;
    assert_eq!(jwt["algorithm"], "HS256");
    assert_eq!(
        jwt["claims"],
        json!({"iss": "vault", "sub": "svc-a", "aud": "svc-b", "tenant": "t1"})
    );
    assert_eq!(jwt["ttlSeconds"], 120);
    let basic = app.create(&six_credentials()[2].0).await;
    assert_eq!(basic["username"], "ci-bot");
    assert_eq!(basic["secretHints"], json!({}), "no hint for passwords");
}

#[tokio::test]
async fn another_organization_sees_nothing_and_changes_nothing() {
    let app = spawn_app().await;
    let created = app.create(&six_credentials()[0].0).await;
    let path = format!("/credentials/{}", created["id"].as_str().expect("id"));
    let other = Some(app.other_token.as_str());

    let get = app.send(reqwest::Method::GET, &path, other, None).await;
    problem(get, StatusCode::NOT_FOUND, "not-found").await;
    let patch = app
        .send(
            reqwest::Method::PATCH,
            &path,
            other,
            Some(&json!({"name": "pwned", "value": "x"})),
        )
        .await;
    problem(patch, StatusCode::NOT_FOUND, "not-found").await;
    let delete = app.send(reqwest::Method::DELETE, &path, other, None).await;
    problem(delete, StatusCode::NOT_FOUND, "not-found").await;
    let list: Value = app
        .send(reqwest::Method::GET, "/credentials", other, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"], json!([]));

    let unchanged: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(unchanged, created);
}

#[tokio::test]
async fn every_error_class_is_a_problem_with_a_stable_code() {
    let app = spawn_app().await;
    let secret = canary("err");

    // 400 malformed JSON: the message must not echo the body.
    let response = app
        .client
        .post(app.url("/credentials"))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"x\", \"value\": \"{secret}\""))
        .send()
        .await
        .expect("sent");
    let body = problem(response, StatusCode::BAD_REQUEST, "malformed-json").await;
    assert!(!body.to_string().contains(&secret));

    // 400 unknown field.
    let body = problem(
        app.post(
            "/credentials",
            &json!({"name": "x", "type": "bearer_token", "value": secret, "valu": 1}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "unknown-field",
    )
    .await;
    assert_eq!(body["field"], "valu");

    // 400 not an object.
    problem(
        app.post("/credentials", &json!([1, 2])).await,
        StatusCode::BAD_REQUEST,
        "invalid-body",
    )
    .await;

    // 422 missing and invalid fields, each named; wrong JSON types too; no value echoed.
    let body = problem(
        app.post(
            "/credentials",
            &json!({"name": "x", "type": "oauth2", "clientSecret": secret}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("f"))
        .collect();
    assert_eq!(fields, ["clientId", "tokenUrl"]);
    let body = problem(
        app.post(
            "/credentials",
            &json!({"name": "x", "type": "bearer_token", "value": 42}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    assert_eq!(body["field"], "value");
    let body = problem(
        app.post(
            "/credentials",
            &json!({"name": "x", "type": "jwt", "algorithm": "RS256", "secret": secret}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    assert!(!body.to_string().contains(&secret));
    let body = problem(
        app.post(
            "/credentials",
            &json!({"name": "x", "type": "magic", "value": secret}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    assert_eq!(body["field"], "type");
    let body = problem(
        app.post("/credentials", &json!({"name": "x", "type": "bearer_token", "value": format!("{secret}\r\nX-Injected: 1")})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    assert!(!body.to_string().contains(&secret));

    // 401 without, with a malformed, and with an unknown key.
    let none = app
        .send(reqwest::Method::GET, "/credentials", None, None)
        .await;
    assert_eq!(none.headers()["www-authenticate"], "Bearer realm=\"vault\"");
    problem(none, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let bad = app
        .send(
            reqwest::Method::GET,
            "/credentials",
            Some("not-a-key"),
            None,
        )
        .await;
    problem(bad, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let mut forged = app.token.clone();
    forged.replace_range(10..11, if &forged[10..11] == "a" { "b" } else { "a" });
    let forged = app
        .send(reqwest::Method::GET, "/credentials", Some(&forged), None)
        .await;
    problem(forged, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // 403 missing scope.
    let reader = app.key_with_scopes(&["credentials:read"]).await;
    let response = app
        .send(
            reqwest::Method::POST,
            "/credentials",
            Some(&reader),
            Some(&six_credentials()[1].0),
        )
        .await;
    let body = problem(response, StatusCode::FORBIDDEN, "insufficient-scope").await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("credentials:write")
    );

    // 404 for unknown and malformed ids, and unknown routes.
    problem(
        app.get(&format!("/credentials/{}", uuid::Uuid::now_v7()))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    problem(
        app.get("/credentials/not-a-uuid").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    problem(app.get("/nope").await, StatusCode::NOT_FOUND, "not-found").await;

    // 405 for a method the resource does not have.
    let put = app
        .send(reqwest::Method::PUT, "/credentials", Some(&app.token), None)
        .await;
    problem(put, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed").await;

    // 413 over the body limit (declared and streamed).
    let huge = json!({"name": "x", "type": "bearer_token", "value": "v".repeat(70 * 1024)});
    problem(
        app.post("/credentials", &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
    )
    .await;

    // 415 for anything but JSON.
    let response = app
        .client
        .post(app.url("/credentials"))
        .bearer_auth(&app.token)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .expect("sent");
    problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    )
    .await;

    // 422 on bad list parameters.
    problem(
        app.get("/credentials?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    problem(
        app.get("/credentials?limit=abc").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    problem(
        app.get("/credentials?cursor=zzz").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    problem(
        app.get("/credentials?expiringWithin=soon").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    )
    .await;
    problem(
        app.get("/credentials?colour=red").await,
        StatusCode::BAD_REQUEST,
        "unknown-field",
    )
    .await;

    // Nothing was created by any of the above.
    let list: Value = app.get("/credentials").await.json().await.expect("json");
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn patch_errors_change_nothing() {
    let app = spawn_app().await;
    let created = app.create(&six_credentials()[3].0).await;
    let path = format!("/credentials/{}", created["id"].as_str().expect("id"));
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
        let response = app.patch(&path, &body).await;
        assert_eq!(response.status(), status, "{body}");
    }
    let after: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(after, created);

    // null clears nullable fields.
    let cleared: Value = app
        .patch(&path, &json!({"audience": null, "description": null}))
        .await
        .json()
        .await
        .expect("json");
    assert!(cleared.get("audience").is_none());
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["version"], 2);
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
        ids.push(
            app.create(&body).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/credentials?limit=4&cursor={c}"),
            None => "/credentials?limit=4".to_owned(),
        };
        let page: Value = app.get(&path).await.json().await.expect("json");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 4);
        seen.extend(
            items
                .iter()
                .map(|c| c["id"].as_str().expect("id").to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every credential once, in creation order");

    let jwt: Value = app
        .get("/credentials?type=jwt")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(jwt["items"].as_array().expect("items").len(), 1);
    assert_eq!(jwt["items"][0]["type"], "jwt");

    let soon: Value = app
        .get("/credentials?expiringWithin=P7D")
        .await
        .json()
        .await
        .expect("json");
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
        .post(
            "/access-keys",
            &json!({"name": "ci", "scopes": ["credentials:read", "credentials:write"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let created: Value = response.json().await.expect("json");
    let key = created["keySecret"].as_str().expect("key").to_owned();
    assert!(key.starts_with("vlt_") && key.len() == 50, "{key}");
    assert_eq!(
        created["scopes"],
        json!(["credentials:read", "credentials:write"])
    );

    // The new key works, within its scopes.
    let ok = app
        .send(
            reqwest::Method::POST,
            "/credentials",
            Some(&key),
            Some(&six_credentials()[1].0),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let denied = app
        .send(reqwest::Method::GET, "/access-keys", Some(&key), None)
        .await;
    problem(denied, StatusCode::FORBIDDEN, "insufficient-scope").await;

    // The list never shows a key or a hash, and records use.
    let list = app.get("/access-keys").await;
    let (_, text) = text_without(list, std::slice::from_ref(&key)).await;
    assert!(
        !text.contains("keySecret") && !text.contains("hash"),
        "{text}"
    );
    let list: Value = serde_json::from_str(&text).expect("json");
    let entry = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|k| k["id"] == created["id"])
        .expect("listed")
        .clone();
    assert!(entry["lastUsedAt"].is_string(), "{entry}");

    // A key cannot mint a more powerful key.
    let manager = app.key_with_scopes(&["access-keys:manage"]).await;
    let escalate = app
        .send(
            reqwest::Method::POST,
            "/access-keys",
            Some(&manager),
            Some(&json!({"name": "root", "scopes": ["credentials:write"]})),
        )
        .await;
    problem(escalate, StatusCode::FORBIDDEN, "scope-escalation").await;
    let bad_scope = app
        .post("/access-keys", &json!({"name": "x", "scopes": ["root"]}))
        .await;
    problem(bad_scope, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field").await;

    // Revoked -> 401 at once; another organization cannot revoke.
    let path = format!("/access-keys/{}", created["id"].as_str().expect("id"));
    let foreign = app
        .send(reqwest::Method::DELETE, &path, Some(&app.other_token), None)
        .await;
    problem(foreign, StatusCode::NOT_FOUND, "not-found").await;
    assert_eq!(app.delete(&path).await.status(), StatusCode::NO_CONTENT);
    let revoked = app
        .send(reqwest::Method::GET, "/credentials", Some(&key), None)
        .await;
    problem(revoked, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn expired_access_keys_are_refused() {
    let app = spawn_app().await;
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::seconds(2))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let created: Value = app
        .post(
            "/access-keys",
            &json!({"name": "short", "scopes": ["credentials:read"], "expiresAt": expires}),
        )
        .await
        .json()
        .await
        .expect("json");
    let key = created["keySecret"].as_str().expect("key").to_owned();
    assert_eq!(
        app.send(reqwest::Method::GET, "/credentials", Some(&key), None)
            .await
            .status(),
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let expired = app
        .send(reqwest::Method::GET, "/credentials", Some(&key), None)
        .await;
    problem(expired, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn concurrent_patches_lose_no_write() {
    let app = spawn_app().await;
    let created = app
        .create(&json!({"name": "shared", "type": "custom", "headers": {"X-A": "a"}}))
        .await;
    let path = format!("/credentials/{}", created["id"].as_str().expect("id"));
    let patches = (0..20).map(|i| {
        let app = &app;
        let path = path.clone();
        async move {
            let response = app
                .patch(
                    &path,
                    &json!({"headers": {format!("X-Writer-{i}"): format!("v{i}")}}),
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    });
    futures::future::join_all(patches).await;
    let after: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(
        after["version"], 21,
        "each of 20 patches advanced the version once"
    );
}

#[tokio::test]
async fn health_needs_no_key_and_request_ids_are_echoed() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "trace-123");
    let unsafe_id = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "a b\tc")
        .send()
        .await
        .expect("sent");
    assert_ne!(unsafe_id.headers()["x-request-id"], "a b\tc");
}

impl TestApp {
    async fn send_if_match(
        &self,
        method: reqwest::Method,
        path: &str,
        if_match: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .header("if-match", if_match);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request sent")
    }
}

#[tokio::test]
async fn conditional_updates_honour_if_match() {
    let app = spawn_app().await;
    let created = app
        .create(&json!({"name": "etag", "type": "bearer_token", "value": canary("etag")}))
        .await;
    let path = format!("/credentials/{}", created["id"].as_str().expect("id"));
    let read = app.get(&path).await;
    assert_eq!(read.headers()["etag"], "\"1\"");

    let patched = app
        .send_if_match(
            reqwest::Method::PATCH,
            &path,
            "\"1\"",
            Some(&json!({"description": "first"})),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    assert_eq!(patched.headers()["etag"], "\"2\"");

    // A stale tag, a weak tag and a tag this API never issued are all 412, and change nothing.
    for stale in ["\"1\"", "W/\"2\"", "\"abc\"", "\"1\", \"3\""] {
        let refused = app
            .send_if_match(
                reqwest::Method::PATCH,
                &path,
                stale,
                Some(&json!({"description": "lost"})),
            )
            .await;
        problem(
            refused,
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
        )
        .await;
        let refused = app
            .send_if_match(reqwest::Method::DELETE, &path, stale, None)
            .await;
        problem(
            refused,
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
        )
        .await;
    }
    let after: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(
        (after["version"].as_i64(), after["description"].as_str()),
        (Some(2), Some("first"))
    );

    // `*` only needs the credential to exist; the right tag deletes.
    let any = app
        .send_if_match(
            reqwest::Method::PATCH,
            &path,
            "*",
            Some(&json!({"description": "any"})),
        )
        .await;
    assert_eq!(any.status(), StatusCode::OK);
    let deleted = app
        .send_if_match(reqwest::Method::DELETE, &path, "\"3\"", None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn secret_changes_make_versions_that_restore_without_being_read() {
    let app = spawn_app().await;
    let values = [canary("v1"), canary("v2"), canary("v3")];
    let created = app
        .create(&json!({"name": "rotating", "type": "api_key", "value": values[0]}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/credentials/{id}");
    let hint = |value: &str| format!("…{}", &value[value.len() - 4..]);
    app.patch(&path, &json!({"value": values[1]})).await;
    // A change of public fields only makes no new version.
    app.patch(&path, &json!({"description": "no new secret"}))
        .await;
    app.patch(&path, &json!({"value": values[2]})).await;

    let response = app.get(&format!("{path}/versions")).await;
    let (status, body) = text_without(response, &values).await;
    assert_eq!(status, StatusCode::OK);
    let listed: Value = serde_json::from_str(&body).expect("json");
    let items = listed["items"].as_array().expect("items");
    let numbers: Vec<i64> = items
        .iter()
        .map(|v| v["version"].as_i64().expect("n"))
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(items[0]["current"], true);
    assert_eq!(items[2]["secretHints"]["value"], hint(&values[0]));

    // Restore version 1: the credential's hint is v1's again, as version 4.
    let restored = app
        .send_if_match(
            reqwest::Method::POST,
            &format!("{path}/versions/1/restore"),
            "\"4\"",
            None,
        )
        .await;
    let etag = restored.headers()["etag"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let (status, body) = text_without(restored, &values).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(etag, "\"5\"");
    let restored: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(restored["secretHints"]["value"], hint(&values[0]));
    let listed: Value = app
        .get(&format!("{path}/versions"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["items"][0]["version"], 4);
    assert_eq!(listed["items"][0]["restoredFrom"], 1);

    // A stale precondition, a missing version, another organization: refused, nothing changes.
    let stale = app
        .send_if_match(
            reqwest::Method::POST,
            &format!("{path}/versions/2/restore"),
            "\"4\"",
            None,
        )
        .await;
    problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
    )
    .await;
    let missing = app
        .post(&format!("{path}/versions/9/restore"), &json!({}))
        .await;
    problem(missing, StatusCode::NOT_FOUND, "not-found").await;
    let foreign = app
        .send(
            reqwest::Method::GET,
            &format!("{path}/versions"),
            Some(&app.other_token),
            None,
        )
        .await;
    problem(foreign, StatusCode::NOT_FOUND, "not-found").await;
    let foreign = app
        .send(
            reqwest::Method::POST,
            &format!("{path}/versions/1/restore"),
            Some(&app.other_token),
            None,
        )
        .await;
    problem(foreign, StatusCode::NOT_FOUND, "not-found").await;
    let after: Value = app.get(&path).await.json().await.expect("json");
    assert_eq!(after["version"], 5);
}

#[tokio::test]
async fn old_versions_are_pruned_to_the_retention_count() {
    let app = spawn_app().await;
    let created = app
        .create(&json!({"name": "busy", "type": "bearer_token", "value": canary("r0")}))
        .await;
    let path = format!("/credentials/{}", created["id"].as_str().expect("id"));
    for i in 1..=12 {
        let response = app
            .patch(&path, &json!({"value": canary(&format!("r{i}"))}))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let listed: Value = app
        .get(&format!("{path}/versions"))
        .await
        .json()
        .await
        .expect("json");
    let numbers: Vec<i64> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| v["version"].as_i64().expect("n"))
        .collect();
    assert_eq!(
        numbers,
        (4..=13).rev().collect::<Vec<_>>(),
        "the newest 10 are kept"
    );
    let pruned = app
        .post(&format!("{path}/versions/3/restore"), &json!({}))
        .await;
    problem(pruned, StatusCode::NOT_FOUND, "not-found").await;
}

#[tokio::test]
async fn changes_and_their_audit_events_land_together() {
    let app = spawn_app().await;
    let created = app
        .create(&json!({"name": "audited", "type": "bearer_token", "value": canary("a")}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/credentials/{id}");
    app.patch(&path, &json!({"value": canary("b")})).await;
    let refused = app
        .send_if_match(reqwest::Method::DELETE, &path, "\"1\"", None)
        .await;
    assert_eq!(refused.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(app.delete(&path).await.status(), StatusCode::NO_CONTENT);
    let events: Value = app
        .get(&format!("/audit-events?target={id}"))
        .await
        .json()
        .await
        .expect("json");
    let seen: Vec<(String, String, String)> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_owned(),
                e["outcome"].as_str().expect("outcome").to_owned(),
                e["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expect = |a: &str, o: &str, r: &str| (a.to_owned(), o.to_owned(), r.to_owned());
    assert_eq!(
        seen,
        [
            expect("credential.delete", "success", ""),
            expect("credential.delete", "failure", "precondition-failed"),
            expect("credential.update", "success", ""),
            expect("credential.create", "success", ""),
        ]
    );
}
