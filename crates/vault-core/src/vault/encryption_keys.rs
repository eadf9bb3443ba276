//! Key rotation: which key-encryption key still protects how many sealed rows, and the
//! online rewrap that moves them all to the current key while the vault keeps serving.

use super::{HASH_KEY_NAME, KEY_CHECK_NAME, Vault, VaultError, require};
use crate::access_key::{Principal, Scope};
use crate::cipher::{Aad, CipherError, KeyId, Purpose};
use crate::store::Store;
use crate::versions::{KeyUsage, SealedKind, SealedRef};

/// Which keys protect the installation's sealed rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyStatus {
    /// The key new values are sealed with.
    pub current: KeyId,
    /// Rows per key id, the current key first (listed even when it protects nothing yet).
    pub keys: Vec<KeyUsage>,
}

impl KeyStatus {
    /// Rows still sealed under a key other than the current one: when zero, every older
    /// key can be removed from the keyring.
    #[must_use]
    pub fn rows_under_old_keys(&self) -> u64 {
        self.keys
            .iter()
            .filter(|k| k.key_id != self.current)
            .map(KeyUsage::total)
            .sum()
    }
}

/// A row a rewrap could not move (its key is not in the keyring, or it does not
/// authenticate).
#[derive(Debug)]
pub struct RewrapFailure {
    /// Which row.
    pub reference: SealedRef,
    /// Why.
    pub error: CipherError,
}

/// What one rewrap batch did.
#[derive(Debug, Default)]
pub struct RewrapBatch {
    /// Rows read.
    pub scanned: usize,
    /// Rows now sealed under the current key.
    pub rewrapped: u64,
    /// Rows that changed while the batch ran (they were sealed afresh, under the current
    /// key, by whoever changed them).
    pub changed_meanwhile: u64,
    /// Rows that could not be moved.
    pub failures: Vec<RewrapFailure>,
    /// Where the next batch of this kind starts; `None` when this kind is done.
    pub next: Option<SealedRef>,
}

/// The associated data a sealed row was sealed with.
fn aad_of(reference: &SealedRef) -> Option<Aad> {
    match reference {
        SealedRef::Meta(name) if name == KEY_CHECK_NAME => {
            Some(Aad::installation(Purpose::KeyCheck))
        }
        SealedRef::Meta(name) if name == HASH_KEY_NAME => {
            Some(Aad::installation(Purpose::AccessKeyHashKey))
        }
        SealedRef::Meta(name) if name == super::rebind::BOUND_MARKER_NAME => {
            Some(Aad::installation(Purpose::MigrationMarker))
        }
        SealedRef::Meta(name) if name == crate::audit_chain::SIGNING_KEY_NAME => {
            Some(Aad::installation(Purpose::AuditSigningKey))
        }
        SealedRef::Meta(_) => None,
        SealedRef::Credential {
            organization_id,
            id,
            version,
        } => Some(Aad::credential_secrets(*organization_id, *id, *version)),
        SealedRef::Version {
            organization_id,
            credential_id,
            number,
        } => Some(Aad::credential_version(
            *organization_id,
            *credential_id,
            *number,
        )),
        SealedRef::Connection {
            organization_id,
            credential_id,
            generation,
        } => Some(Aad::connection_tokens(
            *organization_id,
            *credential_id,
            *generation,
        )),
        SealedRef::Webhook {
            organization_id,
            id,
        } => Some(Aad::webhook_secret(*organization_id, *id)),
    }
}

impl<S: Store> Vault<S> {
    /// How many sealed rows each key protects, installation-wide (for the operator).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn key_status(&self) -> Result<KeyStatus, VaultError> {
        let keys = self.store.key_usage().await?;
        Ok(self.status_of(keys))
    }

    /// [`Self::key_status`] for an API caller with the `keys:read` scope: the counts of
    /// its own organization's sealed rows only (credentials, versions and connections; the
    /// installation's own values belong to no organization). Installation-wide counts
    /// would show one tenant another's activity: they are the operator's
    /// (`vault-server keys status`).
    ///
    /// # Errors
    /// Missing scope, or a store failure.
    pub async fn key_status_for(&self, who: &Principal) -> Result<KeyStatus, VaultError> {
        require(who, Scope::KeysRead)?;
        let keys = self
            .store
            .organization_key_usage(who.organization_id)
            .await?;
        Ok(self.status_of(keys))
    }

    /// The current key first (listed even when it protects nothing yet), then the others.
    fn status_of(&self, mut keys: Vec<KeyUsage>) -> KeyStatus {
        let current = self.cipher.current_key_id();
        keys.sort_by(|a, b| {
            (a.key_id != current, &a.key_id).cmp(&(b.key_id != current, &b.key_id))
        });
        if keys.first().is_none_or(|k| k.key_id != current) {
            keys.insert(0, KeyUsage::none(current.clone()));
        }
        KeyStatus { current, keys }
    }

    /// Re-wraps up to `limit` rows of `kind` that are not under the current key, starting
    /// after `after`. Each row is replaced only if it did not change meanwhile, so a rewrap
    /// can run beside live traffic, be killed at any point, and be run again: what it did
    /// stays done, and what it did not is still found.
    ///
    /// # Errors
    /// When the store fails (rows that cannot be opened are reported, not errors).
    #[tracing::instrument(skip(self, after))]
    pub async fn rewrap_batch(
        &self,
        kind: SealedKind,
        after: Option<&SealedRef>,
        limit: usize,
    ) -> Result<RewrapBatch, VaultError> {
        let current = self.cipher.current_key_id();
        let rows = self
            .store
            .sealed_batch(kind, &current, after, limit)
            .await?;
        let mut batch = RewrapBatch {
            scanned: rows.len(),
            next: if rows.len() < limit {
                None
            } else {
                rows.last().map(|r| r.reference.clone())
            },
            ..RewrapBatch::default()
        };
        for row in rows {
            let Some(aad) = aad_of(&row.reference) else {
                batch.failures.push(RewrapFailure {
                    reference: row.reference,
                    error: CipherError::Malformed,
                });
                continue;
            };
            match self.cipher.rewrap(&row.sealed, &aad) {
                Ok(rewrapped) => {
                    if self.store.replace_sealed(&row, &rewrapped).await? {
                        batch.rewrapped += 1;
                    } else {
                        batch.changed_meanwhile += 1;
                    }
                }
                Err(error) => batch.failures.push(RewrapFailure {
                    reference: row.reference,
                    error,
                }),
            }
        }
        Ok(batch)
    }
}
