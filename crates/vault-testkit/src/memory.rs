//! An in-memory implementation of every store port.
//!
//! For embedders that want a vault without a database (tests, short-lived tools) and for
//! unit tests. Everything is lost when the last clone of the store is dropped.
//!
//! One `RwLock` guards the whole state, so every operation is atomic with respect to every
//! other one (the compare-and-swap of [`CredentialStore::update_credential`] and the
//! first-writer-wins of [`MetaStore::insert_meta_if_absent`] included). The lock is never
//! held across an `.await`: no method awaits anything.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::ops::Bound;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use time::OffsetDateTime;
use uuid::Uuid;
use vault_core::access_key::{AccessKey, Organization, StoredAccessKey, TokenHash};
use vault_core::cipher::SealedBlob;
use vault_core::credential::{Credential, StoredCredential};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{AuditEvent, AuditQuery, RequestLogEntry, RequestLogQuery};
use vault_core::store::{
    AccessKeyStore, CredentialStore, KeyListQuery, ListQuery, LogStore, MetaStore,
    OrganizationStore, StoreError,
};

/// An in-memory store. Clones share the same data.
///
/// Beyond the port contracts it behaves like the SQL stores: inserting a credential, an
/// access key, a request-log entry or an audit event for an organization that was never
/// inserted fails with [`StoreError::NotFound`] (a foreign-key violation there), so code
/// that works here also works on a database.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<RwLock<State>>,
}

#[derive(Default)]
struct State {
    organizations: BTreeMap<OrganizationId, Organization>,
    /// Keyed by (organization, id) so a list is one range scan of its organization.
    credentials: BTreeMap<(OrganizationId, CredentialId), StoredCredential>,
    /// Every credential id, in any organization: ids are unique installation-wide.
    credential_ids: HashMap<CredentialId, OrganizationId>,
    access_keys: BTreeMap<(OrganizationId, AccessKeyId), StoredAccessKey>,
    access_key_ids: HashMap<AccessKeyId, OrganizationId>,
    access_key_hashes: HashMap<TokenHash, (OrganizationId, AccessKeyId)>,
    meta: BTreeMap<String, SealedBlob>,
    /// Keyed by (organization, id): a list is one range scan, walked backwards.
    request_logs: BTreeMap<(OrganizationId, Uuid), RequestLogEntry>,
    request_log_ids: HashSet<Uuid>,
    /// Keyed by (organization, id); events of no organization are kept (under `None`) but
    /// never listed.
    audit_events: BTreeMap<(Option<OrganizationId>, Uuid), AuditEvent>,
    audit_event_ids: HashSet<Uuid>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store, from an async expression: the shape the conformance macro's factory
    /// takes (`vault_testkit::store_conformance!(MemoryStore::new_async())`).
    pub async fn new_async() -> Self {
        Self::new()
    }

    // A panic while the lock is held cannot leave half-applied state behind (every method
    // checks first and mutates last), so a poisoned lock is still consistent.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: the records hold sealed secrets and key hashes, which help no log.
        let state = self.read();
        f.debug_struct("MemoryStore")
            .field("organizations", &state.organizations.len())
            .field("credentials", &state.credentials.len())
            .field("access_keys", &state.access_keys.len())
            .field("meta", &state.meta.len())
            .field("request_logs", &state.request_logs.len())
            .field("audit_events", &state.audit_events.len())
            .finish()
    }
}

/// Bounds of a range of `(organization, id)` keys.
type OrgRange<Id> = (Bound<(OrganizationId, Id)>, Bound<(OrganizationId, Id)>);

/// The range of keys of `organization` strictly after `after` (or all of them).
fn org_range<Id: Copy>(
    organization: OrganizationId,
    after: Option<Id>,
    wrap: fn(Uuid) -> Id,
) -> OrgRange<Id> {
    let start = after.map_or(Bound::Included((organization, wrap(Uuid::nil()))), |id| {
        Bound::Excluded((organization, id))
    });
    (start, Bound::Included((organization, wrap(Uuid::max()))))
}

impl CredentialStore for MemoryStore {
    async fn insert_credential(&self, credential: &StoredCredential) -> Result<(), StoreError> {
        let c = &credential.credential;
        let mut state = self.write();
        if state.credential_ids.contains_key(&c.id) {
            return Err(StoreError::Conflict);
        }
        if !state.organizations.contains_key(&c.organization_id) {
            return Err(StoreError::NotFound);
        }
        state.credential_ids.insert(c.id, c.organization_id);
        state
            .credentials
            .insert((c.organization_id, c.id), credential.clone());
        Ok(())
    }

    async fn get_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<StoredCredential, StoreError> {
        self.read()
            .credentials
            .get(&(organization, id))
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn list_credentials(
        &self,
        organization: OrganizationId,
        query: &ListQuery,
    ) -> Result<Vec<Credential>, StoreError> {
        let state = self.read();
        let range = org_range(organization, query.after, CredentialId::from_uuid);
        Ok(state
            .credentials
            .range(range)
            .map(|(_, stored)| &stored.credential)
            .filter(|c| {
                query
                    .credential_type
                    .is_none_or(|t| c.kind.credential_type() == t)
            })
            .filter(|c| {
                query
                    .expires_before
                    .is_none_or(|before| c.expires_at.is_some_and(|at| at <= before))
            })
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn update_credential(
        &self,
        organization: OrganizationId,
        credential: &StoredCredential,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        let mut state = self.write();
        let Some(current) = state
            .credentials
            .get_mut(&(organization, credential.credential.id))
        else {
            return Err(StoreError::NotFound);
        };
        if current.credential.version != expected_version {
            return Err(StoreError::Conflict);
        }
        let mut next = credential.clone();
        // A record never moves between organizations (the SQL stores never rewrite the
        // organization column either).
        next.credential.organization_id = organization;
        *current = next;
        Ok(())
    }

    async fn delete_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<(), StoreError> {
        let mut state = self.write();
        if state.credentials.remove(&(organization, id)).is_none() {
            return Err(StoreError::NotFound);
        }
        state.credential_ids.remove(&id);
        Ok(())
    }
}

impl AccessKeyStore for MemoryStore {
    async fn insert_access_key(&self, key: &StoredAccessKey) -> Result<(), StoreError> {
        let k = &key.key;
        let mut state = self.write();
        if state.access_key_ids.contains_key(&k.id)
            || state.access_key_hashes.contains_key(&key.hash)
        {
            return Err(StoreError::Conflict);
        }
        if !state.organizations.contains_key(&k.organization_id) {
            return Err(StoreError::NotFound);
        }
        state.access_key_ids.insert(k.id, k.organization_id);
        state
            .access_key_hashes
            .insert(key.hash, (k.organization_id, k.id));
        state
            .access_keys
            .insert((k.organization_id, k.id), key.clone());
        Ok(())
    }

    async fn find_access_key(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<StoredAccessKey>, StoreError> {
        let state = self.read();
        Ok(state
            .access_key_hashes
            .get(hash)
            .and_then(|at| state.access_keys.get(at))
            .cloned())
    }

    async fn list_access_keys(
        &self,
        organization: OrganizationId,
        query: &KeyListQuery,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let state = self.read();
        let range = org_range(organization, query.after, AccessKeyId::from_uuid);
        Ok(state
            .access_keys
            .range(range)
            .take(query.limit)
            .map(|(_, stored)| stored.key.clone())
            .collect())
    }

    async fn revoke_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
    ) -> Result<AccessKey, StoreError> {
        let mut state = self.write();
        let stored = state
            .access_keys
            .get_mut(&(organization, id))
            .ok_or(StoreError::NotFound)?;
        // The first revocation is the one that counts (audit, "revoked since").
        stored.key.revoked_at.get_or_insert(at);
        Ok(stored.key.clone())
    }

    async fn touch_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut state = self.write();
        let stored = state
            .access_keys
            .get_mut(&(organization, id))
            .ok_or(StoreError::NotFound)?;
        stored.key.last_used_at = Some(at);
        Ok(())
    }
}

impl OrganizationStore for MemoryStore {
    async fn insert_organization(&self, organization: &Organization) -> Result<(), StoreError> {
        let mut state = self.write();
        if state.organizations.contains_key(&organization.id) {
            return Err(StoreError::Conflict);
        }
        state
            .organizations
            .insert(organization.id, organization.clone());
        Ok(())
    }

    async fn count_organizations(&self) -> Result<u64, StoreError> {
        Ok(self.read().organizations.len() as u64)
    }
}

impl MetaStore for MemoryStore {
    async fn get_meta(&self, name: &str) -> Result<Option<SealedBlob>, StoreError> {
        Ok(self.read().meta.get(name).cloned())
    }

    async fn insert_meta_if_absent(
        &self,
        name: &str,
        value: &SealedBlob,
    ) -> Result<bool, StoreError> {
        let mut state = self.write();
        if state.meta.contains_key(name) {
            return Ok(false);
        }
        state.meta.insert(name.to_owned(), value.clone());
        Ok(true)
    }
}

/// Bounds of a range of `(key, id)` log keys.
type LogRange<K> = (Bound<(K, Uuid)>, Bound<(K, Uuid)>);

/// The range of `(key, id)` keys of `key` strictly before `before` (or all of them).
fn before_range<K: Copy>(key: K, before: Option<Uuid>) -> LogRange<K> {
    let end = before.map_or(Bound::Included((key, Uuid::max())), |id| {
        Bound::Excluded((key, id))
    });
    (Bound::Included((key, Uuid::nil())), end)
}

impl LogStore for MemoryStore {
    async fn insert_request_log(&self, entry: &RequestLogEntry) -> Result<(), StoreError> {
        let mut state = self.write();
        if state.request_log_ids.contains(&entry.id) {
            return Err(StoreError::Conflict);
        }
        // The organization must exist; the credential and access key need not (entries
        // outlive them).
        if !state.organizations.contains_key(&entry.organization_id) {
            return Err(StoreError::NotFound);
        }
        state.request_log_ids.insert(entry.id);
        state
            .request_logs
            .insert((entry.organization_id, entry.id), entry.clone());
        Ok(())
    }

    async fn list_request_logs(
        &self,
        organization: OrganizationId,
        query: &RequestLogQuery,
    ) -> Result<Vec<RequestLogEntry>, StoreError> {
        let state = self.read();
        Ok(state
            .request_logs
            .range(before_range(organization, query.before))
            .rev()
            .map(|(_, entry)| entry)
            .filter(|entry| query.credential_id.is_none_or(|c| entry.credential_id == c))
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn insert_audit_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let mut state = self.write();
        if state.audit_event_ids.contains(&event.id) {
            return Err(StoreError::Conflict);
        }
        if event
            .organization_id
            .is_some_and(|org| !state.organizations.contains_key(&org))
        {
            return Err(StoreError::NotFound);
        }
        state.audit_event_ids.insert(event.id);
        state
            .audit_events
            .insert((event.organization_id, event.id), event.clone());
        Ok(())
    }

    async fn list_audit_events(
        &self,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let state = self.read();
        Ok(state
            .audit_events
            .range(before_range(Some(organization), query.before))
            .rev()
            .map(|(_, event)| event)
            .filter(|event| query.action.is_none_or(|a| event.action == a))
            .filter(|event| query.target.is_none_or(|t| event.target == Some(t)))
            .take(query.limit)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_counts_only() {
        let store = MemoryStore::new();
        let shown = format!("{store:?}");
        assert!(shown.contains("credentials: 0"), "{shown}");
    }

    /// Like the SQL stores' foreign keys: the organization must exist, the credential and
    /// access key an entry names need not.
    #[tokio::test]
    async fn log_inserts_need_their_organization_only() {
        use crate::store_suite::{new_organization, sample_audit_event, sample_request_log};

        let store = MemoryStore::new();
        let nowhere = OrganizationId::new();
        let entry = sample_request_log(nowhere, CredentialId::new());
        assert!(matches!(
            store.insert_request_log(&entry).await,
            Err(StoreError::NotFound)
        ));
        let event = sample_audit_event(Some(nowhere));
        assert!(matches!(
            store.insert_audit_event(&event).await,
            Err(StoreError::NotFound)
        ));

        let org = new_organization(&store).await;
        let entry = sample_request_log(org, CredentialId::new());
        store
            .insert_request_log(&entry)
            .await
            .expect("an entry naming a credential that never existed");
        store
            .insert_audit_event(&sample_audit_event(None))
            .await
            .expect("an event of no organization");
    }
}
