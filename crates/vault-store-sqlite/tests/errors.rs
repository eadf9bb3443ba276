//! Failures of the database surface as the port's errors: a locked database is
//! `Unavailable`, a row that does not decode is `Backend` naming its column (never its
//! value), a missing organization is `NotFound`, a path that cannot be created is
//! `Unavailable`.

use std::error::Error as _;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use tempfile::TempDir;
use vault_core::logs::AuditAction;
use vault_core::store::{CredentialStore, CredentialWrite, OrganizationStore};
use vault_core::{CredentialType, OrganizationId, StoreError, StoredCredential};
use vault_store_sqlite::SqliteStore;
use vault_testkit::store_suite::{sample_change_audit, sample_credential, sample_organization};

async fn fresh() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let store = SqliteStore::open(path.to_str().expect("a UTF-8 path"))
        .await
        .expect("a fresh store");
    (dir, store)
}

/// Stores a credential as a create does: with its audit event, no versions.
async fn insert(store: &SqliteStore, credential: &StoredCredential) -> Result<(), StoreError> {
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

fn raw_connection(store: &SqliteStore) -> SqliteConnection {
    SqliteConnection::establish(store.path().to_str().expect("a UTF-8 path"))
        .expect("a raw connection")
}

/// The whole cause chain, as a log line would show it.
fn chain(error: &StoreError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_past_the_busy_timeout_is_unavailable() {
    let (_dir, store) = fresh().await;
    let organization = sample_organization();
    store
        .insert_organization(&organization)
        .await
        .expect("insert_organization");

    // Another process holds the write lock and never lets go (within the test).
    let mut holder = raw_connection(&store);
    holder
        .batch_execute("BEGIN EXCLUSIVE; INSERT INTO vault_meta VALUES ('held', x'00', 'k');")
        .expect("an exclusive transaction");

    let started = Instant::now();
    let result = insert(
        &store,
        &sample_credential(organization.id, CredentialType::ApiKey),
    )
    .await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "a write to a locked database: {result:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "the store gave up before the busy timeout ({:?})",
        started.elapsed()
    );

    holder.batch_execute("ROLLBACK;").expect("release the lock");
    insert(
        &store,
        &sample_credential(organization.id, CredentialType::ApiKey),
    )
    .await
    .expect("the store works again once the lock is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_that_does_not_decode_names_the_column_not_the_value() {
    let (_dir, store) = fresh().await;
    let organization = sample_organization();
    store
        .insert_organization(&organization)
        .await
        .expect("insert_organization");
    let credential = sample_credential(organization.id, CredentialType::BasicAuth);
    insert(&store, &credential)
        .await
        .expect("insert_credential");

    let mut conn = raw_connection(&store);
    conn.batch_execute(
        "UPDATE credentials SET public_fields = '{\"type\":\"basic_auth\",\"username\":42,\"leak\":\"DO-NOT-LOG-ME\"}';",
    )
    .expect("corrupt the row");

    let error = store
        .get_credential(organization.id, credential.credential.id)
        .await
        .expect_err("a corrupt row must not decode");
    assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
    let text = chain(&error);
    assert!(text.contains("credentials.public_fields"), "{text}");
    assert!(
        !text.contains("DO-NOT-LOG-ME"),
        "the error shows the stored value: {text}"
    );
    assert!(!format!("{error:?}").contains("DO-NOT-LOG-ME"), "{error:?}");

    conn.batch_execute("UPDATE credentials SET public_fields = '{\"type\":\"api_key\",\"placement\":{\"in\":\"header\",\"name\":\"X\"}}';")
        .expect("a type that disagrees with the type column");
    let error = store
        .get_credential(organization.id, credential.credential.id)
        .await
        .expect_err("public fields of another type must not decode");
    assert!(
        chain(&error).contains("credentials.credential_type"),
        "{}",
        chain(&error)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_of_a_missing_organization_is_not_found() {
    let (_dir, store) = fresh().await;
    let result = insert(
        &store,
        &sample_credential(OrganizationId::new(), CredentialType::Custom),
    )
    .await;
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "insert for an organization that does not exist: {result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_cannot_be_created_is_unavailable() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"not a directory").expect("a plain file");
    let path = blocker.join("vault.db");
    let result = SqliteStore::open(path.to_str().expect("a UTF-8 path")).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "opening under a plain file: {result:?}"
    );
}
