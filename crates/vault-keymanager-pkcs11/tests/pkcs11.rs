//! The key-manager conformance suite and the wrapped format, against a real SoftHSM2 token.
//! Each scenario runs in a child process with its own token (see `softhsm/mod.rs` for why).

mod softhsm;

use cryptoki::session::{SessionState, UserType};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use softhsm::{Token, in_child};
use vault_core::{KeyManager, KeyManagerError, WrappedKeyring};
use vault_keymanager_pkcs11::SlotSelector;
use vault_testkit::key_manager_suite;

const CONTEXT: &str = "vault keyring v1";
const KEYRING: &[u8] = b"a keyring: three 32-byte keys and a header, or thereabouts";

#[test]
fn conformance_selecting_the_token_by_label() {
    in_child("conformance_selecting_the_token_by_label_in_child");
}

#[tokio::test]
#[ignore = "run by conformance_selecting_the_token_by_label in a child process with SOFTHSM2_CONF set"]
async fn conformance_selecting_the_token_by_label_in_child() {
    let token = Token::from_env();
    token.keygen("vault-kek", "01");
    let manager = token.manager(token.config("vault-kek"));
    assert_eq!(manager.kind(), "pkcs11");
    assert_eq!(
        manager.describe(),
        format!(
            "PKCS#11 key \"vault-kek\" on token \"{}\" (module {})",
            token.label,
            token.module.display()
        )
    );
    key_manager_suite::run_all(&manager).await;
}

#[test]
fn conformance_selecting_the_slot_by_id() {
    in_child("conformance_selecting_the_slot_by_id_in_child");
}

#[tokio::test]
#[ignore = "run by conformance_selecting_the_slot_by_id in a child process with SOFTHSM2_CONF set"]
async fn conformance_selecting_the_slot_by_id_in_child() {
    let token = Token::from_env();
    token.keygen("vault-kek", "01");
    let mut config = token.config("vault-kek");
    config.slot = SlotSelector::Id(token.slot);
    let manager = token.manager(config);
    assert_eq!(
        manager.describe(),
        format!(
            "PKCS#11 key \"vault-kek\" on slot {} (module {})",
            token.slot,
            token.module.display()
        )
    );
    key_manager_suite::run_all(&manager).await;
}

#[test]
fn the_wrapped_keyring_is_standard_aes_gcm() {
    in_child("the_wrapped_keyring_is_standard_aes_gcm_in_child");
}

/// With a key of known bytes imported into the token, ring (an AES-GCM we did not write)
/// opens what the token sealed and the token opens what ring sealed: the format is
/// `1 | IV | ciphertext | tag` with the context as AAD, as documented.
#[tokio::test]
#[ignore = "run by the_wrapped_keyring_is_standard_aes_gcm in a child process with SOFTHSM2_CONF set"]
async fn the_wrapped_keyring_is_standard_aes_gcm_in_child() {
    let token = Token::from_env();
    let key_bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5c);
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("key.bin");
    std::fs::write(&key_file, key_bytes).expect("write the key");
    let key_path = key_file.to_str().expect("a UTF-8 path");
    token.pkcs11_tool(&[
        "--write-object",
        key_path,
        "--type",
        "secrkey",
        "--key-type",
        "AES:32",
        "--label",
        "imported",
        "--id",
        "0f1e",
    ]);
    let ring_key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key_bytes).expect("a key"));
    let manager = token.manager(token.config("imported"));

    let wrapped = manager.wrap(KEYRING, CONTEXT).await.expect("wrap");
    assert_eq!(wrapped.manager, "pkcs11");
    assert_eq!(
        wrapped.key,
        format!("pkcs11 key imported (id 0f1e) on token {}", token.label)
    );
    // `1 | label length | label | IV | ciphertext | tag`.
    let header = [&[1_u8, 8][..], b"imported"].concat();
    assert_eq!(
        wrapped.bytes[..10],
        header[..],
        "format version and key label"
    );
    assert_eq!(wrapped.bytes.len(), 10 + 12 + KEYRING.len() + 16);

    // The token's wrap, opened by ring.
    let nonce = Nonce::try_assume_unique_for_key(&wrapped.bytes[10..22]).expect("a 12-byte IV");
    let mut sealed = wrapped.bytes[22..].to_vec();
    let opened = ring_key
        .open_in_place(nonce, Aad::from(CONTEXT.as_bytes()), &mut sealed)
        .expect("ring opens the token's AES-GCM");
    assert_eq!(opened, KEYRING);

    // ring's seal, opened by the token; and refused for another context.
    let iv = [7_u8; 12];
    let mut sealed = KEYRING.to_vec();
    ring_key
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(CONTEXT.as_bytes()),
            &mut sealed,
        )
        .expect("ring seals");
    let from_ring = WrappedKeyring {
        manager: "pkcs11".to_owned(),
        key: "sealed by ring".to_owned(),
        bytes: [&header[..], &iv, &sealed].concat(),
    };
    let opened = manager
        .unwrap(&from_ring, CONTEXT)
        .await
        .expect("unwrap ring's seal");
    assert!(opened.as_slice() == KEYRING, "other bytes from ring's seal");
    match manager.unwrap(&from_ring, "another context").await {
        Err(KeyManagerError::Unwrap(why)) => {
            // SoftHSM2 2.6 reports a tag that does not verify as CKR_GENERAL_ERROR from
            // C_Decrypt: the code the manager reads as `Unwrap` for it.
            assert!(why.contains("C_Decrypt: GeneralError"), "{why}");
            assert!(
                why.contains("sealed by ring"),
                "names the wrapping key: {why}"
            );
        }
        other => panic!("another context gave {other:?}, not Unwrap"),
    }

    // A keyring another kind of manager wrapped, or a truncated one, is refused before the
    // token is asked.
    let mut transit = wrapped.clone();
    transit.manager = "transit".to_owned();
    assert!(matches!(
        manager.unwrap(&transit, CONTEXT).await,
        Err(KeyManagerError::Unwrap(_))
    ));
    let mut short = wrapped.clone();
    short.bytes.truncate(10 + 12 + 15);
    assert!(matches!(
        manager.unwrap(&short, CONTEXT).await,
        Err(KeyManagerError::Unwrap(_))
    ));
}

#[test]
fn every_operation_logs_out() {
    in_child("every_operation_logs_out_in_child");
}

/// PKCS#11 login state is the application's: every session of this process sees it. A
/// witness session held open throughout shows whether an operation left its login behind
/// (held open because closing the application's last session logs out by itself, which
/// would hide a missing `C_Logout`). Closing the sessions is cryptoki's `Drop`; SoftHSM2
/// does not count sessions (`ulSessionCount` is unavailable), so that is not observed here.
#[tokio::test]
#[ignore = "run by every_operation_logs_out in a child process with SOFTHSM2_CONF set"]
async fn every_operation_logs_out_in_child() {
    let token = Token::from_env();
    token.keygen("vault-kek", "01");
    let (pkcs11, slot) = token.cryptoki();
    let manager = token.manager(token.config("vault-kek"));
    let missing = token.manager(token.config("no-such-key"));
    let mut wrong_pin = token.config("vault-kek");
    wrong_pin.pin = "not-the-pin".into();
    let wrong_pin = token.manager(wrong_pin);

    let witness = pkcs11.open_ro_session(slot).expect("a session");
    let state = || {
        witness
            .get_session_info()
            .expect("session info")
            .session_state()
    };
    assert_eq!(state(), SessionState::RoPublic, "before any operation");
    // The witness is seen to work: a login shows in it, and so does the logout.
    let other = pkcs11.open_ro_session(slot).expect("a session");
    other
        .login(UserType::User, Some(&token.pin.as_str().into()))
        .expect("login");
    assert_eq!(state(), SessionState::RoUser, "another session's login");
    other.logout().expect("logout");
    assert_eq!(state(), SessionState::RoPublic, "another session's logout");
    drop(other);

    manager.check().await.expect("check");
    assert_eq!(state(), SessionState::RoPublic, "after check");
    let wrapped = manager.wrap(KEYRING, CONTEXT).await.expect("wrap");
    assert_eq!(state(), SessionState::RoPublic, "after wrap");
    manager.unwrap(&wrapped, CONTEXT).await.expect("unwrap");
    assert_eq!(state(), SessionState::RoPublic, "after unwrap");
    // Failures after the login: no key, a tag that does not verify.
    assert!(matches!(
        missing.check().await,
        Err(KeyManagerError::KeyUnusable(_))
    ));
    assert_eq!(state(), SessionState::RoPublic, "after a missing key");
    assert!(matches!(
        manager.unwrap(&wrapped, "another").await,
        Err(KeyManagerError::Unwrap(_))
    ));
    assert_eq!(state(), SessionState::RoPublic, "after a failed unwrap");
    // A failure at the login.
    assert!(matches!(
        wrong_pin.check().await,
        Err(KeyManagerError::Denied(_))
    ));
    assert_eq!(state(), SessionState::RoPublic, "after a refused PIN");
}
