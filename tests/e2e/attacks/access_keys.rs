//! Issue 14 findings: access keys.
//!
//! - finding 2: a key (or identity-provider token) with an expiry cannot mint a key that
//!   outlives it; revoking with `cascade=true` takes every key it made, transitively;
//! - finding 3: a key may revoke only keys no stronger than itself, and the operator can
//!   always get back into an organization (`vault-server access-keys create`);
//! - finding 4: `GET /admin/keys` counts the caller's organization's rows only;
//! - an access-key row moved to another organization (or given more scopes, or a longer
//!   life) in the database no longer authenticates.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::*;
use crate::helpers::command;

/// Every scope, as an organization's first key holds them.
const ALL_SCOPES: [&str; 8] = [
    "credentials:read",
    "credentials:write",
    "credentials:route",
    "access-keys:manage",
    "credentials:use",
    "credentials:use-all",
    "audit:read",
    "keys:read",
];

fn at(offset: time::Duration) -> String {
    (OffsetDateTime::now_utc() + offset)
        .format(&Rfc3339)
        .expect("formats")
}

impl TestApp {
    /// The id of an organization, by name (`acme` is A, `globex` is B), as the
    /// store spells it in SQL: a blob literal on SQLite, a quoted UUID on PostgreSQL.
    fn org_literal(&self, name: &str) -> String {
        let query = match self.backend {
            Backend::Sqlite => format!("SELECT hex(id) FROM organizations WHERE name = '{name}'"),
            Backend::Postgres => format!("SELECT id FROM organizations WHERE name = '{name}'"),
        };
        let raw = self.sql(&query);
        match self.backend {
            Backend::Sqlite => format!("X'{raw}'"),
            Backend::Postgres => format!("'{raw}'"),
        }
    }

    /// An organization's id as the API and the CLI spell it.
    fn org_id(&self, name: &str) -> String {
        let raw = self.sql(&format!(
            "SELECT {} FROM organizations WHERE name = '{name}'",
            if self.backend == Backend::Sqlite {
                "lower(hex(id))"
            } else {
                "id"
            }
        ));
        uuid::Uuid::try_parse(&raw)
            .unwrap_or_else(|_| panic!("not an id: {raw}"))
            .to_string()
    }

    /// An access key's id as a literal of the store's SQL.
    fn key_literal(&self, id: &str) -> String {
        match self.backend {
            Backend::Sqlite => blob(id),
            Backend::Postgres => format!("'{id}'"),
        }
    }

    /// Whether `token` still authenticates (a read that needs no scope to be refused by
    /// authentication first).
    async fn works(&self, token: &str) -> bool {
        let reply = self.api.get("/access-keys", token).await;
        match reply.status {
            StatusCode::UNAUTHORIZED => false,
            StatusCode::OK | StatusCode::FORBIDDEN => true,
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }

    /// The audit events of `action` about `target`, as A's admin key reads them.
    async fn audit_of(&self, action: &str, target: &str) -> Vec<Value> {
        self.api
            .get_json(
                &format!("/audit-events?action={action}&target={target}&limit=100"),
                &self.token,
            )
            .await["items"]
            .as_array()
            .expect("items")
            .clone()
    }

    /// `vault-server` on this vault's database and key, as the operator runs it.
    fn operator(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = command(self.dir.path());
        cmd.env("DATABASE_URL", &self.settings.database_url)
            .env(
                "ENCRYPTION_KEY",
                secrecy::ExposeSecret::expose_secret(
                    self.settings.encryption_key.as_ref().expect("a key"),
                ),
            )
            .args(args);
        cmd.output().expect("vault-server runs")
    }
}

// ---------------------------------------------------------------------------------------
// Finding 2: a created key never outlives its creator
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_lived_key_cannot_mint_a_longer_lived_one() {
    for backend in Backend::ALL {
        let Some(vault) = start_on(backend, false).await else {
            continue;
        };
        let expiry = at(time::Duration::hours(1));
        let reply = vault
            .api
            .create_access_key(
                &vault.token,
                &json!({"name": "short", "scopes": ["access-keys:manage", "credentials:read"],
                        "expiresAt": expiry}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let short = reply.json()["keySecret"]
            .as_str()
            .expect("secret")
            .to_owned();
        let before = vault.snapshot(&vault.token).await;

        for later in [
            json!(at(time::Duration::hours(2))),
            json!("2099-01-01T00:00:00Z"),
        ] {
            let reply = vault
                .api
                .create_access_key(
                    &short,
                    &json!({"name": "long", "scopes": ["credentials:read"], "expiresAt": later}),
                )
                .await;
            assert_eq!(
                reply.problem(),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid-field".to_owned()),
                "{backend:?} {later}: {}",
                reply.body
            );
            assert_eq!(
                reply.json()["errors"][0]["field"],
                "expiresAt",
                "{}",
                reply.body
            );
        }
        let after = vault.snapshot(&vault.token).await;
        assert_eq!(
            after["keys"], before["keys"],
            "{backend:?}: no key was created"
        );

        // No expiry asked for: the creator's.
        let reply = vault
            .api
            .create_access_key(
                &short,
                &json!({"name": "child", "scopes": ["credentials:read"]}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let given = OffsetDateTime::parse(
            reply.json()["expiresAt"].as_str().expect("an expiry"),
            &Rfc3339,
        )
        .expect("RFC 3339");
        let cap = OffsetDateTime::parse(&expiry, &Rfc3339).expect("RFC 3339");
        assert!(
            (given - cap).abs() < time::Duration::milliseconds(1),
            "{backend:?}: {given} is not the creator's {cap}"
        );
        // An earlier one is the caller's to choose.
        let reply = vault
            .api
            .create_access_key(
                &short,
                &json!({"name": "shorter", "scopes": ["credentials:read"],
                        "expiresAt": at(time::Duration::minutes(30))}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_with_cascade_takes_every_key_it_made_and_without_it_none() {
    for backend in Backend::ALL {
        let Some(mut vault) = start_on(backend, false).await else {
            continue;
        };
        let manage = ["access-keys:manage", "credentials:read"];
        // parent -> child -> grandchild, and a sibling made by the admin key.
        let AccessKey {
            id: parent_id,
            secret: parent,
        } = vault.api.access_key(&vault.token, "k", &manage).await;
        let AccessKey {
            id: child_id,
            secret: child,
        } = vault.api.access_key(&parent, "k", &manage).await;
        let AccessKey {
            id: grandchild_id,
            secret: grandchild,
        } = vault
            .api
            .access_key(&child, "k", &["credentials:read"])
            .await;
        let AccessKey {
            secret: sibling, ..
        } = vault
            .api
            .access_key(&vault.token, "k", &["credentials:read"])
            .await;

        // Without cascade (the default): only the key itself.
        let AccessKey {
            id: lone_id,
            secret: lone,
        } = vault.api.access_key(&vault.token, "k", &manage).await;
        let AccessKey {
            secret: made_by_lone,
            ..
        } = vault
            .api
            .access_key(&lone, "k", &["credentials:read"])
            .await;
        vault.revoke(&lone_id).await;
        assert!(!vault.works(&lone).await, "{backend:?}");
        assert!(
            vault.works(&made_by_lone).await,
            "{backend:?}: a plain revoke took a key the revoked key made"
        );

        let reply = vault
            .api
            .call(
                Method::DELETE,
                &format!("/access-keys/{parent_id}?cascade=maybe"),
                &vault.token,
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert!(
            vault.works(&parent).await,
            "a refused request revoked nothing"
        );

        let reply = vault
            .api
            .call(
                Method::DELETE,
                &format!("/access-keys/{parent_id}?cascade=true"),
                &vault.token,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        for (name, token) in [
            ("parent", &parent),
            ("child", &child),
            ("grandchild", &grandchild),
        ] {
            assert!(
                !vault.works(token).await,
                "{backend:?}: the {name} still works"
            );
        }
        assert!(
            vault.works(&sibling).await,
            "{backend:?}: the cascade went astray"
        );
        assert!(vault.works(&vault.token).await);

        // Each revocation is audited; those of the keys it made say it was by cascade.
        let root = vault.audit_of("access_key.revoke", &parent_id).await;
        assert_eq!(root.len(), 1, "{root:?}");
        assert_eq!(root[0]["outcome"], "success");
        for id in [&child_id, &grandchild_id] {
            let events = vault.audit_of("access_key.revoke", id).await;
            assert_eq!(events.len(), 1, "{backend:?}: {events:?}");
            assert_eq!(events[0]["outcome"], "success");
            assert_eq!(
                events[0]["reason"],
                format!("cascade:{parent_id}"),
                "{events:?}"
            );
        }

        // Creators edited into a cycle in the database: the cascade still ends.
        let AccessKey {
            id: first_id,
            secret: first,
        } = vault.api.access_key(&vault.token, "k", &manage).await;
        let AccessKey {
            id: second_id,
            secret: second,
        } = vault.api.access_key(&first, "k", &manage).await;
        vault.stop().await;
        vault.sql(&format!(
            "UPDATE access_keys SET created_by = {} WHERE id = {}",
            vault.key_literal(&second_id),
            vault.key_literal(&first_id),
        ));
        vault.restart().await;
        let reply = vault
            .api
            .call(
                Method::DELETE,
                &format!("/access-keys/{first_id}?cascade=true"),
                &vault.token,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert!(!vault.works(&second).await, "{backend:?}");
        assert!(!vault.works(&first).await, "{backend:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Finding 3: no revoking a stronger key; the operator's way back
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_cannot_revoke_a_stronger_key_and_the_operator_can_recover() {
    for backend in Backend::ALL {
        let Some(vault) = start_on(backend, false).await else {
            continue;
        };
        let keys = vault.api.get_json("/access-keys", &vault.token).await;
        let admin_id = keys["items"][0].id();
        let AccessKey {
            id: manager_id,
            secret: manager,
        } = vault
            .api
            .access_key(&vault.token, "k", &["access-keys:manage"])
            .await;
        let AccessKey { id: writer_id, .. } = vault
            .api
            .access_key(
                &vault.token,
                "k",
                &["access-keys:manage", "credentials:write"],
            )
            .await;
        let before = vault.snapshot(&vault.token).await;
        for target in [&admin_id, &writer_id] {
            let reply = vault
                .api
                .call(
                    Method::DELETE,
                    &format!("/access-keys/{target}"),
                    &manager,
                    None,
                )
                .await;
            assert_eq!(
                reply.problem(),
                (StatusCode::FORBIDDEN, "scope-escalation".to_owned()),
                "{backend:?}: {}",
                reply.body
            );
            let events = vault.audit_of("access_key.revoke", target).await;
            assert!(
                events
                    .iter()
                    .any(|e| e["outcome"] == "failure" && e["reason"] == "scope-escalation"),
                "{backend:?}: the refusal is audited: {events:?}"
            );
        }
        // The cascade is refused whole when any key in it is stronger.
        let reply = vault
            .api
            .call(
                Method::DELETE,
                &format!("/access-keys/{admin_id}?cascade=true"),
                &manager,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert_eq!(
            vault.snapshot(&vault.token).await,
            before,
            "{backend:?}: nothing changed"
        );
        assert!(vault.works(&vault.token).await);

        // A key no stronger than itself, itself included, it may revoke.
        let reply = vault
            .api
            .call(
                Method::DELETE,
                &format!("/access-keys/{manager_id}"),
                &manager,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);

        // The admin key revokes itself: nobody is left. The operator gets back in.
        vault.revoke(&admin_id).await;
        assert!(!vault.works(&vault.token).await);
        let org = vault.org_id("acme");
        let out = vault.operator(&[
            "access-keys",
            "create",
            "--org",
            &org,
            "--name",
            "rescue",
            "--scope",
            "access-keys:manage,audit:read",
            "--scope",
            "credentials:read",
        ]);
        assert!(
            out.status.success(),
            "{backend:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rescue = String::from_utf8(out.stdout).expect("utf8");
        let rescue = rescue.trim();
        assert!(
            rescue.starts_with("vlt_") && !rescue.contains('\n'),
            "the key alone on stdout: {rescue:?}"
        );
        let listed = vault.api.get_json("/access-keys", rescue).await;
        let made = listed["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|k| k["name"] == "rescue")
            .expect("the rescue key is listed")
            .clone();
        assert_eq!(
            made["scopes"],
            json!(["credentials:read", "access-keys:manage", "audit:read"])
        );
        let events = vault
            .api
            .get_json(
                &format!(
                    "/audit-events?action=access_key.create&target={}",
                    made["id"].as_str().expect("id")
                ),
                rescue,
            )
            .await;
        assert_eq!(
            events["items"][0]["actorSubject"], "vault-server operator",
            "{backend:?}: the operator's key is audited: {events}"
        );
        // An organization that does not exist: refused, nothing printed.
        let out = vault.operator(&[
            "access-keys",
            "create",
            "--org",
            &uuid::Uuid::now_v7().to_string(),
            "--name",
            "x",
            "--scope",
            "credentials:read",
        ]);
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no organization"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Finding 4: /admin/keys is per organization
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_keys_shows_an_organization_its_own_rows_only() {
    for backend in Backend::ALL {
        let Some(vault) = start_on(backend, false).await else {
            continue;
        };
        let b_before = vault.api.get_json("/admin/keys", &vault.other_token).await;
        let a_before = vault.api.get_json("/admin/keys", &vault.token).await;
        for i in 0..3 {
            let id = vault
                .api
                .create_credential(
                    &vault.token,
                    &json!({"name": format!("busy-{i}"), "type": "bearer_token",
                            "value": format!("tok_{i}_0123456789")}),
                )
                .await
                .id();
            let patched = vault
                .api
                .update_credential(
                    &id,
                    &vault.token,
                    &json!({"value": format!("tok_{i}_rotated_0123456789")}),
                )
                .await;
            assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        }
        let b_after = vault.api.get_json("/admin/keys", &vault.other_token).await;
        assert_eq!(
            b_after, b_before,
            "{backend:?}: B's figures moved with A's activity"
        );
        assert_eq!(b_after["keys"][0]["credentials"], 0, "{b_after}");
        assert_eq!(b_after["keys"][0]["meta"], 0, "{b_after}");
        let a_after = vault.api.get_json("/admin/keys", &vault.token).await;
        let count = |v: &Value, field: &str| v["keys"][0][field].as_u64().expect("a count");
        assert_eq!(
            count(&a_after, "credentials"),
            count(&a_before, "credentials") + 3
        );
        assert_eq!(
            count(&a_after, "versions"),
            count(&a_before, "versions") + 6
        );
        assert_eq!(count(&a_after, "meta"), 0, "{a_after}");

        // The operator still sees the installation: A's rows and the values of the
        // installation itself (key check, access-key hash key, ...).
        let out = vault.operator(&["keys", "status"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = String::from_utf8(out.stdout).expect("utf8");
        let current = a_after["currentKeyId"].as_str().expect("key id");
        let row: Vec<&str> = printed
            .lines()
            .find(|l| l.starts_with(current))
            .unwrap_or_else(|| panic!("no row for {current}: {printed}"))
            .split_whitespace()
            .collect();
        assert_eq!(row[row.len() - 3..row.len() - 1], ["3", "6"], "{printed}");
        let meta: u64 = row[row.len() - 1].parse().expect("a count");
        assert!(meta >= 2, "{printed}");
    }
}

// ---------------------------------------------------------------------------------------
// Smaller: a key row moved (or upgraded) in the database
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_key_row_edited_in_the_database_no_longer_authenticates() {
    for backend in Backend::ALL {
        let Some(mut vault) = start_on(backend, false).await else {
            continue;
        };
        vault
            .api
            .create_credential(
                &vault.other_token,
                &json!({"name": "b-secret", "type": "bearer_token",
                        "value": "tok_b_0123456789abcdef"}),
            )
            .await
            .id();
        let AccessKey {
            id: moved_id,
            secret: moved,
        } = vault
            .api
            .access_key(
                &vault.token,
                "k",
                &["credentials:read", "credentials:write"],
            )
            .await;
        let AccessKey {
            id: raised_id,
            secret: raised,
        } = vault
            .api
            .access_key(&vault.token, "k", &["credentials:read"])
            .await;
        let reply = vault
            .api
            .create_access_key(
                &vault.token,
                &json!({"name": "brief", "scopes": ["credentials:read"],
                        "expiresAt": at(time::Duration::hours(1))}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let extended_id = reply.json().id();
        let extended = reply.json()["keySecret"]
            .as_str()
            .expect("secret")
            .to_owned();
        // A key stored before bindings existed: the vault binds it when it opens.
        let AccessKey {
            id: legacy_id,
            secret: legacy,
        } = vault
            .api
            .access_key(&vault.token, "k", &["credentials:read"])
            .await;
        let b_before = vault.snapshot(&vault.other_token).await;
        let a_before = vault.snapshot(&vault.token).await;

        vault.stop().await;
        let all = serde_json::to_string(&ALL_SCOPES).expect("json");
        vault.sql(&format!(
            "UPDATE access_keys SET organization_id = {} WHERE id = {}; \
             UPDATE access_keys SET scopes = '{all}' WHERE id = {}; \
             UPDATE access_keys SET expires_at = NULL WHERE id = {}; \
             UPDATE access_keys SET binding = NULL WHERE id = {};",
            vault.org_literal("globex"),
            vault.key_literal(&moved_id),
            vault.key_literal(&raised_id),
            vault.key_literal(&extended_id),
            vault.key_literal(&legacy_id),
        ));
        vault.restart().await;

        for (what, token) in [
            ("moved to B", &moved),
            ("given every scope", &raised),
            ("given no expiry", &extended),
        ] {
            let reply = vault.api.get("/credentials", token).await;
            assert_eq!(
                reply.problem(),
                (StatusCode::UNAUTHORIZED, "unauthorized".to_owned()),
                "{backend:?}: a key {what}: {}",
                reply.body
            );
            let reply = vault
                .api
                .call(
                    Method::POST,
                    "/credentials",
                    token,
                    Some(&json!({"name": "planted", "type": "bearer_token",
                                 "value": "tok_planted_0123456789"})),
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{backend:?}: {what}"
            );
        }
        assert!(
            vault.works(&legacy).await,
            "{backend:?}: an unbound key of an earlier release is bound, not locked out"
        );
        // The key lists changed by the edits themselves; the data and the audit log did not.
        for (name, token, before) in [
            ("A", &vault.token, &a_before),
            ("B", &vault.other_token, &b_before),
        ] {
            let after = vault.snapshot(token).await;
            for part in ["credentials", "each", "audit"] {
                assert_eq!(after[part], before[part], "{backend:?}: {name}'s {part}");
            }
        }
    }
}
