//! Translation of PostgreSQL, diesel and pool errors into the port's [`StoreError`].

use std::fmt;

use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::PoolError as ConnectError;
use diesel_async::pooled_connection::deadpool::PoolError;
use vault_core::StoreError;

/// A failure described by this crate (a timeout, a bad URL), with no value in it.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

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

pub(crate) fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

pub(crate) fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(error))
}

/// Server messages that mean "not now" rather than "never". diesel-async reports every
/// SQLSTATE it has no `DatabaseErrorKind` for as `Unknown` and keeps only the message, so
/// the message (PostgreSQL's fixed English text; servers run with `lc_messages = C` or an
/// English locale) is what tells them apart:
/// - 57P01 `admin_shutdown`, 57P02 `crash_shutdown`, 57P05 idle-session timeout:
///   "terminating connection due to administrator command" / "... because of crash of
///   another server process" / "... due to idle-session timeout";
/// - 57P03 `cannot_connect_now`: "the database system is starting up", "... is shutting
///   down", "... is in recovery mode", "... is not yet accepting connections";
/// - 53300 `too_many_connections`: "sorry, too many clients already", "remaining connection
///   slots are reserved ...";
/// - 57014 `query_canceled` (the session's statement timeout, a lock timeout, a cancel
///   request) and 40001 on a standby ("... due to conflict with recovery"): "canceling
///   statement due to ...". The statement did not apply; trying again later may work.
fn is_transient(message: &str) -> bool {
    const TRANSIENT: [&str; 5] = [
        "terminating connection",
        "the database system is",
        "too many clients",
        "connection slots are reserved",
        "canceling statement due to",
    ];
    TRANSIENT.iter().any(|needle| message.contains(needle))
}

pub(crate) fn from_diesel(error: DieselError) -> StoreError {
    match error {
        DieselError::NotFound => StoreError::NotFound,
        // A primary key or a UNIQUE column (an access key's hash, a meta name) is taken.
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Conflict,
        // The row names an organization that does not exist.
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StoreError::NotFound
        }
        // The socket failed or closed (diesel-async reports every tokio-postgres error
        // without an SQLSTATE this way: I/O errors, a closed connection). A write reaching
        // a server that became a read-only standby after a failover is also a "not now".
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        ) => unavailable(error),
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
            if is_transient(info.message()) =>
        {
            unavailable(error)
        }
        other => backend(other),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn constraint_and_outage_errors_map_to_the_port_variants() {
        let unique = database_error(
            DatabaseErrorKind::UniqueViolation,
            "duplicate key value violates unique constraint \"access_keys_key_hash_key\"",
        );
        assert!(matches!(from_diesel(unique), StoreError::Conflict));
        let foreign = database_error(
            DatabaseErrorKind::ForeignKeyViolation,
            "insert or update on table \"credentials\" violates foreign key constraint",
        );
        assert!(matches!(from_diesel(foreign), StoreError::NotFound));
        assert!(matches!(
            from_diesel(DieselError::NotFound),
            StoreError::NotFound
        ));
        for (kind, message) in [
            (
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            (
                DatabaseErrorKind::Unknown,
                "the database system is starting up",
            ),
            (
                DatabaseErrorKind::Unknown,
                "the database system is shutting down",
            ),
            (
                DatabaseErrorKind::Unknown,
                "sorry, too many clients already",
            ),
            (
                DatabaseErrorKind::UnableToSendCommand,
                "error communicating with the server: Connection reset by peer (os error 104)",
            ),
            (DatabaseErrorKind::UnableToSendCommand, "connection closed"),
            (
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection",
            ),
        ] {
            assert!(
                matches!(
                    from_diesel(database_error(kind, message)),
                    StoreError::Unavailable(_)
                ),
                "{message}"
            );
        }
        for (kind, message) in [
            (
                DatabaseErrorKind::Unknown,
                "relation \"credentials\" does not exist",
            ),
            (
                DatabaseErrorKind::CheckViolation,
                "new row for relation \"credentials\" violates check constraint",
            ),
        ] {
            assert!(
                matches!(
                    from_diesel(database_error(kind, message)),
                    StoreError::Backend(_)
                ),
                "{message}"
            );
        }
    }
}
