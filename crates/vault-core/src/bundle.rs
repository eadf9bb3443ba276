//! Export bundles: an organization's credentials, secret values included, sealed to a
//! passphrase or to public keys, so they can move to another organization or installation
//! without the plaintext ever being written down. The vault writes the document (see
//! [`document`]) and a [`BundleCipher`] seals it; an import opens it and re-seals every
//! value under the importing installation's own keys.

pub mod document;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use crate::cipher::Plaintext;
use crate::store::BoxError;
use crate::validation::FieldError;

/// The shortest passphrase a bundle is sealed to, in characters: it guards every secret of
/// an organization, offline, against as many guesses as an attacker can afford.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// The longest passphrase taken, in bytes.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;
/// The most public keys one bundle is sealed to.
pub const MAX_RECIPIENTS: usize = 16;
/// The largest bundle an import takes (and an export makes), in bytes.
pub const MAX_BUNDLE_BYTES: usize = 32 * 1024 * 1024;

/// Whom a bundle is sealed to.
pub enum BundleRecipient {
    /// Whoever knows the passphrase.
    Passphrase(SecretString),
    /// Whoever holds the secret key of one of these public keys (age X25519 recipients,
    /// `age1...`): for automation, where no one types a passphrase.
    PublicKeys(Vec<String>),
}

impl std::fmt::Debug for BundleRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Passphrase(_) => f.write_str("Passphrase(..)"),
            Self::PublicKeys(keys) => f.debug_tuple("PublicKeys").field(keys).finish(),
        }
    }
}

impl BundleRecipient {
    /// Checks what the vault itself can: a passphrase long enough, one to sixteen keys.
    /// The cipher checks that each key is one it can seal to.
    ///
    /// # Errors
    /// The field at fault (`passphrase` or `recipients`).
    pub fn check(&self) -> Result<(), FieldError> {
        match self {
            Self::Passphrase(passphrase) => check_passphrase(passphrase),
            Self::PublicKeys(keys) if keys.is_empty() || keys.len() > MAX_RECIPIENTS => {
                Err(FieldError::new(
                    "recipients",
                    format!("must list 1 to {MAX_RECIPIENTS} public keys"),
                ))
            }
            Self::PublicKeys(_) => Ok(()),
        }
    }
}

fn check_passphrase(passphrase: &SecretString) -> Result<(), FieldError> {
    let text = passphrase.expose_secret();
    if text.len() > MAX_PASSPHRASE_BYTES {
        return Err(FieldError::new(
            "passphrase",
            format!("must be at most {MAX_PASSPHRASE_BYTES} bytes"),
        ));
    }
    if text.trim().chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(FieldError::new(
            "passphrase",
            format!(
                "must be at least {MIN_PASSPHRASE_CHARS} characters: it alone guards every secret in the bundle"
            ),
        ));
    }
    Ok(())
}

/// What opens a bundle.
pub enum BundleIdentity {
    /// The passphrase it was sealed to.
    Passphrase(SecretString),
    /// The secret key of one of the public keys it was sealed to (`AGE-SECRET-KEY-1...`).
    SecretKey(SecretString),
}

impl std::fmt::Debug for BundleIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Passphrase(_) => "Passphrase(..)",
            Self::SecretKey(_) => "SecretKey(..)",
        })
    }
}

impl BundleIdentity {
    /// Checks the length of what was given (a passphrase too short to have sealed a bundle
    /// is still tried: it just will not open it).
    ///
    /// # Errors
    /// The field at fault.
    pub fn check(&self) -> Result<(), FieldError> {
        let (field, text) = match self {
            Self::Passphrase(text) => ("passphrase", text),
            Self::SecretKey(text) => ("identity", text),
        };
        let text = text.expose_secret();
        if text.is_empty() || text.len() > MAX_PASSPHRASE_BYTES {
            return Err(FieldError::new(
                field,
                format!("must be 1 to {MAX_PASSPHRASE_BYTES} bytes"),
            ));
        }
        Ok(())
    }
}

/// Why a bundle could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// A public key or secret key is not one the cipher can use; the field is named.
    #[error("{}: {}", .0.field, .0.message)]
    Invalid(FieldError),
    /// The bytes are not a bundle (or were damaged): nothing could be read.
    #[error("the bundle is not an encrypted export bundle, or it is damaged")]
    Unreadable,
    /// The passphrase or secret key given is not one the bundle was sealed to.
    #[error("the passphrase or secret key given does not open this bundle")]
    WrongIdentity,
    /// A passphrase bundle asks for more key-derivation work than the vault does for one.
    #[error("the bundle's passphrase key derivation costs more than the vault allows ({0})")]
    TooCostly(String),
    /// The cipher failed in itself.
    #[error("the bundle cipher failed")]
    Failed(#[source] BoxError),
    /// No bundle cipher is configured (an embedder that did not give one).
    #[error("this vault has no bundle cipher")]
    Unsupported,
}

/// Seals and opens bundles. Key derivation from a passphrase is deliberately slow (about a
/// second, hundreds of MiB), so both calls are asynchronous: an adapter runs them away
/// from the threads serving requests, and bounds how many run at once.
///
/// # Errors
/// - `seal` MUST fail with [`BundleError::Invalid`] naming `recipients` for a public key
///   it cannot seal to, and seal a passphrase with a work factor `open` accepts.
/// - `open` MUST fail with [`BundleError::Unreadable`] for bytes that are not a sealed
///   bundle, [`BundleError::WrongIdentity`] when the identity is not one it was sealed to,
///   and [`BundleError::TooCostly`] before doing derivation work past its bound. It MUST
///   check the bundle's integrity before returning any plaintext.
pub trait BundleCipher: Send + Sync + 'static {
    /// Checks that a bundle can be sealed to `to`, before any work is done for it.
    ///
    /// # Errors
    /// [`BundleError::Invalid`] naming the field at fault.
    fn check_recipient(&self, to: &BundleRecipient) -> Result<(), BundleError>;

    /// Seals `plaintext` to `to`.
    fn seal(
        &self,
        plaintext: Plaintext,
        to: BundleRecipient,
    ) -> BoxFuture<'static, Result<Vec<u8>, BundleError>>;

    /// Opens a bundle with `with`.
    fn open(
        &self,
        bundle: Vec<u8>,
        with: BundleIdentity,
    ) -> BoxFuture<'static, Result<Plaintext, BundleError>>;
}

/// The cipher of a vault given none: every export and import is refused.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBundleCipher;

impl BundleCipher for NoBundleCipher {
    fn check_recipient(&self, _to: &BundleRecipient) -> Result<(), BundleError> {
        Err(BundleError::Unsupported)
    }

    fn seal(
        &self,
        _plaintext: Plaintext,
        _to: BundleRecipient,
    ) -> BoxFuture<'static, Result<Vec<u8>, BundleError>> {
        Box::pin(async { Err(BundleError::Unsupported) })
    }

    fn open(
        &self,
        _bundle: Vec<u8>,
        _with: BundleIdentity,
    ) -> BoxFuture<'static, Result<Plaintext, BundleError>> {
        Box::pin(async { Err(BundleError::Unsupported) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrases_are_long_enough_and_never_printed() {
        let short = BundleRecipient::Passphrase(SecretString::from("hunter2hunt"));
        assert_eq!(short.check().expect_err("short").field, "passphrase");
        let padded = BundleRecipient::Passphrase(SecretString::from("   short    "));
        assert!(padded.check().is_err(), "spaces do not count");
        let good = BundleRecipient::Passphrase(SecretString::from("correct horse battery"));
        good.check().expect("long enough");
        assert!(!format!("{good:?}").contains("horse"));
        let identity = BundleIdentity::SecretKey(SecretString::from("AGE-SECRET-KEY-1CANARY"));
        assert!(!format!("{identity:?}").contains("CANARY"));
        assert!(BundleRecipient::PublicKeys(Vec::new()).check().is_err());
        assert!(
            BundleRecipient::PublicKeys(vec!["k".to_owned(); 17])
                .check()
                .is_err()
        );
    }
}
