//! The store conformance suite: what every adapter of the storage ports must do.
//!
//! Each check is a plain `pub async fn` taking the store under test; it panics with a
//! message saying what went wrong. Every check creates its own organizations (with fresh
//! random ids), meta names and key ids, so checks never depend on each other or on running
//! in any order; the checks of the installation-wide key-rotation reads (`key_usage`,
//! `sealed_batch`) only assert about rows under key ids they made up themselves. The one
//! assumption: [`organizations_insert_and_count`] expects no other writer to insert
//! organizations into the same store while it runs, and the pruning checks no other
//! writer of old log entries (the macro gives every check a fresh store, so this holds
//! there).
//!
//! Run them all with [`store_conformance!`](crate::store_conformance), which expands to
//! one `#[tokio::test]` per check. The list of checks lives in that macro only.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

mod access_keys;
mod retention;
pub use access_keys::{
    access_key_bindings_round_trip_and_are_written_once,
    organization_key_usage_counts_only_that_organization,
};
pub use retention::{
    exclusive_runs_one_batch_of_a_job_at_a_time, log_id_at,
    prune_log_deletes_only_entries_older_than_the_cutoff,
    prune_log_honours_the_batch_size_oldest_first,
};

use futures::future::join_all;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vault_core::access_key::{
    AccessKey, AccessKeyName, KeyBinding, Organization, StoredAccessKey, TokenHash,
};
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::clock::truncate_to_micros;
use vault_core::credential::{
    Credential, CredentialKind, CredentialName, CredentialType, Description, JwtAlgorithm,
    JwtClaims, JwtConfig, OAuth2ClientAuth, OAuth2Config, Placement, PlacementLocation,
    StoredCredential,
};
use vault_core::egress::AllowedHosts;
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{
    AuditAction, AuditEvent, AuditOutcome, AuditQuery, RequestLogEntry, RequestLogQuery,
};
use vault_core::store::{
    AccessKeyStore, CredentialStore, CredentialWrite, JobName, JobStore, KeyListQuery, ListQuery,
    LogKind, LogStore, MetaStore, OrganizationStore, SealedStore, StoreError,
};
use vault_core::versions::{
    KeyUsage, SealedKind, SealedRef, SealedRow, SecretVersion, VersionInfo,
};
use vault_core::{Scope, Store};

// ---------------------------------------------------------------------------------------
// A store with something to keep alive
// ---------------------------------------------------------------------------------------

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
}

impl<S: LogStore, G: Send + Sync + 'static> LogStore for Guarded<S, G> {
    async fn insert_request_log(&self, entry: &RequestLogEntry) -> Result<(), StoreError> {
        self.store.insert_request_log(entry).await
    }

    async fn list_request_logs(
        &self,
        organization: OrganizationId,
        query: &RequestLogQuery,
    ) -> Result<Vec<RequestLogEntry>, StoreError> {
        self.store.list_request_logs(organization, query).await
    }

    async fn insert_audit_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.store.insert_audit_event(event).await
    }

    async fn list_audit_events(
        &self,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.store.list_audit_events(organization, query).await
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

// ---------------------------------------------------------------------------------------
// Test values
// ---------------------------------------------------------------------------------------

/// "Now", truncated to whole microseconds as every store keeps time, with a sub-millisecond
/// part that is never zero, so a store that rounds to milliseconds fails the round trip.
#[must_use]
pub fn sample_time() -> OffsetDateTime {
    let now = truncate_to_micros(OffsetDateTime::now_utc());
    let micros = now.microsecond() / 1_000 * 1_000 + 789;
    truncate_to_micros(now.replace_microsecond(micros).unwrap_or(now))
}

/// A new organization value (not yet stored).
#[must_use]
pub fn sample_organization() -> Organization {
    let id = OrganizationId::new();
    Organization {
        id,
        name: format!("conformance org {id}"),
        created_at: sample_time(),
    }
}

/// Inserts a fresh organization and returns its id.
///
/// # Panics
/// When the store refuses the insert.
pub async fn new_organization<S: Store>(store: &S) -> OrganizationId {
    let organization = sample_organization();
    must(
        store.insert_organization(&organization).await,
        "insert_organization",
    );
    organization.id
}

/// A sealed blob: arbitrary bytes (stores never open blobs), every byte value included so
/// a store that treats the column as text fails, plus 16 random bytes so no two are equal.
#[must_use]
pub fn sample_sealed() -> SealedBlob {
    let mut bytes: Vec<u8> = (0..=255u8).collect();
    bytes.extend_from_slice(Uuid::new_v4().as_bytes());
    SealedBlob {
        key_id: KeyId::new("test-key"),
        bytes,
    }
}

/// The public part of a credential of type `kind`, with every optional field set.
#[must_use]
pub fn sample_kind(kind: CredentialType) -> CredentialKind {
    match kind {
        CredentialType::ApiKey => CredentialKind::ApiKey {
            placement: Placement {
                location: PlacementLocation::Query,
                name: "api_key".to_owned(),
                prefix: Some("Token ".to_owned()),
            },
        },
        CredentialType::BearerToken => CredentialKind::BearerToken {},
        CredentialType::BasicAuth => CredentialKind::BasicAuth {
            username: "service-üser".to_owned(),
        },
        CredentialType::OAuth2 => CredentialKind::OAuth2(OAuth2Config {
            client_id: "client-123".to_owned(),
            token_url: "https://auth.example.com/oauth/token".to_owned(),
            scopes: vec!["read:things".to_owned(), "write:things".to_owned()],
            client_auth: OAuth2ClientAuth::Body,
            audience: Some("https://api.example.com".to_owned()),
        }),
        CredentialType::Jwt => {
            let mut custom = serde_json::Map::new();
            custom.insert("tenant".to_owned(), serde_json::json!("acme"));
            custom.insert("level".to_owned(), serde_json::json!(3));
            custom.insert(
                "nested".to_owned(),
                serde_json::json!({"a": [1, 2], "b": null}),
            );
            CredentialKind::Jwt(JwtConfig {
                algorithm: JwtAlgorithm::ES256,
                claims: JwtClaims {
                    iss: Some("vault".to_owned()),
                    sub: None,
                    aud: Some("upstream".to_owned()),
                    custom,
                },
                ttl_seconds: 600,
                placement: Placement::jwt_default(),
            })
        }
        CredentialType::Custom => CredentialKind::Custom {
            header_names: vec!["X-One".to_owned(), "X-Two".to_owned()],
        },
    }
}

/// A non-empty `allowedHosts`: a bare host and a plain-http origin with a port.
///
/// # Panics
/// Never: the entries are valid.
#[must_use]
pub fn sample_allowed_hosts() -> AllowedHosts {
    allowed_hosts(&["api.example.com", "http://127.0.0.1:9000"])
}

/// A credential of type `kind` in `organization` at version 1, with every optional field
/// set (description with a newline and non-ASCII text, expiry in 30 days, hints, allowed
/// hosts), distinct creation and update times, and a fresh id.
///
/// # Panics
/// Never: the fixed name and description are valid.
#[must_use]
pub fn sample_credential(organization: OrganizationId, kind: CredentialType) -> StoredCredential {
    let now = sample_time();
    StoredCredential {
        credential: Credential {
            id: CredentialId::new(),
            organization_id: organization,
            name: name(&format!("{kind} credential ✓")),
            description: Some(description("line one\nline two, ünïcode ✓")),
            kind: sample_kind(kind),
            allowed_hosts: sample_allowed_hosts(),
            secret_hints: BTreeMap::from([("value".to_owned(), "…wxyz".to_owned())]),
            expires_at: Some(now + Duration::days(30)),
            created_at: now - Duration::hours(1),
            updated_at: now,
            version: 1,
        },
        sealed: sample_sealed(),
        restore_floor: 0,
        secret_version: 1,
    }
}

/// A random access-key hash.
#[must_use]
pub fn random_hash() -> TokenHash {
    let mut hash = [0u8; 32];
    hash[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    hash[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    TokenHash(hash)
}

/// An active access key of `organization` with a random hash and an expiry.
///
/// # Panics
/// Never: the fixed name is valid.
#[must_use]
pub fn sample_access_key(organization: OrganizationId) -> StoredAccessKey {
    let now = sample_time();
    StoredAccessKey {
        key: AccessKey {
            id: AccessKeyId::new(),
            organization_id: organization,
            name: AccessKeyName::parse("ci deploy key ✓").expect("a valid access-key name"),
            scopes: BTreeSet::from([Scope::CredentialsRead, Scope::AccessKeysManage]),
            created_by: None,
            created_at: now,
            expires_at: Some(now + Duration::days(90)),
            last_used_at: None,
            revoked_at: None,
        },
        hash: random_hash(),
        binding: Some(KeyBinding(random_hash().0)),
    }
}

/// A request-log entry of `organization` about `credential` (which need not exist), with
/// a fresh UUID v7 id and every optional field set.
#[must_use]
pub fn sample_request_log(
    organization: OrganizationId,
    credential: CredentialId,
) -> RequestLogEntry {
    RequestLogEntry {
        id: Uuid::now_v7(),
        organization_id: organization,
        credential_id: credential,
        credential_name: "stripe live key ✓".to_owned(),
        method: "POST".to_owned(),
        host: "api.example.com:8443".to_owned(),
        path: "/v1/charges/ünïcode".to_owned(),
        status: Some(201),
        error: None,
        latency_micros: 12_345,
        at: sample_time(),
        access_key_id: Some(AccessKeyId::new()),
        actor_subject: Some("auth0|sübject-42".to_owned()),
    }
}

/// An audit event of `organization` with a fresh UUID v7 id and every optional field set
/// (a failed credential use by an access key, with a reason), standing for 7 occurrences.
#[must_use]
pub fn sample_audit_event(organization: Option<OrganizationId>) -> AuditEvent {
    AuditEvent {
        id: Uuid::now_v7(),
        organization_id: organization,
        actor: Some(AccessKeyId::new()),
        actor_subject: Some("auth0|sübject-42".to_owned()),
        action: AuditAction::CredentialUse,
        target: Some(*CredentialId::new().as_uuid()),
        outcome: AuditOutcome::Failure,
        reason: Some("credential-expired".to_owned()),
        at: sample_time(),
        // Not 1: an aggregated event (repeated failures) must keep its count.
        count: 7,
    }
}

/// The successful audit event of `action` on `target` in `organization` (what a vault
/// writes with a change), with a fresh UUID v7 id and an actor.
#[must_use]
pub fn sample_change_audit(
    organization: OrganizationId,
    action: AuditAction,
    target: Uuid,
) -> AuditEvent {
    AuditEvent {
        id: Uuid::now_v7(),
        organization_id: Some(organization),
        actor: Some(AccessKeyId::new()),
        actor_subject: None,
        action,
        target: Some(target),
        outcome: AuditOutcome::Success,
        reason: None,
        at: sample_time(),
        count: 1,
    }
}

/// Version `number` of `credential`, with every optional field set (a creator, the
/// version it restored) and a fresh sealed blob.
#[must_use]
pub fn sample_version(credential: &StoredCredential, number: i64) -> SecretVersion {
    let c = &credential.credential;
    SecretVersion {
        credential_id: c.id,
        organization_id: c.organization_id,
        number,
        sealed: sample_sealed(),
        secret_hints: BTreeMap::from([("value".to_owned(), format!("…{number:04}"))]),
        created_at: sample_time() - Duration::seconds(number),
        created_by: Some(AccessKeyId::new()),
        restored_from: Some(1),
    }
}

fn allowed_hosts(entries: &[&str]) -> AllowedHosts {
    let entries: Vec<String> = entries.iter().map(|&e| e.to_owned()).collect();
    AllowedHosts::parse(&entries).expect("valid allowedHosts entries")
}

fn name(raw: &str) -> CredentialName {
    CredentialName::parse(raw).expect("a valid credential name")
}

fn description(raw: &str) -> Description {
    Description::parse(raw).expect("a valid description")
}

fn meta_name() -> String {
    format!("conformance-{}", Uuid::new_v4())
}

/// A key id no other check uses: `key_usage` and `sealed_batch` see the whole
/// installation, so checks of them only look at rows under key ids of their own.
fn unique_key_id(label: &str) -> KeyId {
    KeyId::new(format!("conformance-{label}-{}", Uuid::new_v4()))
}

/// A fresh sealed blob under `key_id`.
fn sealed_under(key_id: &KeyId) -> SealedBlob {
    SealedBlob {
        key_id: key_id.clone(),
        ..sample_sealed()
    }
}

/// Stores `credential` the way a create does: its audit event, no versions.
async fn insert<S: Store>(store: &S, credential: &StoredCredential) -> Result<(), StoreError> {
    let c = &credential.credential;
    let audit = sample_change_audit(
        c.organization_id,
        AuditAction::CredentialCreate,
        *c.id.as_uuid(),
    );
    let write = CredentialWrite {
        versions: &[],
        keep_versions: 0,
        audit: &audit,
    };
    store.insert_credential(credential, &write).await
}

/// Updates `credential` the way a change of public fields does: its audit event, no
/// versions.
async fn update<S: Store>(
    store: &S,
    organization: OrganizationId,
    credential: &StoredCredential,
    expected_version: i64,
) -> Result<(), StoreError> {
    let audit = sample_change_audit(
        organization,
        AuditAction::CredentialUpdate,
        *credential.credential.id.as_uuid(),
    );
    let write = CredentialWrite {
        versions: &[],
        keep_versions: 0,
        audit: &audit,
    };
    store
        .update_credential(organization, credential, expected_version, &write)
        .await
}

/// Deletes a credential at whatever version it is, with its audit event.
async fn delete<S: Store>(
    store: &S,
    organization: OrganizationId,
    id: CredentialId,
) -> Result<(), StoreError> {
    let audit = sample_change_audit(organization, AuditAction::CredentialDelete, *id.as_uuid());
    store
        .delete_credential(organization, id, None, &audit)
        .await
}

/// Stores an access key with its audit event.
async fn insert_key<S: Store>(store: &S, key: &StoredAccessKey) -> Result<(), StoreError> {
    let audit = sample_change_audit(
        key.key.organization_id,
        AuditAction::AccessKeyCreate,
        *key.key.id.as_uuid(),
    );
    store.insert_access_key(key, &audit).await
}

/// Revokes an access key with its audit event.
async fn revoke_key<S: Store>(
    store: &S,
    organization: OrganizationId,
    id: AccessKeyId,
    at: OffsetDateTime,
) -> Result<AccessKey, StoreError> {
    let audit = sample_change_audit(organization, AuditAction::AccessKeyRevoke, *id.as_uuid());
    store.revoke_access_key(organization, id, at, &audit).await
}

/// The audit events about `target`, newest first.
async fn events_about<S: Store>(
    store: &S,
    organization: OrganizationId,
    target: Uuid,
) -> Vec<AuditEvent> {
    let query = AuditQuery {
        target: Some(target),
        limit: 1000,
        ..AuditQuery::default()
    };
    must(
        store.list_audit_events(organization, &query).await,
        "list_audit_events",
    )
}

/// A credential's version numbers, as listed (newest first).
async fn version_numbers<S: Store>(
    store: &S,
    organization: OrganizationId,
    id: CredentialId,
) -> Vec<i64> {
    must(store.list_versions(organization, id).await, "list_versions")
        .iter()
        .map(|v| v.number)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Assertion helpers
// ---------------------------------------------------------------------------------------

#[track_caller]
fn must<T>(result: Result<T, StoreError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{what} failed: {error} ({error:?})"),
    }
}

#[track_caller]
fn assert_not_found<T: Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "{what}: expected StoreError::NotFound, got {result:?}"
    );
}

#[track_caller]
fn assert_conflict<T: Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "{what}: expected StoreError::Conflict, got {result:?}"
    );
}

fn ids(items: &[Credential]) -> Vec<CredentialId> {
    items.iter().map(|c| c.id).collect()
}

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut out = items.to_vec();
    out.sort();
    out
}

fn query(limit: usize) -> ListQuery {
    ListQuery {
        limit,
        ..ListQuery::default()
    }
}

/// Returns `Pending` once, so that futures polled together by `join_all` interleave at this
/// point even when the store under test never suspends (the memory store).
fn yield_now() -> impl Future<Output = ()> {
    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                Poll::Ready(())
            } else {
                self.0 = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
    YieldNow(false)
}

async fn insert_all<S: Store>(store: &S, credentials: &[StoredCredential]) {
    for credential in credentials {
        must(insert(store, credential).await, "insert_credential");
    }
}

/// Reads every page of a list with page size `limit`, checking each page on the way.
async fn list_all_pages<S: Store>(
    store: &S,
    organization: OrganizationId,
    base: &ListQuery,
    limit: usize,
) -> Vec<Credential> {
    let mut all: Vec<Credential> = Vec::new();
    let mut after = None;
    for _ in 0..1000 {
        let page_query = ListQuery {
            after,
            limit,
            ..base.clone()
        };
        let page = must(
            store.list_credentials(organization, &page_query).await,
            "list_credentials",
        );
        assert!(
            page.len() <= limit,
            "list_credentials returned {} items for limit {limit}",
            page.len()
        );
        let page_ids = ids(&page);
        assert_eq!(page_ids, sorted(&page_ids), "a page is not in id order");
        if let (Some(cursor), Some(first)) = (after, page.first()) {
            assert!(
                first.id > cursor,
                "a page starts at {:?}, not after the cursor {cursor:?}",
                first.id
            );
        }
        let done = page.len() < limit;
        after = page.last().map(|c| c.id);
        all.extend(page);
        if done || after.is_none() {
            return all;
        }
    }
    panic!("list_credentials kept returning full pages after 1000 pages");
}

// ---------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------

/// Every field survives insert then get (sealed bytes, key id, timestamps to the
/// microsecond, JSON public fields, hints, allowed hosts, absent optional fields and empty
/// lists) and list.
pub async fn credential_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let mut inserted = Vec::new();
    for (i, kind) in CredentialType::ALL.into_iter().enumerate() {
        let mut credential = sample_credential(org, kind);
        if i % 2 == 1 {
            credential.credential.description = None;
            credential.credential.expires_at = None;
            credential.credential.secret_hints.clear();
            credential.credential.allowed_hosts = AllowedHosts::default();
        }
        must(insert(store, &credential).await, "insert_credential");
        let got = must(
            store.get_credential(org, credential.credential.id).await,
            "get_credential",
        );
        assert_eq!(
            got.sealed.bytes, credential.sealed.bytes,
            "{kind}: sealed bytes changed"
        );
        assert_eq!(
            got.sealed.key_id, credential.sealed.key_id,
            "{kind}: key id changed"
        );
        let (g, c) = (&got.credential, &credential.credential);
        assert_eq!(g.created_at, c.created_at, "{kind}: created_at changed");
        assert_eq!(g.updated_at, c.updated_at, "{kind}: updated_at changed");
        assert_eq!(g.expires_at, c.expires_at, "{kind}: expires_at changed");
        assert_eq!(g.kind, c.kind, "{kind}: public fields changed");
        assert_eq!(
            g.allowed_hosts, c.allowed_hosts,
            "{kind}: allowed hosts changed"
        );
        assert_eq!(got, credential, "{kind}: the stored credential changed");
        inserted.push(credential.credential);
    }
    let listed = must(
        store.list_credentials(org, &query(100)).await,
        "list_credentials",
    );
    inserted.sort_by_key(|c| c.id);
    assert_eq!(
        listed, inserted,
        "list_credentials does not return the inserted credentials, field for field, in id order"
    );
}

/// Getting an id that was never stored is `NotFound`.
pub async fn get_missing_credential_is_not_found<S: Store>(store: &S) {
    let org = new_organization(store).await;
    assert_not_found(
        store.get_credential(org, CredentialId::new()).await,
        "get_credential of a missing id",
    );
}

/// Inserting an id that exists (in the same or another organization) is a `Conflict`,
/// and leaves the first record as it was.
pub async fn duplicate_credential_id_conflicts<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let original = sample_credential(org, CredentialType::ApiKey);
    must(insert(store, &original).await, "insert_credential");

    let mut again = sample_credential(org, CredentialType::BearerToken);
    again.credential.id = original.credential.id;
    again.credential.name = name("an impostor");
    assert_conflict(
        insert(store, &again).await,
        "insert_credential of an existing id",
    );
    again.credential.organization_id = other;
    assert_conflict(
        insert(store, &again).await,
        "insert_credential of an id that exists in another organization",
    );

    let got = must(
        store.get_credential(org, original.credential.id).await,
        "get_credential",
    );
    assert_eq!(
        got, original,
        "a refused duplicate insert changed the record"
    );
    assert_not_found(
        store.get_credential(other, original.credential.id).await,
        "get_credential in the organization of a refused duplicate",
    );
}

/// Cursor pagination walks every credential of the organization exactly once, in id
/// order, and never shows another organization's.
pub async fn list_paginates_by_cursor<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let mut mine = Vec::new();
    for i in 0..7 {
        let kind = CredentialType::ALL[i % CredentialType::ALL.len()];
        let credential = sample_credential(org, kind);
        let noise = sample_credential(other, kind);
        insert_all(store, &[credential.clone(), noise]).await;
        mine.push(credential.credential.id);
    }
    let expected = sorted(&mine);

    for limit in [1, 3, 7, 100] {
        let all = list_all_pages(store, org, &ListQuery::default(), limit).await;
        let got = ids(&all);
        assert_eq!(
            got, expected,
            "paging with limit {limit} returned duplicates, gaps, foreign or unordered ids"
        );
    }

    let first = must(store.list_credentials(org, &query(3)).await, "list");
    assert_eq!(ids(&first), expected[..3], "the first page of 3");
    let second = must(
        store
            .list_credentials(
                org,
                &ListQuery {
                    after: Some(expected[2]),
                    limit: 3,
                    ..ListQuery::default()
                },
            )
            .await,
        "list",
    );
    assert_eq!(ids(&second), expected[3..6], "the page after the third id");

    let after_last = ListQuery {
        after: Some(expected[6]),
        limit: 10,
        ..ListQuery::default()
    };
    assert!(
        must(store.list_credentials(org, &after_last).await, "list").is_empty(),
        "a page after the last id is not empty"
    );
    // A cursor need not be a stored id: everything greater than it comes back.
    let from_nil = ListQuery {
        after: Some(CredentialId::from_uuid(Uuid::nil())),
        limit: 10,
        ..ListQuery::default()
    };
    assert_eq!(
        ids(&must(store.list_credentials(org, &from_nil).await, "list")),
        expected,
        "a cursor below every id"
    );
    let from_max = ListQuery {
        after: Some(CredentialId::from_uuid(Uuid::max())),
        limit: 10,
        ..ListQuery::default()
    };
    assert!(
        must(store.list_credentials(org, &from_max).await, "list").is_empty(),
        "a cursor above every id returned items"
    );
}

/// The type filter returns exactly the credentials of that type, paginated.
pub async fn list_filters_by_type<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let mut by_type: BTreeMap<CredentialType, Vec<CredentialId>> = BTreeMap::new();
    for _ in 0..2 {
        for kind in CredentialType::ALL {
            let credential = sample_credential(org, kind);
            let noise = sample_credential(other, kind);
            insert_all(store, &[credential.clone(), noise]).await;
            by_type
                .entry(kind)
                .or_default()
                .push(credential.credential.id);
        }
    }
    for (kind, expected) in &by_type {
        let filter = ListQuery {
            credential_type: Some(*kind),
            ..ListQuery::default()
        };
        let all = list_all_pages(store, org, &filter, 100).await;
        assert_eq!(ids(&all), sorted(expected), "list filtered by type {kind}");
        assert!(
            all.iter().all(|c| c.kind.credential_type() == *kind),
            "list filtered by type {kind} returned another type"
        );
        let paged = list_all_pages(store, org, &filter, 1).await;
        assert_eq!(
            ids(&paged),
            sorted(expected),
            "list filtered by type {kind}, one per page"
        );
    }
}

/// The expiry filter includes every credential expiring at or before the instant (already
/// expired ones too) and excludes those expiring later or never.
pub async fn list_filters_by_expiry<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let boundary = sample_time() + Duration::days(1);
    let one_micro = Duration::microseconds(1);
    let expiries = [
        (
            "expired an hour ago",
            Some(sample_time() - Duration::hours(1)),
            true,
        ),
        (
            "expiring one microsecond before",
            Some(boundary - one_micro),
            true,
        ),
        ("expiring exactly at", Some(boundary), true),
        (
            "expiring one microsecond after",
            Some(boundary + one_micro),
            false,
        ),
        (
            "expiring in a year",
            Some(boundary + Duration::days(365)),
            false,
        ),
        ("never expiring", None, false),
    ];
    let mut expected = Vec::new();
    let mut labels = BTreeMap::new();
    for (label, expires_at, included) in expiries {
        let mut credential = sample_credential(org, CredentialType::BearerToken);
        credential.credential.expires_at = expires_at;
        let mut noise = sample_credential(other, CredentialType::BearerToken);
        noise.credential.expires_at = expires_at;
        insert_all(store, &[credential.clone(), noise]).await;
        labels.insert(credential.credential.id, label);
        if included {
            expected.push(credential.credential.id);
        }
    }
    let filter = ListQuery {
        expires_before: Some(boundary),
        ..ListQuery::default()
    };
    let got = ids(&list_all_pages(store, org, &filter, 100).await);
    let show = |ids: &[CredentialId]| -> Vec<&str> {
        ids.iter()
            .map(|id| labels.get(id).copied().unwrap_or("foreign"))
            .collect()
    };
    assert_eq!(
        show(&got),
        show(&sorted(&expected)),
        "list filtered by expires_before"
    );
    let paged = ids(&list_all_pages(store, org, &filter, 2).await);
    assert_eq!(
        show(&paged),
        show(&sorted(&expected)),
        "list filtered by expires_before, two per page"
    );
}

/// An update with the stored version replaces every field (allowed hosts included, to
/// another list and then to none).
pub async fn update_with_current_version_succeeds<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let original = sample_credential(org, CredentialType::ApiKey);
    must(insert(store, &original).await, "insert_credential");

    let mut next = original.clone();
    let later = sample_time() + Duration::seconds(5);
    let c = &mut next.credential;
    c.name = name("renamed");
    c.description = None;
    c.kind = CredentialKind::ApiKey {
        placement: Placement::api_key_default(),
    };
    c.secret_hints = BTreeMap::from([("value".to_owned(), "…1234".to_owned())]);
    c.allowed_hosts = allowed_hosts(&["https://auth.example.com:8443", "[::1]:8080"]);
    c.expires_at = Some(later + Duration::days(7));
    c.updated_at = later;
    c.version = 2;
    next.sealed = SealedBlob {
        key_id: KeyId::new("test-key-2"),
        bytes: sample_sealed().bytes,
    };
    next.restore_floor = 2;
    next.secret_version = 5;
    must(
        update(store, org, &next, 1).await,
        "update_credential with the stored version",
    );
    let got = must(
        store.get_credential(org, original.credential.id).await,
        "get_credential",
    );
    assert_eq!(got, next, "the update was not stored field for field");

    // Clearing and setting optional fields the other way round.
    let mut third = next.clone();
    third.credential.description = Some(description("back again"));
    third.credential.expires_at = None;
    third.credential.allowed_hosts = AllowedHosts::default();
    third.credential.version = 3;
    third.restore_floor = 3;
    third.secret_version = 6;
    must(
        update(store, org, &third, 2).await,
        "a second update_credential",
    );
    let got = must(
        store.get_credential(org, original.credential.id).await,
        "get_credential",
    );
    assert_eq!(
        got, third,
        "the second update was not stored field for field"
    );
}

/// An update with a stale (or future) version is a `Conflict` and changes nothing.
pub async fn update_with_stale_version_conflicts<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let original = sample_credential(org, CredentialType::BasicAuth);
    must(insert(store, &original).await, "insert_credential");
    let mut v2 = original.clone();
    v2.credential.name = name("version two");
    v2.credential.version = 2;
    must(update(store, org, &v2, 1).await, "update_credential");

    let mut stale = v2.clone();
    stale.credential.name = name("lost update");
    stale.credential.version = 2;
    stale.sealed = sample_sealed();
    assert_conflict(
        update(store, org, &stale, 1).await,
        "update_credential with a stale version",
    );
    stale.credential.version = 4;
    assert_conflict(
        update(store, org, &stale, 3).await,
        "update_credential with a version ahead of the stored one",
    );
    let got = must(
        store.get_credential(org, original.credential.id).await,
        "get_credential",
    );
    assert_eq!(got, v2, "a refused update changed the record");
}

/// Updating or deleting an id that does not exist is `NotFound`.
pub async fn update_or_delete_missing_is_not_found<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let never_stored = sample_credential(org, CredentialType::Custom);
    assert_not_found(
        update(store, org, &never_stored, 1).await,
        "update_credential of a missing id",
    );
    assert_not_found(
        delete(store, org, CredentialId::new()).await,
        "delete_credential of a missing id",
    );
    assert_not_found(
        store.get_credential(org, never_stored.credential.id).await,
        "get_credential after a refused update",
    );
}

/// A deleted credential is gone: get, list, update and a second delete all agree.
pub async fn delete_then_get_is_not_found<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let doomed = sample_credential(org, CredentialType::OAuth2);
    let kept = sample_credential(org, CredentialType::Jwt);
    insert_all(store, &[doomed.clone(), kept.clone()]).await;
    let id = doomed.credential.id;
    must(delete(store, org, id).await, "delete_credential");
    assert_not_found(
        store.get_credential(org, id).await,
        "get_credential after delete",
    );
    assert_not_found(delete(store, org, id).await, "a second delete_credential");
    assert_not_found(
        update(store, org, &doomed, 1).await,
        "update_credential after delete",
    );
    let listed = must(store.list_credentials(org, &query(100)).await, "list");
    assert_eq!(
        ids(&listed),
        vec![kept.credential.id],
        "list after delete should hold only the other credential"
    );
    assert_eq!(
        must(store.get_credential(org, kept.credential.id).await, "get"),
        kept,
        "deleting one credential changed another"
    );
}

/// Another organization cannot see or touch a credential: get, list, update and delete
/// from organization B behave as if the id did not exist, and A's record is unchanged.
pub async fn organizations_are_isolated<S: Store>(store: &S) {
    let a = new_organization(store).await;
    let b = new_organization(store).await;
    let original = sample_credential(a, CredentialType::BearerToken);
    must(insert(store, &original).await, "insert_credential");
    let id = original.credential.id;

    assert_not_found(store.get_credential(b, id).await, "get_credential from B");
    let listed = must(store.list_credentials(b, &query(100)).await, "list from B");
    assert!(
        listed.is_empty(),
        "B's list shows A's credential: {listed:?}"
    );
    let filtered = ListQuery {
        credential_type: Some(CredentialType::BearerToken),
        expires_before: Some(sample_time() + Duration::days(365)),
        limit: 100,
        ..ListQuery::default()
    };
    assert!(
        must(
            store.list_credentials(b, &filtered).await,
            "filtered list from B"
        )
        .is_empty(),
        "B's filtered list shows A's credential"
    );

    let mut hijack = original.clone();
    hijack.credential.name = name("hijacked");
    hijack.credential.version = 2;
    assert_not_found(
        update(store, b, &hijack, 1).await,
        "update_credential from B",
    );
    hijack.credential.organization_id = b;
    assert_not_found(
        update(store, b, &hijack, 1).await,
        "update_credential from B of a record claiming B",
    );
    assert_not_found(delete(store, b, id).await, "delete_credential from B");

    let got = must(store.get_credential(a, id).await, "get_credential from A");
    assert_eq!(got, original, "B's attempts changed A's credential");
    let listed = must(store.list_credentials(a, &query(100)).await, "list from A");
    assert_eq!(ids(&listed), vec![id], "A's list after B's attempts");

    let key = sample_access_key(a);
    must(insert_key(store, &key).await, "insert_access_key");
    let keys = must(
        store
            .list_access_keys(
                b,
                &KeyListQuery {
                    after: None,
                    limit: 100,
                },
            )
            .await,
        "list_access_keys from B",
    );
    assert!(keys.is_empty(), "B's key list shows A's key");
}

/// Sixteen writers doing read → append a tag → compare-and-swap → retry on `Conflict`
/// lose no write: every tag ends up in the description exactly once and the version
/// advanced by exactly sixteen. Each write also adds a version row (numbered like the
/// credential's version), keeps the newest five, and records an audit event: exactly the
/// winners' versions and events are stored, and the racing prunes leave the newest five.
pub async fn concurrent_updates_lose_no_write<S: Store>(store: &S) {
    const WRITERS: usize = 16;
    const KEEP: usize = 5;
    const MAX_ATTEMPTS: usize = 10_000;
    let org = new_organization(store).await;
    let mut original = sample_credential(org, CredentialType::ApiKey);
    original.credential.description = Some(description("tags:"));
    let first = sample_version(&original, 1);
    let created = sample_change_audit(
        org,
        AuditAction::CredentialCreate,
        *original.credential.id.as_uuid(),
    );
    must(
        store
            .insert_credential(
                &original,
                &CredentialWrite {
                    versions: std::slice::from_ref(&first),
                    keep_versions: KEEP,
                    audit: &created,
                },
            )
            .await,
        "insert_credential",
    );
    let id = original.credential.id;

    let writers = (0..WRITERS).map(|i| async move {
        let tag = format!("[w{i:02}]");
        for _ in 0..MAX_ATTEMPTS {
            let current = must(store.get_credential(org, id).await, "get_credential");
            // Let the other writers read the same version before anyone writes.
            yield_now().await;
            let mut next = current.clone();
            let text = current
                .credential
                .description
                .as_ref()
                .map_or("", Description::as_str);
            next.credential.description = Some(description(&format!("{text}{tag}")));
            next.credential.version = current.credential.version + 1;
            next.credential.updated_at = sample_time();
            next.sealed = sample_sealed();
            let version = sample_version(&next, next.credential.version);
            let audit = sample_change_audit(org, AuditAction::CredentialUpdate, *id.as_uuid());
            let write = CredentialWrite {
                versions: std::slice::from_ref(&version),
                keep_versions: KEEP,
                audit: &audit,
            };
            match store
                .update_credential(org, &next, current.credential.version, &write)
                .await
            {
                Ok(()) => return audit.id,
                Err(StoreError::Conflict) => {}
                Err(other) => panic!("writer {i}: update_credential failed: {other} ({other:?})"),
            }
        }
        panic!("writer {i} lost the race {MAX_ATTEMPTS} times in a row");
    });
    let won = join_all(writers).await;

    let last = must(store.get_credential(org, id).await, "get_credential");
    let text = last
        .credential
        .description
        .as_ref()
        .map_or("", Description::as_str)
        .to_owned();
    for i in 0..WRITERS {
        let tag = format!("[w{i:02}]");
        assert_eq!(
            text.matches(&tag).count(),
            1,
            "tag {tag} appears {} times in {text:?}: a write was lost or applied twice",
            text.matches(&tag).count()
        );
    }
    let final_version = original.credential.version + WRITERS as i64;
    assert_eq!(
        last.credential.version, final_version,
        "the version did not advance by exactly one per writer"
    );
    let newest: Vec<i64> = (final_version - KEEP as i64 + 1..=final_version)
        .rev()
        .collect();
    assert_eq!(
        version_numbers(store, org, id).await,
        newest,
        "after racing writes that each add a version and keep {KEEP}, the versions are not \
         the newest {KEEP}"
    );
    let mut expected_events: Vec<Uuid> = won;
    expected_events.push(created.id);
    assert_eq!(
        sorted(&event_ids(&events_about(store, org, *id.as_uuid()).await)),
        sorted(&expected_events),
        "the audit events are not exactly the create's and the winning updates' (a refused \
         compare-and-swap wrote one, or a winner's is missing)"
    );
}

// ---------------------------------------------------------------------------------------
// Access keys
// ---------------------------------------------------------------------------------------

/// A key is found by its hash with every field intact; an unknown hash finds nothing.
pub async fn access_key_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let creator = sample_access_key(org);
    let mut created = sample_access_key(org);
    created.key.created_by = Some(creator.key.id);
    created.key.expires_at = None;
    created.key.scopes = Scope::ALL.into_iter().collect();
    created.key.last_used_at = Some(sample_time() - Duration::minutes(3));
    for key in [&creator, &created] {
        must(insert_key(store, key).await, "insert_access_key");
        let found = must(store.find_access_key(&key.hash).await, "find_access_key");
        assert_eq!(
            found.as_ref(),
            Some(key),
            "find_access_key does not return the stored key field for field"
        );
    }
    let unknown = must(
        store.find_access_key(&random_hash()).await,
        "find_access_key of an unknown hash",
    );
    assert!(unknown.is_none(), "an unknown hash found {unknown:?}");
}

/// A taken hash or a taken id is a `Conflict`, and the first key stays as it was.
pub async fn duplicate_access_key_conflicts<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let original = sample_access_key(org);
    must(insert_key(store, &original).await, "insert_access_key");

    let mut same_hash = sample_access_key(other);
    same_hash.hash = original.hash;
    assert_conflict(
        insert_key(store, &same_hash).await,
        "insert_access_key with a taken hash (other organization)",
    );
    let mut same_id = sample_access_key(org);
    same_id.key.id = original.key.id;
    assert_conflict(
        insert_key(store, &same_id).await,
        "insert_access_key with a taken id",
    );
    assert!(
        must(store.find_access_key(&same_id.hash).await, "find").is_none(),
        "a refused insert left its hash findable"
    );
    assert_eq!(
        must(store.find_access_key(&original.hash).await, "find"),
        Some(original),
        "a refused insert changed the first key"
    );
}

/// Keys list per organization, in id order, with cursor pagination; revoked keys are
/// listed too.
pub async fn access_keys_list_paginates_per_organization<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let mut mine = Vec::new();
    for i in 0..5 {
        let mut key = sample_access_key(org);
        if i == 2 {
            key.key.revoked_at = Some(sample_time());
        }
        must(insert_key(store, &key).await, "insert_access_key");
        must(
            insert_key(store, &sample_access_key(other)).await,
            "insert_access_key",
        );
        mine.push(key.key);
    }
    mine.sort_by_key(|k| k.id);

    let mut seen: Vec<AccessKey> = Vec::new();
    let mut after = None;
    for _ in 0..10 {
        let page = must(
            store
                .list_access_keys(org, &KeyListQuery { after, limit: 2 })
                .await,
            "list_access_keys",
        );
        assert!(page.len() <= 2, "list_access_keys ignored the limit");
        let done = page.len() < 2;
        after = page.last().map(|k| k.id);
        seen.extend(page);
        if done {
            break;
        }
    }
    assert_eq!(
        seen, mine,
        "paging the keys returned duplicates, gaps, foreign keys, changed fields or the wrong order"
    );
    let all = must(
        store
            .list_access_keys(
                org,
                &KeyListQuery {
                    after: None,
                    limit: 100,
                },
            )
            .await,
        "list_access_keys",
    );
    assert_eq!(all, mine, "one page of all keys");
    let others = must(
        store
            .list_access_keys(
                other,
                &KeyListQuery {
                    after: None,
                    limit: 100,
                },
            )
            .await,
        "list_access_keys",
    );
    assert_eq!(others.len(), 5, "the other organization's keys");
    assert!(
        others.iter().all(|k| k.organization_id == other),
        "a list shows another organization's key"
    );
}

/// Revoking returns the revoked key; a second revoke keeps the first time; another
/// organization or a missing id is `NotFound`.
pub async fn revoke_access_key_keeps_first_time<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let key = sample_access_key(org);
    must(insert_key(store, &key).await, "insert_access_key");

    assert_not_found(
        revoke_key(store, other, key.key.id, sample_time()).await,
        "revoke_access_key from another organization",
    );
    let untouched = must(store.find_access_key(&key.hash).await, "find_access_key");
    assert_eq!(
        untouched.map(|k| k.key.revoked_at),
        Some(None),
        "another organization revoked the key"
    );
    assert_not_found(
        revoke_key(store, org, AccessKeyId::new(), sample_time()).await,
        "revoke_access_key of a missing id",
    );

    let first = sample_time();
    let revoked = must(
        revoke_key(store, org, key.key.id, first).await,
        "revoke_access_key",
    );
    let mut expected = key.key.clone();
    expected.revoked_at = Some(first);
    assert_eq!(revoked, expected, "revoke_access_key's returned key");

    let again = must(
        revoke_key(store, org, key.key.id, first + Duration::hours(1)).await,
        "a second revoke_access_key",
    );
    assert_eq!(
        again.revoked_at,
        Some(first),
        "a second revoke replaced the first revocation time"
    );
    let found = must(store.find_access_key(&key.hash).await, "find_access_key");
    assert_eq!(
        found.map(|k| k.key),
        Some(expected),
        "the stored key after two revokes"
    );
}

/// Touching records the last use; another organization's touch changes nothing.
pub async fn touch_access_key_records_last_use<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let key = sample_access_key(org);
    must(insert_key(store, &key).await, "insert_access_key");

    let first = sample_time();
    must(
        store.touch_access_key(org, key.key.id, first).await,
        "touch_access_key",
    );
    let found = must(store.find_access_key(&key.hash).await, "find_access_key");
    assert_eq!(
        found.as_ref().and_then(|k| k.key.last_used_at),
        Some(first),
        "touch_access_key did not record the time"
    );

    let second = first + Duration::minutes(2);
    must(
        store.touch_access_key(org, key.key.id, second).await,
        "a second touch_access_key",
    );
    // The port leaves the error open (`Ok` or `NotFound`); the effect must be nil.
    let _ = store
        .touch_access_key(other, key.key.id, second + Duration::hours(1))
        .await;
    let found = must(store.find_access_key(&key.hash).await, "find_access_key");
    let mut expected = key.clone();
    expected.key.last_used_at = Some(second);
    assert_eq!(
        found,
        Some(expected),
        "after two touches (and one from another organization) only last_used_at moves"
    );
}

// ---------------------------------------------------------------------------------------
// Request and audit logs
// ---------------------------------------------------------------------------------------

fn log_query(limit: usize) -> RequestLogQuery {
    RequestLogQuery {
        limit,
        ..RequestLogQuery::default()
    }
}

fn audit_query(limit: usize) -> AuditQuery {
    AuditQuery {
        limit,
        ..AuditQuery::default()
    }
}

/// Ids newest first: the order every log list returns.
fn newest_first(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids
}

fn log_ids(entries: &[RequestLogEntry]) -> Vec<Uuid> {
    entries.iter().map(|e| e.id).collect()
}

fn event_ids(events: &[AuditEvent]) -> Vec<Uuid> {
    events.iter().map(|e| e.id).collect()
}

/// Reads every page of a log list with page size `limit`, each page starting before the
/// last id of the one before, checking each page on the way: at most `limit` items, newest
/// first, all older than the cursor.
async fn walk_log_pages<T>(
    what: &str,
    limit: usize,
    id_of: fn(&T) -> Uuid,
    mut page_before: impl AsyncFnMut(Option<Uuid>) -> Vec<T>,
) -> Vec<T> {
    let mut all: Vec<T> = Vec::new();
    let mut before = None;
    for _ in 0..1000 {
        let page = page_before(before).await;
        assert!(
            page.len() <= limit,
            "{what} returned {} items for limit {limit}",
            page.len()
        );
        let ids: Vec<Uuid> = page.iter().map(id_of).collect();
        assert_eq!(
            ids,
            newest_first(ids.clone()),
            "a page of {what} is not newest first"
        );
        if let (Some(cursor), Some(first)) = (before, ids.first()) {
            assert!(
                *first < cursor,
                "a page of {what} starts at {first}, not before the cursor {cursor}"
            );
        }
        let done = page.len() < limit;
        before = ids.last().copied();
        all.extend(page);
        if done || before.is_none() {
            return all;
        }
    }
    panic!("{what} kept returning full pages after 1000 pages");
}

async fn all_request_log_pages<S: Store>(
    store: &S,
    organization: OrganizationId,
    base: &RequestLogQuery,
    limit: usize,
) -> Vec<RequestLogEntry> {
    walk_log_pages(
        "list_request_logs",
        limit,
        |e: &RequestLogEntry| e.id,
        async |before| {
            let query = RequestLogQuery {
                before,
                limit,
                ..base.clone()
            };
            must(
                store.list_request_logs(organization, &query).await,
                "list_request_logs",
            )
        },
    )
    .await
}

async fn all_audit_event_pages<S: Store>(
    store: &S,
    organization: OrganizationId,
    base: &AuditQuery,
    limit: usize,
) -> Vec<AuditEvent> {
    walk_log_pages(
        "list_audit_events",
        limit,
        |e: &AuditEvent| e.id,
        async |before| {
            let query = AuditQuery {
                before,
                limit,
                ..base.clone()
            };
            must(
                store.list_audit_events(organization, &query).await,
                "list_audit_events",
            )
        },
    )
    .await
}

async fn insert_logs<S: Store>(store: &S, entries: &[RequestLogEntry]) {
    for entry in entries {
        must(store.insert_request_log(entry).await, "insert_request_log");
    }
}

async fn insert_events<S: Store>(store: &S, events: &[AuditEvent]) {
    for event in events {
        must(store.insert_audit_event(event).await, "insert_audit_event");
    }
}

/// Every field of a request-log entry survives insert then list: times to the microsecond,
/// non-ASCII text, a status at the ends of its range, and every optional field absent.
pub async fn request_log_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = CredentialId::new();
    let answered = sample_request_log(org, credential);
    let mut unanswered = sample_request_log(org, credential);
    unanswered.method = "GET".to_owned();
    unanswered.path = "/".to_owned();
    unanswered.status = None;
    unanswered.error = Some("connect-timeout".to_owned());
    unanswered.latency_micros = 0;
    unanswered.at = sample_time() - Duration::minutes(1);
    unanswered.access_key_id = None;
    unanswered.actor_subject = None;
    let mut bare = sample_request_log(org, CredentialId::new());
    bare.credential_name = "x".to_owned();
    bare.status = None;
    bare.error = None;
    bare.access_key_id = None;
    bare.actor_subject = None;
    bare.latency_micros = i64::MAX;
    let mut odd_status = sample_request_log(org, credential);
    odd_status.status = Some(u16::MAX);
    odd_status.error = Some("body-read".to_owned());
    let mut low_status = sample_request_log(org, credential);
    low_status.status = Some(0);
    let inserted = [answered, unanswered, bare, odd_status, low_status];
    insert_logs(store, &inserted).await;

    let listed = must(
        store.list_request_logs(org, &log_query(100)).await,
        "list_request_logs",
    );
    let mut expected = inserted.to_vec();
    expected.sort_by_key(|e| Reverse(e.id));
    for (got, want) in listed.iter().zip(&expected) {
        assert_eq!(got.at, want.at, "request_logs.at changed");
        assert_eq!(got.status, want.status, "request_logs.status changed");
    }
    assert_eq!(
        listed, expected,
        "list_request_logs does not return the inserted entries, field for field, newest first"
    );
}

/// Request logs list newest first (largest id first); `before` pages through them exactly
/// once, is exclusive, and need not be a stored id; `limit` is a maximum.
pub async fn request_logs_list_newest_first_by_cursor<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let mut mine = Vec::new();
    for _ in 0..7 {
        let entry = sample_request_log(org, CredentialId::new());
        let noise = sample_request_log(other, entry.credential_id);
        insert_logs(store, &[entry.clone(), noise]).await;
        mine.push(entry.id);
    }
    let expected = newest_first(mine);

    for limit in [1, 3, 7, 100] {
        let all = all_request_log_pages(store, org, &RequestLogQuery::default(), limit).await;
        assert_eq!(
            log_ids(&all),
            expected,
            "paging with limit {limit} returned duplicates, gaps, foreign or unordered entries"
        );
    }
    let first = must(store.list_request_logs(org, &log_query(3)).await, "list");
    assert_eq!(log_ids(&first), expected[..3], "the first page of 3");
    let page = |before: Uuid, limit: usize| RequestLogQuery {
        before: Some(before),
        limit,
        ..RequestLogQuery::default()
    };
    let second = must(
        store.list_request_logs(org, &page(expected[2], 3)).await,
        "list",
    );
    assert_eq!(
        log_ids(&second),
        expected[3..6],
        "the page before the third id"
    );
    assert!(
        must(
            store.list_request_logs(org, &page(expected[6], 10)).await,
            "list"
        )
        .is_empty(),
        "a page before the oldest id is not empty"
    );
    assert_eq!(
        log_ids(&must(
            store.list_request_logs(org, &page(Uuid::max(), 10)).await,
            "list"
        )),
        expected,
        "a cursor above every id"
    );
    assert!(
        must(
            store.list_request_logs(org, &page(Uuid::nil(), 10)).await,
            "list"
        )
        .is_empty(),
        "a cursor below every id returned entries"
    );
    assert!(
        must(store.list_request_logs(org, &log_query(0)).await, "list").is_empty(),
        "limit 0 returned entries"
    );
}

/// The credential filter returns exactly that credential's entries, newest first, paged.
pub async fn request_logs_filter_by_credential<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let (a, b) = (CredentialId::new(), CredentialId::new());
    let mut of_a = Vec::new();
    for _ in 0..4 {
        let entry_a = sample_request_log(org, a);
        let entry_b = sample_request_log(org, b);
        // The same credential id in another organization: never listed for this one.
        let noise = sample_request_log(other, a);
        insert_logs(store, &[entry_a.clone(), entry_b, noise]).await;
        of_a.push(entry_a.id);
    }
    let expected = newest_first(of_a);
    let filter = RequestLogQuery {
        credential_id: Some(a),
        ..RequestLogQuery::default()
    };
    for limit in [1, 3, 100] {
        let got = all_request_log_pages(store, org, &filter, limit).await;
        assert_eq!(
            log_ids(&got),
            expected,
            "list_request_logs filtered by credential, limit {limit}"
        );
        assert!(
            got.iter()
                .all(|e| e.credential_id == a && e.organization_id == org),
            "the credential filter returned another credential's or organization's entry"
        );
    }
    let unknown = RequestLogQuery {
        credential_id: Some(CredentialId::new()),
        limit: 100,
        ..RequestLogQuery::default()
    };
    assert!(
        must(store.list_request_logs(org, &unknown).await, "list").is_empty(),
        "a credential with no entries has entries"
    );
}

/// Another organization sees none of an organization's request log, with or without
/// filters.
pub async fn request_logs_are_isolated<S: Store>(store: &S) {
    let a = new_organization(store).await;
    let b = new_organization(store).await;
    let credential = CredentialId::new();
    let entries = [
        sample_request_log(a, credential),
        sample_request_log(a, credential),
    ];
    insert_logs(store, &entries).await;

    assert!(
        must(
            store.list_request_logs(b, &log_query(100)).await,
            "list from B"
        )
        .is_empty(),
        "B's request log shows A's entries"
    );
    let filtered = RequestLogQuery {
        credential_id: Some(credential),
        before: Some(Uuid::max()),
        limit: 100,
    };
    assert!(
        must(store.list_request_logs(b, &filtered).await, "list from B").is_empty(),
        "B's request log filtered by A's credential shows A's entries"
    );
    let listed = must(store.list_request_logs(a, &filtered).await, "list from A");
    assert_eq!(
        log_ids(&listed),
        newest_first(log_ids(&entries)),
        "A's own request log"
    );
}

/// Entries outlive what they name: a credential's log stays readable after the credential
/// is deleted, and entries may name a deleted credential or an access key that never
/// existed.
pub async fn request_logs_outlive_their_credential<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = sample_credential(org, CredentialType::BearerToken);
    must(insert(store, &credential).await, "insert_credential");
    let key = sample_access_key(org);
    must(insert_key(store, &key).await, "insert_access_key");
    let id = credential.credential.id;

    let mut before_delete = sample_request_log(org, id);
    before_delete.credential_name = credential.credential.name.as_str().to_owned();
    before_delete.access_key_id = Some(key.key.id);
    insert_logs(store, std::slice::from_ref(&before_delete)).await;
    must(delete(store, org, id).await, "delete_credential");
    must(
        revoke_key(store, org, key.key.id, sample_time()).await,
        "revoke_access_key",
    );

    // Naming the deleted credential, and an access key that was never stored.
    let after_delete = sample_request_log(org, id);
    must(
        store.insert_request_log(&after_delete).await,
        "insert_request_log naming a deleted credential and an unknown access key",
    );
    let filter = RequestLogQuery {
        credential_id: Some(id),
        limit: 100,
        ..RequestLogQuery::default()
    };
    let listed = must(store.list_request_logs(org, &filter).await, "list");
    let mut expected = vec![before_delete, after_delete];
    expected.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        listed, expected,
        "the log of a deleted credential is gone or changed"
    );
}

/// Inserting a request-log id that exists (in any organization) is a `Conflict` and
/// changes nothing.
pub async fn duplicate_request_log_id_conflicts<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let original = sample_request_log(org, CredentialId::new());
    insert_logs(store, std::slice::from_ref(&original)).await;

    let mut again = sample_request_log(org, CredentialId::new());
    again.id = original.id;
    again.path = "/impostor".to_owned();
    assert_conflict(
        store.insert_request_log(&again).await,
        "insert_request_log of an existing id",
    );
    again.organization_id = other;
    assert_conflict(
        store.insert_request_log(&again).await,
        "insert_request_log of an id that exists in another organization",
    );
    assert_eq!(
        must(store.list_request_logs(org, &log_query(100)).await, "list"),
        vec![original],
        "a refused duplicate changed the log"
    );
    assert!(
        must(
            store.list_request_logs(other, &log_query(100)).await,
            "list"
        )
        .is_empty(),
        "a refused duplicate was stored in the other organization"
    );
}

/// Every field of an audit event survives insert then list, for every action and both
/// outcomes, with optional fields present and absent and counts of 1 and more; an event
/// of no organization is accepted and listed nowhere.
pub async fn audit_event_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let mut inserted = Vec::new();
    for (i, action) in AuditAction::ALL.into_iter().enumerate() {
        let mut event = sample_audit_event(Some(org));
        event.action = action;
        event.at = sample_time() - Duration::seconds(i64::try_from(i).unwrap_or_default());
        if i % 2 == 1 {
            event.actor = None;
            event.actor_subject = None;
            event.target = None;
            event.outcome = AuditOutcome::Success;
            event.reason = None;
            event.count = 1;
        }
        inserted.push(event);
    }
    insert_events(store, &inserted).await;

    let mut anonymous = sample_audit_event(None);
    anonymous.action = AuditAction::AuthenticationFailure;
    anonymous.actor = None;
    anonymous.actor_subject = None;
    anonymous.target = None;
    anonymous.reason = Some("unknown-key".to_owned());
    must(
        store.insert_audit_event(&anonymous).await,
        "insert_audit_event of no organization",
    );

    let listed = must(
        store.list_audit_events(org, &audit_query(100)).await,
        "list_audit_events",
    );
    inserted.sort_by_key(|e| Reverse(e.id));
    for (got, want) in listed.iter().zip(&inserted) {
        assert_eq!(got.at, want.at, "audit_events.at changed");
        assert_eq!(got.action, want.action, "audit_events.action changed");
    }
    assert_eq!(
        listed, inserted,
        "list_audit_events does not return the inserted events, field for field, newest first"
    );
}

/// Audit events list newest first with an exclusive `before` cursor and a `limit`, only
/// the organization's own (never another's, never those of no organization).
pub async fn audit_events_list_newest_first_by_cursor<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let mut mine = Vec::new();
    for _ in 0..7 {
        let event = sample_audit_event(Some(org));
        let mut noise = sample_audit_event(Some(other));
        noise.target = event.target;
        let anonymous = sample_audit_event(None);
        insert_events(store, &[event.clone(), noise, anonymous]).await;
        mine.push(event.id);
    }
    let expected = newest_first(mine);

    for limit in [1, 3, 7, 100] {
        let all = all_audit_event_pages(store, org, &AuditQuery::default(), limit).await;
        assert_eq!(
            event_ids(&all),
            expected,
            "paging with limit {limit} returned duplicates, gaps, foreign or unordered events"
        );
    }
    let page = |before: Uuid, limit: usize| AuditQuery {
        before: Some(before),
        limit,
        ..AuditQuery::default()
    };
    let second = must(
        store.list_audit_events(org, &page(expected[2], 3)).await,
        "list",
    );
    assert_eq!(
        event_ids(&second),
        expected[3..6],
        "the page before the third id"
    );
    assert!(
        must(
            store.list_audit_events(org, &page(expected[6], 10)).await,
            "list"
        )
        .is_empty(),
        "a page before the oldest id is not empty"
    );
    assert_eq!(
        event_ids(&must(
            store.list_audit_events(org, &page(Uuid::max(), 10)).await,
            "list"
        )),
        expected,
        "a cursor above every id"
    );
    assert!(
        must(store.list_audit_events(org, &audit_query(0)).await, "list").is_empty(),
        "limit 0 returned events"
    );
    let others = must(
        store.list_audit_events(other, &audit_query(100)).await,
        "list",
    );
    assert_eq!(others.len(), 7, "the other organization's events");
    assert!(
        others.iter().all(|e| e.organization_id == Some(other)),
        "a list shows another organization's event or one of no organization"
    );
    let stranger = new_organization(store).await;
    assert!(
        must(
            store.list_audit_events(stranger, &audit_query(100)).await,
            "list"
        )
        .is_empty(),
        "an organization with no events lists some"
    );
}

/// The action and target filters, alone and together, return exactly the matching events,
/// newest first, paged.
pub async fn audit_events_filter_by_action_and_target<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let (t1, t2) = (
        *CredentialId::new().as_uuid(),
        *AccessKeyId::new().as_uuid(),
    );
    let shapes = [
        (AuditAction::CredentialUse, Some(t1)),
        (AuditAction::CredentialUpdate, Some(t1)),
        (AuditAction::CredentialUse, Some(t2)),
        (AuditAction::AccessKeyRevoke, Some(t2)),
        (AuditAction::CredentialUse, None),
        (AuditAction::AuthenticationFailure, None),
    ];
    let mut events = Vec::new();
    for _ in 0..2 {
        for (action, target) in shapes {
            let mut event = sample_audit_event(Some(org));
            event.action = action;
            event.target = target;
            let mut noise = event.clone();
            noise.id = Uuid::now_v7();
            noise.organization_id = Some(other);
            insert_events(store, &[event.clone(), noise]).await;
            events.push(event);
        }
    }
    let expect = |action: Option<AuditAction>, target: Option<Uuid>| -> Vec<Uuid> {
        newest_first(
            events
                .iter()
                .filter(|e| action.is_none_or(|a| e.action == a))
                .filter(|e| target.is_none_or(|t| e.target == Some(t)))
                .map(|e| e.id)
                .collect(),
        )
    };
    let cases = [
        (Some(AuditAction::CredentialUse), None),
        (Some(AuditAction::AuthenticationFailure), None),
        (Some(AuditAction::CredentialCreate), None),
        (None, Some(t1)),
        (None, Some(t2)),
        (None, Some(Uuid::now_v7())),
        (Some(AuditAction::CredentialUse), Some(t1)),
        (Some(AuditAction::AccessKeyRevoke), Some(t1)),
    ];
    for (action, target) in cases {
        let filter = AuditQuery {
            action,
            target,
            ..AuditQuery::default()
        };
        for limit in [1, 100] {
            let got = all_audit_event_pages(store, org, &filter, limit).await;
            assert_eq!(
                event_ids(&got),
                expect(action, target),
                "list_audit_events filtered by action {action:?} and target {target:?}, \
                 limit {limit}"
            );
        }
    }
}

/// Inserting an audit-event id that exists (in any organization, or none) is a `Conflict`
/// and changes nothing.
pub async fn duplicate_audit_event_id_conflicts<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let original = sample_audit_event(Some(org));
    insert_events(store, std::slice::from_ref(&original)).await;

    let mut again = sample_audit_event(Some(org));
    again.id = original.id;
    again.action = AuditAction::CredentialDelete;
    assert_conflict(
        store.insert_audit_event(&again).await,
        "insert_audit_event of an existing id",
    );
    again.organization_id = Some(other);
    assert_conflict(
        store.insert_audit_event(&again).await,
        "insert_audit_event of an id that exists in another organization",
    );
    again.organization_id = None;
    assert_conflict(
        store.insert_audit_event(&again).await,
        "insert_audit_event of no organization with an existing id",
    );
    let anonymous = sample_audit_event(None);
    insert_events(store, std::slice::from_ref(&anonymous)).await;
    let mut again = sample_audit_event(Some(org));
    again.id = anonymous.id;
    assert_conflict(
        store.insert_audit_event(&again).await,
        "insert_audit_event with the id of an event of no organization",
    );
    assert_eq!(
        must(
            store.list_audit_events(org, &audit_query(100)).await,
            "list"
        ),
        vec![original],
        "a refused duplicate changed the audit log"
    );
    assert!(
        must(
            store.list_audit_events(other, &audit_query(100)).await,
            "list"
        )
        .is_empty(),
        "a refused duplicate was stored in the other organization"
    );
}

// ---------------------------------------------------------------------------------------
// Credential history: versions and the audit events written with each change
// ---------------------------------------------------------------------------------------

/// A write of `versions`, keeping the newest `keep`, recorded by `audit`.
fn history<'a>(
    versions: &'a [SecretVersion],
    keep: usize,
    audit: &'a AuditEvent,
) -> CredentialWrite<'a> {
    CredentialWrite {
        versions,
        keep_versions: keep,
        audit,
    }
}

/// `credential` at its next version, with freshly sealed secrets.
fn next_of(credential: &StoredCredential) -> StoredCredential {
    let mut next = credential.clone();
    next.credential.version += 1;
    next.credential.updated_at = sample_time();
    next.sealed = sample_sealed();
    next
}

fn audit_of(credential: &StoredCredential, action: AuditAction) -> AuditEvent {
    let c = &credential.credential;
    sample_change_audit(c.organization_id, action, *c.id.as_uuid())
}

/// Inserts `credential` with `versions`, keeping every one; returns the create's event.
async fn insert_with_versions<S: Store>(
    store: &S,
    credential: &StoredCredential,
    versions: &[SecretVersion],
) -> AuditEvent {
    let audit = audit_of(credential, AuditAction::CredentialCreate);
    must(
        store
            .insert_credential(credential, &history(versions, 0, &audit))
            .await,
        "insert_credential with versions",
    );
    audit
}

/// Each change's audit event is stored with it, field for field (an update by the vault
/// itself, with no actor, included); refused changes (a duplicate id, a stale version, a
/// missing credential) store none.
pub async fn credential_writes_record_their_audit_events<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = sample_credential(org, CredentialType::BearerToken);
    let id = credential.credential.id;
    let target = *id.as_uuid();
    let created = audit_of(&credential, AuditAction::CredentialCreate);
    must(
        store
            .insert_credential(&credential, &history(&[], 0, &created))
            .await,
        "insert_credential",
    );
    assert_eq!(
        events_about(store, org, target).await,
        vec![created.clone()],
        "the create's audit event is not stored field for field"
    );

    let mut duplicate = sample_credential(org, CredentialType::ApiKey);
    duplicate.credential.id = id;
    let refused_create = audit_of(&duplicate, AuditAction::CredentialCreate);
    assert_conflict(
        store
            .insert_credential(&duplicate, &history(&[], 0, &refused_create))
            .await,
        "insert_credential of an existing id",
    );
    let mut next = next_of(&credential);
    next.credential.name = name("renamed");
    let refused_update = audit_of(&next, AuditAction::CredentialUpdate);
    assert_conflict(
        store
            .update_credential(org, &next, 7, &history(&[], 0, &refused_update))
            .await,
        "update_credential with a stale version",
    );
    let mut updated = audit_of(&next, AuditAction::CredentialUpdate);
    updated.actor = None;
    must(
        store
            .update_credential(org, &next, 1, &history(&[], 0, &updated))
            .await,
        "update_credential",
    );
    let refused_delete = audit_of(&next, AuditAction::CredentialDelete);
    assert_conflict(
        store
            .delete_credential(org, id, Some(1), &refused_delete)
            .await,
        "delete_credential at a stale version",
    );
    let deleted = audit_of(&next, AuditAction::CredentialDelete);
    must(
        store.delete_credential(org, id, Some(2), &deleted).await,
        "delete_credential",
    );
    let missing = audit_of(&next, AuditAction::CredentialDelete);
    assert_not_found(
        store.delete_credential(org, id, None, &missing).await,
        "a second delete_credential",
    );

    let mut expected = vec![created, updated, deleted];
    expected.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        events_about(store, org, target).await,
        expected,
        "the audit log of a created, updated and deleted credential is not exactly the three \
         successful changes' events (a refused change recorded one, or one is missing)"
    );
}

/// Versions survive the write then list (newest first, without sealed values) and get (by
/// number, with them), every field: hints, times, a creator or none, a restored version or
/// none, sealed bytes and key id. A write may add several versions at once; a credential
/// without versions lists none; a missing credential or number is `NotFound`.
pub async fn versions_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = sample_credential(org, CredentialType::ApiKey);
    let id = credential.credential.id;
    let v1 = sample_version(&credential, 1);
    insert_with_versions(store, &credential, std::slice::from_ref(&v1)).await;

    // Two versions in one write (as the first secret change of a credential stored before
    // versions existed makes), the second with every optional field absent.
    let next = next_of(&credential);
    let v2 = sample_version(&next, 2);
    let mut v3 = sample_version(&next, 3);
    v3.created_by = None;
    v3.restored_from = None;
    v3.secret_hints.clear();
    v3.sealed.key_id = KeyId::new("test-key-2");
    let audit = audit_of(&next, AuditAction::CredentialUpdate);
    let versions = [v2.clone(), v3.clone()];
    must(
        store
            .update_credential(org, &next, 1, &history(&versions, 0, &audit))
            .await,
        "update_credential adding two versions",
    );
    // A write without versions leaves them alone.
    let third = next_of(&next);
    must(update(store, org, &third, 2).await, "update_credential");

    let all = [&v1, &v2, &v3];
    let listed = must(store.list_versions(org, id).await, "list_versions");
    assert_eq!(
        listed,
        vec![
            VersionInfo::from(&v3),
            VersionInfo::from(&v2),
            VersionInfo::from(&v1)
        ],
        "list_versions does not return every version, field for field, newest first"
    );
    for version in all {
        let got = must(
            store.get_version(org, id, version.number).await,
            "get_version",
        );
        assert_eq!(
            got.sealed.bytes, version.sealed.bytes,
            "version {}: sealed bytes changed",
            version.number
        );
        assert_eq!(
            got.sealed.key_id, version.sealed.key_id,
            "version {}: key id changed",
            version.number
        );
        assert_eq!(
            got.created_at, version.created_at,
            "version {}: created_at changed",
            version.number
        );
        assert_eq!(
            &got, version,
            "version {}: the stored version changed",
            version.number
        );
    }
    for number in [0, 4, i64::MAX] {
        assert_not_found(
            store.get_version(org, id, number).await,
            "get_version of a number never written",
        );
    }
    assert_not_found(
        store.get_version(org, CredentialId::new(), 1).await,
        "get_version of a missing credential",
    );
    assert_not_found(
        store.list_versions(org, CredentialId::new()).await,
        "list_versions of a missing credential",
    );

    let bare = sample_credential(org, CredentialType::BasicAuth);
    must(
        insert(store, &bare).await,
        "insert_credential without versions",
    );
    assert!(
        must(
            store.list_versions(org, bare.credential.id).await,
            "list_versions of a credential without versions"
        )
        .is_empty(),
        "a credential stored without versions lists some"
    );
    assert_not_found(
        store.get_version(org, bare.credential.id, 1).await,
        "get_version of a credential without versions",
    );
}

/// `keep_versions` keeps the newest versions of that credential only, after adding the
/// write's (which count too, and may be pruned at once); 0 keeps every one; a write adding
/// none still prunes to its `keep_versions`. Another credential's versions are untouched.
pub async fn versions_keep_only_the_newest<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let neighbour = sample_credential(org, CredentialType::BearerToken);
    let neighbours: Vec<SecretVersion> = (1..=3).map(|n| sample_version(&neighbour, n)).collect();
    insert_with_versions(store, &neighbour, &neighbours).await;

    let credential = sample_credential(org, CredentialType::ApiKey);
    let id = credential.credential.id;
    let first: Vec<SecretVersion> = (1..=3).map(|n| sample_version(&credential, n)).collect();
    let created = audit_of(&credential, AuditAction::CredentialCreate);
    must(
        store
            .insert_credential(&credential, &history(&first, 2, &created))
            .await,
        "insert_credential with three versions, keeping two",
    );
    assert_eq!(
        version_numbers(store, org, id).await,
        vec![3, 2],
        "an insert of three versions keeping two"
    );

    let mut current = credential;
    for (number, keep, expected) in [
        (4, 2, vec![4, 3]),
        (5, 0, vec![5, 4, 3]),
        (6, 3, vec![6, 5, 4]),
        (7, 1, vec![7]),
    ] {
        let next = next_of(&current);
        let version = sample_version(&next, number);
        let audit = audit_of(&next, AuditAction::CredentialUpdate);
        must(
            store
                .update_credential(
                    org,
                    &next,
                    current.credential.version,
                    &history(std::slice::from_ref(&version), keep, &audit),
                )
                .await,
            "update_credential adding a version",
        );
        assert_eq!(
            version_numbers(store, org, id).await,
            expected,
            "after adding version {number} and keeping {keep}"
        );
        current = next;
    }
    for number in 1..=6 {
        assert_not_found(
            store.get_version(org, id, number).await,
            "get_version of a pruned version",
        );
    }

    // A write adding no version still prunes to its `keep_versions`: keeping two of one
    // changes nothing; keeping one of the neighbour's three leaves its newest.
    let next = next_of(&current);
    let audit = audit_of(&next, AuditAction::CredentialUpdate);
    must(
        store
            .update_credential(
                org,
                &next,
                current.credential.version,
                &history(&[], 2, &audit),
            )
            .await,
        "update_credential adding no version",
    );
    assert_eq!(version_numbers(store, org, id).await, vec![7]);
    assert_eq!(
        version_numbers(store, org, neighbour.credential.id).await,
        vec![3, 2, 1],
        "pruning one credential's versions touched another's"
    );
    let neighbour_next = next_of(&neighbour);
    let audit = audit_of(&neighbour_next, AuditAction::CredentialUpdate);
    must(
        store
            .update_credential(org, &neighbour_next, 1, &history(&[], 1, &audit))
            .await,
        "update_credential adding no version, keeping one",
    );
    assert_eq!(
        version_numbers(store, org, neighbour.credential.id).await,
        vec![3],
        "a write adding no version did not prune to its keep_versions"
    );
    assert_eq!(
        must(
            store.get_version(org, neighbour.credential.id, 3).await,
            "get_version"
        ),
        neighbours[2],
        "the kept version changed"
    );
}

/// An update refused by the compare-and-swap (a stale version) or for a missing credential
/// writes none of its versions and no audit event, and prunes nothing.
pub async fn refused_updates_write_no_version_or_audit_event<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = sample_credential(org, CredentialType::OAuth2);
    let id = credential.credential.id;
    let versions: Vec<SecretVersion> = (1..=2).map(|n| sample_version(&credential, n)).collect();
    let created = insert_with_versions(store, &credential, &versions).await;

    let next = next_of(&credential);
    let v3 = sample_version(&next, 3);
    let audit = audit_of(&next, AuditAction::CredentialUpdate);
    for stale in [0, 2, 5] {
        assert_conflict(
            store
                .update_credential(
                    org,
                    &next,
                    stale,
                    &history(std::slice::from_ref(&v3), 1, &audit),
                )
                .await,
            "update_credential with a stale version",
        );
    }
    assert_eq!(
        must(store.get_credential(org, id).await, "get_credential"),
        credential,
        "a refused update changed the credential"
    );
    assert_eq!(
        version_numbers(store, org, id).await,
        vec![2, 1],
        "a refused update added or pruned versions"
    );
    assert_eq!(
        events_about(store, org, *id.as_uuid()).await,
        vec![created],
        "a refused update recorded an audit event"
    );

    let ghost = sample_credential(org, CredentialType::Custom);
    let ghost_version = sample_version(&ghost, 1);
    let audit = audit_of(&ghost, AuditAction::CredentialUpdate);
    assert_not_found(
        store
            .update_credential(
                org,
                &ghost,
                1,
                &history(std::slice::from_ref(&ghost_version), 0, &audit),
            )
            .await,
        "update_credential of a missing credential",
    );
    assert_not_found(
        store.list_versions(org, ghost.credential.id).await,
        "list_versions after a refused update of a missing credential",
    );
    assert!(
        events_about(store, org, *ghost.credential.id.as_uuid())
            .await
            .is_empty(),
        "an update of a missing credential recorded an audit event"
    );
}

/// A version number the credential has (or that a write repeats) is a `Conflict`, and the
/// whole write is undone: the credential row, its versions and the audit log stay as they
/// were; an insert repeating a number stores no credential at all.
pub async fn duplicate_version_number_conflicts_and_writes_nothing<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = sample_credential(org, CredentialType::Jwt);
    let id = credential.credential.id;
    let versions: Vec<SecretVersion> = (1..=2).map(|n| sample_version(&credential, n)).collect();
    let created = insert_with_versions(store, &credential, &versions).await;

    let mut next = next_of(&credential);
    next.credential.name = name("must not land");
    let taken = sample_version(&next, 2);
    let twice = [sample_version(&next, 3), sample_version(&next, 3)];
    let cases: [(&[SecretVersion], &str); 2] = [
        (std::slice::from_ref(&taken), "a number the credential has"),
        (&twice, "the same new number twice"),
    ];
    for (added, what) in cases {
        let audit = audit_of(&next, AuditAction::CredentialUpdate);
        assert_conflict(
            store
                .update_credential(org, &next, 1, &history(added, 1, &audit))
                .await,
            &format!("update_credential adding {what}"),
        );
        assert_eq!(
            must(store.get_credential(org, id).await, "get_credential"),
            credential,
            "an update adding {what} changed the credential row"
        );
        assert_eq!(
            version_numbers(store, org, id).await,
            vec![2, 1],
            "an update adding {what} added or pruned versions"
        );
        assert_eq!(
            must(store.get_version(org, id, 2).await, "get_version"),
            versions[1],
            "an update adding {what} replaced a stored version"
        );
        assert_eq!(
            events_about(store, org, *id.as_uuid()).await,
            vec![created.clone()],
            "an update adding {what} recorded an audit event"
        );
    }

    let fresh = sample_credential(org, CredentialType::BasicAuth);
    let repeated = [sample_version(&fresh, 1), sample_version(&fresh, 1)];
    let audit = audit_of(&fresh, AuditAction::CredentialCreate);
    assert_conflict(
        store
            .insert_credential(&fresh, &history(&repeated, 0, &audit))
            .await,
        "insert_credential with a repeated version number",
    );
    assert_not_found(
        store.get_credential(org, fresh.credential.id).await,
        "get_credential after an insert refused for its versions",
    );
    assert_not_found(
        store.list_versions(org, fresh.credential.id).await,
        "list_versions after an insert refused for its versions",
    );
    assert!(
        events_about(store, org, *fresh.credential.id.as_uuid())
            .await
            .is_empty(),
        "an insert refused for its versions recorded an audit event"
    );
}

/// Deleting a credential deletes its versions (and no other credential's) and records its
/// audit event.
pub async fn delete_removes_versions_and_records_its_audit_event<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let doomed = sample_credential(org, CredentialType::BasicAuth);
    let id = doomed.credential.id;
    let versions: Vec<SecretVersion> = (1..=3).map(|n| sample_version(&doomed, n)).collect();
    let created = insert_with_versions(store, &doomed, &versions).await;
    let kept = sample_credential(org, CredentialType::BasicAuth);
    let kept_versions: Vec<SecretVersion> = (1..=2).map(|n| sample_version(&kept, n)).collect();
    insert_with_versions(store, &kept, &kept_versions).await;

    let deleted = audit_of(&doomed, AuditAction::CredentialDelete);
    must(
        store.delete_credential(org, id, Some(1), &deleted).await,
        "delete_credential of a credential with versions",
    );
    assert_not_found(
        store.get_credential(org, id).await,
        "get_credential after delete",
    );
    assert_not_found(
        store.list_versions(org, id).await,
        "list_versions after delete",
    );
    for number in 1..=3 {
        assert_not_found(
            store.get_version(org, id, number).await,
            "get_version after delete",
        );
    }
    let mut expected = vec![created, deleted];
    expected.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        events_about(store, org, *id.as_uuid()).await,
        expected,
        "the delete's audit event is missing or changed"
    );

    assert_eq!(
        version_numbers(store, org, kept.credential.id).await,
        vec![2, 1],
        "deleting one credential deleted another's versions"
    );
    for version in &kept_versions {
        assert_eq!(
            &must(
                store
                    .get_version(org, kept.credential.id, version.number)
                    .await,
                "get_version"
            ),
            version,
            "deleting one credential changed another's version"
        );
    }
}

/// A delete at a stale expected version is a `Conflict` that deletes nothing (credential,
/// versions) and records nothing; at the stored version it deletes.
pub async fn delete_with_a_stale_version_conflicts_and_deletes_nothing<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = sample_credential(org, CredentialType::Custom);
    let id = credential.credential.id;
    let v1 = sample_version(&credential, 1);
    let created = insert_with_versions(store, &credential, std::slice::from_ref(&v1)).await;
    let next = next_of(&credential);
    let v2 = sample_version(&next, 2);
    let updated = audit_of(&next, AuditAction::CredentialUpdate);
    must(
        store
            .update_credential(
                org,
                &next,
                1,
                &history(std::slice::from_ref(&v2), 0, &updated),
            )
            .await,
        "update_credential",
    );

    for stale in [1, 3] {
        let audit = audit_of(&next, AuditAction::CredentialDelete);
        assert_conflict(
            store.delete_credential(org, id, Some(stale), &audit).await,
            "delete_credential at a stale version",
        );
    }
    assert_eq!(
        must(store.get_credential(org, id).await, "get_credential"),
        next,
        "a refused delete changed the credential"
    );
    assert_eq!(
        version_numbers(store, org, id).await,
        vec![2, 1],
        "a refused delete deleted versions"
    );
    let mut expected = vec![created, updated];
    expected.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        events_about(store, org, *id.as_uuid()).await,
        expected,
        "a refused delete recorded an audit event"
    );

    let deleted = audit_of(&next, AuditAction::CredentialDelete);
    must(
        store.delete_credential(org, id, Some(2), &deleted).await,
        "delete_credential at the stored version",
    );
    assert_not_found(
        store.list_versions(org, id).await,
        "list_versions after delete",
    );
}

/// Another organization cannot see or touch a credential's versions: list, get, an update
/// adding versions and a delete from organization B behave as if the credential did not
/// exist, write nothing, and record nothing in either organization.
pub async fn versions_are_isolated_by_organization<S: Store>(store: &S) {
    let a = new_organization(store).await;
    let b = new_organization(store).await;
    let credential = sample_credential(a, CredentialType::ApiKey);
    let id = credential.credential.id;
    let versions: Vec<SecretVersion> = (1..=2).map(|n| sample_version(&credential, n)).collect();
    let created = insert_with_versions(store, &credential, &versions).await;

    assert_not_found(store.list_versions(b, id).await, "list_versions from B");
    for number in [1, 2] {
        assert_not_found(store.get_version(b, id, number).await, "get_version from B");
    }

    let mut hijack = next_of(&credential);
    hijack.credential.organization_id = b;
    let planted = sample_version(&hijack, 3);
    let audit = sample_change_audit(b, AuditAction::CredentialUpdate, *id.as_uuid());
    assert_not_found(
        store
            .update_credential(
                b,
                &hijack,
                1,
                &history(std::slice::from_ref(&planted), 1, &audit),
            )
            .await,
        "update_credential from B adding a version",
    );
    let audit = sample_change_audit(b, AuditAction::CredentialDelete, *id.as_uuid());
    assert_not_found(
        store.delete_credential(b, id, None, &audit).await,
        "delete_credential from B",
    );

    assert_eq!(
        version_numbers(store, a, id).await,
        vec![2, 1],
        "B's attempts changed A's versions"
    );
    assert_eq!(
        must(store.get_version(a, id, 1).await, "get_version from A"),
        versions[0],
        "B's attempts changed A's version"
    );
    assert_not_found(
        store.get_version(b, id, 3).await,
        "get_version from B of the version B tried to add",
    );
    assert_eq!(
        events_about(store, a, *id.as_uuid()).await,
        vec![created],
        "B's attempts recorded an event in A"
    );
    assert!(
        events_about(store, b, *id.as_uuid()).await.is_empty(),
        "B's refused attempts recorded an event in B"
    );
}

/// Issuing and revoking an access key each store their audit event with the key; a
/// refused issue (taken id) or revoke (missing key, another organization) stores none.
pub async fn access_key_writes_record_their_audit_events<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let key = sample_access_key(org);
    let target = *key.key.id.as_uuid();
    let created = sample_change_audit(org, AuditAction::AccessKeyCreate, target);
    must(
        store.insert_access_key(&key, &created).await,
        "insert_access_key",
    );
    assert_eq!(
        events_about(store, org, target).await,
        vec![created.clone()],
        "the key's create event is not stored field for field"
    );

    let mut same_id = sample_access_key(org);
    same_id.key.id = key.key.id;
    let refused = sample_change_audit(org, AuditAction::AccessKeyCreate, target);
    assert_conflict(
        store.insert_access_key(&same_id, &refused).await,
        "insert_access_key with a taken id",
    );
    let from_other = sample_change_audit(other, AuditAction::AccessKeyRevoke, target);
    assert_not_found(
        store
            .revoke_access_key(other, key.key.id, sample_time(), &from_other)
            .await,
        "revoke_access_key from another organization",
    );
    let missing = AccessKeyId::new();
    let of_missing = sample_change_audit(org, AuditAction::AccessKeyRevoke, *missing.as_uuid());
    assert_not_found(
        store
            .revoke_access_key(org, missing, sample_time(), &of_missing)
            .await,
        "revoke_access_key of a missing key",
    );
    let mut revoked = sample_change_audit(org, AuditAction::AccessKeyRevoke, target);
    revoked.actor = None;
    must(
        store
            .revoke_access_key(org, key.key.id, sample_time(), &revoked)
            .await,
        "revoke_access_key",
    );

    let mut expected = vec![created, revoked];
    expected.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        events_about(store, org, target).await,
        expected,
        "the key's audit log is not exactly its issue and revocation"
    );
    assert!(
        events_about(store, org, *missing.as_uuid())
            .await
            .is_empty(),
        "a refused revoke of a missing key recorded an event"
    );
    assert!(
        events_about(store, other, target).await.is_empty(),
        "a refused revoke from another organization recorded an event"
    );
}

// ---------------------------------------------------------------------------------------
// Key rotation: the sealed rows of every kind
// ---------------------------------------------------------------------------------------

/// The usage of `key_id`, if it protects any row.
async fn usage_of<S: Store>(store: &S, key_id: &KeyId) -> Option<KeyUsage> {
    let usage = must(store.key_usage().await, "key_usage");
    let mine: Vec<&KeyUsage> = usage.iter().filter(|u| u.key_id == *key_id).collect();
    assert!(
        mine.len() <= 1,
        "key_usage lists key {key_id} {} times",
        mine.len()
    );
    mine.first().map(|u| (*u).clone())
}

fn usage(key_id: &KeyId, credentials: u64, versions: u64, meta: u64) -> Option<KeyUsage> {
    Some(KeyUsage {
        key_id: key_id.clone(),
        credentials,
        versions,
        meta,
    })
}

/// `key_usage` counts the meta values, credentials and versions sealed under each key id,
/// by the stored key id; a key id with no row left is not listed.
pub async fn key_usage_counts_rows_per_key_and_kind<S: Store>(store: &S) {
    let (k1, k2, unused) = (
        unique_key_id("k1"),
        unique_key_id("k2"),
        unique_key_id("unused"),
    );
    let org = new_organization(store).await;
    let mut c1 = sample_credential(org, CredentialType::ApiKey);
    c1.sealed = sealed_under(&k1);
    let mut c1v1 = sample_version(&c1, 1);
    c1v1.sealed = sealed_under(&k1);
    let mut c1v2 = sample_version(&c1, 2);
    c1v2.sealed = sealed_under(&k2);
    insert_with_versions(store, &c1, &[c1v1, c1v2]).await;
    let mut c2 = sample_credential(org, CredentialType::BearerToken);
    c2.sealed = sealed_under(&k1);
    let mut c2v1 = sample_version(&c2, 1);
    c2v1.sealed = sealed_under(&k1);
    insert_with_versions(store, &c2, &[c2v1]).await;
    let mut c3 = sample_credential(org, CredentialType::BasicAuth);
    c3.sealed = sealed_under(&k2);
    must(insert(store, &c3).await, "insert_credential");
    assert!(
        must(
            store
                .insert_meta_if_absent(&meta_name(), &sealed_under(&k2))
                .await,
            "insert_meta_if_absent"
        ),
        "a fresh meta name was taken"
    );

    assert_eq!(usage_of(store, &k1).await, usage(&k1, 2, 2, 0), "key 1");
    assert_eq!(usage_of(store, &k2).await, usage(&k2, 1, 1, 1), "key 2");
    assert_eq!(
        usage_of(store, &unused).await,
        None,
        "a key protecting nothing"
    );

    must(
        delete(store, org, c1.credential.id).await,
        "delete_credential",
    );
    assert_eq!(
        usage_of(store, &k1).await,
        usage(&k1, 1, 1, 0),
        "key 1 after deleting a credential with versions"
    );
    assert_eq!(
        usage_of(store, &k2).await,
        usage(&k2, 1, 0, 1),
        "key 2 after deleting a credential with versions"
    );
    must(
        delete(store, org, c2.credential.id).await,
        "delete_credential",
    );
    assert_eq!(
        usage_of(store, &k1).await,
        None,
        "a key whose last rows were deleted is still listed"
    );
}

/// Reads every batch of `kind` not under `not_under`, `limit` at a time, each after the
/// last row of the one before, checking each batch: at most `limit` rows, none under
/// `not_under`.
async fn all_sealed_batches<S: Store>(
    store: &S,
    kind: SealedKind,
    not_under: &KeyId,
    limit: usize,
) -> Vec<SealedRow> {
    let mut all: Vec<SealedRow> = Vec::new();
    for _ in 0..10_000 {
        let after = all.last().map(|row| row.reference.clone());
        let batch = must(
            store
                .sealed_batch(kind, not_under, after.as_ref(), limit)
                .await,
            "sealed_batch",
        );
        assert!(
            batch.len() <= limit,
            "sealed_batch returned {} rows for limit {limit}",
            batch.len()
        );
        for row in &batch {
            assert_eq!(row.reference.kind(), kind, "sealed_batch of {kind:?}");
            assert_ne!(
                row.sealed.key_id, *not_under,
                "sealed_batch returned a row already under {not_under}"
            );
        }
        let done = batch.len() < limit;
        all.extend(batch);
        if done {
            return all;
        }
    }
    panic!("sealed_batch kept returning full batches after 10000 batches");
}

/// The order a key rotation walks rows of one kind in.
fn order_key(reference: &SealedRef) -> (String, Option<CredentialId>, i64) {
    match reference {
        SealedRef::Meta(name) => (name.clone(), None, 0),
        SealedRef::Credential { id, .. } => (String::new(), Some(*id), 0),
        SealedRef::Version {
            credential_id,
            number,
            ..
        } => (String::new(), Some(*credential_id), *number),
    }
}

/// `sealed_batch` walks the rows of each kind exactly once, in the stable order (meta by
/// name, credentials by id, versions by credential and number), each batch strictly after
/// the cursor and at most `limit` long, skipping the rows already under the given key and
/// returning those under any other, with their sealed values and organizations.
pub async fn sealed_batch_walks_each_kind_in_order<S: Store>(store: &S) {
    let (old, current, other) = (
        unique_key_id("old"),
        unique_key_id("current"),
        unique_key_id("other"),
    );
    let org = new_organization(store).await;
    let second_org = new_organization(store).await;
    let mut expected: BTreeMap<SealedKind, Vec<SealedRow>> = BTreeMap::new();

    // Meta values: names sharing a prefix and ending in one digit sort the same in every
    // collation.
    let prefix = meta_name();
    for (i, key_id) in [&old, &current, &old, &other, &current, &old]
        .into_iter()
        .enumerate()
    {
        let name = format!("{prefix}-{i}");
        let value = sealed_under(key_id);
        assert!(
            must(
                store.insert_meta_if_absent(&name, &value).await,
                "insert_meta_if_absent"
            ),
            "a fresh meta name was taken"
        );
        if key_id != &current {
            expected
                .entry(SealedKind::Meta)
                .or_default()
                .push(SealedRow {
                    reference: SealedRef::Meta(name),
                    sealed: value,
                });
        }
    }

    // Credentials (without versions), in two organizations.
    for (i, key_id) in [&old, &current, &other, &old, &current, &old]
        .into_iter()
        .enumerate()
    {
        let organization = if i % 2 == 0 { org } else { second_org };
        let mut credential = sample_credential(organization, CredentialType::BearerToken);
        credential.sealed = sealed_under(key_id);
        must(insert(store, &credential).await, "insert_credential");
        if key_id != &current {
            expected
                .entry(SealedKind::Credential)
                .or_default()
                .push(SealedRow {
                    reference: SealedRef::Credential {
                        organization_id: organization,
                        id: credential.credential.id,
                        version: credential.credential.version,
                    },
                    sealed: credential.sealed,
                });
        }
    }

    // Versions of credentials that are themselves under the current key.
    for (organization, keys) in [
        (org, vec![&old, &current, &old]),
        (second_org, vec![&other, &old]),
        (org, vec![&current, &current]),
    ] {
        let mut credential = sample_credential(organization, CredentialType::BasicAuth);
        credential.sealed = sealed_under(&current);
        let versions: Vec<SecretVersion> = keys
            .iter()
            .zip(1..)
            .map(|(key_id, number)| {
                let mut version = sample_version(&credential, number);
                version.sealed = sealed_under(key_id);
                version
            })
            .collect();
        insert_with_versions(store, &credential, &versions).await;
        for version in versions.into_iter().filter(|v| v.sealed.key_id != current) {
            expected
                .entry(SealedKind::Version)
                .or_default()
                .push(SealedRow {
                    reference: SealedRef::Version {
                        organization_id: organization,
                        credential_id: version.credential_id,
                        number: version.number,
                    },
                    sealed: version.sealed,
                });
        }
    }

    for kind in SealedKind::ALL {
        let mut mine = expected.remove(&kind).unwrap_or_default();
        mine.sort_by_key(|row| order_key(&row.reference));
        for limit in [1, 2, 5, 1000] {
            let all = all_sealed_batches(store, kind, &current, limit).await;
            let keys: Vec<_> = all.iter().map(|row| order_key(&row.reference)).collect();
            if kind == SealedKind::Meta {
                // Other names may sort by the database's collation: only check there are
                // no duplicates among them.
                let unique: BTreeSet<_> = keys.iter().collect();
                assert_eq!(
                    unique.len(),
                    keys.len(),
                    "sealed_batch of {kind:?}, limit {limit}, returned a row twice"
                );
            } else {
                assert!(
                    keys.windows(2).all(|pair| pair[0] < pair[1]),
                    "sealed_batch of {kind:?}, limit {limit}, is not in strictly increasing \
                     order (a row twice, or out of order)"
                );
            }
            let found: Vec<SealedRow> = all
                .into_iter()
                .filter(|row| mine.iter().any(|m| m.reference == row.reference))
                .collect();
            assert_eq!(
                found, mine,
                "sealed_batch of {kind:?}, limit {limit}, does not return this check's rows \
                 not under the current key, each once, in order, with their sealed values"
            );
        }
        assert!(
            must(
                store.sealed_batch(kind, &current, None, 0).await,
                "sealed_batch"
            )
            .is_empty(),
            "sealed_batch of {kind:?} with limit 0 returned rows"
        );
        // A cursor past every row of this check returns none of them.
        let last = mine.last().map(|row| row.reference.clone());
        let after_last = must(
            store
                .sealed_batch(kind, &current, last.as_ref(), 1000)
                .await,
            "sealed_batch",
        );
        assert!(
            !after_last
                .iter()
                .any(|row| mine.iter().any(|m| m.reference == row.reference)),
            "sealed_batch of {kind:?} after the last row returned a row at or before it"
        );
    }
}

/// `replace_sealed` writes the new value and key id when the row still holds the value it
/// was read with (and changes nothing else of the row), and refuses (false, nothing
/// written) when the row changed meanwhile, was deleted, or is named in another
/// organization or (a credential) at another version; `key_usage` follows the moves.
pub async fn replace_sealed_is_a_compare_and_set<S: Store>(store: &S) {
    let (old, new) = (unique_key_id("old"), unique_key_id("new"));
    let org = new_organization(store).await;
    let other = new_organization(store).await;

    let name = meta_name();
    let meta = sealed_under(&old);
    assert!(
        must(
            store.insert_meta_if_absent(&name, &meta).await,
            "insert_meta_if_absent"
        ),
        "a fresh meta name was taken"
    );
    let mut credential = sample_credential(org, CredentialType::ApiKey);
    credential.sealed = sealed_under(&old);
    let id = credential.credential.id;
    let versions: Vec<SecretVersion> = (1..=2)
        .map(|n| {
            let mut version = sample_version(&credential, n);
            version.sealed = sealed_under(&old);
            version
        })
        .collect();
    insert_with_versions(store, &credential, &versions).await;
    assert_eq!(usage_of(store, &old).await, usage(&old, 1, 2, 1));

    let meta_row = SealedRow {
        reference: SealedRef::Meta(name.clone()),
        sealed: meta.clone(),
    };
    let credential_row = SealedRow {
        reference: SealedRef::Credential {
            organization_id: org,
            id,
            version: credential.credential.version,
        },
        sealed: credential.sealed.clone(),
    };
    let version_row = SealedRow {
        reference: SealedRef::Version {
            organization_id: org,
            credential_id: id,
            number: 1,
        },
        sealed: versions[0].sealed.clone(),
    };

    // Named in another organization: refused.
    for row in [&credential_row, &version_row] {
        let mut elsewhere = row.clone();
        match &mut elsewhere.reference {
            SealedRef::Credential {
                organization_id, ..
            }
            | SealedRef::Version {
                organization_id, ..
            } => *organization_id = other,
            SealedRef::Meta(_) => {}
        }
        assert!(
            !must(
                store.replace_sealed(&elsewhere, &sealed_under(&new)).await,
                "replace_sealed"
            ),
            "replace_sealed wrote a row named in another organization"
        );
    }
    // Named at another version (a blob bound to that version): refused.
    let mut other_version = credential_row.clone();
    if let SealedRef::Credential { version, .. } = &mut other_version.reference {
        *version += 1;
    }
    assert!(
        !must(
            store
                .replace_sealed(&other_version, &sealed_under(&new))
                .await,
            "replace_sealed"
        ),
        "replace_sealed wrote a credential row named at another version"
    );
    assert_eq!(usage_of(store, &new).await, None, "nothing moved yet");

    // Unchanged rows: written.
    let mut replacements = Vec::new();
    for row in [&meta_row, &credential_row, &version_row] {
        let replacement = sealed_under(&new);
        assert!(
            must(
                store.replace_sealed(row, &replacement).await,
                "replace_sealed"
            ),
            "replace_sealed of an unchanged {:?} row did not write",
            row.reference.kind()
        );
        replacements.push(replacement);
    }
    assert_eq!(
        must(store.get_meta(&name).await, "get_meta"),
        Some(replacements[0].clone()),
        "the meta value was not replaced"
    );
    let mut expected = credential.clone();
    expected.sealed = replacements[1].clone();
    assert_eq!(
        must(store.get_credential(org, id).await, "get_credential"),
        expected,
        "the credential's sealed value was not replaced, or something else changed"
    );
    let mut expected_version = versions[0].clone();
    expected_version.sealed = replacements[2].clone();
    assert_eq!(
        must(store.get_version(org, id, 1).await, "get_version"),
        expected_version,
        "the version's sealed value was not replaced, or something else changed"
    );
    assert_eq!(
        must(store.get_version(org, id, 2).await, "get_version"),
        versions[1],
        "replacing one version changed another"
    );
    assert_eq!(usage_of(store, &old).await, usage(&old, 0, 1, 0), "old key");
    assert_eq!(usage_of(store, &new).await, usage(&new, 1, 1, 1), "new key");

    // The same rows again: they changed (to the replacements) since they were read.
    for (row, replaced) in [&meta_row, &credential_row, &version_row]
        .into_iter()
        .zip(&replacements)
    {
        assert!(
            !must(
                store.replace_sealed(row, &sealed_under(&old)).await,
                "replace_sealed"
            ),
            "replace_sealed of a {:?} row that changed since it was read wrote",
            row.reference.kind()
        );
        let stored = match &row.reference {
            SealedRef::Meta(name) => must(store.get_meta(name).await, "get_meta"),
            SealedRef::Credential { .. } => {
                Some(must(store.get_credential(org, id).await, "get_credential").sealed)
            }
            SealedRef::Version { number, .. } => {
                Some(must(store.get_version(org, id, *number).await, "get_version").sealed)
            }
        };
        assert_eq!(
            stored.as_ref(),
            Some(replaced),
            "a refused replace_sealed changed the row"
        );
    }

    // A credential sealed afresh by an update after the rotation read it.
    let read = SealedRow {
        reference: credential_row.reference.clone(),
        sealed: replacements[1].clone(),
    };
    let mut updated = next_of(&expected);
    updated.sealed = sealed_under(&new);
    must(update(store, org, &updated, 1).await, "update_credential");
    assert!(
        !must(
            store.replace_sealed(&read, &sealed_under(&old)).await,
            "replace_sealed"
        ),
        "replace_sealed overwrote a credential updated since the row was read"
    );
    assert_eq!(
        must(store.get_credential(org, id).await, "get_credential"),
        updated,
        "a refused replace_sealed changed the updated credential"
    );

    // Deleted rows: nothing to write.
    let version_two = SealedRow {
        reference: SealedRef::Version {
            organization_id: org,
            credential_id: id,
            number: 2,
        },
        sealed: versions[1].sealed.clone(),
    };
    must(delete(store, org, id).await, "delete_credential");
    for row in [&read, &version_two] {
        assert!(
            !must(
                store.replace_sealed(row, &sealed_under(&new)).await,
                "replace_sealed"
            ),
            "replace_sealed of a deleted {:?} row wrote",
            row.reference.kind()
        );
    }
    assert_eq!(
        usage_of(store, &old).await,
        None,
        "old key after the delete"
    );
    assert_eq!(
        usage_of(store, &new).await,
        usage(&new, 0, 0, 1),
        "new key after the delete"
    );
}

/// The identity-provider subject of an actor (no access key) survives insert then list in
/// both logs at its limits (one character, 255 non-ASCII characters), and in the audit
/// events that changes and access-key issues write in their own transactions.
pub async fn actor_subjects_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let longest = "ü".repeat(255);
    let subjects = ["x", longest.as_str(), "auth0|5f7c8ec7 user@example.com"];
    let mut entries = Vec::new();
    let mut events = Vec::new();
    for subject in subjects {
        let mut entry = sample_request_log(org, CredentialId::new());
        entry.access_key_id = None;
        entry.actor_subject = Some(subject.to_owned());
        entries.push(entry);
        let mut event = sample_audit_event(Some(org));
        event.actor = None;
        event.actor_subject = Some(subject.to_owned());
        events.push(event);
    }
    insert_logs(store, &entries).await;
    insert_events(store, &events).await;
    entries.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        must(
            store.list_request_logs(org, &log_query(100)).await,
            "list_request_logs"
        ),
        entries,
        "request_logs.actor_subject does not round-trip"
    );

    let credential = sample_credential(org, CredentialType::BearerToken);
    let mut created = audit_of(&credential, AuditAction::CredentialCreate);
    created.actor = None;
    created.actor_subject = Some("svc-deployer@example.com".to_owned());
    must(
        store
            .insert_credential(&credential, &history(&[], 0, &created))
            .await,
        "insert_credential",
    );
    let key = sample_access_key(org);
    let mut issued = sample_change_audit(org, AuditAction::AccessKeyCreate, *key.key.id.as_uuid());
    issued.actor = None;
    issued.actor_subject = Some(longest.clone());
    must(
        store.insert_access_key(&key, &issued).await,
        "insert_access_key",
    );
    events.push(created);
    events.push(issued);
    events.sort_by_key(|e| Reverse(e.id));
    assert_eq!(
        must(
            store.list_audit_events(org, &audit_query(100)).await,
            "list_audit_events"
        ),
        events,
        "audit_events.actor_subject does not round-trip"
    );
}

// ---------------------------------------------------------------------------------------
// Organizations and meta
// ---------------------------------------------------------------------------------------

/// Inserted organizations are counted; an existing id is a `Conflict`.
pub async fn organizations_insert_and_count<S: Store>(store: &S) {
    let before = must(store.count_organizations().await, "count_organizations");
    let first = sample_organization();
    must(
        store.insert_organization(&first).await,
        "insert_organization",
    );
    new_organization(store).await;
    let after = must(store.count_organizations().await, "count_organizations");
    assert_eq!(after, before + 2, "count after inserting two organizations");

    let mut again = sample_organization();
    again.id = first.id;
    assert_conflict(
        store.insert_organization(&again).await,
        "insert_organization of an existing id",
    );
    let last = must(store.count_organizations().await, "count_organizations");
    assert_eq!(last, after, "a refused insert changed the count");
}

/// `organization_exists` is true for an inserted organization, false for any other id.
pub async fn organization_exists_answers_per_id<S: Store>(store: &S) {
    let org = new_organization(store).await;
    assert!(
        must(store.organization_exists(org).await, "organization_exists"),
        "an inserted organization does not exist"
    );
    assert!(
        !must(
            store.organization_exists(OrganizationId::new()).await,
            "organization_exists"
        ),
        "an organization nobody inserted exists"
    );
}

/// A missing meta value reads as `None`.
pub async fn meta_get_missing_is_none<S: Store>(store: &S) {
    let got = must(store.get_meta(&meta_name()).await, "get_meta");
    assert!(got.is_none(), "a missing meta name read as {got:?}");
}

/// The first `insert_meta_if_absent` writes (true), the next does not (false), and the
/// first value is what everyone reads.
pub async fn meta_first_insert_wins<S: Store>(store: &S) {
    let name = meta_name();
    let first = sample_sealed();
    let second = SealedBlob {
        key_id: KeyId::new("test-key-2"),
        bytes: sample_sealed().bytes,
    };
    assert!(
        must(
            store.insert_meta_if_absent(&name, &first).await,
            "insert_meta_if_absent"
        ),
        "the first insert_meta_if_absent returned false"
    );
    assert!(
        !must(
            store.insert_meta_if_absent(&name, &second).await,
            "insert_meta_if_absent"
        ),
        "a second insert_meta_if_absent returned true"
    );
    assert_eq!(
        must(store.get_meta(&name).await, "get_meta"),
        Some(first),
        "the meta value is not the first one written"
    );
}

/// Eight racing `insert_meta_if_absent` calls: exactly one returns true, and its value is
/// the one stored.
pub async fn meta_racing_inserts_have_one_winner<S: Store>(store: &S) {
    const RACERS: usize = 8;
    let name = meta_name();
    let values: Vec<SealedBlob> = (0..RACERS).map(|_| sample_sealed()).collect();
    let results = join_all(values.iter().map(|value| {
        let name = &name;
        async move {
            yield_now().await;
            must(
                store.insert_meta_if_absent(name, value).await,
                "insert_meta_if_absent",
            )
        }
    }))
    .await;
    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter_map(|(i, won)| won.then_some(i))
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "{} racing inserts returned true (winners {winners:?})",
        winners.len()
    );
    let stored = must(store.get_meta(&name).await, "get_meta");
    assert_eq!(
        stored.as_ref(),
        values.get(winners[0]),
        "the stored value is not the winner's"
    );
}

// ---------------------------------------------------------------------------------------
// The list of checks
// ---------------------------------------------------------------------------------------

/// Runs the whole store conformance suite against an adapter: expands to one
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` per check, each on a fresh
/// store from `$factory`, an async expression (it is `.await`ed once per test).
///
/// The calling crate needs `tokio` (features `macros`, `rt-multi-thread`) as a
/// dev-dependency. Invoke it once per module; the tests are named after the checks.
///
/// ```rust,ignore
/// vault_testkit::store_conformance!(vault_testkit::memory::MemoryStore::new_async());
/// ```
///
/// For an adapter whose backend may be missing where the tests run (a database server),
/// `skip_unless:` takes a factory returning `Option<S>`: on `None` each test returns early
/// (and passes), so the factory should say loudly why it gave no store.
///
/// ```rust,ignore
/// vault_testkit::store_conformance!(skip_unless: fresh_store_if_reachable());
/// ```
///
/// This is the one list of checks: a new check is a `pub async fn` in
/// [`store_suite`](crate::store_suite) plus one line here.
#[macro_export]
macro_rules! store_conformance {
    (skip_unless: $factory:expr) => {
        $crate::store_conformance!(@checks optional; $factory);
    };
    (@checks $mode:ident; $factory:expr) => {
        $crate::__store_conformance_tests! {
            $mode; $factory;
            credential_round_trip,
            get_missing_credential_is_not_found,
            duplicate_credential_id_conflicts,
            list_paginates_by_cursor,
            list_filters_by_type,
            list_filters_by_expiry,
            update_with_current_version_succeeds,
            update_with_stale_version_conflicts,
            update_or_delete_missing_is_not_found,
            delete_then_get_is_not_found,
            organizations_are_isolated,
            concurrent_updates_lose_no_write,
            access_key_round_trip,
            duplicate_access_key_conflicts,
            access_keys_list_paginates_per_organization,
            revoke_access_key_keeps_first_time,
            touch_access_key_records_last_use,
            request_log_round_trip,
            request_logs_list_newest_first_by_cursor,
            request_logs_filter_by_credential,
            request_logs_are_isolated,
            request_logs_outlive_their_credential,
            duplicate_request_log_id_conflicts,
            audit_event_round_trip,
            audit_events_list_newest_first_by_cursor,
            audit_events_filter_by_action_and_target,
            duplicate_audit_event_id_conflicts,
            actor_subjects_round_trip,
            organizations_insert_and_count,
            organization_exists_answers_per_id,
            meta_get_missing_is_none,
            meta_first_insert_wins,
            meta_racing_inserts_have_one_winner,
            credential_writes_record_their_audit_events,
            versions_round_trip,
            versions_keep_only_the_newest,
            refused_updates_write_no_version_or_audit_event,
            duplicate_version_number_conflicts_and_writes_nothing,
            delete_removes_versions_and_records_its_audit_event,
            delete_with_a_stale_version_conflicts_and_deletes_nothing,
            versions_are_isolated_by_organization,
            access_key_writes_record_their_audit_events,
            key_usage_counts_rows_per_key_and_kind,
            sealed_batch_walks_each_kind_in_order,
            replace_sealed_is_a_compare_and_set,
            access_key_bindings_round_trip_and_are_written_once,
            organization_key_usage_counts_only_that_organization,
            prune_log_deletes_only_entries_older_than_the_cutoff,
            prune_log_honours_the_batch_size_oldest_first,
            exclusive_runs_one_batch_of_a_job_at_a_time,
        }
    };
    ($factory:expr) => {
        $crate::store_conformance!(@checks always; $factory);
    };
}

/// Implementation detail of [`store_conformance!`](crate::store_conformance).
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_tests {
    (always; $factory:expr; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store = $factory.await;
                $crate::store_suite::$check(&store).await;
            }
        )+
    };
    (optional; $factory:expr; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(store) = $factory.await else {
                    return;
                };
                $crate::store_suite::$check(&store).await;
            }
        )+
    };
}
