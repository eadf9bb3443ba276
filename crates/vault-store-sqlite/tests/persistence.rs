//! What is written survives closing and reopening the file; opening runs migrations once,
//! however often and however concurrently it happens.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use secrecy::{ExposeSecret, SecretString};
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::store::{AccessKeyStore, CredentialStore, ListQuery, MetaStore, OrganizationStore};
use vault_core::{
    CredentialFields, CredentialSecrets, CredentialType, OpenError, Principal, SystemClock, Vault,
};
use vault_store_sqlite::SqliteStore;
use vault_testkit::store_suite::{
    sample_access_key, sample_credential, sample_organization, sample_sealed,
};

/// How many migrations `migrations/sqlite` holds.
const MIGRATIONS: i64 = 1;

fn applied_migrations(path: &std::path::Path) -> i64 {
    let mut conn = SqliteConnection::establish(path.to_str().expect("a UTF-8 path"))
        .expect("a raw connection");
    diesel::select(diesel::dsl::sql::<BigInt>(
        "(SELECT COUNT(*) FROM __diesel_schema_migrations)",
    ))
    .get_result(&mut conn)
    .expect("the migrations table")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_every_record() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("nested").join("dirs").join("vault.db");
    let path_text = path.to_str().expect("a UTF-8 path").to_owned();

    let organization = sample_organization();
    let credential = sample_credential(organization.id, CredentialType::OAuth2);
    let key = sample_access_key(organization.id);
    let meta = sample_sealed();
    {
        // A missing parent directory is created.
        let store = SqliteStore::open(&path_text).await.expect("a fresh store");
        assert_eq!(store.path(), path, "path() names the file");
        store
            .insert_organization(&organization)
            .await
            .expect("insert_organization");
        store
            .insert_credential(&credential)
            .await
            .expect("insert_credential");
        store
            .insert_access_key(&key)
            .await
            .expect("insert_access_key");
        assert!(
            store
                .insert_meta_if_absent("persisted", &meta)
                .await
                .expect("insert_meta_if_absent"),
            "a fresh store has no meta"
        );
    }

    // Reopen through the URL form of the same absolute path.
    let store = SqliteStore::open(&format!("sqlite://{path_text}"))
        .await
        .expect("the store reopens");
    assert_eq!(store.path(), path);
    assert_eq!(store.count_organizations().await.expect("count"), 1);
    assert_eq!(
        store
            .get_credential(organization.id, credential.credential.id)
            .await
            .expect("the credential after reopening"),
        credential
    );
    let listed = store
        .list_credentials(
            organization.id,
            &ListQuery {
                limit: 10,
                ..ListQuery::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(listed, vec![credential.credential.clone()]);
    assert_eq!(
        store.find_access_key(&key.hash).await.expect("find"),
        Some(key)
    );
    assert_eq!(
        store.get_meta("persisted").await.expect("get_meta"),
        Some(meta)
    );
    assert_eq!(applied_migrations(&path), MIGRATIONS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_however_often_and_concurrently_the_file_is_opened() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let url = format!("sqlite://{}", path.to_str().expect("a UTF-8 path"));

    // Four openers race on a file that does not exist yet.
    let opened = futures_join_all(&url, 4).await;
    assert_eq!(opened, 4, "every concurrent open succeeds");
    for _ in 0..3 {
        SqliteStore::open(&url).await.expect("a repeated open");
    }
    assert_eq!(applied_migrations(&path), MIGRATIONS);
}

async fn futures_join_all(url: &str, n: usize) -> usize {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let url = url.to_owned();
            tokio::spawn(async move { SqliteStore::open(&url).await })
        })
        .collect();
    let mut opened = 0;
    for task in tasks {
        task.await
            .expect("the open task")
            .unwrap_or_else(|error| panic!("a concurrent open failed: {error:?}"));
        opened += 1;
    }
    opened
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_reopened_with_its_key_reads_its_secrets_and_refuses_another_key() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let url = path.to_str().expect("a UTF-8 path").to_owned();
    let kek = KeyEncryptionKey::generate().expect("a key-encryption key");
    let kek_text = kek.to_base64();

    let (organization_id, credential_id) = {
        let store = SqliteStore::open(&url).await.expect("a fresh store");
        let vault = Vault::open(store, RingCipher::new(kek, vec![]), SystemClock)
            .await
            .expect("the vault opens");
        let (organization, _admin) = vault
            .create_organization("persistent")
            .await
            .expect("an organization");
        let fields = CredentialFields {
            name: Some("persisted token".to_owned()),
            value: Some(SecretString::from("persisted-secret-value")),
            ..CredentialFields::default()
        };
        let credential = vault
            .create_credential(
                &Principal::system(organization.id),
                CredentialType::BearerToken,
                &fields,
            )
            .await
            .expect("a credential");
        (organization.id, credential.id)
    };

    let same_key = KeyEncryptionKey::parse(kek_text.expose_secret()).expect("the same key");
    let store = SqliteStore::open(&url).await.expect("the store reopens");
    let vault = Vault::open(store, RingCipher::new(same_key, vec![]), SystemClock)
        .await
        .expect("the vault reopens with its key");
    let (_, secrets) = vault
        .open_credential(&Principal::system(organization_id), credential_id)
        .await
        .expect("the secret opens after reopening");
    let CredentialSecrets::Value(value) = secrets else {
        panic!("a bearer token's secrets are a value");
    };
    assert_eq!(value.expose_secret(), "persisted-secret-value");
    drop(vault);

    let store = SqliteStore::open(&url).await.expect("the store reopens");
    let other_key = KeyEncryptionKey::generate().expect("another key");
    let refused = Vault::open(store, RingCipher::new(other_key, vec![]), SystemClock).await;
    assert!(
        matches!(refused, Err(OpenError::WrongKey { .. })),
        "a vault with another key must refuse to open: {refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_the_binary_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let url = path.to_str().expect("a UTF-8 path").to_owned();
    drop(SqliteStore::open(&url).await.expect("a fresh store"));
    let mut conn = SqliteConnection::establish(&url).expect("a raw connection");
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')")
        .execute(&mut conn)
        .expect("a migration from the future");
    let error = SqliteStore::open(&url).await.expect_err("refused");
    let message = format!(
        "{error}: {}",
        std::error::Error::source(&error)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(
        message.contains("newer than this binary") && message.contains("29991231000000"),
        "{message}"
    );
}
