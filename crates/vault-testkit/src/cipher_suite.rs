//! The conformance suite every [`Cipher`] adapter must pass.
//!
//! Each check is a plain function taking the adapter; it panics with a message naming the
//! broken promise. An adapter's test file calls each check in its own `#[test]` (or
//! [`run_all`]), the way rustls runs one API suite per crypto provider.

use vault_core::cipher::Purpose;
use vault_core::{Aad, Cipher, CredentialId, OrganizationId, SealedBlob};

/// A typical payload: the JSON of a credential's secret fields.
const PAYLOAD: &[u8] =
    br#"{"value":"sk_live_4eC39HqLyjWDarjtT1zdp7dc","password":"correct horse battery staple"}"#;

/// HMAC-SHA-256 with key 0x00, 0x01, ..., 0x1f of "The quick brown fox jumps over the lazy dog".
const HMAC_SHA256_VECTOR: [u8; 32] = [
    0xf8, 0x7a, 0xd2, 0x56, 0x15, 0x1f, 0xc7, 0xb4, 0xc5, 0xdf, 0xfa, 0x4a, 0xdb, 0x3e, 0xbe, 0x91,
    0x1a, 0x8e, 0xeb, 0x8a, 0x8e, 0xbd, 0xee, 0x3c, 0x2a, 0x4a, 0x8e, 0x5f, 0x5e, 0xc0, 0x2c, 0x32,
];

fn credential_aad() -> Aad {
    Aad::credential_secrets(OrganizationId::new(), CredentialId::new(), 1)
}

fn seal(cipher: &impl Cipher, plaintext: &[u8], aad: &Aad) -> SealedBlob {
    cipher
        .seal(plaintext, aad)
        .unwrap_or_else(|error| panic!("seal failed: {error}"))
}

fn assert_opens_to(cipher: &impl Cipher, blob: &SealedBlob, aad: &Aad, expected: &[u8]) {
    match cipher.open(blob, aad) {
        Ok(plaintext) => assert!(
            plaintext.as_slice() == expected,
            "open returned different bytes than were sealed ({} bytes sealed, {} returned)",
            expected.len(),
            plaintext.len()
        ),
        Err(error) => panic!("opening a freshly sealed blob failed: {error}"),
    }
}

fn assert_open_fails(cipher: &impl Cipher, blob: &SealedBlob, aad: &Aad, what: &str) {
    if cipher.open(blob, aad).is_ok() {
        panic!("{what}: open returned Ok, it must fail");
    }
}

/// Sealing then opening with the same associated data returns the plaintext, and the blob
/// names the current key and does not contain the plaintext.
pub fn round_trip(cipher: &impl Cipher) {
    let aad = credential_aad();
    let blob = seal(cipher, PAYLOAD, &aad);
    assert_eq!(
        blob.key_id,
        cipher.current_key_id(),
        "a new blob must record the current key id"
    );
    assert!(
        !blob.bytes.windows(PAYLOAD.len()).any(|w| w == PAYLOAD),
        "the sealed bytes contain the plaintext"
    );
    assert_opens_to(cipher, &blob, &aad, PAYLOAD);

    let installation = Aad::installation(Purpose::KeyCheck);
    let blob = seal(cipher, b"key check", &installation);
    assert_opens_to(cipher, &blob, &installation, b"key check");
}

/// Flipping any single bit of a blob makes opening fail (with an error, never `Ok`).
pub fn every_bit_flip_fails(cipher: &impl Cipher) {
    let aad = credential_aad();
    let blob = seal(cipher, PAYLOAD, &aad);
    for byte in 0..blob.bytes.len() {
        for bit in 0..8 {
            let mut tampered = blob.clone();
            tampered.bytes[byte] ^= 1 << bit;
            if let Ok(_plaintext) = cipher.open(&tampered, &aad) {
                panic!(
                    "flipping bit {bit} of byte {byte} (of {}) went unnoticed: open returned Ok",
                    blob.bytes.len()
                );
            }
        }
    }
    // Truncation and extension are tampering too.
    for len in [0, 1, blob.bytes.len() / 2, blob.bytes.len() - 1] {
        let mut truncated = blob.clone();
        truncated.bytes.truncate(len);
        assert_open_fails(
            cipher,
            &truncated,
            &aad,
            &format!("truncated to {len} bytes"),
        );
    }
    let mut extended = blob;
    extended.bytes.push(0);
    assert_open_fails(cipher, &extended, &aad, "one byte appended");
}

/// A blob copied to another credential of the same organization fails to open.
pub fn moved_to_another_credential_fails(cipher: &impl Cipher) {
    let organization = OrganizationId::new();
    let aad = Aad::credential_secrets(organization, CredentialId::new(), 1);
    let blob = seal(cipher, PAYLOAD, &aad);
    let other = Aad::credential_secrets(organization, CredentialId::new(), 1);
    assert_open_fails(cipher, &blob, &other, "blob moved to another credential");
}

/// A blob copied to the same credential id in another organization fails to open.
pub fn moved_to_another_organization_fails(cipher: &impl Cipher) {
    let credential = CredentialId::new();
    let aad = Aad::credential_secrets(OrganizationId::new(), credential, 1);
    let blob = seal(cipher, PAYLOAD, &aad);
    let other = Aad::credential_secrets(OrganizationId::new(), credential, 1);
    assert_open_fails(cipher, &blob, &other, "blob moved to another organization");
}

/// A credential's blob put back over a later version of the same row fails to open, and a
/// blob sealed under the binding of earlier releases opens only with that binding.
pub fn rolled_back_to_another_version_fails(cipher: &impl Cipher) {
    let (organization, credential) = (OrganizationId::new(), CredentialId::new());
    let blob = seal(
        cipher,
        PAYLOAD,
        &Aad::credential_secrets(organization, credential, 1),
    );
    for version in [2, 0, -1, i64::MAX] {
        let later = Aad::credential_secrets(organization, credential, version);
        assert_open_fails(cipher, &blob, &later, "blob of version 1 opened at another");
    }
    let unbound = Aad::unbound_credential_secrets(organization, credential);
    assert_open_fails(cipher, &blob, &unbound, "bound blob opened unbound");
    let old = seal(cipher, PAYLOAD, &unbound);
    assert_opens_to(cipher, &old, &unbound, PAYLOAD);
    let bound = Aad::credential_secrets(organization, credential, 1);
    assert_open_fails(cipher, &old, &bound, "unbound blob opened as bound");
}

/// A blob sealed for one purpose does not open as another.
pub fn other_purpose_fails(cipher: &impl Cipher) {
    let key_check = Aad::installation(Purpose::KeyCheck);
    let blob = seal(cipher, b"key check", &key_check);
    assert_open_fails(
        cipher,
        &blob,
        &Aad::installation(Purpose::AccessKeyHashKey),
        "key-check blob opened as the access-key hash key",
    );
    assert_open_fails(
        cipher,
        &blob,
        &credential_aad(),
        "key-check blob opened as credential secrets",
    );

    let secrets = credential_aad();
    let blob = seal(cipher, PAYLOAD, &secrets);
    assert_open_fails(
        cipher,
        &blob,
        &key_check,
        "credential secrets opened as the key check",
    );
}

/// Sealing the same plaintext twice under the same associated data gives different bytes
/// (fresh data key and nonce each time), and both open.
pub fn seals_are_randomized(cipher: &impl Cipher) {
    let aad = credential_aad();
    let first = seal(cipher, PAYLOAD, &aad);
    let second = seal(cipher, PAYLOAD, &aad);
    assert_ne!(
        first.bytes, second.bytes,
        "sealing the same plaintext twice gave identical bytes: nonce or key reused"
    );
    assert_opens_to(cipher, &first, &aad, PAYLOAD);
    assert_opens_to(cipher, &second, &aad, PAYLOAD);
}

/// An empty plaintext and a 64 KiB one both round-trip.
pub fn empty_and_large_plaintexts(cipher: &impl Cipher) {
    let aad = credential_aad();
    let empty = seal(cipher, b"", &aad);
    assert_opens_to(cipher, &empty, &aad, b"");

    let large: Vec<u8> = (0..64 * 1024).map(|i: u32| (i % 251) as u8).collect();
    let blob = seal(cipher, &large, &aad);
    assert_opens_to(cipher, &blob, &aad, &large);
}

/// The keyed hash is deterministic for the same key and message, changes with either, and
/// is HMAC-SHA-256 (checked against a value computed independently with Python's `hmac`).
pub fn keyed_hash_is_deterministic_and_keyed(cipher: &impl Cipher) {
    let key: [u8; 32] = std::array::from_fn(|i| i as u8);
    assert_eq!(
        cipher.keyed_hash(&key, b"The quick brown fox jumps over the lazy dog"),
        HMAC_SHA256_VECTOR,
        "the keyed hash is not HMAC-SHA-256"
    );

    let key_a = [7u8; 32];
    let key_b = [8u8; 32];
    let first = cipher.keyed_hash(&key_a, b"message");
    assert_eq!(
        first,
        cipher.keyed_hash(&key_a, b"message"),
        "the keyed hash is not deterministic"
    );
    assert_ne!(
        first,
        cipher.keyed_hash(&key_b, b"message"),
        "the keyed hash ignores its key"
    );
    assert_ne!(
        first,
        cipher.keyed_hash(&key_a, b"messagf"),
        "the keyed hash ignores its message"
    );
    assert_ne!(first, [0u8; 32], "the keyed hash is all zeros");
}

/// The digest is SHA-256 (FIPS 180-4's "abc" example), which PKCE's S256 challenge needs.
pub fn digest_is_sha256(cipher: &impl Cipher) {
    let expected: [u8; 32] = [
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
        0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
        0x15, 0xad,
    ];
    assert_eq!(cipher.digest(b"abc"), expected, "the digest is not SHA-256");
}

/// Two random draws differ and are not all zeros.
pub fn random_bytes_differ(cipher: &impl Cipher) {
    let mut first = [0u8; 32];
    let mut second = [0u8; 32];
    cipher
        .fill_random(&mut first)
        .unwrap_or_else(|error| panic!("fill_random failed: {error}"));
    cipher
        .fill_random(&mut second)
        .unwrap_or_else(|error| panic!("fill_random failed: {error}"));
    assert_ne!(first, [0u8; 32], "fill_random left the buffer all zeros");
    assert_ne!(first, second, "two random draws were identical");
    cipher
        .fill_random(&mut [])
        .unwrap_or_else(|error| panic!("fill_random of an empty buffer failed: {error}"));
}

/// A rewrap keeps the plaintext and the binding to the associated data, and lands on the
/// current key.
pub fn rewrap_keeps_plaintext_and_binding(cipher: &impl Cipher) {
    let aad = Aad::credential_version(OrganizationId::new(), CredentialId::new(), 3);
    let blob = seal(cipher, b"rotate me", &aad);
    let rewrapped = cipher.rewrap(&blob, &aad).expect("rewrap");
    assert_eq!(rewrapped.key_id, cipher.current_key_id());
    assert_opens_to(cipher, &rewrapped, &aad, b"rotate me");
    let other_version = Aad::credential_version(OrganizationId::new(), CredentialId::new(), 4);
    assert!(
        cipher.rewrap(&blob, &other_version).is_err(),
        "rewrap must authenticate the aad"
    );
    assert_open_fails(
        cipher,
        &rewrapped,
        &other_version,
        "a version sealed as another",
    );
}

/// Runs every check in this suite.
pub fn run_all(cipher: &impl Cipher) {
    round_trip(cipher);
    every_bit_flip_fails(cipher);
    moved_to_another_credential_fails(cipher);
    moved_to_another_organization_fails(cipher);
    rolled_back_to_another_version_fails(cipher);
    other_purpose_fails(cipher);
    seals_are_randomized(cipher);
    empty_and_large_plaintexts(cipher);
    keyed_hash_is_deterministic_and_keyed(cipher);
    digest_is_sha256(cipher);
    random_bytes_differ(cipher);
    rewrap_keeps_plaintext_and_binding(cipher);
}
