//! Translation of SQLite, diesel and pool errors into the port's [`StoreError`].

use std::fmt;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use vault_core::StoreError;

/// A URL or path that names no usable database file.
#[derive(Debug)]
struct InvalidUrl(&'static str);

impl fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid SQLite database URL: {}", self.0)
    }
}

impl std::error::Error for InvalidUrl {}

pub(crate) fn invalid_url(why: &'static str) -> StoreError {
    StoreError::Backend(Box::new(InvalidUrl(why)))
}

pub(crate) fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

/// SQLite result codes that mean "not now" rather than "never": another connection holds
/// the lock past the busy timeout (`SQLITE_BUSY`, `SQLITE_LOCKED`), the file cannot be
/// opened (`SQLITE_CANTOPEN`), or the disk failed or filled up. diesel reports them all as
/// `DatabaseErrorKind::Unknown`, so the message (SQLite's fixed text for the code) is what
/// tells them apart.
fn is_transient(message: &str) -> bool {
    const TRANSIENT: [&str; 5] = [
        "database is locked",
        "is locked",
        "unable to open database",
        "disk I/O error",
        "database or disk is full",
    ];
    TRANSIENT.iter().any(|needle| message.contains(needle))
}

/// True for a lock held by another connection. Some of SQLite's lock waits (switching the
/// journal mode, WAL recovery by another opener) return at once without consulting the busy
/// timeout, so callers that can simply try again do.
pub(crate) fn is_lock_contention(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable(inner) if inner.to_string().contains("is locked"))
}

pub(crate) fn from_diesel(error: DieselError) -> StoreError {
    match error {
        DieselError::NotFound => StoreError::NotFound,
        // A primary key or a UNIQUE column (an access key's hash) is taken.
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Conflict,
        // The row names an organization that does not exist.
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StoreError::NotFound
        }
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
            if is_transient(info.message()) =>
        {
            StoreError::Unavailable(Box::new(error))
        }
        other => StoreError::Backend(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn constraint_and_lock_errors_map_to_the_port_variants() {
        let unique = database_error(
            DatabaseErrorKind::UniqueViolation,
            "UNIQUE constraint failed: access_keys.key_hash",
        );
        assert!(matches!(from_diesel(unique), StoreError::Conflict));
        let foreign = database_error(
            DatabaseErrorKind::ForeignKeyViolation,
            "FOREIGN KEY constraint failed",
        );
        assert!(matches!(from_diesel(foreign), StoreError::NotFound));
        for message in [
            "database is locked",
            "database table is locked",
            "unable to open database file",
        ] {
            let error = database_error(DatabaseErrorKind::Unknown, message);
            assert!(
                matches!(from_diesel(error), StoreError::Unavailable(_)),
                "{message}"
            );
        }
        let other = database_error(DatabaseErrorKind::Unknown, "no such table: credentials");
        assert!(matches!(from_diesel(other), StoreError::Backend(_)));
    }
}
