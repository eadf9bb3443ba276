//! SQLite's own errors: a URL naming no file, and a lock held by another connection
//! (diesel's errors translate in `vault_store_sql::error`, the same for both stores).

use std::fmt;

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

/// True for a lock held by another connection. Some of SQLite's lock waits (switching the
/// journal mode, WAL recovery by another opener) return at once without consulting the busy
/// timeout, so callers that can simply try again do.
pub(crate) fn is_lock_contention(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable(inner) if inner.to_string().contains("is locked"))
}
