//! Checks of a credential's history: versions and the audit events written with each
//! change.

use std::cmp::Reverse;

use vault_core::Store;
use vault_core::cipher::KeyId;
use vault_core::credential::{CredentialType, StoredCredential};
use vault_core::ids::{AccessKeyId, CredentialId};
use vault_core::logs::{AuditAction, AuditEvent};
use vault_core::store::CredentialWrite;
use vault_core::versions::{SecretVersion, VersionInfo};

use super::fixtures::{
    assert_conflict, assert_not_found, events_about, insert, must, name, new_organization,
    sample_access_key, sample_change_audit, sample_credential, sample_sealed, sample_time,
    sample_version, update, version_numbers,
};

/// A write of `versions`, keeping the newest `keep`, recorded by `audit`.
pub(super) fn history<'a>(
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
pub(super) fn next_of(credential: &StoredCredential) -> StoredCredential {
    let mut next = credential.clone();
    next.credential.version += 1;
    next.credential.updated_at = sample_time();
    next.sealed = sample_sealed();
    next
}

pub(super) fn audit_of(credential: &StoredCredential, action: AuditAction) -> AuditEvent {
    let c = &credential.credential;
    sample_change_audit(c.organization_id, action, *c.id.as_uuid())
}

/// Inserts `credential` with `versions`, keeping every one; returns the create's event.
pub(super) async fn insert_with_versions<S: Store>(
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
