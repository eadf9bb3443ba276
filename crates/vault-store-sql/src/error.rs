//! Translation of diesel's errors into the port's [`StoreError`], the same for both
//! databases, and the error type of a transaction.

use std::fmt;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use vault_core::store::StoreError;

/// A failure described by a store (a timeout, a bad URL), with no value in it.
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

/// `error` as [`StoreError::Unavailable`]: "not now", trying again later may work.
pub fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

/// `error` as [`StoreError::Backend`].
pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(error))
}

/// Server messages that mean "not now" rather than "never". Both drivers report every
/// code they have no [`DatabaseErrorKind`] for as `Unknown` and keep only the message, so
/// the message (each database's fixed English text) is what tells them apart. One list
/// serves both: neither database ever says what the other does.
///
/// SQLite: another connection holds the lock past the busy timeout (`SQLITE_BUSY`,
/// `SQLITE_LOCKED`), the file cannot be opened (`SQLITE_CANTOPEN`), or the disk failed or
/// filled up.
///
/// PostgreSQL (servers run with `lc_messages = C` or an English locale):
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
const TRANSIENT: [&str; 10] = [
    // SQLite
    "database is locked",
    "is locked",
    "unable to open database",
    "disk I/O error",
    "database or disk is full",
    // PostgreSQL
    "terminating connection",
    "the database system is",
    "too many clients",
    "connection slots are reserved",
    "canceling statement due to",
];

fn is_transient(message: &str) -> bool {
    TRANSIENT.iter().any(|needle| message.contains(needle))
}

/// The port's error for one of diesel's.
#[must_use]
pub fn from_diesel(error: DieselError) -> StoreError {
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
        // SQLite reports none of these.
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

/// A store error inside a transaction. diesel's own errors (`BEGIN`, `COMMIT`, any
/// statement) convert into it as well as the port's, so `?` works on both, and any of them
/// rolls the whole transaction back.
#[derive(Debug)]
pub struct Abort(pub StoreError);

impl From<DieselError> for Abort {
    fn from(error: DieselError) -> Self {
        Self(from_diesel(error))
    }
}

impl From<StoreError> for Abort {
    fn from(error: StoreError) -> Self {
        Self(error)
    }
}

impl From<Abort> for StoreError {
    fn from(Abort(error): Abort) -> Self {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn constraint_lock_and_outage_errors_map_to_the_port_variants() {
        for (kind, message) in [
            (
                DatabaseErrorKind::UniqueViolation,
                "UNIQUE constraint failed: access_keys.key_hash",
            ),
            (
                DatabaseErrorKind::UniqueViolation,
                "duplicate key value violates unique constraint \"access_keys_key_hash_key\"",
            ),
        ] {
            assert!(
                matches!(
                    from_diesel(database_error(kind, message)),
                    StoreError::Conflict
                ),
                "{message}"
            );
        }
        for (kind, message) in [
            (
                DatabaseErrorKind::ForeignKeyViolation,
                "FOREIGN KEY constraint failed",
            ),
            (
                DatabaseErrorKind::ForeignKeyViolation,
                "insert or update on table \"credentials\" violates foreign key constraint",
            ),
        ] {
            assert!(
                matches!(
                    from_diesel(database_error(kind, message)),
                    StoreError::NotFound
                ),
                "{message}"
            );
        }
        assert!(matches!(
            from_diesel(DieselError::NotFound),
            StoreError::NotFound
        ));
        for (kind, message) in [
            (DatabaseErrorKind::Unknown, "database is locked"),
            (DatabaseErrorKind::Unknown, "database table is locked"),
            (DatabaseErrorKind::Unknown, "unable to open database file"),
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
            (DatabaseErrorKind::Unknown, "no such table: credentials"),
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
