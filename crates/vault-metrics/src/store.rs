//! The metered store: every storage port, timed.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

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

use crate::Metrics;

/// A store that forwards every call to `inner` and records its duration in
/// `vault_store_operation_duration_seconds{operation, outcome}`: `operation` is the port
/// method's name (`get_credential`, `list_audit_events`, ...; an `append_log` is
/// `insert_request_log` or `insert_audit_event`, by its log), `outcome` is `ok` or the
/// [`StoreError`] kind (`not_found`, `conflict`, `unavailable`, `error`). Arguments and
/// results are never looked at beyond that.
///
/// A call whose future is dropped before it completes (a client that went away) records
/// nothing: it has no outcome.
#[derive(Clone, Debug)]
pub struct MeteredStore<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> MeteredStore<S> {
    /// Wraps `inner`, recording into `metrics`.
    pub fn new(inner: S, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    /// The store calls are forwarded to (for work that should not be measured, such as
    /// admin jobs).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The registry this store records into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Awaits `call` and records how long it took and how it ended.
    async fn timed<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = call.await;
        let outcome = result.as_ref().map_or_else(store_outcome, |_| "ok");
        self.metrics
            .observe_store(operation, outcome, started.elapsed());
        result
    }
}

/// The `outcome` label of a failed store call.
fn store_outcome(error: &StoreError) -> &'static str {
    match error {
        StoreError::NotFound => "not_found",
        StoreError::Conflict => "conflict",
        StoreError::Unavailable(_) => "unavailable",
        // `Backend`, and whatever a later version of the port adds.
        _ => "error",
    }
}

impl<S: CredentialStore> CredentialStore for MeteredStore<S> {
    async fn insert_credential(
        &self,
        credential: &StoredCredential,
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        self.timed(
            "insert_credential",
            self.inner.insert_credential(credential, write),
        )
        .await
    }

    async fn get_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<StoredCredential, StoreError> {
        self.timed(
            "get_credential",
            self.inner.get_credential(organization, id),
        )
        .await
    }

    async fn list_credentials(
        &self,
        organization: OrganizationId,
        query: &ListQuery,
    ) -> Result<Vec<Credential>, StoreError> {
        self.timed(
            "list_credentials",
            self.inner.list_credentials(organization, query),
        )
        .await
    }

    async fn update_credential(
        &self,
        organization: OrganizationId,
        credential: &StoredCredential,
        expected_version: i64,
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        self.timed(
            "update_credential",
            self.inner
                .update_credential(organization, credential, expected_version, write),
        )
        .await
    }

    async fn delete_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        expected_version: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.timed(
            "delete_credential",
            self.inner
                .delete_credential(organization, id, expected_version, audit),
        )
        .await
    }

    async fn list_versions(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<Vec<VersionInfo>, StoreError> {
        self.timed("list_versions", self.inner.list_versions(organization, id))
            .await
    }

    async fn get_version(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        number: i64,
    ) -> Result<SecretVersion, StoreError> {
        self.timed(
            "get_version",
            self.inner.get_version(organization, id, number),
        )
        .await
    }
}

impl<S: AccessKeyStore> AccessKeyStore for MeteredStore<S> {
    async fn insert_access_key(
        &self,
        key: &StoredAccessKey,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.timed(
            "insert_access_key",
            self.inner.insert_access_key(key, audit),
        )
        .await
    }

    async fn find_access_key(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<StoredAccessKey>, StoreError> {
        self.timed("find_access_key", self.inner.find_access_key(hash))
            .await
    }

    async fn list_access_keys(
        &self,
        organization: OrganizationId,
        query: &KeyListQuery,
    ) -> Result<Vec<AccessKey>, StoreError> {
        self.timed(
            "list_access_keys",
            self.inner.list_access_keys(organization, query),
        )
        .await
    }

    async fn revoke_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<AccessKey, StoreError> {
        self.timed(
            "revoke_access_key",
            self.inner.revoke_access_key(organization, id, at, audit),
        )
        .await
    }

    async fn touch_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.timed(
            "touch_access_key",
            self.inner.touch_access_key(organization, id, at),
        )
        .await
    }

    async fn unbound_access_keys(
        &self,
        after: Option<AccessKeyId>,
        limit: usize,
    ) -> Result<Vec<StoredAccessKey>, StoreError> {
        self.timed(
            "unbound_access_keys",
            self.inner.unbound_access_keys(after, limit),
        )
        .await
    }

    async fn bind_access_key(
        &self,
        id: AccessKeyId,
        binding: &KeyBinding,
    ) -> Result<bool, StoreError> {
        self.timed("bind_access_key", self.inner.bind_access_key(id, binding))
            .await
    }
}

impl<S: OrganizationStore> OrganizationStore for MeteredStore<S> {
    async fn insert_organization(&self, organization: &Organization) -> Result<(), StoreError> {
        self.timed(
            "insert_organization",
            self.inner.insert_organization(organization),
        )
        .await
    }

    async fn count_organizations(&self) -> Result<u64, StoreError> {
        self.timed("count_organizations", self.inner.count_organizations())
            .await
    }

    async fn organization_exists(&self, id: OrganizationId) -> Result<bool, StoreError> {
        self.timed("organization_exists", self.inner.organization_exists(id))
            .await
    }

    async fn organizations_named(&self, name: &str) -> Result<Vec<OrganizationId>, StoreError> {
        self.timed("organizations_named", self.inner.organizations_named(name))
            .await
    }
}

impl<S: MetaStore> MetaStore for MeteredStore<S> {
    async fn get_meta(&self, name: &str) -> Result<Option<SealedBlob>, StoreError> {
        self.timed("get_meta", self.inner.get_meta(name)).await
    }

    async fn insert_meta_if_absent(
        &self,
        name: &str,
        value: &SealedBlob,
    ) -> Result<bool, StoreError> {
        self.timed(
            "insert_meta_if_absent",
            self.inner.insert_meta_if_absent(name, value),
        )
        .await
    }

    async fn get_keyring(&self) -> Result<Option<StoredKeyring>, StoreError> {
        self.timed("get_keyring", self.inner.get_keyring()).await
    }

    async fn save_keyring(
        &self,
        keyring: &StoredKeyring,
        expected: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.timed("save_keyring", self.inner.save_keyring(keyring, expected))
            .await
    }
}

impl<S: LogStore> LogStore for MeteredStore<S> {
    async fn append_log(&self, record: LogRecord) -> Result<(), StoreError> {
        // Each log keeps the operation name it had when each had its own method.
        let operation = match &record {
            LogRecord::Request(_) => "insert_request_log",
            LogRecord::Audit(_) => "insert_audit_event",
        };
        self.timed(operation, self.inner.append_log(record)).await
    }

    async fn list_request_logs(
        &self,
        organization: OrganizationId,
        query: &RequestLogQuery,
    ) -> Result<Vec<RequestLogEntry>, StoreError> {
        self.timed(
            "list_request_logs",
            self.inner.list_request_logs(organization, query),
        )
        .await
    }

    async fn list_audit_events(
        &self,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.timed(
            "list_audit_events",
            self.inner.list_audit_events(organization, query),
        )
        .await
    }

    async fn credential_usage(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        since: OffsetDateTime,
    ) -> Result<Vec<vault_core::logs::UsageBucket>, StoreError> {
        self.timed(
            "credential_usage",
            self.inner.credential_usage(organization, credential, since),
        )
        .await
    }

    async fn prune_log(
        &self,
        log: LogKind,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<u64, StoreError> {
        self.timed("prune_log", self.inner.prune_log(log, cutoff, limit))
            .await
    }
}

impl<S: JobStore> JobStore for MeteredStore<S> {
    /// Not timed itself: the batch's own store calls are (when it makes them through this
    /// store), and the time a batch holds its job says nothing about the store.
    async fn exclusive<T, F, Fut>(&self, job: JobName, batch: F) -> Result<Option<T>, StoreError>
    where
        T: Send,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        self.inner.exclusive(job, batch).await
    }
}

impl<S: AuditChainStore> AuditChainStore for MeteredStore<S> {
    async fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        self.timed("chain_heads", self.inner.chain_heads()).await
    }

    async fn chain_events(
        &self,
        chain: AuditChain,
        from: u64,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.timed("chain_events", self.inner.chain_events(chain, from, limit))
            .await
    }

    async fn count_unchained(&self, chain: AuditChain) -> Result<u64, StoreError> {
        self.timed("count_unchained", self.inner.count_unchained(chain))
            .await
    }

    async fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<bool, StoreError> {
        self.timed(
            "insert_checkpoint",
            self.inner.insert_checkpoint(checkpoint),
        )
        .await
    }

    async fn list_checkpoints(
        &self,
        chain: AuditChain,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Checkpoint>, StoreError> {
        self.timed(
            "list_checkpoints",
            self.inner.list_checkpoints(chain, before, limit),
        )
        .await
    }

    async fn sink_cursors(&self, sink: &str) -> Result<Vec<(AuditChain, u64)>, StoreError> {
        self.timed("sink_cursors", self.inner.sink_cursors(sink))
            .await
    }

    async fn save_sink_cursor(
        &self,
        sink: &str,
        chain: AuditChain,
        seq: u64,
    ) -> Result<(), StoreError> {
        self.timed(
            "save_sink_cursor",
            self.inner.save_sink_cursor(sink, chain, seq),
        )
        .await
    }

    async fn cut_chain(&self, checkpoint: &Checkpoint) -> Result<u64, StoreError> {
        self.timed("cut_chain", self.inner.cut_chain(checkpoint))
            .await
    }
}

impl<S: SealedStore> SealedStore for MeteredStore<S> {
    async fn key_usage(&self) -> Result<Vec<KeyUsage>, StoreError> {
        self.timed("key_usage", self.inner.key_usage()).await
    }

    async fn organization_key_usage(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<KeyUsage>, StoreError> {
        self.timed(
            "organization_key_usage",
            self.inner.organization_key_usage(organization),
        )
        .await
    }

    async fn sealed_batch(
        &self,
        kind: SealedKind,
        not_under: &KeyId,
        after: Option<&SealedRef>,
        limit: usize,
    ) -> Result<Vec<SealedRow>, StoreError> {
        self.timed(
            "sealed_batch",
            self.inner.sealed_batch(kind, not_under, after, limit),
        )
        .await
    }

    async fn replace_sealed(&self, row: &SealedRow, new: &SealedBlob) -> Result<bool, StoreError> {
        self.timed("replace_sealed", self.inner.replace_sealed(row, new))
            .await
    }
}

impl<S: GrantStore> GrantStore for MeteredStore<S> {
    async fn insert_grant(&self, grant: &Grant, audit: &AuditEvent) -> Result<(), StoreError> {
        self.timed("insert_grant", self.inner.insert_grant(grant, audit))
            .await
    }

    async fn list_grants(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> Result<Vec<Grant>, StoreError> {
        self.timed(
            "list_grants",
            self.inner.list_grants(organization, credential),
        )
        .await
    }

    async fn list_grants_fresh(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> Result<Vec<Grant>, StoreError> {
        self.timed(
            "list_grants_fresh",
            self.inner.list_grants_fresh(organization, credential),
        )
        .await
    }

    async fn grants_of(
        &self,
        organization: OrganizationId,
        grantees: &[Grantee],
    ) -> Result<Vec<Grant>, StoreError> {
        self.timed("grants_of", self.inner.grants_of(organization, grantees))
            .await
    }

    async fn delete_grant(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        id: GrantId,
        audit: &AuditEvent,
    ) -> Result<Grant, StoreError> {
        self.timed(
            "delete_grant",
            self.inner.delete_grant(organization, credential, id, audit),
        )
        .await
    }

    async fn spend_budget(
        &self,
        organization: OrganizationId,
        grant: GrantId,
        caps: &[(Window, u64)],
        now: OffsetDateTime,
    ) -> Result<BudgetSpend, StoreError> {
        self.timed(
            "spend_budget",
            self.inner.spend_budget(organization, grant, caps, now),
        )
        .await
    }
}

impl<S: ConnectionStore> ConnectionStore for MeteredStore<S> {
    async fn get_connection(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> Result<Option<Connection>, StoreError> {
        self.timed(
            "get_connection",
            self.inner.get_connection(organization, credential),
        )
        .await
    }

    async fn connections_of(
        &self,
        organization: OrganizationId,
        credentials: &[CredentialId],
    ) -> Result<Vec<Connection>, StoreError> {
        self.timed(
            "connections_of",
            self.inner.connections_of(organization, credentials),
        )
        .await
    }

    async fn save_connection(
        &self,
        connection: &Connection,
        expected: Expected,
        audit: Option<&AuditEvent>,
    ) -> Result<bool, StoreError> {
        self.timed(
            "save_connection",
            self.inner.save_connection(connection, expected, audit),
        )
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
        self.timed(
            "take_lease",
            self.inner
                .take_lease(organization, credential, generation, lease, now),
        )
        .await
    }

    async fn insert_connect_state(
        &self,
        state: &ConnectState,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.timed(
            "insert_connect_state",
            self.inner.insert_connect_state(state, now),
        )
        .await
    }

    async fn take_connect_state(
        &self,
        hash: &StateHash,
    ) -> Result<Option<ConnectState>, StoreError> {
        self.timed("take_connect_state", self.inner.take_connect_state(hash))
            .await
    }
}

impl<S: WebhookStore> WebhookStore for MeteredStore<S> {
    async fn insert_webhook(
        &self,
        webhook: &Webhook,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.timed("insert_webhook", self.inner.insert_webhook(webhook, audit))
            .await
    }

    async fn get_webhook(
        &self,
        organization: OrganizationId,
        id: WebhookId,
    ) -> Result<Option<Webhook>, StoreError> {
        self.timed("get_webhook", self.inner.get_webhook(organization, id))
            .await
    }

    async fn list_webhooks(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<Webhook>, StoreError> {
        self.timed("list_webhooks", self.inner.list_webhooks(organization))
            .await
    }

    async fn webhooks_wanting(&self, types: &[EventType]) -> Result<Vec<Webhook>, StoreError> {
        self.timed("webhooks_wanting", self.inner.webhooks_wanting(types))
            .await
    }

    async fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        self.timed("update_webhook", self.inner.update_webhook(webhook, audit))
            .await
    }

    async fn delete_webhook(
        &self,
        organization: OrganizationId,
        id: WebhookId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        self.timed(
            "delete_webhook",
            self.inner.delete_webhook(organization, id, audit),
        )
        .await
    }

    async fn insert_deliveries(
        &self,
        deliveries: &[Delivery],
        audit: Option<&AuditEvent>,
    ) -> Result<(), StoreError> {
        self.timed(
            "insert_deliveries",
            self.inner.insert_deliveries(deliveries, audit),
        )
        .await
    }

    async fn insert_reminder(
        &self,
        reminder: &Reminder,
        delivery: &Delivery,
    ) -> Result<bool, StoreError> {
        self.timed(
            "insert_reminder",
            self.inner.insert_reminder(reminder, delivery),
        )
        .await
    }

    async fn recorded_reminders(
        &self,
        reminders: &[Reminder],
    ) -> Result<Vec<Reminder>, StoreError> {
        self.timed(
            "recorded_reminders",
            self.inner.recorded_reminders(reminders),
        )
        .await
    }

    async fn due_deliveries(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.timed("due_deliveries", self.inner.due_deliveries(now, limit))
            .await
    }

    async fn record_attempt(&self, record: &AttemptRecord) -> Result<bool, StoreError> {
        self.timed("record_attempt", self.inner.record_attempt(record))
            .await
    }

    async fn list_deliveries(
        &self,
        organization: OrganizationId,
        webhook: WebhookId,
        before: Option<WebhookDeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.timed(
            "list_deliveries",
            self.inner
                .list_deliveries(organization, webhook, before, limit),
        )
        .await
    }

    async fn prune_deliveries(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<u64, StoreError> {
        self.timed(
            "prune_deliveries",
            self.inner.prune_deliveries(cutoff, limit),
        )
        .await
    }

    async fn get_delivery(
        &self,
        organization: OrganizationId,
        webhook: WebhookId,
        id: WebhookDeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.timed(
            "get_delivery",
            self.inner.get_delivery(organization, webhook, id),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_has_a_fixed_label() {
        let boxed = || -> vault_core::store::BoxError { "a driver message".into() };
        assert_eq!(store_outcome(&StoreError::NotFound), "not_found");
        assert_eq!(store_outcome(&StoreError::Conflict), "conflict");
        assert_eq!(
            store_outcome(&StoreError::Unavailable(boxed())),
            "unavailable"
        );
        assert_eq!(store_outcome(&StoreError::Backend(boxed())), "error");
    }
}
