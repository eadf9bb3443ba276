//! `bearer_token`: a static token sent as `Authorization: Bearer <value>`.

use super::Typed;
use super::field_rules::{SentIn, secret_field};
use super::mismatch;
use super::spec::{FieldShape, FieldSpec, Required, TypeSpec};
use crate::apply::AppliedCredential;
use crate::credential::{CredentialKind, CredentialSecrets, CredentialType};
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;
use crate::vault::VaultError;

/// How a `bearer_token` looks from outside.
pub const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::BearerToken,
    title: "Bearer token",
    description: "`Authorization: Bearer <value>`.",
    fields: &[FieldSpec {
        name: "value",
        label: "Token",
        shape: FieldShape::Secret,
        required: Required::Always,
        nullable: false,
        description: "The token.",
    }],
    derived: &[],
};

/// Validates a `bearer_token`'s fields: the value of a new one, or a new value for
/// `current`.
pub(super) fn validate(
    fields: &CredentialFields,
    current: Option<&CredentialKind>,
    errors: &mut ValidationErrors,
) -> Typed {
    let secret = secret_field(fields, "value", SentIn::Header, current.is_some(), errors);
    Some((
        CredentialKind::BearerToken {},
        secret.map(CredentialSecrets::Value),
    ))
}

/// `Authorization: Bearer <value>`.
pub(super) fn apply(secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
    let CredentialSecrets::Value(value) = secrets else {
        return Err(mismatch());
    };
    AppliedCredential::bearer(value).map_err(|_| VaultError::Unsendable)
}
