//! What the handlers share: path ids, page limits, `If-Match` preconditions and entity
//! tags, and the envelope of a page.

use actix_web::HttpRequest;
use actix_web::http::header;
use serde::Serialize;
use vault_core::Credential;

use crate::error::ApiError;

/// One page of a list, as every list route returns it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListView<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next_cursor: Option<String>,
}

/// An id from a path (a credential's, a grant's, a webhook's): a malformed one is as
/// absent as an unknown one.
pub(crate) fn parse_id<T: std::str::FromStr>(raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

pub(crate) fn parse_limit(raw: Option<String>) -> Result<Option<u32>, ApiError> {
    raw.map(|l| {
        l.parse::<u32>().map_err(|_| {
            ApiError::from(vault_core::FieldError::new(
                "limit",
                "must be an integer between 1 and 100",
            ))
        })
    })
    .transpose()
}

/// A credential's entity tag: its revision, which every change increments. Strong: two
/// responses with the same tag describe the same stored state.
pub(crate) fn etag(credential: &Credential) -> String {
    format!("\"{}\"", credential.version)
}

/// The revisions an `If-Match` header accepts (RFC 9110 §13.1.1), if it is there: `None`
/// for no header or `*` (the credential need only exist), otherwise every revision the list
/// names, of which the current one must be one. Comparison is strong: a weak tag (`W/"3"`)
/// never matches, and neither does a tag this API did not issue, so a list of only those is
/// an empty list (a 412). Several header lines form one list.
///
/// # Errors
/// 400 `invalid-header` for a value that is not `*` or a list of entity tags.
pub(crate) fn if_match(req: &HttpRequest) -> Result<Option<Vec<i64>>, ApiError> {
    let mut lines = req.headers().get_all(header::IF_MATCH).peekable();
    if lines.peek().is_none() {
        return Ok(None);
    }
    let malformed = || ApiError::InvalidHeader("If-Match");
    let mut versions = Vec::new();
    let mut any = false;
    let mut tags = 0_usize;
    for line in lines {
        let line = line.to_str().map_err(|_| malformed())?;
        if line.trim() == "*" {
            any = true;
            continue;
        }
        for tag in entity_tags(line).ok_or_else(malformed)? {
            tags += 1;
            if let Some(version) = tag.strong_version() {
                versions.push(version);
            }
        }
    }
    // `*` is a whole field value, never a member of a list. An empty list is well formed
    // and matches nothing.
    match (any, tags) {
        (true, 0) => Ok(None),
        (true, _) => Err(malformed()),
        (false, _) => Ok(Some(versions)),
    }
}

/// One entity tag of a list: `"opaque"` or `W/"opaque"`.
struct EntityTag<'a> {
    weak: bool,
    opaque: &'a str,
}

impl EntityTag<'_> {
    /// The version a strong tag of ours names.
    fn strong_version(&self) -> Option<i64> {
        if self.weak || self.opaque.is_empty() || !self.opaque.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.opaque.parse().ok()
    }
}

/// Splits `#entity-tag` (RFC 9110 §8.8.3, §5.6.1): tags separated by commas and optional
/// white space, empty elements allowed. `None` when anything else is there. A tag may hold
/// a comma (`etagc` allows one), so the list is scanned, not split.
fn entity_tags(line: &str) -> Option<Vec<EntityTag<'_>>> {
    let mut tags = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(tags);
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let inner = quoted.strip_prefix('"')?;
        let close = inner.find('"')?;
        let opaque = &inner[..close];
        // etagc: `!`, `#`-`~` and obs-text; no spaces, controls or quotes.
        if !opaque
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return None;
        }
        tags.push(EntityTag { weak, opaque });
        rest = &inner[close + 1..];
        // After a tag: the end, or white space and then a comma.
        let after = rest.trim_start_matches([' ', '\t']);
        if !(after.is_empty() || after.starts_with(',')) {
            return None;
        }
        rest = after;
    }
}
