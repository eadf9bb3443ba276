//! Pages of lists: the limit and cursor every list call takes.

use crate::validation::FieldError;

use super::MAX_PAGE_SIZE;

/// One page of a list, with the cursor of the next page when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Pass back as `cursor` to get the next page.
    pub next_cursor: Option<String>,
}

/// Raw list parameters, as a caller gives them.
#[derive(Clone, Debug, Default)]
pub struct ListRequest {
    /// Page size (1 to 100, default 50).
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Only credentials of this type.
    pub credential_type: Option<String>,
    /// Only credentials expiring within this ISO 8601 duration (already expired included).
    pub expiring_within: Option<String>,
}

pub(super) fn page_limit(limit: Option<u32>) -> Result<Option<u32>, FieldError> {
    match limit {
        Some(n) if !(1..=MAX_PAGE_SIZE).contains(&n) => Err(FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        )),
        other => Ok(other),
    }
}

pub(super) fn parse_cursor(raw: &str) -> Result<uuid::Uuid, FieldError> {
    uuid::Uuid::try_parse(raw)
        .map_err(|_| FieldError::new("cursor", "is not a cursor this API returned"))
}

pub(super) fn paginate<T>(
    mut items: Vec<T>,
    limit: usize,
    id: impl Fn(&T) -> uuid::Uuid,
) -> Page<T> {
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| id(last).simple().to_string())
    } else {
        None
    };
    Page { items, next_cursor }
}
