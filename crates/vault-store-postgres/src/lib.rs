#![doc = include_str!("../README.md")]

mod announcer;
mod cache;
mod connections;
mod credential_writes;
mod error;
mod jobs;
mod logs;
mod migrations;
mod sealed;
#[cfg(feature = "testing")]
pub mod testing;

use std::fmt;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;
use vault_core::access_key::{AccessKey, KeyBinding, Organization, StoredAccessKey, TokenHash};
use vault_core::cipher::SealedBlob;
use vault_core::credential::{Credential, StoredCredential};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::AuditEvent;
use vault_core::store::{
    AccessKeyStore, CredentialStore, CredentialWrite, KeyListQuery, ListQuery, MetaStore,
    OrganizationStore, StoreError,
};
use vault_core::versions::{SecretVersion, VersionInfo};

use vault_core::log_writer::LogWriter;

pub use crate::cache::APPLICATION_NAME as CACHE_APPLICATION_NAME;
pub use crate::jobs::job_lock_key;
pub use crate::migrations::SchemaStatus;

use crate::announcer::Announcer;
use crate::cache::{CredentialCache, StopListening};
pub(crate) use crate::connections::{Connections, establish};
use crate::credential_writes::{CredentialStatement, Pruning};
use crate::error::{Failure, backend, from_diesel};
use crate::logs::LogTables;
use vault_store_sql::error::Abort;
use vault_store_sql::rows::{
    AccessKeyRow, AccessKeySummaryRow, AuditEventRow, CredentialRow, CredentialSummaryRow, MetaRow,
    OrganizationRow, VersionInfoRow, VersionRow,
};
use vault_store_sql::schema::{
    access_keys, audit_events, credential_versions, credentials, organizations, vault_meta,
};
use vault_store_sql::types::{DbId, DbTime, Id, Instant};

diesel::define_sql_function! {
    /// SQL `COALESCE` of a nullable time and a time.
    fn coalesce(
        first: diesel::sql_types::Nullable<Instant>,
        second: Instant,
    ) -> diesel::sql_types::Nullable<Instant>;
}

/// How much longer than the server's statement timeout a call waits for an answer.
const ANSWER_MARGIN: Duration = Duration::from_secs(1);

/// How the store's connection pool behaves.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// The most connections this process opens (per store; clones share them).
    pub max_connections: usize,
    /// How long a call waits for a pooled connection, including opening a new one, before
    /// it fails with [`StoreError::Unavailable`]. Also the sessions' `statement_timeout`:
    /// every statement of this store is a point or index-range query answered in
    /// milliseconds, so one that runs (or waits for a row lock) this long is cancelled by
    /// the server and fails as `Unavailable`, certainly not applied; a server that does not
    /// answer at all is given one second more. This is what makes requests fail fast,
    /// instead of queueing or hanging, while the database is down, unreachable or
    /// overloaded.
    pub acquire_timeout: Duration,
}

impl Default for PgOptions {
    /// 16 connections, a 3 second acquire timeout.
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// The production store: every store port on PostgreSQL, through diesel-async's
/// `AsyncPgConnection` and a deadpool connection pool.
///
/// Cheap to clone (clones share the pool). Reads, single-row writes and a credential's
/// create or update (with its versions and audit event) are one statement on a pooled
/// connection; the other writes that carry an audit event are one transaction, whose
/// independent statements are pipelined. Statements are prepared once per connection
/// and cached. `Debug` shows the user, hosts and database, never the password.
#[derive(Clone)]
pub struct PgStore {
    db: Connections,
    /// The connection string without its password, for `Debug` and logs.
    target: Arc<str>,
    /// Appends to the audit and request logs, group-committed.
    logs: LogWriter,
    /// Credentials read recently, forgotten when any replica changes them.
    credentials: Arc<CredentialCache>,
    /// Tells every replica what this one changed.
    announcer: Announcer,
    _listening: Arc<StopListening>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.db.pool.status();
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .field("connections", &status.size)
            .field("idle", &status.available)
            .field("max_connections", &status.max_size)
            .field("acquire_timeout", &self.db.acquire_timeout)
            .finish()
    }
}

impl PgStore {
    /// Builds the connection pool for `url` and opens one connection, so that a database
    /// that cannot be reached fails here, at start-up. Does not migrate: see
    /// [`PgStore::migrate`] and [`PgStore::schema_status`].
    ///
    /// `url` is anything tokio-postgres accepts: `postgres://user:password@host:port/db`
    /// (or `postgresql://`), or `host=… user=… dbname=…` pairs.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server cannot be reached in `acquire_timeout`
    /// (refused, timed out, starting up or shutting down); [`StoreError::Backend`] for an
    /// invalid URL or options, or a server that refuses the connection for good (bad
    /// credentials, no such database).
    pub async fn connect(url: &str, options: PgOptions) -> Result<Self, StoreError> {
        let target = describe(url)?;
        if options.max_connections == 0 || options.acquire_timeout.is_zero() {
            return Err(backend(Failure(
                "PgOptions: max_connections and acquire_timeout must be more than zero".to_owned(),
            )));
        }
        let timeout = options.acquire_timeout;
        let mut config = ManagerConfig::<AsyncPgConnection>::default();
        config.custom_setup = Box::new(move |url| Box::pin(establish(url, timeout, Some(timeout))));
        // No query on checkout: a connection the server closed is noticed by
        // tokio-postgres (and then dropped by the pool), and one that dies mid-query
        // fails that query with `Unavailable`, which the caller may retry.
        config.recycling_method = RecyclingMethod::Fast;
        let manager = AsyncDieselConnectionManager::new_with_config(url, config);
        let pool = Pool::builder(manager)
            .max_size(options.max_connections)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .map_err(backend)?;
        let db = Connections {
            pool,
            acquire_timeout: timeout,
        };
        let (logs, writing) = LogWriter::start(LogTables::new(db.clone(), url));
        tokio::spawn(writing);
        let credentials = Arc::new(CredentialCache::new());
        let origin = cache::new_origin();
        let listening = cache::listen(url, &credentials, origin.clone(), timeout);
        let announcer = Announcer::start(db.clone(), origin.to_string());
        let store = Self {
            db,
            target: Arc::from(target),
            logs,
            credentials,
            announcer,
            _listening: Arc::new(listening),
        };
        // Open one connection now, so an unreachable database fails here.
        drop(store.connection().await?);
        tracing::info!(
            database = %store.target,
            max_connections = options.max_connections,
            "PostgreSQL store connected"
        );
        Ok(store)
    }

    /// Applies the pending migrations of `migrations/postgres` (embedded in this crate) to
    /// the database at `url`, and returns how many it applied.
    ///
    /// Safe when several replicas start at once: the run holds a PostgreSQL advisory lock,
    /// so one replica applies each migration and the others wait, then find nothing to do.
    /// Each migration runs in its own transaction. The work runs on a dedicated thread
    /// (diesel's migration harness is synchronous), so this never blocks the caller's
    /// runtime, whatever its flavour.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (the connection
    /// attempt is given 10 seconds); [`StoreError::Backend`] when a migration fails (its
    /// transaction is rolled back) or the server refuses the connection for good.
    pub async fn migrate(url: &str) -> Result<usize, StoreError> {
        migrations::migrate(url).await
    }

    /// Compares the migrations the database has applied with those this binary knows, so
    /// a server can refuse to start on a schema newer than itself.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached.
    pub async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        self.with_connection(async |conn| migrations::schema_status(conn).await)
            .await
    }

    /// Closes the pool: idle connections are closed now, the others when they are
    /// returned, and every later call fails with [`StoreError::Unavailable`]. Affects every
    /// clone.
    pub fn close(&self) {
        self.db.pool.close();
        self.credentials.close();
    }

    /// Runs `operation` on a pooled connection: see [`Connections::with_connection`].
    async fn with_connection<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, StoreError>,
    {
        self.db.with_connection(operation).await
    }

    /// A pooled connection, within the acquire timeout.
    async fn connection(&self) -> Result<Object<AsyncPgConnection>, StoreError> {
        self.db.connection().await
    }

    /// Runs `write`, a change of credential `id` to `stored` (`None`: deleted, or not
    /// known whole), then keeps what it wrote here (or forgets it) and has the change
    /// announced to every replica, unless it surely wrote nothing.
    async fn changing<T>(
        &self,
        id: CredentialId,
        stored: Option<&StoredCredential>,
        write: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let mark = self.credentials.mark();
        let forget = self.credentials.forget_after(id);
        let result = write.await;
        match (&result, stored) {
            (Ok(_), Some(stored)) => forget.wrote(&mark, stored),
            _ => drop(forget),
        }
        if !matches!(result, Err(StoreError::Conflict | StoreError::NotFound)) {
            self.announcer.announce(id);
        }
        result
    }
}

/// `url` as `postgres://user@host:port/database`: what `Debug` and logs show. Parsed
/// rather than edited, so no spelling of a password (`user:pw@`, `?password=`,
/// `password=` pairs) can slip through.
fn describe(url: &str) -> Result<String, StoreError> {
    let config = tokio_postgres::Config::from_str(url).map_err(|_| {
        backend(Failure(
            "invalid PostgreSQL URL: expected postgres://user:password@host:port/database or \
             key=value pairs"
                .to_owned(),
        ))
    })?;
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let host = match host {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            // One port for every host, one per host, or none (the default).
            match ports.get(i).or(ports.first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let database = config.get_dbname().unwrap_or_default();
    Ok(format!("postgres://{user}{}/{database}", hosts.join(",")))
}

/// Deletes a credential and its versions in one statement. The foreign key is checked at
/// the end of the statement, when both are gone (it has no cascade, and is NO ACTION, not
/// RESTRICT, for exactly this).
const DELETE_CREDENTIAL: &str = "\
    WITH versions AS (DELETE FROM credential_versions WHERE credential_id = $1) \
    DELETE FROM credentials WHERE organization_id = $2 AND id = $1";

impl CredentialStore for PgStore {
    async fn insert_credential(
        &self,
        credential: &StoredCredential,
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        let row = CredentialRow::encode(credential)?;
        let c = &credential.credential;
        let versions = VersionRow::encode_all(write.versions, c.organization_id, c.id)?;
        let audit = AuditEventRow::encode(write.audit)?;
        let organization = DbId::from(c.organization_id);
        let id = DbId::from(c.id);
        self.with_connection(async move |conn| {
            let change = diesel::insert_into(credentials::table)
                .values(&row)
                .returning(credentials::id);
            CredentialStatement {
                change: &change,
                organization,
                id,
                versions: &versions,
                pruning: Pruning::new(write.keep_versions, versions.len()),
                audit: &audit,
            }
            .execute(conn)
            .await
            .map_err(from_diesel)?;
            Ok(())
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
        let row = self
            .with_connection(async move |conn| {
                credentials::table
                    .filter(credentials::organization_id.eq(DbId::from(organization)))
                    .filter(credentials::id.eq(DbId::from(id)))
                    .select(CredentialRow::as_select())
                    .get_result(conn)
                    .await
                    .optional()
                    .map_err(from_diesel)
            })
            .await?;
        let stored = row.ok_or(StoreError::NotFound)?.decode()?;
        self.credentials.keep(&mark, &stored);
        Ok(stored)
    }

    async fn list_credentials(
        &self,
        organization: OrganizationId,
        query: &ListQuery,
    ) -> Result<Vec<Credential>, StoreError> {
        let expires_before = query
            .expires_before
            .map(|t| DbTime::encode(t, "expires_before"))
            .transpose()?;
        let mut select = credentials::table
            .filter(credentials::organization_id.eq(DbId::from(organization)))
            .select(CredentialSummaryRow::as_select())
            .into_boxed();
        if let Some(after) = query.after {
            select = select.filter(credentials::id.gt(DbId::from(after)));
        }
        if let Some(kind) = query.credential_type {
            select = select.filter(credentials::credential_type.eq(kind.as_str()));
        }
        if let Some(before) = expires_before {
            // NULL (never expires) never compares true, so it is left out.
            select = select.filter(credentials::expires_at.le(before));
        }
        let select = select
            .order(credentials::id.asc())
            .limit(vault_store_sql::limit(query.limit));
        let rows: Vec<CredentialSummaryRow> = self
            .with_connection(async move |conn| select.load(conn).await.map_err(from_diesel))
            .await?;
        rows.into_iter().map(CredentialSummaryRow::decode).collect()
    }

    async fn update_credential(
        &self,
        organization: OrganizationId,
        credential: &StoredCredential,
        expected_version: i64,
        write: &CredentialWrite<'_>,
    ) -> Result<(), StoreError> {
        let CredentialRow {
            summary: s,
            sealed,
            key_id,
            restore_floor,
            secret_version,
        } = CredentialRow::encode(credential)?;
        let versions =
            VersionRow::encode_all(write.versions, organization, credential.credential.id)?;
        let audit = AuditEventRow::encode(write.audit)?;
        let org = DbId::from(organization);
        let id = s.id;
        let statement = self.with_connection(async move |conn| {
            // The compare-and-swap: a concurrent writer of the same row waits for its
            // lock, then sees the new version and matches nothing, so the history
            // parts write nothing either. The organization and id are never rewritten.
            let change = diesel::update(
                credentials::table
                    .filter(credentials::organization_id.eq(org))
                    .filter(credentials::id.eq(id))
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
            .returning(credentials::id);
            CredentialStatement {
                change: &change,
                organization: org,
                id,
                versions: &versions,
                pruning: Pruning::new(write.keep_versions, versions.len()),
                audit: &audit,
            }
            .get_result::<(i64, bool)>(conn)
            .await
            .map_err(from_diesel)
        });
        let id = credential.credential.id;
        self.changing(id, Some(credential), async {
            match statement.await? {
                (1, _) => Ok(()),
                (_, true) => Err(StoreError::Conflict),
                (_, false) => Err(StoreError::NotFound),
            }
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
        let org = DbId::from(organization);
        let credential = id;
        let id = DbId::from(id);
        let statement = self.with_connection(async move |conn| {
            conn.transaction(async move |conn| {
                // Lock the row first (and read its version). An update adding a version
                // takes this lock before it writes the version, so none can appear after
                // the versions are deleted and before the credential is (which the foreign
                // key would refuse).
                let version: Option<i64> = credentials::table
                    .filter(credentials::organization_id.eq(org))
                    .filter(credentials::id.eq(id))
                    .select(credentials::version)
                    .for_update()
                    .get_result(conn)
                    .await
                    .optional()?;
                match version {
                    None => return Err(Abort(StoreError::NotFound)),
                    Some(stored) if expected_version.is_some_and(|expected| expected != stored) => {
                        return Err(Abort(StoreError::Conflict));
                    }
                    Some(_) => {}
                }
                let shared: &AsyncPgConnection = conn;
                let delete = async {
                    let mut conn = shared;
                    diesel::sql_query(DELETE_CREDENTIAL)
                        .bind::<Id, _>(id)
                        .bind::<Id, _>(org)
                        .execute(&mut conn)
                        .await
                };
                let record = async {
                    let mut conn = shared;
                    diesel::insert_into(audit_events::table)
                        .values(&audit)
                        .execute(&mut conn)
                        .await
                };
                futures::try_join!(delete, record)?;
                Ok(())
            })
            .await
            .map_err(|Abort(error)| error)
        });
        self.changing(credential, None, statement).await
    }

    async fn list_versions(
        &self,
        organization: OrganizationId,
        id: CredentialId,
    ) -> Result<Vec<VersionInfo>, StoreError> {
        let org = DbId::from(organization);
        let id = DbId::from(id);
        let rows: Vec<VersionInfoRow> = self
            .with_connection(async move |conn| {
                let rows: Vec<VersionInfoRow> = credential_versions::table
                    .filter(credential_versions::organization_id.eq(org))
                    .filter(credential_versions::credential_id.eq(id))
                    .select(VersionInfoRow::as_select())
                    .order(credential_versions::number.desc())
                    .load(conn)
                    .await
                    .map_err(from_diesel)?;
                // No versions: a credential without any (stored before versions existed),
                // or none at all. A second round trip on this path only.
                if rows.is_empty() {
                    let exists = diesel::select(diesel::dsl::exists(
                        credentials::table
                            .filter(credentials::organization_id.eq(org))
                            .filter(credentials::id.eq(id)),
                    ))
                    .get_result::<bool>(conn)
                    .await
                    .map_err(from_diesel)?;
                    if !exists {
                        return Err(StoreError::NotFound);
                    }
                }
                Ok(rows)
            })
            .await?;
        rows.into_iter().map(VersionInfoRow::decode).collect()
    }

    async fn get_version(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        number: i64,
    ) -> Result<SecretVersion, StoreError> {
        let row = self
            .with_connection(async move |conn| {
                credential_versions::table
                    .filter(credential_versions::organization_id.eq(DbId::from(organization)))
                    .filter(credential_versions::credential_id.eq(DbId::from(id)))
                    .filter(credential_versions::number.eq(number))
                    .select(VersionRow::as_select())
                    .get_result(conn)
                    .await
                    .optional()
                    .map_err(from_diesel)
            })
            .await?;
        row.ok_or(StoreError::NotFound)?.decode()
    }
}

impl AccessKeyStore for PgStore {
    async fn insert_access_key(
        &self,
        key: &StoredAccessKey,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let row = AccessKeyRow::encode(key)?;
        let audit = AuditEventRow::encode(audit)?;
        self.with_connection(async move |conn| {
            conn.transaction(async move |conn| {
                // Independent rows: sent together (pipelined), committed together.
                let shared: &AsyncPgConnection = conn;
                let insert = async {
                    let mut conn = shared;
                    diesel::insert_into(access_keys::table)
                        .values(&row)
                        .execute(&mut conn)
                        .await
                };
                let record = async {
                    let mut conn = shared;
                    diesel::insert_into(audit_events::table)
                        .values(&audit)
                        .execute(&mut conn)
                        .await
                };
                futures::try_join!(insert, record)?;
                Ok(())
            })
            .await
            .map_err(|Abort(error)| error)
        })
        .await
    }

    async fn find_access_key(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<StoredAccessKey>, StoreError> {
        let hash = hash.0;
        let row = self
            .with_connection(async move |conn| {
                access_keys::table
                    .filter(access_keys::key_hash.eq(hash.as_slice()))
                    .select(AccessKeyRow::as_select())
                    .get_result(conn)
                    .await
                    .optional()
                    .map_err(from_diesel)
            })
            .await?;
        row.map(AccessKeyRow::decode).transpose()
    }

    async fn list_access_keys(
        &self,
        organization: OrganizationId,
        query: &KeyListQuery,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let mut select = access_keys::table
            .filter(access_keys::organization_id.eq(DbId::from(organization)))
            .select(AccessKeySummaryRow::as_select())
            .into_boxed();
        if let Some(after) = query.after {
            select = select.filter(access_keys::id.gt(DbId::from(after)));
        }
        let select = select
            .order(access_keys::id.asc())
            .limit(vault_store_sql::limit(query.limit));
        let rows: Vec<AccessKeySummaryRow> = self
            .with_connection(async move |conn| select.load(conn).await.map_err(from_diesel))
            .await?;
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
            .with_connection(async move |conn| {
                conn.transaction(async move |conn| {
                    let shared: &AsyncPgConnection = conn;
                    // One statement that revokes and returns the key. COALESCE keeps an
                    // existing revocation time: of two racing revokes, the second waits for
                    // the first's row lock and then sees its time.
                    let revoke = async {
                        let mut conn = shared;
                        diesel::update(
                            access_keys::table
                                .filter(access_keys::organization_id.eq(DbId::from(organization)))
                                .filter(access_keys::id.eq(DbId::from(id))),
                        )
                        .set(access_keys::revoked_at.eq(coalesce(access_keys::revoked_at, at)))
                        .returning(AccessKeySummaryRow::as_returning())
                        .get_result(&mut conn)
                        .await
                        .optional()
                    };
                    // Sent with it (pipelined); rolled back with it if there is no such key.
                    let record = async {
                        let mut conn = shared;
                        diesel::insert_into(audit_events::table)
                            .values(&audit)
                            .execute(&mut conn)
                            .await
                    };
                    let (row, _) = futures::try_join!(revoke, record)?;
                    row.ok_or(Abort(StoreError::NotFound))
                })
                .await
                .map_err(|Abort(error)| error)
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
        let touched = self
            .with_connection(async move |conn| {
                diesel::update(
                    access_keys::table
                        .filter(access_keys::organization_id.eq(DbId::from(organization)))
                        .filter(access_keys::id.eq(DbId::from(id))),
                )
                .set(access_keys::last_used_at.eq(at))
                .execute(conn)
                .await
                .map_err(from_diesel)
            })
            .await?;
        if touched == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn unbound_access_keys(
        &self,
        after: Option<AccessKeyId>,
        limit: usize,
    ) -> Result<Vec<StoredAccessKey>, StoreError> {
        let mut select = access_keys::table
            .filter(access_keys::binding.is_null())
            .select(AccessKeyRow::as_select())
            .into_boxed();
        if let Some(after) = after {
            select = select.filter(access_keys::id.gt(DbId::from(after)));
        }
        let select = select
            .order(access_keys::id.asc())
            .limit(vault_store_sql::limit(limit));
        let rows: Vec<AccessKeyRow> = self
            .with_connection(async move |conn| select.load(conn).await.map_err(from_diesel))
            .await?;
        rows.into_iter().map(AccessKeyRow::decode).collect()
    }

    async fn bind_access_key(
        &self,
        id: AccessKeyId,
        binding: &KeyBinding,
    ) -> Result<bool, StoreError> {
        let binding = binding.0.to_vec();
        let written = self
            .with_connection(async move |conn| {
                // `binding IS NULL` in the statement itself: a bound key is never re-bound.
                diesel::update(
                    access_keys::table
                        .filter(access_keys::id.eq(DbId::from(id)))
                        .filter(access_keys::binding.is_null()),
                )
                .set(access_keys::binding.eq(Some(binding)))
                .execute(conn)
                .await
                .map_err(from_diesel)
            })
            .await?;
        Ok(written == 1)
    }
}

impl OrganizationStore for PgStore {
    async fn insert_organization(&self, organization: &Organization) -> Result<(), StoreError> {
        let row = OrganizationRow::encode(organization)?;
        self.with_connection(async move |conn| {
            diesel::insert_into(organizations::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(from_diesel)?;
            Ok(())
        })
        .await
    }

    async fn count_organizations(&self) -> Result<u64, StoreError> {
        let count = self
            .with_connection(async |conn| {
                organizations::table
                    .count()
                    .get_result::<i64>(conn)
                    .await
                    .map_err(from_diesel)
            })
            .await?;
        // COUNT(*) is never negative.
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn organization_exists(&self, id: OrganizationId) -> Result<bool, StoreError> {
        let id = DbId::from(id);
        self.with_connection(async move |conn| {
            diesel::select(diesel::dsl::exists(
                organizations::table.filter(organizations::id.eq(id)),
            ))
            .get_result::<bool>(conn)
            .await
            .map_err(from_diesel)
        })
        .await
    }
}

impl MetaStore for PgStore {
    async fn get_meta(&self, name: &str) -> Result<Option<SealedBlob>, StoreError> {
        let row = self
            .with_connection(async move |conn| {
                vault_meta::table
                    .filter(vault_meta::name.eq(name))
                    .select(MetaRow::as_select())
                    .get_result(conn)
                    .await
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
        let written = self
            .with_connection(async move |conn| {
                // INSERT .. ON CONFLICT DO NOTHING: one atomic statement, so of racing
                // inserts (tasks or replicas) exactly one writes a row; the others wait
                // for its transaction, then write nothing.
                diesel::insert_into(vault_meta::table)
                    .values(&row)
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await
                    .map_err(from_diesel)
            })
            .await?;
        Ok(written == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_show_the_password() {
        let cases = [
            (
                "postgres://vault:s3cret@db.internal:5433/vault",
                "postgres://vault@db.internal:5433/vault",
            ),
            (
                "postgresql://vault@127.0.0.1/vault?password=s3cret",
                "postgres://vault@127.0.0.1:5432/vault",
            ),
            (
                "host=db1,db2 port=5432 user=vault password=s3cret dbname=vault",
                "postgres://vault@db1:5432,db2:5432/vault",
            ),
            (
                "postgres://%2Fvar%2Frun%2Fpostgresql/vault",
                "postgres:///var/run/postgresql:5432/vault",
            ),
        ];
        for (url, expected) in cases {
            let described = describe(url).expect("a valid URL");
            assert_eq!(described, expected, "{url}");
            assert!(!described.contains("s3cret"), "{described}");
        }
    }

    #[test]
    fn invalid_urls_are_refused_without_echoing_them() {
        for url in [
            "mysql://root:s3cret@localhost/db",
            "postgres://u:s3cret@h:notaport/db",
        ] {
            let error = describe(url).expect_err(url);
            assert!(matches!(error, StoreError::Backend(_)), "{url}: {error:?}");
            assert!(!format!("{error:?}").contains("s3cret"), "{error:?}");
        }
    }
}
