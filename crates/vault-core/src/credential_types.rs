//! The credential types, one module each: the fields a type takes and how they are
//! validated. The list below is the one place that names them all.

pub mod api_key;
pub mod basic_auth;
pub mod bearer_token;
pub mod custom;
mod field_rules;
pub mod jwt;
pub mod oauth2;

pub use field_rules::MAX_HEADER_NAME_BYTES;

use crate::credential::{CredentialKind, CredentialSecrets, CredentialType};
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;

/// A type's validated public part, and its secrets when they were given (a change may keep
/// the sealed ones). `None` when a field was invalid; the errors say which.
pub(crate) type Typed = Option<(CredentialKind, Option<CredentialSecrets>)>;

/// The type-specific fields each type accepts (API spelling).
#[must_use]
pub const fn fields_of(kind: CredentialType) -> &'static [&'static str] {
    match kind {
        CredentialType::ApiKey => api_key::FIELDS,
        CredentialType::BearerToken => bearer_token::FIELDS,
        CredentialType::BasicAuth => basic_auth::FIELDS,
        CredentialType::OAuth2 => oauth2::FIELDS,
        CredentialType::Jwt => jwt::FIELDS,
        CredentialType::Custom => custom::FIELDS,
    }
}

/// Applies the rules of `kind` to `fields`: every field of a new credential, or the ones
/// given for a change of `current`.
pub(crate) fn validate(
    kind: CredentialType,
    fields: &CredentialFields,
    current: Option<&CredentialKind>,
    errors: &mut ValidationErrors,
) -> Typed {
    match kind {
        CredentialType::ApiKey => api_key::validate(fields, current, errors),
        CredentialType::BearerToken => bearer_token::validate(fields, current, errors),
        CredentialType::BasicAuth => basic_auth::validate(fields, current, errors),
        CredentialType::OAuth2 => oauth2::validate(fields, current, errors),
        CredentialType::Jwt => jwt::validate(fields, current, errors),
        CredentialType::Custom => custom::validate(fields, errors),
    }
}
