//! The `static` key manager: `ENCRYPTION_KEY` wraps the keyring, with AES-256-GCM here in
//! the process. The default, and what a `keys rotate` without a key manager uses.

use ring::aead::{self, AES_256_GCM, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom as _, SystemRandom};
use vault_core::cipher::Plaintext;
use vault_core::key_manager::BoxFuture;
use vault_core::{KeyManager, KeyManagerError, WrappedKeyring};
use zeroize::Zeroizing;

use crate::KeyEncryptionKey;

/// The only wrap format: `1 | key id (8) | nonce (12) | ciphertext + tag`.
const FORMAT: u8 = 1;
const KEY_ID_LEN: usize = 8;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
/// Separates the wrap's associated data from every other use of these keys.
const WRAP_LABEL: &[u8] = b"vault keyring wrap v1";

struct StaticKey {
    raw_id: [u8; KEY_ID_LEN],
    id: String,
    key: LessSafeKey,
}

/// Wraps the keyring under `ENCRYPTION_KEY`; `ENCRYPTION_KEYS_PREVIOUS` still unwrap what
/// they wrapped, so the static key itself can be rotated (then `keys rewrap` wraps the
/// keyring again under the new one).
pub struct StaticKeyManager {
    /// The current key first.
    keys: Vec<StaticKey>,
    rng: SystemRandom,
}

impl StaticKeyManager {
    /// Over the current key and the previous ones.
    #[must_use]
    pub fn new(current: &KeyEncryptionKey, previous: &[KeyEncryptionKey]) -> Self {
        let keys = std::iter::once(current)
            .chain(previous)
            .map(|k| StaticKey {
                raw_id: k.raw_key_id(),
                id: k.key_id().as_str().to_owned(),
                key: LessSafeKey::new(
                    UnboundKey::new(&AES_256_GCM, k.bytes.as_slice())
                        .expect("AES-256 keys are 32 bytes"),
                ),
            })
            .collect();
        Self {
            keys,
            rng: SystemRandom::new(),
        }
    }

    fn wrap_now(&self, plaintext: &[u8], context: &str) -> Result<WrappedKeyring, KeyManagerError> {
        let current = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| KeyManagerError::Backend("the system random generator failed".into()))?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + plaintext.len() + 16);
        bytes.push(FORMAT);
        bytes.extend_from_slice(&current.raw_id);
        bytes.extend_from_slice(&nonce);
        let header = bytes.clone();
        let start = bytes.len();
        bytes.extend_from_slice(plaintext);
        let tag = current
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(associated_data(&header, context)),
                &mut bytes[start..],
            )
            .map_err(|_| KeyManagerError::Backend("the keyring is too large".into()))?;
        bytes.extend_from_slice(tag.as_ref());
        Ok(WrappedKeyring {
            manager: "static".to_owned(),
            key: format!("static key {}", current.id),
            bytes,
        })
    }

    fn unwrap_now(
        &self,
        wrapped: &WrappedKeyring,
        context: &str,
    ) -> Result<Plaintext, KeyManagerError> {
        let bytes = wrapped.bytes.as_slice();
        if bytes.len() < HEADER_LEN + 16 || bytes[0] != FORMAT {
            return Err(KeyManagerError::Unwrap("not a static wrap".into()));
        }
        let (header, sealed) = bytes.split_at(HEADER_LEN);
        let key = self
            .keys
            .iter()
            .find(|k| k.raw_id == header[1..=KEY_ID_LEN])
            .ok_or_else(|| {
                KeyManagerError::KeyUnusable(format!(
                    "the keyring is wrapped by static key {}, which is neither ENCRYPTION_KEY \
                     nor in ENCRYPTION_KEYS_PREVIOUS",
                    hex::encode(&header[1..=KEY_ID_LEN])
                ))
            })?;
        let nonce = Nonce::try_assume_unique_for_key(&header[1 + KEY_ID_LEN..])
            .map_err(|_| KeyManagerError::Unwrap("malformed".into()))?;
        let mut out = Zeroizing::new(sealed.to_vec());
        let len = key
            .key
            .open_in_place(
                nonce,
                aead::Aad::from(associated_data(header, context)),
                out.as_mut_slice(),
            )
            .map_err(|_| {
                KeyManagerError::Unwrap(format!(
                    "the keyring did not authenticate under static key {}",
                    key.id
                ))
            })?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

fn associated_data(header: &[u8], context: &str) -> Vec<u8> {
    [WRAP_LABEL, header, context.as_bytes()].concat()
}

impl std::fmt::Debug for StaticKeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKeyManager")
            .field("keys", &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl KeyManager for StaticKeyManager {
    fn kind(&self) -> &'static str {
        "static"
    }

    fn describe(&self) -> String {
        format!("the static key {} (ENCRYPTION_KEY)", self.keys[0].id)
    }

    fn wrap<'a>(
        &'a self,
        plaintext: &'a [u8],
        context: &'a str,
    ) -> BoxFuture<'a, Result<WrappedKeyring, KeyManagerError>> {
        Box::pin(async move { self.wrap_now(plaintext, context) })
    }

    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedKeyring,
        context: &'a str,
    ) -> BoxFuture<'a, Result<Plaintext, KeyManagerError>> {
        Box::pin(async move { self.unwrap_now(wrapped, context) })
    }

    fn check(&self) -> BoxFuture<'_, Result<(), KeyManagerError>> {
        // Nothing to reach: the key is in this process.
        Box::pin(async { Ok(()) })
    }
}
