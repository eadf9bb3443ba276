//! Moving an installation onto another key manager with `vault-server keys migrate`:
//! `static` → `transit` on PostgreSQL under load on two replicas (then the old static key
//! alone opens nothing), `transit` → `awskms` (then OpenBao gone entirely), and a migration
//! killed part way and run again.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Lifecycle, OnManager, REFRESH_MS, awskms, refused_within, transit};
use crate::helpers::key_managers::{MotoServer, OpenBaoDev};
use crate::helpers::postgres::{TestDatabase, psql};
use crate::helpers::server::replica;
use crate::helpers::upstream::{Upstream, start_upstream};
use crate::helpers::{Api, Id, Server, key_id, new_key, run_ok, stdout_of};

/// The transit key manager's settings (the root token: what the vault may do with a
/// token of its own is transit.rs's concern).
fn transit_settings(bao: &OpenBaoDev) -> Vec<(&'static str, &str)> {
    vec![
        ("VAULT_KEY_MANAGER", "transit"),
        ("VAULT_TRANSIT_ADDRESS", bao.addr()),
        ("VAULT_TRANSIT_KEY", transit::KEY),
        ("VAULT_TRANSIT_TOKEN", bao.root_token()),
        ("VAULT_KEYRING_REFRESH_INTERVAL_MS", REFRESH_MS),
    ]
}

/// A credential and the secret it was last given.
#[derive(Clone, Debug)]
struct Live {
    id: String,
    secret: String,
}

fn secret() -> String {
    format!("sk_{}", uuid::Uuid::new_v4().simple())
}

/// Uses `credentials` through `api` to the echo upstream: each must send its last secret.
async fn all_open(api: &Api, token: &str, upstream: &Upstream, credentials: &[Live]) {
    let echo = json!({"method": "GET", "url": upstream.url("/echo")});
    for chunk in credentials.chunks(16) {
        let uses = chunk.iter().map(|live| {
            let echo = echo.clone();
            async move { (live, api.proxy(&live.id, token, &echo).await) }
        });
        for (live, reply) in futures::future::join_all(uses).await {
            assert_eq!(reply.status, StatusCode::OK, "{}: {}", live.id, reply.body);
            assert_eq!(
                reply.json()["authorization"],
                json!(format!("Bearer {}", live.secret)),
                "{} sent its last secret through {}",
                live.id,
                api.base
            );
        }
    }
}

/// What the load saw: every answer counted, 5xx apart, and anything else unexpected.
#[derive(Default)]
struct Tally {
    answered: AtomicUsize,
    server_errors: AtomicUsize,
    problems: Mutex<Vec<String>>,
}

impl Tally {
    /// Counts one request; `Some(reply)` when it got the `expected` status.
    fn check(
        &self,
        what: &str,
        expected: StatusCode,
        reply: reqwest::Result<crate::helpers::Reply>,
    ) -> Option<crate::helpers::Reply> {
        let problem = match reply {
            Ok(reply) => {
                self.answered.fetch_add(1, Ordering::SeqCst);
                if reply.status.is_server_error() {
                    self.server_errors.fetch_add(1, Ordering::SeqCst);
                }
                if reply.status == expected {
                    return Some(reply);
                }
                format!("{what}: {} {}", reply.status, reply.body)
            }
            Err(error) => format!("{what}: no answer: {error}"),
        };
        self.problems.lock().expect("lock").push(problem);
        None
    }
}

/// One client of the load, on one replica (so its own writes are what it reads back, with
/// no cache between replicas to wait for): creates (up to 40 of its own), updates, uses
/// and reads its credentials until `stop`, 1000 requests at most. Returns them, each with
/// its last secret.
async fn client(
    api: Api,
    token: String,
    origin: String,
    mut own: Vec<Live>,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    worker: usize,
) -> Vec<Live> {
    let echo = json!({"method": "GET", "url": format!("{origin}/echo")});
    let mut rng = fastrand::Rng::with_seed(worker as u64);
    for n in 0..1000 {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let pick = rng.usize(0..own.len());
        let path = format!("/credentials/{}", own[pick].id);
        match n % 4 {
            0 if own.len() < 40 => {
                let value = secret();
                let body = json!({"name": format!("load-{worker}-{n}"), "type": "bearer_token",
                                  "value": value, "allowedHosts": [origin]});
                let reply = api
                    .try_call(Method::POST, "/credentials", &token, Some(&body))
                    .await;
                if let Some(created) = tally.check("create", StatusCode::CREATED, reply) {
                    own.push(Live {
                        id: created.json().id(),
                        secret: value,
                    });
                }
            }
            0 | 1 => {
                let value = secret();
                let body = json!({"value": value});
                let reply = api
                    .try_call(Method::PATCH, &path, &token, Some(&body))
                    .await;
                if tally.check("update", StatusCode::OK, reply).is_some() {
                    own[pick].secret = value;
                }
            }
            2 => {
                let reply = api
                    .try_call(Method::POST, &format!("{path}/proxy"), &token, Some(&echo))
                    .await;
                if let Some(seen) = tally.check("use", StatusCode::OK, reply)
                    && seen.json()["authorization"] != json!(format!("Bearer {}", own[pick].secret))
                {
                    let problem = format!(
                        "use of {}: not its last secret: {}",
                        own[pick].id, seen.body
                    );
                    tally.problems.lock().expect("lock").push(problem);
                }
            }
            _ => {
                let reply = api.try_call(Method::GET, &path, &token, None).await;
                tally.check("read", StatusCode::OK, reply);
            }
        }
    }
    own
}

/// One number from psql.
fn count(url: &str, sql: &str) -> i64 {
    stdout_of(psql(url, sql), sql).parse().expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_to_transit_under_load_on_two_replicas() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let Some(bao) = transit::transit().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let k = new_key();
    let on_static = [("VAULT_KEYRING_REFRESH_INTERVAL_MS", REFRESH_MS)];
    let on_transit = transit_settings(&bao);
    let vault = |settings: &[(&str, &str)], args: &[&str]| {
        let mut cmd = replica(dir.path(), &db.url, &k, settings);
        cmd.args(args);
        cmd
    };
    run_ok(vault(&on_static, &["migrate"]));
    let token = run_ok(vault(&on_static, &["bootstrap", "--org", "acme"]));
    let upstream = start_upstream().await;

    // Replica A on the static key: 50 credentials, two versions each.
    let a = Server::start(vault(&on_static, &[]));
    let on_a = Api::new(&a.base);
    let mut before = Vec::new();
    for i in 0..50 {
        let created = on_a
            .create_credential(
                &token,
                &json!({"name": format!("c-{i}"), "type": "bearer_token", "value": secret(),
                        "allowedHosts": [upstream.origin()]}),
            )
            .await;
        let value = secret();
        let id = created.id();
        let updated = on_a
            .update_credential(&id, &token, &json!({"value": value}))
            .await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
        assert_eq!(updated.json()["revision"], json!(2));
        before.push(Live { id, secret: value });
    }

    // Replica B on Transit, ENCRYPTION_KEY still given: it creates the keyring and hands it
    // over under the static key, which A follows.
    let b = Server::start(vault(&on_transit, &[]));
    let on_b = Api::new(&b.base);

    // Load on both replicas for the whole migration: two clients on each, each with its
    // share of the credentials made before.
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let clients: Vec<_> = (0..4)
        .map(|worker| {
            let api = if worker % 2 == 0 {
                on_a.clone()
            } else {
                on_b.clone()
            };
            let own = before.iter().skip(worker).step_by(4).cloned().collect();
            tokio::spawn(client(
                api,
                token.clone(),
                upstream.origin(),
                own,
                stop.clone(),
                tally.clone(),
                worker,
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let at_start = tally.answered.load(Ordering::SeqCst);
    let mut migrate = vault(&on_transit, &["keys", "migrate", "--batch", "10"]);
    let migrated = tokio::task::spawn_blocking(move || {
        stdout_of(migrate.output().expect("run vault-server"), "keys migrate")
    })
    .await
    .expect("keys migrate ran");
    let during = tally.answered.load(Ordering::SeqCst) - at_start;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut credentials = Vec::new();
    for client in clients {
        credentials.extend(client.await.expect("a load client"));
    }

    let k_id = key_id(&k);
    assert!(
        migrated.starts_with("migrated: the keyring is wrapped by transit"),
        "{migrated}"
    );
    assert!(
        migrated.contains(&format!(
            "ENCRYPTION_KEY and ENCRYPTION_KEYS_PREVIOUS ({k_id}) no longer open anything"
        )),
        "{migrated}"
    );
    let current = migrated
        .split("under its current key ")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .expect("the current key")
        .to_owned();
    let problems = tally.problems.lock().expect("lock").clone();
    assert_eq!(
        tally.server_errors.load(Ordering::SeqCst),
        0,
        "no 5xx: {problems:#?}"
    );
    assert!(
        problems.is_empty(),
        "every request of the load succeeded: {problems:#?}"
    );
    assert!(during > 0, "the load ran during the migration");
    eprintln!(
        "load: {} requests answered, {during} of them while `keys migrate` ran; {} credentials",
        tally.answered.load(Ordering::SeqCst),
        credentials.len()
    );
    assert!(
        credentials.len() > before.len(),
        "the load created credentials"
    );

    // Every credential, from before or during, sends its last secret through both replicas
    // (past the second a replica may cache another's write).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    all_open(&on_a, &token, &upstream, &credentials).await;
    all_open(&on_b, &token, &upstream, &credentials).await;
    let (_, log) = a.stop();
    assert!(
        log.contains("loaded a changed keyring"),
        "A followed through the hand-over: {log}"
    );
    let a = Server::start(vault(&on_transit, &[]));
    all_open(&Api::new(&a.base), &token, &upstream, &credentials).await;

    // The old static key alone opens nothing. (i) It cannot start a server.
    let refused = refused_within(vault(&[("VAULT_KEY_MANAGER", "static")], &["serve"]));
    assert!(
        refused.contains("wrapped by the transit key manager"),
        "{refused}"
    );
    // (ii) `keys status`: every row under the keyring's current key, none under K.
    let status = run_ok(vault(&on_transit, &["keys", "status"]));
    assert!(
        status.contains("every sealed row is under the current key"),
        "{status}"
    );
    for line in status.lines().filter(|l| l.starts_with(&k_id)) {
        assert!(
            line.split_whitespace().skip(1).all(|n| n == "0"),
            "{status}"
        );
    }
    // (iii) The database itself: no row under K, every row under the current key, no
    // hand-over left, and the migration audited.
    for table in [
        "credentials",
        "credential_versions",
        "vault_meta",
        "oauth_connections",
    ] {
        let sql = format!("SELECT count(*) FROM {table} WHERE key_id = '{k_id}'");
        assert_eq!(count(&db.url, &sql), 0, "{sql}");
        let sql = format!("SELECT count(*) FROM {table} WHERE key_id <> '{current}'");
        assert_eq!(count(&db.url, &sql), 0, "{sql}");
    }
    let rows = count(&db.url, "SELECT count(*) FROM credentials");
    assert_eq!(rows, credentials.len() as i64);
    let sql = "SELECT count(*) FROM keyring WHERE handover IS NULL AND manager = 'transit'";
    assert_eq!(count(&db.url, sql), 1, "{sql}");
    let audited = |action: &str| {
        count(
            &db.url,
            &format!(
                "SELECT count(*) FROM audit_events \
                 WHERE action = '{action}' AND organization_id IS NULL"
            ),
        )
    };
    assert_eq!(audited("keyring.rotate"), 1, "the keyring's creation");
    assert_eq!(audited("keyring.migrate"), 1);

    // Run again: nothing left to do, and it says so.
    let again = run_ok(vault(&on_transit, &["keys", "migrate"]));
    assert!(
        again.contains("migrated:") && again.contains("(0 moved now)"),
        "{again}"
    );
    assert_eq!(audited("keyring.migrate"), 2);
    all_open(&on_b, &token, &upstream, &credentials).await;
    a.stop();
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transit_to_awskms_then_openbao_gone() {
    let Some(bao) = transit::transit().await else {
        return;
    };
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let (kms_key, arn) = awskms::create_key(&moto);
    let mut lifecycle = Lifecycle::bootstrap(OnManager::new(&transit_settings(&bao))).await;
    let server = lifecycle.on.start();
    lifecycle.create(&server, 5).await;

    // AWS KMS configured, Transit's settings still given to unwrap the keyring once; a
    // server still on Transit keeps running through it.
    for (name, value) in awskms::settings(&moto, &kms_key) {
        lifecycle.on.set(&name, &value);
    }
    let (migrated, stderr) = lifecycle.on.run(&["keys", "migrate"]);
    assert!(
        stderr.contains("wrapped the keyring again with AWS KMS key")
            && migrated.starts_with("migrated: the keyring is wrapped by AWS KMS key"),
        "{migrated}\n{stderr}"
    );
    assert!(
        !migrated.contains("no longer open anything"),
        "no static key here: {migrated}"
    );
    lifecycle.use_all(&server).await;
    lifecycle.create(&server, 1).await;
    server.stop();

    // OpenBao gone, and only AWS KMS's settings: the vault serves and everything opens.
    drop(bao);
    lifecycle.on.settings = awskms::settings(&moto, &kms_key);
    lifecycle
        .on
        .set("VAULT_KEYRING_REFRESH_INTERVAL_MS", REFRESH_MS);
    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    lifecycle.create(&server, 1).await;
    lifecycle.use_all(&server).await;
    server.stop();
    let status = lifecycle.status();
    assert!(
        status.contains(&format!("wrapped by {arn}"))
            && status.contains("every sealed row is under the current key"),
        "{status}"
    );
}

/// `keys migrate --batch 1` killed as soon as it has moved rows, then run again: it
/// completes, and everything opens, then without the static key at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_killed_part_way_completes_when_run_again() {
    let Some(bao) = transit::transit().await else {
        return;
    };
    let k = new_key();
    let on = OnManager::new(&[("VAULT_KEY_MANAGER", "static"), ("ENCRYPTION_KEY", &k)]);
    let mut lifecycle = Lifecycle::bootstrap(on).await;
    let server = lifecycle.on.start();
    lifecycle.create(&server, 120).await;
    server.stop();

    for (name, value) in transit_settings(&bao) {
        lifecycle.on.set(name, value);
    }
    // The first start on Transit creates the keyring: every row is under an old key now.
    let server = lifecycle.on.start();
    let api = Api::new(&server.base);
    let status: Value = api.admin_keys(&lifecycle.token).await;
    let under_old = status["rowsUnderOldKeys"].as_u64().expect("count");
    assert_eq!(
        under_old,
        2 * 120,
        "credentials and their first versions: {status}"
    );

    let mut slow = lifecycle.on.command();
    slow.args(["keys", "migrate", "--batch", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = slow.spawn().expect("keys migrate starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = api.admin_keys(&lifecycle.token).await;
        if status["rowsUnderOldKeys"].as_u64().expect("count") < under_old {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
            break;
        }
        assert!(
            child.try_wait().expect("poll").is_none() && Instant::now() < deadline,
            "keys migrate ended before any progress was seen"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let left = api.admin_keys(&lifecycle.token).await["rowsUnderOldKeys"]
        .as_u64()
        .expect("count");
    assert!(
        left > 0 && left < under_old,
        "killed part way: {left} of {under_old} left"
    );
    lifecycle.use_all(&server).await;

    let (migrated, _) = lifecycle.on.run(&["keys", "migrate", "--batch", "25"]);
    let moved: u64 = migrated
        .split(" moved now)")
        .next()
        .and_then(|head| head.rsplit('(').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count of rows moved: {migrated}"));
    // The organization's rows left, and maybe the installation's own (not in /admin/keys).
    assert!(moved >= left, "{migrated}");
    assert!(migrated.contains(&key_id(&k)), "{migrated}");
    assert_eq!(
        api.admin_keys(&lifecycle.token).await["rowsUnderOldKeys"],
        0
    );
    lifecycle.use_all(&server).await;
    server.stop();

    // ENCRYPTION_KEY removed: nothing needs it any more.
    lifecycle
        .on
        .settings
        .retain(|(name, _)| name != "ENCRYPTION_KEY");
    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    server.stop();
    let status = lifecycle.status();
    assert!(
        status.contains("every sealed row is under the current key"),
        "{status}"
    );
}
