//! The adapter against a real OpenBao (`bao server -dev`, one per test): the shared
//! conformance suite with token and AppRole auth, rotation, and each failure with the
//! variant the port promises, a message naming the key or the cause, and no token.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use vault_core::{KeyManager, KeyManagerError, WrappedKeyring};
use vault_keymanager_transit::{TransitAuth, TransitConfig, TransitKeyManager};
use vault_testkit::key_manager_suite;
use vault_testkit::key_managers::{OpenBaoDev, free_port};

const KEY: &str = "vault-kek";
const CONTEXT: &str = "vault keyring v1";
const KEYRING: &[u8] = b"\x01\x02three keys of 32 bytes each would be here\xff\xfe\x00";

/// What the README recommends: update on encrypt and decrypt, read on the key.
const VAULT_POLICY: [(&str, &str); 3] = [
    ("encrypt/vault-kek", "update"),
    ("decrypt/vault-kek", "update"),
    ("keys/vault-kek", "read"),
];

/// A dev server with Transit mounted at `transit` and the key [`KEY`] created.
struct Bao(OpenBaoDev);

/// A [`Bao`], or returns from the test (skipped, loudly) when OpenBao is not installed.
macro_rules! bao {
    () => {
        match Bao::start().await {
            Some(bao) => bao,
            None => return,
        }
    };
}

impl Bao {
    async fn start() -> Option<Self> {
        // The testkit's own HTTP client is a default reqwest one: with reqwest's
        // `rustls-no-provider` (which this crate enables) it needs a process-wide provider.
        // The adapter never relies on it: it passes ring to its own client.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let bao = Self(OpenBaoDev::start()?);
        bao.post("sys/mounts/transit", json!({"type": "transit"}))
            .await;
        bao.post(&format!("transit/keys/{KEY}"), json!({})).await;
        Some(bao)
    }

    /// A call with the root token that must succeed; its body.
    async fn root(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.0.call(self.0.root_token(), method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.root(Method::POST, path, Some(body)).await
    }

    async fn key_status(&self, key: &str) -> StatusCode {
        let path = format!("transit/keys/{key}");
        let root = self.0.root_token();
        self.0.call(root, Method::GET, &path, None).await.0
    }

    fn manager(&self, key: &str, auth: TransitAuth) -> TransitKeyManager {
        manager_at(self.0.addr(), key, auth, Duration::from_secs(10))
    }

    fn root_manager(&self) -> TransitKeyManager {
        self.manager(KEY, token(self.0.root_token()))
    }

    /// A new token with only (`default` and) a policy granting `grants` under `transit/`.
    async fn token_with(&self, name: &str, grants: &[(&str, &str)]) -> String {
        let rules: String = grants
            .iter()
            .map(|(path, can)| {
                format!("path \"transit/{path}\" {{ capabilities = [\"{can}\"] }}\n")
            })
            .collect();
        let policy = format!("sys/policies/acl/{name}");
        self.post(&policy, json!({"policy": rules})).await;
        let answer = self
            .post("auth/token/create", json!({"policies": [name]}))
            .await;
        text(&answer, "/auth/client_token")
    }
}

fn text(value: &Value, pointer: &str) -> String {
    let found = value.pointer(pointer).and_then(Value::as_str);
    found
        .unwrap_or_else(|| panic!("{pointer} in {value}"))
        .to_owned()
}

fn token(token: &str) -> TransitAuth {
    TransitAuth::Token(SecretString::from(token.to_owned()))
}

fn manager_at(address: &str, key: &str, auth: TransitAuth, timeout: Duration) -> TransitKeyManager {
    let config = TransitConfig {
        address: address.to_owned(),
        mount: "transit".to_owned(),
        key: key.to_owned(),
        auth,
        namespace: None,
        ca_file: None,
        timeout,
    };
    TransitKeyManager::new(config).expect("a valid configuration")
}

async fn wrap(manager: &TransitKeyManager) -> WrappedKeyring {
    manager.wrap(KEYRING, CONTEXT).await.expect("wrap")
}

async fn assert_unwraps(manager: &TransitKeyManager, wrapped: &WrappedKeyring) {
    let opened = manager.unwrap(wrapped, CONTEXT).await.expect("unwrap");
    assert!(opened.as_slice() == KEYRING, "unwrap returned other bytes");
}

/// Checks that a call failed with the variant `kind` (`"Denied"`), with a message naming
/// each of `names` and holding none of `secrets`.
#[track_caller]
fn failure<T>(kind: &str, result: Result<T, KeyManagerError>, names: &[&str], secrets: &[&str]) {
    let Err(error) = result else {
        panic!("the call succeeded; it should have failed with {kind}")
    };
    let debug = format!("{error:?}");
    assert!(
        debug.starts_with(&format!("{kind}(")),
        "not {kind}: {debug}"
    );
    let message = error.to_string();
    for name in names {
        assert!(message.contains(name), "{name:?} missing from: {message}");
    }
    for secret in secrets {
        assert!(!message.contains(secret), "a secret in: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_with_a_token() {
    let bao = bao!();
    let manager = bao.root_manager();
    key_manager_suite::run_all(&manager).await;

    let wrapped = wrap(&manager).await;
    assert_eq!(wrapped.manager, "transit");
    assert_eq!(wrapped.key, "transit key vault-kek v1");
    assert!(
        wrapped.bytes.starts_with(b"vault:v1:"),
        "a Transit ciphertext"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_with_approle_and_a_new_login_when_its_token_is_revoked() {
    let bao = bao!();
    // Writes the policy `vault` (the token it also makes is not used).
    bao.token_with("vault", &VAULT_POLICY).await;
    bao.post("sys/auth/approle", json!({"type": "approle"}))
        .await;
    let role = "auth/approle/role/vault";
    bao.post(role, json!({"token_policies": ["vault"]})).await;
    let role_id = text(
        &bao.root(Method::GET, &format!("{role}/role-id"), None)
            .await,
        "/data/role_id",
    );
    let secret_id = text(
        &bao.post(&format!("{role}/secret-id"), json!({})).await,
        "/data/secret_id",
    );
    let approle = |secret_id: &str| TransitAuth::AppRole {
        mount: "approle".to_owned(),
        role_id: role_id.clone(),
        secret_id: SecretString::from(secret_id.to_owned()),
    };
    let manager = bao.manager(KEY, approle(&secret_id));
    key_manager_suite::run_all(&manager).await;
    assert!(format!("{manager:?}").contains("approle_logged_in: true"));

    // Every token AppRole issued is revoked: the cached one is refused (403), and the
    // adapter must log in again rather than report Denied.
    let wrapped = wrap(&manager).await;
    bao.root(
        Method::PUT,
        "sys/leases/revoke-prefix/auth/approle/login",
        None,
    )
    .await;
    assert_unwraps(&manager, &wrapped).await;
    assert_unwraps(&manager, &wrap(&manager).await).await;

    // A refused login names AppRole and the role, not the secret id.
    let wrong = "0b5e64f2-wrong-secret-id";
    let refused = bao.manager(KEY, approle(wrong));
    let (names, secrets) = (["AppRole", &role_id], [wrong, &secret_id]);
    failure(
        "Denied",
        refused.wrap(KEYRING, CONTEXT).await,
        &names,
        &secrets,
    );
    failure("Denied", refused.check().await, &names, &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_old_wraps_and_names_the_new_version() {
    let bao = bao!();
    let manager = bao.root_manager();
    let old = wrap(&manager).await;
    assert_eq!(old.key, "transit key vault-kek v1");

    bao.post(&format!("transit/keys/{KEY}/rotate"), json!({}))
        .await;
    assert_unwraps(&manager, &old).await;
    let new = wrap(&manager).await;
    assert_eq!(new.key, "transit key vault-kek v2");
    assert!(
        new.bytes.starts_with(b"vault:v2:"),
        "wrapped under version 2"
    );
    assert_unwraps(&manager, &new).await;
}

/// A version below `min_decryption_version` is `KeyUnusable`, not `Unwrap`: the bytes are
/// intact, the key version was retired (lowering the setting again makes it unwrap).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retired_key_version_is_unusable() {
    let bao = bao!();
    let manager = bao.root_manager();
    let old = wrap(&manager).await;
    bao.post(&format!("transit/keys/{KEY}/rotate"), json!({}))
        .await;
    let config = format!("transit/keys/{KEY}/config");
    bao.post(&config, json!({"min_decryption_version": 2}))
        .await;

    let names = [KEY, "400", "disallowed"];
    failure(
        "KeyUnusable",
        manager.unwrap(&old, CONTEXT).await,
        &names,
        &[],
    );
    assert_unwraps(&manager, &wrap(&manager).await).await;

    bao.post(&config, json!({"min_decryption_version": 1}))
        .await;
    assert_unwraps(&manager, &old).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_or_no_answer_is_unreachable() {
    let secret = "s.token-never-printed";
    let wrapped = WrappedKeyring {
        manager: "transit".to_owned(),
        key: "transit key vault-kek v1".to_owned(),
        bytes: b"vault:v1:AAAA".to_vec(),
    };
    let address = format!("http://127.0.0.1:{}", free_port());
    let manager = manager_at(&address, KEY, token(secret), Duration::from_secs(10));
    let names = [address.as_str(), KEY, "onnect"];
    failure(
        "Unreachable",
        manager.wrap(KEYRING, CONTEXT).await,
        &names,
        &[secret],
    );
    failure(
        "Unreachable",
        manager.unwrap(&wrapped, CONTEXT).await,
        &names,
        &[secret],
    );
    failure("Unreachable", manager.check().await, &names, &[secret]);

    // A listener that never answers: the timeout, not a hang.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", silent.local_addr().expect("address"));
    let manager = manager_at(&address, KEY, token(secret), Duration::from_millis(500));
    let started = Instant::now();
    failure(
        "Unreachable",
        manager.check().await,
        &[KEY, "timed out"],
        &[secret],
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_server_is_unreachable() {
    let bao = bao!();
    let manager = bao.root_manager();
    let wrapped = wrap(&manager).await;
    bao.root(Method::PUT, "sys/seal", None).await;
    let root = [bao.0.root_token()];
    failure(
        "Unreachable",
        manager.unwrap(&wrapped, CONTEXT).await,
        &["503"],
        &root,
    );
    failure("Unreachable", manager.check().await, &["503"], &root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_denied() {
    let bao = bao!();
    let wrapped = wrap(&bao.root_manager()).await;
    let wrong = "s.not-a-token-of-this-server";
    let manager = bao.manager(KEY, token(wrong));
    let names = [KEY, "403"];
    failure(
        "Denied",
        manager.wrap(KEYRING, CONTEXT).await,
        &names,
        &[wrong],
    );
    failure(
        "Denied",
        manager.unwrap(&wrapped, CONTEXT).await,
        &names,
        &[wrong],
    );
    failure("Denied", manager.check().await, &names, &[wrong]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_is_unusable_and_never_created() {
    let bao = bao!();
    let absent = "no-such-key";
    // The root token may create keys: encrypt alone would have created it.
    let manager = bao.manager(absent, token(bao.0.root_token()));
    let (names, root) = ([absent, "404", "does not exist"], [bao.0.root_token()]);
    failure(
        "KeyUnusable",
        manager.wrap(KEYRING, CONTEXT).await,
        &names,
        &root,
    );
    failure("KeyUnusable", manager.check().await, &names, &root);
    assert_eq!(
        bao.key_status(absent).await,
        StatusCode::NOT_FOUND,
        "the key was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_key_is_unusable() {
    let bao = bao!();
    let manager = bao.root_manager();
    let wrapped = wrap(&manager).await;
    let key = format!("transit/keys/{KEY}");
    bao.post(&format!("{key}/config"), json!({"deletion_allowed": true}))
        .await;
    bao.root(Method::DELETE, &key, None).await;

    let names = [KEY, "not found"];
    failure(
        "KeyUnusable",
        manager.unwrap(&wrapped, CONTEXT).await,
        &names,
        &[],
    );
    failure("KeyUnusable", manager.check().await, &[KEY, "404"], &[]);
    assert_eq!(
        bao.key_status(KEY).await,
        StatusCode::NOT_FOUND,
        "the key was recreated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_without_decrypt_is_denied_on_unwrap() {
    let bao = bao!();
    let scoped = bao
        .token_with("no-decrypt", &[VAULT_POLICY[0], VAULT_POLICY[2]])
        .await;
    let manager = bao.manager(KEY, token(&scoped));
    manager.check().await.expect("encrypt is allowed");
    let wrapped = wrap(&manager).await;
    let names = [KEY, "403", "decrypt"];
    failure(
        "Denied",
        manager.unwrap(&wrapped, CONTEXT).await,
        &names,
        &[&scoped],
    );
}

/// Without `read` on the key's metadata the adapter trusts encrypt; with no `create`, a
/// missing key is then refused by the server (403), and still not created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_without_read_on_the_key_still_works() {
    let bao = bao!();
    let absent = "no-such-key";
    let grants = [
        VAULT_POLICY[0],
        VAULT_POLICY[1],
        ("encrypt/no-such-key", "update"),
    ];
    let scoped = bao.token_with("no-read", &grants).await;
    key_manager_suite::run_all(&bao.manager(KEY, token(&scoped))).await;

    let result = bao.manager(absent, token(&scoped)).check().await;
    failure("Denied", result, &[absent, "403"], &[&scoped]);
    assert_eq!(
        bao.key_status(absent).await,
        StatusCode::NOT_FOUND,
        "the key was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_denied() {
    let bao = bao!();
    let scoped = bao.token_with("vault", &VAULT_POLICY).await;
    let manager = bao.manager(KEY, token(&scoped));
    let wrapped = wrap(&manager).await;
    let (status, _) = bao
        .0
        .call(&scoped, Method::POST, "auth/token/revoke-self", None)
        .await;
    assert!(status.is_success(), "revoke-self: {status}");

    let names = [KEY, "403"];
    failure(
        "Denied",
        manager.wrap(KEYRING, CONTEXT).await,
        &names,
        &[&scoped],
    );
    failure(
        "Denied",
        manager.unwrap(&wrapped, CONTEXT).await,
        &names,
        &[&scoped],
    );
    failure("Denied", manager.check().await, &names, &[&scoped]);
}
