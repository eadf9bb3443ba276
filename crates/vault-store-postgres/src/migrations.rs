//! Embedded migrations: applying them under an advisory lock, and comparing what the
//! database has applied with what this binary knows.

use std::collections::BTreeSet;
use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use vault_core::StoreError;

use crate::error::{Failure, backend, from_connection, from_diesel, unavailable};

/// The SQL migrations of `migrations/postgres`, compiled in.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The advisory lock key every migration run takes (the bytes of "vault-mg"). Advisory
/// locks are per database, so replicas of other installations on the same server do not
/// wait for each other.
const MIGRATION_LOCK: i64 = 0x7661_756c_742d_6d67;

/// How long `migrate` waits for its connection to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the database's schema compares with the migrations this binary embeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaStatus {
    /// Every migration this binary knows is applied, and no other.
    UpToDate,
    /// The database lacks these migrations (versions, in order): run
    /// [`PgStore::migrate`](crate::PgStore::migrate).
    Pending(Vec<String>),
    /// The database has migrations this binary does not know (versions, in order): it was
    /// migrated by a newer release, and this one must not run on it. Reported even when
    /// some known migrations are missing too, since running on such a schema is unsafe
    /// either way.
    Newer(Vec<String>),
}

/// The versions this binary embeds.
fn known_versions() -> Result<BTreeSet<String>, StoreError> {
    let migrations = diesel::migration::MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map_err(StoreError::Backend)?;
    Ok(migrations
        .iter()
        .map(|migration| migration.name().version().to_string())
        .collect())
}

#[derive(QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = Text)]
    version: String,
}

pub(crate) async fn schema_status(
    conn: &mut AsyncPgConnection,
) -> Result<SchemaStatus, StoreError> {
    let known = known_versions()?;
    // diesel_migrations creates its table on the first run: no table, nothing applied.
    let has_table: bool = diesel::select(diesel::dsl::sql::<Bool>(
        "to_regclass('__diesel_schema_migrations') IS NOT NULL",
    ))
    .get_result(conn)
    .await
    .map_err(from_diesel)?;
    let applied: BTreeSet<String> = if has_table {
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
            .load::<AppliedVersion>(conn)
            .await
            .map_err(from_diesel)?
            .into_iter()
            .map(|row| row.version)
            .collect()
    } else {
        BTreeSet::new()
    };
    let newer: Vec<String> = applied.difference(&known).cloned().collect();
    if !newer.is_empty() {
        return Ok(SchemaStatus::Newer(newer));
    }
    let pending: Vec<String> = known.difference(&applied).cloned().collect();
    Ok(if pending.is_empty() {
        SchemaStatus::UpToDate
    } else {
        SchemaStatus::Pending(pending)
    })
}

type SyncPgConnection = AsyncConnectionWrapper<AsyncPgConnection>;

pub(crate) async fn migrate(url: &str) -> Result<usize, StoreError> {
    // Try the database from here first: within a timeout, and with an error that keeps
    // its cause (the wrapper's own connect reports "error connecting to server" alone).
    drop(
        crate::establish(url, CONNECT_TIMEOUT, None)
            .await
            .map_err(from_connection)?,
    );
    let url = url.to_owned();
    let (connected_tx, connected_rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    // diesel's migration harness wants a synchronous connection. The wrapper drives an
    // async one by blocking on a runtime; on a thread of our own, with no runtime around,
    // it builds its own, so the caller's runtime (current-thread ones included) is never
    // blocked.
    std::thread::Builder::new()
        .name("vault-pg-migrate".to_owned())
        .spawn(move || {
            // Nobody may be waiting any more; then there is nobody to tell.
            let _ = done_tx.send(migrate_blocking(&url, connected_tx));
        })
        .map_err(backend)?;

    // The wrapper's runtime has no timer, so the connection attempt is bounded from here.
    // If it times out, dropping the receiver tells the thread (whose `send` then fails)
    // not to migrate once it does connect.
    // Connected, or failed to (then `done_rx` says why): either way the answer follows.
    if tokio::time::timeout(CONNECT_TIMEOUT, connected_rx)
        .await
        .is_err()
    {
        return Err(unavailable(Failure(format!(
            "timed out after {CONNECT_TIMEOUT:?} connecting to PostgreSQL to migrate"
        ))));
    }
    done_rx.await.map_err(|_| {
        backend(Failure(
            "the migration thread stopped without an answer".to_owned(),
        ))
    })?
}

fn migrate_blocking(
    url: &str,
    connected: tokio::sync::oneshot::Sender<()>,
) -> Result<usize, StoreError> {
    let mut conn = SyncPgConnection::establish(url).map_err(from_connection)?;
    if connected.send(()).is_err() {
        return Err(unavailable(Failure(
            "the caller stopped waiting for the connection".to_owned(),
        )));
    }
    // A session-level lock: concurrent runs queue here, and the lock goes away with the
    // connection if this process dies half-way.
    conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .map_err(from_diesel)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.len())
        .map_err(|error| match error.downcast::<diesel::result::Error>() {
            Ok(diesel) => from_diesel(*diesel),
            Err(other) => StoreError::Backend(other),
        });
    // Closing the connection would release the lock as well; say so explicitly anyway.
    let unlocked = conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    let applied = applied?;
    unlocked.map_err(from_diesel)?;
    if applied > 0 {
        tracing::info!(applied, "PostgreSQL migrations applied");
    }
    Ok(applied)
}
