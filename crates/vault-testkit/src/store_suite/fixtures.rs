//! Test values every check builds on, the writes they use, and assertion helpers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vault_core::access_key::{
    AccessKey, AccessKeyName, KeyBinding, Organization, StoredAccessKey, TokenHash,
};
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::clock::truncate_to_micros;
use vault_core::credential::{
    Credential, CredentialKind, CredentialName, CredentialType, Description, StoredCredential,
};
use vault_core::egress::AllowedHosts;
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{AuditAction, AuditEvent, AuditOutcome, AuditQuery, RequestLogEntry};
use vault_core::store::{CredentialWrite, ListQuery, StoreError};
use vault_core::versions::SecretVersion;
use vault_core::{Scope, Store};

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
    CredentialKind::example(kind)
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
            ca_bundle: None,
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
        via: Some(format!("grant:{}", Uuid::now_v7())),
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
        via: Some("credentials:use-all".to_owned()),
        chain: None,
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
        via: None,
        chain: None,
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

pub(super) fn allowed_hosts(entries: &[&str]) -> AllowedHosts {
    let entries: Vec<String> = entries.iter().map(|&e| e.to_owned()).collect();
    AllowedHosts::parse(&entries).expect("valid allowedHosts entries")
}

pub(super) fn name(raw: &str) -> CredentialName {
    CredentialName::parse(raw).expect("a valid credential name")
}

pub(super) fn description(raw: &str) -> Description {
    Description::parse(raw).expect("a valid description")
}

pub(super) fn meta_name() -> String {
    format!("conformance-{}", Uuid::new_v4())
}

/// A key id no other check uses: `key_usage` and `sealed_batch` see the whole
/// installation, so checks of them only look at rows under key ids of their own.
pub(super) fn unique_key_id(label: &str) -> KeyId {
    KeyId::new(format!("conformance-{label}-{}", Uuid::new_v4()))
}

/// A fresh sealed blob under `key_id`.
pub(super) fn sealed_under(key_id: &KeyId) -> SealedBlob {
    SealedBlob {
        key_id: key_id.clone(),
        ..sample_sealed()
    }
}

/// Stores `credential` the way a create does: its audit event, no versions.
pub(super) async fn insert<S: Store>(
    store: &S,
    credential: &StoredCredential,
) -> Result<(), StoreError> {
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
pub(super) async fn update<S: Store>(
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
pub(super) async fn delete<S: Store>(
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
pub(super) async fn insert_key<S: Store>(
    store: &S,
    key: &StoredAccessKey,
) -> Result<(), StoreError> {
    let audit = sample_change_audit(
        key.key.organization_id,
        AuditAction::AccessKeyCreate,
        *key.key.id.as_uuid(),
    );
    store.insert_access_key(key, &audit).await
}

/// Revokes an access key with its audit event.
pub(super) async fn revoke_key<S: Store>(
    store: &S,
    organization: OrganizationId,
    id: AccessKeyId,
    at: OffsetDateTime,
) -> Result<AccessKey, StoreError> {
    let audit = sample_change_audit(organization, AuditAction::AccessKeyRevoke, *id.as_uuid());
    store.revoke_access_key(organization, id, at, &audit).await
}

/// The audit events about `target`, newest first.
pub(super) async fn events_about<S: Store>(
    store: &S,
    organization: OrganizationId,
    target: Uuid,
) -> Vec<AuditEvent> {
    let query = AuditQuery {
        target: Some(target),
        limit: 1000,
        ..AuditQuery::default()
    };
    unlinked(must(
        store.list_audit_events(organization, &query).await,
        "list_audit_events",
    ))
}

/// `events` without their chain links, to compare with the events as they were written
/// (the links are the store's to make; `audit_chain` checks them).
pub(super) fn unlinked(events: Vec<AuditEvent>) -> Vec<AuditEvent> {
    events
        .into_iter()
        .map(|event| AuditEvent {
            chain: None,
            ..event
        })
        .collect()
}

/// A credential's version numbers, as listed (newest first).
pub(super) async fn version_numbers<S: Store>(
    store: &S,
    organization: OrganizationId,
    id: CredentialId,
) -> Vec<i64> {
    must(store.list_versions(organization, id).await, "list_versions")
        .iter()
        .map(|v| v.number)
        .collect()
}

#[track_caller]
pub(super) fn must<T>(result: Result<T, StoreError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{what} failed: {error} ({error:?})"),
    }
}

#[track_caller]
pub(super) fn assert_not_found<T: Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "{what}: expected StoreError::NotFound, got {result:?}"
    );
}

#[track_caller]
pub(super) fn assert_conflict<T: Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "{what}: expected StoreError::Conflict, got {result:?}"
    );
}

pub(super) fn ids(items: &[Credential]) -> Vec<CredentialId> {
    items.iter().map(|c| c.id).collect()
}

pub(super) fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut out = items.to_vec();
    out.sort();
    out
}

pub(super) fn query(limit: usize) -> ListQuery {
    ListQuery {
        limit,
        ..ListQuery::default()
    }
}

/// Returns `Pending` once, so that futures polled together by `join_all` interleave at this
/// point even when the store under test never suspends (the memory store).
pub(super) fn yield_now() -> impl Future<Output = ()> {
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

pub(super) async fn insert_all<S: Store>(store: &S, credentials: &[StoredCredential]) {
    for credential in credentials {
        must(insert(store, credential).await, "insert_credential");
    }
}

/// Reads every page of a list with page size `limit`, checking each page on the way.
pub(super) async fn list_all_pages<S: Store>(
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
