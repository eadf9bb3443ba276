//! Checks of organizations, installation-wide meta values and the keyring.

use futures::future::join_all;
use vault_core::Store;
use vault_core::WrappedKeyring;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::ids::OrganizationId;
use vault_core::keyring::StoredKeyring;

use super::fixtures::{
    assert_conflict, meta_name, must, new_organization, sample_organization, sample_sealed,
    yield_now,
};

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

/// `organizations_named` finds every organization of exactly that name, and no other.
pub async fn organizations_named_finds_each_of_a_name<S: Store>(store: &S) {
    let name = format!("named {}", OrganizationId::new());
    let mut made = Vec::new();
    for _ in 0..2 {
        let mut organization = sample_organization();
        organization.name.clone_from(&name);
        must(
            store.insert_organization(&organization).await,
            "insert_organization",
        );
        made.push(organization.id);
    }
    let mut found = must(
        store.organizations_named(&name).await,
        "organizations_named",
    );
    found.sort();
    made.sort();
    assert_eq!(found, made, "the organizations of a name");
    let other = must(
        store.organizations_named(&name.to_uppercase()).await,
        "organizations_named",
    );
    assert!(
        other.is_empty(),
        "another name (case differs) found {other:?}"
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

fn sample_keyring(generation: i64, handover: Option<SealedBlob>) -> StoredKeyring {
    StoredKeyring {
        generation,
        wrapped: WrappedKeyring {
            manager: "transit".to_owned(),
            key: format!("transit key vault v{generation}"),
            bytes: format!("vault:v{generation}:c2VhbGVk").into_bytes(),
        },
        handover,
        // Whole microseconds: what every store keeps.
        changed_at: time::OffsetDateTime::from_unix_timestamp(1_800_000_000 + generation)
            .expect("time"),
    }
}

/// A fresh store has no keyring; the first save (expecting none) writes it and a second
/// does not; a save expecting the stored generation replaces it (clearing a hand-over),
/// one expecting another generation writes nothing.
pub async fn keyring_saves_are_a_compare_and_set<S: Store>(store: &S) {
    assert_eq!(must(store.get_keyring().await, "get_keyring"), None);
    let first = sample_keyring(1, Some(sample_sealed()));
    assert!(must(store.save_keyring(&first, None).await, "save_keyring"));
    assert!(
        !must(
            store.save_keyring(&sample_keyring(1, None), None).await,
            "save_keyring"
        ),
        "a second first keyring was written"
    );
    assert_eq!(must(store.get_keyring().await, "get_keyring"), Some(first));
    let second = sample_keyring(2, None);
    assert!(
        !must(store.save_keyring(&second, Some(7)).await, "save_keyring"),
        "a save from a generation not stored was written"
    );
    assert!(must(
        store.save_keyring(&second, Some(1)).await,
        "save_keyring"
    ));
    assert_eq!(
        must(store.get_keyring().await, "get_keyring"),
        Some(second),
        "the replaced keyring (without its hand-over) is not what was saved"
    );
}

/// Eight racing saves from the same generation: exactly one writes, and its keyring is
/// the one stored.
pub async fn keyring_racing_saves_have_one_winner<S: Store>(store: &S) {
    const RACERS: usize = 8;
    must(
        store.save_keyring(&sample_keyring(1, None), None).await,
        "save_keyring",
    );
    let values: Vec<StoredKeyring> = (0..RACERS)
        .map(|i| {
            let mut keyring = sample_keyring(2, None);
            keyring.wrapped.bytes.push(u8::try_from(i).expect("small"));
            keyring
        })
        .collect();
    let results = join_all(values.iter().map(|value| async move {
        yield_now().await;
        must(store.save_keyring(value, Some(1)).await, "save_keyring")
    }))
    .await;
    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter_map(|(i, won)| won.then_some(i))
        .collect();
    assert_eq!(winners.len(), 1, "racing saves won: {winners:?}");
    assert_eq!(
        must(store.get_keyring().await, "get_keyring").as_ref(),
        values.get(winners[0]),
        "the stored keyring is not the winner's"
    );
}
