//! The vault on OpenBao Transit (`bao server -dev` on 127.0.0.1).

use reqwest::Method;
use serde_json::{Value, json};

use super::{Lifecycle, OnManager, readyz};
use crate::helpers::key_managers::OpenBaoDev;

pub(super) const KEY: &str = "vault-kek";

/// Enables Transit and makes the key; `None` when bao is not installed (and CI is not
/// `true`).
pub(super) async fn transit() -> Option<OpenBaoDev> {
    let bao = OpenBaoDev::start()?;
    let root = bao.root_token().to_owned();
    for (path, body) in [
        ("sys/mounts/transit", json!({"type": "transit"})),
        (&format!("transit/keys/{KEY}")[..], json!({})),
    ] {
        let (status, reply) = bao.call(&root, Method::POST, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {reply}");
    }
    Some(bao)
}

/// A token of its own for the vault, with only what the vault needs on the key.
async fn vault_token(bao: &OpenBaoDev) -> String {
    let root = bao.root_token();
    let policy = format!(
        "path \"transit/encrypt/{KEY}\" {{ capabilities = [\"update\"] }}\n\
         path \"transit/decrypt/{KEY}\" {{ capabilities = [\"update\"] }}\n\
         path \"transit/keys/{KEY}\" {{ capabilities = [\"read\"] }}\n"
    );
    let (status, reply) = bao
        .call(
            root,
            Method::PUT,
            "sys/policies/acl/vault",
            Some(json!({"policy": policy})),
        )
        .await;
    assert!(status.is_success(), "policy: {status} {reply}");
    let (status, reply) = bao
        .call(
            root,
            Method::POST,
            "auth/token/create",
            Some(json!({"policies": ["vault"], "no_default_policy": true})),
        )
        .await;
    assert!(status.is_success(), "token: {status} {reply}");
    reply["auth"]["client_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

fn on(bao: &OpenBaoDev, token: &str) -> OnManager {
    OnManager::new(&[
        ("VAULT_KEY_MANAGER", "transit"),
        ("VAULT_TRANSIT_ADDRESS", bao.addr()),
        ("VAULT_TRANSIT_KEY", KEY),
        ("VAULT_TRANSIT_TOKEN", token),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_runs_on_transit_through_restarts_and_rotations() {
    let Some(bao) = transit().await else {
        return;
    };
    let token = vault_token(&bao).await;
    let lifecycle = Lifecycle::bootstrap(on(&bao, &token)).await;
    let root = bao.root_token().to_owned();
    let bao = &bao;
    let lifecycle = lifecycle
        .run(async || {
            let (status, reply) = bao
                .call(
                    &root,
                    Method::POST,
                    &format!("transit/keys/{KEY}/rotate"),
                    None,
                )
                .await;
            assert!(status.is_success(), "rotate: {status} {reply}");
        })
        .await;
    let status = lifecycle.status();
    assert!(
        status.contains(&format!("transit key {KEY} v2")),
        "{status}"
    );
    assert!(!status.contains(&token), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transit_down_at_start_refuses_start_and_names_it() {
    let Some(bao) = transit().await else {
        return;
    };
    let token = vault_token(&bao).await;
    let lifecycle = Lifecycle::bootstrap(on(&bao, &token)).await;
    drop(bao);
    let refused = lifecycle.on.refused(&["serve"]);
    assert!(
        refused.contains("unreachable") && refused.contains("transit"),
        "{refused}"
    );
    assert!(
        !refused.contains(&token),
        "the token is not shown: {refused}"
    );
}

/// The vault's token revoked, or its key deleted: start is refused with the reason, and
/// the database is left exactly as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_or_a_deleted_key_refuses_start_and_changes_nothing() {
    let Some(bao) = transit().await else {
        return;
    };
    let root = bao.root_token().to_owned();
    let token = vault_token(&bao).await;
    let mut lifecycle = Lifecycle::bootstrap(on(&bao, &token)).await;
    let server = lifecycle.on.start();
    lifecycle.create(&server, 3).await;
    server.stop();
    let before = lifecycle.on.snapshot();

    let (status, reply) = bao
        .call(
            &root,
            Method::POST,
            "auth/token/revoke",
            Some(json!({"token": token})),
        )
        .await;
    assert!(status.is_success(), "revoke: {status} {reply}");
    let refused = lifecycle.on.refused(&["serve"]);
    assert!(
        refused.contains("refused the vault's credentials"),
        "{refused}"
    );
    assert!(!refused.contains(&token), "{refused}");
    lifecycle.on.assert_unchanged(&before, "a refused start");

    // A working token again, then the key itself deleted.
    let token = vault_token(&bao).await;
    lifecycle.on = OnManager {
        settings: on(&bao, &token).settings,
        dir: lifecycle.on.dir,
    };
    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    server.stop();
    let before = lifecycle.on.snapshot();
    for (method, path, body) in [
        (
            Method::POST,
            format!("transit/keys/{KEY}/config"),
            Some(json!({"deletion_allowed": true})),
        ),
        (Method::DELETE, format!("transit/keys/{KEY}"), None::<Value>),
    ] {
        let (status, reply) = bao.call(&root, method, &path, body).await;
        assert!(status.is_success(), "{path}: {status} {reply}");
    }
    let refused = lifecycle.on.refused(&["serve"]);
    assert!(
        refused.contains("not usable") && refused.contains(KEY),
        "{refused}"
    );
    lifecycle.on.assert_unchanged(&before, "a refused start");
}

/// Transit going away while the vault runs changes nothing for uses: the keyring was
/// unwrapped at start. `/readyz` says so, and stays 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transit_down_while_running_changes_nothing_for_uses() {
    let Some(bao) = transit().await else {
        return;
    };
    let token = vault_token(&bao).await;
    let mut lifecycle = Lifecycle::bootstrap(on(&bao, &token)).await;
    let server = lifecycle.on.start();
    lifecycle.create(&server, 3).await;
    let ready = readyz(&server).await;
    assert_eq!(ready["keyManager"]["kind"], json!("transit"), "{ready}");
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("\nvault_key_manager_reachable{kind=\"transit\"} 1\n"),
        "{metrics}"
    );
    drop(bao);
    // Past a few refresh intervals: the server has noticed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let ready = readyz(&server).await;
        if ready["keyManager"]["reachable"] == json!(false) {
            assert_eq!(ready["status"], json!("ok"), "{ready}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{ready}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("\nvault_key_manager_reachable{kind=\"transit\"} 0\n"),
        "{metrics}"
    );
    lifecycle.use_all(&server).await;
    lifecycle.create(&server, 2).await;
    lifecycle.use_all(&server).await;
    let (_, log) = server.stop();
    assert!(log.contains("the key manager's check failed"), "{log}");
    assert!(!log.contains(&token), "the token is not logged");
}

/// The server's other ways to authenticate to Transit, each through a start, a create and a
/// use: AppRole with its secret id read from a file, and a token read from a file. Neither
/// secret reaches the server's output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_authenticates_with_approle_or_a_token_file() {
    let Some(bao) = transit().await else {
        return;
    };
    let root = bao.root_token().to_owned();
    let token = vault_token(&bao).await; // also writes the `vault` policy
    let call = async |method: Method, path: &str, body: Option<Value>| {
        let (status, reply) = bao.call(&root, method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {reply}");
        reply
    };
    call(
        Method::POST,
        "sys/auth/approle",
        Some(json!({"type": "approle"})),
    )
    .await;
    call(
        Method::POST,
        "auth/approle/role/vault",
        Some(json!({"token_policies": ["vault"]})),
    )
    .await;
    let role_id =
        call(Method::GET, "auth/approle/role/vault/role-id", None).await["data"]["role_id"]
            .as_str()
            .expect("role id")
            .to_owned();
    let secret_id =
        call(Method::POST, "auth/approle/role/vault/secret-id", None).await["data"]["secret_id"]
            .as_str()
            .expect("secret id")
            .to_owned();
    let secrets = tempfile::tempdir().expect("temp dir");
    let secret_file = secrets.path().join("secret-id");
    let token_file = secrets.path().join("token");
    std::fs::write(&secret_file, format!("{secret_id}\n")).expect("secret id file");
    std::fs::write(&token_file, format!("{token}\n")).expect("token file");

    for (auth, secret) in [
        (
            vec![
                ("VAULT_TRANSIT_APPROLE_ROLE_ID", role_id.as_str()),
                (
                    "VAULT_TRANSIT_APPROLE_SECRET_ID_FILE",
                    secret_file.to_str().expect("path"),
                ),
            ],
            &secret_id,
        ),
        (
            vec![(
                "VAULT_TRANSIT_TOKEN_FILE",
                token_file.to_str().expect("path"),
            )],
            &token,
        ),
    ] {
        let mut settings = vec![
            ("VAULT_KEY_MANAGER", "transit"),
            ("VAULT_TRANSIT_ADDRESS", bao.addr()),
            ("VAULT_TRANSIT_KEY", KEY),
        ];
        settings.extend(auth);
        let mut lifecycle = Lifecycle::bootstrap(OnManager::new(&settings)).await;
        let server = lifecycle.on.start();
        lifecycle.create(&server, 2).await;
        lifecycle.use_all(&server).await;
        server.stop();
        let server = lifecycle.on.start();
        lifecycle.use_all(&server).await;
        let (out, log) = server.stop();
        let status = lifecycle.status();
        for text in [&out, &log, &status] {
            assert!(
                !text.contains(secret.as_str()),
                "a secret was shown: {text}"
            );
        }
    }
}
