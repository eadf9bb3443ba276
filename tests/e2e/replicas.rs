//! Several `vault-server` replicas on one PostgreSQL database: what one writes the other
//! reads, concurrent writes through both never tear a credential or lose a version, and no
//! table holds a secret in plaintext.

use std::path::Path;

use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::json;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::{CredentialId, Principal, SystemClock, Vault};
use vault_store_postgres::{PgOptions, PgStore};

use crate::helpers::postgres::{TestDatabase, psql};
use crate::helpers::{Api, Id, Reply, Server, canary, command, new_key, run_ok};

fn replica(dir: &Path, database: &str, key: &str) -> std::process::Command {
    let mut cmd = command(dir);
    cmd.env("DATABASE_URL", database).env("ENCRYPTION_KEY", key);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_database_without_torn_or_lost_writes() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let key = new_key();

    // Migrations are a deploy step on PostgreSQL; a replica refuses an unmigrated schema.
    let refused = replica(dir.path(), &db.url, &key).output().expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("vault-server migrate"));
    let mut migrate = replica(dir.path(), &db.url, &key);
    migrate.arg("migrate");
    run_ok(migrate);
    let mut bootstrap = replica(dir.path(), &db.url, &key);
    bootstrap.args(["bootstrap", "--org", "acme"]);
    let token = run_ok(bootstrap);

    let a = Server::start(replica(dir.path(), &db.url, &key));
    let b = Server::start(replica(dir.path(), &db.url, &key));
    let (on_a, on_b) = (Api::new(&a.base), Api::new(&b.base));

    // Created through A; read, updated and deleted through B.
    let first = canary("first");
    let created = on_a
        .create_credential(
            &token,
            &json!({"name": "shared", "type": "bearer_token", "value": first,
                    "description": "start"}),
        )
        .await;
    let id = created.id();
    let path = format!("/credentials/{id}");
    let read = on_b.get(&path, &token).await.json();
    assert_eq!(read, created);
    let renamed = on_b
        .update_credential(&id, &token, &json!({"name": "renamed via B"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    // Another replica's change reaches A's cache by NOTIFY, milliseconds after the commit
    // (and no cached entry is served past a second): what the README promises.
    let seen_by_a = seen_within_a_second(&on_a, &path, &token, |reply| {
        reply.status == StatusCode::OK && reply.json()["name"] == "renamed via B"
    })
    .await;
    assert_eq!(seen_by_a.json()["name"], "renamed via B");
    let deleted = on_b.delete_credential(&id, &token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = seen_within_a_second(&on_a, &path, &token, |reply| {
        reply.status == StatusCode::NOT_FOUND
    })
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    // 2 x 50 concurrent PATCHes of one credential, each writing a matching pair: the
    // description `pair-N` and the secret value `...-pair-N`.
    let created = on_a
        .create_credential(
            &token,
            &json!({"name": "contended", "type": "bearer_token", "value": canary("initial"),
                    "description": "pair-initial"}),
        )
        .await;
    let id = created.id();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let patches = (0..100).map(|i| {
        let api = if i % 2 == 0 {
            on_a.clone()
        } else {
            on_b.clone()
        };
        let (id, token) = (id.clone(), token.clone());
        let body =
            json!({"description": format!("pair-{i}"), "value": format!("CANARY-{run}-pair-{i}")});
        tokio::spawn(async move {
            let path = format!("/credentials/{id}");
            api.try_call(Method::PATCH, &path, &token, Some(&body))
                .await
                .map(|r| r.status)
        })
    });
    let statuses = futures::future::join_all(patches).await;
    let successes = statuses
        .into_iter()
        .filter(|s| matches!(s, Ok(Ok(status)) if *status == StatusCode::OK))
        .count();
    assert!(successes > 0);

    // The last PATCH may have gone through A: B sees it within a second, as promised.
    let expected = Some(1 + successes as i64);
    let after = seen_within_a_second(&on_b, &format!("/credentials/{id}"), &token, |reply| {
        reply.json()["revision"].as_i64() == expected
    })
    .await
    .json();
    assert_eq!(
        after["revision"].as_i64(),
        Some(1 + successes as i64),
        "one version per successful PATCH"
    );

    // Open the stored secret directly: it must be the partner of the stored description.
    let store = PgStore::connect(&db.url, PgOptions::default())
        .await
        .expect("connect");
    let cipher = RingCipher::new(KeyEncryptionKey::parse(&key).expect("key"), Vec::new());
    let vault = Vault::open(store, cipher, SystemClock)
        .await
        .expect("vault");
    let who = vault.authenticate(&token).await.expect("token");
    let (credential, secrets) = vault
        .open_credential(
            &Principal::system(who.organization_id),
            id.parse::<CredentialId>().expect("uuid"),
        )
        .await
        .expect("opens");
    let description = credential
        .description
        .expect("description")
        .as_str()
        .to_owned();
    let Some(value) = secrets.text("value") else {
        panic!("a bearer token's secret is its value")
    };
    let pair = description
        .strip_prefix("pair-")
        .expect("a pair description");
    assert_eq!(
        value.expose_secret(),
        format!("CANARY-{run}-pair-{pair}"),
        "torn write: {description}"
    );

    // No table holds any of those secrets in plaintext (pg_dump shows bytea as hex, so look
    // for both forms).
    let dump = db.dump();
    assert!(
        dump.contains("contended"),
        "positive control: the dump holds the data"
    );
    for needle in [
        first.clone(),
        format!("CANARY-{run}"),
        "CANARY-initial".to_owned(),
    ] {
        let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(
            !dump.contains(&needle) && !dump.contains(&hex),
            "{needle} stored in plaintext"
        );
    }

    // Every write through both replicas, the 100 racing PATCHes (and their refusals)
    // included, is in the organization's one audit chain, numbered by the database with no
    // gap and no repeat, and the chain verifies.
    let mut verify = replica(dir.path(), &db.url, &key);
    verify.args(["audit", "verify"]);
    let verified = run_ok(verify);
    assert!(
        verified.contains(&format!(
            "ok      organization {}: events 1 to",
            who.organization_id
        )),
        "{verified}"
    );

    // A key revoked through A: refused by A at once, and by B within its cache time.
    let issued = on_a
        .create_access_key(
            &token,
            &json!({"name": "short-lived", "scopes": ["credentials:read"]}),
        )
        .await
        .json();
    let key = issued["keySecret"].as_str().expect("key").to_owned();
    for api in [&on_a, &on_b] {
        let ok = api.get("/credentials", &key).await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    let revoked = on_a.revoke_access_key(&issued.id(), &token).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let refused = on_a.get("/credentials", &key).await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "evicted at once where it was revoked"
    );
    // The default auth cache is one second: wait it out (bounded, not a timing assertion).
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let refused = on_b.get("/credentials", &key).await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "refused by the other replica after the cache time"
    );

    a.stop();
    b.stop();
}

#[test]
fn a_replica_refuses_an_unreachable_database_or_a_newer_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = new_key();
    // Nothing listens on port 1: refused at once, with the (password-free) URL named.
    let out = replica(
        dir.path(),
        "postgres://vault:hunter2@127.0.0.1:1/vault",
        &key,
    )
    .output()
    .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot connect to PostgreSQL at postgres://vault:***@127.0.0.1:1/vault"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2") && !stderr.contains("panicked"),
        "{stderr}"
    );

    let Some(db) = TestDatabase::create() else {
        return;
    };
    let mut migrate = replica(dir.path(), &db.url, &key);
    migrate.arg("migrate");
    run_ok(migrate);
    let future = psql(
        &db.url,
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')",
    );
    assert!(future.status.success());
    let out = replica(dir.path(), &db.url, &key).output().expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("newer than this binary") && stderr.contains("29991231000000"),
        "{stderr}"
    );
}

/// Two replicas on one PostgreSQL run log retention under one advisory lock. While
/// something else holds the job (here this test, through the store's own exclusion, as a
/// third replica mid-batch would), both replicas skip their runs and delete nothing; once
/// it lets go, the old entries go, exactly those (the counts the two replicas log add up
/// to them), and recent ones stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_prune_the_logs_one_at_a_time_under_one_advisory_lock() {
    use crate::helpers::retention::{OLD_AUDIT, OLD_REQUESTS, log_ids, pruned_counts, seed};
    use vault_core::store::{JobName, JobStore as _};

    let Some(db) = TestDatabase::create() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let key = new_key();
    let mut migrate = replica(dir.path(), &db.url, &key);
    migrate.arg("migrate");
    run_ok(migrate);
    let store = PgStore::connect(&db.url, PgOptions::default())
        .await
        .expect("the database");
    let seeded = seed(&store).await;

    // Hold the job until told to let go.
    let (entered, is_entered) = tokio::sync::oneshot::channel();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .exclusive(JobName::new("log-retention"), || async move {
                    let _ = entered.send(());
                    let _ = released.await;
                    Ok(())
                })
                .await
        }
    });
    is_entered.await.expect("the job is held");

    let start = || {
        let mut cmd = replica(dir.path(), &db.url, &key);
        cmd.env("VAULT_REQUEST_LOG_RETENTION_DAYS", "1")
            .env("VAULT_AUDIT_RETENTION_DAYS", "1")
            .env("VAULT_LOG_PRUNE_INTERVAL_SECONDS", "1")
            .env("VAULT_LOG_LEVEL", "info,vault_server::retention=debug");
        Server::start(cmd)
    };
    let (a, b) = (start(), start());
    let log = |server: &Server| server.stderr.lock().expect("lock").clone();
    let skipped = "another replica holds the job";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(log(&a).contains(skipped) && log(&b).contains(skipped)) {
        assert!(
            std::time::Instant::now() < deadline,
            "both replicas skip a held job within 30 s:\nA: {}\nB: {}",
            log(&a),
            log(&b)
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (requests, audit) = log_ids(&store, seeded.organization).await;
    assert_eq!(requests.len(), 3, "a replica pruned a held job's entries");
    assert_eq!(audit.len(), 3, "a replica pruned a held job's entries");
    assert_eq!(pruned_counts(&log(&a)), (0, 0));
    assert_eq!(pruned_counts(&log(&b)), (0, 0));

    let _ = release.send(());
    holder.await.expect("joined").expect("no error");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let total = loop {
        let (ra, aa) = pruned_counts(&log(&a));
        let (rb, ab) = pruned_counts(&log(&b));
        let total = (ra + rb, aa + ab);
        if total.0 >= OLD_REQUESTS && total.1 >= OLD_AUDIT {
            break total;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replicas prune the old entries within 30 s once the job is free:\nA: {}\nB: {}",
            log(&a),
            log(&b)
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        total,
        (OLD_REQUESTS, OLD_AUDIT),
        "the replicas pruned other entries than the old ones"
    );
    let (requests, audit) = log_ids(&store, seeded.organization).await;
    assert_eq!(requests, seeded.recent_requests, "the request log");
    assert_eq!(audit, seeded.recent_audit, "the audit log");
    a.stop();
    b.stop();
}

/// `GET path` on `api` until `seen` holds, for at most the cache's bound (a second) plus
/// a margin for a busy machine; the last reply.
async fn seen_within_a_second(
    api: &Api,
    path: &str,
    token: &str,
    seen: impl Fn(&Reply) -> bool,
) -> Reply {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1500);
    loop {
        let reply = api.get(path, token).await;
        if seen(&reply) || std::time::Instant::now() > deadline {
            return reply;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
