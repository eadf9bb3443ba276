//! Grants (issue 17) through the real `vault-server` binary, on SQLite and PostgreSQL,
//! against an upstream on 127.0.0.1 that records what it gets: a key with only
//! `credentials:use` uses nothing until granted; a grant's methods, paths, budget and
//! expiry bound what it sends; revoking a grant ends it at once; bad grants are refused
//! naming the field; and `GET /grants` shows a principal its own. Every refusal is checked
//! to have sent nothing upstream, and to have spent none of a budget (an expired
//! credential's too); when two budget windows are spent, `Retry-After` names the one that
//! refills last. The attacks on grants are in `attacks::grants`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::http::AccessKey;
use crate::helpers::postgres::TestDatabase;
use crate::helpers::upstream::{Upstream, start_upstream};
use crate::helpers::{Backend, Id, Reply, TestServer, canary};

// ---------------------------------------------------------------------------------------
// The vault: the real binary on SQLite or on a PostgreSQL database of the test's own
// ---------------------------------------------------------------------------------------

struct Vault {
    app: TestServer,
    upstream: Upstream,
    /// Every secret a credential holds: none may come back in a response.
    canaries: Vec<String>,
    /// Dropped after the server (fields drop in order), which holds connections to it.
    _database: Option<TestDatabase>,
}

impl Vault {
    /// The binary on `backend`, allowed to reach the upstream on 127.0.0.1; `None` (after a
    /// loud notice) where PostgreSQL cannot be reached and is not required.
    async fn start(backend: Backend) -> Option<Self> {
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestDatabase::create()?),
        };
        let mut settings = vec![
            ("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true"),
            ("VAULT_PROXY_TIMEOUT_MS", "5000"),
            // One caller drives everything here: no rate limit in the way.
            ("VAULT_RATE_LIMIT_PER_SECOND", "0"),
        ];
        if let Some(database) = &database {
            settings.push(("DATABASE_URL", &database.url));
            settings.push(("VAULT_MIGRATE_ON_START", "true"));
        }
        let app = TestServer::start(&settings);
        Some(Self {
            app,
            upstream: start_upstream().await,
            canaries: Vec::new(),
            _database: database,
        })
    }

    /// The organization's bootstrap key: every scope, `credentials:use-all` among them.
    fn admin(&self) -> &str {
        &self.app.token
    }

    /// A new API key credential for the upstream; its id.
    async fn credential(&mut self, name: &str) -> String {
        let secret = canary(name);
        self.canaries.push(secret.clone());
        self.app
            .api
            .create_credential(
                &self.app.token,
                &json!({"name": name, "type": "api_key", "value": secret,
                        "allowedHosts": [self.upstream.origin()]}),
            )
            .await
            .id()
    }

    /// A new access key holding `scopes`, made by the admin.
    async fn key(&self, scopes: &[&str]) -> AccessKey {
        self.app.api.access_key(self.admin(), "k", scopes).await
    }

    /// A grant of credential `id` to `key`, with `rules` (any other fields), by the admin;
    /// its id.
    async fn grant(&self, id: &str, key: &AccessKey, rules: &Value) -> String {
        let mut body = rules.as_object().expect("an object").clone();
        body.insert("principal".into(), json!(format!("key:{}", key.id)));
        self.app
            .api
            .grant(id, self.admin(), &Value::Object(body))
            .await
    }

    /// `method path` on the upstream through credential `id`, with `key`; checked for
    /// secrets.
    async fn use_as(&self, key: &str, id: &str, method: &str, path: &str) -> Reply {
        let call = json!({"method": method, "url": self.upstream.url(path)});
        let reply = self.app.api.proxy(id, key, &call).await;
        reply.reveals_none(&self.canaries);
        reply
    }

    /// What the upstream got: (method, path) of each request, in order.
    fn sent(&self) -> Vec<(String, String)> {
        self.upstream
            .requests()
            .into_iter()
            .map(|r| (r.method, r.path))
            .collect()
    }

    /// The audit events of `action` about `target`, newest first.
    async fn audit(&self, action: &str, target: &str) -> Vec<Value> {
        let path = format!("/audit-events?action={action}&target={target}&limit=100");
        items(self.app.api.get_json(&path, self.admin()).await)
    }

    /// The request log of credential `id`, newest first.
    async fn request_log(&self, id: &str) -> Vec<Value> {
        let path = format!("/request-logs?credentialId={id}&limit=100");
        items(self.app.api.get_json(&path, self.admin()).await)
    }

    /// Credential `id`'s grants, as the admin lists them.
    async fn grants(&self, id: &str) -> Vec<Value> {
        let path = format!("/credentials/{id}/grants");
        items(self.app.api.get_json(&path, self.admin()).await)
    }

    /// `GET /grants[?principal=...]` with `key`.
    async fn grants_of(&self, key: &str, principal: Option<&str>) -> Reply {
        let path = match principal {
            Some(principal) => format!("/grants?principal={principal}"),
            None => "/grants".to_owned(),
        };
        self.app.api.get(&path, key).await
    }
}

fn items(page: Value) -> Vec<Value> {
    page["items"].as_array().expect("items").clone()
}

/// The ids of a list of grants.
fn ids(grants: &[Value]) -> Vec<String> {
    grants.iter().map(Id::id).collect()
}

/// Checks a refusal: `status`, `code`, and the `field` it names (`None`: none).
fn refused(reply: &Reply, status: StatusCode, code: &str, field: Option<&str>, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    let body = reply.assert_problem(status, code);
    assert_eq!(body["field"].as_str(), field, "{what}: {body}");
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("formats")
}

/// Waits, if need be, until the current minute (UTC, as the vault's budget windows are)
/// has `seconds` left, so that a per-minute budget is spent within one window.
async fn within_one_minute(seconds: u8) {
    let second = OffsetDateTime::now_utc().second();
    if 60 - second < seconds {
        let left = u64::from(60 - second);
        tokio::time::sleep(Duration::from_millis(left * 1000 + 200)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_only_use_uses_nothing_ungranted_and_use_all_uses_everything() {
    for backend in Backend::ALL {
        let Some(mut vault) = Vault::start(backend).await else {
            continue;
        };
        let name = backend.name();
        let id = vault.credential("deny").await;
        let user = vault.key(&["credentials:use"]).await;
        let everything = vault.key(&["credentials:use-all"]).await;

        let reply = vault.use_as(&user.secret, &id, "GET", "/record/x").await;
        refused(
            &reply,
            StatusCode::FORBIDDEN,
            "not-granted",
            None,
            "no grant",
        );
        assert!(vault.sent().is_empty(), "{name}: a refusal sent nothing");
        let events = vault.audit("credential.use", &id).await;
        assert_eq!(events.len(), 1, "{name}: {events:?}");
        assert_eq!(events[0]["outcome"], "failure", "{name}");
        assert_eq!(events[0]["reason"], "not-granted", "{name}");
        assert_eq!(events[0]["actorAccessKeyId"], user.id.as_str(), "{name}");
        assert!(events[0]["via"].is_null(), "{name}: nothing allowed it");
        // It holds no grant, and it can see that.
        let own = vault.grants_of(&user.secret, None).await;
        assert_eq!(own.status, StatusCode::OK, "{name}: {}", own.body);
        assert!(items(own.json()).is_empty(), "{name}");

        // `credentials:use-all` needs no grant, and the logs say that is what allowed it.
        let reply = vault
            .use_as(&everything.secret, &id, "GET", "/record/x")
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.body);
        assert_eq!(vault.sent(), [("GET".to_owned(), "/record/x".to_owned())]);
        let log = vault.request_log(&id).await;
        assert_eq!(log.len(), 1, "{name}: {log:?}");
        assert_eq!(log[0]["accessKeyId"], everything.id.as_str(), "{name}");
        assert_eq!(log[0]["via"], "credentials:use-all", "{name}");
        let events = vault.audit("credential.use", &id).await;
        assert_eq!(events[0]["outcome"], "success", "{name}: {events:?}");
        assert_eq!(events[0]["via"], "credentials:use-all", "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grants_methods_and_paths_bound_what_it_sends() {
    for backend in Backend::ALL {
        let Some(mut vault) = Vault::start(backend).await else {
            continue;
        };
        let name = backend.name();
        let id = vault.credential("rules").await;
        let user = vault.key(&["credentials:use"]).await;
        let created = vault
            .app
            .api
            .create_grant(
                &id,
                vault.admin(),
                &json!({"principal": format!("key:{}", user.id), "methods": ["GET"],
                        "paths": ["/record/ok*"]}),
            )
            .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{name}: {}",
            created.body
        );
        let grant = created.json();
        let gid = grant.id();
        assert_eq!(
            created.header("location"),
            format!("/credentials/{id}/grants/{gid}")
        );
        assert_eq!(grant["credentialId"], id.as_str(), "{name}: {grant}");
        assert_eq!(grant["principal"], format!("key:{}", user.id), "{grant}");
        assert_eq!(grant["permission"], "use", "the default: {grant}");
        assert_eq!(grant["methods"], json!(["GET"]), "{grant}");
        assert_eq!(grant["paths"], json!(["/record/ok*"]), "{grant}");
        assert!(grant["budget"].is_null(), "{grant}");
        assert!(
            grant["expiresAt"].is_null(),
            "the admin never expires: {grant}"
        );
        assert!(grant["grantedBy"].is_string(), "{grant}");
        assert_eq!(grant["expired"], false, "{grant}");
        let read = vault
            .app
            .api
            .get_json(&format!("/credentials/{id}/grants/{gid}"), vault.admin())
            .await;
        assert_eq!(read, grant, "{name}: read back as created");

        let reply = vault.use_as(&user.secret, &id, "GET", "/record/ok/1").await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.body);
        let via = format!("grant:{gid}");
        assert_eq!(vault.request_log(&id).await[0]["via"], via, "{name}");
        assert_eq!(vault.audit("credential.use", &id).await[0]["via"], via);

        for (method, path, field) in [
            ("POST", "/record/ok/1", "methods"),
            ("DELETE", "/record/ok/1", "methods"),
            ("GET", "/record/other", "paths"),
            ("GET", "/record/o", "paths"),
            // An upstream that decodes %2F would read /record/secret.
            ("GET", "/record/ok/..%2Fsecret", "paths"),
            ("GET", "/record/ok/..%2fsecret", "paths"),
        ] {
            let reply = vault.use_as(&user.secret, &id, method, path).await;
            refused(
                &reply,
                StatusCode::FORBIDDEN,
                "request-not-granted",
                Some(field),
                &format!("{name}: {method} {path}"),
            );
        }
        assert_eq!(
            vault.sent(),
            [("GET".to_owned(), "/record/ok/1".to_owned())],
            "{name}: nothing refused reached the upstream"
        );
        let events = vault.audit("credential.use", &id).await;
        let refusals = events
            .iter()
            .filter(|e| e["reason"] == "request-not-granted")
            .count();
        assert_eq!(refusals, 6, "{name}: every refusal audited: {events:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_lets_exactly_its_cap_through_and_refusals_spend_none_of_it() {
    for backend in Backend::ALL {
        let Some(mut vault) = Vault::start(backend).await else {
            continue;
        };
        let name = backend.name();
        let other = start_upstream().await;
        let id = vault.credential("total").await;
        let user = vault.key(&["credentials:use"]).await;
        let gid = vault
            .grant(
                &id,
                &user,
                &json!({"paths": ["/record/*"], "budget": {"total": 3}}),
            )
            .await;
        assert_eq!(
            vault.grants(&id).await[0]["budget"],
            json!({"total": 3}),
            "{name}"
        );

        // Refused before the budget is spent: outside the grant's paths, or on a host the
        // credential does not allow. Many more than the cap.
        for _ in 0..5 {
            let reply = vault.use_as(&user.secret, &id, "GET", "/elsewhere").await;
            refused(
                &reply,
                StatusCode::FORBIDDEN,
                "request-not-granted",
                Some("paths"),
                name,
            );
            let call = json!({"method": "GET", "url": other.url("/record/x")});
            let reply = vault.app.api.proxy(&id, &user.secret, &call).await;
            refused(
                &reply,
                StatusCode::FORBIDDEN,
                "destination-not-allowed",
                None,
                name,
            );
        }
        for n in 1..=3 {
            let reply = vault
                .use_as(&user.secret, &id, "GET", &format!("/record/{n}"))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{name}: use {n}: {}",
                reply.body
            );
        }
        for _ in 0..2 {
            let reply = vault.use_as(&user.secret, &id, "GET", "/record/4").await;
            refused(
                &reply,
                StatusCode::TOO_MANY_REQUESTS,
                "budget-exhausted",
                None,
                name,
            );
            assert!(
                !reply.headers.contains_key("retry-after"),
                "{name}: a total never refills, so no Retry-After"
            );
        }
        // Rules are still checked first.
        let reply = vault.use_as(&user.secret, &id, "GET", "/elsewhere").await;
        assert_eq!(reply.problem().1, "request-not-granted", "{name}");
        assert_eq!(vault.sent().len(), 3, "{name}: {:?}", vault.sent());
        assert!(other.requests().is_empty(), "{name}");
        let via = format!("grant:{gid}");
        let log = vault.request_log(&id).await;
        assert_eq!(log.len(), 3, "{name}: {log:?}");
        assert!(log.iter().all(|entry| entry["via"] == via), "{name}");
        let events = vault.audit("credential.use", &id).await;
        let count = |reason: &str| events.iter().filter(|e| e["reason"] == reason).count();
        assert_eq!(count("budget-exhausted"), 2, "{name}: {events:?}");

        // Per minute: the window refills, and Retry-After says when.
        let id = vault.credential("per-minute").await;
        let _ = vault
            .grant(&id, &user, &json!({"budget": {"perMinute": 2}}))
            .await;
        within_one_minute(10).await;
        for n in 1..=2 {
            let reply = vault
                .use_as(&user.secret, &id, "GET", &format!("/record/m{n}"))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{name}: use {n}: {}",
                reply.body
            );
        }
        let reply = vault.use_as(&user.secret, &id, "GET", "/record/m3").await;
        refused(
            &reply,
            StatusCode::TOO_MANY_REQUESTS,
            "budget-exhausted",
            None,
            name,
        );
        let wait: u64 = reply
            .header("retry-after")
            .parse()
            .expect("Retry-After in seconds");
        assert!((1..=60).contains(&wait), "{name}: Retry-After {wait}");
        assert_eq!(vault.sent().len(), 5, "{name}: {:?}", vault.sent());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_longer_window_is_the_one_retry_after_reports() {
    for backend in Backend::ALL {
        let Some(mut vault) = Vault::start(backend).await else {
            continue;
        };
        let name = backend.name();
        let user = vault.key(&["credentials:use"]).await;
        // Two windows spent at once: the minute refills first, but a retry then is refused
        // all the same. The total never refills: no Retry-After. The hour does: Retry-After
        // until it ends, not the minute.
        let total = vault.credential("minute-and-total").await;
        let _ = vault
            .grant(
                &total,
                &user,
                &json!({"budget": {"perMinute": 2, "total": 2}}),
            )
            .await;
        let hour = vault.credential("minute-and-hour").await;
        let _ = vault
            .grant(
                &hour,
                &user,
                &json!({"budget": {"perMinute": 2, "perHour": 2}}),
            )
            .await;
        within_one_minute(10).await;
        for id in [&total, &hour] {
            for n in 1..=2 {
                let reply = vault
                    .use_as(&user.secret, id, "GET", &format!("/record/{n}"))
                    .await;
                assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.body);
            }
        }
        let reply = vault.use_as(&user.secret, &total, "GET", "/record/3").await;
        refused(
            &reply,
            StatusCode::TOO_MANY_REQUESTS,
            "budget-exhausted",
            None,
            name,
        );
        assert!(
            !reply.headers.contains_key("retry-after"),
            "{name}: the total is spent too, and never refills, yet Retry-After is {:?}: {}",
            reply.headers.get("retry-after"),
            reply.body
        );
        let now = OffsetDateTime::now_utc();
        let reply = vault.use_as(&user.secret, &hour, "GET", "/record/3").await;
        refused(
            &reply,
            StatusCode::TOO_MANY_REQUESTS,
            "budget-exhausted",
            None,
            name,
        );
        let wait: u64 = reply
            .header("retry-after")
            .parse()
            .expect("Retry-After in seconds");
        let hour_left = 3600 - u64::from(now.minute()) * 60 - u64::from(now.second());
        assert!(
            wait + 2 >= hour_left,
            "{name}: Retry-After {wait} s, but the hour's budget is spent for {hour_left} s"
        );
        assert_eq!(vault.sent().len(), 4, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_use_refused_for_an_expired_credential_spends_no_budget() {
    for backend in Backend::ALL {
        let Some(mut vault) = Vault::start(backend).await else {
            continue;
        };
        let name = backend.name();
        let secret = canary("expiring-credential");
        vault.canaries.push(secret.clone());
        let expires = OffsetDateTime::now_utc() + time::Duration::milliseconds(1500);
        let id = vault
            .app
            .api
            .create_credential(
                vault.admin(),
                &json!({"name": "expiring", "type": "api_key", "value": secret,
                        "expiresAt": rfc3339(expires),
                        "allowedHosts": [vault.upstream.origin()]}),
            )
            .await
            .id();
        let user = vault.key(&["credentials:use"]).await;
        let _ = vault
            .grant(&id, &user, &json!({"budget": {"total": 1}}))
            .await;
        let wait = expires - OffsetDateTime::now_utc() + time::Duration::milliseconds(100);
        tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;

        let reply = vault
            .use_as(&user.secret, &id, "GET", "/record/expired")
            .await;
        refused(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "credential-expired",
            None,
            name,
        );
        assert!(vault.sent().is_empty(), "{name}");
        // The credential renewed, the grant's one use is still there: nothing was sent.
        let renewed = vault
            .app
            .api
            .update_credential(&id, vault.admin(), &json!({"expiresAt": null}))
            .await;
        assert_eq!(renewed.status, StatusCode::OK, "{name}: {}", renewed.body);
        let reply = vault
            .use_as(&user.secret, &id, "GET", "/record/renewed")
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{name}: the refused use of the expired credential spent the budget: {}",
            reply.body
        );
        assert_eq!(vault.sent().len(), 1, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_ends_at_once_and_both_are_audited() {
    for backend in Backend::ALL {
        let Some(mut vault) = Vault::start(backend).await else {
            continue;
        };
        let name = backend.name();
        let id = vault.credential("revoked").await;
        let user = vault.key(&["credentials:use"]).await;
        let gid = vault.grant(&id, &user, &json!({})).await;
        let reply = vault
            .use_as(&user.secret, &id, "GET", "/record/before")
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.body);

        let path = format!("/credentials/{id}/grants/{gid}");
        let gone = vault
            .app
            .api
            .call(Method::DELETE, &path, vault.admin(), None)
            .await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{name}: {}", gone.body);
        let reply = vault
            .use_as(&user.secret, &id, "GET", "/record/after")
            .await;
        refused(&reply, StatusCode::FORBIDDEN, "not-granted", None, name);
        assert_eq!(
            vault.sent().len(),
            1,
            "{name}: nothing after the revocation"
        );
        let again = vault.app.api.get(&path, vault.admin()).await;
        again.assert_problem(StatusCode::NOT_FOUND, "not-found");
        let again = vault
            .app
            .api
            .call(Method::DELETE, &path, vault.admin(), None)
            .await;
        again.assert_problem(StatusCode::NOT_FOUND, "not-found");
        assert!(vault.grants(&id).await.is_empty(), "{name}");

        for action in ["grant.create", "grant.revoke"] {
            let events = vault.audit(action, &gid).await;
            let successes: Vec<_> = events
                .iter()
                .filter(|e| e["outcome"] == "success")
                .collect();
            assert_eq!(successes.len(), 1, "{name} {action}: {events:?}");
            assert_eq!(successes[0]["targetType"], "grant", "{name} {action}");
            assert_eq!(successes[0]["targetId"], gid.as_str(), "{name} {action}");
        }

        // Deleting a credential takes its grants with it.
        let _ = vault.grant(&id, &user, &json!({})).await;
        let own = vault.grants_of(&user.secret, None).await;
        assert_eq!(items(own.json()).len(), 1, "{name}: {}", own.body);
        let deleted = vault.app.api.delete_credential(&id, vault.admin()).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
        let own = vault.grants_of(&user.secret, None).await;
        assert!(items(own.json()).is_empty(), "{name}: {}", own.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_grant_is_refused_naming_the_field_and_nothing_is_created() {
    for backend in Backend::ALL {
        let Some(mut vault) = Vault::start(backend).await else {
            continue;
        };
        let name = backend.name();
        let id = vault.credential("bad-input").await;
        let user = vault.key(&["credentials:use"]).await;
        let revoked = vault.key(&["credentials:use"]).await;
        let gone = vault
            .app
            .api
            .revoke_access_key(&revoked.id, vault.admin())
            .await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
        let principal = format!("key:{}", user.id);
        let with = |fields: Value| {
            let mut body = json!({"principal": principal});
            body.as_object_mut()
                .expect("object")
                .extend(fields.as_object().expect("object").clone());
            body
        };
        let past = rfc3339(OffsetDateTime::now_utc() - time::Duration::minutes(1));
        let cases = [
            (
                json!({"principal": format!("key:{}", uuid::Uuid::new_v4())}),
                "principal",
            ),
            (
                json!({"principal": format!("key:{}", revoked.id)}),
                "principal",
            ),
            (json!({"principal": "alice"}), "principal"),
            (json!({"principal": "key:not-a-uuid"}), "principal"),
            (json!({"principal": "robot:r2"}), "principal"),
            (json!({"permission": "use"}), "principal"),
            (with(json!({"paths": ["v1/x"]})), "paths"),
            (with(json!({"paths": ["/a*b"]})), "paths"),
            (with(json!({"paths": ["/../x"]})), "paths"),
            (with(json!({"paths": ["/v1/%2e%2e/x"]})), "paths"),
            (with(json!({"paths": ["/v1?x=1"]})), "paths"),
            (with(json!({"methods": ["get"]})), "methods"),
            (with(json!({"methods": ["G E T"]})), "methods"),
            (with(json!({"methods": "GET"})), "methods"),
            (
                with(json!({"budget": {"perMinute": 0}})),
                "budget.perMinute",
            ),
            (with(json!({"budget": {"total": -1}})), "budget.total"),
            (with(json!({"budget": {"perHour": 1.5}})), "budget.perHour"),
            (
                with(json!({"budget": {"perDay": 1_000_000_001_u64}})),
                "budget.perDay",
            ),
            (with(json!({"budget": {}})), "budget"),
            (with(json!({"expiresAt": past})), "expiresAt"),
            (with(json!({"expiresAt": "tomorrow"})), "expiresAt"),
            (with(json!({"permission": "own"})), "permission"),
        ];
        for (body, field) in &cases {
            let reply = vault.app.api.create_grant(&id, vault.admin(), body).await;
            let problem = reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
            assert_eq!(problem["field"], *field, "{name} {body}: {problem}");
            let named: Vec<&str> = problem["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .filter_map(|e| e["field"].as_str())
                .collect();
            assert_eq!(
                named,
                [*field],
                "{name} {body}: one error, naming the field"
            );
        }
        for body in [
            with(json!({"color": "red"})),
            with(json!({"budget": {"perWeek": 5}})),
        ] {
            let reply = vault.app.api.create_grant(&id, vault.admin(), &body).await;
            reply.assert_problem(StatusCode::BAD_REQUEST, "unknown-field");
        }
        assert!(
            vault.grants(&id).await.is_empty(),
            "{name}: nothing was created"
        );
        let own = vault.grants_of(&user.secret, None).await;
        assert!(items(own.json()).is_empty(), "{name}: {}", own.body);
        // An unknown credential, and a malformed grant id, are not found.
        let unknown = uuid::Uuid::new_v4();
        let reply = vault
            .app
            .api
            .create_grant(&unknown.to_string(), vault.admin(), &with(json!({})))
            .await;
        reply.assert_problem(StatusCode::NOT_FOUND, "not-found");
        let reply = vault
            .app
            .api
            .get(
                &format!("/credentials/{id}/grants/not-a-grant"),
                vault.admin(),
            )
            .await;
        reply.assert_problem(StatusCode::NOT_FOUND, "not-found");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_lists_its_own_grants_and_only_readers_list_others() {
    for backend in Backend::ALL {
        let Some(mut vault) = Vault::start(backend).await else {
            continue;
        };
        let name = backend.name();
        let first = vault.credential("first").await;
        let second = vault.credential("second").await;
        let user = vault.key(&["credentials:use"]).await;
        let other = vault.key(&["credentials:use"]).await;
        let mine = [
            vault.grant(&first, &user, &json!({})).await,
            vault
                .grant(&second, &user, &json!({"methods": ["GET"]}))
                .await,
        ];
        let theirs = vault.grant(&first, &other, &json!({})).await;

        let own = vault.grants_of(&user.secret, None).await;
        assert_eq!(own.status, StatusCode::OK, "{name}: {}", own.body);
        let own = items(own.json());
        assert_eq!(ids(&own), mine, "{name}: its own, in the order made");
        assert!(
            own.iter()
                .all(|g| g["principal"] == format!("key:{}", user.id)),
            "{name}: {own:?}"
        );
        let named = vault
            .grants_of(&user.secret, Some(&format!("key:{}", user.id)))
            .await;
        assert_eq!(ids(&items(named.json())), mine, "{name}: itself by name");

        let reply = vault
            .grants_of(&user.secret, Some(&format!("key:{}", other.id)))
            .await;
        refused(
            &reply,
            StatusCode::FORBIDDEN,
            "insufficient-scope",
            None,
            name,
        );
        assert!(!reply.body.contains(&theirs), "{name}");
        // Nor a credential's grants: that needs credentials:read or a manage grant.
        let reply = vault
            .app
            .api
            .get(&format!("/credentials/{first}/grants"), &user.secret)
            .await;
        refused(
            &reply,
            StatusCode::FORBIDDEN,
            "insufficient-scope",
            None,
            name,
        );
        assert!(!reply.body.contains(&theirs), "{name}");

        let asked = vault
            .grants_of(vault.admin(), Some(&format!("key:{}", other.id)))
            .await;
        assert_eq!(asked.status, StatusCode::OK, "{name}: {}", asked.body);
        assert_eq!(ids(&items(asked.json())), [theirs], "{name}");
        // The admin itself holds none: it needs none.
        let admins = vault.grants_of(vault.admin(), None).await;
        assert!(items(admins.json()).is_empty(), "{name}: {}", admins.body);
        let reply = vault.grants_of(vault.admin(), Some("alice")).await;
        refused(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            Some("principal"),
            name,
        );
        let reply = vault.app.api.get("/grants?who=me", &user.secret).await;
        reply.assert_problem(StatusCode::BAD_REQUEST, "unknown-field");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_grant_lets_nothing_through() {
    for backend in Backend::ALL {
        let Some(mut vault) = Vault::start(backend).await else {
            continue;
        };
        let name = backend.name();
        let id = vault.credential("expiring").await;
        let user = vault.key(&["credentials:use"]).await;
        let expires = OffsetDateTime::now_utc() + time::Duration::seconds(3);
        let gid = vault
            .grant(&id, &user, &json!({"expiresAt": rfc3339(expires)}))
            .await;
        let reply = vault.use_as(&user.secret, &id, "GET", "/record/live").await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.body);

        // Poll until the grant stops working: never before its expiry, and soon after.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut uses = 1;
        loop {
            let sent_at = OffsetDateTime::now_utc();
            let reply = vault.use_as(&user.secret, &id, "GET", "/record/live").await;
            if reply.status == StatusCode::OK {
                assert!(sent_at < expires, "{name}: used after its expiry");
                uses += 1;
            } else {
                refused(&reply, StatusCode::FORBIDDEN, "not-granted", None, name);
                assert!(
                    OffsetDateTime::now_utc() >= expires,
                    "{name}: refused before its expiry"
                );
                break;
            }
            assert!(Instant::now() < deadline, "{name}: the grant never expired");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(vault.sent().len(), uses, "{name}");
        let reply = vault.use_as(&user.secret, &id, "GET", "/record/late").await;
        assert_eq!(reply.problem().1, "not-granted", "{name}: it stays refused");
        assert_eq!(vault.sent().len(), uses, "{name}");
        // Still listed, as expired.
        let grants = vault.grants(&id).await;
        assert_eq!(ids(&grants), [gid], "{name}");
        assert_eq!(grants[0]["expired"], true, "{name}: {grants:?}");
    }
}
