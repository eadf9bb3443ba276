//! Signed checkpoints. The installation has one Ed25519 key pair for them. Its private
//! key is made once, sealed by the cipher like every other installation-wide secret
//! (`audit-signing-key`, bound to its purpose) and stored: whoever can write the database
//! still cannot sign, and a replica or a verifier that holds the keys opens it. The
//! public key is published with the checkpoints, so anyone can check a copy kept outside.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use time::OffsetDateTime;
use vault_core::OpenError;
use vault_core::audit_chain::{
    AuditChain, ChainHash, Checkpoint, CheckpointKind, SIGNING_KEY_NAME,
};
use vault_core::cipher::{Aad, Cipher, CipherError, Purpose};
use vault_core::store::MetaStore;
use vault_core::vault::load_or_create;

use crate::hashing::sha256;

/// Starts every checkpoint's signed message.
const CHECKPOINT_LABEL: &[u8] = b"vault-audit-checkpoint-v1";

/// The private key that signs checkpoints.
pub struct CheckpointSigner {
    pair: Ed25519KeyPair,
    public: CheckpointKey,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("key_id", &self.public.id)
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    /// The installation's signer: its sealed key opened with `cipher`, or, on a fresh
    /// store, a new key sealed and stored (replicas racing to make one all end with the
    /// one stored first).
    ///
    /// # Errors
    /// A store failure, or keys that do not open the stored key.
    pub async fn load_or_create<S: MetaStore>(
        store: &S,
        cipher: &dyn Cipher,
    ) -> Result<Self, OpenError> {
        let pkcs8 = load_or_create(
            store,
            cipher,
            SIGNING_KEY_NAME,
            Purpose::AuditSigningKey,
            || {
                Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                    .map(|document| zeroize::Zeroizing::new(document.as_ref().to_vec()))
                    .map_err(|_| CipherError::Random)
            },
        )
        .await?;
        Self::from_pkcs8(&pkcs8)
    }

    /// The installation's signer, if one was ever made: for a verifier, which must not
    /// make a key (a missing key is itself a finding).
    ///
    /// # Errors
    /// A store failure, or keys that do not open the stored key.
    pub async fn load<S: MetaStore>(
        store: &S,
        cipher: &dyn Cipher,
    ) -> Result<Option<Self>, OpenError> {
        let Some(blob) = store.get_meta(SIGNING_KEY_NAME).await? else {
            return Ok(None);
        };
        let aad = Aad::installation(Purpose::AuditSigningKey);
        let pkcs8 = cipher.open(&blob, &aad)?;
        Self::from_pkcs8(&pkcs8).map(Some)
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, OpenError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| OpenError::Cipher(CipherError::Malformed))?;
        let public = CheckpointKey::from_bytes(pair.public_key().as_ref())
            .ok_or(OpenError::Cipher(CipherError::Malformed))?;
        Ok(Self { pair, public })
    }

    /// A signer with a new key held only in memory: for embedders and tests that keep no
    /// installation key.
    ///
    /// # Errors
    /// [`CipherError::Random`] when the system RNG fails.
    pub fn generate() -> Result<Self, CipherError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| CipherError::Random)?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| CipherError::Random)?;
        let public =
            CheckpointKey::from_bytes(pair.public_key().as_ref()).ok_or(CipherError::Random)?;
        Ok(Self { pair, public })
    }

    /// The public half.
    #[must_use]
    pub const fn public_key(&self) -> &CheckpointKey {
        &self.public
    }

    /// A checkpoint of `chain` at (`seq`, `hash`), signed now.
    #[must_use]
    pub fn sign(
        &self,
        chain: AuditChain,
        seq: u64,
        hash: ChainHash,
        kind: CheckpointKind,
        at: OffsetDateTime,
    ) -> Checkpoint {
        let at = vault_core::clock::truncate_to_micros(at);
        let signature = self
            .pair
            .sign(&message(chain, seq, &hash, at, kind))
            .as_ref()
            .to_vec();
        Checkpoint {
            chain,
            seq,
            hash,
            at,
            kind,
            key_id: self.public.id.clone(),
            signature,
        }
    }
}

/// The public key that checks checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointKey {
    bytes: [u8; 32],
    id: String,
}

impl CheckpointKey {
    /// The key of 32 raw Ed25519 public-key bytes.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: [u8; 32] = bytes.try_into().ok()?;
        // The id names the key in each checkpoint: the start of its SHA-256.
        let id = format!("ed25519:{}", &hex::encode(sha256(&bytes))[..16]);
        Some(Self { bytes, id })
    }

    /// The key of its base64 form ([`to_base64`](Self::to_base64)).
    #[must_use]
    pub fn from_base64(text: &str) -> Option<Self> {
        Self::from_bytes(&STANDARD.decode(text.trim()).ok()?)
    }

    /// The raw key, in standard base64.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    /// The key's id, as checkpoints name it.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether `checkpoint` was signed by this key, as it reads.
    #[must_use]
    pub fn verifies(&self, checkpoint: &Checkpoint) -> bool {
        let message = message(
            checkpoint.chain,
            checkpoint.seq,
            &checkpoint.hash,
            checkpoint.at,
            checkpoint.kind,
        );
        checkpoint.key_id == self.id
            && UnparsedPublicKey::new(&ED25519, &self.bytes)
                .verify(&message, &checkpoint.signature)
                .is_ok()
    }
}

/// What a checkpoint's signature covers, in a fixed layout: the label, the chain's key (16
/// bytes), the number and the time in microseconds (8 bytes big-endian each), the hash,
/// and the kind's name.
fn message(
    chain: AuditChain,
    seq: u64,
    hash: &ChainHash,
    at: OffsetDateTime,
    kind: CheckpointKind,
) -> Vec<u8> {
    let micros = i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000)).unwrap_or(0);
    let mut message = Vec::with_capacity(128);
    message.extend_from_slice(CHECKPOINT_LABEL);
    message.extend_from_slice(chain.key().as_bytes());
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(&micros.to_be_bytes());
    message.extend_from_slice(hash);
    message.extend_from_slice(kind.as_str().as_bytes());
    message
}

#[cfg(test)]
mod tests {
    use vault_core::ids::OrganizationId;

    use super::*;

    fn signer() -> CheckpointSigner {
        CheckpointSigner::generate().expect("a signer")
    }

    #[test]
    fn a_checkpoint_verifies_under_its_key_only_as_signed() {
        let signer = signer();
        let chain = AuditChain::Organization(OrganizationId::new());
        let checkpoint = signer.sign(
            chain,
            42,
            [7; 32],
            CheckpointKind::Periodic,
            OffsetDateTime::now_utc(),
        );
        let key = CheckpointKey::from_base64(&signer.public_key().to_base64()).expect("key");
        assert!(key.verifies(&checkpoint));
        let changes: Vec<fn(&mut Checkpoint)> = vec![
            |c| c.seq = 41,
            |c| c.hash[0] ^= 1,
            |c| c.chain = AuditChain::Installation,
            |c| c.at += time::Duration::microseconds(1),
            |c| c.kind = CheckpointKind::Retention,
            |c| c.signature[0] ^= 1,
        ];
        for change in changes {
            let mut forged = checkpoint.clone();
            change(&mut forged);
            assert!(!key.verifies(&forged), "{forged:?}");
        }
        assert!(
            !self::signer().public_key().verifies(&checkpoint),
            "another key"
        );
    }
}
