//! The REST surface of webhook subscriptions, through a real server on a random port on a
//! real SQLite file ([`TestApp`]): create (the `whsec_` secret shown once), list, read,
//! change, delete, a new secret, the deliveries and a replay; bad bodies refused naming
//! the field and creating nothing; another organization's subscription and a malformed id
//! as absent as a random one; `webhooks:manage` needed; every change audited. A canary
//! check runs over everything: no response of these routes, and no audit event, holds a
//! secret, but the one response that hands it out.
//!
//! Delivering events (signatures, retries, replays of real deliveries) is the background
//! job's, tested with a receiver of its own.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::http::AccessKey;
use crate::helpers::{Id, Reply, TestApp, spawn_app};

/// The fields of a subscription as every route shows it.
const VIEW_FIELDS: [&str; 8] = [
    "createdAt",
    "daysAhead",
    "description",
    "enabled",
    "events",
    "id",
    "updatedAt",
    "url",
];

/// A vault with organizations A (`token`) and B (`other_token`), and every signing secret
/// handed out so far: none may come back anywhere but in the response that made it.
struct Hooks {
    app: TestApp,
    secrets: Vec<String>,
}

impl Hooks {
    async fn start() -> Self {
        Self {
            app: spawn_app().await,
            secrets: Vec::new(),
        }
    }

    fn admin(&self) -> &str {
        &self.app.token
    }

    fn other(&self) -> &str {
        &self.app.other_token
    }

    /// `method path` with `key`; checked to reveal no secret handed out so far.
    async fn call(&self, method: Method, path: &str, key: &str, body: Option<&Value>) -> Reply {
        let reply = self.app.api.call(method.clone(), path, key, body).await;
        reply.reveals_none(&self.secrets);
        reply
    }

    /// Takes the secret out of a create or rotate-secret response (checked to hold no
    /// earlier secret, to say `no-store`, and to be a `whsec_` of 32 bytes), remembers it,
    /// and returns the view without it.
    fn take_secret(&mut self, reply: &Reply) -> (Value, String) {
        reply.reveals_none(&self.secrets);
        assert_eq!(reply.header("cache-control"), "no-store");
        let mut body = reply.json();
        let secret = body
            .as_object_mut()
            .expect("an object")
            .remove("secret")
            .and_then(|s| s.as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("a secret: {}", reply.body));
        let raw = secret.strip_prefix("whsec_").expect("whsec_");
        assert_eq!(BASE64.decode(raw).expect("base64").len(), 32, "{secret}");
        self.secrets.push(secret.clone());
        assert_view(&body);
        (body, secret)
    }

    /// `POST /webhooks` with `key`, which must answer 201; the view and its secret.
    async fn create_as(&mut self, key: &str, body: &Value) -> (Value, String) {
        let reply = self
            .app
            .api
            .call(Method::POST, "/webhooks", key, Some(body))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{body}: {}", reply.body);
        let (view, secret) = self.take_secret(&reply);
        assert_eq!(reply.header("location"), format!("/webhooks/{}", view.id()));
        (view, secret)
    }

    /// [`Hooks::create_as`] with A's admin key.
    async fn create(&mut self, body: &Value) -> (Value, String) {
        let admin = self.admin().to_owned();
        self.create_as(&admin, body).await
    }

    /// `POST /webhooks/{id}/rotate-secret` with A's admin key, which must answer 200.
    async fn rotate(&mut self, id: &str) -> (Value, String) {
        let path = format!("/webhooks/{id}/rotate-secret");
        let reply = self
            .app
            .api
            .call(Method::POST, &path, &self.app.token, None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        self.take_secret(&reply)
    }

    /// `GET path` with A's admin key, which must answer 200.
    async fn get(&self, path: &str) -> Value {
        let reply = self.call(Method::GET, path, self.admin(), None).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        reply.json()
    }

    /// A's subscriptions.
    async fn listed(&self) -> Vec<Value> {
        let list = self.get("/webhooks").await;
        assert_eq!(
            list.as_object()
                .expect("an object")
                .keys()
                .collect::<Vec<_>>(),
            ["items"],
            "{list}"
        );
        let items = list["items"].as_array().expect("items").clone();
        items.iter().for_each(assert_view);
        items
    }

    /// A's audit events of `action` (and about `target`, when given), newest first;
    /// checked to hold no secret.
    async fn audit(&self, action: &str, target: Option<&str>) -> Vec<Value> {
        let mut path = format!("/audit-events?action={action}&limit=100");
        if let Some(target) = target {
            path.push_str("&target=");
            path.push_str(target);
        }
        self.get(&path).await["items"]
            .as_array()
            .expect("items")
            .clone()
    }

    /// Every audit event of A's and B's, checked to hold no secret.
    async fn no_secret_in_the_audit_log(&self) {
        for key in [self.admin(), self.other()] {
            let events = self.app.api.list_all("/audit-events", key).await;
            let all = serde_json::to_string(&events).expect("json");
            for secret in &self.secrets {
                assert!(!all.contains(secret.as_str()), "{secret} in the audit log");
            }
        }
    }
}

/// A subscription view: exactly its fields, RFC 3339 times, and never a secret.
fn assert_view(view: &Value) {
    let mut keys: Vec<&str> = view
        .as_object()
        .unwrap_or_else(|| panic!("an object: {view}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, VIEW_FIELDS, "{view}");
    for field in ["createdAt", "updatedAt"] {
        let at = view[field].as_str().expect("a time");
        OffsetDateTime::parse(at, &Rfc3339).unwrap_or_else(|_| panic!("{field}: {at}"));
    }
    assert!(!view.to_string().contains("whsec_"), "{view}");
}

/// The problem of a refused request; its fields, in order.
fn refused(reply: &Reply, status: StatusCode, code: &str) -> Vec<String> {
    let problem = reply.assert_problem(status, code);
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().expect("field").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_webhook_is_created_listed_read_changed_rotated_and_deleted_its_secret_shown_once() {
    let mut hooks = Hooks::start().await;

    // Create: the view and the secret, events sorted and deduplicated, days descending.
    let (made, first_secret) = hooks
        .create(&json!({
            "url": "https://hooks.example.com/vault?team=ops",
            "events": ["key.rotated", "credential.expiring", "key.rotated"],
            "daysAhead": [7, 30],
            "description": "ops alerts",
        }))
        .await;
    let id = made.id();
    assert_eq!(made["url"], "https://hooks.example.com/vault?team=ops");
    assert_eq!(
        made["events"],
        json!(["credential.expiring", "key.rotated"])
    );
    assert_eq!(made["daysAhead"], json!([30, 7]));
    assert_eq!(made["description"], "ops alerts");
    assert_eq!(made["enabled"], true);
    assert_eq!(made["createdAt"], made["updatedAt"]);

    // The defaults: reminders 30, 7 and 1 days ahead, enabled, no description.
    let (defaults, second_secret) = hooks
        .create(&json!({"url": "https://hooks.example.com/b", "events": ["credential.expired"]}))
        .await;
    assert_eq!(defaults["daysAhead"], json!([30, 7, 1]));
    assert_eq!(defaults["enabled"], true);
    assert_eq!(defaults["description"], Value::Null);
    assert_ne!(first_secret, second_secret);

    // Read and list: the same view, no secret, in creation order.
    let path = format!("/webhooks/{id}");
    let read = hooks.get(&path).await;
    assert_view(&read);
    assert_eq!(read, made);
    let listed = hooks.listed().await;
    assert_eq!(listed, [made.clone(), defaults.clone()]);

    // Change: only the fields given; `description: null` clears it.
    let reply = hooks
        .call(
            Method::PATCH,
            &path,
            hooks.admin(),
            Some(&json!({"description": null, "enabled": false, "daysAhead": [1]})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let changed = reply.json();
    assert_view(&changed);
    assert_eq!(changed["description"], Value::Null);
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["daysAhead"], json!([1]));
    assert_eq!(changed["url"], made["url"]);
    assert_eq!(changed["events"], made["events"]);
    assert_eq!(changed["createdAt"], made["createdAt"]);
    let reply = hooks
        .call(
            Method::PATCH,
            &path,
            hooks.admin(),
            Some(&json!({"url": "https://other.example.com/in", "events": ["oauth.reconnect_required"],
                         "enabled": true, "description": "moved"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let changed = reply.json();
    assert_eq!(changed["url"], "https://other.example.com/in");
    assert_eq!(changed["events"], json!(["oauth.reconnect_required"]));
    assert_eq!(changed["daysAhead"], json!([1]));
    assert_eq!(changed["description"], "moved");
    assert_eq!(hooks.get(&path).await, changed);

    // A fresh subscription has no deliveries; the page's parameters are checked.
    let deliveries = format!("{path}/deliveries");
    assert_eq!(
        hooks.get(&deliveries).await,
        json!({"items": [], "nextCursor": null})
    );
    assert_eq!(
        hooks.get(&format!("{deliveries}?limit=1")).await,
        json!({"items": [], "nextCursor": null})
    );
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("cursor=nope", "cursor"),
    ] {
        let reply = hooks
            .call(
                Method::GET,
                &format!("{deliveries}?{query}"),
                hooks.admin(),
                None,
            )
            .await;
        assert_eq!(
            refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field"),
            [field],
            "{query}"
        );
    }
    let reply = hooks
        .call(
            Method::GET,
            &format!("{deliveries}?page=2"),
            hooks.admin(),
            None,
        )
        .await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "unknown-field");

    // Replaying a delivery that is not there is a 404, malformed or not.
    for delivery in [uuid::Uuid::now_v7().to_string(), "not-a-uuid".to_owned()] {
        let reply = hooks
            .call(
                Method::POST,
                &format!("{deliveries}/{delivery}/replay"),
                hooks.admin(),
                None,
            )
            .await;
        reply.assert_problem(StatusCode::NOT_FOUND, "not-found");
    }

    // A new secret: different, shown once; the rest as it was.
    let (rotated, third_secret) = hooks.rotate(&id).await;
    assert_ne!(third_secret, first_secret);
    assert_eq!(rotated["id"], changed["id"]);
    assert_eq!(rotated["url"], changed["url"]);
    assert_eq!(rotated["events"], changed["events"]);
    assert_eq!(hooks.get(&path).await, rotated);

    // Delete: gone, and gone again; its deliveries too; the other one stays.
    let reply = hooks.call(Method::DELETE, &path, hooks.admin(), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert!(reply.body.is_empty());
    for (method, route) in [
        (Method::GET, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::GET, deliveries.clone()),
        (Method::POST, format!("{path}/rotate-secret")),
    ] {
        let reply = hooks
            .call(method.clone(), &route, hooks.admin(), None)
            .await;
        reply.assert_problem(StatusCode::NOT_FOUND, "not-found");
    }
    let listed = hooks.listed().await;
    assert_eq!(listed, std::slice::from_ref(&defaults));

    // Every change audited, as a success by A's admin key, about the subscription.
    let created = hooks.audit("webhook.create", Some(&id)).await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["outcome"], "success");
    assert_eq!(created[0]["targetId"], id.as_str());
    assert!(created[0]["actorAccessKeyId"].is_string(), "{}", created[0]);
    // Newest first: the new secret asked for after the delete found nothing.
    let updated: Vec<String> = hooks
        .audit("webhook.update", Some(&id))
        .await
        .iter()
        .map(|e| e["outcome"].as_str().expect("outcome").to_owned())
        .collect();
    assert_eq!(
        updated,
        ["failure", "success", "success", "success"],
        "two changes and a new secret"
    );
    let deleted = hooks.audit("webhook.delete", Some(&id)).await;
    assert_eq!(
        deleted
            .iter()
            .map(|e| e["outcome"].as_str().expect("outcome"))
            .collect::<Vec<_>>(),
        // Newest first: the second delete found nothing.
        ["failure", "success"],
        "{deleted:?}"
    );
    hooks.no_secret_in_the_audit_log().await;
}

#[tokio::test]
async fn bad_bodies_are_refused_naming_the_field_and_create_or_change_nothing() {
    let mut hooks = Hooks::start().await;
    let valid = json!({"url": "https://hooks.example.com/in", "events": ["credential.expiring"]});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };

    // A field this route does not know: a 400 naming it.
    for (body, field) in [
        (with("secret", json!("whsec_AAAA")), "secret"),
        (with("daysahead", json!([1])), "daysahead"),
    ] {
        let reply = hooks
            .call(Method::POST, "/webhooks", hooks.admin(), Some(&body))
            .await;
        let problem = reply.assert_problem(StatusCode::BAD_REQUEST, "unknown-field");
        assert_eq!(problem["field"], field, "{problem}");
    }

    // Invalid values: a 422 naming each field.
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            with("url", json!("http://hooks.example.com/in")),
            vec!["url"],
        ),
        (
            with("url", json!("https://user:pw@hooks.example.com/in")),
            vec!["url"],
        ),
        (
            with("url", json!("https://hooks.example.com/in#frag")),
            vec!["url"],
        ),
        (with("url", json!("not a url")), vec!["url"]),
        (with("url", json!(42)), vec!["url"]),
        (
            with("events", json!(["credential.exploded"])),
            vec!["events"],
        ),
        (with("events", json!([])), vec!["events"]),
        (with("events", json!("credential.expiring")), vec!["events"]),
        (with("daysAhead", json!([0])), vec!["daysAhead"]),
        (with("daysAhead", json!([366])), vec!["daysAhead"]),
        (with("daysAhead", json!([-1])), vec!["daysAhead"]),
        (with("daysAhead", json!([])), vec!["daysAhead"]),
        (
            with("daysAhead", json!([1, 2, 3, 4, 5, 6])),
            vec!["daysAhead"],
        ),
        (with("daysAhead", json!([1.5])), vec!["daysAhead"]),
        (with("daysAhead", json!("7")), vec!["daysAhead"]),
        (
            with("description", json!("x".repeat(501))),
            vec!["description"],
        ),
        (with("enabled", json!("yes")), vec!["enabled"]),
        (json!({}), vec!["url", "events"]),
        (
            json!({"url": "http://a.example", "events": ["nope"], "daysAhead": [400]}),
            vec!["url", "events", "daysAhead"],
        ),
    ];
    for (body, fields) in &cases {
        let reply = hooks
            .call(Method::POST, "/webhooks", hooks.admin(), Some(body))
            .await;
        let named = refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert_eq!(named, *fields, "{body}: {}", reply.body);
    }

    // Not JSON, or not an object.
    let reply = Reply::send(
        hooks
            .app
            .api
            .request(Method::POST, "/webhooks")
            .bearer_auth(hooks.admin())
            .header("content-type", "text/plain")
            .body(valid.to_string()),
    )
    .await;
    reply.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
    let reply = Reply::send(
        hooks
            .app
            .api
            .request(Method::POST, "/webhooks")
            .bearer_auth(hooks.admin())
            .header("content-type", "application/json")
            .body("{\"url\":"),
    )
    .await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "malformed-json");

    // Nothing was created.
    assert!(hooks.listed().await.is_empty());
    let created = hooks.audit("webhook.create", None).await;
    assert!(
        created.iter().all(|e| e["outcome"] == "failure"),
        "{created:?}"
    );

    // The same on a change: refused, and the subscription as it was.
    let (made, _) = hooks.create(&valid).await;
    let path = format!("/webhooks/{}", made.id());
    for (body, field) in [
        (json!({"url": "http://hooks.example.com/in"}), "url"),
        (json!({"url": null}), "url"),
        (json!({"events": ["credential.exploded"]}), "events"),
        (json!({"events": null}), "events"),
        (json!({"daysAhead": [0, 7]}), "daysAhead"),
        (json!({"enabled": null}), "enabled"),
        (json!({"description": 5}), "description"),
    ] {
        let reply = hooks
            .call(Method::PATCH, &path, hooks.admin(), Some(&body))
            .await;
        let named = refused(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert_eq!(named, [field], "{body}: {}", reply.body);
    }
    let reply = hooks
        .call(
            Method::PATCH,
            &path,
            hooks.admin(),
            Some(&json!({"secret": "x"})),
        )
        .await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "unknown-field");
    assert_eq!(hooks.get(&path).await, made);
    assert!(
        hooks
            .audit("webhook.update", Some(&made.id()))
            .await
            .iter()
            .all(|e| e["outcome"] == "failure")
    );
    hooks.no_secret_in_the_audit_log().await;
}

#[tokio::test]
async fn another_organizations_webhook_and_a_malformed_id_are_not_found() {
    let mut hooks = Hooks::start().await;
    let (made, _) = hooks
        .create(&json!({"url": "https://hooks.example.com/a", "events": ["key.rotated"]}))
        .await;
    let a_id = made.id();
    let random = uuid::Uuid::now_v7().to_string();
    let delivery = uuid::Uuid::now_v7().to_string();
    let patch = json!({"description": "pwned", "url": "https://attacker.example.com/"});

    // (method, path with `{id}`, body)
    let routes: Vec<(Method, String, Option<&Value>)> = vec![
        (Method::GET, "/webhooks/{id}".into(), None),
        (Method::PATCH, "/webhooks/{id}".into(), Some(&patch)),
        (Method::POST, "/webhooks/{id}/rotate-secret".into(), None),
        (Method::GET, "/webhooks/{id}/deliveries".into(), None),
        (
            Method::POST,
            format!("/webhooks/{{id}}/deliveries/{delivery}/replay"),
            None,
        ),
        (Method::DELETE, "/webhooks/{id}".into(), None),
    ];
    let other = hooks.other().to_owned();
    for (method, pattern, body) in &routes {
        // B asks for A's subscription: the same answer as for a random id.
        let mut answers = Vec::new();
        for id in [&a_id, &random] {
            let path = pattern.replace("{id}", id);
            let reply = hooks.call(method.clone(), &path, &other, *body).await;
            let mut problem = reply.assert_problem(StatusCode::NOT_FOUND, "not-found");
            problem
                .as_object_mut()
                .expect("problem")
                .remove("requestId");
            answers.push(problem);
        }
        assert_eq!(answers[0], answers[1], "{method} {pattern}");
        // A malformed id, by A itself.
        for id in ["not-a-uuid", "1", &format!("{a_id}x")] {
            let path = pattern.replace("{id}", id);
            let reply = hooks
                .call(method.clone(), &path, hooks.admin(), *body)
                .await;
            reply.assert_problem(StatusCode::NOT_FOUND, "not-found");
        }
    }
    // A malformed delivery id of A's own subscription.
    let reply = hooks
        .call(
            Method::POST,
            &format!("/webhooks/{a_id}/deliveries/not-a-uuid/replay"),
            hooks.admin(),
            None,
        )
        .await;
    reply.assert_problem(StatusCode::NOT_FOUND, "not-found");

    // B sees none of A's; A's is as it was (no change, no new secret, not deleted).
    let b_list = hooks.call(Method::GET, "/webhooks", &other, None).await;
    assert_eq!(b_list.status, StatusCode::OK, "{}", b_list.body);
    assert_eq!(b_list.json(), json!({"items": []}));
    assert_eq!(hooks.get(&format!("/webhooks/{a_id}")).await, made);
    assert!(hooks.audit("webhook.update", Some(&a_id)).await.is_empty());
    assert!(hooks.audit("webhook.delete", Some(&a_id)).await.is_empty());

    // B's own subscriptions are B's alone.
    let (b_made, _) = hooks
        .create_as(
            &other,
            &json!({"url": "https://hooks.example.com/b", "events": ["key.rotated"]}),
        )
        .await;
    let listed = hooks.listed().await;
    assert_eq!(listed, [made]);
    let reply = hooks
        .call(
            Method::GET,
            &format!("/webhooks/{}", b_made.id()),
            hooks.admin(),
            None,
        )
        .await;
    reply.assert_problem(StatusCode::NOT_FOUND, "not-found");
    hooks.no_secret_in_the_audit_log().await;
}

#[tokio::test]
async fn every_route_needs_webhooks_manage() {
    let mut hooks = Hooks::start().await;
    let (made, _) = hooks
        .create(&json!({"url": "https://hooks.example.com/a", "events": ["key.rotated"]}))
        .await;
    let id = made.id();
    let admin = hooks.admin().to_owned();
    // Every other scope, but not this one.
    let AccessKey { secret: key, .. } = hooks
        .app
        .api
        .access_key(
            &admin,
            "no webhooks",
            &[
                "credentials:read",
                "credentials:write",
                "credentials:use-all",
                "access-keys:manage",
                "audit:read",
                "keys:read",
            ],
        )
        .await;
    let create = json!({"url": "https://hooks.example.com/b", "events": ["key.rotated"]});
    let patch = json!({"enabled": false});
    let delivery = uuid::Uuid::now_v7();
    let routes: Vec<(Method, String, Option<&Value>)> = vec![
        (Method::POST, "/webhooks".into(), Some(&create)),
        (Method::GET, "/webhooks".into(), None),
        (Method::GET, format!("/webhooks/{id}"), None),
        (Method::PATCH, format!("/webhooks/{id}"), Some(&patch)),
        (Method::POST, format!("/webhooks/{id}/rotate-secret"), None),
        (Method::GET, format!("/webhooks/{id}/deliveries"), None),
        (
            Method::POST,
            format!("/webhooks/{id}/deliveries/{delivery}/replay"),
            None,
        ),
        (Method::DELETE, format!("/webhooks/{id}"), None),
    ];
    for (method, path, body) in &routes {
        let reply = hooks.call(method.clone(), path, &key, *body).await;
        let problem = reply.assert_problem(StatusCode::FORBIDDEN, "insufficient-scope");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("webhooks:manage")),
            "{method} {path}: {problem}"
        );
    }
    // Nothing changed; the refused changes are audited as failures.
    assert_eq!(hooks.listed().await, [made]);
    for action in ["webhook.create", "webhook.update", "webhook.delete"] {
        let refusals: Vec<Value> = hooks
            .audit(action, None)
            .await
            .into_iter()
            .filter(|e| e["outcome"] == "failure")
            .collect();
        assert!(!refusals.is_empty(), "{action}: no refusal audited");
    }

    // A key with this scope alone manages subscriptions.
    let AccessKey {
        secret: manager, ..
    } = hooks
        .app
        .api
        .access_key(&admin, "webhooks only", &["webhooks:manage"])
        .await;
    let (mine, _) = hooks.create_as(&manager, &create).await;
    let reply = hooks
        .call(
            Method::GET,
            &format!("/webhooks/{}", mine.id()),
            &manager,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = hooks
        .call(
            Method::DELETE,
            &format!("/webhooks/{}", mine.id()),
            &manager,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    hooks.no_secret_in_the_audit_log().await;
}
