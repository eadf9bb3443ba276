#![doc = include_str!("../README.md")]

mod error;
mod logs;
mod prepared;
mod sealed;
mod writers;

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use time::OffsetDateTime;
use vault_core::access_key::{AccessKey, KeyBinding, Organization, StoredAccessKey, TokenHash};
use vault_core::cipher::SealedBlob;
use vault_core::credential::{Credential, StoredCredential};
use vault_core::credential_cache::CredentialCache;
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::jobs::LocalJobs;
use vault_core::logs::AuditEvent;
use vault_core::store::{
    AccessKeyStore, CredentialStore, CredentialWrite, JobName, JobStore, KeyListQuery, ListQuery,
    MetaStore, OrganizationStore, StoreError,
};
use vault_core::versions::{SecretVersion, VersionInfo};

use vault_store_sql::error::{Abort, from_diesel, unavailable};
use vault_store_sql::rows::{
    AccessKeyRow, AccessKeySummaryRow, AuditEventRow, CredentialRow, CredentialSummaryRow, MetaRow,
    OrganizationRow, VersionInfoRow, VersionRow,
};
use vault_store_sql::schema::{
    access_keys, audit_events, credential_versions, credentials, organizations, vault_meta,
};
use vault_store_sql::types::{DbId, DbTime, Id};

use crate::error::{invalid_url, is_lock_contention};
use crate::prepared::Prepared;
use crate::writers::{Writers, write_on, write_then};

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

    /// Runs `operation` (as [`Self::write`]), a change of credential `id` to `stored`
    /// (`None`: deleted, or not known whole). As it commits, the writer keeps what it wrote
    /// in the cache, or forgets the credential if it failed: on the writer thread, so a
    /// caller that stops waiting cannot leave the old row cached.
    async fn changing<R, F>(
        &self,
        id: CredentialId,
        stored: Option<StoredCredential>,
        operation: F,
    ) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<R, Abort> + Send + 'static,
    {
        let cache = Arc::clone(&self.credentials);
        let mark = cache.mark();
        write_then(&self.writers, operation, move |committed| {
            let forget = cache.forget_after(id);
            if let (true, Some(stored)) = (committed, &stored) {
                forget.wrote(&mark, stored);
            }
        })
        .await
    }
}

/// Keeps a credential's newest versions: one statement deleting every version at or below
/// the number of the (keep + 1)-th newest (bound third). With `keep` or fewer versions the
/// subquery is NULL, and nothing compares true with NULL.
const PRUNE_VERSIONS: &str = "\
    DELETE FROM credential_versions \
    WHERE credential_id = ? AND number <= ( \
        SELECT number FROM credential_versions WHERE credential_id = ? \
        ORDER BY number DESC LIMIT 1 OFFSET ?)";

/// `keep_versions` as the pruning's OFFSET; `None` (0) keeps every version.
fn keep(keep_versions: usize) -> Option<i64> {
    (keep_versions > 0).then(|| vault_store_sql::limit(keep_versions))
}

/// What a credential write adds after its row, in the same transaction: the version rows,
/// the pruning to the newest `keep`, the audit event.
fn write_history(
    conn: &mut SqliteConnection,
    credential: &DbId,
    versions: &[VersionRow],
    keep: Option<i64>,
    audit: &AuditEventRow,
) -> Result<(), Abort> {
    for version in versions {
        // A number the credential has already: a unique violation, so `Conflict`.
        Prepared(diesel::insert_into(credential_versions::table).values(version)).run(conn)?;
    }
    if let Some(keep) = keep {
        Prepared(
            diesel::sql_query(PRUNE_VERSIONS)
                .bind::<Id, _>(credential)
                .bind::<Id, _>(credential)
                .bind::<BigInt, _>(keep),
        )
        .run(conn)?;
    }
    Prepared(diesel::insert_into(audit_events::table).values(audit)).run(conn)?;
    Ok(())
}

impl CredentialStore for SqliteStore {
    async fn insert_credential(
        &self,
        credential: &StoredCredential,
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        let row = CredentialRow::encode(credential)?;
        let c = &credential.credential;
        let versions = VersionRow::encode_all(write.versions, c.organization_id, c.id)?;
        let keep = keep(write.keep_versions);
        let audit = AuditEventRow::encode(write.audit)?;
        self.write(move |conn| {
            Prepared(diesel::insert_into(credentials::table).values(&row)).run(conn)?;
            write_history(conn, &row.summary.id, &versions, keep, &audit)
        })
        .await
    }

    async fn get_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<StoredCredential, StoreError> {
        if let Some(stored) = self.credentials.get(organization, id) {
            return Ok(stored);
        }
        let mark = self.credentials.mark();
        let row = self.read(move |conn| {
            credentials::table
                .filter(credentials::organization_id.eq(DbId::from(organization)))
                .filter(credentials::id.eq(DbId::from(id)))
                .select(CredentialRow::as_select())
                .get_result(conn)
                .optional()
                .map_err(from_diesel)
        })?;
        let stored = row.ok_or(StoreError::NotFound)?.decode()?;
        self.credentials.keep(&mark, &stored);
        Ok(stored)
    }

    async fn list_credentials(
        &self,
        organization: OrganizationId,
        query: &ListQuery,
    ) -> Result<Vec<Credential>, StoreError> {
        let after = query.after;
        let credential_type = query.credential_type;
        let expires_before = query
            .expires_before
            .map(|t| DbTime::encode(t, "expires_before"))
            .transpose()?;
        let limit = vault_store_sql::limit(query.limit);
        let rows = self.read(move |conn| {
            let mut select = credentials::table
                .filter(credentials::organization_id.eq(DbId::from(organization)))
                .select(CredentialSummaryRow::as_select())
                .into_boxed();
            if let Some(after) = after {
                select = select.filter(credentials::id.gt(DbId::from(after)));
            }
            if let Some(kind) = credential_type {
                select = select.filter(credentials::credential_type.eq(kind.as_str()));
            }
            if let Some(before) = expires_before {
                // NULL (never expires) never compares true, so it is left out.
                select = select.filter(credentials::expires_at.le(before));
            }
            select
                .order(credentials::id.asc())
                .limit(limit)
                .load(conn)
                .map_err(from_diesel)
        })?;
        rows.into_iter().map(CredentialSummaryRow::decode).collect()
    }

    async fn update_credential(
        &self,
        organization: OrganizationId,
        credential: &StoredCredential,
        expected_version: i64,
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        let row = CredentialRow::encode(credential)?;
        let versions =
            VersionRow::encode_all(write.versions, organization, credential.credential.id)?;
        let keep = keep(write.keep_versions);
        let audit = AuditEventRow::encode(write.audit)?;
        let id = credential.credential.id;
        self.changing(id, Some(credential.clone()), move |conn| {
            let CredentialRow {
                summary: s,
                sealed,
                key_id,
                restore_floor,
                secret_version,
            } = row;
            let org = DbId::from(organization);
            // The compare-and-swap comes first: on a miss nothing else is written. The
            // organization and id are never rewritten.
            let written = Prepared(
                diesel::update(
                    credentials::table
                        .filter(credentials::organization_id.eq(org))
                        .filter(credentials::id.eq(&s.id))
                        .filter(credentials::version.eq(expected_version)),
                )
                .set((
                    credentials::name.eq(s.name),
                    credentials::description.eq(s.description),
                    credentials::credential_type.eq(s.credential_type),
                    credentials::public_fields.eq(s.public_fields),
                    credentials::allowed_hosts.eq(s.allowed_hosts),
                    credentials::secret_hints.eq(s.secret_hints),
                    credentials::sealed.eq(sealed),
                    credentials::key_id.eq(key_id),
                    credentials::expires_at.eq(s.expires_at),
                    credentials::created_at.eq(s.created_at),
                    credentials::updated_at.eq(s.updated_at),
                    credentials::version.eq(s.version),
                    credentials::restore_floor.eq(restore_floor),
                    credentials::secret_version.eq(secret_version),
                ))
                .returning(credentials::version),
            )
            .run(conn)?;
            if written == 1 {
                return write_history(conn, &s.id, &versions, keep, &audit);
            }
            // Nothing written: tell a missing row from a changed one.
            let exists = diesel::select(diesel::dsl::exists(
                credentials::table
                    .filter(credentials::organization_id.eq(org))
                    .filter(credentials::id.eq(&s.id)),
            ))
            .get_result::<bool>(conn)?;
            Err(Abort(if exists {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            }))
        })
        .await
    }

    async fn delete_credential(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        expected_version: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let audit = AuditEventRow::encode(audit)?;
        self.changing(id, None, move |conn| {
            let id = DbId::from(id);
            let credential = credentials::table
                .filter(credentials::organization_id.eq(DbId::from(organization)))
                .filter(credentials::id.eq(id));
            // Checked first, then deleted: the transaction holds the write lock, so
            // nothing changes in between.
            let version: Option<i64> = credential
                .select(credentials::version)
                .get_result(conn)
                .optional()?;
            match version {
                None => return Err(Abort(StoreError::NotFound)),
                Some(stored) if expected_version.is_some_and(|expected| expected != stored) => {
                    return Err(Abort(StoreError::Conflict));
                }
                Some(_) => {}
            }
            // The versions first: the foreign key refuses a credential that still has any.
            diesel::delete(
                credential_versions::table.filter(credential_versions::credential_id.eq(id)),
            )
            .execute(conn)?;
            diesel::delete(credential).execute(conn)?;
            diesel::insert_into(audit_events::table)
                .values(&audit)
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn list_versions(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<Vec<VersionInfo>, StoreError> {
        let rows = self.read(move |conn| {
            let org = DbId::from(organization);
            let id = DbId::from(id);
            let rows: Vec<VersionInfoRow> = credential_versions::table
                .filter(credential_versions::organization_id.eq(org))
                .filter(credential_versions::credential_id.eq(id))
                .select(VersionInfoRow::as_select())
                .order(credential_versions::number.desc())
                .load(conn)
                .map_err(from_diesel)?;
            // No versions: a credential without any (stored before versions existed), or
            // none at all. A second query on this path only.
            if rows.is_empty() {
                let exists = diesel::select(diesel::dsl::exists(
                    credentials::table
                        .filter(credentials::organization_id.eq(org))
                        .filter(credentials::id.eq(id)),
                ))
                .get_result::<bool>(conn)
                .map_err(from_diesel)?;
                if !exists {
                    return Err(StoreError::NotFound);
                }
            }
            Ok(rows)
        })?;
        rows.into_iter().map(VersionInfoRow::decode).collect()
    }

    async fn get_version(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        number: i64,
    ) -> Result<SecretVersion, StoreError> {
        let row = self.read(move |conn| {
            credential_versions::table
                .filter(credential_versions::organization_id.eq(DbId::from(organization)))
                .filter(credential_versions::credential_id.eq(DbId::from(id)))
                .filter(credential_versions::number.eq(number))
                .select(VersionRow::as_select())
                .get_result(conn)
                .optional()
                .map_err(from_diesel)
        })?;
        row.ok_or(StoreError::NotFound)?.decode()
    }
}

impl AccessKeyStore for SqliteStore {
    async fn insert_access_key(
        &self,
        key: &StoredAccessKey,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let row = AccessKeyRow::encode(key)?;
        let audit = AuditEventRow::encode(audit)?;
        self.write(move |conn| {
            diesel::insert_into(access_keys::table)
                .values(&row)
                .execute(conn)?;
            diesel::insert_into(audit_events::table)
                .values(&audit)
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn find_access_key(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<StoredAccessKey>, StoreError> {
        let hash = hash.0;
        let row = self.read(move |conn| {
            access_keys::table
                .filter(access_keys::key_hash.eq(hash.as_slice()))
                .select(AccessKeyRow::as_select())
                .get_result(conn)
                .optional()
                .map_err(from_diesel)
        })?;
        row.map(AccessKeyRow::decode).transpose()
    }

    async fn list_access_keys(
        &self,
        organization: OrganizationId,
        query: &KeyListQuery,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let after = query.after;
        let limit = vault_store_sql::limit(query.limit);
        let rows = self.read(move |conn| {
            let mut select = access_keys::table
                .filter(access_keys::organization_id.eq(DbId::from(organization)))
                .select(AccessKeySummaryRow::as_select())
                .into_boxed();
            if let Some(after) = after {
                select = select.filter(access_keys::id.gt(DbId::from(after)));
            }
            select
                .order(access_keys::id.asc())
                .limit(limit)
                .load(conn)
                .map_err(from_diesel)
        })?;
        rows.into_iter().map(AccessKeySummaryRow::decode).collect()
    }

    async fn revoke_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
        audit: &AuditEvent,
    ) -> Result<AccessKey, StoreError> {
        let at = DbTime::encode(at, "access_keys.revoked_at")?;
        let audit = AuditEventRow::encode(audit)?;
        let row = self
            .write(move |conn| {
                let key = access_keys::table
                    .filter(access_keys::organization_id.eq(DbId::from(organization)))
                    .filter(access_keys::id.eq(DbId::from(id)));
                // `revoked_at IS NULL` in the statement itself: of two racing revokes,
                // the first one's time stays.
                diesel::update(key.filter(access_keys::revoked_at.is_null()))
                    .set(access_keys::revoked_at.eq(at))
                    .execute(conn)?;
                let row = key
                    .select(AccessKeySummaryRow::as_select())
                    .get_result(conn)
                    .optional()?
                    .ok_or(Abort(StoreError::NotFound))?;
                diesel::insert_into(audit_events::table)
                    .values(&audit)
                    .execute(conn)?;
                Ok(row)
            })
            .await?;
        row.decode()
    }

    async fn touch_access_key(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let at = DbTime::encode(at, "access_keys.last_used_at")?;
        self.run(move |conn| {
            let touched = diesel::update(
                access_keys::table
                    .filter(access_keys::organization_id.eq(DbId::from(organization)))
                    .filter(access_keys::id.eq(DbId::from(id))),
            )
            .set(access_keys::last_used_at.eq(at))
            .execute(conn)
            .map_err(from_diesel)?;
            if touched == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn unbound_access_keys(
        &self,
        after: Option<AccessKeyId>,
        limit: usize,
    ) -> Result<Vec<StoredAccessKey>, StoreError> {
        let limit = vault_store_sql::limit(limit);
        let rows = self.read(move |conn| {
            let mut select = access_keys::table
                .filter(access_keys::binding.is_null())
                .select(AccessKeyRow::as_select())
                .into_boxed();
            if let Some(after) = after {
                select = select.filter(access_keys::id.gt(DbId::from(after)));
            }
            select
                .order(access_keys::id.asc())
                .limit(limit)
                .load(conn)
                .map_err(from_diesel)
        })?;
        rows.into_iter().map(AccessKeyRow::decode).collect()
    }

    async fn bind_access_key(
        &self,
        id: AccessKeyId,
        binding: &KeyBinding,
    ) -> Result<bool, StoreError> {
        let binding = binding.0.to_vec();
        self.run(move |conn| {
            // `binding IS NULL` in the statement itself: a bound key is never re-bound.
            let written = diesel::update(
                access_keys::table
                    .filter(access_keys::id.eq(DbId::from(id)))
                    .filter(access_keys::binding.is_null()),
            )
            .set(access_keys::binding.eq(Some(binding)))
            .execute(conn)
            .map_err(from_diesel)?;
            Ok(written == 1)
        })
        .await
    }
}

impl OrganizationStore for SqliteStore {
    async fn insert_organization(&self, organization: &Organization) -> Result<(), StoreError> {
        let row = OrganizationRow::encode(organization)?;
        self.run(move |conn| {
            diesel::insert_into(organizations::table)
                .values(&row)
                .execute(conn)
                .map_err(from_diesel)?;
            Ok(())
        })
        .await
    }

    async fn count_organizations(&self) -> Result<u64, StoreError> {
        let count = self
            .run(|conn| {
                organizations::table
                    .count()
                    .get_result::<i64>(conn)
                    .map_err(from_diesel)
            })
            .await?;
        // COUNT(*) is never negative.
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn organization_exists(&self, id: OrganizationId) -> Result<bool, StoreError> {
        let id = DbId::from(id);
        self.run(move |conn| {
            diesel::select(diesel::dsl::exists(
                organizations::table.filter(organizations::id.eq(id)),
            ))
            .get_result::<bool>(conn)
            .map_err(from_diesel)
        })
        .await
    }
}

impl MetaStore for SqliteStore {
    async fn get_meta(&self, name: &str) -> Result<Option<SealedBlob>, StoreError> {
        let name = name.to_owned();
        let row = self
            .run(move |conn| {
                vault_meta::table
                    .filter(vault_meta::name.eq(name))
                    .select(MetaRow::as_select())
                    .get_result(conn)
                    .optional()
                    .map_err(from_diesel)
            })
            .await?;
        Ok(row.map(MetaRow::decode))
    }

    async fn insert_meta_if_absent(
        &self,
        name: &str,
        value: &SealedBlob,
    ) -> Result<bool, StoreError> {
        let row = MetaRow::encode(name, value);
        self.run(move |conn| {
            // INSERT .. ON CONFLICT DO NOTHING: one atomic statement, so of racing
            // inserts (threads or processes) exactly one writes a row.
            let written = diesel::insert_into(vault_meta::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)
                .map_err(from_diesel)?;
            Ok(written == 1)
        })
        .await
    }
}

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
