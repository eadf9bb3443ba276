//! The credential cache on SQLite: a read by id is served from memory; this store's own
//! writes are read back at once, even one whose caller stopped waiting for it; a change
//! made behind the store's back (another process) is seen within `FRESH_FOR`.
//!
//! Whether a read came from memory is told by renaming the row by hand, on a connection of
//! the test's own: a read that reaches the database sees the new name.

use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use futures::FutureExt as _;
use tempfile::TempDir;
use vault_core::credential::CredentialName;
use vault_core::credential_cache::FRESH_FOR;
use vault_core::logs::AuditAction;
use vault_core::store::{CredentialStore, CredentialWrite, OrganizationStore};
use vault_core::{CredentialType, StoredCredential};
use vault_store_sqlite::SqliteStore;
use vault_testkit::store_suite::{sample_change_audit, sample_credential, sample_organization};

async fn stored() -> (TempDir, SqliteStore, StoredCredential) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let store = SqliteStore::open(path.to_str().expect("a UTF-8 path"))
        .await
        .expect("a fresh store");
    let organization = sample_organization();
    store
        .insert_organization(&organization)
        .await
        .expect("insert_organization");
    let credential = sample_credential(organization.id, CredentialType::BearerToken);
    insert(&store, &credential).await;
    (dir, store, credential)
}

/// Stores a credential as a create does: with its audit event, no versions.
async fn insert(store: &SqliteStore, credential: &StoredCredential) {
    let audit = audit(credential, AuditAction::CredentialCreate);
    let write = CredentialWrite {
        versions: &[],
        keep_versions: 0,
        audit: &audit,
    };
    store
        .insert_credential(credential, &write)
        .await
        .expect("insert_credential");
}

fn audit(credential: &StoredCredential, action: AuditAction) -> vault_core::logs::AuditEvent {
    let c = &credential.credential;
    sample_change_audit(c.organization_id, action, *c.id.as_uuid())
}

/// Renames the credential in the file, behind the store's back.
fn rename_by_hand(store: &SqliteStore, name: &str) {
    let mut conn = SqliteConnection::establish(store.path().to_str().expect("a UTF-8 path"))
        .expect("a connection of the test's own");
    conn.batch_execute(&format!("UPDATE credentials SET name = '{name}'"))
        .expect("renamed by hand");
}

async fn name_read(store: &SqliteStore, credential: &StoredCredential) -> String {
    let c = &credential.credential;
    store
        .get_credential(c.organization_id, c.id)
        .await
        .expect("read")
        .credential
        .name
        .as_str()
        .to_owned()
}

/// The credential at its next version, renamed.
fn renamed(credential: &StoredCredential, name: &str) -> StoredCredential {
    let mut next = credential.clone();
    next.credential.name = CredentialName::parse(name).expect("a name");
    next.credential.version += 1;
    next
}

fn update<'a>(
    store: &'a SqliteStore,
    before: &'a StoredCredential,
    after: &'a StoredCredential,
    audit: &'a vault_core::logs::AuditEvent,
) -> impl Future<Output = Result<(), vault_core::StoreError>> + 'a {
    let write = CredentialWrite {
        versions: &[],
        keep_versions: 0,
        audit,
    };
    let c = &before.credential;
    async move {
        store
            .update_credential(c.organization_id, after, c.version, &write)
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_is_served_from_memory_and_a_change_behind_its_back_is_seen_within_fresh_for() {
    let (_dir, store, credential) = stored().await;
    let original = name_read(&store, &credential).await;
    rename_by_hand(&store, "renamed by hand");
    assert_eq!(
        name_read(&store, &credential).await,
        original,
        "the second read was not served from memory"
    );
    tokio::time::sleep(FRESH_FOR + Duration::from_millis(100)).await;
    assert_eq!(name_read(&store, &credential).await, "renamed by hand");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_stores_own_writes_are_read_back_at_once() {
    let (_dir, store, credential) = stored().await;
    name_read(&store, &credential).await;
    let next = renamed(&credential, "renamed here");
    let event = audit(&credential, AuditAction::CredentialUpdate);
    update(&store, &credential, &next, &event)
        .await
        .expect("updated");
    assert_eq!(name_read(&store, &credential).await, "renamed here");
    // And served from memory: a rename by hand now goes unseen.
    rename_by_hand(&store, "renamed by hand");
    assert_eq!(name_read(&store, &credential).await, "renamed here");

    let c = &credential.credential;
    let event = audit(&credential, AuditAction::CredentialDelete);
    store
        .delete_credential(c.organization_id, c.id, None, &event)
        .await
        .expect("deleted");
    let gone = store.get_credential(c.organization_id, c.id).await;
    assert!(
        matches!(gone, Err(vault_core::StoreError::NotFound)),
        "{gone:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_caller_stopped_waiting_leaves_nothing_stale() {
    let (_dir, store, credential) = stored().await;
    name_read(&store, &credential).await;
    let next = renamed(&credential, "written unawaited");
    let event = audit(&credential, AuditAction::CredentialUpdate);
    // The file's write lock, held by another connection: the writer waits for it.
    let mut holder = SqliteConnection::establish(store.path().to_str().expect("a UTF-8 path"))
        .expect("a connection");
    holder
        .batch_execute("BEGIN IMMEDIATE")
        .expect("the write lock");
    // Polled once (queued for the writer), then dropped: the write still happens.
    drop(update(&store, &credential, &next, &event).now_or_never());
    // Reads before its commit keep the old row.
    assert_eq!(
        name_read(&store, &credential).await,
        credential.credential.name.as_str()
    );
    holder.batch_execute("COMMIT").expect("the lock released");
    // The writer takes writes in order: once a later one is done, that one is too.
    let other = sample_credential(
        credential.credential.organization_id,
        CredentialType::ApiKey,
    );
    insert(&store, &other).await;
    assert_eq!(name_read(&store, &credential).await, "written unawaited");
}
