//! What the manager refuses, and how it says so, against a real SoftHSM2 token: a wrong
//! PIN, a key or token that is not there (or not usable), a key destroyed after a wrap, and
//! a keyring another key wrapped. Each scenario runs in a child process with its own token
//! (see `softhsm/mod.rs` for why).

mod softhsm;

use std::path::PathBuf;

use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::session::UserType;
use softhsm::{Token, in_child};
use vault_core::{KeyManager, KeyManagerError};
use vault_keymanager_pkcs11::{Pkcs11Config, Pkcs11KeyManager, SlotSelector};

const CONTEXT: &str = "vault keyring v1";
const KEYRING: &[u8] = b"a keyring: three 32-byte keys and a header, or thereabouts";

/// No token is needed: loading fails first.
#[test]
fn a_module_that_does_not_exist_is_unreachable() {
    let config = Pkcs11Config {
        module: PathBuf::from("/nonexistent/libvault-test-pkcs11.so"),
        slot: SlotSelector::Id(0),
        pin: "31415926".into(),
        key_label: "vault-kek".to_owned(),
    };
    match Pkcs11KeyManager::new(config) {
        Err(KeyManagerError::Unreachable(why)) => {
            assert!(
                why.contains("/nonexistent/libvault-test-pkcs11.so"),
                "{why}"
            );
            assert!(!why.contains("31415926"), "{why}");
        }
        other => panic!("a missing module gave {other:?}, not Unreachable"),
    }
}

#[test]
fn a_wrong_pin_is_denied_without_showing_it() {
    in_child("a_wrong_pin_is_denied_without_showing_it_in_child");
}

#[tokio::test]
#[ignore = "run by a_wrong_pin_is_denied_without_showing_it in a child process with SOFTHSM2_CONF set"]
async fn a_wrong_pin_is_denied_without_showing_it_in_child() {
    let token = Token::from_env();
    token.keygen("vault-kek", "01");
    // The right PIN with a digit more: wrong, and containing the right one, so one check
    // covers both.
    for wrong in [format!("{}0", token.pin), "12".to_owned()] {
        let mut config = token.config("vault-kek");
        config.pin = wrong.as_str().into();
        let manager = token.manager(config);
        assert!(!format!("{manager:?}").contains(&wrong));
        let refused = [
            manager.check().await.map(drop),
            manager.wrap(KEYRING, CONTEXT).await.map(drop),
        ];
        for result in refused {
            match result {
                Err(error @ KeyManagerError::Denied(_)) => {
                    let said = format!("{error} {error:?}");
                    assert!(said.contains("the token refused the PIN"), "{said}");
                    assert!(!said.contains(&wrong), "the PIN is in: {said}");
                    assert!(!said.contains(&token.pin), "the PIN is in: {said}");
                }
                other => panic!("PIN {} gave {other:?}, not Denied", wrong.len()),
            }
        }
    }
    // The right PIN still works: nothing was locked or left logged in.
    token
        .manager(token.config("vault-kek"))
        .check()
        .await
        .expect("check");
}

#[test]
fn a_missing_or_ambiguous_key_is_unusable() {
    in_child("a_missing_or_ambiguous_key_is_unusable_in_child");
}

#[tokio::test]
#[ignore = "run by a_missing_or_ambiguous_key_is_unusable in a child process with SOFTHSM2_CONF set"]
async fn a_missing_or_ambiguous_key_is_unusable_in_child() {
    let token = Token::from_env();
    token.keygen("vault-kek", "01");
    token.keygen("twice", "02");
    token.keygen("twice", "03");
    // A secret key, but not an AES one.
    token.pkcs11_tool(&[
        "--keygen",
        "--key-type",
        "GENERIC:32",
        "--label",
        "hmac-key",
    ]);

    for (label, expected) in [
        ("no-such-key", "no AES secret key labelled \"no-such-key\""),
        ("hmac-key", "no AES secret key labelled \"hmac-key\""),
        ("twice", "2 AES secret keys are labelled \"twice\""),
    ] {
        let manager = token.manager(token.config(label));
        let results = [
            manager.check().await.map(drop),
            manager.wrap(KEYRING, CONTEXT).await.map(drop),
        ];
        for result in results {
            match result {
                Err(KeyManagerError::KeyUnusable(why)) => {
                    assert!(why.contains(expected), "{why}");
                    assert!(why.contains(&format!("token \"{}\"", token.label)), "{why}");
                }
                other => panic!("key {label} gave {other:?}, not KeyUnusable"),
            }
        }
    }
    token
        .manager(token.config("vault-kek"))
        .check()
        .await
        .expect("the real key");
}

#[test]
fn a_missing_token_is_unreachable() {
    in_child("a_missing_token_is_unreachable_in_child");
}

#[tokio::test]
#[ignore = "run by a_missing_token_is_unreachable in a child process with SOFTHSM2_CONF set"]
async fn a_missing_token_is_unreachable_in_child() {
    let token = Token::from_env();
    token.keygen("vault-kek", "01");
    let (pkcs11, _) = token.cryptoki();
    let slots = pkcs11.get_all_slots().expect("the slots");
    let no_slot = (1..)
        .find(|id| slots.iter().all(|s| s.id() != *id))
        .expect("a free id");
    // SoftHSM2 keeps one slot with an uninitialised token, for the next one.
    let blank = slots
        .iter()
        .find(|s| {
            !pkcs11
                .get_token_info(**s)
                .expect("token info")
                .token_initialized()
        })
        .expect("SoftHSM2's slot for a new token");

    for (slot, expected) in [
        (
            SlotSelector::TokenLabel("no-such-token".to_owned()),
            format!(
                "no token labelled \"no-such-token\" (tokens present: \"{}\")",
                token.label
            ),
        ),
        (SlotSelector::Id(no_slot), format!("no slot {no_slot}")),
        (
            SlotSelector::Id(blank.id()),
            format!("slot {} holds a token that is not initialised", blank.id()),
        ),
    ] {
        let mut config = token.config("vault-kek");
        config.slot = slot.clone();
        match token.manager(config).check().await {
            Err(KeyManagerError::Unreachable(why)) => assert!(why.contains(&expected), "{why}"),
            other => panic!("{slot} gave {other:?}, not Unreachable"),
        }
    }
}

#[test]
fn a_key_that_may_not_encrypt_or_decrypt_is_unusable() {
    in_child("a_key_that_may_not_encrypt_or_decrypt_is_unusable_in_child");
}

/// `pkcs11-tool --keygen` always sets CKA_ENCRYPT and CKA_DECRYPT on an AES key (and
/// SoftHSM2 defaults both to true), so these keys are made through cryptoki.
#[tokio::test]
#[ignore = "run by a_key_that_may_not_encrypt_or_decrypt_is_unusable in a child process with SOFTHSM2_CONF set"]
async fn a_key_that_may_not_encrypt_or_decrypt_is_unusable_in_child() {
    let token = Token::from_env();
    let (pkcs11, slot) = token.cryptoki();
    {
        let session = pkcs11.open_rw_session(slot).expect("a session");
        session
            .login(UserType::User, Some(&token.pin.as_str().into()))
            .expect("login");
        for (label, encrypt, decrypt) in [("no-decrypt", true, false), ("no-encrypt", false, true)]
        {
            let template = [
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::ValueLen(32.into()),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Encrypt(encrypt),
                Attribute::Decrypt(decrypt),
            ];
            session
                .generate_key(&Mechanism::AesKeyGen, &template)
                .expect("generate the key");
        }
        session.logout().expect("logout");
    }
    let listed = token.pkcs11_tool(&["--list-objects", "--type", "secrkey"]);
    assert!(listed.contains("label:      no-decrypt"), "{listed}");

    for (label, missing) in [("no-decrypt", "CKA_DECRYPT"), ("no-encrypt", "CKA_ENCRYPT")] {
        let manager = token.manager(token.config(label));
        // Refused for wrapping too: a keyring sealed under a key that cannot open it
        // would be lost.
        let results = [
            manager.check().await.map(drop),
            manager.wrap(KEYRING, CONTEXT).await.map(drop),
        ];
        for result in results {
            match result {
                Err(KeyManagerError::KeyUnusable(why)) => {
                    assert!(why.contains(&format!("key \"{label}\"")), "{why}");
                    assert!(why.contains(&format!("does not allow {missing}")), "{why}");
                }
                other => panic!("key {label} gave {other:?}, not KeyUnusable"),
            }
        }
    }
}

#[test]
fn a_destroyed_key_refuses_start() {
    in_child("a_destroyed_key_refuses_start_in_child");
}

/// A revoked key: the keyring wrapped under it no longer unwraps, and a new key under the
/// same label does not bring it back.
#[tokio::test]
#[ignore = "run by a_destroyed_key_refuses_start in a child process with SOFTHSM2_CONF set"]
async fn a_destroyed_key_refuses_start_in_child() {
    let token = Token::from_env();
    token.keygen("vault-kek", "01");
    let manager = token.manager(token.config("vault-kek"));
    let wrapped = manager.wrap(KEYRING, CONTEXT).await.expect("wrap");
    manager
        .unwrap(&wrapped, CONTEXT)
        .await
        .expect("unwrap before");

    token.pkcs11_tool(&[
        "--delete-object",
        "--type",
        "secrkey",
        "--label",
        "vault-kek",
    ]);
    let listed = token.pkcs11_tool(&["--list-objects", "--type", "secrkey"]);
    assert!(!listed.contains("vault-kek"), "{listed}");
    for result in [
        manager.unwrap(&wrapped, CONTEXT).await.map(drop),
        manager.check().await,
    ] {
        match result {
            Err(KeyManagerError::KeyUnusable(why)) => {
                assert!(why.contains("\"vault-kek\""), "{why}");
            }
            other => panic!("a destroyed key gave {other:?}, not KeyUnusable"),
        }
    }

    token.keygen("vault-kek", "01");
    manager.check().await.expect("the new key is usable");
    match manager.unwrap(&wrapped, CONTEXT).await {
        Err(KeyManagerError::Unwrap(_)) => {}
        other => panic!("a new key under the old label gave {other:?}, not Unwrap"),
    }
}

#[test]
fn a_keyring_opens_under_the_key_that_wrapped_it_and_no_other() {
    in_child("a_keyring_opens_under_the_key_that_wrapped_it_and_no_other_in_child");
}

/// The HSM key's rotation: a keyring wrapped under `kek-a` still opens once the configured
/// label names `kek-b` (the blob names its key), so `keys rewrap` can wrap it again under
/// `kek-b`. A blob whose label was changed to another key's fails `Unwrap`, not
/// `KeyUnusable`: both keys are healthy, what fails is the blob.
#[tokio::test]
#[ignore = "run by a_keyring_opens_under_the_key_that_wrapped_it_and_no_other in a child process with SOFTHSM2_CONF set"]
async fn a_keyring_opens_under_the_key_that_wrapped_it_and_no_other_in_child() {
    let token = Token::from_env();
    token.keygen("kek-a", "0a");
    token.keygen("kek-b", "0b");
    let a = token.manager(token.config("kek-a"));
    let b = token.manager(token.config("kek-b"));
    let wrapped = a.wrap(KEYRING, CONTEXT).await.expect("wrap under kek-a");

    b.check().await.expect("kek-b is usable");
    let opened = b
        .unwrap(&wrapped, CONTEXT)
        .await
        .expect("kek-a's keyring opens");
    assert!(opened.as_slice() == KEYRING, "other bytes");
    let rewrapped = b.wrap(&opened, CONTEXT).await.expect("wrap under kek-b");
    assert!(
        rewrapped.key.starts_with("pkcs11 key kek-b (id 0b)"),
        "{}",
        rewrapped.key
    );

    // The label swapped: `kek-b` asked to open what `kek-a` sealed.
    let mut swapped = wrapped.clone();
    swapped.bytes[2..7].copy_from_slice(b"kek-b");
    match b.unwrap(&swapped, CONTEXT).await {
        Err(KeyManagerError::Unwrap(why)) => {
            // It names the key that made it, the likely fix.
            assert!(why.contains("pkcs11 key kek-a (id 0a)"), "{why}");
        }
        other => panic!("kek-b opening kek-a's keyring gave {other:?}, not Unwrap"),
    }
}
