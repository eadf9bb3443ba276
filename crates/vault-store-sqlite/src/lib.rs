#![doc = include_str!("../README.md")]

mod audit_chain;
mod changes;
mod error;
mod logs;
mod prepared;
mod webhooks;
mod writers;

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use vault_core::credential_cache::CredentialCache;
use vault_core::ids::CredentialId;
use vault_core::jobs::LocalJobs;
use vault_core::store::{JobName, JobStore, StoreError};
use vault_store_sql::error::{Abort, from_diesel, unavailable};

use crate::error::{invalid_url, is_lock_contention};
use crate::writers::{Writers, write_on};

/// The SQL migrations of `migrations/sqlite`, compiled in.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Run on every new connection. `busy_timeout` comes first so that even switching the
/// journal mode waits for a lock instead of failing. WAL lets readers proceed while one
/// writer writes; `synchronous = NORMAL` is the documented safe pairing with WAL (a power
/// cut can lose the last transactions, never corrupt the file); foreign keys are off in
/// SQLite unless asked for, per connection.
const CONNECTION_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";

/// How long opening waits for another process creating or migrating the same file.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The embedded store: every store port on one SQLite file.
///
/// Cheap to clone (clones share the connections). Every write, log appends included,
/// queues for one writer thread that owns the write connection and group-commits
/// ([`Writers`]: it writes everything queued by then as one transaction, each write in a
/// savepoint of its own); it may wait up to the busy timeout for another process holding
/// SQLite's write lock, which never stalls an async worker. Point reads and pages of lists
/// run inline on a read-only connection: in WAL mode they never wait for the writer, and a
/// read served from SQLite's page cache takes a few microseconds, less than two thread
/// hand-offs. No SQLite lock or transaction is ever held across an `.await`.
///
/// Credentials read by id are kept in memory (vault-core's `credential_cache`): every
/// change of one passes through this store's writer, which settles the cache as it
/// commits. A change made by another process (an operator's `sqlite3` shell) is seen
/// within [`FRESH_FOR`](vault_core::credential_cache::FRESH_FOR), how long an entry is
/// served.
#[derive(Clone)]
pub struct SqliteStore {
    writers: Arc<Writers>,
    readers: Arc<Readers>,
    credentials: Arc<CredentialCache>,
    path: Arc<Path>,
    /// Background jobs' exclusion. One server process serves a file (replicas need
    /// PostgreSQL), so excluding this process's own jobs is enough: no lock in the file.
    jobs: Arc<LocalJobs>,
}

/// Idle read-only connections. The mutex guards only a pop or a push.
struct Readers {
    path: String,
    idle: std::sync::Mutex<Vec<SqliteConnection>>,
}

// Point lookups use `get_result` (no LIMIT): each is by a primary or unique key, and a
// bound `LIMIT ?` makes SQLite re-prepare the statement on every execution (a LIMIT
// parameter joins the query planner's inputs, and rebinding it expires the statement).

/// Read connections kept idle; more may be open at once under load, and are closed after.
const MAX_IDLE_READERS: usize = 8;

/// Read connections: never write, and wait for a lock briefly only (in WAL mode a reader
/// waits solely while another connection recovers the WAL after a crash).
const READER_PRAGMAS: &str = "PRAGMA busy_timeout = 1000; PRAGMA query_only = ON;";

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("queued_writes", &self.writers.queued())
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`, and applies pending migrations.
    ///
    /// `url` is `sqlite://relative/path.db`, `sqlite:///absolute/path.db`, or a plain
    /// file path. A missing parent directory is created. Opening the same file again, or
    /// from several processes, is safe: migrations run in an exclusive transaction and are
    /// applied once.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file or its directory cannot be created or
    /// opened, or is locked for longer than the busy timeout; [`StoreError::Backend`] for
    /// a URL naming no file (or an in-memory database, which a pool of connections
    /// cannot share), or a failed migration.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let path = database_path(url)?;
        let path_text = path
            .to_str()
            .ok_or_else(|| invalid_url("the database path is not valid UTF-8"))?
            .to_owned();

        let started = std::time::Instant::now();
        let applied = loop {
            let prepare_path = path.clone();
            let result = tokio::task::spawn_blocking(move || prepare(&prepare_path))
                .await
                .map_err(|join| StoreError::Backend(Box::new(join)))?;
            match result {
                // Another process is creating or migrating the same file right now.
                Err(error) if is_lock_contention(&error) && started.elapsed() < ACQUIRE_TIMEOUT => {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                other => break other?,
            }
        };

        // Opened here, so a file that cannot be used fails at start-up.
        let writer = {
            let path_text = path_text.clone();
            tokio::task::spawn_blocking(move || open_writer(&path_text))
                .await
                .map_err(|join| StoreError::Backend(Box::new(join)))??
        };
        tracing::info!(path = %path.display(), migrations_applied = applied, "SQLite store open");
        let credentials = Arc::new(CredentialCache::new());
        credentials.serve(true);
        Ok(Self {
            writers: Arc::new(Writers::start(writer, path_text.clone())?),
            credentials,
            readers: Arc::new(Readers {
                path: path_text,
                idle: std::sync::Mutex::default(),
            }),
            path: Arc::from(path),
            jobs: Arc::default(),
        })
    }

    /// Runs a read inline on an idle read-only connection (opening one if none is idle).
    fn read<R>(
        &self,
        operation: impl FnOnce(&mut SqliteConnection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let idle = self
            .readers
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => {
                let mut conn =
                    SqliteConnection::establish(&self.readers.path).map_err(unavailable)?;
                conn.batch_execute(READER_PRAGMAS).map_err(from_diesel)?;
                conn
            }
        };
        let result = operation(&mut conn);
        let mut idle = self
            .readers
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }

    /// The database file (absolute).
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `operation`, a single statement, on the writer (as [`Self::write`]).
    async fn run<R, F>(&self, operation: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<R, StoreError> + Send + 'static,
    {
        write_on(&self.writers, move |conn| operation(conn).map_err(Abort)).await
    }
}

/// Where the database file is, from a URL or a plain path; absolute, so a later change of
/// working directory cannot move it.
fn database_path(url: &str) -> Result<PathBuf, StoreError> {
    let raw = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map_or(Ok(url), |rest| {
            if rest.contains('?') {
                Err(invalid_url(
                    "query parameters are not supported in an sqlite:// URL",
                ))
            } else {
                Ok(rest)
            }
        })?;
    if raw.is_empty() {
        return Err(invalid_url("the URL names no database file"));
    }
    if raw == ":memory:" || raw.starts_with("file:") {
        return Err(invalid_url(
            "give a file path: an in-memory or URI database cannot be shared by a connection pool \
             (use vault_testkit::memory::MemoryStore for a store without a file)",
        ));
    }
    std::path::absolute(raw).map_err(unavailable)
}

/// The database was migrated by a newer release than this binary.
#[derive(Debug)]
struct SchemaNewerThanBinary(Vec<String>);

impl fmt::Display for SchemaNewerThanBinary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the database schema is newer than this binary (it has migrations {} that this \
             release does not know); run the release that migrated it, or a newer one",
            self.0.join(", ")
        )
    }
}

impl std::error::Error for SchemaNewerThanBinary {}

/// Refuses a database carrying migrations this binary does not know: serving it could
/// misread or clobber columns a newer release relies on.
fn refuse_newer_schema(
    conn: &mut SqliteConnection,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let known: Vec<String> =
        diesel::migration::MigrationSource::<diesel::sqlite::Sqlite>::migrations(&MIGRATIONS)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
    let unknown: Vec<String> = conn
        .applied_migrations()?
        .into_iter()
        .map(|v| v.to_string())
        .filter(|v| !known.contains(v))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Box::new(SchemaNewerThanBinary(unknown)))
    }
}

/// Creates the directory and the file, and applies pending migrations. Blocking.
fn prepare(path: &Path) -> Result<usize, StoreError> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    // Both readable by this user only when made here (existing ones are left as they are);
    // SQLite gives its -wal and -shm files the database file's mode.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(unavailable)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(unavailable(e)),
        _ => {}
    }
    let text = path
        .to_str()
        .ok_or_else(|| invalid_url("the database path is not valid UTF-8"))?;
    let mut conn = SqliteConnection::establish(text).map_err(unavailable)?;
    conn.batch_execute(CONNECTION_PRAGMAS)
        .map_err(from_diesel)?;
    // One IMMEDIATE transaction around the whole run: two processes opening a fresh file
    // at once serialize here instead of both trying to create the tables.
    conn.immediate_transaction(|conn| {
        refuse_newer_schema(conn)?;
        conn.run_pending_migrations(MIGRATIONS)
            .map(|applied| applied.len())
    })
    .map_err(|error: Box<dyn std::error::Error + Send + Sync>| {
        match error.downcast::<diesel::result::Error>() {
            Ok(diesel) => from_diesel(*diesel),
            Err(other) => StoreError::Backend(other),
        }
    })
}

/// Opens the write connection, with the pragmas every writing connection needs.
pub(crate) fn open_writer(path: &str) -> Result<SqliteConnection, StoreError> {
    let mut conn = SqliteConnection::establish(path).map_err(unavailable)?;
    conn.batch_execute(CONNECTION_PRAGMAS)
        .map_err(from_diesel)?;
    Ok(conn)
}

impl SqliteStore {
    /// Runs `operation` as one transaction, group-committed with other writers' (writers.rs):
    /// every statement in it commits or none does.
    async fn write<R, F>(&self, operation: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<R, Abort> + Send + 'static,
    {
        write_on(&self.writers, operation).await
    }

    // The four ways the shared statements run (`vault_store_sql::sql_store_ports!`): reads
    // inline on a read-only connection, writes of one statement on the writer thread.

    /// The row `query` returns, if any.
    async fn fetch_optional<'q, Q, U>(&self, query: Q) -> Result<Option<U>, StoreError>
    where
        Q: RunQueryDsl<SqliteConnection> + LoadQuery<'q, SqliteConnection, U>,
    {
        self.read(|conn| query.get_result(conn).optional().map_err(from_diesel))
    }

    /// Every row `query` returns.
    async fn fetch_all<'q, Q, U>(&self, query: Q) -> Result<Vec<U>, StoreError>
    where
        Q: RunQueryDsl<SqliteConnection> + LoadQuery<'q, SqliteConnection, U>,
    {
        self.read(|conn| query.load(conn).map_err(from_diesel))
    }

    /// Runs `statement` on the writer; how many rows it wrote.
    async fn execute<Q>(&self, statement: Q) -> Result<usize, StoreError>
    where
        Q: RunQueryDsl<SqliteConnection> + ExecuteDsl<SqliteConnection> + Send + 'static,
    {
        self.run(move |conn| statement.execute(conn).map_err(from_diesel))
            .await
    }

    /// [`Self::execute`] of a statement that may change credential `id`.
    async fn execute_changing<Q>(&self, id: CredentialId, statement: Q) -> Result<usize, StoreError>
    where
        Q: RunQueryDsl<SqliteConnection> + ExecuteDsl<SqliteConnection> + Send + 'static,
    {
        self.changing(id, None, move |conn| Ok(statement.execute(conn)?))
            .await
    }
}

vault_store_sql::sql_store_ports!(SqliteStore);

impl JobStore for SqliteStore {
    async fn exclusive<T, F, Fut>(&self, job: JobName, batch: F) -> Result<Option<T>, StoreError>
    where
        T: Send,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        self.jobs.exclusive(job, batch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_name_the_file() {
        let cwd = std::env::current_dir().expect("a working directory");
        let cases = [
            ("sqlite://data/vault.db", cwd.join("data/vault.db")),
            (
                "sqlite:///var/lib/vault/vault.db",
                PathBuf::from("/var/lib/vault/vault.db"),
            ),
            ("sqlite:vault.db", cwd.join("vault.db")),
            ("data/vault.db", cwd.join("data/vault.db")),
            ("/tmp/vault.db", PathBuf::from("/tmp/vault.db")),
        ];
        for (url, expected) in cases {
            let path = database_path(url).expect("a valid URL");
            assert_eq!(path, expected, "{url}");
        }
    }

    #[test]
    fn urls_naming_no_file_are_refused() {
        for url in [
            "",
            "sqlite://",
            "sqlite::memory:",
            ":memory:",
            "sqlite://x.db?mode=rwc",
            "file:x.db",
        ] {
            let error = database_path(url).expect_err(url);
            assert!(matches!(error, StoreError::Backend(_)), "{url}: {error:?}");
        }
    }
}
