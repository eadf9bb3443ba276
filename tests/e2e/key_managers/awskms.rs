//! The vault on AWS KMS, as moto's server plays it on 127.0.0.1. The keys are made, and
//! disabled, with botocore (the reference AWS client); the vault signs its own requests
//! with credentials from its environment and reaches moto through
//! `VAULT_AWSKMS_ENDPOINT`.

use serde_json::{Value, json};

use super::{Lifecycle, OnManager, readyz};
use crate::helpers::key_managers::MotoServer;

/// The secret access key the vault is given: moto accepts any, and this one must never
/// show up in what the vault prints or logs.
const SECRET_ACCESS_KEY: &str = "kms-secret-2c5e81f0a94b4d7e";

/// A new symmetric KMS key: its key id and ARN.
pub(super) fn create_key(moto: &MotoServer) -> (String, String) {
    let key = moto.botocore(
        r#"key = kms.create_key(Description="vault-kek")["KeyMetadata"]
print(json.dumps({"KeyId": key["KeyId"], "Arn": key["Arn"]}))"#,
    );
    let text = |name: &str| key[name].as_str().expect(name).to_owned();
    (text("KeyId"), text("Arn"))
}

/// The vault's settings for `key_id`: the endpoint from `VAULT_AWSKMS_ENDPOINT` (not
/// `AWS_ENDPOINT_URL`), credentials from the environment.
pub(super) fn settings(moto: &MotoServer, key_id: &str) -> Vec<(String, String)> {
    [
        ("VAULT_KEY_MANAGER", "awskms"),
        ("VAULT_AWSKMS_REGION", "us-east-1"),
        ("VAULT_AWSKMS_KEY_ID", key_id),
        ("VAULT_AWSKMS_ENDPOINT", moto.endpoint()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// moto with one key, and a vault on it with the organization `acme`.
struct OnKms {
    moto: MotoServer,
    key_id: String,
    arn: String,
    lifecycle: Lifecycle,
}

/// [`OnKms`]; `None` when moto is not installed (and CI is not `true`).
async fn on_kms() -> Option<OnKms> {
    let moto = MotoServer::start()?;
    let (key_id, arn) = create_key(&moto);
    let on = OnManager {
        dir: tempfile::tempdir().expect("temp dir"),
        settings: settings(&moto, &key_id),
    };
    let lifecycle = Lifecycle::bootstrap(on).await;
    Some(OnKms {
        moto,
        key_id,
        arn,
        lifecycle,
    })
}

/// DisableKey or EnableKey through botocore. (moto 5.2.5 finds a key for these by its id
/// only: given the ARN it fails with a KeyError.)
fn set_enabled(moto: &MotoServer, key_id: &str, enabled: bool) {
    let call = if enabled { "enable_key" } else { "disable_key" };
    let state = moto.botocore(&format!(
        "kms.{call}(KeyId={key_id:?})\n\
         print(json.dumps(kms.describe_key(KeyId={key_id:?})[\"KeyMetadata\"][\"KeyState\"]))"
    ));
    assert_eq!(state, json!(if enabled { "Enabled" } else { "Disabled" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_runs_on_aws_kms_through_restarts_and_rotations() {
    let Some(OnKms {
        moto,
        key_id: first_key,
        arn: first_arn,
        lifecycle,
    }) = on_kms().await
    else {
        return;
    };
    let status = lifecycle.status();
    assert!(
        status.contains(&format!("wrapped by {first_arn}")),
        "{status}"
    );

    let moto = &moto;
    let new_arn = std::sync::Mutex::new(String::new());
    let lifecycle = lifecycle
        .run_switching(async || {
            // KMS's own rotation keeps the key id; a new key is what an operator switches
            // to. The keyring stays wrapped under the first key's ARN until `keys rewrap`,
            // so the first key must still open it at that command's start.
            let (key_id, arn) = create_key(moto);
            *new_arn.lock().expect("lock") = arn;
            vec![("VAULT_AWSKMS_KEY_ID".to_owned(), key_id)]
        })
        .await;
    let new_arn = new_arn.into_inner().expect("lock");
    let status = lifecycle.status();
    assert!(
        status.contains(&format!("wrapped by {new_arn}")) && !status.contains(&first_arn),
        "{status}"
    );
    assert!(!status.contains(SECRET_ACCESS_KEY), "{status}");

    // The keyring is now the new key's alone: with the first one disabled the vault still
    // starts and serves (botocore, not the vault, says the first key is disabled).
    set_enabled(moto, &first_key, false);
    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    let (_, log) = server.stop();
    assert!(
        !log.contains(SECRET_ACCESS_KEY),
        "the secret key is not logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_down_at_start_refuses_start_and_names_it() {
    let Some(OnKms {
        moto, lifecycle, ..
    }) = on_kms().await
    else {
        return;
    };
    let before = lifecycle.on.snapshot();
    drop(moto);
    let refused = lifecycle.on.refused(&["serve"]);
    assert!(
        refused.contains("unreachable") && refused.contains("AWS KMS"),
        "{refused}"
    );
    assert!(!refused.contains(SECRET_ACCESS_KEY), "{refused}");
    lifecycle.on.assert_unchanged(&before, "a refused start");
}

/// The key disabled (DisableKey, through botocore): start is refused naming the key and
/// its state, and the database is left byte for byte as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_key_refuses_start_and_changes_nothing() {
    let Some(OnKms {
        moto,
        key_id,
        arn,
        mut lifecycle,
    }) = on_kms().await
    else {
        return;
    };
    let server = lifecycle.on.start();
    lifecycle.create(&server, 3).await;
    server.stop();
    let before = lifecycle.on.snapshot();

    set_enabled(&moto, &key_id, false);
    for args in [&["serve"][..], &["keys", "rewrap"]] {
        let refused = lifecycle.on.refused(args);
        assert!(
            refused.contains("not usable") && refused.contains(&format!("{arn} is Disabled")),
            "{args:?}: {refused}"
        );
        lifecycle.on.assert_unchanged(&before, &format!("{args:?}"));
    }

    // Enabled again: everything opens.
    set_enabled(&moto, &key_id, true);
    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    server.stop();
}

/// A key id KMS does not know: the first start, which must wrap a new keyring under it,
/// is refused naming it, and creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_refuses_the_first_start_and_names_it() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let unknown = uuid::Uuid::new_v4().to_string();
    let mut on = OnManager {
        dir: tempfile::tempdir().expect("temp dir"),
        settings: settings(&moto, &unknown),
    };
    let refused = on.refused(&["bootstrap", "--org", "acme"]);
    assert!(
        refused.contains("not usable")
            && refused.contains(&format!("KMS Encrypt with key {unknown}")),
        "{refused}"
    );
    // Nothing was stored: with a real key the keyring is created now, generation 1.
    let (key_id, arn) = create_key(&moto);
    on.set("VAULT_AWSKMS_KEY_ID", &key_id);
    let lifecycle = Lifecycle::bootstrap(on).await;
    let status = lifecycle.status();
    assert!(
        status.contains("keyring generation 1 (1 keys)") && status.contains(&arn),
        "{status}"
    );
}

/// An installation whose configured key is switched to one KMS does not know: start is
/// refused, naming the key and the setting, although the keyring (wrapped under the ARN it
/// records) would still unwrap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_on_an_installation_refuses_start_and_names_it() {
    let Some(OnKms {
        moto: _moto,
        mut lifecycle,
        ..
    }) = on_kms().await
    else {
        return;
    };
    let before = lifecycle.on.snapshot();
    let unknown = uuid::Uuid::new_v4().to_string();
    lifecycle.on.set("VAULT_AWSKMS_KEY_ID", &unknown);
    let refused = lifecycle.on.refused(&["serve"]);
    assert!(
        refused.contains(&unknown) && refused.contains("VAULT_AWSKMS_KEY_ID"),
        "{refused}"
    );
    lifecycle.on.assert_unchanged(&before, "a refused start");
}

/// moto killed while the vault runs changes nothing for uses: the keyring was unwrapped at
/// start. `/readyz` says the key manager is unreachable, and stays 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_down_while_running_changes_nothing_for_uses() {
    let Some(OnKms {
        moto,
        mut lifecycle,
        ..
    }) = on_kms().await
    else {
        return;
    };
    let server = lifecycle.on.start();
    lifecycle.create(&server, 3).await;
    let ready = readyz(&server).await;
    assert_eq!(ready["keyManager"]["kind"], json!("awskms"), "{ready}");
    assert_eq!(ready["keyManager"]["reachable"], json!(true), "{ready}");
    drop(moto);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let ready: Value = loop {
        let ready = readyz(&server).await;
        if ready["keyManager"]["reachable"] == json!(false) {
            break ready;
        }
        assert!(std::time::Instant::now() < deadline, "{ready}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(ready["status"], json!("ok"), "{ready}");
    lifecycle.use_all(&server).await;
    lifecycle.create(&server, 2).await;
    lifecycle.use_all(&server).await;
    let (_, log) = server.stop();
    assert!(log.contains("the key manager's check failed"), "{log}");
    assert!(
        !log.contains(SECRET_ACCESS_KEY),
        "the secret key is not logged"
    );
}
