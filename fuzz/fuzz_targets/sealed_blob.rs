//! Arbitrary bytes as a sealed blob: the ring adapter's blob parser must refuse them with an
//! error (they cannot authenticate), never panic, and never return a plaintext.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::{Aad, Cipher, CredentialId, KeyId, OrganizationId, SealedBlob};

static CIPHER: LazyLock<RingCipher> = LazyLock::new(|| {
    let key = KeyEncryptionKey::parse(&"42".repeat(32)).expect("a valid fixed key");
    RingCipher::new(key, vec![])
});

fuzz_target!(|data: &[u8]| {
    let cipher = &*CIPHER;
    let aad = Aad::credential_secrets(
        OrganizationId::from_uuid(uuid::Uuid::from_u128(1)),
        CredentialId::from_uuid(uuid::Uuid::from_u128(2)),
        1,
    );
    // As stored: the key id column as the store read it, beside the bytes.
    let blob = SealedBlob {
        key_id: cipher.current_key_id(),
        bytes: data.to_vec(),
    };
    // Bytes and key id are what a store writes and reads back: the blob round-trips.
    let copy = SealedBlob {
        key_id: KeyId::new(blob.key_id.as_str()),
        bytes: blob.bytes.clone(),
    };
    assert_eq!(copy, blob);
    assert!(cipher.open(&blob, &aad).is_err());
    assert!(cipher.rewrap(&blob, &aad).is_err());

    // The same bytes with the right version byte and key id inside, so the parser's later
    // stages (key lookup, unwrapping, opening) see them too.
    if data.len() > 9 {
        let mut bytes = data.to_vec();
        bytes[0] = 1;
        bytes[1..9].copy_from_slice(&hex_id(cipher.current_key_id().as_str()));
        let blob = SealedBlob {
            key_id: cipher.current_key_id(),
            bytes,
        };
        assert!(cipher.open(&blob, &aad).is_err());
        assert!(cipher.rewrap(&blob, &aad).is_err());
    }
    // And with a key id column that disagrees with the bytes (or is not hex at all).
    if let Ok(text) = std::str::from_utf8(data) {
        let blob = SealedBlob {
            key_id: KeyId::new(text),
            bytes: data.to_vec(),
        };
        assert!(cipher.open(&blob, &aad).is_err());
    }
});

fn hex_id(id: &str) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(&id[2 * i..2 * i + 2], 16).expect("key ids are hex");
    }
    out
}
