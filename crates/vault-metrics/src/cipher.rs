//! The metered cipher: every cipher call, counted.

use std::sync::Arc;

use vault_core::cipher::Plaintext;
use vault_core::{Aad, Cipher, CipherError, KeyId, SealedBlob};

use crate::Metrics;

/// A cipher that forwards every call to `inner` and counts it in
/// `vault_cipher_operations_total{operation, outcome}`: `operation` is `seal`, `open`,
/// `rewrap`, `keyed_hash` or `fill_random`, `outcome` is `ok` or the [`CipherError`] kind
/// (`unknown_key`, `tampered`, `malformed`, `random`, `error`). Nothing of the plaintext,
/// the associated data, the key or the blob is recorded; an `UnknownKey`'s key id is not
/// either (only the kind). `current_key_id` is a field read and is not counted.
#[derive(Clone, Debug)]
pub struct MeteredCipher<C> {
    inner: C,
    metrics: Arc<Metrics>,
}

impl<C> MeteredCipher<C> {
    /// Wraps `inner`, counting into `metrics`.
    pub fn new(inner: C, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    /// The cipher calls are forwarded to.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The registry counted into (the server serves it at `/metrics`).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Counts one call by how it ended, and hands its result back.
    fn counted<T>(
        &self,
        operation: &'static str,
        result: Result<T, CipherError>,
    ) -> Result<T, CipherError> {
        let outcome = result.as_ref().map_or_else(cipher_outcome, |_| "ok");
        self.metrics.count_cipher(operation, outcome);
        result
    }
}

/// The `outcome` label of a failed cipher call.
fn cipher_outcome(error: &CipherError) -> &'static str {
    match error {
        CipherError::UnknownKey(_) => "unknown_key",
        CipherError::Tampered => "tampered",
        CipherError::Malformed => "malformed",
        CipherError::Random => "random",
        // Whatever a later version of the port adds.
        _ => "error",
    }
}

impl<C: Cipher> Cipher for MeteredCipher<C> {
    fn seal(&self, plaintext: &[u8], aad: &Aad) -> Result<SealedBlob, CipherError> {
        self.counted("seal", self.inner.seal(plaintext, aad))
    }

    fn open(&self, blob: &SealedBlob, aad: &Aad) -> Result<Plaintext, CipherError> {
        self.counted("open", self.inner.open(blob, aad))
    }

    fn current_key_id(&self) -> KeyId {
        self.inner.current_key_id()
    }

    fn fill_random(&self, out: &mut [u8]) -> Result<(), CipherError> {
        self.counted("fill_random", self.inner.fill_random(out))
    }

    fn keyed_hash(&self, key: &[u8; 32], message: &[u8]) -> [u8; 32] {
        self.metrics.count_cipher("keyed_hash", "ok");
        self.inner.keyed_hash(key, message)
    }

    fn digest(&self, message: &[u8]) -> [u8; 32] {
        self.metrics.count_cipher("digest", "ok");
        self.inner.digest(message)
    }

    fn rewrap(&self, blob: &SealedBlob, aad: &Aad) -> Result<SealedBlob, CipherError> {
        self.counted("rewrap", self.inner.rewrap(blob, aad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_labels_do_not_carry_the_key_id() {
        let error = CipherError::UnknownKey(KeyId::new("0123456789abcdef"));
        assert_eq!(cipher_outcome(&error), "unknown_key");
        assert_eq!(cipher_outcome(&CipherError::Tampered), "tampered");
        assert_eq!(cipher_outcome(&CipherError::Malformed), "malformed");
        assert_eq!(cipher_outcome(&CipherError::Random), "random");
    }
}
