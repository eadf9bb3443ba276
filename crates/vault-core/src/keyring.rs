//! The keyring: the vault's key-encryption keys, one of them current. It lives in memory
//! as plaintext only; the store keeps it wrapped by the key manager
//! ([`KeyManager`](crate::KeyManager)), and, for a short while after each change, sealed
//! under the key that was current before (the hand-over that lets running replicas follow
//! a rotation without calling the key manager, as Vault's keyring upgrade entries do).

use std::fmt;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::cipher::{CipherError, Plaintext, SealedBlob};
use crate::key_manager::WrappedKeyring;

/// Length of one key-encryption key.
pub const KEY_LEN: usize = 32;
/// The most keys a keyring holds (the count is one byte).
pub const MAX_KEYS: usize = 255;
/// What the encoding starts with; a later format gets another tag.
const TAG: &[u8; 4] = b"vkr1";

/// The key-encryption keys and which of them seals. Wiped from memory when dropped (each
/// copy, clones included); `Debug` shows only how many keys there are.
#[derive(Clone)]
pub struct Keyring {
    /// Oldest first; the newest is the one last added by a rotation.
    keys: Vec<Zeroizing<[u8; KEY_LEN]>>,
    current: usize,
}

impl Keyring {
    /// A keyring of one key, current.
    #[must_use]
    pub fn new(first: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self {
            keys: vec![first],
            current: 0,
        }
    }

    /// This keyring with `key` added as the current key (a rotation).
    ///
    /// # Errors
    /// [`CipherError::Malformed`] when the keyring is full.
    pub fn rotated(&self, key: Zeroizing<[u8; KEY_LEN]>) -> Result<Self, CipherError> {
        if self.keys.len() >= MAX_KEYS {
            return Err(CipherError::Malformed);
        }
        let mut keys = self.keys.clone();
        keys.push(key);
        Ok(Self {
            current: keys.len() - 1,
            keys,
        })
    }

    /// The key that seals.
    #[must_use]
    pub fn current(&self) -> &[u8; KEY_LEN] {
        &self.keys[self.current]
    }

    /// Every key, oldest first (the current one among them).
    pub fn keys(&self) -> impl Iterator<Item = &[u8; KEY_LEN]> {
        self.keys.iter().map(|k| &**k)
    }

    /// `tag | current | count | count × 32 bytes`, in wiped memory.
    #[must_use]
    pub fn encode(&self) -> Plaintext {
        let mut out = Zeroizing::new(Vec::with_capacity(6 + self.keys.len() * KEY_LEN));
        out.extend_from_slice(TAG);
        // `rotated` and `decode` keep both below 256.
        out.push(u8::try_from(self.current).unwrap_or(u8::MAX));
        out.push(u8::try_from(self.keys.len()).unwrap_or(u8::MAX));
        for key in &self.keys {
            out.extend_from_slice(key.as_slice());
        }
        out
    }

    /// Reads what [`Self::encode`] wrote.
    ///
    /// # Errors
    /// [`CipherError::Malformed`] for anything else.
    pub fn decode(bytes: &[u8]) -> Result<Self, CipherError> {
        let rest = bytes.strip_prefix(TAG).ok_or(CipherError::Malformed)?;
        let [current, count, rest @ ..] = rest else {
            return Err(CipherError::Malformed);
        };
        let (current, count) = (usize::from(*current), usize::from(*count));
        if count == 0 || current >= count || rest.len() != count * KEY_LEN {
            return Err(CipherError::Malformed);
        }
        let keys = rest
            .chunks_exact(KEY_LEN)
            .map(|chunk| {
                let mut key = Zeroizing::new([0u8; KEY_LEN]);
                key.copy_from_slice(chunk);
                key
            })
            .collect();
        Ok(Self { keys, current })
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("keys", &self.keys.len())
            .field("current", &self.current)
            .finish()
    }
}

/// The keyring as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKeyring {
    /// Incremented by every change; a change is a compare-and-set on it.
    pub generation: i64,
    /// The keyring, wrapped by the key manager.
    pub wrapped: WrappedKeyring,
    /// The keyring sealed under the key current before this generation (bound to the
    /// generation), until every row is under the new key.
    pub handover: Option<SealedBlob>,
    /// When this generation was written.
    pub changed_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new([byte; KEY_LEN])
    }

    #[test]
    fn encodes_and_decodes_with_the_current_key() {
        let ring = Keyring::new(key(1)).rotated(key(2)).expect("room");
        let decoded = Keyring::decode(&ring.encode()).expect("decodes");
        assert_eq!(decoded.current(), &[2; KEY_LEN]);
        assert_eq!(decoded.keys().count(), 2);
        assert_eq!(format!("{decoded:?}"), "Keyring { keys: 2, current: 1 }");
    }

    #[test]
    fn refuses_what_it_did_not_write() {
        let good = Keyring::new(key(7)).encode();
        for bad in [
            &b""[..],
            &good[..good.len() - 1],
            &[b"vkr2", &good[4..]].concat(),
            // current beyond the count
            &[&good[..4], &[1, 1], &good[6..]].concat(),
            // no keys
            &[&good[..4], &[0, 0]].concat(),
        ] {
            assert!(Keyring::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_full_keyring_refuses_another_key() {
        let mut ring = Keyring::new(key(0));
        for i in 1..MAX_KEYS {
            ring = ring
                .rotated(key(u8::try_from(i).expect("small")))
                .expect("room");
        }
        assert!(ring.rotated(key(9)).is_err());
    }
}
