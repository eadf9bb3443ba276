//! The credential cache: reads are served from memory once the store listens for changes;
//! a change by another replica, by `keys rewrap` or by hand is seen; this store's own
//! writes are seen at once, and served from memory; a change never announced is seen
//! after a moment; and while the listening connection is lost, nothing is served
//! from memory, so nothing missed meanwhile is ever served.
//!
//! Whether a read came from memory is told by locking the `credentials` table in another
//! session: a read that goes to the database then waits, and fails after the (short)
//! acquire timeout.

use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use vault_core::grants::Grantee;
use vault_core::logs::AuditAction;
use vault_core::store::{CredentialStore, CredentialWrite, GrantStore, OrganizationStore};
use vault_core::{CredentialId, CredentialType, OrganizationId, StoreError, StoredCredential};
use vault_store_postgres::{CACHE_APPLICATION_NAME, PgOptions, PgStore, testing};
use vault_testkit::store_suite::{
    sample_change_audit, sample_credential, sample_grant, sample_organization,
};

/// How long a change may take to reach another store before the test fails.
const PROPAGATION: Duration = Duration::from_secs(10);

async fn store(url: &str) -> PgStore {
    let options = PgOptions {
        max_connections: 4,
        acquire_timeout: Duration::from_millis(700),
    };
    PgStore::connect(url, options).await.expect("connect")
}

async fn raw(url: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(url)
        .await
        .expect("a raw connection")
}

fn write(audit: &vault_core::logs::AuditEvent) -> CredentialWrite<'_> {
    CredentialWrite {
        versions: &[],
        keep_versions: 0,
        audit,
    }
}

/// A credential stored through `store`, in a new organization.
async fn stored(store: &PgStore) -> StoredCredential {
    let organization = sample_organization();
    store
        .insert_organization(&organization)
        .await
        .expect("organization");
    let credential = sample_credential(organization.id, CredentialType::ApiKey);
    let c = &credential.credential;
    let audit = sample_change_audit(
        c.organization_id,
        AuditAction::CredentialCreate,
        *c.id.as_uuid(),
    );
    store
        .insert_credential(&credential, &write(&audit))
        .await
        .expect("insert");
    credential
}

/// Renames the credential through `store` (version + 1).
async fn rename(store: &PgStore, current: &StoredCredential, name: &str) -> StoredCredential {
    let mut next = current.clone();
    next.credential.name = vault_core::credential::CredentialName::parse(name).expect("a name");
    next.credential.version += 1;
    let c = &next.credential;
    let audit = sample_change_audit(
        c.organization_id,
        AuditAction::CredentialUpdate,
        *c.id.as_uuid(),
    );
    store
        .update_credential(
            c.organization_id,
            &next,
            current.credential.version,
            &write(&audit),
        )
        .await
        .expect("update");
    next
}

/// Reads the credential while another session holds the `credentials` table: `Some` if it
/// came from memory, `None` if the read went to the database (and timed out).
async fn from_memory(
    store: &PgStore,
    url: &str,
    id: CredentialId,
    org: OrganizationId,
) -> Option<StoredCredential> {
    let mut locker = raw(url).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE credentials IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let result = store.get_credential(org, id).await;
    locker.batch_execute("ROLLBACK").await.expect("unlock");
    match result {
        Ok(stored) => Some(stored),
        Err(StoreError::Unavailable(_)) => None,
        Err(other) => panic!("read: {other:?}"),
    }
}

/// Waits until `check` holds, reading through `store` once more each time.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < PROPAGATION,
            "{what}: not within {PROPAGATION:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads `credential` until a read is served from memory (the store listens by then).
async fn cached(store: &PgStore, url: &str, credential: &StoredCredential) {
    let c = &credential.credential;
    eventually("a read served from memory", async || {
        store
            .get_credential(c.organization_id, c.id)
            .await
            .expect("read");
        from_memory(store, url, c.id, c.organization_id)
            .await
            .is_some()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_served_from_memory_and_a_credential_never_read_is_not() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let url = database.url();
    let store = store(url).await;
    let credential = stored(&store).await;
    cached(&store, url, &credential).await;
    let c = &credential.credential;
    assert_eq!(
        from_memory(&store, url, c.id, c.organization_id)
            .await
            .map(|s| s.credential),
        Some(c.clone())
    );
    // Another organization's id is never served from memory.
    assert!(
        from_memory(&store, url, c.id, OrganizationId::new())
            .await
            .is_none()
    );
    let other = stored(&store).await;
    let o = &other.credential;
    assert!(
        from_memory(&store, url, o.id, o.organization_id)
            .await
            .is_none(),
        "a credential never read came from memory"
    );
    store.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_stores_own_writes_are_read_back_at_once() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let url = database.url();
    let store = store(url).await;
    let credential = stored(&store).await;
    cached(&store, url, &credential).await;
    let renamed = rename(&store, &credential, "renamed here").await;
    let c = &renamed.credential;
    let read = store
        .get_credential(c.organization_id, c.id)
        .await
        .expect("read");
    assert_eq!(read.credential, *c, "the next read after the write");
    // What it wrote is served from memory, its own announcement (heard by now) forgetting
    // nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        from_memory(&store, url, c.id, c.organization_id)
            .await
            .map(|stored| stored.credential),
        Some(c.clone()),
        "this store's own write was not served from memory"
    );
    store
        .delete_credential(
            c.organization_id,
            c.id,
            None,
            &sample_change_audit(
                c.organization_id,
                AuditAction::CredentialDelete,
                *c.id.as_uuid(),
            ),
        )
        .await
        .expect("delete");
    assert!(matches!(
        store.get_credential(c.organization_id, c.id).await,
        Err(StoreError::NotFound)
    ));
    store.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_by_another_replica_or_by_hand_are_seen() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let url = database.url();
    let (a, b) = (store(url).await, store(url).await);
    let credential = stored(&a).await;
    let c = credential.credential.clone();
    cached(&a, url, &credential).await;

    let renamed = rename(&b, &credential, "renamed by b").await;
    eventually("b's rename seen by a", async || {
        a.get_credential(c.organization_id, c.id)
            .await
            .expect("read")
            .credential
            == renamed.credential
    })
    .await;

    cached(&a, url, &renamed).await;
    raw(url)
        .await
        .batch_execute(&format!(
            "UPDATE credentials SET name = 'by hand' WHERE id = '{}'",
            c.id
        ))
        .await
        .expect("update by hand");
    eventually("a change by hand seen by a", async || {
        a.get_credential(c.organization_id, c.id)
            .await
            .expect("read")
            .credential
            .name
            .as_str()
            == "by hand"
    })
    .await;

    cached(&a, url, &renamed).await;
    raw(url)
        .await
        .batch_execute(&format!("DELETE FROM credentials WHERE id = '{}'", c.id))
        .await
        .expect("delete by hand");
    eventually("a deletion by hand seen by a", async || {
        matches!(
            a.get_credential(c.organization_id, c.id).await,
            Err(StoreError::NotFound)
        )
    })
    .await;
    a.close();
    b.close();
}

/// A credential's grants are served from memory too; a grant made through another
/// replica is in a fresh read at once (what a use reads again before it is refused), and
/// soon in memory too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_made_through_another_replica_is_read_fresh_at_once() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let url = database.url();
    let (a, b) = (store(url).await, store(url).await);
    let credential = stored(&a).await;
    let c = credential.credential.clone();
    cached(&a, url, &credential).await;
    let grants_from_memory = async |store: &PgStore| {
        let mut locker = raw(url).await;
        locker
            .batch_execute("BEGIN; LOCK TABLE grants IN ACCESS EXCLUSIVE MODE")
            .await
            .expect("lock");
        let result = store.list_grants(c.organization_id, c.id).await;
        locker.batch_execute("ROLLBACK").await.expect("unlock");
        result.ok()
    };
    eventually("grants served from memory", async || {
        a.list_grants(c.organization_id, c.id).await.expect("read");
        grants_from_memory(&a).await.is_some()
    })
    .await;

    let grant = sample_grant(&credential, Grantee::Subject("ada".to_owned()));
    let audit = sample_change_audit(
        c.organization_id,
        AuditAction::GrantCreate,
        *grant.id.as_uuid(),
    );
    b.insert_grant(&grant, &audit)
        .await
        .expect("a grant through b");
    let fresh = a
        .list_grants_fresh(c.organization_id, c.id)
        .await
        .expect("a fresh read");
    assert_eq!(fresh.iter().map(|g| g.id).collect::<Vec<_>>(), [grant.id]);
    eventually("the grant served from memory", async || {
        a.list_grants(c.organization_id, c.id).await.expect("read");
        grants_from_memory(&a).await.is_some_and(|g| g.len() == 1)
    })
    .await;
    a.close();
    b.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_not_listening_nothing_is_served_from_memory_and_nothing_missed_is_served_after() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let url = database.url();
    let store = store(url).await;
    let credential = stored(&store).await;
    let c = credential.credential.clone();
    cached(&store, url, &credential).await;

    let mut admin = raw(url).await;
    admin
        .batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = '{CACHE_APPLICATION_NAME}' AND datname = current_database()"
        ))
        .await
        .expect("end the listening session");
    eventually(
        "reads go to the database once the listener is gone",
        async || {
            from_memory(&store, url, c.id, c.organization_id)
                .await
                .is_none()
        },
    )
    .await;
    // A change nobody hears: the listener is down (or reconnecting).
    admin
        .batch_execute(&format!(
            "UPDATE credentials SET name = 'unheard' WHERE id = '{}'",
            c.id
        ))
        .await
        .expect("update by hand");
    // Once it listens again, what is served from memory is what the database holds now.
    eventually("served from memory again, and current", async || {
        store
            .get_credential(c.organization_id, c.id)
            .await
            .expect("read");
        from_memory(&store, url, c.id, c.organization_id)
            .await
            .is_some_and(|s| s.credential.name.as_str() == "unheard")
    })
    .await;
    store.close();
}

/// Notifications of credential `id` heard on `url` while `act` runs and for a moment after
/// (a store's own say which store sent them, after the id).
async fn notifications_during(url: &str, id: CredentialId, act: impl AsyncFnOnce()) -> usize {
    use futures::StreamExt as _;
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("a listening connection");
    let (sender, mut messages) = futures::channel::mpsc::unbounded();
    let driver = tokio::spawn(async move {
        let mut stream = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = stream.next().await {
            if sender.unbounded_send(message).is_err() {
                return;
            }
        }
    });
    client
        .batch_execute("LISTEN vault_credential_changed")
        .await
        .expect("listen");
    act().await;
    // Another round trip on the same connection: every notification committed before it
    // has been delivered by the time it returns; then a moment for late ones.
    client
        .batch_execute("SELECT 1")
        .await
        .expect("a round trip");
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(client);
    driver.abort();
    let mut heard = 0;
    while let Ok(message) = messages.try_recv() {
        if let tokio_postgres::AsyncMessage::Notification(note) = message
            && note.payload().split(' ').next() == Some(id.to_string().as_str())
        {
            heard += 1;
        }
    }
    heard
}

/// A store's write is announced once, after its commit, not also by the trigger inside the
/// write's transaction (whose commit would then take the cluster-wide notify lock). A
/// change by hand is still announced by the trigger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stores_write_is_announced_once_and_a_change_by_hand_too() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let url = database.url();
    let store = store(url).await;
    let credential = stored(&store).await;
    let id = credential.credential.id;
    let heard = notifications_during(url, id, async || {
        rename(&store, &credential, "renamed").await;
    })
    .await;
    assert_eq!(heard, 1, "a store's write was announced {heard} times");
    let heard = notifications_during(url, id, async || {
        raw(url)
            .await
            .batch_execute(&format!(
                "UPDATE credentials SET name = 'by hand' WHERE id = '{id}'"
            ))
            .await
            .expect("update by hand");
    })
    .await;
    assert_eq!(heard, 1, "a change by hand was announced {heard} times");
    store.close();
}

/// A change whose announcement never came (its writer died between the commit and the
/// announcement, as a session that announces its own changes and then does not) is served
/// from memory for at most a moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unannounced_change_is_seen_soon() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let url = database.url();
    let store = store(url).await;
    let credential = stored(&store).await;
    let c = credential.credential.clone();
    cached(&store, url, &credential).await;
    raw(url)
        .await
        .batch_execute(&format!(
            "SET vault.announces_changes = on; \
             UPDATE credentials SET name = 'unannounced' WHERE id = '{}'",
            c.id
        ))
        .await
        .expect("an update that announces nothing");
    eventually("an unannounced change seen", async || {
        store
            .get_credential(c.organization_id, c.id)
            .await
            .expect("read")
            .credential
            .name
            .as_str()
            == "unannounced"
    })
    .await;
    store.close();
}
