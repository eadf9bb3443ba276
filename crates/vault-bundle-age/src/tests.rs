use secrecy::{ExposeSecret as _, SecretString};
use vault_core::bundle::{BundleCipher as _, BundleError, BundleIdentity, BundleRecipient};
use zeroize::Zeroizing;

use super::{AgeBundles, MAX_WORK_FACTOR};

const DOCUMENT: &[u8] = b"{\"format\":\"vault-bundle/1\",\"value\":\"sk_live_CANARY\"}";

fn passphrase(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

/// Quick to derive: these tests seal many bundles.
fn quick() -> AgeBundles {
    AgeBundles::default().with_work_factor(10)
}

async fn seal(bundles: &AgeBundles, to: BundleRecipient) -> Vec<u8> {
    bundles
        .seal(Zeroizing::new(DOCUMENT.to_vec()), to)
        .await
        .expect("sealed")
}

#[tokio::test]
async fn a_passphrase_bundle_opens_with_it_and_only_with_it() {
    let bundles = quick();
    let sealed = seal(
        &bundles,
        BundleRecipient::Passphrase(passphrase("correct horse battery")),
    )
    .await;
    assert!(sealed.starts_with(b"age-encryption.org/v1\n-> scrypt "));
    assert!(
        !sealed.windows(6).any(|w| w == b"CANARY"),
        "the plaintext shows"
    );
    let opened = bundles
        .open(
            sealed.clone(),
            BundleIdentity::Passphrase(passphrase("correct horse battery")),
        )
        .await
        .expect("opened");
    assert_eq!(&*opened, DOCUMENT);
    let wrong = bundles
        .open(
            sealed.clone(),
            BundleIdentity::Passphrase(passphrase("incorrect horse battery")),
        )
        .await;
    assert!(
        matches!(wrong, Err(BundleError::WrongIdentity)),
        "{wrong:?}"
    );
    let key = age::x25519::Identity::generate();
    let not_a_key_bundle = bundles
        .open(
            sealed,
            BundleIdentity::SecretKey(SecretString::from(
                key.to_string().expose_secret().to_owned(),
            )),
        )
        .await;
    assert!(
        matches!(not_a_key_bundle, Err(BundleError::WrongIdentity)),
        "{not_a_key_bundle:?}"
    );
}

#[tokio::test]
async fn the_default_work_factor_is_ages_own() {
    let bundles = AgeBundles::default();
    let sealed = seal(
        &bundles,
        BundleRecipient::Passphrase(passphrase("correct horse battery")),
    )
    .await;
    let header = String::from_utf8_lossy(&sealed[..80]).into_owned();
    let stanza = header.lines().nth(1).expect("a stanza");
    assert!(
        stanza.starts_with("-> scrypt ") && stanza.ends_with(" 18"),
        "{stanza}"
    );
}

#[tokio::test]
async fn a_key_bundle_opens_with_any_of_its_keys_and_no_other() {
    let bundles = quick();
    let (first, second, stranger) = (
        age::x25519::Identity::generate(),
        age::x25519::Identity::generate(),
        age::x25519::Identity::generate(),
    );
    let sealed = seal(
        &bundles,
        BundleRecipient::PublicKeys(vec![
            first.to_public().to_string(),
            second.to_public().to_string(),
        ]),
    )
    .await;
    for identity in [&first, &second] {
        let secret = SecretString::from(identity.to_string().expose_secret().to_owned());
        let opened = bundles
            .open(sealed.clone(), BundleIdentity::SecretKey(secret))
            .await
            .expect("opened");
        assert_eq!(&*opened, DOCUMENT);
    }
    let secret = SecretString::from(stranger.to_string().expose_secret().to_owned());
    let refused = bundles
        .open(sealed.clone(), BundleIdentity::SecretKey(secret))
        .await;
    assert!(
        matches!(refused, Err(BundleError::WrongIdentity)),
        "{refused:?}"
    );
    let refused = bundles
        .open(
            sealed,
            BundleIdentity::Passphrase(passphrase("correct horse battery")),
        )
        .await;
    assert!(
        matches!(refused, Err(BundleError::WrongIdentity)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn damaged_or_foreign_bytes_are_unreadable() {
    let bundles = quick();
    let sealed = seal(
        &bundles,
        BundleRecipient::Passphrase(passphrase("correct horse battery")),
    )
    .await;
    let mut flipped = sealed.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let truncated = sealed[..sealed.len() - 10].to_vec();
    for damaged in [
        flipped,
        truncated,
        b"{\"not\":\"age\"}".to_vec(),
        Vec::new(),
    ] {
        let refused = bundles
            .open(
                damaged,
                BundleIdentity::Passphrase(passphrase("correct horse battery")),
            )
            .await;
        assert!(
            matches!(refused, Err(BundleError::Unreadable)),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn a_costly_work_factor_is_refused_before_the_work() {
    let bundles = quick();
    let sealed = seal(
        &bundles,
        BundleRecipient::Passphrase(passphrase("correct horse battery")),
    )
    .await;
    // The stanza's last argument is the work factor: ask for more than is taken.
    let text = String::from_utf8_lossy(&sealed).into_owned();
    let header_end = text.find('\n').expect("a version line") + 1;
    let stanza_end = header_end + text[header_end..].find('\n').expect("a stanza line");
    let stanza = &text[header_end..stanza_end];
    let costly = format!(
        "{} {}",
        stanza.rsplit_once(' ').expect("arguments").0,
        MAX_WORK_FACTOR + 1
    );
    let mut edited = sealed[..header_end].to_vec();
    edited.extend_from_slice(costly.as_bytes());
    edited.extend_from_slice(&sealed[stanza_end..]);
    let refused = bundles
        .open(
            edited,
            BundleIdentity::Passphrase(passphrase("correct horse battery")),
        )
        .await;
    assert!(
        matches!(refused, Err(BundleError::TooCostly(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn recipients_and_identities_that_are_not_keys_are_named() {
    let bundles = quick();
    let key = age::x25519::Identity::generate().to_public().to_string();
    let refused = bundles.check_recipient(&BundleRecipient::PublicKeys(vec![
        key,
        "ssh-ed25519 AAAA".to_owned(),
    ]));
    match refused {
        Err(BundleError::Invalid(field)) => assert_eq!(field.field, "recipients[1]"),
        other => panic!("{other:?}"),
    }
    let sealed = seal(
        &bundles,
        BundleRecipient::Passphrase(passphrase("correct horse battery")),
    )
    .await;
    let refused = bundles
        .open(
            sealed,
            BundleIdentity::SecretKey(SecretString::from("AGE-SECRET-KEY-1CANARY".to_owned())),
        )
        .await;
    match refused {
        Err(BundleError::Invalid(field)) => {
            assert_eq!(field.field, "identity");
            assert!(!field.message.contains("CANARY"));
        }
        other => panic!("{other:?}"),
    }
}
