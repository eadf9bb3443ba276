//! `vault webhooks ...` against the real server: create prints the `whsec_` signing secret
//! once, alone on stdout, and no other command (nor the server's output) ever shows it;
//! update changes what was given; rotate-secret prints a new secret; a new subscription has
//! no deliveries; the server's refusals (404, 403, 422) are shown as the other commands
//! show them, with exit code 3. The subscribed URLs are never called: no event happens.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Env, Run};
use crate::helpers::Id;

/// Events no test here makes happen, so that no delivery is made.
const QUIET: [&str; 2] = ["credential.use_failed", "oauth.reconnected"];

/// A secret as create and rotate-secret print it: one line, `whsec_` and the base64 of
/// 32 bytes; the warning on stderr, without it.
#[track_caller]
fn secret_of(run: &Run) -> String {
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let secret = run.stdout.trim().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() == "whsec_".len() + 44,
        "{secret}"
    );
    assert!(run.stderr.contains("shown this once"), "{}", run.stderr);
    assert!(!run.stderr.contains(&secret), "{}", run.stderr);
    secret
}

/// A refusal of the server as the client shows it: exit code 3, the problem code and
/// status on stderr; nothing on stdout.
#[track_caller]
fn refused(run: Run, status: u16, code: &str) -> Run {
    let run = run.failed(3);
    let status = format!("HTTP {status}");
    assert!(
        run.stderr.contains(code) && run.stderr.contains(&status),
        "{code} {status} missing: {}",
        run.stderr
    );
    assert!(run.stderr.contains("request id: "), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    run
}

/// The data lines of a table (its header dropped).
fn rows(table: &str) -> Vec<&str> {
    table.lines().skip(1).collect()
}

#[tokio::test]
async fn a_webhook_is_made_changed_and_deleted_and_its_secret_is_shown_once() {
    let env = Env::start(false);
    env.login();

    // create: the secret alone on stdout, the subscription's details on stderr.
    let run = env
        .vault(&[
            "webhooks",
            "create",
            "--url",
            "https://hooks.example.com/vault",
            "--event",
            QUIET[0],
            "--event",
            QUIET[1],
            "--days-ahead",
            "14",
            "--description",
            "on-call pager",
        ])
        .ok();
    let first = secret_of(&run);
    let listed = env.get("/webhooks").await.json();
    let made = listed["items"][0].clone();
    let id = made.id();
    assert!(run.stderr.contains(&id), "{}", run.stderr);
    assert_eq!(
        made["events"],
        json!(["credential.use_failed", "oauth.reconnected"])
    );
    assert_eq!(made["daysAhead"], json!([14]));
    assert_eq!(made["enabled"], true);

    // show and list: the subscription, never its secret.
    let shown = env.vault(&["webhooks", "show", &id]).ok().stdout;
    assert!(
        shown.contains("https://hooks.example.com/vault") && shown.contains("on-call pager"),
        "{shown}"
    );
    let shown = env.vault(&["webhooks", "show", &id, "--json"]).ok().json();
    assert_eq!(shown, made);
    let table = env.vault(&["webhooks", "list"]).ok().stdout;
    let lines = rows(&table);
    assert_eq!(lines.len(), 1, "{table}");
    assert!(
        lines[0].starts_with(&id) && lines[0].contains("enabled"),
        "{table}"
    );
    let page = env.vault(&["webhooks", "list", "--json"]).ok().json();
    assert_eq!(page["items"], json!([made]));

    // update: the events and the description replaced; the rest kept.
    let run = env
        .vault(&[
            "webhooks",
            "update",
            &id,
            "--event",
            "credential.expiring",
            "--event",
            "key.rotated",
            "--description",
            "the platform team",
        ])
        .ok();
    assert!(run.stdout.contains("the platform team"), "{}", run.stdout);
    let changed = env.get(&format!("/webhooks/{id}")).await.json();
    assert_eq!(
        changed["events"],
        json!(["credential.expiring", "key.rotated"])
    );
    assert_eq!(changed["description"], "the platform team");
    assert_eq!(changed["daysAhead"], json!([14]));
    assert_eq!(changed["url"], made["url"]);
    // Then back to events no test makes, without a description, disabled.
    let run = env
        .vault(&[
            "webhooks",
            "update",
            &id,
            "--json",
            "--event",
            QUIET[0],
            "--no-description",
            "--disable",
        ])
        .ok();
    let changed = run.json();
    assert_eq!(changed["events"], json!([QUIET[0]]));
    assert_eq!(changed["description"], Value::Null);
    assert_eq!(changed["enabled"], false);
    assert!(
        rows(&env.vault(&["webhooks", "list"]).ok().stdout)[0].contains("disabled"),
        "disabled in the list"
    );
    // Nothing to change, or both --enable and --disable: usage errors, nothing sent.
    env.vault(&["webhooks", "update", &id]).failed(2);
    env.vault(&["webhooks", "update", &id, "--enable", "--disable"])
        .failed(2);
    env.vault(&[
        "webhooks",
        "create",
        "--url",
        "https://a.example",
        "--event",
        "nope",
    ])
    .failed(2);

    // rotate-secret: a new secret, once.
    let second = secret_of(&env.vault(&["webhooks", "rotate-secret", &id]).ok());
    assert_ne!(first, second);

    // deliveries: none yet, so a table of its header alone; the JSON page is empty.
    let run = env.vault(&["webhooks", "deliveries", &id]).ok();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(
        run.stdout.starts_with("ID")
            && run.stdout.contains("EVENT")
            && run.stdout.contains("STATUS"),
        "{}",
        run.stdout
    );
    let page = env
        .vault(&["webhooks", "deliveries", &id, "--json", "--limit", "5"])
        .ok()
        .json();
    assert_eq!(page["items"], json!([]));
    assert_eq!(page["nextCursor"], Value::Null);
    let all = env
        .vault(&["webhooks", "deliveries", &id, "--all", "--json"])
        .ok()
        .json();
    assert_eq!(all["items"], json!([]));

    // replay of a delivery that does not exist: the server's 404.
    let missing = uuid::Uuid::now_v7().to_string();
    let run = refused(
        env.vault(&["webhooks", "replay", &id, &missing]),
        404,
        "not-found",
    );
    assert!(run.stderr.contains("No such resource"), "{}", run.stderr);

    // create --json: the whole answer, secret included (for scripts), the warning still
    // on stderr.
    let run = env
        .vault(&[
            "webhooks",
            "create",
            "--json",
            "--url",
            "https://hooks.example.com/other",
            "--event",
            QUIET[1],
            "--disabled",
        ])
        .ok();
    let other = run.json();
    let third = other["secret"].as_str().expect("secret").to_owned();
    assert!(third.starts_with("whsec_"), "{other}");
    assert_eq!(other["enabled"], false);
    assert!(run.stderr.contains("shown this once"), "{}", run.stderr);

    // delete: gone, and show says so.
    let run = env.vault(&["webhooks", "delete", &id]).ok();
    assert!(run.stderr.contains(&id), "{}", run.stderr);
    assert_eq!(
        env.get(&format!("/webhooks/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    refused(env.vault(&["webhooks", "show", &id]), 404, "not-found");
    refused(env.vault(&["webhooks", "delete", &id]), 404, "not-found");
    let table = env.vault(&["webhooks", "list"]).ok().stdout;
    assert!(!table.contains(&id), "{table}");
    assert!(table.contains(&other.id()), "{table}");

    // No secret anywhere but on stdout of the run that made it: not in any argv, nor in
    // any other output of the client, nor in the server's.
    let secrets = [first, second, third];
    let runs = env.runs.lock().expect("lock").clone();
    for secret in &secrets {
        let mut shown = 0;
        for run in &runs {
            assert!(
                !run.argv.join(" ").contains(secret.as_str()),
                "{:?}",
                run.argv
            );
            assert!(!run.stderr.contains(secret.as_str()), "{}", run.stderr);
            if run.stdout.contains(secret.as_str()) {
                shown += 1;
            }
        }
        assert_eq!(shown, 1, "{secret} shown {shown} times");
    }
    let (out, err) = env.app.stop();
    for secret in &secrets {
        assert!(!out.contains(secret.as_str()) && !err.contains(secret.as_str()));
    }
}

#[tokio::test]
async fn the_servers_refusals_are_shown_with_their_code() {
    let env = Env::start(false);
    env.login();

    // A key without webhooks:manage: 403, naming the scope, for reads and changes alike.
    let reader = env
        .app
        .api
        .access_key(&env.admin, "reader", &["credentials:read"])
        .await;
    let as_reader = |args: &[&str]| {
        env.vault_with(
            args,
            "",
            &[("VAULT_CLI_ACCESS_KEY", reader.secret.as_str())],
        )
    };
    for argv in [
        vec!["webhooks", "list"],
        vec![
            "webhooks",
            "create",
            "--url",
            "https://hooks.example.com/vault",
            "--event",
            QUIET[0],
        ],
    ] {
        let run = refused(as_reader(&argv), 403, "insufficient-scope");
        assert!(run.stderr.contains("webhooks:manage"), "{}", run.stderr);
        assert!(run.stderr.contains("lacks the scope"), "{}", run.stderr);
    }
    assert_eq!(env.get("/webhooks").await.json()["items"], json!([]));

    // Values only the server checks: a 422 naming each field.
    let run = refused(
        env.vault(&[
            "webhooks",
            "create",
            "--url",
            "http://hooks.example.com/vault",
            "--event",
            QUIET[0],
            "--days-ahead",
            "400",
        ]),
        422,
        "invalid-field",
    );
    for field in ["url", "daysAhead"] {
        assert!(
            run.stderr.contains(&format!("- {field}: ")),
            "{field} missing: {}",
            run.stderr
        );
    }
    assert_eq!(env.get("/webhooks").await.json()["items"], json!([]));

    // An id that is no subscription: 404 for each command that takes one.
    let missing = uuid::Uuid::now_v7().to_string();
    for argv in [
        vec!["webhooks", "show", &missing],
        vec!["webhooks", "update", &missing, "--enable"],
        vec!["webhooks", "rotate-secret", &missing],
        vec!["webhooks", "deliveries", &missing],
        vec!["webhooks", "replay", &missing, &missing],
        vec!["webhooks", "delete", &missing],
    ] {
        refused(env.vault(&argv), 404, "not-found");
    }
}
