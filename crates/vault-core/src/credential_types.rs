//! The credential types, one module each: how a type looks from outside (its [`TypeSpec`])
//! and how its fields are validated. The lists below are the one place that names them
//! all.

pub mod api_key;
pub mod basic_auth;
pub mod bearer_token;
pub mod custom;
mod field_rules;
pub mod jwt;
pub mod oauth2;
mod spec;

pub use field_rules::MAX_HEADER_NAME_BYTES;
pub use spec::{FieldShape, FieldSpec, Required, TypeSpec};

use crate::apply::AppliedCredential;
use crate::cipher::CipherError;
use crate::credential::{CredentialKind, CredentialSecrets, CredentialType};
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;
use crate::vault::VaultError;

/// A type's validated public part, and its secrets when they were given (a change may keep
/// the sealed ones). `None` when a field was invalid; the errors say which.
pub(crate) type Typed = Option<(CredentialKind, Option<CredentialSecrets>)>;

/// Every type's description, in the order of [`CredentialType::ALL`].
pub const SPECS: &[&TypeSpec] = &[
    &api_key::SPEC,
    &bearer_token::SPEC,
    &basic_auth::SPEC,
    &oauth2::SPEC,
    &jwt::SPEC,
    &custom::SPEC,
];

/// How `kind` looks from outside.
#[must_use]
pub const fn spec(kind: CredentialType) -> &'static TypeSpec {
    match kind {
        CredentialType::ApiKey => &api_key::SPEC,
        CredentialType::BearerToken => &bearer_token::SPEC,
        CredentialType::BasicAuth => &basic_auth::SPEC,
        CredentialType::OAuth2 => &oauth2::SPEC,
        CredentialType::Jwt => &jwt::SPEC,
        CredentialType::Custom => &custom::SPEC,
    }
}

/// True when `field` (API spelling) is one of the type-specific fields `kind` takes.
#[must_use]
pub fn takes(kind: CredentialType, field: &str) -> bool {
    spec(kind).field_names().any(|name| name == field)
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

/// How a credential whose secrets are sent as they are is put on a request. The types
/// that first obtain a token with their secrets (oauth2, jwt) are applied by the vault,
/// which caches the token: see `vault::using`.
///
/// # Errors
/// Secrets of another type than `kind` (a row that does not decode as its type), or a
/// value that cannot be put in a request.
pub(crate) fn apply_static(
    kind: &CredentialKind,
    secrets: &CredentialSecrets,
) -> Result<AppliedCredential, VaultError> {
    match kind {
        CredentialKind::ApiKey { placement } => api_key::apply(placement, secrets),
        CredentialKind::BearerToken {} => bearer_token::apply(secrets),
        CredentialKind::BasicAuth { username } => basic_auth::apply(username, secrets),
        CredentialKind::Custom { .. } => custom::apply(secrets),
        CredentialKind::OAuth2(_) | CredentialKind::Jwt(_) => Err(mismatch()),
    }
}

/// Opened secrets that are not those of the credential's type.
fn mismatch() -> VaultError {
    VaultError::Cipher(CipherError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{JwtAlgorithm, OAuth2ClientAuth};

    #[test]
    fn choices_are_the_values_the_types_accept() {
        let algorithms: Vec<&str> = JwtAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
        let choice = |spec: &TypeSpec, name: &str| match spec.fields.iter().find(|f| f.name == name)
        {
            Some(FieldSpec {
                shape: FieldShape::Choice { options },
                ..
            }) => options.to_vec(),
            other => panic!("{name} is no choice: {other:?}"),
        };
        assert_eq!(choice(&jwt::SPEC, "algorithm"), algorithms);
        assert_eq!(choice(&oauth2::SPEC, "clientAuth"), ["basic", "body"]);
        for (name, auth) in [
            ("basic", OAuth2ClientAuth::Basic),
            ("body", OAuth2ClientAuth::Body),
        ] {
            let json = serde_json::to_value(auth).expect("json");
            assert_eq!(json, name, "the stored spelling of {auth:?}");
        }
    }

    #[test]
    fn every_type_has_its_spec_in_order_and_once() {
        let listed: Vec<CredentialType> = SPECS.iter().map(|s| s.credential_type).collect();
        assert_eq!(listed, CredentialType::ALL);
        for kind in CredentialType::ALL {
            assert_eq!(spec(kind).credential_type, kind);
        }
    }

    #[test]
    fn field_names_are_unique_and_conditions_and_map_names_name_a_field_of_the_type() {
        for spec in SPECS {
            let mut names: Vec<&str> = spec.field_names().collect();
            names.sort_unstable();
            let count = names.len();
            names.dedup();
            assert_eq!(
                names.len(),
                count,
                "{} names a field twice",
                spec.credential_type
            );
            for field in spec.fields {
                if let Required::If {
                    field: other,
                    one_of,
                } = field.required
                {
                    let Some(FieldSpec {
                        shape: FieldShape::Choice { options },
                        ..
                    }) = spec.fields.iter().find(|f| f.name == other)
                    else {
                        panic!(
                            "{}: {} depends on a field that is no choice",
                            spec.credential_type, field.name
                        );
                    };
                    assert!(one_of.iter().all(|v| options.contains(v)));
                }
                if let FieldShape::SecretMap { names } = field.shape {
                    assert!(
                        spec.derived
                            .iter()
                            .any(|d| d.name == names && d.shape == FieldShape::TextList),
                        "{}: {} lists its names in no derived list",
                        spec.credential_type,
                        field.name
                    );
                }
            }
        }
    }
}
