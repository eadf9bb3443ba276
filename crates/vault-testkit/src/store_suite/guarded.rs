//! [`Guarded`]: a store together with what must live as long as it.

use std::fmt::Debug;
use std::future::Future;

use time::OffsetDateTime;
use vault_core::access_key::{AccessKey, KeyBinding, Organization, StoredAccessKey, TokenHash};
use vault_core::audit_chain::{AuditChain, AuditChainStore, ChainHead, Checkpoint};
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::connections::{ConnectState, Connection, Expected, Lease, StateHash};
use vault_core::credential::{Credential, StoredCredential};
use vault_core::grants::{Grant, Grantee, Window};
use vault_core::ids::{
    AccessKeyId, CredentialId, GrantId, OrganizationId, WebhookDeliveryId, WebhookId,
};
use vault_core::keyring::StoredKeyring;
use vault_core::logs::{AuditEvent, AuditQuery, LogRecord, RequestLogEntry, RequestLogQuery};
use vault_core::store::{
    AccessKeyStore, BudgetSpend, ConnectionStore, CredentialStore, CredentialWrite, GrantStore,
    JobName, JobStore, KeyListQuery, ListQuery, LogKind, LogStore, MetaStore, OrganizationStore,
    SealedStore, StoreError,
};
use vault_core::versions::{
    KeyUsage, SealedKind, SealedRef, SealedRow, SecretVersion, VersionInfo,
};
use vault_core::webhooks::{AttemptRecord, Delivery, EventType, Reminder, Webhook, WebhookStore};

/// A store together with a value that must live as long as it: the temporary directory of
/// an SQLite file, the handle of a per-test database. Implements every port by handing the
/// call to `store`; `guard` is dropped after `store`.
///
/// ```rust,ignore
/// async fn fresh_store() -> Guarded<SqliteStore, tempfile::TempDir> {
///     let dir = tempfile::tempdir().expect("a temporary directory");
///     let store = SqliteStore::open(dir.path().join("vault.db").to_str().expect("UTF-8"))
///         .await
///         .expect("a fresh store");
///     Guarded { store, guard: dir }
/// }
/// vault_testkit::store_conformance!(fresh_store());
/// ```
#[derive(Debug)]
pub struct Guarded<S, G> {
    /// The store under test. Declared first, so it is dropped first.
    pub store: S,
    /// Dropped when the store is.
    pub guard: G,
}

impl<S: CredentialStore, G: Send + Sync + 'static> CredentialStore for Guarded<S, G> {
    async fn insert_credential(
        &self,
        credential: &StoredCredential,
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        self.store.insert_credential(credential, write).await
    }

    async fn get_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<StoredCredential, StoreError> {
        self.store.get_credential(organization, id).await
    }

    async fn list_credentials(
        &self,
        organization: OrganizationId,
        query: &ListQuery,
    ) -> Result<Vec<Credential>, StoreError> {
        self.store.list_credentials(organization, query).await
    }

    async fn update_credential(
        &self,
        organization: OrganizationId,
        credential: &StoredCredential,
        expected_version: i64,
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        self.store
            .update_credential(organization, credential, expected_version, write)
            .await
    }

    async fn delete_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        expected_version: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.store
            .delete_credential(organization, id, expected_version, audit)
            .await
    }

    async fn list_versions(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<Vec<VersionInfo>, StoreError> {
        self.store.list_versions(organization, id).await
    }

    async fn get_version(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        number: i64,
    ) -> Result<SecretVersion, StoreError> {
        self.store.get_version(organization, id, number).await
    }
}

impl<S: AccessKeyStore, G: Send + Sync + 'static> AccessKeyStore for Guarded<S, G> {
    async fn insert_access_key(
        &self,
        key: &StoredAccessKey,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.store.insert_access_key(key, audit).await
    }

    async fn find_access_key(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<StoredAccessKey>, StoreError> {
        self.store.find_access_key(hash).await
    }

    async fn list_access_keys(
        &self,
        organization: OrganizationId,
        query: &KeyListQuery,
    ) -> Result<Vec<AccessKey>, StoreError> {
        self.store.list_access_keys(organization, query).await
    }

    async fn revoke_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<AccessKey, StoreError> {
        self.store
            .revoke_access_key(organization, id, at, audit)
            .await
    }

    async fn touch_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.store.touch_access_key(organization, id, at).await
    }

    async fn unbound_access_keys(
        &self,
        after: Option<AccessKeyId>,
        limit: usize,
    ) -> Result<Vec<StoredAccessKey>, StoreError> {
        self.store.unbound_access_keys(after, limit).await
    }

    async fn bind_access_key(
        &self,
        id: AccessKeyId,
        binding: &KeyBinding,
    ) -> Result<bool, StoreError> {
        self.store.bind_access_key(id, binding).await
    }
}

impl<S: OrganizationStore, G: Send + Sync + 'static> OrganizationStore for Guarded<S, G> {
    async fn insert_organization(&self, organization: &Organization) -> Result<(), StoreError> {
        self.store.insert_organization(organization).await
    }

    async fn count_organizations(&self) -> Result<u64, StoreError> {
        self.store.count_organizations().await
    }

    async fn organization_exists(&self, id: OrganizationId) -> Result<bool, StoreError> {
        self.store.organization_exists(id).await
    }

    async fn organizations_named(&self, name: &str) -> Result<Vec<OrganizationId>, StoreError> {
        self.store.organizations_named(name).await
    }
}

impl<S: MetaStore, G: Send + Sync + 'static> MetaStore for Guarded<S, G> {
    async fn get_meta(&self, name: &str) -> Result<Option<SealedBlob>, StoreError> {
        self.store.get_meta(name).await
    }

    async fn insert_meta_if_absent(
        &self,
        name: &str,
        value: &SealedBlob,
    ) -> Result<bool, StoreError> {
        self.store.insert_meta_if_absent(name, value).await
    }

    async fn get_keyring(&self) -> Result<Option<StoredKeyring>, StoreError> {
        self.store.get_keyring().await
    }

    async fn save_keyring(
        &self,
        keyring: &StoredKeyring,
        expected: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.store.save_keyring(keyring, expected).await
    }
}

impl<S: LogStore, G: Send + Sync + 'static> LogStore for Guarded<S, G> {
    async fn append_log(&self, record: LogRecord) -> Result<(), StoreError> {
        self.store.append_log(record).await
    }

    async fn list_request_logs(
        &self,
        organization: OrganizationId,
        query: &RequestLogQuery,
    ) -> Result<Vec<RequestLogEntry>, StoreError> {
        self.store.list_request_logs(organization, query).await
    }

    async fn list_audit_events(
        &self,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.store.list_audit_events(organization, query).await
    }

    async fn credential_usage(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        since: OffsetDateTime,
    ) -> Result<Vec<vault_core::logs::UsageBucket>, StoreError> {
        self.store
            .credential_usage(organization, credential, since)
            .await
    }

    async fn prune_log(
        &self,
        log: LogKind,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<u64, StoreError> {
        self.store.prune_log(log, cutoff, limit).await
    }
}

impl<S: AuditChainStore, G: Send + Sync + 'static> AuditChainStore for Guarded<S, G> {
    async fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        self.store.chain_heads().await
    }

    async fn chain_events(
        &self,
        chain: AuditChain,
        from: u64,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.store.chain_events(chain, from, limit).await
    }

    async fn count_unchained(&self, chain: AuditChain) -> Result<u64, StoreError> {
        self.store.count_unchained(chain).await
    }

    async fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<bool, StoreError> {
        self.store.insert_checkpoint(checkpoint).await
    }

    async fn list_checkpoints(
        &self,
        chain: AuditChain,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Checkpoint>, StoreError> {
        self.store.list_checkpoints(chain, before, limit).await
    }

    async fn sink_cursors(&self, sink: &str) -> Result<Vec<(AuditChain, u64)>, StoreError> {
        self.store.sink_cursors(sink).await
    }

    async fn save_sink_cursor(
        &self,
        sink: &str,
        chain: AuditChain,
        seq: u64,
    ) -> Result<(), StoreError> {
        self.store.save_sink_cursor(sink, chain, seq).await
    }

    async fn cut_chain(&self, checkpoint: &Checkpoint) -> Result<u64, StoreError> {
        self.store.cut_chain(checkpoint).await
    }
}

impl<S: JobStore, G: Send + Sync + 'static> JobStore for Guarded<S, G> {
    async fn exclusive<T, F, Fut>(&self, job: JobName, batch: F) -> Result<Option<T>, StoreError>
    where
        T: Send,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        self.store.exclusive(job, batch).await
    }
}

impl<S: SealedStore, G: Send + Sync + 'static> SealedStore for Guarded<S, G> {
    async fn key_usage(&self) -> Result<Vec<KeyUsage>, StoreError> {
        self.store.key_usage().await
    }

    async fn organization_key_usage(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<KeyUsage>, StoreError> {
        self.store.organization_key_usage(organization).await
    }

    async fn sealed_batch(
        &self,
        kind: SealedKind,
        not_under: &KeyId,
        after: Option<&SealedRef>,
        limit: usize,
    ) -> Result<Vec<SealedRow>, StoreError> {
        self.store.sealed_batch(kind, not_under, after, limit).await
    }

    async fn replace_sealed(&self, row: &SealedRow, new: &SealedBlob) -> Result<bool, StoreError> {
        self.store.replace_sealed(row, new).await
    }
}

impl<S: GrantStore, G: Send + Sync + 'static> GrantStore for Guarded<S, G> {
    async fn insert_grant(&self, grant: &Grant, audit: &AuditEvent) -> Result<(), StoreError> {
        self.store.insert_grant(grant, audit).await
    }

    async fn list_grants(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> Result<Vec<Grant>, StoreError> {
        self.store.list_grants(organization, credential).await
    }

    async fn list_grants_fresh(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> Result<Vec<Grant>, StoreError> {
        self.store.list_grants_fresh(organization, credential).await
    }

    async fn grants_of(
        &self,
        organization: OrganizationId,
        grantees: &[Grantee],
    ) -> Result<Vec<Grant>, StoreError> {
        self.store.grants_of(organization, grantees).await
    }

    async fn delete_grant(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        id: GrantId,
        audit: &AuditEvent,
    ) -> Result<Grant, StoreError> {
        self.store
            .delete_grant(organization, credential, id, audit)
            .await
    }

    async fn spend_budget(
        &self,
        organization: OrganizationId,
        grant: GrantId,
        caps: &[(Window, u64)],
        now: OffsetDateTime,
    ) -> Result<BudgetSpend, StoreError> {
        self.store
            .spend_budget(organization, grant, caps, now)
            .await
    }
}

impl<S: ConnectionStore, G: Send + Sync + 'static> ConnectionStore for Guarded<S, G> {
    async fn get_connection(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> Result<Option<Connection>, StoreError> {
        self.store.get_connection(organization, credential).await
    }

    async fn connections_of(
        &self,
        organization: OrganizationId,
        credentials: &[CredentialId],
    ) -> Result<Vec<Connection>, StoreError> {
        self.store.connections_of(organization, credentials).await
    }

    async fn save_connection(
        &self,
        connection: &Connection,
        expected: Expected,
        audit: Option<&AuditEvent>,
    ) -> Result<bool, StoreError> {
        self.store
            .save_connection(connection, expected, audit)
            .await
    }

    async fn take_lease(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        generation: i64,
        lease: Lease,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.store
            .take_lease(organization, credential, generation, lease, now)
            .await
    }

    async fn insert_connect_state(
        &self,
        state: &ConnectState,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.store.insert_connect_state(state, now).await
    }

    async fn take_connect_state(
        &self,
        hash: &StateHash,
    ) -> Result<Option<ConnectState>, StoreError> {
        self.store.take_connect_state(hash).await
    }
}

impl<S: WebhookStore, G: Send + Sync + 'static> WebhookStore for Guarded<S, G> {
    async fn insert_webhook(
        &self,
        webhook: &Webhook,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.store.insert_webhook(webhook, audit).await
    }

    async fn get_webhook(
        &self,
        organization: OrganizationId,
        id: WebhookId,
    ) -> Result<Option<Webhook>, StoreError> {
        self.store.get_webhook(organization, id).await
    }

    async fn list_webhooks(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<Webhook>, StoreError> {
        self.store.list_webhooks(organization).await
    }

    async fn webhooks_wanting(&self, types: &[EventType]) -> Result<Vec<Webhook>, StoreError> {
        self.store.webhooks_wanting(types).await
    }

    async fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        self.store.update_webhook(webhook, audit).await
    }

    async fn delete_webhook(
        &self,
        organization: OrganizationId,
        id: WebhookId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        self.store.delete_webhook(organization, id, audit).await
    }

    async fn insert_deliveries(
        &self,
        deliveries: &[Delivery],
        audit: Option<&AuditEvent>,
    ) -> Result<(), StoreError> {
        self.store.insert_deliveries(deliveries, audit).await
    }

    async fn insert_reminder(
        &self,
        reminder: &Reminder,
        delivery: &Delivery,
    ) -> Result<bool, StoreError> {
        self.store.insert_reminder(reminder, delivery).await
    }

    async fn recorded_reminders(
        &self,
        reminders: &[Reminder],
    ) -> Result<Vec<Reminder>, StoreError> {
        self.store.recorded_reminders(reminders).await
    }

    async fn due_deliveries(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.store.due_deliveries(now, limit).await
    }

    async fn record_attempt(&self, record: &AttemptRecord) -> Result<bool, StoreError> {
        self.store.record_attempt(record).await
    }

    async fn list_deliveries(
        &self,
        organization: OrganizationId,
        webhook: WebhookId,
        before: Option<WebhookDeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.store
            .list_deliveries(organization, webhook, before, limit)
            .await
    }

    async fn get_delivery(
        &self,
        organization: OrganizationId,
        webhook: WebhookId,
        id: WebhookDeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.store.get_delivery(organization, webhook, id).await
    }

    async fn prune_deliveries(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<u64, StoreError> {
        self.store.prune_deliveries(cutoff, limit).await
    }
}
