//! The bundle cipher as age files (<https://age-encryption.org/v1>): a passphrase through
//! age's scrypt recipient, or age X25519 public keys (`age1...`) for automation. Any age
//! implementation opens an export with the passphrase or the secret key, and the vault
//! imports a file any of them sealed.
//!
//! Deriving a key from a passphrase takes about a second and 256 MiB by design, so bundles
//! are sealed and opened on tokio's blocking threads, one at a time per process.

use std::io::{Read as _, Write as _};
use std::sync::Arc;

use futures::future::BoxFuture;
use secrecy::ExposeSecret as _;
use tokio::sync::Semaphore;
use vault_core::bundle::{BundleCipher, BundleError, BundleIdentity, BundleRecipient};
use vault_core::cipher::Plaintext;
use vault_core::validation::FieldError;
use zeroize::Zeroizing;

/// The scrypt work factor (log2 N) a passphrase is sealed with: age's own default.
pub const WORK_FACTOR: u8 = 18;
/// The largest scrypt work factor an import takes: 2^20 is 1 GiB and several seconds, and
/// a bundle asking for more is refused before any of that work is done.
pub const MAX_WORK_FACTOR: u8 = 20;

/// Seals and opens bundles as age files.
#[derive(Clone, Debug)]
pub struct AgeBundles {
    work_factor: u8,
    /// One derivation at a time: each holds up to a GiB while it runs.
    turns: Arc<Semaphore>,
}

impl Default for AgeBundles {
    fn default() -> Self {
        Self {
            work_factor: WORK_FACTOR,
            turns: Arc::new(Semaphore::new(1)),
        }
    }
}

impl AgeBundles {
    /// Seals passphrases with work factor `log_n` instead of [`WORK_FACTOR`] (tests that
    /// seal many bundles; values above [`MAX_WORK_FACTOR`] are lowered to it).
    #[must_use]
    pub fn with_work_factor(mut self, log_n: u8) -> Self {
        self.work_factor = log_n.clamp(1, MAX_WORK_FACTOR);
        self
    }
}

/// What a bundle is sealed to, parsed.
enum Recipients {
    Passphrase(age::scrypt::Recipient),
    Keys(Vec<age::x25519::Recipient>),
}

fn recipients(to: &BundleRecipient, work_factor: u8) -> Result<Recipients, BundleError> {
    match to {
        BundleRecipient::Passphrase(passphrase) => {
            let mut recipient = age::scrypt::Recipient::new(age::secrecy::SecretString::from(
                passphrase.expose_secret().to_owned(),
            ));
            recipient.set_work_factor(work_factor);
            Ok(Recipients::Passphrase(recipient))
        }
        BundleRecipient::PublicKeys(keys) => keys
            .iter()
            .enumerate()
            .map(|(at, key)| {
                key.trim().parse::<age::x25519::Recipient>().map_err(|_| {
                    BundleError::Invalid(FieldError::new(
                        format!("recipients[{at}]"),
                        "must be an age X25519 public key (age1...)",
                    ))
                })
            })
            .collect::<Result<_, _>>()
            .map(Recipients::Keys),
    }
}

fn failed(error: impl std::error::Error + Send + Sync + 'static) -> BundleError {
    BundleError::Failed(Box::new(error))
}

fn seal_now(plaintext: &[u8], to: &Recipients) -> Result<Vec<u8>, BundleError> {
    let listed: Vec<&dyn age::Recipient> = match to {
        Recipients::Passphrase(passphrase) => vec![passphrase],
        Recipients::Keys(keys) => keys.iter().map(|k| k as &dyn age::Recipient).collect(),
    };
    let encryptor = age::Encryptor::with_recipients(listed.into_iter()).map_err(failed)?;
    // The file is the plaintext, a 16-byte tag per 64 KiB chunk, and a short header.
    let mut sealed = Vec::with_capacity(plaintext.len() + plaintext.len() / 4096 + 1024);
    let mut writer = encryptor.wrap_output(&mut sealed).map_err(failed)?;
    writer.write_all(plaintext).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(sealed)
}

fn open_now(bundle: &[u8], with: &BundleIdentity) -> Result<Plaintext, BundleError> {
    let decryptor = age::Decryptor::new_buffered(bundle).map_err(refusal)?;
    let mut reader = match with {
        BundleIdentity::Passphrase(passphrase) => {
            let mut identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(
                passphrase.expose_secret().to_owned(),
            ));
            identity.set_max_work_factor(MAX_WORK_FACTOR);
            decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity))
        }
        BundleIdentity::SecretKey(key) => {
            let identity = key
                .expose_secret()
                .trim()
                .parse::<age::x25519::Identity>()
                .map_err(|_| {
                    BundleError::Invalid(FieldError::new(
                        "identity",
                        "must be an age X25519 secret key (AGE-SECRET-KEY-1...)",
                    ))
                })?;
            decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity))
        }
    }
    .map_err(refusal)?;
    // The plaintext is shorter than the file, so the buffer never grows (which would leave
    // an unwiped copy behind).
    let mut plaintext = Zeroizing::new(Vec::with_capacity(bundle.len()));
    // A chunk that fails authentication stops the read: nothing unauthenticated is kept.
    reader
        .read_to_end(&mut plaintext)
        .map_err(|_| BundleError::Unreadable)?;
    Ok(plaintext)
}

/// What a failed open means for the caller.
fn refusal(error: age::DecryptError) -> BundleError {
    match error {
        // A passphrase that does not unwrap the file key fails its decryption; a secret key
        // that does not is no match.
        age::DecryptError::DecryptionFailed
        | age::DecryptError::NoMatchingKeys
        | age::DecryptError::KeyDecryptionFailed => BundleError::WrongIdentity,
        age::DecryptError::ExcessiveWork { required, .. } => BundleError::TooCostly(format!(
            "scrypt work factor {required}; at most {MAX_WORK_FACTOR} is taken"
        )),
        _ => BundleError::Unreadable,
    }
}

impl AgeBundles {
    /// Runs `work` on a blocking thread once it is this process's turn.
    fn in_turn<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, BundleError> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, BundleError>> {
        let turns = Arc::clone(&self.turns);
        Box::pin(async move {
            let _turn = turns.acquire_owned().await.map_err(failed)?;
            tokio::task::spawn_blocking(work).await.map_err(failed)?
        })
    }
}

impl BundleCipher for AgeBundles {
    fn check_recipient(&self, to: &BundleRecipient) -> Result<(), BundleError> {
        recipients(to, self.work_factor).map(|_| ())
    }

    fn seal(
        &self,
        plaintext: Plaintext,
        to: BundleRecipient,
    ) -> BoxFuture<'static, Result<Vec<u8>, BundleError>> {
        let parsed = recipients(&to, self.work_factor);
        self.in_turn(move || seal_now(&plaintext, &parsed?))
    }

    fn open(
        &self,
        bundle: Vec<u8>,
        with: BundleIdentity,
    ) -> BoxFuture<'static, Result<Plaintext, BundleError>> {
        self.in_turn(move || open_now(&bundle, &with))
    }
}

#[cfg(test)]
mod tests;
