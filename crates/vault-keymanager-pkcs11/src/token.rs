//! The blocking side: every PKCS#11 call the manager makes, run on a blocking thread, and
//! the translation of `CKR_*` codes into [`KeyManagerError`]s.

use std::sync::{Mutex, PoisonError};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use vault_core::KeyManagerError;
use vault_core::cipher::Plaintext;
use zeroize::Zeroizing;

use crate::{Pkcs11Config, SlotSelector};

/// The first byte of a wrapped keyring: version 1 is
/// `1 | label length (1) | key label | IV (12) | ciphertext | tag (16)`. The label says which
/// key of the token wrapped it, so a keyring wrapped under an earlier key still opens once
/// the configured label names a new one (the HSM key's rotation).
const FORMAT_V1: u8 = 1;
/// 96 bits, GCM's native IV length.
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// PKCS#11 login state belongs to the application, not to a session: every session of the
/// process on a token is logged in or out together, so one operation's `C_Logout` would pull
/// the login from under another in flight (even another manager's, since the module is
/// loaded and initialised once per process). The state is process-wide, so the lock is too;
/// operations are rare (start, rotation, readiness), so taking them one at a time costs
/// nothing.
static LOGIN_STATE: Mutex<()> = Mutex::new(());

/// A session logged in as the user. Dropping it logs out (if this operation logged in),
/// then closes the session (cryptoki's `Session` closes on drop): on every path, failures
/// included.
struct LoggedIn {
    session: Session,
    logged_in: bool,
}

impl Drop for LoggedIn {
    fn drop(&mut self) {
        if self.logged_in
            && let Err(error) = self.session.logout()
        {
            tracing::warn!(error = %describe(&error), "PKCS#11 C_Logout failed");
        }
    }
}

/// A logged-in session with the configured key found and checked.
pub(crate) struct Opened {
    login: LoggedIn,
    key: ObjectHandle,
    /// The key's `CKA_ID`, hex (empty when the key has none).
    key_id: String,
    /// The token's label, as the token reports it.
    token: String,
}

impl Opened {
    /// `WrappedKeyring::key` for this key.
    pub(crate) fn key_name(&self, label: &str) -> String {
        let id = if self.key_id.is_empty() {
            "none"
        } else {
            &self.key_id
        };
        format!("pkcs11 key {label} (id {id}) on token {}", self.token)
    }

    fn session(&self) -> &Session {
        &self.login.session
    }
}

/// Runs `operation` on a fresh logged-in session with the configured key, one operation
/// per process at a time (see [`LOGIN_STATE`]).
pub(crate) fn with_key<T>(
    pkcs11: &Pkcs11,
    config: &Pkcs11Config,
    operation: impl FnOnce(&Opened) -> Result<T, KeyManagerError>,
) -> Result<T, KeyManagerError> {
    let _one_at_a_time = LOGIN_STATE.lock().unwrap_or_else(PoisonError::into_inner);
    // A token can be missing for an instant: SoftHSM2 skips a token whose files another
    // process holds while it rescans its slots, and a network HSM can drop a slot
    // briefly. Only that is tried again, a few times: never a refused PIN, which a retry
    // could turn into a locked token.
    let mut attempt = 1;
    let opened = loop {
        match open(pkcs11, config) {
            Err(KeyManagerError::Unreachable(_)) if attempt < OPEN_ATTEMPTS => {
                attempt += 1;
                std::thread::sleep(RETRY_AFTER);
            }
            opened => break opened?,
        }
    };
    operation(&opened)
}

/// How often a token that is not there is looked for, and how long apart.
const OPEN_ATTEMPTS: u32 = 3;
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

fn open(pkcs11: &Pkcs11, config: &Pkcs11Config) -> Result<Opened, KeyManagerError> {
    let slot = find_slot(pkcs11, &config.slot)?;
    let info = pkcs11
        .get_token_info(slot)
        .map_err(|e| translate(&e, "reading the token's information"))?;
    if !info.token_initialized() {
        // SoftHSM2 always offers one such slot, for the next token.
        return Err(KeyManagerError::Unreachable(format!(
            "{} holds a token that is not initialised",
            config.slot
        )));
    }
    let token = info.label().to_owned();
    // Read-only: encrypting, decrypting and finding objects create nothing in the token.
    let session = pkcs11
        .open_ro_session(slot)
        .map_err(|e| translate(&e, &format!("opening a session on token \"{token}\"")))?;
    let logged_in = match session.login(UserType::User, Some(&config.pin)) {
        Ok(()) => true,
        // Someone else in this process (outside this crate) holds the login: use it and
        // leave the logout to them.
        Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => false,
        Err(e) => return Err(translate(&e, &format!("logging in to token \"{token}\""))),
    };
    let login = LoggedIn { session, logged_in };
    let (key, key_id) = find_key(&login.session, &token, &config.key_label)?;
    Ok(Opened {
        login,
        key,
        key_id,
        token,
    })
}

/// The slot the selector names, with a token in it.
fn find_slot(pkcs11: &Pkcs11, selector: &SlotSelector) -> Result<Slot, KeyManagerError> {
    let listing = |e: Error| translate(&e, "listing the module's slots");
    match selector {
        SlotSelector::Id(id) => {
            let slot = Slot::try_from(*id)
                .map_err(|_| KeyManagerError::Unreachable(format!("no slot {id}")))?;
            let info = pkcs11.get_slot_info(slot).map_err(|e| match e {
                Error::Pkcs11(RvError::SlotIdInvalid, _) => {
                    KeyManagerError::Unreachable(format!("the module has no slot {id}"))
                }
                e => translate(&e, &format!("reading slot {id}")),
            })?;
            if !info.token_present() {
                return Err(KeyManagerError::Unreachable(format!(
                    "slot {id} has no token in it"
                )));
            }
            Ok(slot)
        }
        SlotSelector::TokenLabel(label) => {
            let mut found = Vec::new();
            let mut seen = Vec::new();
            for slot in pkcs11.get_slots_with_token().map_err(listing)? {
                // A slot whose token went away meanwhile is not a match, nor is a blank
                // token (SoftHSM2 always offers one, for the next token).
                let Ok(info) = pkcs11.get_token_info(slot) else {
                    continue;
                };
                if !info.token_initialized() {
                    continue;
                }
                if info.label() == label {
                    found.push(slot);
                }
                seen.push(format!("\"{}\"", info.label()));
            }
            match found.as_slice() {
                [slot] => Ok(*slot),
                [] => Err(KeyManagerError::Unreachable(format!(
                    "no token labelled \"{label}\" (tokens present: {})",
                    if seen.is_empty() {
                        "none".to_owned()
                    } else {
                        seen.join(", ")
                    }
                ))),
                several => Err(KeyManagerError::KeyUnusable(format!(
                    "{} tokens are labelled \"{label}\": select the slot by its id",
                    several.len()
                ))),
            }
        }
    }
}

/// Finds the one AES secret key labelled `label` and checks it may encrypt and decrypt.
/// Returns its handle and its `CKA_ID` in hex.
fn find_key(
    session: &Session,
    token: &str,
    label: &str,
) -> Result<(ObjectHandle, String), KeyManagerError> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    let keys = session
        .find_objects(&template)
        .map_err(|e| translate(&e, &format!("looking for key \"{label}\"")))?;
    let key = match keys.as_slice() {
        [key] => *key,
        [] => {
            return Err(KeyManagerError::KeyUnusable(format!(
                "no AES secret key labelled \"{label}\" on token \"{token}\""
            )));
        }
        several => {
            return Err(KeyManagerError::KeyUnusable(format!(
                "{} AES secret keys are labelled \"{label}\" on token \"{token}\": the label \
                 must name exactly one",
                several.len()
            )));
        }
    };
    let attributes = session
        .get_attributes(
            key,
            &[
                AttributeType::Id,
                AttributeType::Encrypt,
                AttributeType::Decrypt,
            ],
        )
        .map_err(|e| translate(&e, &format!("reading key \"{label}\"")))?;
    let (mut id, mut encrypt, mut decrypt) = (String::new(), false, false);
    for attribute in attributes {
        match attribute {
            Attribute::Id(bytes) => id = hex(&bytes),
            Attribute::Encrypt(allowed) => encrypt = allowed,
            Attribute::Decrypt(allowed) => decrypt = allowed,
            _ => {}
        }
    }
    // Both, whatever the operation: a key that could wrap but not unwrap would seal a
    // keyring no one can open.
    for (allowed, what) in [(encrypt, "CKA_ENCRYPT"), (decrypt, "CKA_DECRYPT")] {
        if !allowed {
            return Err(KeyManagerError::KeyUnusable(format!(
                "key \"{label}\" on token \"{token}\" does not allow {what}"
            )));
        }
    }
    Ok((key, id))
}

/// The label of the key that wrapped `bytes`, and the rest (IV, ciphertext, tag).
///
/// # Errors
/// `Unwrap` for bytes of another format.
pub(crate) fn split_label(bytes: &[u8]) -> Result<(String, &[u8]), KeyManagerError> {
    let malformed = |why: &str| KeyManagerError::Unwrap(format!("the wrapped keyring {why}"));
    let Some((&version, rest)) = bytes.split_first() else {
        return Err(malformed("is empty"));
    };
    if version != FORMAT_V1 {
        return Err(KeyManagerError::Unwrap(format!(
            "unknown format version {version} (this manager writes {FORMAT_V1})"
        )));
    }
    let Some((&len, rest)) = rest.split_first() else {
        return Err(malformed("is too short"));
    };
    let (label, rest) = rest
        .split_at_checked(usize::from(len))
        .ok_or_else(|| malformed("is too short"))?;
    let label = std::str::from_utf8(label).map_err(|_| malformed("names no key"))?;
    Ok((label.to_owned(), rest))
}

/// AES-GCM inside the token: `FORMAT_V1 | label | IV | ciphertext | tag`, the context as
/// AAD.
pub(crate) fn wrap(
    opened: &Opened,
    label: &str,
    plaintext: &[u8],
    context: &str,
) -> Result<Vec<u8>, KeyManagerError> {
    let label_len = u8::try_from(label.len()).map_err(|_| {
        KeyManagerError::KeyUnusable("the key label is longer than 255 bytes".to_owned())
    })?;
    // A random IV from the token's generator: a counter would need state kept across
    // restarts and replicas, and a keyring is wrapped a handful of times in a key's life, far
    // below the 2^32 random IVs a GCM key can take.
    let mut iv = [0_u8; IV_LEN];
    opened
        .session()
        .generate_random_slice(&mut iv)
        .map_err(|e| translate(&e, "drawing an IV from the token"))?;
    let mut param_iv = iv;
    let params = gcm_params(&mut param_iv, context)?;
    let sealed = opened
        .session()
        .encrypt(&Mechanism::AesGcm(params), opened.key, plaintext)
        .map_err(|e| translate(&e, "encrypting with AES-GCM"))?;
    let mut bytes = Vec::with_capacity(2 + label.len() + IV_LEN + sealed.len());
    bytes.push(FORMAT_V1);
    bytes.push(label_len);
    bytes.extend_from_slice(label.as_bytes());
    bytes.extend_from_slice(&iv);
    bytes.extend_from_slice(&sealed);
    Ok(bytes)
}

/// The inverse of [`wrap`], given what follows the label ([`split_label`]); any mismatch
/// (bytes, context, key) is `Unwrap`.
pub(crate) fn unwrap(
    opened: &Opened,
    rest: &[u8],
    context: &str,
) -> Result<Plaintext, KeyManagerError> {
    let Some((iv, sealed)) = rest
        .split_first_chunk::<IV_LEN>()
        .filter(|(_, sealed)| sealed.len() >= TAG_LEN)
    else {
        return Err(KeyManagerError::Unwrap(format!(
            "the wrapped keyring is too short ({} bytes after its label)",
            rest.len()
        )));
    };
    let mut iv = *iv;
    let params = gcm_params(&mut iv, context)?;
    match opened
        .session()
        .decrypt(&Mechanism::AesGcm(params), opened.key, sealed)
    {
        Ok(plaintext) => Ok(Zeroizing::new(plaintext)),
        // A tag that does not verify. The standard codes, and CKR_GENERAL_ERROR, which is
        // what SoftHSM2 2.6 returns for a bad GCM tag (its OpenSSL `DecryptFinal` failing;
        // the tests pin this). Only C_Decrypt's failure is read this way: C_DecryptInit's
        // would be about the key or mechanism.
        Err(Error::Pkcs11(
            rv @ (RvError::EncryptedDataInvalid
            | RvError::EncryptedDataLenRange
            | RvError::FunctionFailed
            | RvError::GeneralError),
            cryptoki::context::Function::Decrypt,
        )) => Err(KeyManagerError::Unwrap(format!(
            "AES-GCM did not authenticate the keyring (C_Decrypt: {rv:?}): a different key, \
             another context or modified bytes"
        ))),
        Err(e) => Err(translate(&e, "decrypting with AES-GCM")),
    }
}

/// `CKM_AES_GCM`'s parameters: the IV, the context as AAD, a 128-bit tag.
fn gcm_params<'a>(
    iv: &'a mut [u8; IV_LEN],
    context: &'a str,
) -> Result<GcmParams<'a>, KeyManagerError> {
    const _: () = assert!(TAG_LEN * 8 == 128);
    // A literal, so that it takes the platform's CK_ULONG.
    GcmParams::new(iv, context.as_bytes(), 128.into())
        .map_err(|e| translate(&e, "preparing AES-GCM"))
}

/// Translates a cryptoki error met while `doing` something. Nothing in a cryptoki error
/// carries the PIN or key material (they hold return codes and function names).
pub(crate) fn translate(error: &Error, doing: &str) -> KeyManagerError {
    let what = format!("{doing}: {}", describe(error));
    let Error::Pkcs11(rv, _) = error else {
        return KeyManagerError::Backend(what);
    };
    match rv {
        RvError::PinIncorrect
        | RvError::PinInvalid
        | RvError::PinLenRange
        | RvError::PinExpired
        | RvError::PinLocked
        | RvError::UserPinNotInitialized => KeyManagerError::Denied(format!(
            "the token refused the PIN ({doing}: {rv:?}); check the configured PIN"
        )),
        RvError::UserAnotherAlreadyLoggedIn | RvError::UserTypeInvalid => {
            KeyManagerError::Denied(what)
        }
        RvError::SlotIdInvalid
        | RvError::TokenNotPresent
        | RvError::TokenNotRecognized
        | RvError::DeviceRemoved
        | RvError::DeviceError
        | RvError::CryptokiNotInitialized => KeyManagerError::Unreachable(what),
        RvError::KeyHandleInvalid
        | RvError::KeyTypeInconsistent
        | RvError::KeyFunctionNotPermitted
        | RvError::KeySizeRange
        | RvError::KeyChanged
        | RvError::KeyNeeded
        | RvError::KeyIndigestible
        | RvError::KeyNotNeeded
        | RvError::KeyUnextractable => KeyManagerError::KeyUnusable(what),
        _ => KeyManagerError::Backend(what),
    }
}

/// A cryptoki error in a line: `C_Login: PinIncorrect` rather than the specification's
/// paragraph.
pub(crate) fn describe(error: &Error) -> String {
    match error {
        Error::Pkcs11(rv, function) => format!("C_{function:?}: {rv:?}"),
        other => other.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
