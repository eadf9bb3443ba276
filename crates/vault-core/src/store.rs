//! Storage ports. Every call that touches an organization's data takes the organization
//! id and MUST filter by it, so an id from another organization behaves exactly like a
//! missing one. The one exception, [`AccessKeyStore::find_access_key`], is how a request
//! learns its organization in the first place.

use std::future::Future;

use time::OffsetDateTime;

use crate::access_key::{AccessKey, Organization, StoredAccessKey, TokenHash};
use crate::cipher::SealedBlob;
use crate::credential::{Credential, CredentialType, StoredCredential};
use crate::ids::{AccessKeyId, CredentialId, OrganizationId};
use crate::logs::{AuditEvent, AuditQuery, RequestLogEntry, RequestLogQuery};

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

/// Credential storage.
///
/// # Errors
/// - `insert_credential` MUST fail with [`StoreError::Conflict`] if the id exists (in any
///   organization), and with [`StoreError::NotFound`] if its organization does not exist.
/// - `get_credential`, `update_credential` and `delete_credential` MUST fail with
///   [`StoreError::NotFound`] when the id does not exist *in `organization`*.
/// - `update_credential` MUST write only if the stored version equals `expected_version`,
///   atomically, and fail with [`StoreError::Conflict`] otherwise: this is what keeps
///   concurrent updates from losing writes.
/// - Unreachable backends MUST surface as [`StoreError::Unavailable`].
pub trait CredentialStore: Send + Sync + 'static {
    /// Stores a new credential under its `organization_id`.
    fn insert_credential(
        &self,
        credential: &StoredCredential,
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
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a credential.
    fn delete_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Access-key storage.
///
/// # Errors
/// - `insert_access_key` MUST fail with [`StoreError::Conflict`] if the id or hash exists,
///   and with [`StoreError::NotFound`] if its organization does not exist.
/// - `revoke_access_key` MUST fail with [`StoreError::NotFound`] when the id does not exist
///   in `organization`, and MUST keep the first revocation time if called twice.
pub trait AccessKeyStore: Send + Sync + 'static {
    /// Stores a new key under its `organization_id`.
    fn insert_access_key(
        &self,
        key: &StoredAccessKey,
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
    ) -> impl Future<Output = Result<AccessKey, StoreError>> + Send;

    /// Records a successful authentication.
    fn touch_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
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
}

/// Installation-wide sealed values (the key-check value, the access-key hash key).
///
/// # Errors
/// `insert_meta_if_absent` MUST be atomic: when several replicas race, exactly one value
/// wins and every caller then reads that one.
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
}

/// The request and audit logs. Append-only: nothing here updates or deletes an entry.
///
/// # Errors
/// - Inserts MUST NOT require the credential or access key an entry names to exist:
///   entries outlive what they describe (a deleted credential's log stays readable).
/// - Lists MUST return only `organization`'s entries, newest (largest id) first, only ids
///   smaller than `before` when it is given, at most `limit`.
/// - `insert_*` MUST fail with [`StoreError::Conflict`] if the id exists.
pub trait LogStore: Send + Sync + 'static {
    /// Appends a request-log entry.
    fn insert_request_log(
        &self,
        entry: &RequestLogEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Lists request-log entries.
    fn list_request_logs(
        &self,
        organization: OrganizationId,
        query: &RequestLogQuery,
    ) -> impl Future<Output = Result<Vec<RequestLogEntry>, StoreError>> + Send;

    /// Appends an audit event.
    fn insert_audit_event(
        &self,
        event: &AuditEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Lists audit events.
    fn list_audit_events(
        &self,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> impl Future<Output = Result<Vec<AuditEvent>, StoreError>> + Send;
}

/// Everything a vault needs from storage.
pub trait Store:
    CredentialStore + AccessKeyStore + OrganizationStore + MetaStore + LogStore
{
}

impl<T: CredentialStore + AccessKeyStore + OrganizationStore + MetaStore + LogStore> Store for T {}
