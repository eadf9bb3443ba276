#![doc = include_str!("../README.md")]

pub mod columns;
pub mod error;
pub mod rows;
pub mod schema;
pub mod types;

/// A page size as SQL's `LIMIT` takes it.
#[must_use]
pub fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
