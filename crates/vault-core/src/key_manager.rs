//! The `KeyManager` port: the root of trust. A key manager (a static key, OpenBao/Vault
//! Transit, AWS KMS, an HSM through PKCS#11) wraps the vault's keyring of key-encryption
//! keys; the keyring is stored wrapped and unwrapped once at start, so a use never calls
//! the key manager (the keyring's keys wrap per-row data keys, which seal the rows).
//!
//! The port is asynchronous and boxed: its adapters talk to a server or a token, it is
//! called a handful of times per process (start, rotation, migration, readiness), and the
//! deployment picks the adapter at run time (`Arc<dyn KeyManager>`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::cipher::Plaintext;

/// A boxed future, what the port's methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A keyring as a key manager wrapped it. Nothing in it is secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKeyring {
    /// Which kind of manager wrapped it ([`KeyManager::kind`]).
    pub manager: String,
    /// Which of the manager's keys, and which version of it, wrapped it, printable:
    /// `transit key vault-kek v2`, a KMS key ARN, a PKCS#11 key label.
    pub key: String,
    /// The manager's ciphertext (its format is the adapter's business).
    pub bytes: Vec<u8>,
}

impl fmt::Debug for WrappedKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKeyring")
            .field("manager", &self.manager)
            .field("key", &self.key)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// What can go wrong in a key manager. Messages say which setting or which key is at
/// fault, never a secret (no token, PIN or key bytes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyManagerError {
    /// The manager did not answer (refused connection, timeout, a 5xx, a missing module).
    #[error("the key manager is unreachable: {0}")]
    Unreachable(String),
    /// The manager refused the vault's credentials or their permissions (a bad token, a
    /// policy without decrypt, a wrong PIN).
    #[error("the key manager refused the vault's credentials: {0}")]
    Denied(String),
    /// The configured key does not exist, or is disabled, revoked or pending deletion.
    #[error("the key manager's key is not usable: {0}")]
    KeyUnusable(String),
    /// The ciphertext did not unwrap: a different key, or modified bytes.
    #[error("the key manager could not unwrap the keyring: {0}")]
    Unwrap(String),
    /// Any other failure the manager reported.
    #[error("the key manager failed: {0}")]
    Backend(String),
}

/// Wraps and unwraps the vault's keyring.
///
/// # Errors
/// - `wrap` MUST encrypt `plaintext` under the manager's current key, authenticated and
///   bound to `context` where the manager can bind one (Transit's associated data, KMS's
///   encryption context, GCM's additional data inside a token), and MUST name that key in
///   [`WrappedKeyring::key`].
/// - `unwrap` MUST return exactly the bytes `wrap` was given, for any keyring this manager
///   wrapped (also under an earlier version of its key, while the manager keeps it), and
///   fail with [`KeyManagerError::Unwrap`] when the bytes or `context` differ.
/// - Both MUST fail with [`KeyManagerError::Unreachable`] when the manager does not answer,
///   [`KeyManagerError::Denied`] when it refuses the vault's credentials, and
///   [`KeyManagerError::KeyUnusable`] when the key is missing or disabled.
/// - `check` MUST succeed only when the manager answers and the key is usable, without
///   unwrapping anything.
/// - Nothing MUST carry a token, PIN, key or plaintext in errors or `Debug` output.
pub trait KeyManager: Send + Sync + 'static {
    /// The kind, as configured and stored: `static`, `transit`, `awskms`, `pkcs11`.
    fn kind(&self) -> &'static str;

    /// Which manager and key, for logs and messages (an address and a key name; never a
    /// secret).
    fn describe(&self) -> String;

    /// Encrypts a keyring under the manager's current key.
    fn wrap<'a>(
        &'a self,
        plaintext: &'a [u8],
        context: &'a str,
    ) -> BoxFuture<'a, Result<WrappedKeyring, KeyManagerError>>;

    /// Decrypts a keyring this manager wrapped.
    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedKeyring,
        context: &'a str,
    ) -> BoxFuture<'a, Result<Plaintext, KeyManagerError>>;

    /// Whether the manager answers and its key is usable (for readiness).
    fn check(&self) -> BoxFuture<'_, Result<(), KeyManagerError>>;
}
