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
use std::future::Future;
use std::ops::Bound;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use time::OffsetDateTime;
use uuid::Uuid;
use vault_core::access_key::{AccessKey, KeyBinding, Organization, StoredAccessKey, TokenHash};
use vault_core::audit_chain::{AuditChain, ChainHead, Checkpoint};
use vault_core::cipher::SealedBlob;
use vault_core::credential::{Credential, StoredCredential};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::jobs::LocalJobs;
use vault_core::keyring::StoredKeyring;
use vault_core::logs::id_floor;
use vault_core::logs::{AuditEvent, AuditQuery, LogRecord, RequestLogEntry, RequestLogQuery};
use vault_core::store::{
    AccessKeyStore, CredentialStore, CredentialWrite, JobName, JobStore, KeyListQuery, ListQuery,
    LogKind, LogStore, MetaStore, OrganizationStore, StoreError,
};
use vault_core::versions::{SecretVersion, VersionInfo};

mod audit_chain;
mod connections;
mod grants;
mod logs;
mod sealed;
mod webhooks;

/// An in-memory store. Clones share the same data.
///
/// Beyond the port contracts it behaves like the SQL stores: inserting a credential, an
/// access key, a request-log entry or an audit event for an organization that was never
/// inserted fails with [`StoreError::NotFound`] (a foreign-key violation there), so code
/// that works here also works on a database.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<RwLock<State>>,
    /// Background jobs' exclusion: one process has the data, so in-process is enough.
    jobs: Arc<LocalJobs>,
}

#[derive(Default)]
struct State {
    organizations: BTreeMap<OrganizationId, Organization>,
    /// Keyed by (organization, id) so a list is one range scan of its organization.
    credentials: BTreeMap<(OrganizationId, CredentialId), StoredCredential>,
    /// Every credential id, in any organization: ids are unique installation-wide.
    credential_ids: HashMap<CredentialId, OrganizationId>,
    /// Keyed by (credential, number): one credential's versions are one range, and the
    /// whole map is in the order a key rotation walks.
    versions: BTreeMap<(CredentialId, i64), SecretVersion>,
    access_keys: BTreeMap<(OrganizationId, AccessKeyId), StoredAccessKey>,
    access_key_ids: HashMap<AccessKeyId, OrganizationId>,
    access_key_hashes: HashMap<TokenHash, (OrganizationId, AccessKeyId)>,
    meta: BTreeMap<String, SealedBlob>,
    keyring: Option<StoredKeyring>,
    /// Keyed by (organization, id): a list is one range scan, walked backwards.
    request_logs: BTreeMap<(OrganizationId, Uuid), RequestLogEntry>,
    request_log_ids: HashSet<Uuid>,
    /// Keyed by (organization, id); events of no organization are kept (under `None`) but
    /// never listed.
    audit_events: BTreeMap<(Option<OrganizationId>, Uuid), AuditEvent>,
    audit_event_ids: HashSet<Uuid>,
    /// Each chain's last number and hash.
    chain_heads: BTreeMap<AuditChain, ChainHead>,
    /// Each chain's events by number: the key of each in `audit_events`.
    chain_order: BTreeMap<(AuditChain, u64), (Option<OrganizationId>, Uuid)>,
    /// Signed checkpoints, by chain and number.
    checkpoints: BTreeMap<(AuditChain, u64), Checkpoint>,
    /// Each audit sink's cursors: the last number it delivered, by sink and chain.
    sink_cursors: BTreeMap<(String, AuditChain), u64>,
    /// Keyed by (organization, id), as credentials are.
    grants: BTreeMap<(OrganizationId, vault_core::ids::GrantId), vault_core::grants::Grant>,
    /// Requests counted per (grant, window, window start).
    grant_usage: BTreeMap<(vault_core::ids::GrantId, vault_core::grants::Window, i64), u64>,
    /// Keyed by credential (ids are unique installation-wide), in the order a key rotation
    /// walks them.
    connections: BTreeMap<CredentialId, vault_core::connections::Connection>,
    /// Connect flows in progress, by their state's hash.
    connect_states: HashMap<[u8; 32], vault_core::connections::ConnectState>,
    /// Keyed by id (unique installation-wide), in the order a key rotation walks them.
    webhooks: BTreeMap<vault_core::ids::WebhookId, vault_core::webhooks::Webhook>,
    /// Keyed by id: UUID v7, so in creation order.
    deliveries: BTreeMap<vault_core::ids::WebhookDeliveryId, vault_core::webhooks::Delivery>,
    /// The expiry reminders recorded as sent.
    reminders: HashSet<vault_core::webhooks::Reminder>,
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
            .field("versions", &state.versions.len())
            .field("access_keys", &state.access_keys.len())
            .field("meta", &state.meta.len())
            .field("request_logs", &state.request_logs.len())
            .field("audit_events", &state.audit_events.len())
            .field("grants", &state.grants.len())
            .field("connections", &state.connections.len())
            .field("connect_states", &state.connect_states.len())
            .field("webhooks", &state.webhooks.len())
            .field("deliveries", &state.deliveries.len())
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

/// The range of one credential's version keys.
fn versions_of(credential: CredentialId) -> std::ops::RangeInclusive<(CredentialId, i64)> {
    (credential, i64::MIN)..=(credential, i64::MAX)
}

impl State {
    /// Whether `event` may be appended: a new id, and an organization that exists (when it
    /// names one).
    fn check_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        if self.audit_event_ids.contains(&event.id) {
            return Err(StoreError::Conflict);
        }
        if event
            .organization_id
            .is_some_and(|org| !self.organizations.contains_key(&org))
        {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Ends the grants key `id` made or was given, with their counters.
    fn end_grants_of_key(&mut self, organization: OrganizationId, id: AccessKeyId) {
        let grantee = vault_core::grants::Grantee::AccessKey(id);
        let ended: Vec<_> = self
            .grants
            .iter()
            .filter(|((org, _), g)| {
                *org == organization && (g.granted_by == Some(id) || g.grantee == grantee)
            })
            .map(|(key, _)| *key)
            .collect();
        for key in ended {
            self.grants.remove(&key);
            self.grant_usage.retain(|(grant, _, _), _| *grant != key.1);
        }
    }

    /// Appends a checked audit event, linked as the next of its chain.
    fn push_audit(&mut self, event: &AuditEvent) {
        let chain = AuditChain::of(event.organization_id);
        let head = self.chain_heads.get(&chain).map(|h| (h.seq, h.hash));
        let link = vault_audit::next_link(head, event);
        self.chain_heads.insert(
            chain,
            ChainHead {
                chain,
                seq: link.seq,
                hash: link.hash,
            },
        );
        let key = (event.organization_id, event.id);
        self.chain_order.insert((chain, link.seq), key);
        self.audit_event_ids.insert(event.id);
        let linked = AuditEvent {
            chain: Some(link),
            ..event.clone()
        };
        self.audit_events.insert(key, linked);
    }

    /// Whether the version rows of a write may be added to `credential`: each belongs to
    /// it, and no number is taken (by a stored version or by another of the rows).
    fn check_versions(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        versions: &[SecretVersion],
    ) -> Result<(), StoreError> {
        let mut numbers = HashSet::new();
        for version in versions {
            // The SQL stores refuse these too: a version found by its own organization
            // must be its credential's.
            if version.organization_id != organization || version.credential_id != credential {
                return Err(StoreError::Backend(
                    "a version row names another credential or organization than the \
                     credential written with it"
                        .into(),
                ));
            }
            if !numbers.insert(version.number)
                || self.versions.contains_key(&(credential, version.number))
            {
                return Err(StoreError::Conflict);
            }
        }
        Ok(())
    }

    /// The rest of a checked credential write: its version rows, the pruning, the audit
    /// event.
    fn push_history(&mut self, credential: CredentialId, write: &CredentialWrite<'_>) {
        for version in write.versions {
            self.versions
                .insert((credential, version.number), version.clone());
        }
        if write.keep_versions > 0 {
            let numbers: Vec<i64> = self
                .versions
                .range(versions_of(credential))
                .rev()
                .skip(write.keep_versions)
                .map(|((_, number), _)| *number)
                .collect();
            for number in numbers {
                self.versions.remove(&(credential, number));
            }
        }
        self.push_audit(write.audit);
    }
}

impl CredentialStore for MemoryStore {
    async fn insert_credential(
        &self,
        credential: &StoredCredential,
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        let c = &credential.credential;
        let mut state = self.write();
        if state.credential_ids.contains_key(&c.id) {
            return Err(StoreError::Conflict);
        }
        if !state.organizations.contains_key(&c.organization_id) {
            return Err(StoreError::NotFound);
        }
        state.check_versions(c.organization_id, c.id, write.versions)?;
        state.check_audit(write.audit)?;
        state.credential_ids.insert(c.id, c.organization_id);
        state
            .credentials
            .insert((c.organization_id, c.id), credential.clone());
        state.push_history(c.id, write);
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
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        let id = credential.credential.id;
        let mut state = self.write();
        let Some(current) = state.credentials.get(&(organization, id)) else {
            return Err(StoreError::NotFound);
        };
        if current.credential.version != expected_version {
            return Err(StoreError::Conflict);
        }
        state.check_versions(organization, id, write.versions)?;
        state.check_audit(write.audit)?;
        let mut next = credential.clone();
        // A record never moves between organizations (the SQL stores never rewrite the
        // organization column either).
        next.credential.organization_id = organization;
        state.credentials.insert((organization, id), next);
        state.push_history(id, write);
        Ok(())
    }

    async fn delete_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        expected_version: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut state = self.write();
        let Some(current) = state.credentials.get(&(organization, id)) else {
            return Err(StoreError::NotFound);
        };
        if expected_version.is_some_and(|expected| expected != current.credential.version) {
            return Err(StoreError::Conflict);
        }
        state.check_audit(audit)?;
        state.credentials.remove(&(organization, id));
        state.credential_ids.remove(&id);
        let numbers: Vec<(CredentialId, i64)> = state
            .versions
            .range(versions_of(id))
            .map(|(key, _)| *key)
            .collect();
        for key in numbers {
            state.versions.remove(&key);
        }
        let grants: Vec<_> = state
            .grants
            .iter()
            .filter(|(_, grant)| grant.credential_id == id)
            .map(|(key, _)| *key)
            .collect();
        for key in grants {
            state.grants.remove(&key);
            state.grant_usage.retain(|(grant, _, _), _| *grant != key.1);
        }
        state.delete_connection_of(id);
        state.push_audit(audit);
        Ok(())
    }

    async fn list_versions(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<Vec<VersionInfo>, StoreError> {
        let state = self.read();
        if !state.credentials.contains_key(&(organization, id)) {
            return Err(StoreError::NotFound);
        }
        Ok(state
            .versions
            .range(versions_of(id))
            .rev()
            .map(|(_, version)| VersionInfo::from(version))
            .collect())
    }

    async fn get_version(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        number: i64,
    ) -> Result<SecretVersion, StoreError> {
        self.read()
            .versions
            .get(&(id, number))
            .filter(|version| version.organization_id == organization)
            .cloned()
            .ok_or(StoreError::NotFound)
    }
}

impl AccessKeyStore for MemoryStore {
    async fn insert_access_key(
        &self,
        key: &StoredAccessKey,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
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
        state.check_audit(audit)?;
        state.access_key_ids.insert(k.id, k.organization_id);
        state
            .access_key_hashes
            .insert(key.hash, (k.organization_id, k.id));
        state
            .access_keys
            .insert((k.organization_id, k.id), key.clone());
        state.push_audit(audit);
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
        audit: &AuditEvent,
    ) -> Result<AccessKey, StoreError> {
        let mut state = self.write();
        if !state.access_keys.contains_key(&(organization, id)) {
            return Err(StoreError::NotFound);
        }
        state.check_audit(audit)?;
        state.push_audit(audit);
        let stored = state
            .access_keys
            .get_mut(&(organization, id))
            .ok_or(StoreError::NotFound)?;
        // The first revocation is the one that counts (audit, "revoked since").
        stored.key.revoked_at.get_or_insert(at);
        let key = stored.key.clone();
        state.end_grants_of_key(organization, id);
        state.end_connect_states_of_key(organization, id);
        Ok(key)
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

    async fn unbound_access_keys(
        &self,
        after: Option<AccessKeyId>,
        limit: usize,
    ) -> Result<Vec<StoredAccessKey>, StoreError> {
        let state = self.read();
        let mut unbound: Vec<StoredAccessKey> = state
            .access_keys
            .values()
            .filter(|stored| stored.binding.is_none())
            .filter(|stored| after.is_none_or(|after| stored.key.id > after))
            .cloned()
            .collect();
        unbound.sort_by_key(|stored| stored.key.id);
        unbound.truncate(limit);
        Ok(unbound)
    }

    async fn bind_access_key(
        &self,
        id: AccessKeyId,
        binding: &KeyBinding,
    ) -> Result<bool, StoreError> {
        let mut state = self.write();
        let Some(&organization) = state.access_key_ids.get(&id) else {
            return Ok(false);
        };
        let Some(stored) = state.access_keys.get_mut(&(organization, id)) else {
            return Ok(false);
        };
        if stored.binding.is_some() {
            return Ok(false);
        }
        stored.binding = Some(*binding);
        Ok(true)
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

    async fn organization_exists(&self, id: OrganizationId) -> Result<bool, StoreError> {
        Ok(self.read().organizations.contains_key(&id))
    }

    async fn organizations_named(&self, name: &str) -> Result<Vec<OrganizationId>, StoreError> {
        Ok(self
            .read()
            .organizations
            .values()
            .filter(|o| o.name == name)
            .map(|o| o.id)
            .collect())
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

    async fn get_keyring(&self) -> Result<Option<StoredKeyring>, StoreError> {
        Ok(self.read().keyring.clone())
    }

    async fn save_keyring(
        &self,
        keyring: &StoredKeyring,
        expected: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut state = self.write();
        if state.keyring.as_ref().map(|k| k.generation) != expected {
            return Ok(false);
        }
        state.keyring = Some(keyring.clone());
        Ok(true)
    }
}

/// Bounds of a range of `(key, id)` log keys.
type LogRange<K> = (Bound<(K, Uuid)>, Bound<(K, Uuid)>);

impl JobStore for MemoryStore {
    async fn exclusive<T, F, Fut>(&self, job: JobName, batch: F) -> Result<Option<T>, StoreError>
    where
        T: Send,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        self.jobs.exclusive(job, batch).await
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
            store.append_log(LogRecord::Request(entry)).await,
            Err(StoreError::NotFound)
        ));
        let event = sample_audit_event(Some(nowhere));
        assert!(matches!(
            store.append_log(LogRecord::Audit(event)).await,
            Err(StoreError::NotFound)
        ));

        let org = new_organization(&store).await;
        let entry = sample_request_log(org, CredentialId::new());
        store
            .append_log(LogRecord::Request(entry))
            .await
            .expect("an entry naming a credential that never existed");
        store
            .append_log(LogRecord::Audit(sample_audit_event(None)))
            .await
            .expect("an event of no organization");
    }
}
