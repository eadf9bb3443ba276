//! Translation of connection and pool errors into the port's [`StoreError`] (diesel's
//! own translate in `vault_store_sql::error`, the same for both stores).

use diesel::result::ConnectionError;
use diesel_async::pooled_connection::PoolError as ConnectError;
use diesel_async::pooled_connection::deadpool::PoolError;
use vault_core::StoreError;
pub(crate) use vault_store_sql::error::{Failure, backend, from_diesel, unavailable};

/// An error and its causes, `: `-separated, as one line.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A connection that could not be opened. Refused, reset or timed-out connections and a
/// server starting up or shutting down are `Unavailable`; a server that answers but says no
/// for good (a bad password, a database that does not exist) is `Backend`, like an invalid
/// URL, so an operator is not sent waiting for an outage to end.
pub(crate) fn from_connection(error: ConnectionError) -> StoreError {
    match error {
        ConnectionError::CouldntSetupConfiguration(inner) => match from_diesel(inner) {
            StoreError::Unavailable(cause) => StoreError::Unavailable(cause),
            StoreError::Backend(cause) => StoreError::Backend(cause),
            // No constraint is checked while connecting; keep whatever it was opaque.
            other => backend(other),
        },
        ConnectionError::InvalidConnectionUrl(_) => backend(error),
        other => unavailable(other),
    }
}

pub(crate) fn from_pool(error: PoolError) -> StoreError {
    match error {
        // A recycle check failed: the query's own error says what happened.
        PoolError::Backend(ConnectError::QueryError(query)) => from_diesel(query),
        PoolError::Backend(ConnectError::ConnectionError(connection)) => {
            from_connection(connection)
        }
        // Waiting for a connection (or for one to open) took longer than the acquire
        // timeout, or the pool was closed.
        PoolError::Timeout(_) | PoolError::Closed => unavailable(error),
        other => backend(other),
    }
}
