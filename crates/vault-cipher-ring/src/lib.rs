#![doc = include_str!("../README.md")]

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::aead::{self, AES_256_GCM, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom as _, SystemRandom};
use secrecy::SecretString;
use vault_core::cipher::Plaintext;
use vault_core::keyring::{KEY_LEN, Keyring};
use vault_core::{Aad, Cipher, CipherError, KeyId, SealedBlob};
use zeroize::Zeroizing;

mod static_manager;

pub use static_manager::StaticKeyManager;

/// Length of the AES-GCM authentication tag.
const TAG_LEN: usize = 16;
/// Length of a key as padded base64.
const BASE64_KEY_LEN: usize = 44;
/// Raw length of a key id inside a blob (printed as 16 hex digits).
const KEY_ID_LEN: usize = 8;
/// The only blob format this adapter writes and reads.
const VERSION: u8 = 1;

// Blob layout (offsets in bytes):
// version | key_id | wrap_nonce | wrapped_dek + tag | data_nonce | ciphertext + tag
const KEY_ID_AT: usize = 1;
const WRAP_NONCE_AT: usize = KEY_ID_AT + KEY_ID_LEN;
const WRAPPED_DEK_AT: usize = WRAP_NONCE_AT + NONCE_LEN;
const DATA_NONCE_AT: usize = WRAPPED_DEK_AT + KEY_LEN + TAG_LEN;
const CIPHERTEXT_AT: usize = DATA_NONCE_AT + NONCE_LEN;
/// The smallest possible blob: an empty plaintext still carries its tag.
const MIN_BLOB_LEN: usize = CIPHERTEXT_AT + TAG_LEN;

/// What the key id is the HMAC of. Versioned so that a future scheme cannot collide.
const KEY_ID_LABEL: &[u8] = b"vault kek id v1";

/// How to make a valid key; every parse error ends with it.
const GENERATE_HINT: &str =
    "generate one with `vault-server keys generate` (or `openssl rand -base64 32`)";

/// Standard base64 that accepts the value with or without `=` padding.
const STANDARD_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
/// URL-safe base64 that accepts the value with or without `=` padding.
const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a configured key was refused. The message says what was wrong and how to generate a
/// valid key, and never contains the text that was given (it may be a real key with a typo).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyParseError {
    /// Nothing (or only whitespace) was given.
    #[error(
        "the encryption key is empty; it must be 32 random bytes as base64 or hex; {GENERATE_HINT}"
    )]
    Empty,
    /// Valid hex, but not 64 digits.
    #[error(
        "the encryption key is {digits} hex digits, need exactly 64 (32 bytes); {GENERATE_HINT}"
    )]
    WrongHexLength {
        /// How many hex digits were given.
        digits: usize,
    },
    /// Valid base64, but not of 32 bytes.
    #[error("the encryption key decodes to {bytes} bytes, need exactly 32; {GENERATE_HINT}")]
    WrongLength {
        /// How many bytes the base64 decoded to.
        bytes: usize,
    },
    /// Neither encoding fits.
    #[error(
        "the encryption key is neither base64 nor hex; it must be 32 random bytes as base64 or 64 hex digits; {GENERATE_HINT}"
    )]
    NotBase64OrHex,
    /// Well-formed, but plainly not random (all zeros, a repeated byte, a counting
    /// sequence, text): refused as a key that seals, whatever its length.
    #[error(
        "the encryption key is not random ({reason}); it must be 32 bytes from a secure random generator; {GENERATE_HINT}"
    )]
    NotRandom {
        /// What gave it away, never the key itself.
        reason: &'static str,
    },
}

/// Fewer distinct byte values (or neighbour differences) than this marks a key as made by
/// hand. 32 random bytes have about 30 distinct values; 15 or fewer happens by chance with
/// a probability far below 2^-60.
const MIN_DISTINCT: usize = 16;

/// A key-encryption key (KEK): 32 random bytes that wrap every blob's data key.
///
/// The bytes live in [`Zeroizing`] memory, and `Debug` shows only the [`KeyId`].
pub struct KeyEncryptionKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl KeyEncryptionKey {
    /// Parses a key given as exactly 32 bytes in standard or URL-safe base64 (padded or
    /// not) or as 64 hex digits. Surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`KeyParseError`] for anything else; its message never contains `text`.
    pub fn parse(text: &str) -> Result<Self, KeyParseError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyParseError::Empty);
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);

        // Hex first: 64 hex digits are also valid base64 (of 48 bytes), so the other order
        // would refuse every hex key.
        let is_hex = text.bytes().all(|b| b.is_ascii_hexdigit());
        if is_hex && text.len() == 2 * KEY_LEN {
            hex::decode_to_slice(text, bytes.as_mut_slice())
                .map_err(|_| KeyParseError::NotBase64OrHex)?;
            return Ok(Self { bytes });
        }

        // Decode into zeroizing memory (rather than `decode`'s plain `Vec`) so no copy of
        // the key outlives this call.
        let mut decoded = Zeroizing::new(vec![0u8; base64::decoded_len_estimate(text.len())]);
        let mut decoded_len = None;
        for engine in [&STANDARD_ANY_PAD, &URL_SAFE_ANY_PAD] {
            match engine.decode_slice(text, decoded.as_mut_slice()) {
                Ok(KEY_LEN) => {
                    bytes.copy_from_slice(&decoded[..KEY_LEN]);
                    return Ok(Self { bytes });
                }
                Ok(len) => decoded_len = decoded_len.or(Some(len)),
                Err(_) => {}
            }
        }
        // Hex digits of the wrong count usually also decode as base64; the hex length is
        // the more useful thing to report then.
        if is_hex {
            return Err(KeyParseError::WrongHexLength { digits: text.len() });
        }
        if let Some(bytes) = decoded_len {
            return Err(KeyParseError::WrongLength { bytes });
        }
        Err(KeyParseError::NotBase64OrHex)
    }

    /// Refuses a key that is plainly not random: few distinct bytes (zeros, one byte
    /// repeated, a short pattern), a counting sequence, or nothing but printable ASCII (a
    /// password rather than random bytes). A random key fails this with a probability
    /// below 2^-40 (the ASCII rule; the others far less), and [`Self::generate`] never
    /// returns such a key.
    ///
    /// # Errors
    /// [`KeyParseError::NotRandom`] naming the rule, never the key.
    pub fn check_random(&self) -> Result<(), KeyParseError> {
        let bytes = self.bytes.as_slice();
        let distinct = |values: &mut dyn Iterator<Item = u8>| {
            let mut seen = [false; 256];
            values.for_each(|b| seen[usize::from(b)] = true);
            seen.iter().filter(|s| **s).count()
        };
        let reason = if distinct(&mut bytes.iter().copied()) < MIN_DISTINCT {
            Some("too few distinct bytes: zeros, a repeated byte or a short pattern")
        } else if distinct(&mut bytes.windows(2).map(|w| w[1].wrapping_sub(w[0]))) < MIN_DISTINCT {
            Some("a counting or repeating sequence")
        } else if bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
            Some("only printable characters: a password, not random bytes")
        } else {
            None
        };
        reason.map_or(Ok(()), |reason| Err(KeyParseError::NotRandom { reason }))
    }

    /// A key from its raw bytes (a keyring's keys, unwrapped by the key manager).
    #[must_use]
    pub const fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self { bytes }
    }

    /// The raw bytes, for a keyring (which the key manager wraps).
    #[must_use]
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        self.bytes.clone()
    }

    /// Draws a new key from the system random number generator.
    ///
    /// # Errors
    /// [`CipherError::Random`] when the generator fails.
    pub fn generate() -> Result<Self, CipherError> {
        let rng = SystemRandom::new();
        loop {
            let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
            rng.fill(bytes.as_mut_slice())
                .map_err(|_| CipherError::Random)?;
            let key = Self { bytes };
            // Drawing a key `check_random` refuses is next to impossible, but a generated
            // key must never be one the server then refuses.
            if key.check_random().is_ok() {
                return Ok(key);
            }
        }
    }

    /// The key as standard base64 with padding: the form `vault-server keys generate`
    /// prints and `ENCRYPTION_KEY` takes.
    #[must_use]
    pub fn to_base64(&self) -> SecretString {
        // Encode into an exactly sized buffer so that turning it into the secret's boxed
        // `str` does not reallocate and leave an unwiped copy of the key behind.
        let mut buf = vec![0u8; BASE64_KEY_LEN];
        let written = base64::engine::general_purpose::STANDARD
            .encode_slice(self.bytes.as_slice(), &mut buf)
            .expect("44 bytes hold the padded base64 of 32 bytes");
        debug_assert_eq!(written, BASE64_KEY_LEN);
        let text = String::from_utf8(buf).expect("base64 is ASCII");
        SecretString::from(text)
    }

    /// The key's id: the first 8 bytes of HMAC-SHA-256(key, "vault kek id v1") as 16
    /// lowercase hex digits. One-way, so it can be logged and stored beside the data.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        KeyId::new(hex::encode(self.raw_key_id()))
    }

    fn raw_key_id(&self) -> [u8; KEY_ID_LEN] {
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, self.bytes.as_slice()),
            KEY_ID_LABEL,
        );
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&tag.as_ref()[..KEY_ID_LEN]);
        id
    }
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyEncryptionKey")
            .field("key_id", &self.key_id().as_str())
            .finish_non_exhaustive()
    }
}

/// One key of the keyring, ready to use. Shared (`Arc`) between keyrings: installing a
/// new keyring keeps the static keys' schedules.
struct Kek {
    id: KeyId,
    raw_id: [u8; KEY_ID_LEN],
    // Only the expanded AES key schedule is kept; the raw `KeyEncryptionKey` is wiped when
    // `RingCipher::new` returns. (ring does not wipe the schedule itself on drop.)
    key: LessSafeKey,
}

impl Kek {
    fn new(kek: &KeyEncryptionKey) -> Self {
        let raw_id = kek.raw_key_id();
        Self {
            id: KeyId::new(hex::encode(raw_id)),
            raw_id,
            key: aes_key(kek.bytes.as_slice()),
        }
    }
}

/// The keys in use: the current key first, then every other key that opens.
struct Keys {
    all: Vec<Arc<Kek>>,
    /// The keys given at start-up (`ENCRYPTION_KEY`, `ENCRYPTION_KEYS_PREVIOUS`), kept
    /// beside any keyring installed later, so rows still sealed under them open.
    statics: Vec<Arc<Kek>>,
}

impl Keys {
    /// `first` then `rest`, each key once (the first occurrence wins).
    fn of(first: Vec<Arc<Kek>>, statics: Vec<Arc<Kek>>) -> Self {
        let mut all: Vec<Arc<Kek>> = Vec::with_capacity(first.len() + statics.len());
        for kek in first.into_iter().chain(statics.iter().cloned()) {
            if all.iter().all(|k| k.raw_id != kek.raw_id) {
                all.push(kek);
            }
        }
        Self { all, statics }
    }
}

/// The [`Cipher`] adapter: AES-256-GCM envelope encryption with ring, over a keyring.
///
/// New blobs are sealed under the current key; blobs wrapped by the current key or any
/// previous key open. [`RingCipher::rewrap`] moves a blob to the current key. A keyring
/// held by a key manager is installed (and replaced, when another replica rotates it)
/// through a [`KeyringHandle`].
pub struct RingCipher {
    /// Read on every seal and open: one atomic load, no lock.
    keys: Arc<ArcSwap<Keys>>,
    rng: SystemRandom,
}

impl RingCipher {
    /// Builds a keyring from the current key (which seals) and previous keys (which only
    /// open). Duplicates are dropped. The AES key schedules are computed here once, not on
    /// every call.
    #[must_use]
    pub fn new(current: KeyEncryptionKey, previous: Vec<KeyEncryptionKey>) -> Self {
        let statics = std::iter::once(&current)
            .chain(&previous)
            .map(|k| Arc::new(Kek::new(k)))
            .collect();
        Self::over(Keys::of(Vec::new(), statics))
    }

    /// A cipher over a keyring a key manager held (its current key seals), with `statics`
    /// (`ENCRYPTION_KEY` and `ENCRYPTION_KEYS_PREVIOUS`, possibly none) opening rows sealed
    /// under them before the keyring existed.
    #[must_use]
    pub fn with_keyring(keyring: &Keyring, statics: &[KeyEncryptionKey]) -> Self {
        let statics = statics.iter().map(|k| Arc::new(Kek::new(k))).collect();
        Self::over(Keys::of(keyring_keks(keyring), statics))
    }

    fn over(keys: Keys) -> Self {
        Self {
            keys: Arc::new(ArcSwap::from_pointee(keys)),
            rng: SystemRandom::new(),
        }
    }

    /// A handle that installs another keyring into this cipher (and every clone of the
    /// handle into the same cipher).
    #[must_use]
    pub fn keyring_handle(&self) -> KeyringHandle {
        KeyringHandle {
            keys: self.keys.clone(),
        }
    }

    /// The ids of every configured key, current first.
    #[must_use]
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.load().all.iter().map(|k| k.id.clone()).collect()
    }

    /// Re-wraps a blob's data key under the current key, leaving the data nonce and
    /// ciphertext byte for byte unchanged: this is what lets a rotation move every row to a
    /// new key without decrypting any secret.
    ///
    /// The data part is not checked here (that would need the plaintext in memory); a
    /// tampered data part stays tampered and still fails when the blob is opened.
    ///
    /// # Errors
    /// The same as [`Cipher::open`] for the data-key part of the blob, and
    /// [`CipherError::Random`] when no fresh nonce can be drawn.
    pub fn rewrap(&self, blob: &SealedBlob, aad: &Aad) -> Result<SealedBlob, CipherError> {
        let parsed = Parsed::new(blob)?;
        let aad_bytes = aad.to_bytes();
        let dek = self.unwrap_dek(&parsed, &aad_bytes)?;

        let mut wrap_nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut wrap_nonce)
            .map_err(|_| CipherError::Random)?;
        let keys = self.keys.load();
        let current = &keys.all[0];
        let mut bytes = Vec::with_capacity(blob.bytes.len());
        write_header_and_wrapped_dek(&mut bytes, current, &wrap_nonce, dek.as_slice(), &aad_bytes)?;
        bytes.extend_from_slice(parsed.data_part);
        Ok(SealedBlob {
            key_id: current.id.clone(),
            bytes,
        })
    }

    /// Finds the blob's key and unwraps its data key.
    fn unwrap_dek(
        &self,
        parsed: &Parsed<'_>,
        aad_bytes: &[u8],
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, CipherError> {
        let keys = self.keys.load();
        let kek = keys
            .all
            .iter()
            .find(|k| k.raw_id == parsed.raw_id)
            .ok_or_else(|| CipherError::UnknownKey(KeyId::new(hex::encode(parsed.raw_id))))?;
        let mut wrapped = Zeroizing::new([0u8; KEY_LEN + TAG_LEN]);
        wrapped.copy_from_slice(parsed.wrapped_dek);
        let dek = kek
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(parsed.wrap_nonce),
                aead::Aad::from(wrap_ad(&parsed.raw_id, aad_bytes)),
                wrapped.as_mut_slice(),
            )
            .map_err(|_| CipherError::Tampered)?;
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        out.copy_from_slice(dek);
        Ok(out)
    }
}

impl fmt::Debug for RingCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.keys.load();
        f.debug_struct("RingCipher")
            .field("current", &keys.all[0].id)
            .field(
                "previous",
                &keys.all[1..].iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Cipher for RingCipher {
    fn seal(&self, plaintext: &[u8], aad: &Aad) -> Result<SealedBlob, CipherError> {
        // One draw for the data key and both nonces: one system call instead of three.
        // Random nonces rather than counters: replicas need no coordination and nothing has
        // to be persisted. And because every blob has its own fresh data key, each key
        // encrypts exactly one message, so random-nonce collision limits never come near;
        // the KEK wraps one 32-byte key per blob, far below the ~2^32 messages per key that
        // random 96-bit GCM nonces allow.
        let mut random = Zeroizing::new([0u8; KEY_LEN + 2 * NONCE_LEN]);
        self.rng
            .fill(random.as_mut_slice())
            .map_err(|_| CipherError::Random)?;
        let (dek, nonces) = random.split_at(KEY_LEN);
        let (wrap_nonce, data_nonce) = nonces.split_at(NONCE_LEN);

        let keys = self.keys.load();
        let current = &keys.all[0];
        let aad_bytes = aad.to_bytes();
        let mut bytes = Vec::with_capacity(MIN_BLOB_LEN + plaintext.len());
        write_header_and_wrapped_dek(&mut bytes, current, wrap_nonce, dek, &aad_bytes)?;

        bytes.extend_from_slice(data_nonce);
        let start = bytes.len();
        bytes.extend_from_slice(plaintext);
        let tag = aes_key(dek)
            .seal_in_place_separate_tag(
                nonce(data_nonce)?,
                aead::Aad::from(data_ad(&aad_bytes)),
                &mut bytes[start..],
            )
            // Only inputs beyond ring's per-message limit (~64 GiB) are refused.
            .map_err(|_| CipherError::Malformed)?;
        bytes.extend_from_slice(tag.as_ref());

        Ok(SealedBlob {
            key_id: current.id.clone(),
            bytes,
        })
    }

    fn open(&self, blob: &SealedBlob, aad: &Aad) -> Result<Plaintext, CipherError> {
        let parsed = Parsed::new(blob)?;
        let aad_bytes = aad.to_bytes();
        let dek = self.unwrap_dek(&parsed, &aad_bytes)?;

        let mut out = Zeroizing::new(parsed.ciphertext.to_vec());
        let len = aes_key(dek.as_slice())
            .open_in_place(
                Nonce::assume_unique_for_key(parsed.data_nonce),
                aead::Aad::from(data_ad(&aad_bytes)),
                out.as_mut_slice(),
            )
            .map_err(|_| CipherError::Tampered)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    fn current_key_id(&self) -> KeyId {
        self.keys.load().all[0].id.clone()
    }

    fn fill_random(&self, out: &mut [u8]) -> Result<(), CipherError> {
        self.rng.fill(out).map_err(|_| CipherError::Random)
    }

    fn keyed_hash(&self, key: &[u8; 32], message: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn digest(&self, message: &[u8]) -> [u8; 32] {
        let digest = ring::digest::digest(&ring::digest::SHA256, message);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        out
    }

    fn rewrap(&self, blob: &SealedBlob, aad: &Aad) -> Result<SealedBlob, CipherError> {
        // The inherent method (inherent methods win over trait methods in a path).
        Self::rewrap(self, blob, aad)
    }
}

/// Installs a keyring into a [`RingCipher`]: its current key seals from then on, and its
/// other keys and the static keys still open. Seals and opens in flight finish on the keys
/// they started with.
#[derive(Clone)]
pub struct KeyringHandle {
    keys: Arc<ArcSwap<Keys>>,
}

impl KeyringHandle {
    /// Replaces the cipher's keyring by `keyring` (the static keys stay).
    pub fn install(&self, keyring: &Keyring) {
        let statics = self.keys.load().statics.clone();
        self.keys
            .store(Arc::new(Keys::of(keyring_keks(keyring), statics)));
    }

    /// The id of the key that seals now.
    #[must_use]
    pub fn current_key_id(&self) -> KeyId {
        self.keys.load().all[0].id.clone()
    }

    /// The ids of the static keys (those given at start-up), in the order given.
    #[must_use]
    pub fn static_key_ids(&self) -> Vec<KeyId> {
        self.keys
            .load()
            .statics
            .iter()
            .map(|k| k.id.clone())
            .collect()
    }
}

impl fmt::Debug for KeyringHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringHandle")
            .field("current", &self.current_key_id())
            .finish_non_exhaustive()
    }
}

/// The id a keyring key has (what blobs sealed under it record).
#[must_use]
pub fn key_id_of(key: &[u8; KEY_LEN]) -> KeyId {
    KeyEncryptionKey::from_bytes(Zeroizing::new(*key)).key_id()
}

/// A keyring's keys, current first, then the others newest first.
fn keyring_keks(keyring: &Keyring) -> Vec<Arc<Kek>> {
    let current = keyring.current();
    let mut keks = vec![Arc::new(Kek::new(&KeyEncryptionKey::from_bytes(
        Zeroizing::new(*current),
    )))];
    let others: Vec<&[u8; KEY_LEN]> = keyring.keys().filter(|k| *k != current).collect();
    for key in others.into_iter().rev() {
        keks.push(Arc::new(Kek::new(&KeyEncryptionKey::from_bytes(
            Zeroizing::new(*key),
        ))));
    }
    keks
}

/// A blob split into its parts; only the lengths and version are checked here.
struct Parsed<'a> {
    raw_id: [u8; KEY_ID_LEN],
    wrap_nonce: [u8; NONCE_LEN],
    wrapped_dek: &'a [u8],
    data_nonce: [u8; NONCE_LEN],
    ciphertext: &'a [u8],
    /// Data nonce and ciphertext: what a rewrap copies unchanged.
    data_part: &'a [u8],
}

impl<'a> Parsed<'a> {
    fn new(blob: &'a SealedBlob) -> Result<Self, CipherError> {
        let bytes = blob.bytes.as_slice();
        if bytes.len() < MIN_BLOB_LEN || bytes[0] != VERSION {
            return Err(CipherError::Malformed);
        }
        let raw_id: [u8; KEY_ID_LEN] = array(&bytes[KEY_ID_AT..WRAP_NONCE_AT])?;
        // The key id beside the bytes is what stores count rows by; one that disagrees with
        // the (authenticated) id inside is a store bug worth surfacing, not guessing past.
        if blob.key_id.as_str() != hex::encode(raw_id) {
            return Err(CipherError::Malformed);
        }
        Ok(Self {
            raw_id,
            wrap_nonce: array(&bytes[WRAP_NONCE_AT..WRAPPED_DEK_AT])?,
            wrapped_dek: &bytes[WRAPPED_DEK_AT..DATA_NONCE_AT],
            data_nonce: array(&bytes[DATA_NONCE_AT..CIPHERTEXT_AT])?,
            ciphertext: &bytes[CIPHERTEXT_AT..],
            data_part: &bytes[DATA_NONCE_AT..],
        })
    }
}

/// Appends `version | key_id | wrap_nonce | wrapped_dek + tag` to `out` (empty on entry).
fn write_header_and_wrapped_dek(
    out: &mut Vec<u8>,
    kek: &Kek,
    wrap_nonce: &[u8],
    dek: &[u8],
    aad_bytes: &[u8],
) -> Result<(), CipherError> {
    out.push(VERSION);
    out.extend_from_slice(&kek.raw_id);
    out.extend_from_slice(wrap_nonce);
    // The data key is encrypted in place right away, so its plaintext never stays in the
    // (non-zeroizing) output buffer.
    let start = out.len();
    out.extend_from_slice(dek);
    let tag = kek
        .key
        .seal_in_place_separate_tag(
            nonce(wrap_nonce)?,
            aead::Aad::from(wrap_ad(&kek.raw_id, aad_bytes)),
            &mut out[start..],
        )
        .map_err(|_| CipherError::Malformed)?;
    out.extend_from_slice(tag.as_ref());
    Ok(())
}

/// Associated data of the data-key wrap: binds the wrapped key to the format version, the
/// KEK that wrapped it and the caller's associated data.
fn wrap_ad(raw_id: &[u8; KEY_ID_LEN], aad_bytes: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(3 + 1 + KEY_ID_LEN + aad_bytes.len());
    ad.extend_from_slice(b"dek");
    ad.push(VERSION);
    ad.extend_from_slice(raw_id);
    ad.extend_from_slice(aad_bytes);
    ad
}

/// Associated data of the payload. Deliberately without the key id: a rewrap can then
/// re-wrap only the data key under a new KEK and leave the ciphertext untouched. The data
/// stays bound to its KEK anyway, through the data key, which only that wrap yields.
fn data_ad(aad_bytes: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(4 + 1 + aad_bytes.len());
    ad.extend_from_slice(b"data");
    ad.push(VERSION);
    ad.extend_from_slice(aad_bytes);
    ad
}

fn aes_key(bytes: &[u8]) -> LessSafeKey {
    // `LessSafeKey` because nonces are random and stored in the blob, which ring's
    // counter-based `SealingKey` / `NonceSequence` API does not fit.
    // Every caller passes exactly 32 bytes, so this cannot fail.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("AES-256 keys are 32 bytes"))
}

fn nonce(bytes: &[u8]) -> Result<Nonce, CipherError> {
    Nonce::try_assume_unique_for_key(bytes).map_err(|_| CipherError::Malformed)
}

fn array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], CipherError> {
    bytes.try_into().map_err(|_| CipherError::Malformed)
}
