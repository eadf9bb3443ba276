//! The adapter against moto's KMS and STS on 127.0.0.1, with botocore (the reference AWS
//! client) as the judge of the wire format. `auth.rs`: the same with moto enforcing IAM
//! and checking SigV4 signatures.

mod auth;

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use serde_json::{Value, json};
use vault_core::{KeyManager, KeyManagerError, WrappedKeyring};
use vault_keymanager_awskms::{AwsKmsKeyManager, KmsConfig};
use vault_testkit::key_managers::{MotoServer, free_port};

const CONTEXT: &str = "vault keyring v1";
const KEYRING: &[u8] = b"vkr1\x00\x03 three 32-byte keys would be here, 0123456789abcdef";
/// Distinctive credentials (moto accepts any unless told to enforce IAM), to look for in
/// messages that must not carry them.
const SECRET: &str = "SECRETsecretSECRETsecretSECRET/0123456789";
const TOKEN: &str = "TOKENtokenTOKENtokenTOKENtoken+0123456789==";

/// An environment for [`AwsKmsKeyManager::new`]: moto's (endpoint, region, dummy
/// credentials) with `changes` applied (`None` removes a variable).
fn env_with(
    moto: &MotoServer,
    changes: &[(&str, Option<&str>)],
) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let mut vars: HashMap<String, String> = moto
        .aws_env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (name, value) in changes {
        match value {
            Some(value) => vars.insert((*name).to_owned(), (*value).to_owned()),
            None => vars.remove(*name),
        };
    }
    move |name| vars.get(name).cloned()
}

/// Static credentials of our own, so that messages can be searched for them.
const DISTINCT: &[(&str, Option<&str>)] = &[
    ("AWS_ACCESS_KEY_ID", Some("AKIDDISTINCTEXAMPLE")),
    ("AWS_SECRET_ACCESS_KEY", Some(SECRET)),
    ("AWS_SESSION_TOKEN", Some(TOKEN)),
];

/// No static credentials in the environment (the other sources are then consulted).
const NO_STATIC: &[(&str, Option<&str>)] =
    &[("AWS_ACCESS_KEY_ID", None), ("AWS_SECRET_ACCESS_KEY", None)];

fn config(key_id: &str) -> KmsConfig {
    KmsConfig {
        region: "us-east-1".to_owned(),
        key_id: key_id.to_owned(),
        endpoint: None,
        timeout: Duration::from_secs(10),
    }
}

fn manager(moto: &MotoServer, key_id: &str) -> AwsKmsKeyManager {
    AwsKmsKeyManager::new(config(key_id), env_with(moto, DISTINCT)).expect("manager")
}

/// A new symmetric key: its id and ARN.
fn create_key(moto: &MotoServer) -> (String, String) {
    let key = moto.botocore(
        r#"m = kms.create_key(Description="vault test")["KeyMetadata"]
print(json.dumps({"id": m["KeyId"], "arn": m["Arn"]}))"#,
    );
    (text(&key["id"]), text(&key["arn"]))
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

/// The failure's message, after checking it is the `expected` variant and carries no
/// secret and no plaintext.
fn failure<T>(result: Result<T, KeyManagerError>, expected: &str) -> String {
    let error = match result {
        Ok(_) => panic!("succeeded where {expected} was expected"),
        Err(error) => error,
    };
    let (kind, message) = match &error {
        KeyManagerError::Unreachable(m) => ("Unreachable", m),
        KeyManagerError::Denied(m) => ("Denied", m),
        KeyManagerError::KeyUnusable(m) => ("KeyUnusable", m),
        KeyManagerError::Unwrap(m) => ("Unwrap", m),
        KeyManagerError::Backend(m) => ("Backend", m),
        other => panic!("an unknown variant: {other:?}"),
    };
    assert_eq!(kind, expected, "{error}");
    eprintln!("{kind}: {message}");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(
            !shown.contains(SECRET) && !shown.contains(TOKEN) && !shown.contains("three 32-byte"),
            "a secret in: {shown}"
        );
    }
    message.clone()
}

macro_rules! moto_or_skip {
    () => {
        match MotoServer::start() {
            Some(moto) => moto,
            None => return,
        }
    };
}
pub(crate) use moto_or_skip;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_by_key_id() {
    let moto = moto_or_skip!();
    let (id, _) = create_key(&moto);
    vault_testkit::key_manager_suite::run_all(&manager(&moto, &id)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_by_alias_and_alias_arn() {
    let moto = moto_or_skip!();
    let (id, arn) = create_key(&moto);
    moto.botocore(&format!(
        r#"kms.create_alias(AliasName="alias/vault", TargetKeyId="{id}")
print("{{}}")"#
    ));
    let by_alias = manager(&moto, "alias/vault");
    vault_testkit::key_manager_suite::run_all(&by_alias).await;
    assert!(
        by_alias.describe().starts_with(&format!(
            "AWS KMS key alias/vault in us-east-1 (endpoint {}",
            moto.endpoint()
        )),
        "{}",
        by_alias.describe()
    );
    // The wrapped keyring records the key's ARN, not the alias that found it.
    let wrapped = by_alias.wrap(KEYRING, CONTEXT).await.expect("wrap");
    assert_eq!(wrapped.key, arn);
    let alias_arn = arn.replace(&format!("key/{id}"), "alias/vault");
    let by_alias_arn = manager(&moto, &alias_arn);
    by_alias_arn.check().await.expect("check by alias ARN");
    assert_eq!(
        by_alias_arn.wrap(KEYRING, CONTEXT).await.expect("wrap").key,
        arn
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_agrees_on_the_wire_format() {
    let moto = moto_or_skip!();
    let (id, arn) = create_key(&moto);
    let ours = manager(&moto, &id);

    // Ours wraps, botocore unwraps with {"vault": context}, and not without it.
    let wrapped = ours.wrap(KEYRING, CONTEXT).await.expect("wrap");
    let judged = moto.botocore(&format!(
        r#"blob = base64.b64decode("{blob}")
ok = kms.decrypt(CiphertextBlob=blob, EncryptionContext={{"vault": "{CONTEXT}"}})
bare = error_code(lambda: kms.decrypt(CiphertextBlob=blob))
print(json.dumps({{"plaintext": base64.b64encode(ok["Plaintext"]).decode(), "key": ok["KeyId"], "bare": bare}}))"#,
        blob = base64_of(&wrapped.bytes),
    ));
    assert_eq!(text(&judged["plaintext"]), base64_of(KEYRING));
    assert_eq!(text(&judged["key"]), arn);
    assert_eq!(judged["bare"], json!("InvalidCiphertextException"));

    // Botocore wraps, ours unwraps.
    let theirs = moto.botocore(&format!(
        r#"out = kms.encrypt(KeyId="{id}", Plaintext=base64.b64decode("{plaintext}"), EncryptionContext={{"vault": "{CONTEXT}"}})
print(json.dumps({{"blob": base64.b64encode(out["CiphertextBlob"]).decode(), "key": out["KeyId"]}}))"#,
        plaintext = base64_of(KEYRING),
    ));
    let wrapped = WrappedKeyring {
        manager: "awskms".to_owned(),
        key: text(&theirs["key"]),
        bytes: base64_decode(&text(&theirs["blob"])),
    };
    let opened = ours
        .unwrap(&wrapped, CONTEXT)
        .await
        .expect("unwrap botocore's");
    assert_eq!(opened.as_slice(), KEYRING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyring_wrapped_under_an_earlier_key_still_unwraps() {
    let moto = moto_or_skip!();
    let (a, a_arn) = create_key(&moto);
    let (b, b_arn) = create_key(&moto);
    let wrapped = manager(&moto, &a)
        .wrap(KEYRING, CONTEXT)
        .await
        .expect("wrap");
    assert_eq!(wrapped.key, a_arn);

    let moved = manager(&moto, &b);
    let opened = moved
        .unwrap(&wrapped, CONTEXT)
        .await
        .expect("unwrap under A");
    assert_eq!(opened.as_slice(), KEYRING);
    let rewrapped = moved.wrap(&opened, CONTEXT).await.expect("wrap under B");
    assert_eq!(rewrapped.key, b_arn);
    // The recorded key is what unwrap asks KMS for: pointing it at B fails.
    let mislabelled = WrappedKeyring {
        key: b_arn,
        ..wrapped
    };
    failure(moved.unwrap(&mislabelled, CONTEXT).await, "Unwrap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_from_a_profile_file() {
    let moto = moto_or_skip!();
    let (id, _) = create_key(&moto);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("credentials");
    std::fs::write(
        &file,
        format!(
            "[default]\naws_access_key_id = AKIDDEFAULT\n\n[vault]\n\
             aws_access_key_id = AKIDPROFILE\naws_secret_access_key = {SECRET}\n"
        ),
    )
    .expect("credentials file");
    let path = file.to_str().expect("utf-8");
    let mut changes = NO_STATIC.to_vec();
    changes.extend([
        ("AWS_SHARED_CREDENTIALS_FILE", Some(path)),
        ("AWS_PROFILE", Some("vault")),
    ]);
    let manager = AwsKmsKeyManager::new(config(&id), env_with(&moto, &changes)).expect("manager");
    assert!(
        manager
            .describe()
            .contains(&format!("credentials from profile vault in {path}")),
        "{}",
        manager.describe()
    );
    let wrapped = manager.wrap(KEYRING, CONTEXT).await.expect("wrap");
    let opened = manager.unwrap(&wrapped, CONTEXT).await.expect("unwrap");
    assert_eq!(opened.as_slice(), KEYRING);
    assert!(!format!("{manager:?}").contains(SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_from_a_web_identity_token() {
    let moto = moto_or_skip!();
    let (id, _) = create_key(&moto);
    let dir = tempfile::tempdir().expect("temp dir");
    let token = dir.path().join("token");
    std::fs::write(
        &token,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ2YXVsdCJ9.c2lnbmF0dXJl\n",
    )
    .expect("token file");
    let mut changes = NO_STATIC.to_vec();
    changes.extend([
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str()),
        ("AWS_ROLE_ARN", Some("arn:aws:iam::123456789012:role/vault")),
    ]);
    let manager = AwsKmsKeyManager::new(config(&id), env_with(&moto, &changes)).expect("manager");
    assert!(
        manager
            .describe()
            .contains("web identity (role arn:aws:iam::123456789012:role/vault"),
        "{}",
        manager.describe()
    );
    let wrapped = manager.wrap(KEYRING, CONTEXT).await.expect("wrap");
    let opened = manager.unwrap(&wrapped, CONTEXT).await.expect("unwrap");
    assert_eq!(opened.as_slice(), KEYRING);

    // The token file is read when STS is asked: gone, the first call is Denied.
    changes.push(("AWS_ROLE_SESSION_NAME", Some("vault-test")));
    let manager = AwsKmsKeyManager::new(config(&id), env_with(&moto, &changes)).expect("manager");
    std::fs::remove_file(&token).expect("remove the token");
    let message = failure(manager.check().await, "Denied");
    assert!(message.contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_unreachable() {
    // No moto needed: a port nothing listens on.
    let port = free_port();
    let mut config = config("alias/vault");
    config.endpoint = Some(format!("http://127.0.0.1:{port}"));
    let vars = [
        ("AWS_ACCESS_KEY_ID", "AKIDDISTINCTEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ];
    let env = move |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let manager = AwsKmsKeyManager::new(config, env).expect("manager");
    let message = failure(manager.wrap(KEYRING, CONTEXT).await, "Unreachable");
    assert!(
        message.contains("KMS Encrypt with key alias/vault"),
        "{message}"
    );
    failure(manager.check().await, "Unreachable");
    let wrapped = WrappedKeyring {
        manager: "awskms".to_owned(),
        key: "arn:aws:kms:us-east-1:123456789012:key/x".to_owned(),
        bytes: vec![1, 2, 3],
    };
    failure(manager.unwrap(&wrapped, CONTEXT).await, "Unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_is_unreachable_after_the_timeout() {
    // Accepts connections (the kernel's backlog does) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut config = config("alias/vault");
    config.endpoint = Some(format!("http://{}", silent.local_addr().expect("addr")));
    config.timeout = Duration::from_millis(300);
    let vars = [
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ];
    let env = move |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let manager = AwsKmsKeyManager::new(config, env).expect("manager");
    let started = std::time::Instant::now();
    let message = failure(manager.check().await, "Unreachable");
    assert!(message.contains("no answer within 300ms"), "{message}");
    // Three attempts of 300 ms and two backoffs, not a hang.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_is_unusable() {
    let moto = moto_or_skip!();
    for key in ["alias/missing", "0b0f4a3e-1d2c-4b5a-9e8f-7a6b5c4d3e2f"] {
        let manager = manager(&moto, key);
        let message = failure(manager.check().await, "KeyUnusable");
        assert!(
            message.contains("NotFoundException") && message.contains(key),
            "{message}"
        );
        failure(manager.wrap(KEYRING, CONTEXT).await, "KeyUnusable");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_key_refuses_check_and_unwrap() {
    let moto = moto_or_skip!();
    let (id, arn) = create_key(&moto);
    let manager = manager(&moto, &id);
    let wrapped = manager.wrap(KEYRING, CONTEXT).await.expect("wrap");
    moto.botocore(&format!("kms.disable_key(KeyId=\"{id}\")\nprint(\"{{}}\")"));
    let message = failure(manager.check().await, "KeyUnusable");
    assert_eq!(message, format!("KMS key {arn} is Disabled"));
    let message = failure(manager.unwrap(&wrapped, CONTEXT).await, "KeyUnusable");
    assert_eq!(message, format!("KMS key {arn} is Disabled"));

    moto.botocore(&format!("kms.enable_key(KeyId=\"{id}\")\nprint(\"{{}}\")"));
    manager.check().await.expect("enabled again");
    let opened = manager.unwrap(&wrapped, CONTEXT).await.expect("unwrap");
    assert_eq!(opened.as_slice(), KEYRING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pending_deletion_is_unusable() {
    let moto = moto_or_skip!();
    let (id, arn) = create_key(&moto);
    let manager = manager(&moto, &id);
    let wrapped = manager.wrap(KEYRING, CONTEXT).await.expect("wrap");
    moto.botocore(&format!(
        "kms.schedule_key_deletion(KeyId=\"{id}\", PendingWindowInDays=7)\nprint(\"{{}}\")"
    ));
    let message = failure(manager.check().await, "KeyUnusable");
    assert!(
        message.starts_with(&format!("KMS key {arn} is PendingDeletion (deletion on ")),
        "{message}"
    );
    failure(manager.unwrap(&wrapped, CONTEXT).await, "KeyUnusable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_bytes_and_another_context_do_not_unwrap() {
    let moto = moto_or_skip!();
    let (id, _) = create_key(&moto);
    let manager = manager(&moto, &id);
    let wrapped = manager.wrap(KEYRING, CONTEXT).await.expect("wrap");
    for at in [0, 40, wrapped.bytes.len() / 2, wrapped.bytes.len() - 1] {
        let mut tampered = wrapped.clone();
        tampered.bytes[at] ^= 0x80;
        let message = failure(manager.unwrap(&tampered, CONTEXT).await, "Unwrap");
        assert!(
            message.contains("KMS Decrypt with key arn:aws:kms:"),
            "{message}"
        );
    }
    let message = failure(
        manager.unwrap(&wrapped, "another installation").await,
        "Unwrap",
    );
    assert!(message.contains("InvalidCiphertextException"), "{message}");
    let foreign = WrappedKeyring {
        manager: "transit".to_owned(),
        ..wrapped
    };
    failure(manager.unwrap(&foreign, CONTEXT).await, "Unwrap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_is_denied() {
    let moto = moto_or_skip!();
    let mut changes = NO_STATIC.to_vec();
    changes.push(("HOME", Some("/nonexistent-vault-home")));
    let result = AwsKmsKeyManager::new(config("alias/vault"), env_with(&moto, &changes));
    let message = failure(result, "Denied");
    for looked_for in [
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "/nonexistent-vault-home/.aws/credentials",
    ] {
        assert!(message.contains(looked_for), "{message}");
    }
    // Half a pair is refused, not skipped for the next source.
    let half = [
        ("AWS_SECRET_ACCESS_KEY", None),
        ("AWS_SESSION_TOKEN", Some(TOKEN)),
    ];
    let result = AwsKmsKeyManager::new(config("alias/vault"), env_with(&moto, &half));
    failure(result, "Denied");
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}
