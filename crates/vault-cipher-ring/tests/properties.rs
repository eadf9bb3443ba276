//! Properties of sealing and opening, over arbitrary plaintexts and associated data.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use uuid::Uuid;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::cipher::Purpose;
use vault_core::{Aad, Cipher, CipherError, CredentialId, OrganizationId, SealedBlob};

fn cipher() -> RingCipher {
    // A fixed key, so that a failing case reproduces exactly.
    let key = KeyEncryptionKey::parse(&"42".repeat(32)).unwrap();
    RingCipher::new(key, vec![])
}

/// The associated data of a sealed payload: a purpose and, where the purpose has them, an
/// organization, an object and a version number.
#[derive(Clone, Copy, Debug)]
enum AadSpec {
    Secrets(u128, u128, i64),
    Version(u128, u128, i64),
    Installation(u8),
}

impl AadSpec {
    fn aad(self) -> Aad {
        let org = |n| OrganizationId::from_uuid(Uuid::from_u128(n));
        let cred = |n| CredentialId::from_uuid(Uuid::from_u128(n));
        match self {
            Self::Secrets(o, c, v) => Aad::credential_secrets(org(o), cred(c), v),
            Self::Version(o, c, v) => Aad::credential_version(org(o), cred(c), v),
            Self::Installation(p) => Aad::installation(match p % 4 {
                0 => Purpose::CredentialSecrets,
                1 => Purpose::KeyCheck,
                2 => Purpose::AccessKeyHashKey,
                _ => Purpose::CredentialVersion,
            }),
        }
    }
}

fn aad_spec() -> impl Strategy<Value = AadSpec> {
    prop_oneof![
        (any::<u128>(), any::<u128>(), any::<i64>())
            .prop_map(|(o, c, v)| AadSpec::Secrets(o, c, v)),
        (any::<u128>(), any::<u128>(), any::<i64>())
            .prop_map(|(o, c, v)| AadSpec::Version(o, c, v)),
        any::<u8>().prop_map(AadSpec::Installation),
    ]
}

/// An AAD that differs from `spec` in exactly one component (or in its purpose).
fn other_aad(spec: AadSpec, which: u8, delta: u128) -> AadSpec {
    let delta = delta.max(1);
    match (spec, which % 4) {
        (AadSpec::Secrets(o, c, v), 0) => AadSpec::Secrets(o ^ delta, c, v),
        (AadSpec::Secrets(o, c, v), 1) => AadSpec::Secrets(o, c ^ delta, v),
        #[allow(clippy::cast_possible_truncation)]
        (AadSpec::Secrets(o, c, v), 2) => AadSpec::Secrets(o, c, v ^ (delta as i64).max(1)),
        (AadSpec::Secrets(o, c, v), _) => AadSpec::Version(o, c, v),
        (AadSpec::Version(o, c, v), 0) => AadSpec::Version(o ^ delta, c, v),
        (AadSpec::Version(o, c, v), 1) => AadSpec::Version(o, c ^ delta, v),
        #[allow(clippy::cast_possible_truncation)]
        (AadSpec::Version(o, c, v), 2) => AadSpec::Version(o, c, v ^ (delta as i64).max(1)),
        (AadSpec::Version(o, c, v), _) => AadSpec::Secrets(o, c, v),
        (AadSpec::Installation(p), 0 | 1) => AadSpec::Installation(p % 4 + 1 + which % 3),
        (AadSpec::Installation(_), _) => AadSpec::Secrets(delta, delta, 1),
    }
}

fn plaintext() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..4096)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn open_inverts_seal(p in plaintext(), spec in aad_spec()) {
        let cipher = cipher();
        let blob = cipher.seal(&p, &spec.aad()).unwrap();
        let opened = cipher.open(&blob, &spec.aad()).unwrap();
        prop_assert_eq!(opened.as_slice(), p.as_slice());
    }

    #[test]
    fn another_aad_never_opens(
        p in plaintext(),
        spec in aad_spec(),
        which in any::<u8>(),
        delta in any::<u128>(),
    ) {
        let other = other_aad(spec, which, delta);
        // The generator must really produce a different AAD, or this proves nothing.
        prop_assert_ne!(spec.aad().to_bytes(), other.aad().to_bytes());
        let cipher = cipher();
        let blob = cipher.seal(&p, &spec.aad()).unwrap();
        prop_assert!(matches!(cipher.open(&blob, &other.aad()), Err(CipherError::Tampered)));
    }

    #[test]
    fn any_flipped_bit_fails_to_open(
        p in proptest::collection::vec(any::<u8>(), 0..512),
        spec in aad_spec(),
        bit in any::<prop::sample::Index>(),
    ) {
        let cipher = cipher();
        let blob = cipher.seal(&p, &spec.aad()).unwrap();
        let at = bit.index(blob.bytes.len() * 8);
        let mut bytes = blob.bytes.clone();
        bytes[at / 8] ^= 1 << (at % 8);
        let tampered = SealedBlob { key_id: blob.key_id.clone(), bytes };
        // Err of any kind (a flip in the key id is Malformed, elsewhere Tampered); never a
        // plaintext, and never a panic.
        prop_assert!(cipher.open(&tampered, &spec.aad()).is_err());
        prop_assert!(cipher.rewrap(&tampered, &spec.aad()).is_err() || at >= 8 * 69);
    }

    #[test]
    fn blob_never_contains_the_plaintext(p in proptest::collection::vec(any::<u8>(), 16..1024), spec in aad_spec()) {
        let blob = cipher().seal(&p, &spec.aad()).unwrap();
        prop_assert!(!blob.bytes.windows(p.len()).any(|w| w == p.as_slice()));
    }

    #[test]
    fn arbitrary_bytes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..256), spec in aad_spec()) {
        let cipher = cipher();
        let key_id = cipher.current_key_id();
        let mut bytes = bytes;
        // Give most cases the right version and key id, so they reach the authentication.
        if bytes.len() > 9 {
            bytes[0] = 1;
            bytes[1..9].copy_from_slice(&hex::decode(key_id.as_str()).unwrap());
        }
        let blob = SealedBlob { key_id, bytes };
        prop_assert!(cipher.open(&blob, &spec.aad()).is_err());
    }
}
