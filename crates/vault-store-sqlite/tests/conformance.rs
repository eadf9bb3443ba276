//! The store conformance suite, each check on a fresh SQLite file.

use tempfile::TempDir;
use vault_store_sqlite::SqliteStore;
use vault_testkit::store_suite::Guarded;

/// A store on a new file in its own temporary directory, removed when the store is dropped.
async fn fresh_store() -> Guarded<SqliteStore, TempDir> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let store = SqliteStore::open(path.to_str().expect("a UTF-8 temporary path"))
        .await
        .expect("a fresh SQLite store");
    Guarded { store, guard: dir }
}

vault_testkit::store_conformance!(fresh_store());
