//! The store conformance suite, each check on a database of its own, cloned from the
//! process's migrated template. Skipped (loudly) when PostgreSQL is not reachable, unless
//! `VAULT_REQUIRE_POSTGRES=1`.

use vault_store_postgres::PgStore;
use vault_store_postgres::testing::{self, TestDatabase};
use vault_testkit::store_suite::Guarded;

/// A store on a fresh database, dropped after the store; `None` when PostgreSQL is not
/// reachable (the harness has said so on stderr).
async fn fresh_store() -> Option<Guarded<PgStore, TestDatabase>> {
    let (store, guard) = testing::fresh_store().await?;
    Some(Guarded { store, guard })
}

vault_testkit::store_conformance!(skip_unless: fresh_store());
