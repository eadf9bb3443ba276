//! The cipher conformance suite on `RingCipher`, plus what is specific to this adapter:
//! the keyring, rewrap, key parsing and redacted `Debug` output.

#![expect(clippy::unwrap_used, reason = "tests: a panic is the failure report")]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use secrecy::ExposeSecret as _;
use vault_cipher_ring::{KeyEncryptionKey, KeyParseError, RingCipher};
use vault_core::cipher::{Plaintext, Purpose};
use vault_core::{Aad, Cipher, CipherError, CredentialId, OrganizationId};
use vault_testkit::cipher_suite;

/// A fixed key whose bytes the tests can look for in output. Its standard base64
/// (`mF75/+YeS+jerReLI78fPO1wluHyiIHXXch8ciVfwnM=`) has both `+` and `/`, so the standard
/// and URL-safe forms differ.
const RAW_KEY: [u8; 32] = [
    0x98, 0x5e, 0xf9, 0xff, 0xe6, 0x1e, 0x4b, 0xe8, 0xde, 0xad, 0x17, 0x8b, 0x23, 0xbf, 0x1f, 0x3c,
    0xed, 0x70, 0x96, 0xe1, 0xf2, 0x88, 0x81, 0xd7, 0x5d, 0xc8, 0x7c, 0x72, 0x25, 0x5f, 0xc2, 0x73,
];

fn fixed_key() -> KeyEncryptionKey {
    KeyEncryptionKey::parse(&STANDARD.encode(RAW_KEY)).unwrap()
}

fn new_key() -> KeyEncryptionKey {
    KeyEncryptionKey::generate().unwrap()
}

/// A second handle on the same key (the type is deliberately not `Clone`).
fn same_key(key: &KeyEncryptionKey) -> KeyEncryptionKey {
    KeyEncryptionKey::parse(key.to_base64().expose_secret()).unwrap()
}

fn cipher() -> RingCipher {
    RingCipher::new(new_key(), vec![])
}

fn aad() -> Aad {
    Aad::credential_secrets(OrganizationId::new(), CredentialId::new(), 1)
}

const CLAIM: &[u8] = br#"{"value":"sk_live_4eC39HqLyjWDarjtT1zdp7dc"}"#;

// --- the conformance suite, one test per check -------------------------------------------

#[test]
fn round_trip() {
    cipher_suite::round_trip(&cipher());
}

#[test]
fn every_bit_flip_fails() {
    cipher_suite::every_bit_flip_fails(&cipher());
}

#[test]
fn moved_to_another_credential_fails() {
    cipher_suite::moved_to_another_credential_fails(&cipher());
}

#[test]
fn moved_to_another_organization_fails() {
    cipher_suite::moved_to_another_organization_fails(&cipher());
}

#[test]
fn rolled_back_to_another_version_fails() {
    cipher_suite::rolled_back_to_another_version_fails(&cipher());
}

#[test]
fn other_purpose_fails() {
    cipher_suite::other_purpose_fails(&cipher());
}

#[test]
fn seals_are_randomized() {
    cipher_suite::seals_are_randomized(&cipher());
}

#[test]
fn empty_and_large_plaintexts() {
    cipher_suite::empty_and_large_plaintexts(&cipher());
}

#[test]
fn keyed_hash_is_deterministic_and_keyed() {
    cipher_suite::keyed_hash_is_deterministic_and_keyed(&cipher());
}

#[test]
fn random_bytes_differ() {
    cipher_suite::random_bytes_differ(&cipher());
}

#[test]
fn rewrap_keeps_plaintext_and_binding() {
    cipher_suite::rewrap_keeps_plaintext_and_binding(&cipher());
}

#[test]
fn run_all_passes_on_a_keyring() {
    cipher_suite::run_all(&RingCipher::new(new_key(), vec![new_key(), new_key()]));
}

// --- keyring ------------------------------------------------------------------------------

#[test]
fn blob_of_key_a_does_not_open_with_only_key_b() {
    let a = RingCipher::new(new_key(), vec![]);
    let b = RingCipher::new(new_key(), vec![]);
    let aad = aad();
    let blob = a.seal(CLAIM, &aad).unwrap();
    match b.open(&blob, &aad) {
        Err(CipherError::UnknownKey(id)) => assert_eq!(id, a.current_key_id()),
        other => panic!("expected UnknownKey, got {other:?}"),
    }
}

#[test]
fn keyring_opens_previous_keys_and_seals_with_current() {
    let key_a = new_key();
    let key_b = new_key();
    let id_a = key_a.key_id();
    let id_b = key_b.key_id();
    let only_a = RingCipher::new(same_key(&key_a), vec![]);
    let ring = RingCipher::new(key_b, vec![key_a]);
    assert_eq!(ring.current_key_id(), id_b);
    assert_eq!(ring.key_ids(), vec![id_b.clone(), id_a.clone()]);

    let aad = aad();
    let old = only_a.seal(CLAIM, &aad).unwrap();
    assert_eq!(old.key_id, id_a);
    assert_eq!(ring.open(&old, &aad).unwrap().as_slice(), CLAIM);

    let new = ring.seal(CLAIM, &aad).unwrap();
    assert_eq!(new.key_id, id_b);
    assert_eq!(
        &new.bytes[1..9],
        hex::decode(id_b.as_str()).unwrap().as_slice()
    );
    assert!(matches!(
        only_a.open(&new, &aad),
        Err(CipherError::UnknownKey(_))
    ));
}

#[test]
fn duplicate_keys_are_listed_once() {
    let key = new_key();
    let id = key.key_id();
    let ring = RingCipher::new(same_key(&key), vec![key]);
    assert_eq!(ring.key_ids(), vec![id]);
}

#[test]
fn rewrap_moves_a_blob_to_the_current_key_and_keeps_the_data() {
    let key_a = new_key();
    let key_b = new_key();
    let only_a = RingCipher::new(same_key(&key_a), vec![]);
    let only_b = RingCipher::new(same_key(&key_b), vec![]);
    let ring = RingCipher::new(key_b, vec![key_a]);

    let aad = aad();
    let old = only_a.seal(CLAIM, &aad).unwrap();
    let new = ring.rewrap(&old, &aad).unwrap();

    assert_eq!(new.key_id, only_b.current_key_id());
    assert_eq!(only_b.open(&new, &aad).unwrap().as_slice(), CLAIM);
    assert!(only_a.open(&new, &aad).is_err());
    // Same length, and the data part (data nonce and ciphertext) byte for byte unchanged.
    const DATA_AT: usize = 1 + 8 + 12 + 32 + 16;
    assert_eq!(new.bytes.len(), old.bytes.len());
    assert_eq!(new.bytes[DATA_AT..], old.bytes[DATA_AT..]);
    assert_ne!(new.bytes[..DATA_AT], old.bytes[..DATA_AT]);

    // Rewrapping again (already current) still works and still opens.
    let again = ring.rewrap(&new, &aad).unwrap();
    assert_eq!(only_b.open(&again, &aad).unwrap().as_slice(), CLAIM);
}

#[test]
fn rewrap_checks_the_associated_data_and_the_key() {
    let key_a = new_key();
    let only_a = RingCipher::new(same_key(&key_a), vec![]);
    let ring = RingCipher::new(new_key(), vec![key_a]);
    let blob = only_a.seal(CLAIM, &aad()).unwrap();
    assert!(matches!(
        ring.rewrap(&blob, &aad()),
        Err(CipherError::Tampered)
    ));
    assert!(matches!(
        cipher().rewrap(&blob, &aad()),
        Err(CipherError::UnknownKey(_))
    ));
}

// --- errors --------------------------------------------------------------------------------

#[test]
fn short_or_unknown_version_blobs_are_malformed() {
    let cipher = cipher();
    let aad = aad();
    let blob = cipher.seal(b"", &aad).unwrap();
    assert_eq!(
        blob.bytes.len(),
        97,
        "an empty plaintext costs exactly the overhead"
    );

    let mut short = blob.clone();
    short.bytes.pop();
    assert!(matches!(
        cipher.open(&short, &aad),
        Err(CipherError::Malformed)
    ));

    let mut empty = blob.clone();
    empty.bytes.clear();
    assert!(matches!(
        cipher.open(&empty, &aad),
        Err(CipherError::Malformed)
    ));

    let mut version = blob;
    version.bytes[0] = 2;
    assert!(matches!(
        cipher.open(&version, &aad),
        Err(CipherError::Malformed)
    ));
}

#[test]
fn tampering_is_reported_as_tampered() {
    let cipher = cipher();
    let aad = aad();
    let blob = cipher.seal(CLAIM, &aad).unwrap();
    for at in [20, 40, 80, blob.bytes.len() - 1] {
        let mut tampered = blob.clone();
        tampered.bytes[at] ^= 0x01;
        assert!(
            matches!(cipher.open(&tampered, &aad), Err(CipherError::Tampered)),
            "byte {at}"
        );
    }
    assert!(matches!(
        cipher.open(&blob, &Aad::installation(Purpose::KeyCheck)),
        Err(CipherError::Tampered)
    ));
}

#[test]
fn a_key_id_beside_the_blob_that_disagrees_with_the_bytes_is_malformed() {
    let key_a = new_key();
    let other_id = new_key().key_id();
    let ring = RingCipher::new(key_a, vec![]);
    let aad = aad();
    let mut blob = ring.seal(CLAIM, &aad).unwrap();
    blob.key_id = other_id;
    assert!(matches!(
        ring.open(&blob, &aad),
        Err(CipherError::Malformed)
    ));
}

// --- Debug never shows secrets -------------------------------------------------------------

fn assert_hides(output: &str, secret: &[u8]) {
    let forms = [
        hex::encode(secret),
        hex::encode_upper(secret),
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
        format!("{secret:?}"),
        String::from_utf8_lossy(secret).into_owned(),
    ];
    for form in forms {
        assert!(
            form.is_empty() || !output.contains(&form),
            "Debug output {output:?} contains the secret as {form:?}"
        );
    }
}

#[test]
fn debug_of_keys_and_cipher_shows_only_key_ids() {
    let key = fixed_key();
    let id = key.key_id();
    let key_debug = format!("{key:?} {key:#?}");
    assert_hides(&key_debug, &RAW_KEY);
    assert!(key_debug.contains(id.as_str()), "{key_debug}");

    let previous = new_key();
    let previous_id = previous.key_id();
    let cipher = RingCipher::new(key, vec![previous]);
    let cipher_debug = format!("{cipher:?} {cipher:#?}");
    assert_hides(&cipher_debug, &RAW_KEY);
    assert!(cipher_debug.contains(id.as_str()), "{cipher_debug}");
    assert!(
        cipher_debug.contains(previous_id.as_str()),
        "{cipher_debug}"
    );
}

#[test]
fn debug_of_plaintext_and_errors_shows_no_secret() {
    let cipher = RingCipher::new(fixed_key(), vec![]);
    let aad = aad();
    let blob = cipher.seal(CLAIM, &aad).unwrap();
    let plaintext: Plaintext = cipher.open(&blob, &aad).unwrap();
    let output = format!("{plaintext:?} {plaintext:#?} {blob:?}");
    assert_hides(&output, CLAIM);
    assert_hides(&output, b"sk_live_4eC39HqLyjWDarjtT1zdp7dc");
    assert_hides(&output, &RAW_KEY);

    let error = cipher
        .open(&blob, &Aad::installation(Purpose::KeyCheck))
        .unwrap_err();
    let output = format!("{error:?} {error}");
    assert_hides(&output, CLAIM);
    assert_hides(&output, &RAW_KEY);
}

// --- key parsing ---------------------------------------------------------------------------

#[test]
fn parses_every_accepted_encoding_to_the_same_key() {
    let expected = fixed_key().key_id();
    let forms = [
        STANDARD.encode(RAW_KEY),
        STANDARD_NO_PAD.encode(RAW_KEY),
        URL_SAFE.encode(RAW_KEY),
        URL_SAFE_NO_PAD.encode(RAW_KEY),
        hex::encode(RAW_KEY),
        hex::encode_upper(RAW_KEY),
        format!("  {}\n", STANDARD.encode(RAW_KEY)),
        format!("\t{}\r\n", hex::encode(RAW_KEY)),
    ];
    // The fixture must exercise both alphabets for the base64 cases to mean anything.
    assert_ne!(forms[0], forms[2]);
    for form in &forms {
        let key = KeyEncryptionKey::parse(form)
            .unwrap_or_else(|error| panic!("refused {form:?}: {error}"));
        assert_eq!(key.key_id(), expected, "{form:?}");
    }
}

#[test]
fn to_base64_round_trips() {
    let key = fixed_key();
    let text = key.to_base64();
    assert_eq!(text.expose_secret(), STANDARD.encode(RAW_KEY));
    assert_eq!(
        KeyEncryptionKey::parse(text.expose_secret())
            .unwrap()
            .key_id(),
        key.key_id()
    );
}

fn refused(text: &str) -> KeyParseError {
    match KeyEncryptionKey::parse(text) {
        Ok(key) => panic!("accepted {text:?} as {key:?}"),
        Err(error) => {
            let message = error.to_string();
            let trimmed = text.trim();
            if trimmed.len() >= 4 {
                assert!(
                    !message.contains(trimmed),
                    "the error {message:?} contains the input"
                );
                assert!(!format!("{error:?}").contains(trimmed));
            }
            assert!(
                message.contains("vault-server keys generate")
                    && message.contains("openssl rand -base64 32"),
                "the error {message:?} does not say how to generate a key"
            );
            error
        }
    }
}

#[test]
fn refuses_wrong_lengths_with_the_length() {
    let short = STANDARD.encode(&RAW_KEY[..31]);
    let long = STANDARD.encode([RAW_KEY.as_slice(), &[0x42]].concat());
    assert_eq!(refused(&short), KeyParseError::WrongLength { bytes: 31 });
    assert!(
        refused(&short)
            .to_string()
            .contains("decodes to 31 bytes, need exactly 32")
    );
    assert_eq!(refused(&long), KeyParseError::WrongLength { bytes: 33 });
    assert_eq!(
        refused(&URL_SAFE_NO_PAD.encode(&RAW_KEY[..31])),
        KeyParseError::WrongLength { bytes: 31 }
    );
    assert_eq!(
        refused(&hex::encode(&RAW_KEY[..31])),
        KeyParseError::WrongHexLength { digits: 62 }
    );
    assert_eq!(
        refused(&hex::encode([RAW_KEY.as_slice(), &[0x42]].concat())),
        KeyParseError::WrongHexLength { digits: 66 }
    );
}

#[test]
fn refuses_empty_and_junk_without_echoing_it() {
    assert_eq!(refused(""), KeyParseError::Empty);
    assert_eq!(refused("   \n"), KeyParseError::Empty);
    for junk in [
        "not a key at all!",
        "change-me please",
        "ENCRYPTION_KEY=c2VjcmV0",
        "ünïcödé-ünïcödé-ünïcödé-ünïcödé-ünïcödé",
        // Standard and URL-safe alphabets mixed.
        "Op8+_0123456789abcdefghijklmnopqrstuvwxyzAB=",
    ] {
        let error = refused(junk);
        assert_eq!(error, KeyParseError::NotBase64OrHex, "{junk:?}");
        assert!(error.to_string().contains("neither base64 nor hex"));
    }
    // A real key with a typo in it is the case that matters most: never echo it.
    let mut typo = STANDARD.encode(RAW_KEY);
    typo.insert(10, '!');
    let error = refused(&typo);
    assert!(!error.to_string().contains(&STANDARD.encode(RAW_KEY)[..10]));
}

#[test]
fn key_ids_are_stable_and_distinct() {
    let id = fixed_key().key_id();
    assert_eq!(fixed_key().key_id(), id);
    assert_eq!(id.as_str().len(), 16);
    assert!(
        id.as_str()
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    );
    assert_ne!(new_key().key_id(), id);
    assert_ne!(new_key().key_id(), new_key().key_id());
    // Pinned, so a change to the derivation (which would orphan every stored blob) is seen.
    // HMAC-SHA-256(RAW_KEY, "vault kek id v1")[..8], computed independently with Python.
    assert_eq!(id.as_str(), EXPECTED_FIXED_KEY_ID);
}

const EXPECTED_FIXED_KEY_ID: &str = "389253bbc6c918a8";

#[test]
fn keys_made_by_hand_are_not_random_and_generated_ones_are() {
    let not_random = |bytes: [u8; 32]| {
        let key = KeyEncryptionKey::parse(&hex::encode(bytes)).unwrap();
        match key.check_random() {
            Err(error @ KeyParseError::NotRandom { .. }) => {
                let message = error.to_string();
                assert!(message.contains("vault-server keys generate"), "{message}");
                assert!(!message.contains(&hex::encode(bytes)), "{message}");
            }
            other => panic!("{bytes:?} passed as random: {other:?}"),
        }
    };
    not_random([0; 32]);
    not_random([0xff; 32]);
    not_random([0x41; 32]);
    // A short pattern repeated, a counting sequence (forward, backward, by steps).
    not_random(std::array::from_fn(|i| [0xde, 0xad, 0xbe, 0xef][i % 4]));
    not_random(std::array::from_fn(|i| u8::try_from(i).unwrap()));
    not_random(std::array::from_fn(|i| 0xff - u8::try_from(i).unwrap()));
    not_random(std::array::from_fn(|i| u8::try_from(i * 7 % 256).unwrap()));
    // Sixteen distinct bytes, repeated: still a pattern.
    not_random(std::array::from_fn(|i| u8::try_from(i % 16 * 13).unwrap()));
    // A password where random bytes belong.
    not_random(*b"correct horse battery staple!!!!");

    fixed_key().check_random().unwrap();
    for _ in 0..1000 {
        new_key().check_random().unwrap();
    }
}

/// The static key manager passes the key-manager suite, and a keyring it wrapped under
/// a key now in the previous keys still unwraps.
#[tokio::test]
async fn the_static_key_manager_passes_the_key_manager_suite() {
    use vault_core::KeyManager as _;
    let old = KeyEncryptionKey::generate().expect("key");
    let new = KeyEncryptionKey::generate().expect("key");
    let before = vault_cipher_ring::StaticKeyManager::new(&old, &[]);
    vault_testkit::key_manager_suite::run_all(&before).await;
    let wrapped = before.wrap(b"keyring", "ctx").await.expect("wrap");
    let after = vault_cipher_ring::StaticKeyManager::new(&new, &[old]);
    let opened = after.unwrap(&wrapped, "ctx").await.expect("unwrap");
    assert_eq!(opened.as_slice(), b"keyring");
    let without = vault_cipher_ring::StaticKeyManager::new(&new, &[]);
    let refused = without
        .unwrap(&wrapped, "ctx")
        .await
        .expect_err("unknown key");
    assert!(
        matches!(refused, vault_core::KeyManagerError::KeyUnusable(_)),
        "{refused:?}"
    );
    assert!(!format!("{after:?}").contains(new.to_base64().expose_secret()));
}

/// A keyring installed through the handle seals from then on; rows sealed before (under a
/// static key) still open, and so do those of the keyring's older keys.
#[test]
fn an_installed_keyring_seals_and_older_keys_still_open() {
    use vault_core::keyring::Keyring;
    let static_key = KeyEncryptionKey::generate().expect("key");
    let static_id = static_key.key_id();
    let cipher = RingCipher::new(static_key, vec![]);
    let aad = Aad::installation(vault_core::cipher::Purpose::KeyCheck);
    let before = cipher.seal(b"before", &aad).expect("seal");
    let first = KeyEncryptionKey::generate().expect("key");
    let second = KeyEncryptionKey::generate().expect("key");
    let keyring = Keyring::new(first.to_bytes())
        .rotated(second.to_bytes())
        .expect("room");
    let handle = cipher.keyring_handle();
    handle.install(&Keyring::new(first.to_bytes()));
    let under_first = cipher.seal(b"first", &aad).expect("seal");
    assert_eq!(under_first.key_id, first.key_id());
    handle.install(&keyring);
    assert_eq!(cipher.current_key_id(), second.key_id());
    assert_eq!(handle.static_key_ids(), vec![static_id]);
    for (blob, text) in [(&before, &b"before"[..]), (&under_first, &b"first"[..])] {
        assert_eq!(cipher.open(blob, &aad).expect("opens").as_slice(), text);
    }
    let rewrapped = cipher.rewrap(&before, &aad).expect("rewrap");
    assert_eq!(rewrapped.key_id, second.key_id());
}
