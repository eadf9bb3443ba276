//! Storage ports. Every call that touches an organization's data takes the organization
//! id and MUST filter by it, so an id from another organization behaves exactly like a
//! missing one. The one exception, [`AccessKeyStore::find_access_key`], is how a request
//! learns its organization in the first place.

use std::future::Future;

use time::OffsetDateTime;

use crate::access_key::{AccessKey, KeyBinding, Organization, StoredAccessKey, TokenHash};
pub use crate::audit_chain::AuditChainStore;
use crate::cipher::KeyId;
use crate::cipher::SealedBlob;
use crate::connections::{ConnectState, Connection, Expected, Lease, StateHash};
use crate::credential::{Credential, CredentialType, StoredCredential};
use crate::grants::{Grant, Grantee, Window};
use crate::ids::{AccessKeyId, CredentialId, GrantId, OrganizationId};
pub use crate::jobs::{JobName, JobStore};
use crate::keyring::StoredKeyring;
use crate::logs::{AuditEvent, AuditQuery, LogRecord, RequestLogEntry, RequestLogQuery};
use crate::versions::{KeyUsage, SealedKind, SealedRef, SealedRow, SecretVersion, VersionInfo};

/// An opaque error from a storage backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No such record in this organization.
    #[error("not found")]
    NotFound,
    /// The record changed since it was read, or a unique value is taken.
    #[error("the record was changed concurrently or already exists")]
    Conflict,
    /// The backend cannot be reached now; retrying later may work.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other backend failure.
    #[error("the store failed")]
    Backend(#[source] BoxError),
}

/// Which credentials to list. Results are ordered by id (creation order, ids being
/// UUID v7) and start after `after`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Return only ids greater than this one (the cursor).
    pub after: Option<CredentialId>,
    /// Return at most this many.
    pub limit: usize,
    /// Only this type.
    pub credential_type: Option<CredentialType>,
    /// Only credentials with an expiry at or before this instant (expired ones included).
    pub expires_before: Option<OffsetDateTime>,
}

/// Which access keys to list, in id order after `after`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyListQuery {
    /// Return only ids greater than this one (the cursor).
    pub after: Option<AccessKeyId>,
    /// Return at most this many.
    pub limit: usize,
}

/// What a credential write carries besides the credential row. The store writes all of it
/// in the same transaction as the row: a change never lands without its version and its
/// audit event, and neither lands without the change.
#[derive(Clone, Copy, Debug)]
pub struct CredentialWrite<'a> {
    /// Version rows to add (the new current secret values; on the first secret change of a
    /// credential stored before versions existed, also the values it replaces). Empty when
    /// the secrets did not change.
    pub versions: &'a [SecretVersion],
    /// After adding, keep only this many of the credential's newest version rows (0: keep
    /// every one).
    pub keep_versions: usize,
    /// The audit event of the change.
    pub audit: &'a AuditEvent,
}

/// Credential storage.
///
/// # Errors
/// - `insert_credential` MUST fail with [`StoreError::Conflict`] if the id exists (in any
///   organization), and with [`StoreError::NotFound`] if its organization does not exist.
/// - `get_credential`, `update_credential`, `delete_credential`, `list_versions` and
///   `get_version` MUST fail with [`StoreError::NotFound`] when the id (or the version)
///   does not exist *in `organization`*.
/// - `update_credential` MUST write only if the stored version equals `expected_version`,
///   atomically, and fail with [`StoreError::Conflict`] otherwise (writing nothing of the
///   [`CredentialWrite`] either): this is what keeps concurrent updates from losing writes.
///   `delete_credential` likewise when `expected_version` is given.
/// - Writes MUST apply the whole [`CredentialWrite`] (version rows, pruning to
///   `keep_versions`, the audit event) in the same transaction as the credential row, and
///   fail with [`StoreError::Conflict`] if a version number exists for that credential.
/// - `delete_credential` MUST delete the credential's version rows with it, and write
///   `audit` in the same transaction.
/// - Unreachable backends MUST surface as [`StoreError::Unavailable`].
pub trait CredentialStore: Send + Sync + 'static {
    /// Stores a new credential under its `organization_id`.
    fn insert_credential(
        &self,
        credential: &StoredCredential,
        write: &CredentialWrite<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads one credential with its sealed secrets.
    fn get_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> impl Future<Output = Result<StoredCredential, StoreError>> + Send;

    /// Lists credentials (without sealed secrets).
    fn list_credentials(
        &self,
        organization: OrganizationId,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Vec<Credential>, StoreError>> + Send;

    /// Replaces a credential if its stored version is still `expected_version`.
    fn update_credential(
        &self,
        organization: OrganizationId,
        credential: &StoredCredential,
        expected_version: i64,
        write: &CredentialWrite<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a credential and its versions (only at `expected_version`, when given).
    fn delete_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        expected_version: Option<i64>,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A credential's versions, newest first, without their sealed values.
    fn list_versions(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> impl Future<Output = Result<Vec<VersionInfo>, StoreError>> + Send;

    /// One version, with its sealed values.
    fn get_version(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        number: i64,
    ) -> impl Future<Output = Result<SecretVersion, StoreError>> + Send;
}

/// Access-key storage.
///
/// # Errors
/// - `insert_access_key` MUST fail with [`StoreError::Conflict`] if the id or hash exists,
///   and with [`StoreError::NotFound`] if its organization does not exist.
/// - `revoke_access_key` MUST fail with [`StoreError::NotFound`] when the id does not exist
///   in `organization`, and MUST keep the first revocation time if called twice.
/// - `insert_access_key` and `revoke_access_key` MUST write `audit` in the same
///   transaction as the key.
/// - Every read of a [`StoredAccessKey`] MUST return the binding stored with it (`None`
///   when there is none), unchanged.
/// - `unbound_access_keys` MUST return only keys without a binding, of every organization,
///   in id order, strictly after `after`, at most `limit`.
/// - `bind_access_key` MUST write the binding only if the key has none yet, and return
///   whether it wrote.
pub trait AccessKeyStore: Send + Sync + 'static {
    /// Stores a new key under its `organization_id`.
    fn insert_access_key(
        &self,
        key: &StoredAccessKey,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Finds the key whose token hashes to `hash`, in any organization.
    fn find_access_key(
        &self,
        hash: &TokenHash,
    ) -> impl Future<Output = Result<Option<StoredAccessKey>, StoreError>> + Send;

    /// Lists an organization's keys, revoked ones included.
    fn list_access_keys(
        &self,
        organization: OrganizationId,
        query: &KeyListQuery,
    ) -> impl Future<Output = Result<Vec<AccessKey>, StoreError>> + Send;

    /// Marks a key revoked and returns it.
    fn revoke_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<AccessKey, StoreError>> + Send;

    /// Records a successful authentication.
    fn touch_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Keys stored before bindings existed (for the vault to bind once, when it opens).
    fn unbound_access_keys(
        &self,
        after: Option<AccessKeyId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredAccessKey>, StoreError>> + Send;

    /// Stores a key's binding, if it has none.
    fn bind_access_key(
        &self,
        id: AccessKeyId,
        binding: &KeyBinding,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Organization storage.
pub trait OrganizationStore: Send + Sync + 'static {
    /// Stores a new organization.
    fn insert_organization(
        &self,
        organization: &Organization,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// How many organizations exist (zero means a fresh installation).
    fn count_organizations(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Whether the organization exists (a token of an identity provider names one; it
    /// must be a real one). One indexed lookup: it runs for every such token the vault has
    /// not seen the organization of recently.
    fn organization_exists(
        &self,
        id: OrganizationId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The organizations named `name` exactly (names are not unique in the store; the
    /// operator's bootstrap refuses to make a second one of a name).
    fn organizations_named(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<OrganizationId>, StoreError>> + Send;
}

/// Installation-wide sealed values (the key-check value, the access-key hash key) and the
/// keyring.
///
/// # Errors
/// `insert_meta_if_absent` MUST be atomic: when several replicas race, exactly one value
/// wins and every caller then reads that one. `save_keyring` MUST be one atomic
/// compare-and-set on the generation: of callers racing from the same generation, exactly
/// one writes.
pub trait MetaStore: Send + Sync + 'static {
    /// Reads a value.
    fn get_meta(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<SealedBlob>, StoreError>> + Send;

    /// Writes a value unless one exists; returns whether this call wrote it.
    fn insert_meta_if_absent(
        &self,
        name: &str,
        value: &SealedBlob,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The stored keyring, when a key manager holds one.
    fn get_keyring(&self)
    -> impl Future<Output = Result<Option<StoredKeyring>, StoreError>> + Send;

    /// Writes `keyring` if the stored one is at generation `expected` (`None`: if there is
    /// none yet); returns whether this call wrote it.
    fn save_keyring(
        &self,
        keyring: &StoredKeyring,
        expected: Option<i64>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Which log a retention batch prunes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// The request log ([`RequestLogEntry`]).
    Request,
    /// The audit log ([`AuditEvent`]).
    Audit,
}

impl LogKind {
    /// Both logs.
    pub const ALL: [Self; 2] = [Self::Request, Self::Audit];

    /// The name logs and metrics use.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request_log",
            Self::Audit => "audit_log",
        }
    }
}

/// The request and audit logs. Nothing here changes an entry; only retention
/// ([`LogStore::prune_log`]) deletes old ones.
///
/// # Errors
/// - `append_log` MUST NOT require the credential or access key an entry names to exist:
///   entries outlive what they describe (a deleted credential's log stays readable).
/// - Lists MUST return only `organization`'s entries, newest (largest id) first, only ids
///   smaller than `before` when it is given, at most `limit`.
/// - `append_log` MUST fail with [`StoreError::Conflict`] if the id exists in that log.
/// - `prune_log` MUST delete only entries of `log` whose `at` is before `cutoff` and whose
///   id is below [`id_floor(cutoff)`](crate::logs::id_floor), of every organization and of
///   none (audit events of keyless failures), and of the audit log only events without a
///   chain link (a chained event leaves only by its chain's
///   [`cut_chain`](crate::audit_chain::AuditChainStore::cut_chain), which keeps the chain
///   verifiable), smallest ids first, at most `limit`, and
///   return how many it deleted. It MUST return fewer than `limit` only when no other entry
///   qualifies, so a caller stops at the first short batch. Ids are UUID v7, so the id
///   bound lets the store find the entries by the primary key's index alone and keeps each
///   batch one short statement (an entry whose id is younger than its `at`, by clock skew,
///   waits until its id is old enough).
pub trait LogStore: Send + Sync + 'static {
    /// Appends an entry to its log: a request-log entry or an audit event.
    fn append_log(&self, record: LogRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Lists request-log entries.
    fn list_request_logs(
        &self,
        organization: OrganizationId,
        query: &RequestLogQuery,
    ) -> impl Future<Output = Result<Vec<RequestLogEntry>, StoreError>> + Send;

    /// Lists audit events.
    fn list_audit_events(
        &self,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, StoreError>> + Send;

    /// The request log of one credential since `since`, counted per hour (each bucket's
    /// `hour` on the hour) and status class, in no particular order.
    fn credential_usage(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        since: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<crate::logs::UsageBucket>, StoreError>> + Send;

    /// Deletes one batch of `log`'s entries older than `cutoff`; returns how many.
    fn prune_log(
        &self,
        log: LogKind,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The sealed rows of every kind, for a key rotation: how many each key still protects,
/// and re-wrapping them one by one while everything else keeps working.
///
/// # Errors
/// - `key_usage` MUST count every sealed row (meta values, credentials, versions, the
///   tokens of connections) by the key id stored beside it, one entry per key id that
///   protects at least one row. A connection without tokens is no sealed row.
/// - `organization_key_usage` MUST count the same way only `organization`'s credentials,
///   versions and connections (meta values belong to no organization: always 0).
/// - `sealed_batch` MUST return only rows of `kind` whose key id is not `not_under`, in a
///   stable order (meta by name, credentials by id, versions by credential id then
///   number, connections by credential id), starting strictly after `after`, at most
///   `limit`; a credential's reference MUST carry the credential's version as stored, a
///   connection's its generation.
/// - `replace_sealed` MUST write `new` (and its key id) only if the row still holds exactly
///   `row.sealed` (and, for a credential, is still at the reference's version; for a
///   connection, at its generation), atomically, and return whether it wrote: a row
///   changed meanwhile was sealed afresh under the current key and must not be
///   overwritten.
pub trait SealedStore: Send + Sync + 'static {
    /// Rows per key id.
    fn key_usage(&self) -> impl Future<Output = Result<Vec<KeyUsage>, StoreError>> + Send;

    /// Rows per key id, of one organization only.
    fn organization_key_usage(
        &self,
        organization: OrganizationId,
    ) -> impl Future<Output = Result<Vec<KeyUsage>, StoreError>> + Send;

    /// One batch of rows not sealed under `not_under`.
    fn sealed_batch(
        &self,
        kind: SealedKind,
        not_under: &KeyId,
        after: Option<&SealedRef>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<SealedRow>, StoreError>> + Send;

    /// Replaces one row's sealed value if it is unchanged.
    fn replace_sealed(
        &self,
        row: &SealedRow,
        new: &crate::cipher::SealedBlob,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What spending one request of a grant's budget came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetSpend {
    /// Counted in every capped window.
    Spent,
    /// This window is at its cap: nothing was counted.
    Exhausted(Window),
}

/// Grant storage: who may use which credential (see [`crate::grants`]).
///
/// # Errors
/// - `insert_grant` MUST fail with [`StoreError::Conflict`] if the id exists, and with
///   [`StoreError::NotFound`] if its credential does not exist in its organization; it
///   MUST write `audit` in the same transaction.
/// - Lists MUST return only `organization`'s grants, in id order.
/// - `delete_grant` MUST fail with [`StoreError::NotFound`] when the grant does not exist
///   for that credential in `organization`, and otherwise delete it with its budget
///   counters and write `audit`, in one transaction; it returns the grant deleted.
/// - Deleting a credential MUST delete its grants and their counters with it; revoking
///   an access key ([`AccessKeyStore::revoke_access_key`]) MUST delete, in its
///   transaction, the grants it made (`granted_by`) and the grants to it, with their
///   counters.
/// - `spend_budget` MUST count one request in the current window of every cap of `caps`
///   (windows as [`Window::start`] places `now`), or in none when any is at its cap, and
///   say which: atomically, so that concurrent callers, on every replica, never count
///   more than a cap. It MUST fail with [`StoreError::NotFound`] when the grant does not
///   exist in `organization`.
pub trait GrantStore: Send + Sync + 'static {
    /// Stores a new grant.
    fn insert_grant(
        &self,
        grant: &Grant,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// One credential's grants. A store may answer from a cache that another replica's
    /// change reaches a moment later.
    fn list_grants(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> impl Future<Output = Result<Vec<Grant>, StoreError>> + Send;

    /// One credential's grants as committed now, whatever a cache holds: read before a use
    /// is refused, so that a grant just made through another replica is never refused.
    fn list_grants_fresh(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> impl Future<Output = Result<Vec<Grant>, StoreError>> + Send {
        self.list_grants(organization, credential)
    }

    /// The grants to any of `grantees`, of every credential.
    fn grants_of(
        &self,
        organization: OrganizationId,
        grantees: &[Grantee],
    ) -> impl Future<Output = Result<Vec<Grant>, StoreError>> + Send;

    /// Deletes one grant of a credential and returns it.
    fn delete_grant(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        id: GrantId,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Grant, StoreError>> + Send;

    /// Counts one request against a grant's caps, unless one is reached.
    fn spend_budget(
        &self,
        organization: OrganizationId,
        grant: GrantId,
        caps: &[(Window, u64)],
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<BudgetSpend, StoreError>> + Send;
}

/// OAuth2 connections and the connect flows in progress (see [`crate::connections`]).
///
/// # Errors
/// - `get_connection` and `connections_of` MUST return only `organization`'s rows.
/// - `save_connection` MUST write the whole row only if the stored row matches `expected`
///   (no row at all when its generation is `None`; the row at that generation otherwise,
///   holding a lease by `expected.holder` when one is given), atomically, with `audit` in
///   the same transaction, and return whether it wrote. It MUST fail with
///   [`StoreError::NotFound`] when the credential is not the organization's.
/// - `take_lease` MUST set `lease` only on the row at `generation`, connected, whose
///   lease is absent or ended before `now`, atomically, and return whether it did: of
///   replicas racing for one generation, exactly one wins.
/// - `take_connect_state` MUST return a state at most once: the first caller gets it and
///   it is gone for every later one, on every replica.
/// - `insert_connect_state` MAY delete states that expired before `now`.
/// - Deleting a credential MUST delete its connection and its connect states with it;
///   revoking an access key ([`AccessKeyStore::revoke_access_key`]) MUST delete, in its
///   transaction, the connect states it started.
pub trait ConnectionStore: Send + Sync + 'static {
    /// A credential's connection, if it was ever connected.
    fn get_connection(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
    ) -> impl Future<Output = Result<Option<Connection>, StoreError>> + Send;

    /// The connections of some credentials (a page of a listing).
    fn connections_of(
        &self,
        organization: OrganizationId,
        credentials: &[CredentialId],
    ) -> impl Future<Output = Result<Vec<Connection>, StoreError>> + Send;

    /// Writes a connection if the stored one is as `expected`.
    fn save_connection(
        &self,
        connection: &Connection,
        expected: Expected,
        audit: Option<&AuditEvent>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes the refresh lease of one generation, if nobody holds it.
    fn take_lease(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        generation: i64,
        lease: Lease,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Stores a connect flow in progress.
    fn insert_connect_state(
        &self,
        state: &ConnectState,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes and returns the connect state stored under `hash`.
    fn take_connect_state(
        &self,
        hash: &StateHash,
    ) -> impl Future<Output = Result<Option<ConnectState>, StoreError>> + Send;
}

/// Everything a vault needs from storage.
pub trait Store:
    CredentialStore
    + AccessKeyStore
    + OrganizationStore
    + MetaStore
    + LogStore
    + SealedStore
    + JobStore
    + GrantStore
    + ConnectionStore
    + AuditChainStore
    + crate::webhooks::WebhookStore
{
}

impl<T> Store for T where
    T: CredentialStore
        + AccessKeyStore
        + OrganizationStore
        + MetaStore
        + LogStore
        + SealedStore
        + JobStore
        + GrantStore
        + ConnectionStore
        + AuditChainStore
        + crate::webhooks::WebhookStore
{
}
