//! The in-memory store's sealed rows of every kind, for a key rotation.

use vault_core::cipher::KeyId;
use vault_core::store::SealedStore;
use vault_core::versions::{KeyUsage, SealedKind, SealedRef, SealedRow};

use super::*;

/// A `sealed_batch` cursor naming a row of another kind than the batch: a caller's bug,
/// refused (as by the SQL stores) rather than read as "from the start".
fn cursor_of_another_kind() -> StoreError {
    StoreError::Backend("the sealed_batch cursor is a row of another kind".into())
}

impl SealedStore for MemoryStore {
    async fn key_usage(&self) -> Result<Vec<KeyUsage>, StoreError> {
        fn usage<'a>(
            by_key: &'a mut BTreeMap<KeyId, KeyUsage>,
            key_id: &KeyId,
        ) -> &'a mut KeyUsage {
            by_key
                .entry(key_id.clone())
                .or_insert_with(|| KeyUsage::none(key_id.clone()))
        }
        let state = self.read();
        let mut by_key: BTreeMap<KeyId, KeyUsage> = BTreeMap::new();
        for blob in state.meta.values() {
            usage(&mut by_key, &blob.key_id).meta += 1;
        }
        for stored in state.credentials.values() {
            usage(&mut by_key, &stored.sealed.key_id).credentials += 1;
        }
        for version in state.versions.values() {
            usage(&mut by_key, &version.sealed.key_id).versions += 1;
        }
        // A connection without tokens is no sealed row.
        for sealed in state.connections.values().filter_map(|c| c.sealed.as_ref()) {
            usage(&mut by_key, &sealed.key_id).connections += 1;
        }
        for webhook in state.webhooks.values() {
            usage(&mut by_key, &webhook.secret.key_id).webhooks += 1;
        }
        Ok(by_key.into_values().collect())
    }

    async fn organization_key_usage(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<KeyUsage>, StoreError> {
        let state = self.read();
        let mut by_key: BTreeMap<KeyId, KeyUsage> = BTreeMap::new();
        for stored in state.credentials.values() {
            if stored.credential.organization_id == organization {
                let key_id = &stored.sealed.key_id;
                by_key
                    .entry(key_id.clone())
                    .or_insert_with(|| KeyUsage::none(key_id.clone()))
                    .credentials += 1;
            }
        }
        for version in state.versions.values() {
            if version.organization_id == organization {
                let key_id = &version.sealed.key_id;
                by_key
                    .entry(key_id.clone())
                    .or_insert_with(|| KeyUsage::none(key_id.clone()))
                    .versions += 1;
            }
        }
        for connection in state.connections.values() {
            if let (true, Some(sealed)) = (
                connection.organization_id == organization,
                &connection.sealed,
            ) {
                by_key
                    .entry(sealed.key_id.clone())
                    .or_insert_with(|| KeyUsage::none(sealed.key_id.clone()))
                    .connections += 1;
            }
        }
        for webhook in state.webhooks.values() {
            if webhook.organization_id == organization {
                let key_id = &webhook.secret.key_id;
                by_key
                    .entry(key_id.clone())
                    .or_insert_with(|| KeyUsage::none(key_id.clone()))
                    .webhooks += 1;
            }
        }
        Ok(by_key.into_values().collect())
    }

    async fn sealed_batch(
        &self,
        kind: SealedKind,
        not_under: &KeyId,
        after: Option<&SealedRef>,
        limit: usize,
    ) -> Result<Vec<SealedRow>, StoreError> {
        let state = self.read();
        match kind {
            SealedKind::Meta => {
                let start = match after {
                    None => Bound::Unbounded,
                    Some(SealedRef::Meta(name)) => Bound::Excluded(name.clone()),
                    Some(_) => return Err(cursor_of_another_kind()),
                };
                Ok(state
                    .meta
                    .range((start, Bound::Unbounded))
                    .filter(|(_, blob)| blob.key_id != *not_under)
                    .take(limit)
                    .map(|(name, blob)| SealedRow {
                        reference: SealedRef::Meta(name.clone()),
                        sealed: blob.clone(),
                    })
                    .collect())
            }
            SealedKind::Credential => {
                let after = match after {
                    None => None,
                    Some(SealedRef::Credential { id, .. }) => Some(*id),
                    Some(_) => return Err(cursor_of_another_kind()),
                };
                // Credentials are keyed by organization first; a rotation walks them by id
                // alone. A full sort per batch is fine for a store meant for tests.
                let mut rows: Vec<&StoredCredential> = state
                    .credentials
                    .values()
                    .filter(|stored| after.is_none_or(|after| stored.credential.id > after))
                    .filter(|stored| stored.sealed.key_id != *not_under)
                    .collect();
                rows.sort_unstable_by_key(|stored| stored.credential.id);
                Ok(rows
                    .into_iter()
                    .take(limit)
                    .map(|stored| SealedRow {
                        reference: SealedRef::Credential {
                            organization_id: stored.credential.organization_id,
                            id: stored.credential.id,
                            version: stored.credential.version,
                        },
                        sealed: stored.sealed.clone(),
                    })
                    .collect())
            }
            SealedKind::Version => {
                let start = match after {
                    None => Bound::Unbounded,
                    Some(SealedRef::Version {
                        credential_id,
                        number,
                        ..
                    }) => Bound::Excluded((*credential_id, *number)),
                    Some(_) => return Err(cursor_of_another_kind()),
                };
                Ok(state
                    .versions
                    .range((start, Bound::Unbounded))
                    .map(|(_, version)| version)
                    .filter(|version| version.sealed.key_id != *not_under)
                    .take(limit)
                    .map(|version| SealedRow {
                        reference: SealedRef::Version {
                            organization_id: version.organization_id,
                            credential_id: version.credential_id,
                            number: version.number,
                        },
                        sealed: version.sealed.clone(),
                    })
                    .collect())
            }
            SealedKind::Connection => {
                let start = match after {
                    None => Bound::Unbounded,
                    Some(SealedRef::Connection { credential_id, .. }) => {
                        Bound::Excluded(*credential_id)
                    }
                    Some(_) => return Err(cursor_of_another_kind()),
                };
                Ok(state
                    .connections
                    .range((start, Bound::Unbounded))
                    .filter_map(|(_, c)| c.sealed.as_ref().map(|sealed| (c, sealed)))
                    .filter(|(_, sealed)| sealed.key_id != *not_under)
                    .take(limit)
                    .map(|(c, sealed)| SealedRow {
                        reference: SealedRef::Connection {
                            organization_id: c.organization_id,
                            credential_id: c.credential_id,
                            generation: c.generation,
                        },
                        sealed: sealed.clone(),
                    })
                    .collect())
            }
            SealedKind::Webhook => {
                let start = match after {
                    None => Bound::Unbounded,
                    Some(SealedRef::Webhook { id, .. }) => Bound::Excluded(*id),
                    Some(_) => return Err(cursor_of_another_kind()),
                };
                Ok(state
                    .webhooks
                    .range((start, Bound::Unbounded))
                    .map(|(_, w)| w)
                    .filter(|w| w.secret.key_id != *not_under)
                    .take(limit)
                    .map(|w| SealedRow {
                        reference: SealedRef::Webhook {
                            organization_id: w.organization_id,
                            id: w.id,
                        },
                        sealed: w.secret.clone(),
                    })
                    .collect())
            }
        }
    }

    async fn replace_sealed(&self, row: &SealedRow, new: &SealedBlob) -> Result<bool, StoreError> {
        let mut state = self.write();
        let stored = match &row.reference {
            SealedRef::Meta(name) => state.meta.get_mut(name),
            // The new blob is bound to that version: another version must not get it.
            SealedRef::Credential {
                organization_id,
                id,
                version,
            } => state
                .credentials
                .get_mut(&(*organization_id, *id))
                .filter(|stored| stored.credential.version == *version)
                .map(|stored| &mut stored.sealed),
            SealedRef::Version {
                organization_id,
                credential_id,
                number,
            } => state
                .versions
                .get_mut(&(*credential_id, *number))
                .filter(|version| version.organization_id == *organization_id)
                .map(|version| &mut version.sealed),
            // The tokens are bound to that generation: a refresh since wrote others.
            SealedRef::Connection {
                organization_id,
                credential_id,
                generation,
            } => state
                .connections
                .get_mut(credential_id)
                .filter(|c| c.organization_id == *organization_id && c.generation == *generation)
                .and_then(|c| c.sealed.as_mut()),
            SealedRef::Webhook {
                organization_id,
                id,
            } => state
                .webhooks
                .get_mut(id)
                .filter(|w| w.organization_id == *organization_id)
                .map(|w| &mut w.secret),
        };
        // Like the SQL stores, compare the bytes only: they identify the blob.
        match stored {
            Some(sealed) if sealed.bytes == row.sealed.bytes => {
                *sealed = new.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
