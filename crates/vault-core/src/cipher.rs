//! The `Cipher` port: authenticated encryption of secret payloads, plus the two other
//! primitives the domain needs from a crypto provider (randomness and a keyed hash).
//!
//! The port is synchronous on purpose: sealing ~200 bytes takes microseconds, far less than
//! the cost of handing the work to another thread.

use std::fmt;

use uuid::Uuid;
use zeroize::Zeroizing;

use crate::ids::OrganizationId;

/// Plaintext bytes that are wiped from memory when dropped.
pub type Plaintext = Zeroizing<Vec<u8>>;

/// Identifies the key-encryption key that wrapped a blob. Derived from the key by a one-way
/// function, so it can be logged and stored without revealing anything about the key.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Wraps a key id as an adapter prints it.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The printable id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

/// A sealed payload as the cipher produced it, with the id of the key that wrapped it
/// (kept beside the bytes so stores can count rows per key without parsing blobs).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedBlob {
    /// The key-encryption key this blob's data key is wrapped with.
    pub key_id: KeyId,
    /// The opaque bytes: format is the cipher adapter's business.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for SealedBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ciphertext is not secret, but dumping it helps nobody and bloats logs.
        f.debug_struct("SealedBlob")
            .field("key_id", &self.key_id)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// What a sealed payload is for. Part of the associated data, so a blob sealed for one
/// purpose can never be opened as another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// The secret fields of a credential.
    CredentialSecrets,
    /// The known value that proves the configured keys are the database's keys.
    KeyCheck,
    /// The random key that access keys are hashed with.
    AccessKeyHashKey,
    /// The secret fields of one numbered version of a credential (its history).
    CredentialVersion,
    /// A record that a one-time migration of sealed rows is done.
    MigrationMarker,
    /// The tokens of an OAuth2 connection.
    ConnectionTokens,
    /// The keyring, handed over to running replicas under the key current before it.
    KeyringHandover,
    /// The private key that signs the audit log's checkpoints.
    AuditSigningKey,
    /// The secret that signs a webhook subscription's deliveries.
    WebhookSecret,
}

impl Purpose {
    const fn label(self) -> &'static [u8] {
        match self {
            Self::CredentialSecrets => b"credential-secrets",
            Self::KeyCheck => b"key-check",
            Self::AccessKeyHashKey => b"access-key-hash-key",
            Self::CredentialVersion => b"credential-version",
            Self::MigrationMarker => b"migration-marker",
            Self::ConnectionTokens => b"connection-tokens",
            Self::KeyringHandover => b"keyring-handover",
            Self::AuditSigningKey => b"audit-signing-key",
            Self::WebhookSecret => b"webhook-secret",
        }
    }
}

/// Associated data: binds a ciphertext to (organization, object, purpose) and, for a
/// credential's secrets, its version. A blob copied to another row, another organization or
/// another purpose, or restored over a later version of its row, fails to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aad {
    purpose: Purpose,
    organization: Option<OrganizationId>,
    object: Uuid,
    /// The version number, for a credential's current secrets and its versions: so an
    /// older blob cannot be put back in place of a newer one.
    version: Option<i64>,
}

impl Aad {
    /// For the current secret fields of one credential at `version` (its version column):
    /// every change of the credential seals them again for its new version.
    #[must_use]
    pub fn credential_secrets(
        organization: OrganizationId,
        credential: crate::ids::CredentialId,
        version: i64,
    ) -> Self {
        Self {
            purpose: Purpose::CredentialSecrets,
            organization: Some(organization),
            object: *credential.as_uuid(),
            version: Some(version),
        }
    }

    /// The binding of a credential's current secrets as releases before the version
    /// binding sealed them. Only the vault's one-time rebind of such rows opens with it.
    #[must_use]
    pub fn unbound_credential_secrets(
        organization: OrganizationId,
        credential: crate::ids::CredentialId,
    ) -> Self {
        Self {
            purpose: Purpose::CredentialSecrets,
            organization: Some(organization),
            object: *credential.as_uuid(),
            version: None,
        }
    }

    /// For the secret fields of version `number` of one credential.
    #[must_use]
    pub fn credential_version(
        organization: OrganizationId,
        credential: crate::ids::CredentialId,
        number: i64,
    ) -> Self {
        Self {
            purpose: Purpose::CredentialVersion,
            organization: Some(organization),
            object: *credential.as_uuid(),
            version: Some(number),
        }
    }

    /// For the tokens of one credential's OAuth2 connection at `generation`: every refresh
    /// seals them again for the next one.
    #[must_use]
    pub fn connection_tokens(
        organization: OrganizationId,
        credential: crate::ids::CredentialId,
        generation: i64,
    ) -> Self {
        Self {
            purpose: Purpose::ConnectionTokens,
            organization: Some(organization),
            object: *credential.as_uuid(),
            version: Some(generation),
        }
    }

    /// For the signing secret of one webhook subscription.
    #[must_use]
    pub fn webhook_secret(organization: OrganizationId, webhook: crate::ids::WebhookId) -> Self {
        Self {
            purpose: Purpose::WebhookSecret,
            organization: Some(organization),
            object: *webhook.as_uuid(),
            version: None,
        }
    }

    /// For the keyring of `generation`, handed over to running replicas: a copy of another
    /// generation never opens in its place.
    #[must_use]
    pub fn keyring_handover(generation: i64) -> Self {
        Self {
            purpose: Purpose::KeyringHandover,
            organization: None,
            object: Uuid::nil(),
            version: Some(generation),
        }
    }

    /// For installation-wide values (no organization).
    #[must_use]
    pub fn installation(purpose: Purpose) -> Self {
        Self {
            purpose,
            organization: None,
            object: Uuid::nil(),
            version: None,
        }
    }

    /// The canonical encoding every cipher adapter authenticates: a version tag, the
    /// length-prefixed purpose, then the organization and object ids (fixed width, so no
    /// two distinct tuples share an encoding).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let label = self.purpose.label();
        let mut out = Vec::with_capacity(8 + 1 + label.len() + 32);
        out.extend_from_slice(b"vaultad1");
        out.push(u8::try_from(label.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(label);
        let organization = self.organization.map_or([0u8; 16], |o| *o.as_bytes());
        out.extend_from_slice(&organization);
        out.extend_from_slice(self.object.as_bytes());
        // A number makes the encoding 8 bytes longer, so a bound and an unbound encoding
        // never coincide; encodings without one keep the exact bytes of earlier releases.
        if let Some(version) = self.version {
            out.extend_from_slice(&version.to_be_bytes());
        }
        out
    }
}

/// What can go wrong in a cipher.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CipherError {
    /// The blob names a key-encryption key that is not in the keyring.
    #[error("the blob was sealed with key {0}, which is not configured")]
    UnknownKey(KeyId),
    /// Authentication failed: wrong key, modified bytes, or wrong associated data.
    #[error("the sealed data failed authentication (tampered, moved, or wrong key)")]
    Tampered,
    /// The bytes are not a blob this cipher understands.
    #[error("the sealed data is malformed")]
    Malformed,
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// Authenticated encryption with associated data, plus randomness, a keyed hash and a
/// digest.
///
/// # Errors
/// - `seal` MUST use a fresh data key and nonce for every call, MUST authenticate `aad`,
///   and MUST record which key-encryption key it used in [`SealedBlob::key_id`].
/// - `open` MUST return [`CipherError::Tampered`] when any bit of the blob or of `aad`
///   differs from what was sealed, [`CipherError::UnknownKey`] when the blob's key is not
///   configured, and [`CipherError::Malformed`] when the bytes are not a blob at all.
/// - `fill_random` MUST draw from a cryptographically secure generator, or fail with
///   [`CipherError::Random`].
/// - `digest` MUST be SHA-256 (FIPS 180-4): other parties recompute it.
/// - `rewrap` MUST return a blob that opens with the same `aad` to the same plaintext and
///   whose data key is wrapped by the current key; it MUST fail like `open` when the blob's
///   key is unknown or the blob or `aad` was tampered with.
/// - Implementations MUST NOT include key or plaintext bytes in errors or `Debug` output.
pub trait Cipher: Send + Sync + 'static {
    /// Encrypts `plaintext`, binding it to `aad`.
    fn seal(&self, plaintext: &[u8], aad: &Aad) -> Result<SealedBlob, CipherError>;

    /// Decrypts a blob sealed with the same `aad`.
    fn open(&self, blob: &SealedBlob, aad: &Aad) -> Result<Plaintext, CipherError>;

    /// The id of the key new blobs are sealed with.
    fn current_key_id(&self) -> KeyId;

    /// Fills `out` with cryptographically secure random bytes.
    fn fill_random(&self, out: &mut [u8]) -> Result<(), CipherError>;

    /// HMAC-SHA-256 of `message` under `key`.
    fn keyed_hash(&self, key: &[u8; 32], message: &[u8]) -> [u8; 32];

    /// SHA-256 of `message` (what PKCE's S256 challenge is made with).
    fn digest(&self, message: &[u8]) -> [u8; 32];

    /// Re-wraps a blob's data key under the current key-encryption key (a key rotation).
    fn rewrap(&self, blob: &SealedBlob, aad: &Aad) -> Result<SealedBlob, CipherError>;
}
