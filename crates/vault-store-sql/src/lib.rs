#![doc = include_str!("../README.md")]

pub mod columns;
pub mod error;
pub mod ports;
pub mod rows;
pub mod schema;
pub mod statements;
pub mod types;

pub use ports::{CredentialChange, SqlStore, SqlWebhookStore};

/// A page size as SQL's `LIMIT` takes it.
#[must_use]
pub fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// What [`sql_store_ports!`] names, whatever the store calls its dependencies.
#[doc(hidden)]
pub mod __private {
    pub use diesel;
    pub use time;
    pub use vault_core;
}
