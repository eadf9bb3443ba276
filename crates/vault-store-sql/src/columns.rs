//! Errors that name a column and never quote its value, the JSON columns, and the count of
//! sealed rows per key: what decoding needs besides the domain's own constructors.

use std::collections::BTreeMap;
use std::fmt;

use vault_core::cipher::KeyId;
use vault_core::store::StoreError;
use vault_core::versions::KeyUsage;

/// A column whose stored value could not become a domain value (or the reverse). Carries
/// only names: a stored value may be secret-adjacent, and never belongs in a log.
#[derive(Debug)]
pub struct ColumnError {
    /// `table.column`.
    pub column: &'static str,
    /// What is wrong, in fixed words.
    pub problem: &'static str,
}

impl fmt::Display for ColumnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.problem)
    }
}

impl std::error::Error for ColumnError {}

/// A stored value that does not decode.
#[must_use]
pub fn undecodable(column: &'static str) -> StoreError {
    StoreError::Backend(Box::new(ColumnError {
        column,
        problem: "the stored value does not decode",
    }))
}

/// A domain value that cannot be stored.
#[must_use]
pub fn unencodable(column: &'static str) -> StoreError {
    StoreError::Backend(Box::new(ColumnError {
        column,
        problem: "the value cannot be stored",
    }))
}

/// A value as the text of a JSON column.
///
/// # Errors
/// When the value does not serialize (it always does for the domain's types).
pub fn to_json<T: serde::Serialize>(value: &T, column: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| unencodable(column))
}

/// The value of a JSON column.
///
/// # Errors
/// When the text is not JSON of that shape. The serde error is dropped on purpose: its
/// message can quote the stored text.
pub fn from_json<T: serde::de::DeserializeOwned>(
    text: &[u8],
    column: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_slice(text).map_err(|_| undecodable(column))
}

/// Folds rows of sealed-row counts (key id, kind, count: what
/// [`KEY_USAGE_SQL`](crate::statements::KEY_USAGE_SQL) returns) into one [`KeyUsage`] per
/// key id, in key id order.
///
/// # Errors
/// A kind the statement does not produce.
pub fn fold_key_usage(
    rows: impl IntoIterator<Item = (String, String, i64)>,
) -> Result<Vec<KeyUsage>, StoreError> {
    let mut by_key: BTreeMap<String, KeyUsage> = BTreeMap::new();
    for (key_id, kind, count) in rows {
        // COUNT(*) is never negative.
        let count = u64::try_from(count).unwrap_or_default();
        let usage = by_key
            .entry(key_id)
            .or_insert_with_key(|key_id| KeyUsage::none(KeyId::new(key_id.clone())));
        match kind.as_str() {
            "meta" => usage.meta += count,
            "credentials" => usage.credentials += count,
            "versions" => usage.versions += count,
            "connections" => usage.connections += count,
            "webhooks" => usage.webhooks += count,
            _ => return Err(undecodable("key usage kind")),
        }
    }
    Ok(by_key.into_values().collect())
}
