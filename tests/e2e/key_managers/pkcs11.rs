//! The vault on SoftHSM2: a PKCS#11 token in a temporary directory, its AES-256 key made
//! inside it with OpenSC's `pkcs11-tool`. The vault finds the token through `SOFTHSM2_CONF`,
//! which is part of the settings (its process's environment).

use std::process::Output;

use super::{Lifecycle, OnManager};
use crate::helpers::key_managers::SoftHsm;

const KEY: &str = "vault-kek";

/// A token with the AES key `KEY` in it; `None` when SoftHSM2 or `pkcs11-tool` is not
/// installed (and CI is not `true`).
fn token() -> Option<SoftHsm> {
    let hsm = SoftHsm::init()?;
    hsm.pkcs11_tool()?;
    hsm.keygen(KEY, "01");
    Some(hsm)
}

/// `pkcs11-tool --login` on the token with `args`, which must succeed.
fn pkcs11_tool(hsm: &SoftHsm, args: &[&str]) -> Output {
    let out = hsm
        .pkcs11_tool()
        .expect("pkcs11-tool")
        .args(["--login", "--pin", hsm.pin()])
        .args(args)
        .output()
        .expect("run pkcs11-tool");
    assert!(
        out.status.success(),
        "pkcs11-tool {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The vault's settings for the token (selected by its label) and the key `label`, with
/// the PIN given directly.
fn settings(hsm: &SoftHsm, label: &str) -> Vec<(String, String)> {
    [
        ("VAULT_KEY_MANAGER", "pkcs11"),
        (
            "VAULT_PKCS11_MODULE",
            &hsm.module_path().display().to_string(),
        ),
        ("VAULT_PKCS11_TOKEN_LABEL", hsm.label()),
        ("VAULT_PKCS11_KEY_LABEL", label),
        ("VAULT_PKCS11_PIN", hsm.pin()),
        ("SOFTHSM2_CONF", &hsm.conf_path().display().to_string()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn on(hsm: &SoftHsm) -> OnManager {
    OnManager {
        dir: tempfile::tempdir().expect("temp dir"),
        settings: settings(hsm, KEY),
    }
}

/// The lifecycle with the HSM's own key rotation as an operator does it: a second AES key
/// in the token under a new label, `VAULT_PKCS11_KEY_LABEL` switched to it, and
/// `keys rewrap` wrapping the keyring again under it (the wrapped keyring names the label
/// of the key that wrapped it, so the old key unwraps it first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_runs_on_softhsm_through_restarts_and_rotations() {
    let Some(hsm) = token() else {
        return;
    };
    let lifecycle = Lifecycle::bootstrap(on(&hsm)).await;
    let hsm = &hsm;
    let lifecycle = lifecycle
        .run_switching(async || {
            hsm.keygen("vault-kek-2", "02");
            vec![(
                "VAULT_PKCS11_KEY_LABEL".to_owned(),
                "vault-kek-2".to_owned(),
            )]
        })
        .await;
    let status = lifecycle.status();
    assert!(
        status.contains(&format!(
            "wrapped by pkcs11 key vault-kek-2 (id 02) on token {}",
            hsm.label()
        )),
        "{status}"
    );
    assert!(
        !status.contains(hsm.pin()),
        "the PIN is not shown: {status}"
    );
}

/// The HSM's key rotation step by step: with the label switched, the old key still opens
/// the keyring (the server starts before any rewrap); after `keys rewrap` the old key can
/// be deleted from the token and everything still opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rewrap_under_a_new_label_the_old_key_can_go() {
    let Some(hsm) = token() else {
        return;
    };
    let mut lifecycle = Lifecycle::bootstrap(on(&hsm)).await;
    let server = lifecycle.on.start();
    lifecycle.create(&server, 3).await;
    server.stop();

    hsm.keygen("vault-kek-2", "02");
    lifecycle.on.set("VAULT_PKCS11_KEY_LABEL", "vault-kek-2");
    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    let status = lifecycle.status();
    assert!(
        status.contains(&format!("wrapped by pkcs11 key {KEY} (id 01)")),
        "still under the old key until the rewrap: {status}"
    );
    let (_, stderr) = lifecycle.on.run(&["keys", "rewrap"]);
    assert!(
        stderr.contains("wrapped the keyring again with PKCS#11 key \"vault-kek-2\""),
        "{stderr}"
    );
    lifecycle.use_all(&server).await;
    server.stop();

    pkcs11_tool(
        &hsm,
        &["--delete-object", "--type", "secrkey", "--label", KEY],
    );
    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    lifecycle.create(&server, 1).await;
    lifecycle.use_all(&server).await;
    server.stop();
    let status = lifecycle.status();
    assert!(
        status.contains("keyring generation 2 (1 keys)")
            && status.contains("wrapped by pkcs11 key vault-kek-2 (id 02)"),
        "{status}"
    );
}

/// A label that names no key in the token, on an installation whose keyring another key
/// wrapped: start is refused, naming the label and the setting, although the keyring would
/// still unwrap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_naming_no_key_refuses_start_and_names_it() {
    let Some(hsm) = token() else {
        return;
    };
    let mut lifecycle = Lifecycle::bootstrap(on(&hsm)).await;
    let before = lifecycle.on.snapshot();
    lifecycle.on.set("VAULT_PKCS11_KEY_LABEL", "no-such-key");
    let refused = lifecycle.on.refused(&["serve"]);
    assert!(
        refused.contains("no AES secret key labelled \"no-such-key\"")
            && refused.contains("VAULT_PKCS11_KEY_LABEL"),
        "{refused}"
    );
    lifecycle.on.assert_unchanged(&before, "a refused start");
}

/// A wrong PIN refuses start, saying the token refused the PIN, never printing it (nor the
/// right one); the database is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_refuses_start_without_showing_it() {
    let Some(hsm) = token() else {
        return;
    };
    let mut lifecycle = Lifecycle::bootstrap(on(&hsm)).await;
    let server = lifecycle.on.start();
    lifecycle.create(&server, 2).await;
    server.stop();
    let before = lifecycle.on.snapshot();

    // Another 8-digit PIN, unlike the right one in its last digit.
    let right = hsm.pin();
    let last = right.as_bytes()[right.len() - 1];
    let wrong = format!(
        "{}{}",
        &right[..right.len() - 1],
        if last == b'9' {
            '0'
        } else {
            char::from(last + 1)
        }
    );
    lifecycle.on.set("VAULT_PKCS11_PIN", &wrong);
    let refused = lifecycle.on.refused(&["serve"]);
    assert!(
        refused.contains("refused the PIN") && refused.contains("check VAULT_PKCS11_PIN"),
        "{refused}"
    );
    assert!(
        !refused.contains(&wrong) && !refused.contains(right),
        "no PIN is shown: {refused}"
    );
    lifecycle.on.assert_unchanged(&before, "a refused start");

    // The right PIN again: the vault serves, the token was not locked by the attempt.
    lifecycle.on.set("VAULT_PKCS11_PIN", right);
    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    server.stop();
}

/// The key deleted from the token: start is refused naming the key, and the database is
/// left byte for byte as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_key_refuses_start_and_changes_nothing() {
    let Some(hsm) = token() else {
        return;
    };
    let mut lifecycle = Lifecycle::bootstrap(on(&hsm)).await;
    let server = lifecycle.on.start();
    lifecycle.create(&server, 3).await;
    server.stop();
    let before = lifecycle.on.snapshot();

    pkcs11_tool(
        &hsm,
        &["--delete-object", "--type", "secrkey", "--label", KEY],
    );
    let listed = pkcs11_tool(&hsm, &["--list-objects", "--type", "secrkey"]);
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains(KEY),
        "positive control: the key is gone"
    );
    for args in [&["serve"][..], &["keys", "status"]] {
        let refused = lifecycle.on.refused(args);
        assert!(
            refused.contains("not usable")
                && refused.contains(&format!("no AES secret key labelled \"{KEY}\"")),
            "{args:?}: {refused}"
        );
        lifecycle.on.assert_unchanged(&before, &format!("{args:?}"));
    }
}

/// The PIN from `VAULT_PKCS11_PIN_FILE` (with a trailing newline, as `echo` writes it), the
/// token selected by its slot id: the vault is created, restarts and serves. The PIN and
/// the file both set is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pin_from_a_file_and_the_slot_by_id_work() {
    let Some(hsm) = token() else {
        return;
    };
    let mut on = on(&hsm);
    let pin_file = on.dir.path().join("hsm-pin");
    std::fs::write(&pin_file, format!("{}\n", hsm.pin())).expect("PIN file");
    on.settings
        .retain(|(name, _)| name != "VAULT_PKCS11_PIN" && name != "VAULT_PKCS11_TOKEN_LABEL");
    on.set("VAULT_PKCS11_PIN_FILE", &pin_file.display().to_string());
    on.set("VAULT_PKCS11_SLOT", &hsm.slot().to_string());

    let mut lifecycle = Lifecycle::bootstrap(on).await;
    let server = lifecycle.on.start();
    lifecycle.create(&server, 2).await;
    server.stop();
    let server = lifecycle.on.start();
    lifecycle.use_all(&server).await;
    let (_, log) = server.stop();
    assert!(!log.contains(hsm.pin()), "the PIN is not logged");
    let status = lifecycle.status();
    assert!(
        status.contains(&format!("on slot {}", hsm.slot())),
        "{status}"
    );

    lifecycle.on.set("VAULT_PKCS11_PIN", hsm.pin());
    let refused = lifecycle.on.refused(&["serve"]);
    assert!(
        refused.contains("set VAULT_PKCS11_PIN or VAULT_PKCS11_PIN_FILE, not both"),
        "{refused}"
    );
    assert!(!refused.contains(hsm.pin()), "{refused}");
}
