//! Checks of OAuth2 connections (issue 18): round trips, organization scoping, the
//! compare-and-set of a write, the refresh lease under concurrency, single-use connect
//! states, and what goes with a deleted credential or a revoked key.

use time::Duration;
use uuid::Uuid;
use vault_core::connections::{
    ConnectState, Connection, ConnectionStatus, Expected, Lease, StateHash,
};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::{AuditAction, AuditEvent};
use vault_core::{CredentialType, Store, StoredCredential};

use super::fixtures::{
    assert_not_found, delete, events_about, insert, insert_key, must, new_organization,
    random_hash, revoke_key, sample_access_key, sample_change_audit, sample_credential,
    sample_sealed, sample_time, yield_now,
};

/// How many callers race in the concurrency checks.
const RACERS: usize = 8;

/// A connected connection of `credential` at `generation`, with every optional field set
/// (tokens, their expiry, a lease, a reason).
#[must_use]
pub fn sample_connection(credential: &StoredCredential, generation: i64) -> Connection {
    let now = sample_time();
    Connection {
        organization_id: credential.credential.organization_id,
        credential_id: credential.credential.id,
        status: ConnectionStatus::Connected,
        generation,
        sealed: Some(sample_sealed()),
        access_expires_at: Some(now + Duration::hours(1)),
        lease: Some(Lease {
            holder: Uuid::new_v4(),
            until: now + Duration::seconds(30),
        }),
        reason: Some("a reason ✓".to_owned()),
        connected_at: now - Duration::days(1),
        updated_at: now,
    }
}

/// A connect flow of `credential` started by `access_key`, with a fresh hash, a subject,
/// and 10 minutes to live.
#[must_use]
pub fn sample_connect_state(
    credential: &StoredCredential,
    access_key: Option<AccessKeyId>,
) -> ConnectState {
    ConnectState {
        hash: StateHash(random_hash().0),
        organization_id: credential.credential.organization_id,
        credential_id: credential.credential.id,
        access_key_id: access_key,
        subject: Some("auth0|sübject-42".to_owned()),
        redirect_uri: "https://vault.example.com/oauth2/callback?x=ü".to_owned(),
        expires_at: sample_time() + Duration::minutes(10),
    }
}

/// A stored `oauth2` credential of `organization`.
async fn oauth2_credential<S: Store>(store: &S, organization: OrganizationId) -> StoredCredential {
    let credential = sample_credential(organization, CredentialType::OAuth2);
    must(insert(store, &credential).await, "insert_credential");
    credential
}

/// The audit event of a connect of `connection`.
fn connect_audit(connection: &Connection) -> AuditEvent {
    sample_change_audit(
        connection.organization_id,
        AuditAction::ConnectionConnect,
        *connection.credential_id.as_uuid(),
    )
}

const INSERT: Expected = Expected {
    generation: None,
    holder: None,
};

const fn at(generation: i64) -> Expected {
    Expected {
        generation: Some(generation),
        holder: None,
    }
}

async fn get<S: Store>(store: &S, connection: &Connection) -> Option<Connection> {
    must(
        store
            .get_connection(connection.organization_id, connection.credential_id)
            .await,
        "get_connection",
    )
}

/// Saves `connection` as a connect (no row yet) and checks it wrote.
async fn connect<S: Store>(store: &S, connection: &Connection) {
    let audit = connect_audit(connection);
    assert!(
        must(
            store
                .save_connection(connection, INSERT, Some(&audit))
                .await,
            "save_connection"
        ),
        "the first save of a connection did not write"
    );
}

/// Whether the audit log holds the event `id` about `connection`'s credential.
async fn logged<S: Store>(store: &S, connection: &Connection, id: Uuid) -> bool {
    events_about(
        store,
        connection.organization_id,
        *connection.credential_id.as_uuid(),
    )
    .await
    .iter()
    .any(|event| event.id == id)
}

/// A connection reads back field for field (a bare one, needing a reconnect, without
/// tokens or lease, too), alone and in lists of its organization's connections, with the
/// audit event written with it; a credential never connected has none.
pub async fn connection_round_trip<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let (first, second, never) = (
        oauth2_credential(store, org).await,
        oauth2_credential(store, org).await,
        oauth2_credential(store, org).await,
    );
    let full = sample_connection(&first, 1);
    let bare = Connection {
        status: ConnectionStatus::NeedsReconnect,
        sealed: None,
        access_expires_at: None,
        lease: None,
        reason: None,
        ..sample_connection(&second, 7)
    };
    for connection in [&full, &bare] {
        let audit = connect_audit(connection);
        assert!(
            must(
                store
                    .save_connection(connection, INSERT, Some(&audit))
                    .await,
                "save_connection"
            ),
            "the first save of a connection did not write"
        );
        assert_eq!(get(store, connection).await.as_ref(), Some(connection));
        assert!(
            logged(store, connection, audit.id).await,
            "the save's audit event"
        );
    }
    // Saved without an event: none is written.
    let third = sample_connection(&never, 1);
    assert_eq!(
        must(store.get_connection(org, never.credential.id).await, "get"),
        None,
        "a credential never connected"
    );
    assert!(must(
        store.save_connection(&third, INSERT, None).await,
        "save_connection without an event"
    ));
    assert!(
        events_about(store, org, *never.credential.id.as_uuid())
            .await
            .iter()
            .all(|e| e.action != AuditAction::ConnectionConnect),
        "a save without an event wrote one"
    );

    let mut all = vec![full.clone(), bare.clone(), third];
    all.sort_by_key(|c| c.credential_id);
    let ids: Vec<CredentialId> = all.iter().rev().map(|c| c.credential_id).collect();
    let listed = must(store.connections_of(org, &ids).await, "connections_of");
    assert_eq!(listed, all, "connections_of, in credential id order");
    let some = must(
        store
            .connections_of(org, &[second.credential.id, CredentialId::new()])
            .await,
        "connections_of",
    );
    assert_eq!(some, [bare], "connections_of returns only those asked for");
    assert!(
        must(store.connections_of(org, &[]).await, "connections_of none").is_empty(),
        "no credential, no connection"
    );
}

/// Another organization's credential behaves as a missing one: its connection is not
/// read, listed, leased or written (`NotFound`), and a connection of no credential cannot
/// be saved.
pub async fn connections_are_isolated_by_organization<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let other = new_organization(store).await;
    let credential = oauth2_credential(store, org).await;
    let connection = Connection {
        lease: None,
        ..sample_connection(&credential, 1)
    };
    connect(store, &connection).await;
    let id = credential.credential.id;
    assert_eq!(
        must(store.get_connection(other, id).await, "get_connection"),
        None
    );
    assert!(must(store.connections_of(other, &[id]).await, "connections_of").is_empty());
    let lease = Lease {
        holder: Uuid::new_v4(),
        until: sample_time() + Duration::seconds(30),
    };
    assert!(
        !must(
            store.take_lease(other, id, 1, lease, sample_time()).await,
            "take_lease"
        ),
        "a lease taken through another organization"
    );
    let elsewhere = Connection {
        organization_id: other,
        generation: 2,
        ..connection.clone()
    };
    for expected in [INSERT, at(1)] {
        let audit = connect_audit(&elsewhere);
        assert_not_found(
            store
                .save_connection(&elsewhere, expected, Some(&audit))
                .await,
            "saving a connection of another organization's credential",
        );
    }
    let nowhere = sample_connection(&sample_credential(org, CredentialType::OAuth2), 1);
    assert_not_found(
        store.save_connection(&nowhere, INSERT, None).await,
        "saving a connection of no credential",
    );
    assert_eq!(
        get(store, &connection).await,
        Some(connection),
        "the refused writes changed the connection"
    );
}

/// A save writes the whole row only over what it expects: an insert only where there is
/// no row (a second one returns false), an update only at the stored generation (a stale
/// one, or one where there is no row, returns false); a save that returns false writes
/// nothing, its audit event included.
pub async fn saving_a_connection_is_a_compare_and_set<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = oauth2_credential(store, org).await;
    let first = sample_connection(&credential, 1);

    let early = connect_audit(&first);
    assert!(
        !must(
            store.save_connection(&first, at(1), Some(&early)).await,
            "save_connection"
        ),
        "an update of a connection that does not exist wrote"
    );
    assert_eq!(get(store, &first).await, None);
    assert!(!logged(store, &first, early.id).await);
    connect(store, &first).await;

    let again = Connection {
        generation: 5,
        ..sample_connection(&credential, 5)
    };
    let refused = connect_audit(&again);
    assert!(
        !must(
            store.save_connection(&again, INSERT, Some(&refused)).await,
            "a second insert"
        ),
        "a second insert of a connection wrote"
    );
    assert_eq!(get(store, &first).await.as_ref(), Some(&first));
    assert!(
        !logged(store, &first, refused.id).await,
        "a save that wrote nothing wrote its audit event"
    );

    // A refresh: every column written, the lease released and the tokens replaced.
    let refreshed = Connection {
        generation: 2,
        sealed: Some(sample_sealed()),
        access_expires_at: Some(sample_time() + Duration::hours(2)),
        lease: None,
        reason: None,
        updated_at: sample_time() + Duration::seconds(1),
        ..first.clone()
    };
    let audit = connect_audit(&refreshed);
    assert!(must(
        store.save_connection(&refreshed, at(1), Some(&audit)).await,
        "save_connection at the stored generation"
    ));
    assert_eq!(get(store, &first).await.as_ref(), Some(&refreshed));
    assert!(logged(store, &first, audit.id).await);

    // A stale writer (it read generation 1): refused, nothing written.
    let stale = Connection {
        generation: 2,
        sealed: Some(sample_sealed()),
        ..first.clone()
    };
    let refused = connect_audit(&stale);
    assert!(
        !must(
            store.save_connection(&stale, at(1), Some(&refused)).await,
            "save_connection at a stale generation"
        ),
        "a write at a stale generation wrote"
    );
    assert_eq!(get(store, &first).await.as_ref(), Some(&refreshed));
    assert!(!logged(store, &first, refused.id).await);

    // Lost: the tokens go, the reason is kept.
    let lost = Connection {
        status: ConnectionStatus::NeedsReconnect,
        generation: 3,
        sealed: None,
        access_expires_at: None,
        reason: Some("invalid_grant".to_owned()),
        ..refreshed
    };
    let audit = sample_change_audit(
        org,
        AuditAction::ConnectionLost,
        *credential.credential.id.as_uuid(),
    );
    assert!(must(
        store.save_connection(&lost, at(2), Some(&audit)).await,
        "save_connection of a lost connection"
    ));
    assert_eq!(get(store, &first).await, Some(lost));
}

/// A write that names a lease holder writes only while that holder holds the row's lease.
pub async fn a_write_under_a_lease_needs_its_holder<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = oauth2_credential(store, org).await;
    let connection = Connection {
        lease: None,
        ..sample_connection(&credential, 1)
    };
    connect(store, &connection).await;
    let result = Connection {
        generation: 2,
        sealed: Some(sample_sealed()),
        ..connection.clone()
    };
    let (holder, intruder) = (Uuid::new_v4(), Uuid::new_v4());
    let held = |holder| Expected {
        generation: Some(1),
        holder: Some(holder),
    };
    assert!(
        !must(
            store.save_connection(&result, held(holder), None).await,
            "save_connection"
        ),
        "a write naming a holder wrote where no lease is held"
    );
    let lease = Lease {
        holder,
        until: sample_time() + Duration::seconds(30),
    };
    assert!(must(
        store
            .take_lease(org, credential.credential.id, 1, lease, sample_time())
            .await,
        "take_lease"
    ));
    assert!(
        !must(
            store.save_connection(&result, held(intruder), None).await,
            "save_connection"
        ),
        "a write by another holder than the lease's wrote"
    );
    assert_eq!(
        get(store, &connection).await.and_then(|c| c.lease),
        Some(lease)
    );
    assert!(must(
        store.save_connection(&result, held(holder), None).await,
        "save_connection by the lease's holder"
    ));
    assert_eq!(get(store, &connection).await, Some(result));
}

/// Of callers racing for one generation's lease, exactly one gets it, and the row holds
/// that one's lease.
pub async fn take_lease_has_exactly_one_winner<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = oauth2_credential(store, org).await;
    let connection = Connection {
        lease: None,
        ..sample_connection(&credential, 3)
    };
    connect(store, &connection).await;
    let now = sample_time();
    let leases: Vec<Lease> = (0..RACERS)
        .map(|_| Lease {
            holder: Uuid::new_v4(),
            until: now + Duration::seconds(30),
        })
        .collect();
    let racers = leases.iter().map(|lease| async {
        yield_now().await;
        store
            .take_lease(org, credential.credential.id, 3, *lease, now)
            .await
    });
    let won: Vec<Lease> = futures::future::join_all(racers)
        .await
        .into_iter()
        .zip(&leases)
        .filter_map(|(taken, lease)| must(taken, "take_lease").then_some(*lease))
        .collect();
    assert_eq!(
        won.len(),
        1,
        "{} of {RACERS} racers took the lease",
        won.len()
    );
    assert_eq!(
        get(store, &connection).await,
        Some(Connection {
            lease: Some(won[0]),
            ..connection
        }),
        "the row holds the winner's lease, and nothing else changed"
    );
}

/// A lease not yet ended blocks others; one ended before `now` is taken over; a row
/// needing a reconnect, another generation, or no row cannot be leased.
pub async fn take_lease_waits_for_the_lease_to_end<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = oauth2_credential(store, org).await;
    let id = credential.credential.id;
    let connection = Connection {
        lease: None,
        ..sample_connection(&credential, 4)
    };
    connect(store, &connection).await;
    let now = sample_time();
    let lease = |until| Lease {
        holder: Uuid::new_v4(),
        until,
    };
    let first = lease(now + Duration::seconds(30));
    assert!(must(
        store.take_lease(org, id, 4, first, now).await,
        "take_lease"
    ));
    let blocked = lease(now + Duration::seconds(60));
    for when in [now, now + Duration::seconds(29)] {
        assert!(
            !must(
                store.take_lease(org, id, 4, blocked, when).await,
                "take_lease"
            ),
            "a lease taken while another is held"
        );
    }
    assert!(
        !must(
            store
                .take_lease(org, id, 5, blocked, now + Duration::minutes(5))
                .await,
            "take_lease"
        ),
        "a lease taken on another generation than the row's"
    );
    let later = now + Duration::seconds(31);
    let second = lease(later + Duration::seconds(30));
    assert!(
        must(
            store.take_lease(org, id, 4, second, later).await,
            "take_lease"
        ),
        "an ended lease was not taken over"
    );
    assert_eq!(
        get(store, &connection).await.and_then(|c| c.lease),
        Some(second)
    );

    let lost = Connection {
        status: ConnectionStatus::NeedsReconnect,
        generation: 5,
        sealed: None,
        lease: None,
        ..connection.clone()
    };
    assert!(must(
        store.save_connection(&lost, at(4), None).await,
        "save_connection"
    ));
    assert!(
        !must(
            store.take_lease(org, id, 5, lease(later), later).await,
            "take_lease"
        ),
        "a connection needing a reconnect was leased"
    );
    let never = oauth2_credential(store, org).await;
    assert!(
        !must(
            store
                .take_lease(org, never.credential.id, 1, lease(later), later)
                .await,
            "take_lease"
        ),
        "a credential never connected was leased"
    );
}

/// A connect state is returned once, whole, then never again; an unknown hash returns
/// none; storing another state keeps those not expired.
pub async fn connect_states_are_taken_once<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = oauth2_credential(store, org).await;
    let by_key = sample_connect_state(&credential, Some(AccessKeyId::new()));
    let bare = ConnectState {
        access_key_id: None,
        subject: None,
        ..sample_connect_state(&credential, None)
    };
    // The second is stored later, while the first has not expired: it stays.
    let now = sample_time();
    for (state, when) in [(&by_key, now), (&bare, now + Duration::minutes(5))] {
        must(
            store.insert_connect_state(state, when).await,
            "insert_connect_state",
        );
    }
    for state in [&by_key, &bare] {
        assert_eq!(
            must(
                store.take_connect_state(&state.hash).await,
                "take_connect_state"
            )
            .as_ref(),
            Some(state)
        );
        assert_eq!(
            must(
                store.take_connect_state(&state.hash).await,
                "take_connect_state"
            ),
            None,
            "a connect state was returned twice"
        );
    }
    assert_eq!(
        must(
            store.take_connect_state(&StateHash(random_hash().0)).await,
            "take_connect_state"
        ),
        None
    );
}

/// Of callers racing to take one connect state, exactly one gets it.
pub async fn concurrent_takes_of_a_connect_state_have_one_winner<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = oauth2_credential(store, org).await;
    let state = sample_connect_state(&credential, None);
    must(
        store.insert_connect_state(&state, sample_time()).await,
        "insert_connect_state",
    );
    let racers = (0..RACERS).map(|_| async {
        yield_now().await;
        store.take_connect_state(&state.hash).await
    });
    let taken: Vec<ConnectState> = futures::future::join_all(racers)
        .await
        .into_iter()
        .filter_map(|taken| must(taken, "take_connect_state"))
        .collect();
    assert_eq!(taken, [state], "racers that got the state");
}

/// Deleting a credential deletes its connection and its connect states, and only its own.
pub async fn deleting_a_credential_deletes_its_connection_and_states<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let doomed = oauth2_credential(store, org).await;
    let kept = oauth2_credential(store, org).await;
    let (gone, stays) = (sample_connection(&doomed, 1), sample_connection(&kept, 1));
    let gone_states = [
        sample_connect_state(&doomed, None),
        sample_connect_state(&doomed, Some(AccessKeyId::new())),
    ];
    let kept_state = sample_connect_state(&kept, None);
    for connection in [&gone, &stays] {
        connect(store, connection).await;
    }
    for state in gone_states.iter().chain([&kept_state]) {
        must(
            store.insert_connect_state(state, sample_time()).await,
            "insert_connect_state",
        );
    }
    must(
        delete(store, org, doomed.credential.id).await,
        "delete_credential with a connection and connect states",
    );
    assert_eq!(
        get(store, &gone).await,
        None,
        "the deleted one's connection"
    );
    for state in &gone_states {
        assert_eq!(
            must(
                store.take_connect_state(&state.hash).await,
                "take_connect_state"
            ),
            None,
            "a deleted credential's connect state"
        );
    }
    assert_eq!(get(store, &stays).await.as_ref(), Some(&stays));
    assert_eq!(
        must(
            store.take_connect_state(&kept_state.hash).await,
            "take_connect_state"
        ),
        Some(kept_state)
    );
}

/// Revoking an access key deletes the connect states it started, in its organization;
/// the others (another key's, a subject's) stay.
pub async fn revoking_a_key_ends_the_connect_states_it_started<S: Store>(store: &S) {
    let org = new_organization(store).await;
    let credential = oauth2_credential(store, org).await;
    let (key, other_key) = (sample_access_key(org), sample_access_key(org));
    for k in [&key, &other_key] {
        must(insert_key(store, k).await, "insert_access_key");
    }
    let started = sample_connect_state(&credential, Some(key.key.id));
    let stays = [
        sample_connect_state(&credential, Some(other_key.key.id)),
        sample_connect_state(&credential, None),
    ];
    for state in stays.iter().chain([&started]) {
        must(
            store.insert_connect_state(state, sample_time()).await,
            "insert_connect_state",
        );
    }
    must(
        revoke_key(store, org, key.key.id, sample_time()).await,
        "revoke_access_key",
    );
    assert_eq!(
        must(
            store.take_connect_state(&started.hash).await,
            "take_connect_state"
        ),
        None,
        "the revoked key's connect state"
    );
    for state in stays {
        assert_eq!(
            must(
                store.take_connect_state(&state.hash).await,
                "take_connect_state"
            ),
            Some(state),
            "a connect state of another starter"
        );
    }
}
