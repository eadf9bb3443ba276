#![doc = include_str!("../README.md")]

mod token;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use secrecy::SecretString;
use tracing::Instrument as _;
use vault_core::KeyManagerError;
use vault_core::cipher::Plaintext;
use vault_core::key_manager::{BoxFuture, KeyManager, WrappedKeyring};
use zeroize::Zeroizing;

/// [`KeyManager::kind`] of this manager.
const KIND: &str = "pkcs11";

/// Where the key is: the module, the token, the user PIN and the key's label.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// The PKCS#11 module to load, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// Which token.
    pub slot: SlotSelector,
    /// The user PIN (`CKU_USER`).
    pub pin: SecretString,
    /// `CKA_LABEL` of the AES key.
    pub key_label: String,
}

impl fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("slot", &self.slot)
            .field("pin", &"[redacted]")
            .field("key_label", &self.key_label)
            .finish()
    }
}

/// Which token: by slot id, or by the token's label (which survives the slot renumbering
/// some modules do, SoftHSM2 among them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotSelector {
    /// The slot with this id.
    Id(u64),
    /// The one slot holding a token with this label.
    TokenLabel(String),
}

impl fmt::Display for SlotSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "slot {id}"),
            Self::TokenLabel(label) => write!(f, "token \"{label}\""),
        }
    }
}

/// A [`KeyManager`] over an AES key inside a PKCS#11 token: the keyring is encrypted with
/// `CKM_AES_GCM` in the token, and the key never leaves it.
///
/// Each operation opens a session on the selected slot, logs in as the user, finds the key
/// by label, does its work and logs out and closes the session, on a blocking thread.
///
/// Errors:
/// - the module cannot be loaded or initialised, the token is not there (no token with the
///   label, a slot that does not exist or holds no token) → `Unreachable`: the device is the
///   manager, and a missing device is a manager that does not answer (unplugged, a network
///   HSM's partition not visible, a wrong `SOFTHSM2_CONF`), fixed at the device, not by
///   creating a key;
/// - the PIN is refused → `Denied`;
/// - no AES secret key with the label, several, or one without `CKA_ENCRYPT` or
///   `CKA_DECRYPT` → `KeyUnusable`; so is a label shared by several tokens;
/// - a tag that does not verify (other bytes, another context, another key) → `Unwrap`.
pub struct Pkcs11KeyManager {
    inner: Arc<Inner>,
}

struct Inner {
    /// cryptoki's context is `Send + Sync`; the blocking tasks share it.
    pkcs11: Pkcs11,
    config: Pkcs11Config,
}

impl fmt::Debug for Pkcs11KeyManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11KeyManager")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Pkcs11KeyManager {
    /// Loads the module and initialises it (`C_Initialize`, with the OS's locking: the
    /// operations run on tokio's blocking threads). Nothing is asked of the token yet; see
    /// [`KeyManager::check`].
    ///
    /// # Errors
    /// `Unreachable` naming the path when the module cannot be loaded or initialised;
    /// `KeyUnusable` when the key label is empty.
    pub fn new(config: Pkcs11Config) -> Result<Self, KeyManagerError> {
        if config.key_label.is_empty() {
            return Err(KeyManagerError::KeyUnusable(
                "the PKCS#11 key label is empty".to_owned(),
            ));
        }
        let module = config.module.display();
        let pkcs11 = Pkcs11::new(&config.module).map_err(|e| {
            KeyManagerError::Unreachable(format!("cannot load the PKCS#11 module {module}: {e}"))
        })?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            // Already initialised: another manager in this process loaded the same module
            // (it is loaded once per process). C_Finalize is never called, for the same
            // reason: the other one may still use it; the process's exit releases it.
            Ok(()) | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => {
                return Err(KeyManagerError::Unreachable(format!(
                    "the PKCS#11 module {module} did not initialise: {}",
                    token::describe(&e)
                )));
            }
        }
        tracing::debug!(
            %module,
            slot = %config.slot,
            key = %config.key_label,
            "PKCS#11 module loaded"
        );
        Ok(Self {
            inner: Arc::new(Inner { pkcs11, config }),
        })
    }

    /// Runs `operation` with the key on a blocking thread (PKCS#11 calls block).
    /// Runs `operation` on the key labelled `label` (the configured key when `None`).
    async fn with_key<T: Send + 'static>(
        &self,
        label: Option<String>,
        operation: impl FnOnce(&token::Opened, &Pkcs11Config) -> Result<T, KeyManagerError>
        + Send
        + 'static,
    ) -> Result<T, KeyManagerError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let config = match label {
                Some(key_label) => &Pkcs11Config {
                    key_label,
                    ..inner.config.clone()
                },
                None => &inner.config,
            };
            token::with_key(&inner.pkcs11, config, |opened| operation(opened, config))
        })
        .await
        .map_err(|e| KeyManagerError::Backend(format!("the PKCS#11 task failed: {e}")))?
    }
}

impl KeyManager for Pkcs11KeyManager {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn describe(&self) -> String {
        let config = &self.inner.config;
        format!(
            "PKCS#11 key \"{}\" on {} (module {})",
            config.key_label,
            config.slot,
            config.module.display()
        )
    }

    fn wrap<'a>(
        &'a self,
        plaintext: &'a [u8],
        context: &'a str,
    ) -> BoxFuture<'a, Result<WrappedKeyring, KeyManagerError>> {
        let span = tracing::info_span!("pkcs11.wrap", key = %self.inner.config.key_label);
        // The blocking task needs its own copy; it is wiped when dropped.
        let plaintext = Zeroizing::new(plaintext.to_vec());
        let context = context.to_owned();
        Box::pin(
            async move {
                self.with_key(None, move |opened, config| {
                    let bytes = token::wrap(opened, &config.key_label, &plaintext, &context)?;
                    Ok(WrappedKeyring {
                        manager: KIND.to_owned(),
                        key: opened.key_name(&config.key_label),
                        bytes,
                    })
                })
                .await
            }
            .instrument(span),
        )
    }

    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedKeyring,
        context: &'a str,
    ) -> BoxFuture<'a, Result<Plaintext, KeyManagerError>> {
        let span = tracing::info_span!("pkcs11.unwrap", key = %self.inner.config.key_label);
        Box::pin(
            async move {
                if wrapped.manager != KIND {
                    return Err(KeyManagerError::Unwrap(format!(
                        "the keyring was wrapped by a {} key manager, not {KIND}",
                        wrapped.manager
                    )));
                }
                // The key that wrapped it, which is the configured one unless the HSM key
                // was rotated since (then `keys rewrap` wraps it again under the new one).
                let (label, _) = token::split_label(&wrapped.bytes)?;
                let bytes = wrapped.bytes.clone();
                let context = context.to_owned();
                let wrapped_by = wrapped.key.clone();
                self.with_key(Some(label), move |opened, _| {
                    let (_, rest) = token::split_label(&bytes)?;
                    token::unwrap(opened, rest, &context).map_err(|error| match error {
                        // Say which key made it: "another key" is the likeliest cause.
                        KeyManagerError::Unwrap(why) => KeyManagerError::Unwrap(format!(
                            "{why} (it was wrapped by {wrapped_by})"
                        )),
                        other => other,
                    })
                })
                .await
            }
            .instrument(span),
        )
    }

    fn check(&self) -> BoxFuture<'_, Result<(), KeyManagerError>> {
        let span = tracing::info_span!("pkcs11.check", key = %self.inner.config.key_label);
        Box::pin(async move { self.with_key(None, |_, _| Ok(())).await }.instrument(span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pin: &str) -> Pkcs11Config {
        Pkcs11Config {
            module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            slot: SlotSelector::TokenLabel("vault-test".to_owned()),
            pin: SecretString::from(pin),
            key_label: "vault-kek".to_owned(),
        }
    }

    #[test]
    fn debug_never_prints_the_pin() {
        let printed = format!("{:?}", config("73914825"));
        assert!(!printed.contains("73914825"), "{printed}");
        assert!(printed.contains("[redacted]"), "{printed}");
        assert!(printed.contains("vault-kek"), "{printed}");
    }

    #[test]
    fn an_empty_key_label_is_refused() {
        let mut config = config("73914825");
        config.key_label = String::new();
        assert!(matches!(
            Pkcs11KeyManager::new(config),
            Err(KeyManagerError::KeyUnusable(_))
        ));
    }
}
