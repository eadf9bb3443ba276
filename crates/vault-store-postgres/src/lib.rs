#![doc = include_str!("../README.md")]

mod announcer;
mod cache;
mod changes;
mod connections;
mod credential_writes;
mod error;
mod jobs;
mod logs;
mod migrations;
#[cfg(feature = "testing")]
pub mod testing;
mod webhooks;

use std::fmt;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel_async::methods::{ExecuteDsl, LoadQuery};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use vault_core::credential::StoredCredential;
use vault_core::ids::CredentialId;
use vault_core::log_writer::LogWriter;
use vault_core::store::StoreError;

pub use crate::cache::APPLICATION_NAME as CACHE_APPLICATION_NAME;
pub use crate::jobs::job_lock_key;
pub use crate::migrations::SchemaStatus;

use crate::announcer::Announcer;
use crate::cache::{CredentialCache, StopListening};
pub(crate) use crate::connections::{Connections, establish};
use crate::error::{Failure, backend, from_diesel};
use crate::logs::LogTables;

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
    /// Forgets every cached credential and grant here, and announces as much to every
    /// replica: for a change that may touch any credential's grants (a key revoked).
    pub(crate) fn forget_everything(&self) {
        self.credentials.forget(None);
        self.announcer.announce_all();
    }

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

// The four ways the shared statements run (`vault_store_sql::sql_store_ports!`), each one
// statement on a pooled connection, as `with_connection` runs them. Not through its
// closure: a statement may borrow what the caller lent (a name, a hash), and diesel-async
// runs one only on a connection borrowed for no longer than the statement lives, which a
// closure taking any connection cannot promise. Each says its future is `Send` rather than
// leaving rustc to find out at the port, where the statement's type is known but the
// check of a future holding diesel-async's own fails.
#[expect(
    clippy::manual_async_fn,
    reason = "the futures say they are Send: see above"
)]
impl PgStore {
    /// The row `query` returns, if any.
    fn fetch_optional<'q, Q, U>(
        &self,
        query: Q,
    ) -> impl Future<Output = Result<Option<U>, StoreError>> + Send + use<'_, 'q, Q, U>
    where
        Q: RunQueryDsl<AsyncPgConnection> + LoadQuery<'q, AsyncPgConnection, U> + Send + 'q,
        U: Send,
    {
        async move {
            let mut conn = self.connection().await?;
            let read = query.get_result(&mut *conn);
            let result = self
                .db
                .bounded(async { read.await.optional().map_err(from_diesel) })
                .await;
            Connections::give_back(conn, &result);
            result
        }
    }

    /// Every row `query` returns.
    fn fetch_all<'q, Q, U>(
        &self,
        query: Q,
    ) -> impl Future<Output = Result<Vec<U>, StoreError>> + Send + use<'_, 'q, Q, U>
    where
        Q: RunQueryDsl<AsyncPgConnection> + LoadQuery<'q, AsyncPgConnection, U> + Send + 'q,
        U: Send,
    {
        async move {
            let mut conn = self.connection().await?;
            let read = query.load(&mut *conn);
            let result = self
                .db
                .bounded(async { read.await.map_err(from_diesel) })
                .await;
            Connections::give_back(conn, &result);
            result
        }
    }

    /// Runs `statement`; how many rows it wrote.
    fn execute<'q, Q>(
        &self,
        statement: Q,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send + use<'_, 'q, Q>
    where
        Q: RunQueryDsl<AsyncPgConnection> + ExecuteDsl<AsyncPgConnection> + Send + 'q,
    {
        async move {
            let mut conn = self.connection().await?;
            let write = statement.execute(&mut *conn);
            let result = self
                .db
                .bounded(async { write.await.map_err(from_diesel) })
                .await;
            Connections::give_back(conn, &result);
            result
        }
    }

    /// [`Self::execute`] of a statement that may change credential `id`.
    async fn execute_changing<'q, Q>(
        &self,
        id: CredentialId,
        statement: Q,
    ) -> Result<usize, StoreError>
    where
        Q: RunQueryDsl<AsyncPgConnection> + ExecuteDsl<AsyncPgConnection> + Send + 'q,
    {
        self.changing(id, None, self.execute(statement)).await
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

vault_store_sql::sql_store_ports!(PgStore);

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
