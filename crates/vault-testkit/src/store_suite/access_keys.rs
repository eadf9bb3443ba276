//! Checks of the access-key bindings (issue 14) and of the per-organization key usage that
//! `GET /admin/keys` reports.

use vault_core::access_key::{KeyBinding, StoredAccessKey};
use vault_core::cipher::KeyId;
use vault_core::ids::{AccessKeyId, OrganizationId};
use vault_core::versions::KeyUsage;
use vault_core::{CredentialType, Store};

use super::{
    insert, insert_key, insert_with_versions, must, new_organization, sample_access_key,
    sample_credential, sample_version, sealed_under, unique_key_id,
};

fn random_binding() -> KeyBinding {
    KeyBinding(super::random_hash().0)
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
