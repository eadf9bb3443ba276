//! Checks of access keys: round trips, lists, revocation and last use, the bindings
//! (issue 14), and the per-organization key usage that `GET /admin/keys` reports.

use time::Duration;
use vault_core::access_key::{AccessKey, KeyBinding, StoredAccessKey};
use vault_core::cipher::KeyId;
use vault_core::ids::{AccessKeyId, OrganizationId};
use vault_core::store::KeyListQuery;
use vault_core::versions::KeyUsage;
use vault_core::{CredentialType, Scope, Store};

use super::fixtures::{
    assert_conflict, assert_not_found, insert, insert_key, must, new_organization, random_hash,
    revoke_key, sample_access_key, sample_credential, sample_time, sample_version, sealed_under,
    unique_key_id,
};
use super::versions::insert_with_versions;

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

fn random_binding() -> KeyBinding {
    KeyBinding(random_hash().0)
}

fn unbound_key(organization: OrganizationId) -> StoredAccessKey {
    StoredAccessKey {
        binding: None,
        ..sample_access_key(organization)
    }
}

/// Every unbound key, `limit` at a time, each page after the last id of the one before.
async fn all_unbound<S: Store>(store: &S, limit: usize) -> Vec<AccessKeyId> {
    let mut all = Vec::new();
    let mut after = None;
    for _ in 0..10_000 {
        let page = must(
            store.unbound_access_keys(after, limit).await,
            "unbound_access_keys",
        );
        assert!(page.len() <= limit, "unbound_access_keys ignored the limit");
        assert!(
            page.iter().all(|k| k.binding.is_none()),
            "unbound_access_keys returned a bound key"
        );
        let done = page.len() < limit;
        after = page.last().map(|k| k.key.id);
        all.extend(page.into_iter().map(|k| k.key.id));
        if done {
            return all;
        }
    }
    panic!("unbound_access_keys never ran out");
}

/// A key's binding reads back as stored; keys without one are listed (of every
/// organization, in id order, by cursor) until bound; a binding is written once only.
pub async fn access_key_bindings_round_trip_and_are_written_once<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let bound = sample_access_key(org);
    must(insert_key(store, &bound).await, "insert_access_key");
    let found = must(store.find_access_key(&bound.hash).await, "find_access_key");
    assert_eq!(
        found.map(|k| k.binding),
        Some(bound.binding),
        "the binding read back"
    );

    let mut unbound = vec![unbound_key(org), unbound_key(other), unbound_key(org)];
    for key in &unbound {
        must(insert_key(store, key).await, "insert_access_key");
    }
    unbound.sort_by_key(|k| k.key.id);
    let ids: Vec<AccessKeyId> = unbound.iter().map(|k| k.key.id).collect();
    assert_eq!(
        all_unbound(store, 2).await,
        ids,
        "the unbound keys of every organization, in id order, each once, no bound one"
    );
    let listed = must(
        store.unbound_access_keys(None, 10).await,
        "unbound_access_keys",
    );
    assert_eq!(listed, unbound, "unbound keys read back whole");

    let binding = random_binding();
    assert!(
        must(
            store.bind_access_key(ids[1], &binding).await,
            "bind_access_key"
        ),
        "binding an unbound key wrote nothing"
    );
    assert!(
        !must(
            store.bind_access_key(ids[1], &random_binding()).await,
            "a second bind_access_key"
        ),
        "a bound key was bound again"
    );
    assert!(
        !must(
            store.bind_access_key(bound.key.id, &random_binding()).await,
            "bind_access_key of a key created bound"
        ),
        "a key created with a binding was re-bound"
    );
    assert!(
        !must(
            store
                .bind_access_key(AccessKeyId::new(), &random_binding())
                .await,
            "bind_access_key of a missing key"
        ),
        "a missing key was bound"
    );
    let rebound = must(
        store.find_access_key(&unbound[1].hash).await,
        "find_access_key",
    );
    assert_eq!(
        rebound.map(|k| k.binding),
        Some(Some(binding)),
        "the first binding stays"
    );
    let still = must(store.find_access_key(&bound.hash).await, "find_access_key");
    assert_eq!(still.map(|k| k.binding), Some(bound.binding));
    assert_eq!(
        all_unbound(store, 10).await,
        vec![ids[0], ids[2]],
        "a bound key is no longer listed"
    );
}

fn usage_in(usage: &[KeyUsage], key_id: &KeyId) -> Option<(u64, u64, u64)> {
    let mine: Vec<&KeyUsage> = usage.iter().filter(|u| u.key_id == *key_id).collect();
    assert!(mine.len() <= 1, "key {key_id} listed {} times", mine.len());
    mine.first().map(|u| (u.credentials, u.versions, u.meta))
}

/// `organization_key_usage` counts one organization's credentials and versions per key,
/// nothing of another organization's, and no meta value.
pub async fn organization_key_usage_counts_only_that_organization<S: Store>(store: &S) {
    let (k1, k2) = (unique_key_id("org-k1"), unique_key_id("org-k2"));
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let mut mine = sample_credential(org, CredentialType::ApiKey);
    mine.sealed = sealed_under(&k1);
    let mut v1 = sample_version(&mine, 1);
    v1.sealed = sealed_under(&k1);
    let mut v2 = sample_version(&mine, 2);
    v2.sealed = sealed_under(&k2);
    insert_with_versions(store, &mine, &[v1, v2]).await;
    for _ in 0..3 {
        let mut theirs = sample_credential(other, CredentialType::BearerToken);
        theirs.sealed = sealed_under(&k1);
        must(insert(store, &theirs).await, "insert_credential");
    }
    assert!(
        must(
            store
                .insert_meta_if_absent(
                    &format!("conformance-{}", uuid::Uuid::new_v4()),
                    &sealed_under(&k2)
                )
                .await,
            "insert_meta_if_absent"
        ),
        "a fresh meta name was taken"
    );

    let usage = must(
        store.organization_key_usage(org).await,
        "organization_key_usage",
    );
    assert_eq!(
        usage_in(&usage, &k1),
        Some((1, 1, 0)),
        "key 1 of the organization"
    );
    assert_eq!(
        usage_in(&usage, &k2),
        Some((0, 1, 0)),
        "key 2: one version, no meta"
    );
    let usage = must(
        store.organization_key_usage(other).await,
        "organization_key_usage",
    );
    assert_eq!(
        usage_in(&usage, &k1),
        Some((3, 0, 0)),
        "the other organization"
    );
    assert_eq!(
        usage_in(&usage, &k2),
        None,
        "the other organization has nothing under key 2"
    );
    let empty = must(
        store
            .organization_key_usage(new_organization(store).await)
            .await,
        "organization_key_usage",
    );
    assert!(empty.is_empty(), "an empty organization: {empty:?}");
}
