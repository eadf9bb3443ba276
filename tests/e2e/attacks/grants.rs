//! Issue 17: attacks on grants, on SQLite and PostgreSQL.
//!
//! - escalation: a key holding a `manage` grant grants `use` within its own rules and no
//!   further (no `manage`, no wider methods or paths, no looser budget, not to itself, not
//!   past its own key's expiry, no revoking `manage` grants), and keys without a manage
//!   grant or without `credentials:use-all` cannot grant at all;
//! - across organizations: B's admin finds none of A's grants, cannot grant A's keys, and
//!   A's grants let B's keys use nothing;
//! - revoked keys: a revoked grantee is refused and its grants are gone; revoking a granter
//!   takes the grants it made;
//! - request shapes outside the rules: methods in other cases, doubled slashes, dot
//!   segments plain and encoded, encoded separators, another allowed host: nothing
//!   outside the grant's methods and paths reaches an upstream;
//! - a budget race: 40 concurrent uses of a grant with `total: 10` on one server let
//!   exactly 10 through;
//! - a grant row edited in the database (another grantee, wider rules) grants nothing.

use super::*;

/// A vault on `backend` for the grant attacks: as [`start_on`] (private networks allowed:
/// the upstreams are on 127.0.0.1), and without the in-flight bounds, which 40 calls of
/// one key at once would meet (they have their own test in `proxy`).
async fn start_grants(backend: Backend) -> Option<TestApp> {
    TestApp::spawn(backend, |settings| {
        settings.auth_cache_ttl_ms = 300;
        settings.rate_limit_per_second = 10_000;
        settings.rate_limit_burst = 10_000;
        settings.auth_failure_limit_per_minute = 0;
        settings.proxy_allow_private_networks = true;
        settings.proxy_timeout_ms = 5000;
        settings.proxy_max_in_flight = 0;
        settings.proxy_max_in_flight_per_key = 0;
    })
    .await
}

/// A key as a grant names it.
fn principal(key: &AccessKey) -> String {
    format!("key:{}", key.id)
}

/// `method url` through credential `id` with `token`.
async fn send(vault: &TestApp, token: &str, id: &str, method: &str, url: &str) -> Reply {
    let call = json!({"method": method, "url": url});
    vault.api.proxy(id, token, &call).await
}

/// The ids of credential `id`'s grants, as A's admin lists them.
async fn grant_ids(vault: &TestApp, id: &str) -> Vec<String> {
    let path = format!("/credentials/{id}/grants");
    vault.api.get_json(&path, &vault.token).await["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(Id::id)
        .collect()
}

/// Checks a 422 naming `field` first.
fn invalid(reply: &Reply, field: &str, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {}",
        reply.body
    );
    let body = reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert_eq!(body["field"], field, "{what}: {body}");
}

/// Checks a refused use: 403 `request-not-granted` naming `field`.
fn outside(reply: &Reply, field: &str, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "{what}: {}",
        reply.body
    );
    let body = reply.assert_problem(StatusCode::FORBIDDEN, "request-not-granted");
    assert_eq!(body["field"], field, "{what}: {body}");
}

fn from_now(offset: time::Duration) -> String {
    (time::OffsetDateTime::now_utc() + offset)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats")
}

// ---------------------------------------------------------------------------------------
// Escalation through grants
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manage_grant_grants_use_within_its_own_rules_and_no_further() {
    for backend in Backend::ALL {
        let Some(vault) = start_grants(backend).await else {
            continue;
        };
        let name = backend.name();
        let upstream = start_upstream().await;
        let (id, secret) = credentials(&vault, &vault.token, &upstream, &["managed"])
            .await
            .remove(0);
        let key_expiry = from_now(time::Duration::hours(1));
        let created = vault
            .api
            .create_access_key(
                &vault.token,
                &json!({"name": "manager", "scopes": ["credentials:use"],
                        "expiresAt": key_expiry}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let manager = AccessKey {
            id: created.json().id(),
            secret: created.json()["keySecret"]
                .as_str()
                .expect("secret")
                .to_owned(),
        };
        let dev = vault
            .api
            .access_key(&vault.token, "dev", &["credentials:use"])
            .await;
        let dev2 = vault
            .api
            .access_key(&vault.token, "dev2", &["credentials:use"])
            .await;
        let rival = vault
            .api
            .access_key(&vault.token, "rival", &["credentials:use"])
            .await;
        let manage = vault
            .api
            .grant(
                &id,
                &vault.token,
                &json!({"principal": principal(&manager), "permission": "manage",
                        "methods": ["GET"], "paths": ["/record/*"],
                        "budget": {"perMinute": 5}}),
            )
            .await;
        let rivals = vault
            .api
            .grant(
                &id,
                &vault.token,
                &json!({"principal": principal(&rival), "permission": "manage"}),
            )
            .await;

        // Within its own rules: granted, by the manager, never outliving the manager's key.
        let made = vault
            .api
            .create_grant(
                &id,
                &manager.secret,
                &json!({"principal": principal(&dev), "methods": ["GET"],
                        "paths": ["/record/ok*"], "budget": {"perMinute": 5, "total": 100}}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{name}: {}", made.body);
        let made = made.json();
        assert_eq!(made["grantedBy"], manager.id.as_str(), "{name}: {made}");
        assert_eq!(made["permission"], "use", "{made}");
        let given = time::OffsetDateTime::parse(
            made["expiresAt"].as_str().expect("an expiry"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339");
        let cap = time::OffsetDateTime::parse(
            &key_expiry,
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339");
        assert!(
            (given - cap).abs() < time::Duration::milliseconds(1),
            "{name}: {given} is not the manager key's {cap}"
        );
        let made = made.id();
        let used = send(
            &vault,
            &dev.secret,
            &id,
            "GET",
            &upstream.url("/record/ok/1"),
        )
        .await;
        assert_eq!(used.status, StatusCode::OK, "{name}: {}", used.body);
        let used = send(
            &vault,
            &dev.secret,
            &id,
            "POST",
            &upstream.url("/record/ok/1"),
        )
        .await;
        outside(&used, "methods", name);

        let writer = vault
            .api
            .access_key(
                &vault.token,
                "writer",
                &["credentials:read", "credentials:write", "credentials:use"],
            )
            .await;
        let user_all = vault
            .api
            .access_key(&vault.token, "use-all", &["credentials:use-all"])
            .await;
        let before = vault.snapshot(&vault.token).await;
        let grants_before = grant_ids(&vault, &id).await;
        let within = json!({"methods": ["GET"], "paths": ["/record/ok*"],
                            "budget": {"perMinute": 5}});
        let with = |fields: Value| {
            let mut body = within.as_object().expect("object").clone();
            body.insert("principal".into(), json!(principal(&dev2)));
            body.extend(fields.as_object().expect("object").clone());
            Value::Object(body)
        };
        let without = |field: &str| {
            let mut body = with(json!({}));
            body.as_object_mut().expect("object").remove(field);
            body
        };
        let attempts = [
            (with(json!({"permission": "manage"})), "permission"),
            (with(json!({"methods": ["GET", "POST"]})), "methods"),
            (with(json!({"methods": ["DELETE"]})), "methods"),
            // No methods, or no paths, is every one.
            (without("methods"), "methods"),
            (with(json!({"paths": ["/admin*"]})), "methods"),
            (with(json!({"paths": ["/record*"]})), "methods"),
            (with(json!({"paths": ["/record/ok", "/"]})), "methods"),
            (without("paths"), "methods"),
            (with(json!({"budget": {"perMinute": 6}})), "budget"),
            (with(json!({"budget": {"total": 100}})), "budget"),
            (without("budget"), "budget"),
            (with(json!({"principal": principal(&manager)})), "principal"),
            (
                with(json!({"expiresAt": from_now(time::Duration::hours(2))})),
                "expiresAt",
            ),
            (
                with(json!({"expiresAt": "2099-01-01T00:00:00Z"})),
                "expiresAt",
            ),
        ];
        for (body, field) in &attempts {
            let reply = vault.api.create_grant(&id, &manager.secret, body).await;
            invalid(&reply, field, &format!("{name}: {body}"));
            reply.reveals_none(&[&secret]);
        }
        // It revokes no manage grant, its own or another's.
        for target in [&manage, &rivals] {
            let path = format!("/credentials/{id}/grants/{target}");
            let reply = vault
                .api
                .call(Method::DELETE, &path, &manager.secret, None)
                .await;
            reply.assert_problem(StatusCode::FORBIDDEN, "not-granted");
        }
        // Without a manage grant, or without credentials:use-all, nobody grants at all.
        let granted_use_only = json!({"principal": principal(&dev2)});
        for (who, token) in [
            ("a key with a use grant", &dev.secret),
            ("a key with no grant", &dev2.secret),
            ("a writer without use-all", &writer.secret),
            ("use-all without write", &user_all.secret),
        ] {
            let reply = vault.api.create_grant(&id, token, &granted_use_only).await;
            assert_eq!(
                reply.problem(),
                (StatusCode::FORBIDDEN, "not-granted".to_owned()),
                "{name}: {who}: {}",
                reply.body
            );
            let path = format!("/credentials/{id}/grants/{made}");
            let reply = vault.api.call(Method::DELETE, &path, token, None).await;
            assert_eq!(
                reply.problem(),
                (StatusCode::FORBIDDEN, "not-granted".to_owned()),
                "{name}: {who} revoking: {}",
                reply.body
            );
        }
        assert_eq!(
            grant_ids(&vault, &id).await,
            grants_before,
            "{name}: no grant made or revoked"
        );
        assert_eq!(
            vault.snapshot(&vault.token).await["audit"],
            before["audit"],
            "{name}: refusals only"
        );
        let refused = send(
            &vault,
            &dev2.secret,
            &id,
            "GET",
            &upstream.url("/record/ok/2"),
        )
        .await;
        assert_eq!(refused.problem().1, "not-granted", "{name}");

        // What it granted, it may take back.
        let path = format!("/credentials/{id}/grants/{made}");
        let gone = vault
            .api
            .call(Method::DELETE, &path, &manager.secret, None)
            .await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{name}: {}", gone.body);
        let refused = send(
            &vault,
            &dev.secret,
            &id,
            "GET",
            &upstream.url("/record/ok/3"),
        )
        .await;
        assert_eq!(refused.problem().1, "not-granted", "{name}");

        // What it granted ends with its manage grant: revoked by the admin, the grant made
        // under it goes too, and its holder is refused.
        let under = vault
            .api
            .grant(
                &id,
                &manager.secret,
                &json!({"principal": principal(&dev2), "methods": ["GET"],
                        "paths": ["/record/ok*"], "budget": {"perMinute": 5}}),
            )
            .await;
        let path = format!("/credentials/{id}/grants/{manage}");
        let gone = vault
            .api
            .call(Method::DELETE, &path, &vault.token, None)
            .await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{name}: {}", gone.body);
        assert!(
            !grant_ids(&vault, &id).await.contains(&under),
            "{name}: a grant outlived the manage grant it was made under"
        );
        let refused = send(
            &vault,
            &dev2.secret,
            &id,
            "GET",
            &upstream.url("/record/ok/4"),
        )
        .await;
        assert_eq!(refused.problem().1, "not-granted", "{name}");
        let sent: Vec<_> = upstream
            .requests()
            .into_iter()
            .map(|r| (r.method, r.path))
            .collect();
        assert_eq!(
            sent,
            [("GET".to_owned(), "/record/ok/1".to_owned())],
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Across organizations
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organizations_grants_are_not_found_and_grant_nothing() {
    for backend in Backend::ALL {
        let Some(vault) = start_grants(backend).await else {
            continue;
        };
        let name = backend.name();
        let upstream = start_upstream().await;
        let (a_cred, a_secret) = credentials(&vault, &vault.token, &upstream, &["a-cred"])
            .await
            .remove(0);
        let (b_cred, b_secret) = credentials(&vault, &vault.other_token, &upstream, &["b-cred"])
            .await
            .remove(0);
        let a_user = vault
            .api
            .access_key(&vault.token, "a-user", &["credentials:use"])
            .await;
        let b_user = vault
            .api
            .access_key(&vault.other_token, "b-user", &["credentials:use"])
            .await;
        let a_grant = vault
            .api
            .grant(
                &a_cred,
                &vault.token,
                &json!({"principal": principal(&a_user)}),
            )
            .await;
        let before = vault.snapshot(&vault.token).await;
        let secrets = [a_secret.as_str(), b_secret.as_str()];

        // B's admin, on A's credential and grant, and on random ids: the same 404.
        let random = uuid::Uuid::new_v4().to_string();
        let for_b = json!({"principal": principal(&b_user)});
        let for_a = json!({"principal": principal(&a_user)});
        for (cred, grant) in [(&a_cred, &a_grant), (&random, &random), (&b_cred, &a_grant)] {
            let list = format!("/credentials/{cred}/grants");
            let one = format!("/credentials/{cred}/grants/{grant}");
            let mut attempts = vec![
                (Method::GET, one.clone(), None),
                (Method::DELETE, one, None),
            ];
            if cred != &b_cred {
                attempts.push((Method::GET, list.clone(), None));
                attempts.push((Method::POST, list.clone(), Some(&for_b)));
                attempts.push((Method::POST, list, Some(&for_a)));
            }
            for (method, path, body) in attempts {
                let reply = vault
                    .api
                    .call(method.clone(), &path, &vault.other_token, body)
                    .await;
                assert_eq!(
                    reply.problem(),
                    (StatusCode::NOT_FOUND, "not-found".to_owned()),
                    "{name}: {method} {path}: {}",
                    reply.body
                );
                reply.reveals_none(&secrets);
            }
        }
        // B's admin may read any principal's grants, of its own organization only.
        let listed = vault
            .api
            .get_json(
                &format!("/grants?principal={}", principal(&a_user)),
                &vault.other_token,
            )
            .await;
        assert_eq!(listed["items"], json!([]), "{name}");
        // A's key is no key of B's: B cannot grant it B's credential.
        let reply = vault
            .api
            .create_grant(&b_cred, &vault.other_token, &for_a)
            .await;
        invalid(&reply, "principal", name);
        let b_grant = vault.api.grant(&b_cred, &vault.other_token, &for_b).await;

        // A's grant lets B's key use nothing of A's, and B's nothing of A's key.
        let url = upstream.url("/record/x");
        let reply = send(&vault, &b_user.secret, &a_cred, "GET", &url).await;
        reply.assert_problem(StatusCode::NOT_FOUND, "not-found");
        reply.reveals_none(&secrets);
        let reply = send(&vault, &a_user.secret, &b_cred, "GET", &url).await;
        reply.assert_problem(StatusCode::NOT_FOUND, "not-found");
        reply.reveals_none(&secrets);
        assert!(upstream.requests().is_empty(), "{name}: nothing was sent");
        assert_eq!(grant_ids(&vault, &a_cred).await, [a_grant], "{name}");
        assert_eq!(
            vault.snapshot(&vault.token).await,
            before,
            "{name}: A's data unchanged"
        );
        let b_grants = vault
            .api
            .get_json(&format!("/credentials/{b_cred}/grants"), &vault.other_token)
            .await;
        assert_eq!(b_grants["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(b_grants["items"][0].id(), b_grant, "{name}");
        // Each grant works in its own organization.
        for (token, cred) in [(&b_user.secret, &b_cred), (&a_user.secret, &a_cred)] {
            let reply = send(&vault, token, cred, "GET", &url).await;
            assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.body);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Grants of revoked keys
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_key_ends_the_grants_it_holds_and_the_grants_it_made() {
    for backend in Backend::ALL {
        let Some(vault) = start_grants(backend).await else {
            continue;
        };
        let name = backend.name();
        let upstream = start_upstream().await;
        let (id, _) = credentials(&vault, &vault.token, &upstream, &["revoked"])
            .await
            .remove(0);
        let url = upstream.url("/record/x");

        // The grantee's key revoked: refused, and its grants are gone.
        let user = vault
            .api
            .access_key(&vault.token, "user", &["credentials:use"])
            .await;
        let _ = vault
            .api
            .grant(&id, &vault.token, &json!({"principal": principal(&user)}))
            .await;
        let used = send(&vault, &user.secret, &id, "GET", &url).await;
        assert_eq!(used.status, StatusCode::OK, "{name}: {}", used.body);
        vault.revoke(&user.id).await;
        let reply = send(&vault, &user.secret, &id, "GET", &url).await;
        reply.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(grant_ids(&vault, &id).await.is_empty(), "{name}");
        let of_user = vault
            .api
            .get_json(
                &format!("/grants?principal={}", principal(&user)),
                &vault.token,
            )
            .await;
        assert_eq!(of_user["items"], json!([]), "{name}");

        // The granter's key revoked: the grants it made are gone, and their grantee is
        // refused, though its own key is fine.
        let manager = vault
            .api
            .access_key(&vault.token, "manager", &["credentials:use"])
            .await;
        let dev = vault
            .api
            .access_key(&vault.token, "dev", &["credentials:use"])
            .await;
        let _ = vault
            .api
            .grant(
                &id,
                &vault.token,
                &json!({"principal": principal(&manager), "permission": "manage"}),
            )
            .await;
        let _ = vault
            .api
            .grant(&id, &manager.secret, &json!({"principal": principal(&dev)}))
            .await;
        let used = send(&vault, &dev.secret, &id, "GET", &url).await;
        assert_eq!(used.status, StatusCode::OK, "{name}: {}", used.body);
        assert_eq!(grant_ids(&vault, &id).await.len(), 2, "{name}");
        vault.revoke(&manager.id).await;
        assert!(
            grant_ids(&vault, &id).await.is_empty(),
            "{name}: the manager's grant and the one it made are gone"
        );
        let reply = send(&vault, &dev.secret, &id, "GET", &url).await;
        reply.assert_problem(StatusCode::FORBIDDEN, "not-granted");
        let own = vault.api.get_json("/grants", &dev.secret).await;
        assert_eq!(own["items"], json!([]), "{name}");
        assert_eq!(upstream.requests().len(), 2, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Request shapes outside the rules
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_spelling_of_a_request_gets_outside_the_grants_methods_and_paths() {
    for backend in Backend::ALL {
        let Some(vault) = start_grants(backend).await else {
            continue;
        };
        let name = backend.name();
        let upstream = start_upstream().await;
        let second = start_upstream().await;
        let stranger = start_upstream().await;
        let secret = canary("shapes");
        let id = vault
            .api
            .create_credential(
                &vault.token,
                &json!({"name": "shapes", "type": "api_key", "value": secret,
                        "allowedHosts": [upstream.origin(), second.origin()]}),
            )
            .await
            .id();
        let user = vault
            .api
            .access_key(&vault.token, "user", &["credentials:use"])
            .await;
        let _ = vault
            .api
            .grant(
                &id,
                &vault.token,
                &json!({"principal": principal(&user), "methods": ["GET"],
                        "paths": ["/record/ok/*"]}),
            )
            .await;
        let origin = upstream.origin();
        let at = |path: &str| format!("{origin}{path}");

        let refusals = [
            ("post", at("/record/ok/1"), "methods"),
            ("Post", at("/record/ok/1"), "methods"),
            ("HEAD", at("/record/ok/1"), "methods"),
            ("OPTIONS", at("/record/ok/1"), "methods"),
            ("PURGE", at("/record/ok/1"), "methods"),
            ("GET", at("//record/ok/1"), "paths"),
            ("GET", at("/record//ok/1"), "paths"),
            ("GET", at("/record/ok/../admin"), "paths"),
            ("GET", at("/record/ok/../../admin"), "paths"),
            ("GET", at("/record/ok/%2e%2e/admin"), "paths"),
            ("GET", at("/record/ok/%2E%2E/admin"), "paths"),
            ("GET", at("/record/ok/.%2e/admin"), "paths"),
            ("GET", at("/record/ok/..%2Fadmin"), "paths"),
            ("GET", at("/record/ok/%2e%2e%2fadmin"), "paths"),
            ("GET", at("/record/ok/..%5Cadmin"), "paths"),
            ("GET", at("/record/ok\\..\\..\\admin"), "paths"),
            ("GET", at("/record/ok;/../admin"), "paths"),
            ("GET", at("/record/admin?next=/record/ok/1"), "paths"),
            ("GET", at("/RECORD/OK/1"), "paths"),
            ("GET", at("/record/ok"), "paths"),
            ("GET", second.url("/admin"), "paths"),
        ];
        for (method, url, field) in &refusals {
            let reply = send(&vault, &user.secret, &id, method, url).await;
            outside(&reply, field, &format!("{name}: {method} {url}"));
            reply.reveals_none(&[&secret]);
        }
        // Within the rules, but on a host the credential does not allow.
        let reply = send(
            &vault,
            &user.secret,
            &id,
            "GET",
            &stranger.url("/record/ok/1"),
        )
        .await;
        reply.assert_problem(StatusCode::FORBIDDEN, "destination-not-allowed");
        assert!(
            upstream.requests().is_empty() && second.requests().is_empty(),
            "{name}: nothing refused was sent"
        );

        // What passes is checked as it will be sent: the method normalised, dot segments
        // resolved. A grant bounds methods and paths; the credential's allowedHosts bound
        // hosts, so the second allowed host is within it.
        let passes = [
            ("get", at("/record/ok/1"), "/record/ok/1"),
            ("GET", at("/record/ok/../ok/2"), "/record/ok/2"),
            ("GET", at("/record/ok/%2e/3"), "/record/ok/3"),
            (
                "GET",
                at("/record/ok/%252e%252e/x"),
                "/record/ok/%252e%252e/x",
            ),
            ("GET", second.url("/record/ok/4"), "/record/ok/4"),
        ];
        for (method, url, _) in &passes {
            let reply = send(&vault, &user.secret, &id, method, url).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{name}: {method} {url}: {}",
                reply.body
            );
        }
        let mut seen: Vec<_> = upstream.requests();
        seen.extend(second.requests());
        let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
        let expected: Vec<&str> = passes.iter().map(|(_, _, path)| *path).collect();
        assert_eq!(paths, expected, "{name}");
        assert!(seen.iter().all(|r| r.method == "GET"), "{name}");
        assert!(stranger.requests().is_empty(), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// A budget race
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uses_never_spend_more_than_the_budget() {
    const CALLS: usize = 40;
    const TOTAL: usize = 10;
    for backend in Backend::ALL {
        let Some(vault) = start_grants(backend).await else {
            continue;
        };
        let name = backend.name();
        let upstream = start_upstream().await;
        let (id, _) = credentials(&vault, &vault.token, &upstream, &["raced"])
            .await
            .remove(0);
        let user = vault
            .api
            .access_key(&vault.token, "user", &["credentials:use"])
            .await;
        let _ = vault
            .api
            .grant(
                &id,
                &vault.token,
                &json!({"principal": principal(&user), "budget": {"total": TOTAL}}),
            )
            .await;
        let url = upstream.url("/record/race");
        let replies = futures::future::join_all(
            (0..CALLS).map(|_| send(&vault, &user.secret, &id, "GET", &url)),
        )
        .await;
        let passed = replies
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        let exhausted = replies
            .iter()
            .filter(|r| {
                r.status == StatusCode::TOO_MANY_REQUESTS && r.problem().1 == "budget-exhausted"
            })
            .count();
        let statuses: Vec<_> = replies.iter().map(|r| r.status.as_u16()).collect();
        assert_eq!(passed, TOTAL, "{name}: {statuses:?}");
        assert_eq!(exhausted, CALLS - TOTAL, "{name}: {statuses:?}");
        assert_eq!(upstream.requests().len(), TOTAL, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Rows edited behind the vault's back
// ---------------------------------------------------------------------------------------

/// A grant row edited in the database, to another grantee or to wider rules, no longer
/// matches its binding: it grants nothing to anyone, and nothing reaches the upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_row_edited_in_the_database_grants_nothing() {
    for backend in Backend::ALL {
        let Some(mut vault) = start_grants(backend).await else {
            continue;
        };
        let name = backend.name();
        let upstream = start_upstream().await;
        let (id, _) = credentials(&vault, &vault.token, &upstream, &["bound"])
            .await
            .remove(0);
        let holder = vault
            .api
            .access_key(&vault.token, "holder", &["credentials:use"])
            .await;
        let thief = vault
            .api
            .access_key(&vault.token, "thief", &["credentials:use"])
            .await;
        vault
            .api
            .grant(
                &id,
                &vault.token,
                &json!({"principal": principal(&holder), "methods": ["GET"],
                        "paths": ["/record/ok*"]}),
            )
            .await;
        let used = send(
            &vault,
            &holder.secret,
            &id,
            "GET",
            &upstream.url("/record/ok/1"),
        )
        .await;
        assert_eq!(used.status, StatusCode::OK, "{name}: {}", used.body);

        for (edit, who, method, path) in [
            (
                format!("UPDATE grants SET grantee = 'key:{}'", thief.id),
                &thief,
                "GET",
                "/record/ok/2",
            ),
            (
                format!(
                    "UPDATE grants SET grantee = 'key:{}', rules = '{{}}'",
                    holder.id
                ),
                &holder,
                "POST",
                "/record/elsewhere",
            ),
        ] {
            vault.stop().await;
            vault.sql(&edit);
            vault.restart().await;
            let refused = send(&vault, &who.secret, &id, method, &upstream.url(path)).await;
            assert_eq!(
                refused.problem(),
                (StatusCode::FORBIDDEN, "not-granted".to_owned()),
                "{name}: {edit}: {}",
                refused.body
            );
        }
        let sent: Vec<_> = upstream.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(sent, ["/record/ok/1"], "{name}");
    }
}
