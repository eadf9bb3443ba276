//! `vault audit list|tail|checkpoints` against the real server: the list is the server's,
//! `tail` follows the log as the test writes to it (two followers, one looking often and
//! one seldom, so that it pages back over many new events) and shows every new event once,
//! in chain order; the checkpoints it saves are the server's and `vault-server audit verify
//! --from-checkpoint` accepts them; a key without `audit:read` is refused.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{Env, vault_bin};
use crate::helpers::{Backend, Id, Installation, Server, eventually, new_key};

/// How long a step may take before the test gives up: a guard against a hang (a follower
/// that missed an event would wait for it forever), not a measure of speed.
const GUARD: Duration = Duration::from_secs(60);

/// A server on its own SQLite installation, whose key the test knows (for `vault-server
/// audit verify`), signing a checkpoint every second; the client logged in as the admin.
struct Setup {
    env: Env,
    installation: Installation,
    key: String,
}

impl Setup {
    fn start() -> Self {
        let key = new_key();
        let installation = Installation::new(Backend::Sqlite, &key).expect("SQLite");
        let mut cmd = installation.command(&key);
        cmd.env("VAULT_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1");
        let env = Env::on(&installation, Server::start(cmd));
        env.login();
        Self {
            env,
            installation,
            key,
        }
    }

    /// A credential made through the API (one `credential.create` event); its id.
    async fn create(&self, name: &str) -> String {
        self.env
            .app
            .api
            .create_credential(
                &self.env.admin,
                &json!({"name": name, "type": "bearer_token", "value": "not-a-real-token"}),
            )
            .await
            .id()
    }

    /// Every audit event, newest first, as the server lists them.
    async fn events(&self) -> Vec<Value> {
        self.env
            .app
            .api
            .list_all("/audit-events", &self.env.admin)
            .await
    }
}

fn sequence(event: &Value) -> u64 {
    event["chain"]["sequence"]
        .as_u64()
        .unwrap_or_else(|| panic!("a chained event: {event}"))
}

/// `vault args` running in the background (the environment of [`Env::vault_with`]), its
/// stdout read line by line as it comes. Killed when dropped.
struct Background {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Background {
    fn start(env: &Env, args: &[&str]) -> Self {
        let mut child = Command::new(vault_bin())
            .args(args)
            .current_dir(env.app.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &env.home)
            .env("VAULT_ADDR", "http://127.0.0.1:9")
            .env("VAULT_TOKEN", "hvs.hashicorp-token-must-not-leak")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run vault");
        let (sender, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            sink.lock().expect("lock").push_str(&text);
        });
        Self {
            child,
            lines,
            stderr,
        }
    }

    /// The next line of stdout.
    async fn line(&mut self) -> String {
        match tokio::time::timeout(GUARD, self.lines.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!(
                "vault exited before the line: {}",
                self.stderr.lock().expect("lock")
            ),
            Err(_) => panic!(
                "no line from vault within {GUARD:?}: {}",
                self.stderr.lock().expect("lock")
            ),
        }
    }

    /// The next `count` lines, each a JSON object.
    async fn events(&mut self, count: usize) -> Vec<Value> {
        let mut events = Vec::new();
        for _ in 0..count {
            let line = self.line().await;
            events.push(
                serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not one JSON object a line ({e}): {line}")),
            );
        }
        events
    }

    /// Waits for the exit, which must be a success, and for the end of stdout: nothing
    /// more was printed.
    async fn finished(mut self) {
        let status = eventually(GUARD, "vault exits", async || {
            self.child.try_wait().expect("wait")
        })
        .await;
        let stderr = self.stderr.lock().expect("lock").clone();
        assert!(status.success(), "vault failed: {status}: {stderr}");
        let rest = tokio::time::timeout(GUARD, self.lines.recv())
            .await
            .expect("stdout ends");
        assert_eq!(rest, None, "printed more than --count");
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn list_shows_the_audit_log_and_its_json_is_the_servers() {
    let setup = Setup::start();
    let env = &setup.env;
    let credential = setup.create("Listed").await;

    // --json: exactly the server's page.
    let page = env.get("/audit-events").await.json();
    let events = page["items"].as_array().expect("items").clone();
    let actions: HashSet<&str> = events
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert!(
        actions.contains("access_key.create") && actions.contains("credential.create"),
        "the bootstrap's key and the credential: {page}"
    );
    assert_eq!(env.vault(&["audit", "list", "--json"]).ok().json(), page);

    // The table: a header, and a row per event, newest first, with its fields.
    let table = env.vault(&["audit", "list"]).ok().stdout;
    let mut lines = table.lines();
    let header = lines.next().expect("a header");
    for column in [
        "TIME", "SEQ", "ACTION", "OUTCOME", "REASON", "TARGET", "ACTOR",
    ] {
        assert!(header.contains(column), "{column} missing: {table}");
    }
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), events.len(), "{table}");
    for (row, event) in rows.iter().zip(&events) {
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields[0], event["at"].as_str().expect("at"), "{row}");
        assert_eq!(fields[1], sequence(event).to_string(), "{row}");
        assert_eq!(
            fields[2],
            event["action"].as_str().expect("action"),
            "{row}"
        );
        assert_eq!(fields[3], "success", "{row}");
    }
    let created = rows
        .iter()
        .find(|row| row.contains("credential.create"))
        .expect("the create's row");
    let admin_key = events[0]["actorAccessKeyId"].as_str().expect("an actor");
    assert!(
        created.contains(&format!("credential:{credential}"))
            && created.contains(&format!("key:{admin_key}")),
        "{created}"
    );

    // The filters and paging are the server's.
    let filtered = env
        .vault(&["audit", "list", "--action", "credential.create", "--json"])
        .ok()
        .json();
    assert_eq!(
        filtered,
        env.get("/audit-events?action=credential.create")
            .await
            .json()
    );
    assert_eq!(filtered["items"].as_array().expect("items").len(), 1);
    let about = env
        .vault(&["audit", "list", "--target", &credential, "--json"])
        .ok()
        .json();
    assert_eq!(about["items"][0]["targetId"], credential.as_str());
    let one = env.vault(&["audit", "list", "--limit", "1"]).ok();
    assert_eq!(one.stdout.lines().count(), 2, "{}", one.stdout);
    assert!(one.stderr.contains("--cursor"), "{}", one.stderr);
    let all = env
        .vault(&["audit", "list", "--limit", "1", "--all", "--json"])
        .ok()
        .json();
    assert_eq!(all["items"], json!(events));

    // An unknown action: the server's refusal, naming the field.
    let run = env
        .vault(&["audit", "list", "--action", "credential.steal"])
        .failed(3);
    assert!(
        run.stderr.contains("HTTP 422") && run.stderr.contains("- action: "),
        "{}",
        run.stderr
    );
}

/// Two followers (one looking every 100 ms, one every 3 s, which then finds many new
/// events at once and pages back over them) print the events there were, then every event
/// the test writes while they run: each once, in chain order, none missed. The events are
/// written by concurrent requests, so they are numbered in another order than they are
/// made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_prints_the_newest_events_then_each_new_one_once_in_order() {
    let setup = Setup::start();
    let env = &setup.env;
    setup.create("Before 1").await;
    setup.create("Before 2").await;
    let mut before = setup.events().await;
    before.reverse();
    assert!(before.len() <= 10, "all shown at the start: {before:?}");
    const NEW: usize = 120;
    let count = (before.len() + NEW).to_string();

    let mut often = Background::start(
        env,
        &[
            "audit",
            "tail",
            "--json",
            "--interval-ms",
            "100",
            "--count",
            &count,
        ],
    );
    let mut seldom = Background::start(
        env,
        &[
            "audit",
            "tail",
            "--json",
            "--interval-ms",
            "3000",
            "--count",
            &count,
        ],
    );
    // First the events there were, oldest first, as the server has them.
    assert_eq!(often.events(before.len()).await, before);
    assert_eq!(seldom.events(before.len()).await, before);

    // Then those written while they run, by 8 concurrent writers.
    let setup = &setup;
    let writers = (0..8).map(|writer| async move {
        let mut ids = Vec::new();
        for n in 0..NEW / 8 {
            ids.push(setup.create(&format!("During {writer}-{n}")).await);
        }
        ids
    });
    let created: HashSet<String> = futures::future::join_all(writers)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(created.len(), NEW);

    let last = sequence(before.last().expect("events"));
    let expected: Vec<u64> = (last + 1..=last + NEW as u64).collect();
    let server: Vec<Value> = {
        let mut all = setup.events().await;
        all.reverse();
        all.split_off(before.len())
    };
    for follower in [&mut often, &mut seldom] {
        let events = follower.events(NEW).await;
        let numbers: Vec<u64> = events.iter().map(sequence).collect();
        assert_eq!(numbers, expected, "every new event once, in chain order");
        let targets: HashSet<String> = events
            .iter()
            .map(|e| {
                assert_eq!(e["action"], "credential.create", "{e}");
                e["targetId"].as_str().expect("a target").to_owned()
            })
            .collect();
        assert_eq!(targets, created);
        // Each line is the server's event, whole.
        let mut by_number = server.clone();
        by_number.sort_by_key(sequence);
        assert_eq!(events, by_number);
    }
    often.finished().await;
    seldom.finished().await;

    // Without --json: a line per event, oldest first, with the list's columns.
    let newest = setup.events().await;
    let run = env
        .vault(&["audit", "tail", "-n", "2", "--count", "2"])
        .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    for (line, event) in lines.iter().zip([&newest[1], &newest[0]]) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[1], sequence(event).to_string(), "{line}");
        assert_eq!(fields[2], "credential.create", "{line}");
        let target = format!("credential:{}", event["targetId"].as_str().expect("id"));
        assert!(line.contains(&target), "{line}");
    }

    // The interval is bounded.
    let run = env
        .vault(&["audit", "tail", "--interval-ms", "10"])
        .failed(2);
    assert!(run.stderr.contains("--interval-ms"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_saved_as_the_server_publishes_them_and_verify_against_the_chain() {
    let setup = Setup::start();
    let env = &setup.env;
    setup.create("Checkpointed").await;
    let events = setup.events().await;
    let head = sequence(&events[0]);
    let organization = events[0]["organizationId"]
        .as_str()
        .expect("an organization")
        .to_owned();
    // The server signs its head by itself, within a second or so.
    let published = eventually(GUARD, "a checkpoint of the head", async || {
        let page = env.get("/audit-events/checkpoints").await.json();
        (page["items"][0]["sequence"].as_u64() == Some(head)).then_some(page)
    })
    .await;

    // Beside the database, which outlives the server (and the client's directory).
    let file = setup.installation.dir.path().join("checkpoints.json");
    let path = file.to_str().expect("a path");
    let run = env.vault(&["audit", "checkpoints", "--out", path]).ok();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains(path), "{}", run.stderr);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("saved")).expect("JSON");
    let now = env
        .app
        .api
        .list_all("/audit-events/checkpoints", &env.admin)
        .await;
    assert_eq!(saved["algorithm"], "Ed25519");
    assert_eq!(saved["keyId"], published["keyId"]);
    assert_eq!(saved["publicKey"], published["publicKey"]);
    assert!(saved["publicKey"].is_string(), "{saved}");
    assert_eq!(saved["nextCursor"], Value::Null);
    // Every checkpoint the server had, none of its own (the server may sign more between
    // the reads: not here, no event is written, but the check does not depend on it).
    let items = saved["items"].as_array().expect("items");
    for checkpoint in published["items"].as_array().expect("items") {
        assert!(items.contains(checkpoint), "{checkpoint} missing");
    }
    for checkpoint in items {
        assert!(now.contains(checkpoint), "{checkpoint} is not the server's");
    }
    // Without --out: the same document on stdout.
    let printed = env.vault(&["audit", "checkpoints"]).ok().json();
    assert_eq!(printed["publicKey"], saved["publicKey"]);
    assert!(printed["items"].as_array().expect("items").len() >= items.len());

    // The operator's check accepts the copy; a forged one is refused.
    let forged = {
        let mut forged = saved.clone();
        forged["items"][0]["sequence"] = json!(head + 5);
        let forged_file = setup.installation.dir.path().join("forged.json");
        std::fs::write(&forged_file, forged.to_string()).expect("written");
        forged_file
    };
    let Setup {
        env,
        installation,
        key,
    } = setup;
    env.app.stop();
    let verify = |file: &std::path::Path| {
        let mut cmd = installation.command(&key);
        cmd.args(["audit", "verify", "--from-checkpoint"]).arg(file);
        let out = cmd.output().expect("run vault-server audit verify");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = verify(&file);
    assert!(ok, "the saved checkpoints do not verify: {out}{err}");
    assert!(
        out.contains(&format!("ok      organization {organization}")),
        "{out}"
    );
    let (ok, out, err) = verify(&forged);
    assert!(!ok, "a forged checkpoint verified: {out}{err}");
    assert!(err.contains("does not verify"), "{out}{err}");
}

#[tokio::test]
async fn a_key_without_audit_read_is_refused() {
    let setup = Setup::start();
    let env = &setup.env;
    let reader = env
        .app
        .api
        .access_key(&env.admin, "reader", &["credentials:read"])
        .await;
    let file = env.app.dir.path().join("refused.json");
    let path = file.to_str().expect("a path");
    for args in [
        vec!["audit", "list"],
        vec!["audit", "tail", "--count", "1"],
        vec!["audit", "checkpoints", "--out", path],
    ] {
        let run = env
            .vault_with(
                &args,
                "",
                &[("VAULT_CLI_ACCESS_KEY", reader.secret.as_str())],
            )
            .failed(3);
        for part in ["insufficient-scope", "HTTP 403", "lacks the scope"] {
            assert!(run.stderr.contains(part), "{args:?}: {}", run.stderr);
        }
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(!run.stderr.contains(&reader.secret));
    }
    assert!(!file.exists(), "nothing is written when refused");
}
