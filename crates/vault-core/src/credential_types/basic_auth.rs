//! `basic_auth`: `Authorization: Basic base64(username:password)`.

use super::Typed;
use super::field_rules::{SentIn, public_text, secret_field};
use super::mismatch;
use super::spec::{FieldShape, FieldSpec, Required, TypeSpec};
use crate::apply::AppliedCredential;
use crate::credential::{CredentialKind, CredentialSecrets, CredentialType};
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;
use crate::vault::VaultError;

/// How a `basic_auth` looks from outside.
pub const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::BasicAuth,
    title: "Basic auth",
    description: "`Authorization: Basic base64(username:password)`.",
    fields: &[
        FieldSpec {
            name: "username",
            label: "Username",
            shape: FieldShape::Text { max_length: 256 },
            required: Required::Always,
            nullable: false,
            description: "The user name (no `:`).",
        },
        FieldSpec {
            name: "password",
            label: "Password",
            shape: FieldShape::Secret,
            required: Required::Always,
            nullable: false,
            description: "The password.",
        },
    ],
    derived: &[],
};

/// Validates a `basic_auth`'s fields: all of them for a new one, those given for a change
/// of `current`.
pub(super) fn validate(
    fields: &CredentialFields,
    current: Option<&CredentialKind>,
    errors: &mut ValidationErrors,
) -> Typed {
    let username = match (fields.text("username"), current) {
        (Some(raw), _) => {
            // RFC 7617: the user-id cannot contain a colon.
            let parsed = errors.take(public_text("username", raw, 256));
            if parsed.as_deref().is_some_and(|u| u.contains(':')) {
                errors.add("username", "must not contain ':'");
                return None;
            }
            parsed
        }
        (None, Some(CredentialKind::BasicAuth { username })) => Some(username.clone()),
        (None, _) => {
            errors.add("username", "is required");
            None
        }
    };
    let password = secret_field(
        fields,
        "password",
        SentIn::Elsewhere,
        current.is_some(),
        errors,
    );
    Some((
        CredentialKind::BasicAuth {
            username: username?,
        },
        password.map(CredentialSecrets::Password),
    ))
}

/// `Authorization: Basic base64(username:password)`.
pub(super) fn apply(
    username: &str,
    secrets: &CredentialSecrets,
) -> Result<AppliedCredential, VaultError> {
    let CredentialSecrets::Password(password) = secrets else {
        return Err(mismatch());
    };
    AppliedCredential::basic(username, password).map_err(|_| VaultError::Unsendable)
}
