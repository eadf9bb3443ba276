//! Secrets never reach the database in the clear: the testkit's canary scenario writes and
//! updates credentials of every type through a real `Vault` with the real cipher, then the
//! raw bytes of the database file and of its write-ahead log are searched for the secrets.

use std::path::Path;

use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::{SystemClock, Vault};
use vault_store_sqlite::SqliteStore;
use vault_testkit::at_rest::{contains, write_canaries};

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_database_or_its_wal_in_the_clear() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let store = SqliteStore::open(path.to_str().expect("a UTF-8 path"))
        .await
        .expect("a fresh SQLite store");
    let cipher = RingCipher::new(
        KeyEncryptionKey::generate().expect("a random key-encryption key"),
        vec![],
    );
    let vault = Vault::open(store.clone(), cipher, SystemClock)
        .await
        .expect("the vault opens on a fresh store")
        .with_jwt_signer(vault_jwt::JsonWebTokenSigner);
    let canaries = write_canaries(&vault).await;

    // Read the files while the store is open, so the write-ahead log still holds the
    // recent writes instead of having been checkpointed into the main file.
    let db = read(&path);
    let wal_path = dir.path().join("vault.db-wal");
    let wal = read(&wal_path);
    assert!(
        !wal.is_empty(),
        "the WAL is empty: the test would not be looking at recent writes"
    );
    let both: Vec<u8> = db.iter().chain(wal.iter()).copied().collect();

    for name in &canaries.names {
        assert!(
            contains(&both, name),
            "positive control: the credential name {name} is not in the raw files, so the \
             search cannot be trusted"
        );
    }
    for value in &canaries.secrets {
        for (file, bytes) in [("database", &db), ("WAL", &wal)] {
            assert!(
                !contains(bytes, value),
                "the secret {value} is in the {file} file in the clear"
            );
        }
    }
    assert!(
        !contains(&both, &canaries.token),
        "the access-key token is in the database in the clear"
    );
    drop(vault);
    drop(store);
}
