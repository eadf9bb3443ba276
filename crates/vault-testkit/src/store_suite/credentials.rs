//! Checks of credentials: round trips, lists and their filters, optimistic concurrency,
//! deletes, and isolation between organizations.

use std::collections::BTreeMap;

use futures::future::join_all;
use time::Duration;
use uuid::Uuid;
use vault_core::Store;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::credential::{CredentialKind, CredentialType, Description, Placement};
use vault_core::credential_types::api_key;
use vault_core::egress::AllowedHosts;
use vault_core::ids::CredentialId;
use vault_core::logs::AuditAction;
use vault_core::store::{CredentialWrite, KeyListQuery, ListQuery, StoreError};

use super::fixtures::{
    allowed_hosts, assert_conflict, assert_not_found, delete, description, events_about, ids,
    insert, insert_all, insert_key, list_all_pages, must, name, new_organization, query,
    sample_access_key, sample_change_audit, sample_credential, sample_sealed, sample_time,
    sample_version, sorted, update, version_numbers, yield_now,
};
use super::logs::event_ids;

/// Every field survives insert then get (sealed bytes, key id, timestamps to the
/// microsecond, JSON public fields, hints, allowed hosts, absent optional fields and empty
/// lists) and list.
pub async fn credential_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let mut inserted = Vec::new();
    for (i, &kind) in CredentialType::ALL.iter().enumerate() {
        let mut credential = sample_credential(org, kind);
        if i % 2 == 0 {
            credential.credential.ca_bundle = Some(sample_ca_bundle());
        } else {
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
        assert_eq!(g.ca_bundle, c.ca_bundle, "{kind}: CA bundle changed");
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
        for &kind in CredentialType::ALL {
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
    c.kind = CredentialKind::ApiKey(api_key::Config {
        placement: Placement::api_key_default(),
    });
    c.secret_hints = BTreeMap::from([("value".to_owned(), "…1234".to_owned())]);
    c.allowed_hosts = allowed_hosts(&["https://auth.example.com:8443", "[::1]:8080"]);
    c.expires_at = Some(later + Duration::days(7));
    c.ca_bundle = Some(sample_ca_bundle());
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
    third.credential.ca_bundle = None;
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

/// A bundle of two certificates (the store keeps its text; the adapter parses it).
fn sample_ca_bundle() -> vault_core::ca_bundle::CaBundle {
    vault_core::ca_bundle::CaBundle::parse(
        "-----BEGIN CERTIFICATE-----\nMIIBroot1\n-----END CERTIFICATE-----\n\
         -----BEGIN CERTIFICATE-----\nMIIBroot2\n-----END CERTIFICATE-----",
    )
    .expect("a bundle")
}
