//! `basic_auth`: `Authorization: Basic base64(username:password)`.

use serde::{Deserialize, Serialize};

use super::field_rules::{SentIn, public_text, secret_field};
use super::{
    CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec,
    mismatch,
};
use crate::apply::AppliedCredential;
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;
use crate::vault::VaultError;

/// How a `basic_auth` looks from outside.
const SPEC: TypeSpec = TypeSpec {
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
            shape: FieldShape::Secret { hint: false },
            required: Required::Always,
            nullable: false,
            description: "The password.",
        },
    ],
    derived: &[],
};

/// Public configuration of a `basic_auth` credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The user name (the password is secret).
    pub username: String,
}

impl TypeRules for Config {
    const SPEC: TypeSpec = SPEC;

    fn validate(
        fields: &CredentialFields,
        current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)> {
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
            (None, Some(c)) => Some(c.username.clone()),
            (None, None) => {
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
            Self {
                username: username?,
            },
            password
                .map(|v| CredentialSecrets::new(CredentialType::BasicAuth).with_text("password", v)),
        ))
    }

    fn example() -> Self {
        Self {
            username: "service-üser".to_owned(),
        }
    }

    fn apply(&self, secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
        let password = secrets.text("password").ok_or_else(mismatch)?;
        AppliedCredential::basic(&self.username, password).map_err(|_| VaultError::Unsendable)
    }
}
