//! The storage ports of `vault-core`, implemented once for both SQL stores by
//! [`sql_store_ports!`](crate::sql_store_ports): every statement the stores share, built
//! here on the one schema and run by the store's own verbs; what differs between the
//! databases (how a credential or an access key is written with its audit event, how the
//! logs are appended) each store implements as [`SqlStore`].

mod access_keys;
mod audit_chain;
mod connections;
mod credentials;
mod grants;
mod logs;
mod organizations;
mod sealed;
mod webhooks;

use std::future::Future;

use time::OffsetDateTime;
use vault_core::connections::Expected;
use vault_core::credential::StoredCredential;
use vault_core::credential_cache::CredentialCache;
use vault_core::grants::Window;
use vault_core::ids::{AccessKeyId, CredentialId, GrantId, OrganizationId};
use vault_core::logs::LogRecord;
use vault_core::store::{BudgetSpend, CredentialWrite, StoreError};

use crate::rows::{
    AccessKeyRow, AccessKeySummaryRow, AuditEventRow, CheckpointRow, ConnectionRow, CredentialRow,
    GrantRow, VersionRow,
};
use crate::types::DbTime;

pub use webhooks::{SqlWebhookStore, room_for_webhook};

/// A credential write, encoded: the row, and what the store writes in the same
/// transaction.
#[derive(Debug)]
pub struct CredentialChange {
    /// The credential's row.
    pub row: CredentialRow,
    /// Version rows to add, oldest first, each number once.
    pub versions: Vec<VersionRow>,
    /// After adding, keep only this many of the credential's newest version rows (0: keep
    /// every one).
    pub keep_versions: usize,
    /// The audit event of the change.
    pub audit: AuditEventRow,
}

impl CredentialChange {
    /// Encodes `credential` and `write`, whose versions must be `organization`'s.
    ///
    /// # Errors
    /// As [`CredentialRow::encode`] and [`VersionRow::encode_all`].
    pub fn encode(
        credential: &StoredCredential,
        organization: OrganizationId,
        write: &CredentialWrite<'_>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            row: CredentialRow::encode(credential)?,
            versions: VersionRow::encode_all(
                write.versions,
                organization,
                credential.credential.id,
            )?,
            keep_versions: write.keep_versions,
            audit: AuditEventRow::encode(write.audit)?,
        })
    }
}

/// What a store does its own way, under the ports [`sql_store_ports!`](crate::sql_store_ports)
/// implements: the writes that carry an audit event (a transaction on SQLite's writer
/// thread, one statement or a pipelined transaction on PostgreSQL), and log appends (the
/// writer's group commit on SQLite, the log writer on PostgreSQL). The contract of each is
/// the port method's of the same name (`vault_core::store`).
pub trait SqlStore: Send + Sync + 'static {
    /// The credentials read recently: `get_credential` serves them without a read, and
    /// every change of a credential must settle its entry.
    fn credential_cache(&self) -> &CredentialCache;

    /// `insert_credential`: the row, its versions (pruned to the newest `keep_versions`)
    /// and its audit event, in one transaction.
    fn insert_credential_rows(
        &self,
        change: CredentialChange,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `update_credential`: the compare-and-swap of the row at `expected_version`, then as
    /// for an insert; `stored` is the credential written, for the cache.
    fn update_credential_rows(
        &self,
        organization: OrganizationId,
        expected_version: i64,
        change: CredentialChange,
        stored: &StoredCredential,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `delete_credential`: the row, its versions, its grants (with their counters), its
    /// connection and its connect states, and the audit event.
    fn delete_credential_rows(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        expected_version: Option<i64>,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `insert_access_key`: the key and its audit event.
    fn insert_access_key_rows(
        &self,
        row: AccessKeyRow,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `revoke_access_key`: the revocation (keeping an earlier one's time), the end of the
    /// grants it made or was given and of the connect states it started, and its audit
    /// event; the key as it then is.
    fn revoke_access_key_rows(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: DbTime,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<AccessKeySummaryRow, StoreError>> + Send;

    /// `insert_grant`: the grant, if its credential is the organization's, and its audit
    /// event.
    fn insert_grant_rows(
        &self,
        row: GrantRow,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `delete_grant`: the grant and its budget counters, and the audit event; the grant's
    /// row as it was.
    fn delete_grant_rows(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        id: GrantId,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<GrantRow, StoreError>> + Send;

    /// `spend_budget`: one more request in each counter, or in none when one is at its cap.
    fn spend_budget_rows(
        &self,
        organization: OrganizationId,
        grant: GrantId,
        counters: Vec<BudgetCounter>,
    ) -> impl Future<Output = Result<BudgetSpend, StoreError>> + Send;

    /// `save_connection`: with `expected.generation` `None`, the row inserted unless one
    /// exists; otherwise every column but the ids written over the row at that generation
    /// (holding `expected.holder`'s lease, when given). Then the audit event, only if the
    /// row was written; all in one transaction. Whether it wrote;
    /// [`StoreError::NotFound`] when the credential is not the organization's.
    fn save_connection_rows(
        &self,
        row: ConnectionRow,
        expected: Expected,
        audit: Option<AuditEventRow>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// `cut_chain`: `checkpoint`'s row (replacing one its chain has at its number) and the
    /// deletion of its chain's events numbered up to its `seq`, in one transaction; how
    /// many events it deleted.
    fn cut_chain_rows(
        &self,
        checkpoint: CheckpointRow,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// `append_log`.
    fn append_log_record(
        &self,
        record: LogRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `credential_usage`'s statement in this database's dialect (it has no portable way
    /// to cut a time into hours): rows of [`UsageRow`](crate::rows::UsageRow) for `$1` the
    /// organization, `$2` the credential, `$3` the id floor of `$4` the first instant.
    const CREDENTIAL_USAGE_SQL: &'static str;
}

/// One budget counter a request is counted in: the grant's window holding now, and its
/// cap.
#[derive(Clone, Copy, Debug)]
pub struct BudgetCounter {
    /// The window.
    pub window: Window,
    /// `grant_usage.time_window`.
    pub name: &'static str,
    /// `grant_usage.window_start`: the Unix second the window started at.
    pub start: i64,
    /// The most requests the window takes.
    pub cap: i64,
}

impl BudgetCounter {
    /// The counter of `window` at `now`, capped at `cap`.
    #[must_use]
    pub fn new(window: Window, cap: u64, now: OffsetDateTime) -> Self {
        Self {
            window,
            name: window.as_str(),
            start: window.start(now),
            cap: i64::try_from(cap).unwrap_or(i64::MAX),
        }
    }
}

/// Whether a delete may go on: the credential exists (`stored`, its version) and is at
/// `expected`, when one is given.
///
/// # Errors
/// [`StoreError::NotFound`] when it does not exist; [`StoreError::Conflict`] when it is at
/// another version.
pub fn at_version(stored: Option<i64>, expected: Option<i64>) -> Result<(), StoreError> {
    match stored {
        None => Err(StoreError::NotFound),
        Some(stored) if expected.is_some_and(|expected| expected != stored) => {
            Err(StoreError::Conflict)
        }
        Some(_) => Ok(()),
    }
}

/// A `sealed_batch` cursor naming a row of another kind than the batch: a caller's bug,
/// refused rather than read as "from the start", which could loop forever.
#[must_use]
pub fn cursor_of_another_kind() -> StoreError {
    StoreError::Backend("the sealed_batch cursor is a row of another kind".into())
}

/// Implements `vault-core`'s storage ports (all but `JobStore`) for `$store`, on the
/// schema and rows of this crate: every read, and every write that is one statement,
/// written once for both databases; the rest through the store's [`SqlStore`] (and
/// [`SqlWebhookStore`] for the webhook writes).
///
/// The statements are built here and run by four methods `$store` has of its own (they
/// cannot be a trait: each is generic over what diesel can run on that store's
/// connections, which a trait shared by both could not name). Each returns a future:
///
/// - `fetch_optional(&self, query: Q) -> Result<Option<U>, StoreError>`: the row `query`
///   returns, if any (diesel's `get_result`, without a `LIMIT`);
/// - `fetch_all(&self, query: Q) -> Result<Vec<U>, StoreError>`: every row;
/// - `execute(&self, statement: Q) -> Result<usize, StoreError>`: a write of one statement,
///   and how many rows it wrote;
/// - `execute_changing(&self, id: CredentialId, statement: Q) -> Result<usize,
///   StoreError>`: the same for a statement that may change credential `id`, which the
///   store's credential cache must then hear of.
///
/// A macro rather than generic functions because the queries' types (boxed or not,
/// borrowing or not) are then inferred for each store's connection, and no statement needs
/// a named type or an allocation to cross a generic boundary: each store runs exactly the
/// statements it ran when it wrote them itself.
#[macro_export]
macro_rules! sql_store_ports {
    ($store:ty) => {
        $crate::__sql_store_credentials!($store);
        $crate::__sql_store_access_keys!($store);
        $crate::__sql_store_organizations!($store);
        $crate::__sql_store_logs!($store);
        $crate::__sql_store_sealed!($store);
        $crate::__sql_store_grants!($store);
        $crate::__sql_store_connections!($store);
        $crate::__sql_store_audit_chain!($store);
        $crate::__sql_store_webhooks!($store);
    };
}
