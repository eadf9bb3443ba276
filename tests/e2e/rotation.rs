//! Rotating the key-encryption key with the real binary: a new `ENCRYPTION_KEY` with the
//! old one kept as a previous key, `keys status` and `/admin/keys` counting what each key
//! protects, `keys rewrap` run beside live traffic, killed half way and run again, and the
//! old key dropped afterwards with every credential and version still opening. And what a
//! dropped key does before the rewrap: one clear error, naming the key, for the rows it
//! sealed; everything else keeps working.

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use vault_cipher_ring::KeyEncryptionKey;
use vault_core::versions::SealedKind;
use vault_core::{CredentialFields, CredentialType, Patch, Principal};
use vault_server::open_sqlite_vault;

use crate::helpers::app::sqlite_settings;
use crate::helpers::postgres::TestDatabase;
use crate::helpers::upstream::start_upstream;
use crate::helpers::{Api, Id, Server, command, key_id, new_key, run_ok};

/// A `vault-server` command on `dir`'s database with `key` current and `previous` kept.
fn vault_command(dir: &std::path::Path, key: &str, previous: Option<&str>) -> Command {
    let mut cmd = command(dir);
    cmd.env("ENCRYPTION_KEY", key)
        .env("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")
        .env("RUST_LOG", "info");
    if let Some(previous) = previous {
        cmd.env("ENCRYPTION_KEYS_PREVIOUS", previous);
    }
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_rewraps_online_resumes_after_a_kill_and_frees_the_old_key() {
    let upstream = start_upstream().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = (new_key(), new_key());
    let token = {
        let mut cmd = vault_command(dir.path(), &old, None);
        cmd.args(["bootstrap", "--org", "acme"]);
        run_ok(cmd)
    };

    // Under the old key: 120 credentials, 40 of them with two more versions.
    let server = Server::start(vault_command(dir.path(), &old, None));
    let api = Api::new(&server.base);
    let mut ids = Vec::new();
    for i in 0..120 {
        let created = api
            .create_credential(
                &token,
                &json!({"name": format!("c{i}"), "type": "api_key",
                        "value": format!("sk_old_{i}_0123456789"),
                        "allowedHosts": [upstream.origin()]}),
            )
            .await;
        let id = created.id();
        if i % 3 == 0 {
            for n in 1..=2 {
                let response = api
                    .update_credential(
                        &id,
                        &token,
                        &json!({"value": format!("sk_old_{i}_{n}_0123456789")}),
                    )
                    .await;
                assert_eq!(response.status, StatusCode::OK);
            }
        }
        ids.push(id);
    }
    server.stop();

    // The new key, the old one kept: everything opens, new writes go under the new key.
    let server = Server::start(vault_command(dir.path(), &new, Some(&old)));
    let api = Api::new(&server.base);
    let status = api.admin_keys(&token).await;
    assert_eq!(status["currentKeyId"], key_id(&new));
    let under_old = status["rowsUnderOldKeys"].as_u64().expect("count");
    // 120 credentials and 120 + 80 versions: the organization's own rows (the key-check
    // value and the hash key are the installation's, counted by `keys status` only).
    assert_eq!(under_old, 120 + 200, "{status}");
    let mut cmd = vault_command(dir.path(), &new, Some(&old));
    cmd.args(["keys", "status"]);
    let printed = run_ok(cmd);
    assert!(
        printed.contains(&key_id(&old)) && printed.contains("keys rewrap"),
        "{printed}"
    );

    // A rewrap killed half way leaves everything openable; run again, it finishes, while
    // the server keeps serving reads and writes.
    let mut slow = vault_command(dir.path(), &new, Some(&old));
    slow.args(["keys", "rewrap", "--batch", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = slow.spawn().expect("rewrap starts");
    // Kill it as soon as it has made progress, so it dies half way.
    let remaining = loop {
        let status = api.admin_keys(&token).await;
        let remaining = status["rowsUnderOldKeys"].as_u64().expect("count");
        if remaining < under_old {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
            break remaining;
        }
        assert!(
            child.try_wait().expect("poll").is_none(),
            "the rewrap ended before any progress was seen"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let status = api.admin_keys(&token).await;
    let after_kill = status["rowsUnderOldKeys"].as_u64().expect("count");
    assert!(
        after_kill > 0 && after_kill <= remaining,
        "killed half way: {after_kill} of {under_old} rows still under the old key"
    );

    let traffic = {
        let (api, token, ids) = (api.clone(), token.clone(), ids.clone());
        tokio::spawn(async move {
            for (i, id) in ids.iter().enumerate().take(60) {
                let response = api
                    .update_credential(
                        id,
                        &token,
                        &json!({"value": format!("sk_new_{i}_0123456789")}),
                    )
                    .await;
                assert_eq!(response.status, StatusCode::OK);
            }
        })
    };
    let mut finish = vault_command(dir.path(), &new, Some(&old));
    finish.args(["keys", "rewrap", "--batch", "25"]);
    let report = run_ok(finish);
    traffic.await.expect("traffic ran");
    assert!(
        report.contains("0 rows remain under older keys"),
        "{report}"
    );
    let status = api.admin_keys(&token).await;
    assert_eq!(status["rowsUnderOldKeys"], 0, "{status}");
    server.stop();

    // The old key is gone: the server starts, and every credential and old version opens.
    let server = Server::start(vault_command(dir.path(), &new, None));
    let api = Api::new(&server.base);
    for id in &ids {
        let call = json!({"method": "GET", "url": upstream.url("/record/rotated")});
        let response = api.proxy(id, &token, &call).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{id} opens under the new key alone"
        );
    }
    let restored = api.restore_version(&ids[3], 1, &token).await;
    assert_eq!(restored.status, StatusCode::OK, "an old version opens too");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_key_fails_only_what_it_sealed_and_names_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = (
        KeyEncryptionKey::generate().expect("key"),
        KeyEncryptionKey::generate().expect("key"),
    );
    let settings = |current: &KeyEncryptionKey, previous: Option<&KeyEncryptionKey>| {
        let mut settings = sqlite_settings(&dir.path().join("vault.db"));
        settings.encryption_key = Some(current.to_base64());
        settings.encryption_keys_previous = previous.map(KeyEncryptionKey::to_base64);
        settings
    };
    let fields = |name: &str| {
        CredentialFields {
            name: Some(name.to_owned()),
            allowed_hosts: Patch::Value(vec!["api.example.com".to_owned()]),
            ..CredentialFields::default()
        }
        .with(
            "value",
            Some(secrecy::SecretString::from(format!("sk_{name}_0123456789"))),
        )
    };

    // One credential under the old key, one under the new; then only the installation's
    // own values are moved (as if a rewrap had been stopped right after them).
    let (organization, stale, bootstrap_token) = {
        let (vault, _) = open_sqlite_vault(&settings(&old, None))
            .await
            .expect("vault");
        let (organization, admin) = vault.create_organization("acme").await.expect("org");
        let who = Principal::system(organization.id);
        let stale = vault
            .create_credential(&who, CredentialType::ApiKey, &fields("stale"))
            .await
            .expect("created");
        (organization, stale, admin.token.expose().to_owned())
    };
    let fresh = {
        let (vault, _) = open_sqlite_vault(&settings(&new, Some(&old)))
            .await
            .expect("vault");
        let who = Principal::system(organization.id);
        let fresh = vault
            .create_credential(&who, CredentialType::ApiKey, &fields("fresh"))
            .await
            .expect("created");
        let meta: u64 = vault
            .key_status()
            .await
            .expect("status")
            .keys
            .iter()
            .map(|k| k.meta)
            .sum();
        let batch = vault
            .rewrap_batch(SealedKind::Meta, None, 100)
            .await
            .expect("meta rewrapped");
        // The key-check value, the hash key and the version-binding marker (at least).
        assert!(meta >= 3);
        assert_eq!(batch.rewrapped, meta);
        fresh
    };

    let (vault, _) = open_sqlite_vault(&settings(&new, None))
        .await
        .expect("the vault opens without the old key once its own values moved");
    let who = Principal::system(organization.id);
    assert!(vault.apply_credential(&who, fresh.id).await.is_ok());
    let error = vault
        .apply_credential(&who, stale.id)
        .await
        .expect_err("sealed under the dropped key");
    assert_eq!(error.code(), "encryption-key-missing");
    assert!(
        format!("{error:#?}").contains(old.key_id().as_str()),
        "the error names the missing key: {error:?}"
    );
    let status = vault.key_status().await.expect("status");
    assert_eq!(
        status.rows_under_old_keys(),
        2,
        "the stale credential and its version"
    );
    let listed = vault
        .list_credentials(&who, &vault_core::ListRequest::default())
        .await
        .expect("listing needs no key");
    assert_eq!(listed.items.len(), 2);

    // Over HTTP: the same refusal as a problem naming the key; the rest of the API works.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = vault_server::Application::start(vault, listener, &settings(&new, None))
        .await
        .expect("server starts");
    let api = Api::new(&format!("http://{}", app.address()));
    tokio::spawn(app.run_until_stopped());
    let token = bootstrap_token;
    let restore = api.restore_version(&stale.id.to_string(), 1, &token).await;
    assert_eq!(restore.status, StatusCode::INTERNAL_SERVER_ERROR);
    let problem = restore.json();
    assert_eq!(problem["code"], "encryption-key-missing");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains(old.key_id().as_str())),
        "{problem}"
    );
    let fresh_versions = api
        .get(&format!("/credentials/{}/versions", fresh.id), &token)
        .await;
    assert_eq!(fresh_versions.status, StatusCode::OK);
}

/// A database written before current rows were bound to their version (here: credentials
/// sealed under the old binding, and no marker): the first vault to open it binds every
/// row it has the key for, which then opens; a row under a key not configured waits (the
/// binding is not marked done) until a vault with that key opens the database. Once done,
/// a blob of the old format put back over a row is refused (no lasting fallback), and
/// opening again binds nothing more.
async fn rows_of_earlier_releases_are_bound_once<S: vault_core::Store>(open: impl AsyncFn() -> S) {
    use secrecy::ExposeSecret as _;
    use vault_core::credential::CredentialSecrets;
    use vault_core::logs::AuditAction;
    use vault_core::store::CredentialWrite;
    use vault_core::versions::{SealedRef, SealedRow};
    use vault_core::{Aad, Cipher as _, SystemClock, Vault};
    use vault_testkit::store_suite::{new_organization, sample_change_audit, sample_credential};

    let key = KeyEncryptionKey::generate().expect("key").to_base64();
    let other = KeyEncryptionKey::generate().expect("key").to_base64();
    let parse =
        |k: &secrecy::SecretString| KeyEncryptionKey::parse(k.expose_secret()).expect("key");
    let cipher = || vault_cipher_ring::RingCipher::new(parse(&key), vec![]);
    let with_other = || vault_cipher_ring::RingCipher::new(parse(&key), vec![parse(&other)]);
    let store = open().await;
    let organization = new_organization(&store).await;
    let mut written = Vec::new();
    // The last one under a key the first opening does not have.
    for (i, version) in [1_i64, 2, 7, 3].into_iter().enumerate() {
        let mut stored = sample_credential(organization, CredentialType::ApiKey);
        stored.credential.version = version;
        let value = format!("sk_earlier_release_{i}_{}", uuid::Uuid::new_v4().simple());
        let secrets = CredentialSecrets::new(CredentialType::ApiKey)
            .with_text("value", secrecy::SecretString::from(value.clone()));
        let unbound = Aad::unbound_credential_secrets(organization, stored.credential.id);
        let sealer = if i == 3 {
            vault_cipher_ring::RingCipher::new(parse(&other), vec![])
        } else {
            cipher()
        };
        stored.sealed = sealer
            .seal(&secrets.to_plaintext(), &unbound)
            .expect("sealed");
        let audit = sample_change_audit(
            organization,
            AuditAction::CredentialCreate,
            *stored.credential.id.as_uuid(),
        );
        let write = CredentialWrite {
            versions: &[],
            keep_versions: 0,
            audit: &audit,
        };
        store
            .insert_credential(&stored, &write)
            .await
            .expect("inserted as an earlier release did");
        written.push((stored, value));
    }
    let who = Principal::system(organization);
    let opens =
        async |vault: &Vault<S>,
               (stored, value): &(vault_core::credential::StoredCredential, String)| {
            let (_, secrets) = vault
                .open_credential(&who, stored.credential.id)
                .await
                .expect("a bound row opens");
            let Some(got) = secrets.text("value") else {
                panic!("an api_key's value")
            };
            assert_eq!(got.expose_secret(), value);
        };

    // Without the other key: the rows it can open are bound, the last one waits.
    let vault = Vault::open(store, cipher(), SystemClock)
        .await
        .expect("opens, binding the rows");
    for row in &written[..3] {
        opens(&vault, row).await;
    }
    let error = vault
        .open_credential(&who, written[3].0.credential.id)
        .await
        .expect_err("under a key not configured");
    assert_eq!(error.code(), "encryption-key-missing");
    drop(vault);
    // With it (as a previous key): bound too, and the binding is done.
    let vault = Vault::open(open().await, with_other(), SystemClock)
        .await
        .expect("opens, binding the last row");
    for row in &written {
        opens(&vault, row).await;
    }

    // Done once: an old-format blob put back over a bound row is not rebound, and fails.
    let (stored, value) = &written[1];
    let now = vault
        .store()
        .get_credential(organization, stored.credential.id)
        .await
        .expect("read");
    assert_ne!(now.sealed, stored.sealed, "the row was sealed again");
    let row = SealedRow {
        reference: SealedRef::Credential {
            organization_id: organization,
            id: stored.credential.id,
            version: stored.credential.version,
        },
        sealed: now.sealed,
    };
    assert!(
        vault
            .store()
            .replace_sealed(&row, &stored.sealed)
            .await
            .expect("written behind the vault's back")
    );
    drop(vault);
    let vault = Vault::open(open().await, with_other(), SystemClock)
        .await
        .expect("opens again");
    let error = vault
        .open_credential(&who, stored.credential.id)
        .await
        .expect_err("an unbound blob after the rebind");
    assert_eq!(error.code(), "sealed-data-tampered");
    assert!(!format!("{error:?}").contains(value.as_str()));
    let (_, other) = vault
        .open_credential(&who, written[0].0.credential.id)
        .await
        .expect("the other rows still open");
    drop(other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rows_of_earlier_releases_are_bound_to_their_version_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("vault.db").display());
    rows_of_earlier_releases_are_bound_once(async || {
        vault_store_sqlite::SqliteStore::open(&url)
            .await
            .expect("sqlite")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rows_of_earlier_releases_are_bound_to_their_version_once() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    vault_store_postgres::PgStore::migrate(&db.url)
        .await
        .expect("migrated");
    rows_of_earlier_releases_are_bound_once(async || {
        vault_store_postgres::PgStore::connect(&db.url, vault_store_postgres::PgOptions::default())
            .await
            .expect("postgres")
    })
    .await;
}
