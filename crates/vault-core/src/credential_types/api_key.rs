//! `api_key`: a static key sent in a header or query parameter (default header
//! `X-API-Key`).

use super::Typed;
use super::field_rules::{optional_header_secret, placement, required_header_secret};
use crate::credential::{CredentialKind, CredentialSecrets, Placement};
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;

/// The type-specific fields an `api_key` takes.
pub const FIELDS: &[&str] = &["value", "placement"];

/// Validates an `api_key`'s fields: all of them for a new one, those given for a change of
/// `current`.
pub(super) fn validate(
    fields: &CredentialFields,
    current: Option<&CredentialKind>,
    errors: &mut ValidationErrors,
) -> Typed {
    let (default, secret) = match current {
        Some(CredentialKind::ApiKey { placement }) => (
            placement.clone(),
            optional_header_secret("value", fields.value.as_ref(), errors),
        ),
        _ => (
            Placement::api_key_default(),
            required_header_secret("value", fields.value.as_ref(), errors),
        ),
    };
    let placement = placement(fields.placement.as_ref(), default, true, errors)?;
    Some((
        CredentialKind::ApiKey { placement },
        secret.map(CredentialSecrets::Value),
    ))
}
