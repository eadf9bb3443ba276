//! The connections every statement runs on: the pool, bounded waits for it and for the
//! server, and how one connection is opened and set up.

use std::str::FromStr as _;
use std::time::Duration;

use diesel::result::ConnectionError;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection as _};
use vault_core::store::StoreError;

use crate::error::{self, Failure, from_connection, from_pool, unavailable};
use crate::{ANSWER_MARGIN, cache};

/// The pool, and how long a call may wait for it: what every statement runs on.
#[derive(Clone)]
pub(crate) struct Connections {
    pub(crate) pool: Pool<AsyncPgConnection>,
    pub(crate) acquire_timeout: Duration,
}

impl Connections {
    /// Runs `operation` on a pooled connection, for at most the acquire timeout. A
    /// connection whose operation failed as `Unavailable` (the server ended it, the socket
    /// broke, no answer in time) is taken out of the pool (and closed) instead of being
    /// handed to the next caller, who would only fail the same way.
    pub(crate) async fn with_connection<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, StoreError>,
    {
        let mut conn = self.connection().await?;
        let result = self.bounded(operation(&mut conn)).await;
        Self::give_back(conn, &result);
        result
    }

    /// Returns `conn` to the pool, unless `result` says it failed as `Unavailable`: then it
    /// is taken out (and closed).
    pub(crate) fn give_back<T>(conn: Object<AsyncPgConnection>, result: &Result<T, StoreError>) {
        if matches!(result, Err(StoreError::Unavailable(_))) {
            drop(Object::take(conn));
        }
    }

    /// `operation`, given until a little after the acquire timeout. The server cancels a
    /// statement after the acquire timeout (the session's `statement_timeout`), and says
    /// so. This bound is for a server that stopped answering at all (a network partition,
    /// a frozen host), which would otherwise hold the caller for as long as TCP takes to
    /// give up: minutes. It is a little longer, so that where the server can still answer,
    /// its definite answer comes first.
    pub(crate) async fn bounded<T>(
        &self,
        operation: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let limit = self.acquire_timeout + ANSWER_MARGIN;
        tokio::time::timeout(limit, operation)
            .await
            .unwrap_or_else(|_| {
                Err(unavailable(Failure(format!(
                    "no answer from PostgreSQL within {limit:?}"
                ))))
            })
    }

    /// A connection of the caller's own, outside the pool, opened as the pool opens
    /// them: for work that keeps one connection (the log writer).
    pub(crate) async fn dedicated(&self, url: &str) -> Result<AsyncPgConnection, StoreError> {
        establish(url, self.acquire_timeout, Some(self.acquire_timeout))
            .await
            .map_err(from_connection)
    }

    /// Whether [`PgStore::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    /// A pooled connection, within the acquire timeout. deadpool bounds the wait for a
    /// free slot and the opening of a connection separately; the outer bound keeps their
    /// sum within one acquire timeout too.
    pub(crate) async fn connection(&self) -> Result<Object<AsyncPgConnection>, StoreError> {
        match tokio::time::timeout(self.acquire_timeout, self.pool.get()).await {
            Ok(result) => result.map_err(from_pool),
            Err(_) => Err(unavailable(Failure(format!(
                "no PostgreSQL connection within the acquire timeout of {:?}",
                self.acquire_timeout
            )))),
        }
    }
}

/// Opens one connection, giving up after `timeout`: tokio-postgres has no connect timeout
/// of its own unless the URL sets one, and a host that drops packets would otherwise hold a
/// caller for minutes.
///
/// With `statement_timeout`, the session gets that `statement_timeout`, unless the URL's
/// `options` set one already. The server then cancels a statement that runs or waits for a
/// lock too long and says so, so the caller learns for sure that it did not apply, rather
/// than giving up on a statement that may still commit later. The session also announces
/// its credential changes itself (cache.rs). Both are set with `SET` once the connection
/// is open (one round trip per new connection) rather than in the startup packet's
/// `options`, which connection poolers such as PgBouncer refuse by default.
///
/// Connects through tokio-postgres directly (then hands the connection to diesel-async)
/// so that the error keeps its cause ("Connection refused", the server's own message) and
/// its SQLSTATE, which tells a server that is starting, shutting down or full
/// (`Unavailable`) from one that refuses for good (`Backend`).
pub(crate) async fn establish(
    url: &str,
    timeout: Duration,
    statement_timeout: Option<Duration>,
) -> diesel::ConnectionResult<AsyncPgConnection> {
    let config = tokio_postgres::Config::from_str(url)
        .map_err(|error| ConnectionError::InvalidConnectionUrl(error::chain(&error)))?;
    let mut setup = cache::ANNOUNCES_CHANGES.to_owned();
    if let Some(limit) = statement_timeout.filter(|_| {
        !config
            .get_options()
            .is_some_and(|options| options.contains("statement_timeout"))
    }) {
        setup.push_str(&format!(
            "; SET statement_timeout = {}",
            limit.as_millis().max(1)
        ));
    }
    let connect = async {
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(connect_error)?;
        let mut conn =
            AsyncPgConnection::try_from_client_and_connection(client, connection).await?;
        conn.batch_execute(&setup)
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    };
    match tokio::time::timeout(timeout, connect).await {
        Ok(result) => result,
        Err(_) => Err(ConnectionError::BadConnection(format!(
            "timed out after {timeout:?} connecting to PostgreSQL"
        ))),
    }
}

fn connect_error(error: tokio_postgres::Error) -> ConnectionError {
    let message = error::chain(&error);
    let transient = match error.code() {
        // Class 08 (connection exception), 53 (insufficient resources: too many
        // connections) and 57P (shutting down, starting up) pass; the rest (28 bad
        // credentials, 3D no such database, ...) does not.
        Some(code) => {
            let code = code.code();
            code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
        }
        // No SQLSTATE: the socket (refused, reset, unresolvable host) unless the client
        // itself gave up on the credentials or the connection string.
        None => ![
            "authentication error",
            "invalid connection string",
            "invalid configuration",
        ]
        .iter()
        .any(|permanent| message.starts_with(permanent)),
    };
    if transient {
        ConnectionError::BadConnection(message)
    } else {
        ConnectionError::CouldntSetupConfiguration(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new(message),
        ))
    }
}
