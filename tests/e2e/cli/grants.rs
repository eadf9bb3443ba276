//! `vault grants add|list|revoke` against the real server: a grant made by the client
//! bounds what a key with only `credentials:use` sends through the proxy (methods, paths,
//! budget), revoking it ends it at once, bad grants are refused naming the field, and a
//! principal's grants are listed. Only 127.0.0.1.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Env, Run};
use crate::helpers::http::AccessKey;
use crate::helpers::upstream::{Upstream, start_upstream};
use crate::helpers::{Id, Reply, canary};

/// The server (allowed to reach the upstream on 127.0.0.1), the upstream, the client
/// logged in with the admin key, and one credential for the upstream.
struct Setup {
    env: Env,
    upstream: Upstream,
    credential: String,
    secret: String,
}

impl Setup {
    async fn start() -> Self {
        let env = Env::start(true);
        let upstream = start_upstream().await;
        env.login();
        let secret = canary("granted");
        let credential = env
            .app
            .api
            .create_credential(
                &env.admin,
                &json!({"name": "Payments", "type": "bearer_token", "value": secret,
                        "allowedHosts": [upstream.origin()]}),
            )
            .await
            .id();
        Self {
            env,
            upstream,
            credential,
            secret,
        }
    }

    /// A key with only `credentials:use`: it uses what it is granted, nothing else.
    async fn user(&self, name: &str) -> AccessKey {
        self.env
            .app
            .api
            .access_key(&self.env.admin, name, &["credentials:use"])
            .await
    }

    /// `vault ...` as `key` (from the environment, as scripts give it).
    fn vault_as(&self, key: &AccessKey, args: &[&str]) -> Run {
        self.env
            .vault_with(args, "", &[("VAULT_CLI_ACCESS_KEY", key.secret.as_str())])
    }

    /// `method path` on the upstream through the credential, with `key`.
    async fn use_as(&self, key: &AccessKey, method: &str, path: &str) -> Reply {
        let call = json!({"method": method, "url": self.upstream.url(path)});
        let reply = self
            .env
            .app
            .api
            .proxy(&self.credential, &key.secret, &call)
            .await;
        reply.reveals_none(&[&self.secret]);
        reply
    }

    /// How many requests reached the upstream.
    fn sent(&self) -> usize {
        self.upstream.requests().len()
    }
}

/// A refusal of the server as the client shows it: exit code 3, the problem code and
/// status, and `field` (a 422's invalid field) on stderr; nothing on stdout.
#[track_caller]
fn refused(run: Run, status: u16, code: &str, field: Option<&str>) -> Run {
    let run = run.failed(3);
    let status = format!("HTTP {status}");
    assert!(
        run.stderr.contains(code) && run.stderr.contains(&status),
        "{code} {status} missing: {}",
        run.stderr
    );
    if let Some(field) = field {
        assert!(
            run.stderr.contains(&format!("- {field}: ")),
            "{field} missing: {}",
            run.stderr
        );
    }
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    run
}

/// The data lines of a table (its header dropped) that mention `text`.
fn rows_with(table: &str, text: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter(|line| line.contains(text))
        .map(str::to_owned)
        .collect()
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|g| g["id"].as_str().expect("id"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_added_by_the_client_bounds_the_key_until_it_is_revoked() {
    let setup = Setup::start().await;
    let env = &setup.env;
    let cred = setup.credential.as_str();
    let user = setup.user("payments-bot").await;
    let principal = format!("key:{}", user.id);

    // Before any grant: not-granted, nothing sent.
    let reply = setup.use_as(&user, "GET", "/v1/charges/ch_1").await;
    reply.assert_problem(StatusCode::FORBIDDEN, "not-granted");

    // add: the id alone on stdout (for scripts), the details on stderr.
    let run = env
        .vault(&[
            "grants",
            "add",
            cred,
            "--principal",
            &principal,
            "--method",
            "GET",
            "--path",
            "/v1/charges*",
            "--path",
            "/v1/balance",
            "--per-minute",
            "100",
            "--total",
            "3",
        ])
        .ok();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let grant = run.stdout.trim().to_owned();
    assert!(uuid::Uuid::parse_str(&grant).is_ok(), "{grant}");
    assert!(
        run.stderr.contains(&principal) && run.stderr.contains("100/min, 3 total"),
        "{}",
        run.stderr
    );

    // What the server holds is exactly what was given.
    let held = env
        .get(&format!("/credentials/{cred}/grants/{grant}"))
        .await
        .json();
    assert_eq!(held["principal"], principal.as_str());
    assert_eq!(held["permission"], "use");
    assert_eq!(held["methods"], json!(["GET"]));
    assert_eq!(held["paths"], json!(["/v1/charges*", "/v1/balance"]));
    assert_eq!(held["budget"], json!({"perMinute": 100, "total": 3}));

    // list: a table with a header and the grant's row; --json is the server's list.
    let table = env.vault(&["grants", "list", cred]).ok().stdout;
    let header = table.lines().next().expect("a header");
    for column in [
        "ID",
        "PRINCIPAL",
        "PERMISSION",
        "METHODS",
        "PATHS",
        "BUDGET",
    ] {
        assert!(header.contains(column), "{column} missing: {table}");
    }
    let rows = rows_with(&table, &grant);
    assert_eq!(rows.len(), 1, "{table}");
    for part in [
        principal.as_str(),
        "use",
        "GET",
        "/v1/charges*, /v1/balance",
        "100/min, 3 total",
        "active",
    ] {
        assert!(rows[0].contains(part), "{part} missing: {table}");
    }
    let listed = env.vault(&["grants", "list", cred, "--json"]).ok().json();
    assert_eq!(ids(&listed), [grant.as_str()]);
    assert_eq!(listed["items"][0]["credentialId"], cred);

    // Within the rules: it goes upstream, with the secret.
    let reply = setup.use_as(&user, "GET", "/v1/charges/ch_1").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let last = setup.upstream.last();
    assert_eq!(last.path, "/v1/charges/ch_1");
    assert_eq!(
        last.header("authorization"),
        [format!("Bearer {}", setup.secret).as_str()]
    );
    // Outside them: refused naming the rule, and nothing sent.
    let before = setup.sent();
    for (method, path, field) in [
        ("POST", "/v1/charges", "methods"),
        ("GET", "/v1/refunds", "paths"),
        ("GET", "/v1/balance/history", "paths"),
    ] {
        let body = setup
            .use_as(&user, method, path)
            .await
            .assert_problem(StatusCode::FORBIDDEN, "request-not-granted");
        assert_eq!(body["field"], field, "{method} {path}: {body}");
    }
    assert_eq!(setup.sent(), before, "nothing refused went upstream");
    // The budget: 3 in all (the refusals spent none), then 429 with no Retry-After (a
    // total never refills).
    for path in ["/v1/balance", "/v1/charges"] {
        let reply = setup.use_as(&user, "GET", path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }
    let spent = setup.use_as(&user, "GET", "/v1/charges").await;
    spent.assert_problem(StatusCode::TOO_MANY_REQUESTS, "budget-exhausted");
    assert!(!spent.headers.contains_key("retry-after"));
    assert_eq!(setup.sent(), before + 2);

    // The key lists its own grants (no --principal); it may not grant, nor list the
    // credential's grants.
    let own = setup
        .vault_as(&user, &["grants", "list", "--json"])
        .ok()
        .json();
    assert_eq!(ids(&own), [grant.as_str()]);
    let own_table = setup.vault_as(&user, &["grants", "list"]).ok().stdout;
    assert_eq!(rows_with(&own_table, &grant).len(), 1, "{own_table}");
    let other = setup.user("other").await;
    let run = setup.vault_as(
        &user,
        &[
            "grants",
            "add",
            cred,
            "--principal",
            &format!("key:{}", other.id),
        ],
    );
    refused(run, 403, "not-granted", None);
    let run = setup.vault_as(&user, &["grants", "list", cred]);
    assert!(run.failed(3).stderr.contains("HTTP 403"));

    // revoke: at once, the key is back to not-granted, and the list is empty.
    let run = env.vault(&["grants", "revoke", cred, &grant]).ok();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains(&grant), "{}", run.stderr);
    let before = setup.sent();
    let reply = setup.use_as(&user, "GET", "/v1/charges/ch_2").await;
    reply.assert_problem(StatusCode::FORBIDDEN, "not-granted");
    assert_eq!(setup.sent(), before);
    let listed = env.vault(&["grants", "list", cred, "--json"]).ok().json();
    assert_eq!(listed["items"], json!([]));
    let table = env.vault(&["grants", "list", cred]).ok().stdout;
    assert_eq!(table.lines().count(), 1, "only the header: {table}");
    // Revoking it again: 404.
    refused(
        env.vault(&["grants", "revoke", cred, &grant]),
        404,
        "not-found",
        None,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_grants_are_refused_naming_the_field_and_nothing_is_granted() {
    let setup = Setup::start().await;
    let env = &setup.env;
    let cred = setup.credential.as_str();
    let user = setup.user("bot").await;
    let principal = format!("key:{}", user.id);
    let add = |extra: &[&str]| {
        let mut argv = vec!["grants", "add", cred];
        argv.extend_from_slice(extra);
        env.vault(&argv)
    };

    // The server refuses them (422 naming the field); the client shows it, exit code 3.
    let unknown_key = format!("key:{}", uuid::Uuid::now_v7());
    for (extra, field) in [
        (vec!["--per-minute", "0"], "budget.perMinute"),
        (vec!["--total", "1000000001"], "budget.total"),
        (vec!["--method", "get"], "methods"),
        (vec!["--path", "v1/charges"], "paths"),
        (vec!["--path", "/v1/*/charges"], "paths"),
        (vec!["--expires-at", "tomorrow"], "expiresAt"),
        (vec!["--expires-at", "2001-01-01T00:00:00Z"], "expiresAt"),
    ] {
        let mut argv = vec!["--principal", principal.as_str()];
        argv.extend_from_slice(&extra);
        let run = refused(add(&argv), 422, "invalid-field", Some(field));
        assert!(run.stderr.contains("request id: "), "{}", run.stderr);
    }
    for bad in ["bogus", "key:not-a-uuid", unknown_key.as_str()] {
        refused(
            add(&["--principal", bad]),
            422,
            "invalid-field",
            Some("principal"),
        );
    }
    // Nobody grants to themselves: the admin's own key, from the server's own list.
    let keys = env.get("/access-keys").await.json();
    let admin_id = keys["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|k| k["id"] != user.id.as_str())
        .expect("the admin's key")
        .id();
    refused(
        add(&["--principal", &format!("key:{admin_id}")]),
        422,
        "invalid-field",
        Some("principal"),
    );
    // An unknown credential: 404.
    let missing = uuid::Uuid::now_v7().to_string();
    refused(
        env.vault(&["grants", "add", &missing, "--principal", &principal]),
        404,
        "not-found",
        None,
    );

    // The client refuses what no grant can be before asking (exit code 2).
    for extra in [
        vec![],
        vec!["--principal", principal.as_str(), "--permission", "all"],
        vec!["--principal", principal.as_str(), "--per-day", "-1"],
        vec!["--principal", principal.as_str(), "--per-hour", "many"],
    ] {
        add(&extra).failed(2);
    }
    env.vault(&["grants", "list", cred, "--principal", &principal])
        .failed(2);
    env.vault(&["grants", "revoke", cred]).failed(2);

    // None of it granted anything.
    let listed = env.vault(&["grants", "list", cred, "--json"]).ok().json();
    assert_eq!(listed["items"], json!([]));
    let reply = setup.use_as(&user, "GET", "/v1/charges").await;
    reply.assert_problem(StatusCode::FORBIDDEN, "not-granted");
    assert_eq!(setup.sent(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_s_grants_are_listed_and_a_manager_grants_within_its_own() {
    let setup = Setup::start().await;
    let env = &setup.env;
    let cred = setup.credential.as_str();
    let manager = setup.user("team-lead").await;
    let member = setup.user("team-member").await;
    let (manager_p, member_p) = (format!("key:{}", manager.id), format!("key:{}", member.id));

    // The admin gives the manager `manage`, within GET /v1/* and 10 uses.
    let managed = env
        .vault(&[
            "grants",
            "add",
            cred,
            "--principal",
            &manager_p,
            "--permission",
            "manage",
            "--method",
            "GET",
            "--path",
            "/v1/*",
            "--total",
            "10",
        ])
        .ok()
        .stdout
        .trim()
        .to_owned();
    // A group grant too, with --json: the whole grant on stdout.
    let group = env
        .vault(&[
            "grants",
            "add",
            cred,
            "--json",
            "--principal",
            "group:payments",
        ])
        .ok()
        .json();
    assert_eq!(group["principal"], "group:payments");
    assert_eq!(group["methods"], json!([]));
    assert_eq!(group["budget"], Value::Null);

    // The manager may grant `use` within its own grant, and nothing beyond it.
    let as_manager = |extra: &[&str]| {
        let mut argv = vec!["grants", "add", cred];
        argv.extend_from_slice(extra);
        setup.vault_as(&manager, &argv)
    };
    for (extra, field) in [
        (vec!["--method", "POST", "--total", "5"], "methods"),
        (vec!["--method", "GET", "--path", "/v1/*"], "budget"),
        (
            vec!["--permission", "manage", "--method", "GET", "--total", "5"],
            "permission",
        ),
    ] {
        let mut argv = vec!["--principal", member_p.as_str()];
        argv.extend_from_slice(&extra);
        refused(as_manager(&argv), 422, "invalid-field", Some(field));
    }
    refused(
        as_manager(&["--principal", &manager_p, "--method", "GET", "--total", "1"]),
        422,
        "invalid-field",
        Some("principal"),
    );
    let delegated = as_manager(&[
        "--principal",
        &member_p,
        "--method",
        "GET",
        "--path",
        "/v1/charges*",
        "--total",
        "5",
    ])
    .ok()
    .stdout
    .trim()
    .to_owned();
    let reply = setup.use_as(&member, "GET", "/v1/charges/ch_9").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // The manager lists the credential's grants through its manage grant.
    let seen = setup
        .vault_as(&manager, &["grants", "list", cred, "--json"])
        .ok()
        .json();
    assert!(ids(&seen).contains(&delegated.as_str()), "{seen}");

    // --principal: each principal's own, of every credential.
    let of = |principal: &str| {
        env.vault(&["grants", "list", "--principal", principal, "--json"])
            .ok()
            .json()
    };
    assert_eq!(ids(&of(&manager_p)), [managed.as_str()]);
    assert_eq!(ids(&of(&member_p)), [delegated.as_str()]);
    assert_eq!(ids(&of("group:payments")), [group.id().as_str()]);
    assert_eq!(of("subject:nobody")["items"], json!([]));
    let table = env
        .vault(&["grants", "list", "--principal", &member_p])
        .ok()
        .stdout;
    let rows = rows_with(&table, &delegated);
    assert_eq!(rows.len(), 1, "{table}");
    assert!(
        rows[0].contains(cred) && rows[0].contains("5 total"),
        "{table}"
    );
    // Another's grants need credentials:read; a bad principal is named.
    let run = setup.vault_as(&member, &["grants", "list", "--principal", &manager_p]);
    assert!(run.failed(3).stderr.contains("HTTP 403"));
    refused(
        env.vault(&["grants", "list", "--principal", "nobody"]),
        422,
        "invalid-field",
        Some("principal"),
    );

    // The manager revokes the `use` grant it made; not the admin's `manage` one.
    setup
        .vault_as(&manager, &["grants", "revoke", cred, &delegated])
        .ok();
    setup
        .use_as(&member, "GET", "/v1/charges/ch_9")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "not-granted");
    let run = setup.vault_as(&manager, &["grants", "revoke", cred, &managed]);
    assert!(run.failed(3).stderr.contains("HTTP 403"));
    assert_eq!(ids(&of(&manager_p)), [managed.as_str()]);
}
