//! The tamper-evident audit log through the real binary, on SQLite and PostgreSQL: the
//! server checkpoints its chains by itself and publishes them; the signatures check out
//! under the published key with the message layout the API documents (written out here
//! apart from the vault's code); `vault-server audit verify` passes on an untouched
//! database, and finds a tail cut off (against a copy of the checkpoints kept outside) and
//! a modified row; retention leaves a checkpoint it verifies from.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};
use vault_core::audit_chain::{AuditChain, AuditChainStore, CheckpointKind};

use crate::helpers::postgres::psql;
use crate::helpers::{Backend, Installation, Server, eventually, new_key};

/// A server on `installation` checkpointing every second.
fn start(installation: &Installation, key: &str, settings: &[(&str, &str)]) -> Server {
    let mut cmd = installation.command(key);
    cmd.env("VAULT_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1");
    for (name, value) in settings {
        cmd.env(name, value);
    }
    Server::start(cmd)
}

/// `vault-server audit verify` with `args`: whether it passed, and its stdout and stderr.
fn verify(installation: &Installation, key: &str, args: &[&str]) -> (bool, String, String) {
    let mut cmd = installation.command(key);
    cmd.args(["audit", "verify"]).args(args);
    let out = cmd.output().expect("run vault-server audit verify");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `sql` on the installation's database, behind the vault's back: psql on
/// PostgreSQL, Python's sqlite3 module on an SQLite file (ids there are 16-byte blobs:
/// `X'..'` literals).
fn tamper(backend: Backend, installation: &Installation, sql: &str) {
    match backend {
        Backend::Postgres => {
            let out = psql(&installation.database_url, sql);
            assert!(
                out.status.success(),
                "psql: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Backend::Sqlite => {
            let file = installation
                .database_url
                .strip_prefix("sqlite://")
                .expect("an SQLite URL");
            let script = "import sqlite3, sys\n\
                          db = sqlite3.connect(sys.argv[1])\n\
                          db.executescript(sys.argv[2])\n\
                          db.commit()\n";
            let out = std::process::Command::new("python3")
                .args(["-c", script, file, sql])
                .output()
                .expect("python3");
            assert!(
                out.status.success(),
                "sqlite3: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// An organization id as the backend's SQL writes it.
fn id_literal(backend: Backend, id: &str) -> String {
    match backend {
        Backend::Postgres => format!("'{id}'::uuid"),
        Backend::Sqlite => format!("X'{}'", id.replace('-', "")),
    }
}

/// Checks `checkpoint`'s signature under `public_key` (base64) with the layout the API
/// documents: `vault-audit-checkpoint-v1`, the chain's key (the organization id's 16
/// bytes), the sequence and the time in Unix microseconds (8 bytes big-endian each), the
/// hash and the kind's name.
fn signature_holds(public_key: &str, checkpoint: &Value) -> bool {
    let organization: uuid::Uuid = checkpoint["organizationId"]
        .as_str()
        .expect("an organization")
        .parse()
        .expect("a uuid");
    let at = time::OffsetDateTime::parse(
        checkpoint["at"].as_str().expect("at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("an RFC 3339 time");
    let micros = i64::try_from(at.unix_timestamp_nanos() / 1_000).expect("in range");
    let hash = checkpoint["hash"].as_str().expect("hash");
    let hash: Vec<u8> = (0..hash.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hash[i..i + 2], 16).expect("hex"))
        .collect();
    let mut message = b"vault-audit-checkpoint-v1".to_vec();
    message.extend_from_slice(organization.as_bytes());
    message.extend_from_slice(
        &checkpoint["sequence"]
            .as_u64()
            .expect("a sequence")
            .to_be_bytes(),
    );
    message.extend_from_slice(&micros.to_be_bytes());
    message.extend_from_slice(&hash);
    message.extend_from_slice(checkpoint["kind"].as_str().expect("kind").as_bytes());
    let key = STANDARD.decode(public_key).expect("base64 key");
    let signature = STANDARD
        .decode(checkpoint["signature"].as_str().expect("signature"))
        .expect("base64 signature");
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
        .verify(&message, &signature)
        .is_ok()
}

async fn checkpointed_and_verified(backend: Backend) {
    let key = new_key();
    let Some(installation) = Installation::new(backend, &key) else {
        return;
    };
    let server = start(&installation, &key, &[]);
    let api = crate::helpers::Api::new(&server.base);
    let token = installation.token.clone();
    for i in 0..3 {
        let body = json!({"name": format!("token {i}"), "type": "bearer_token", "value": format!("tok-{i}-abcdefgh")});
        let created = api
            .call(Method::POST, "/credentials", &token, Some(&body))
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    }
    let events = api.get_json("/audit-events?limit=100", &token).await;
    let items = events["items"].as_array().expect("items");
    let head = items
        .iter()
        .map(|e| {
            e["chain"]["sequence"]
                .as_u64()
                .expect("every event is chained")
        })
        .max()
        .expect("events");
    assert!(head >= 4, "bootstrap and three creates: {events}");
    let organization = items[0]["organizationId"]
        .as_str()
        .expect("an org")
        .to_owned();

    // The server checkpoints its head by itself, and publishes it with its key.
    let page = eventually(
        Duration::from_secs(30),
        "a checkpoint of the head",
        async || {
            let page = api.get_json("/audit-events/checkpoints", &token).await;
            let newest = page["items"][0]["sequence"].as_u64();
            (newest == Some(head)).then_some(page)
        },
    )
    .await;
    assert_eq!(page["algorithm"], "Ed25519");
    let public_key = page["publicKey"].as_str().expect("a public key");
    let checkpoint = &page["items"][0];
    assert_eq!(checkpoint["kind"], "periodic");
    assert!(signature_holds(public_key, checkpoint), "{checkpoint}");
    let mut forged = checkpoint.clone();
    forged["sequence"] = json!(head + 1);
    assert!(
        !signature_holds(public_key, &forged),
        "a changed checkpoint verified"
    );
    // Its state, as the API shows it: intact up to the checkpointed head.
    let status = api.get_json("/audit-events/chain", &token).await;
    assert_eq!(status["status"], "intact", "{status}");
    assert_eq!(status["head"]["sequence"], head);
    assert_eq!(status["lastCheckpoint"]["sequence"], head);
    assert_eq!(status["verifiedThrough"], head);
    // A copy kept outside the vault.
    let outside = installation.dir.path().join("checkpoints.json");
    std::fs::write(&outside, page.to_string()).expect("saved");
    let outside = outside.to_str().expect("a path");
    server.stop();

    let (ok, out, err) = verify(&installation, &key, &["--from-checkpoint", outside]);
    assert!(ok, "an untouched database does not verify: {out}{err}");
    assert!(
        out.contains(&format!("ok      organization {organization}")),
        "{out}"
    );

    // The tail cut off with its tracks covered (its events, its checkpoints, the head
    // record): the store's own records agree, the copy kept outside does not.
    let org = id_literal(backend, &organization);
    let keep = head - 2;
    tamper(
        backend,
        &installation,
        &format!(
            "DELETE FROM audit_events WHERE organization_id = {org} AND chain_seq > {keep}; \
             DELETE FROM audit_checkpoints WHERE chain_key = {org} AND seq > {keep}; \
             UPDATE audit_chain_heads SET seq = {keep}, \
                 hash = (SELECT chain_hash FROM audit_events \
                         WHERE organization_id = {org} AND chain_seq = {keep}), \
                 previous_hash = (SELECT previous_hash FROM audit_events \
                         WHERE organization_id = {org} AND chain_seq = {keep}) \
             WHERE chain_key = {org};"
        ),
    );
    let (ok, out, err) = verify(&installation, &key, &["--org", &organization]);
    assert!(
        ok,
        "without an outside copy a covered-up cut cannot show: {out}{err}"
    );
    let (ok, out, err) = verify(&installation, &key, &["--from-checkpoint", outside]);
    assert!(
        !ok,
        "a cut tail went unnoticed against the outside copy: {out}"
    );
    assert!(out.contains("events were removed from its end"), "{out}");
    assert!(err.contains("does not verify"), "{err}");

    // A row modified in place.
    tamper(
        backend,
        &installation,
        &format!(
            "UPDATE audit_events SET reason = 'nothing-to-see' \
             WHERE organization_id = {org} AND chain_seq = 2;"
        ),
    );
    let (ok, out, _) = verify(&installation, &key, &["--org", &organization]);
    assert!(!ok, "a modified row went unnoticed: {out}");
    assert!(
        out.contains("event 2") && out.contains("was modified"),
        "{out}"
    );

    // The API's look at the chain sees it too: the cut took every checkpoint, so it walks
    // from the chain's start, to the modified event.
    let server = start(
        &installation,
        &key,
        &[("VAULT_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "3600")],
    );
    let api = crate::helpers::Api::new(&server.base);
    let status = api.get_json("/audit-events/chain", &token).await;
    assert_eq!(status["status"], "broken", "{status}");
    assert_eq!(status["break"]["sequence"], 2, "{status}");
    assert_eq!(status["lastCheckpoint"], Value::Null, "{status}");
    assert_eq!(status["verifiedThrough"], 0);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chains_are_checkpointed_published_and_verified_on_sqlite() {
    checkpointed_and_verified(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chains_are_checkpointed_published_and_verified_on_postgres() {
    checkpointed_and_verified(Backend::Postgres).await;
}

/// Retention deletes old audit events chain by chain, each cut under a signed retention
/// checkpoint, and the chains verify from there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_leaves_a_checkpoint_the_chain_verifies_from() {
    use crate::helpers::retention::{OLD_AUDIT, pruned_counts, seed};

    let key = new_key();
    let installation = Installation::new(Backend::Sqlite, &key).expect("SQLite");
    let server = start(
        &installation,
        &key,
        &[
            ("VAULT_AUDIT_RETENTION_DAYS", "1"),
            ("VAULT_LOG_PRUNE_INTERVAL_SECONDS", "1"),
        ],
    );
    // The server's own file, opened beside it (WAL: both may write).
    let store = vault_store_sqlite::SqliteStore::open(&installation.database_url)
        .await
        .expect("the server's database");
    let seeded = seed(&store).await;
    eventually(
        Duration::from_secs(30),
        "the old events pruned",
        async || {
            let log = server.stderr.lock().expect("lock").clone();
            (pruned_counts(&log).1 >= OLD_AUDIT).then_some(())
        },
    )
    .await;
    let chain = AuditChain::Organization(seeded.organization);
    let cuts = store
        .list_checkpoints(chain, None, 10)
        .await
        .expect("checkpoints");
    assert!(
        cuts.iter().any(|c| c.kind == CheckpointKind::Retention),
        "no retention checkpoint at the cut: {cuts:?}"
    );
    let organization = seeded.organization.to_string();
    let (ok, out, err) = verify(&installation, &key, &["--org", &organization]);
    assert!(ok, "a chain cut by retention does not verify: {out}{err}");
    assert!(out.contains("events 3 to 3 verified"), "{out}");
    let (ok, out, err) = verify(&installation, &key, &[]);
    assert!(
        ok,
        "the installation does not verify after retention: {out}{err}"
    );
    server.stop();
}
