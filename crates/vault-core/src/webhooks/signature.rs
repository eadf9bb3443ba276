//! Signing deliveries per the Standard Webhooks specification: HMAC-SHA-256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, sent as `webhook-signature: v1,<base64>`,
//! under a secret the subscriber holds as `whsec_<base64>`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::cipher::{Cipher, CipherError};

/// The prefix of a secret as the subscriber holds it.
pub const SECRET_PREFIX: &str = "whsec_";

/// A subscription's signing secret: 32 random bytes. `Debug` never shows them.
pub struct WebhookSecret(Zeroizing<[u8; 32]>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// A fresh secret from the cipher's random source.
    ///
    /// # Errors
    /// When the system's random source fails.
    pub fn generate(cipher: &dyn Cipher) -> Result<Self, CipherError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        cipher.fill_random(&mut bytes[..])?;
        Ok(Self(bytes))
    }

    /// The secret from its sealed bytes.
    ///
    /// # Errors
    /// When they are not 32 bytes: the row was not written by this vault.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CipherError> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| CipherError::Malformed)?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// The bytes to seal.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..]
    }

    /// The secret as the subscriber holds it (`whsec_<base64>`), shown once.
    #[must_use]
    pub fn to_wire(&self) -> SecretString {
        SecretString::from(format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0[..])))
    }

    /// The three headers that sign `body`, sent as message `message_id` at `at`.
    #[must_use]
    pub fn sign(
        &self,
        cipher: &dyn Cipher,
        message_id: &str,
        at: OffsetDateTime,
        body: &[u8],
    ) -> SignedHeaders {
        let timestamp = at.unix_timestamp().to_string();
        let mut signed = Vec::with_capacity(message_id.len() + timestamp.len() + body.len() + 2);
        signed.extend_from_slice(message_id.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(timestamp.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(body);
        let mac = cipher.keyed_hash(&self.0, &signed);
        SignedHeaders {
            id: message_id.to_owned(),
            timestamp,
            signature: format!("v1,{}", STANDARD.encode(mac)),
        }
    }
}

/// The values of `webhook-id`, `webhook-timestamp` and `webhook-signature`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`: the message id, the same on every attempt.
    pub id: String,
    /// `webhook-timestamp`: Unix seconds of this attempt.
    pub timestamp: String,
    /// `webhook-signature`: `v1,` and the base64 HMAC.
    pub signature: String,
}
