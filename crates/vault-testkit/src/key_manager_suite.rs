//! The conformance suite every [`KeyManager`] adapter must pass, against a real manager
//! (OpenBao Transit, AWS KMS through moto, SoftHSM2) or the static key.
//!
//! Each check is a plain async function taking the adapter and panicking with a message
//! naming the broken promise; [`run_all`] runs them in order.

use vault_core::{KeyManager, KeyManagerError, WrappedKeyring};

/// A keyring-sized payload: a header and three 32-byte keys.
const KEYRING: &[u8] = b"vkr1\x00\x03\
    \x8d\x1f\x9a\x02\x77\x10\xee\x5c\x91\x04\xab\x3c\x66\x0d\xf2\x19\x2a\x81\x5e\x73\xc4\x0b\x98\x27\xda\x36\x4f\xe1\x07\xb2\x55\xca\
    \x13\xf0\x6e\x8a\x29\xd7\x45\xbc\x01\x9f\x72\x3e\xe8\x5a\x16\xc3\x8b\x04\x6d\xf9\x27\xae\x50\x1c\x93\x7f\xe2\x38\xb5\x0a\x61\xd4\
    \x4c\x97\x2e\xf3\x08\x6b\xd1\x35\xaa\x7e\x12\xc6\x89\x5f\x03\xe4\x3a\xbd\x76\x21\x9c\x4e\xf5\x18\x62\xdb\x0f\x84\x37\xa9\x5d\xe0";

const CONTEXT: &str = "vault keyring v1";

async fn wrap(manager: &dyn KeyManager, plaintext: &[u8], context: &str) -> WrappedKeyring {
    manager
        .wrap(plaintext, context)
        .await
        .unwrap_or_else(|error| panic!("{}: wrap failed: {error}", manager.describe()))
}

/// `wrap` then `unwrap` gives back the bytes, and the wrapped form names its manager and
/// key and does not contain the plaintext.
pub async fn round_trip(manager: &dyn KeyManager) {
    let wrapped = wrap(manager, KEYRING, CONTEXT).await;
    assert_eq!(
        wrapped.manager,
        manager.kind(),
        "the wrapped keyring names another kind"
    );
    assert!(!wrapped.key.is_empty(), "the wrapped keyring names no key");
    assert!(
        !wrapped
            .bytes
            .windows(32)
            .any(|w| KEYRING.windows(32).any(|k| k == w)),
        "the wrapped bytes contain the plaintext"
    );
    let opened = manager
        .unwrap(&wrapped, CONTEXT)
        .await
        .unwrap_or_else(|error| panic!("unwrapping a fresh wrap failed: {error}"));
    assert!(opened.as_slice() == KEYRING, "unwrap returned other bytes");
}

/// Two wraps of the same keyring differ (fresh randomness per wrap), and both unwrap.
pub async fn wraps_are_randomised(manager: &dyn KeyManager) {
    let first = wrap(manager, KEYRING, CONTEXT).await;
    let second = wrap(manager, KEYRING, CONTEXT).await;
    assert_ne!(
        first.bytes, second.bytes,
        "two wraps gave the same ciphertext"
    );
    for wrapped in [first, second] {
        let opened = manager.unwrap(&wrapped, CONTEXT).await.expect("unwrap");
        assert!(opened.as_slice() == KEYRING, "unwrap returned other bytes");
    }
}

/// A flipped bit anywhere in the ciphertext fails with `Unwrap` (never other bytes).
pub async fn refuses_tampered(manager: &dyn KeyManager) {
    let wrapped = wrap(manager, KEYRING, CONTEXT).await;
    for at in [0, wrapped.bytes.len() / 2, wrapped.bytes.len() - 1] {
        let mut tampered = wrapped.clone();
        tampered.bytes[at] ^= 0x01;
        match manager.unwrap(&tampered, CONTEXT).await {
            Err(KeyManagerError::Unwrap(_)) => {}
            Err(other) => panic!("a tampered byte at {at} gave {other:?}, not Unwrap"),
            Ok(_) => panic!("a tampered byte at {at} still unwrapped"),
        }
    }
}

/// A keyring wrapped for one context does not unwrap for another.
pub async fn binds_context(manager: &dyn KeyManager) {
    let wrapped = wrap(manager, KEYRING, CONTEXT).await;
    match manager.unwrap(&wrapped, "another installation").await {
        Err(KeyManagerError::Unwrap(_)) => {}
        Err(other) => panic!("another context gave {other:?}, not Unwrap"),
        Ok(_) => panic!("a keyring unwrapped under another context"),
    }
}

/// `check` succeeds against a working manager.
pub async fn check_succeeds(manager: &dyn KeyManager) {
    if let Err(error) = manager.check().await {
        panic!("{}: check failed: {error}", manager.describe());
    }
}

/// Every check, in order.
pub async fn run_all(manager: &dyn KeyManager) {
    round_trip(manager).await;
    wraps_are_randomised(manager).await;
    refuses_tampered(manager).await;
    binds_context(manager).await;
    check_succeeds(manager).await;
}
