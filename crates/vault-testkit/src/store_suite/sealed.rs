//! Checks of key rotation: the sealed rows of every kind.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;
use vault_core::Store;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::connections::{Connection, ConnectionStatus, Expected};
use vault_core::credential::CredentialType;
use vault_core::ids::{CredentialId, OrganizationId};
use vault_core::versions::{KeyUsage, SealedKind, SealedRef, SealedRow, SecretVersion};
use vault_core::webhooks::Webhook;

use super::connections::sample_connection;
use super::fixtures::{
    delete, insert, meta_name, must, new_organization, sample_credential, sample_sealed,
    sample_version, sealed_under, unique_key_id, update,
};
use super::versions::{insert_with_versions, next_of};
use super::webhooks::{insert_webhook, sample_webhook};

/// The usage of `key_id`, if it protects any row.
pub(super) async fn usage_of<S: Store>(store: &S, key_id: &KeyId) -> Option<KeyUsage> {
    let usage = must(store.key_usage().await, "key_usage");
    let mine: Vec<&KeyUsage> = usage.iter().filter(|u| u.key_id == *key_id).collect();
    assert!(
        mine.len() <= 1,
        "key_usage lists key {key_id} {} times",
        mine.len()
    );
    mine.first().map(|u| (*u).clone())
}

pub(super) fn usage(
    key_id: &KeyId,
    credentials: u64,
    versions: u64,
    meta: u64,
    connections: u64,
    webhooks: u64,
) -> Option<KeyUsage> {
    Some(KeyUsage {
        key_id: key_id.clone(),
        credentials,
        versions,
        meta,
        connections,
        webhooks,
    })
}

/// Saves a connection where there is none, and checks it wrote.
async fn save_new<S: Store>(store: &S, connection: &Connection) {
    let insert = Expected {
        generation: None,
        holder: None,
    };
    assert!(
        must(
            store.save_connection(connection, insert, None).await,
            "save_connection"
        ),
        "the first save of a connection did not write"
    );
}

/// `key_usage` counts the meta values, credentials, versions, connections' tokens and
/// webhooks' secrets sealed under each key id, by the stored key id (a connection without tokens is no
/// sealed row); a key id with no row left is not listed.
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
    // Connections: c1's tokens under k2; c2's connection holds none, so is no sealed row.
    let tokens = Connection {
        sealed: Some(sealed_under(&k2)),
        ..sample_connection(&c1, 1)
    };
    let no_tokens = Connection {
        status: ConnectionStatus::NeedsReconnect,
        sealed: None,
        ..sample_connection(&c2, 1)
    };
    for connection in [&tokens, &no_tokens] {
        save_new(store, connection).await;
    }
    assert!(
        must(
            store
                .insert_meta_if_absent(&meta_name(), &sealed_under(&k2))
                .await,
            "insert_meta_if_absent"
        ),
        "a fresh meta name was taken"
    );
    let webhook = Webhook {
        secret: sealed_under(&k2),
        ..sample_webhook(org)
    };
    must(insert_webhook(store, &webhook).await, "insert_webhook");

    assert_eq!(
        usage_of(store, &k1).await,
        usage(&k1, 2, 2, 0, 0, 0),
        "key 1"
    );
    assert_eq!(
        usage_of(store, &k2).await,
        usage(&k2, 1, 1, 1, 1, 1),
        "key 2"
    );
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
        usage(&k1, 1, 1, 0, 0, 0),
        "key 1 after deleting a credential with versions"
    );
    assert_eq!(
        usage_of(store, &k2).await,
        usage(&k2, 1, 0, 1, 0, 1),
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
fn order_key(reference: &SealedRef) -> (String, Option<Uuid>, i64) {
    match reference {
        SealedRef::Meta(name) => (name.clone(), None, 0),
        SealedRef::Credential { id, .. } => (String::new(), Some(*id.as_uuid()), 0),
        SealedRef::Version {
            credential_id,
            number,
            ..
        } => (String::new(), Some(*credential_id.as_uuid()), *number),
        SealedRef::Connection { credential_id, .. } => {
            (String::new(), Some(*credential_id.as_uuid()), 0)
        }
        SealedRef::Webhook { id, .. } => (String::new(), Some(*id.as_uuid()), 0),
    }
}

/// `sealed_batch` walks the rows of each kind exactly once, in the stable order (meta by
/// name, credentials by id, versions by credential and number, connections by
/// credential, webhooks by id), each batch strictly after
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

    // Connections' tokens, of credentials under the current key, in two organizations;
    // one without tokens (no sealed row).
    for (i, key_id) in [Some(&old), Some(&current), None, Some(&other), Some(&old)]
        .into_iter()
        .enumerate()
    {
        let organization = if i % 2 == 0 { org } else { second_org };
        let mut credential = sample_credential(organization, CredentialType::OAuth2);
        credential.sealed = sealed_under(&current);
        must(insert(store, &credential).await, "insert_credential");
        let generation = i64::try_from(i).unwrap_or_default() + 1;
        let connection = Connection {
            sealed: key_id.map(sealed_under),
            ..sample_connection(&credential, generation)
        };
        save_new(store, &connection).await;
        if let Some(sealed) = connection.sealed.filter(|s| s.key_id != current) {
            expected
                .entry(SealedKind::Connection)
                .or_default()
                .push(SealedRow {
                    reference: SealedRef::Connection {
                        organization_id: organization,
                        credential_id: credential.credential.id,
                        generation,
                    },
                    sealed,
                });
        }
    }

    // Webhooks' secrets, in two organizations.
    for (i, key_id) in [&old, &current, &other, &old].into_iter().enumerate() {
        let organization = if i % 2 == 0 { org } else { second_org };
        let webhook = Webhook {
            secret: sealed_under(key_id),
            ..sample_webhook(organization)
        };
        must(insert_webhook(store, &webhook).await, "insert_webhook");
        if key_id != &current {
            expected
                .entry(SealedKind::Webhook)
                .or_default()
                .push(SealedRow {
                    reference: SealedRef::Webhook {
                        organization_id: organization,
                        id: webhook.id,
                    },
                    sealed: webhook.secret,
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
    assert_eq!(usage_of(store, &old).await, usage(&old, 1, 2, 1, 0, 0));

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
            }
            | SealedRef::Connection {
                organization_id, ..
            }
            | SealedRef::Webhook {
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
    assert_eq!(
        usage_of(store, &old).await,
        usage(&old, 0, 1, 0, 0, 0),
        "old key"
    );
    assert_eq!(
        usage_of(store, &new).await,
        usage(&new, 1, 1, 1, 0, 0),
        "new key"
    );

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
            SealedRef::Connection { .. } | SealedRef::Webhook { .. } => {
                unreachable!("no connection or webhook row in this check")
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
        usage(&new, 0, 0, 1, 0, 0),
        "new key after the delete"
    );
}

/// The usage of `key_id` in `organization`, if it protects any of its rows.
pub(super) async fn organization_usage_of<S: Store>(
    store: &S,
    organization: OrganizationId,
    key_id: &KeyId,
) -> Option<KeyUsage> {
    must(
        store.organization_key_usage(organization).await,
        "organization_key_usage",
    )
    .into_iter()
    .find(|u| u.key_id == *key_id)
}

async fn connection_of<S: Store>(
    store: &S,
    organization: OrganizationId,
    credential: CredentialId,
) -> Option<Connection> {
    must(
        store.get_connection(organization, credential).await,
        "get_connection",
    )
}

/// A connection's tokens count for its organization only, and `replace_sealed` moves them
/// only while the row holds the tokens read, at the generation read: not when named in
/// another organization or at another generation, nor after a refresh wrote new tokens,
/// the tokens were dropped or the credential deleted; nothing else of the row changes.
pub async fn connection_tokens_are_rewrapped_at_their_generation<S: Store>(store: &S) {
    let (old, new) = (unique_key_id("old"), unique_key_id("new"));
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let credential = sample_credential(org, CredentialType::OAuth2);
    must(insert(store, &credential).await, "insert_credential");
    let id = credential.credential.id;
    let tokens = sealed_under(&old);
    let connection = Connection {
        sealed: Some(tokens.clone()),
        lease: None,
        ..sample_connection(&credential, 2)
    };
    save_new(store, &connection).await;
    assert_eq!(usage_of(store, &old).await, usage(&old, 0, 0, 0, 1, 0));
    assert_eq!(
        organization_usage_of(store, org, &old).await,
        usage(&old, 0, 0, 0, 1, 0)
    );
    assert_eq!(organization_usage_of(store, other, &old).await, None);

    let row = |organization_id, generation, sealed: &SealedBlob| SealedRow {
        reference: SealedRef::Connection {
            organization_id,
            credential_id: id,
            generation,
        },
        sealed: sealed.clone(),
    };
    for (misnamed, what) in [
        (row(other, 2, &tokens), "named in another organization"),
        (row(org, 3, &tokens), "named at another generation"),
    ] {
        assert!(
            !must(
                store.replace_sealed(&misnamed, &sealed_under(&new)).await,
                "replace_sealed"
            ),
            "replace_sealed wrote a connection {what}"
        );
    }
    assert_eq!(usage_of(store, &new).await, None, "nothing moved yet");

    // Unchanged: written, the rest of the row as it was.
    let replacement = sealed_under(&new);
    assert!(must(
        store
            .replace_sealed(&row(org, 2, &tokens), &replacement)
            .await,
        "replace_sealed of an unchanged connection"
    ));
    let rewrapped = Connection {
        sealed: Some(replacement.clone()),
        ..connection.clone()
    };
    assert_eq!(
        connection_of(store, org, id).await.as_ref(),
        Some(&rewrapped)
    );
    assert_eq!(usage_of(store, &old).await, None, "old key");
    assert_eq!(usage_of(store, &new).await, usage(&new, 0, 0, 0, 1, 0));
    assert!(
        !must(
            store
                .replace_sealed(&row(org, 2, &tokens), &sealed_under(&old))
                .await,
            "replace_sealed"
        ),
        "replace_sealed of a connection that changed since it was read wrote"
    );

    // A refresh after the rotation read the row: its tokens stay.
    let refreshed = Connection {
        generation: 3,
        sealed: Some(sealed_under(&new)),
        ..rewrapped
    };
    let at_two = Expected {
        generation: Some(2),
        holder: None,
    };
    assert!(must(
        store.save_connection(&refreshed, at_two, None).await,
        "save_connection"
    ));
    assert!(
        !must(
            store
                .replace_sealed(&row(org, 2, &replacement), &sealed_under(&old))
                .await,
            "replace_sealed"
        ),
        "replace_sealed overwrote the tokens of a refresh"
    );
    assert_eq!(
        connection_of(store, org, id).await.as_ref(),
        Some(&refreshed)
    );

    // Tokens dropped: no sealed row left to count or replace.
    let dropped = refreshed.sealed.clone().unwrap_or_else(sample_sealed);
    let lost = Connection {
        status: ConnectionStatus::NeedsReconnect,
        generation: 4,
        sealed: None,
        ..refreshed.clone()
    };
    let at_three = Expected {
        generation: Some(3),
        ..at_two
    };
    assert!(must(
        store.save_connection(&lost, at_three, None).await,
        "save_connection"
    ));
    assert_eq!(
        usage_of(store, &new).await,
        None,
        "a connection without tokens"
    );
    for generation in [3, 4] {
        assert!(
            !must(
                store
                    .replace_sealed(&row(org, generation, &dropped), &sealed_under(&old))
                    .await,
                "replace_sealed"
            ),
            "replace_sealed gave tokens to a connection that has none"
        );
    }
    assert_eq!(connection_of(store, org, id).await, Some(lost));

    // Deleted with its credential: nothing to write.
    let again = Connection {
        status: ConnectionStatus::Connected,
        generation: 5,
        sealed: Some(sealed_under(&old)),
        ..refreshed
    };
    let at_four = Expected {
        generation: Some(4),
        ..at_two
    };
    assert!(must(
        store.save_connection(&again, at_four, None).await,
        "save_connection"
    ));
    must(delete(store, org, id).await, "delete_credential");
    assert_eq!(
        usage_of(store, &old).await,
        None,
        "old key after the delete"
    );
    let stale = row(org, 5, again.sealed.as_ref().unwrap_or(&dropped));
    assert!(
        !must(
            store.replace_sealed(&stale, &sealed_under(&new)).await,
            "replace_sealed"
        ),
        "replace_sealed of a deleted connection wrote"
    );
}
