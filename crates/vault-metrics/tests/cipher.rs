//! The cipher conformance suite through `MeteredCipher`, and what it counts.

use std::sync::Arc;

use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::cipher::Purpose;
use vault_core::{Aad, Cipher as _};
use vault_metrics::{MeteredCipher, Metrics};
use vault_testkit::cipher_suite;

fn metered() -> (MeteredCipher<RingCipher>, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let previous = KeyEncryptionKey::generate().expect("a key");
    let current = KeyEncryptionKey::generate().expect("a key");
    let cipher = MeteredCipher::new(
        RingCipher::new(current, vec![previous]),
        Arc::clone(&metrics),
    );
    (cipher, metrics)
}

#[test]
fn the_cipher_suite_passes_through_the_decorator() {
    let (cipher, metrics) = metered();
    cipher_suite::run_all(&cipher);

    let text = metrics.encode();
    for (operation, outcome) in [
        ("seal", "ok"),
        ("open", "ok"),
        ("open", "tampered"),
        ("rewrap", "ok"),
        ("keyed_hash", "ok"),
        ("fill_random", "ok"),
    ] {
        let series = format!(
            r#"vault_cipher_operations_total{{operation="{operation}",outcome="{outcome}"}}"#
        );
        assert!(text.contains(&series), "{series} missing from:\n{text}");
    }
}

#[test]
fn each_call_is_counted_once() {
    let (cipher, metrics) = metered();
    let aad = Aad::installation(Purpose::KeyCheck);
    let blob = cipher.seal(b"payload", &aad).expect("sealed");
    cipher.open(&blob, &aad).expect("opened");
    let _ = cipher.current_key_id();
    let foreign = RingCipher::new(KeyEncryptionKey::generate().expect("a key"), vec![]);
    let foreign_blob = foreign.seal(b"payload", &aad).expect("sealed");
    assert!(cipher.open(&foreign_blob, &aad).is_err());

    let text = metrics.encode();
    assert!(
        text.contains(r#"vault_cipher_operations_total{operation="seal",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"vault_cipher_operations_total{operation="open",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"vault_cipher_operations_total{operation="open",outcome="unknown_key"} 1"#),
        "{text}"
    );
    // The unknown key's id is in the error, never in a label.
    let foreign_id = foreign.current_key_id();
    assert!(!text.contains(foreign_id.as_str()), "{text}");
}
