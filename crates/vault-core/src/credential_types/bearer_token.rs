//! `bearer_token`: a static token sent as `Authorization: Bearer <value>`.

use serde::{Deserialize, Serialize};

use super::field_rules::{SentIn, secret_field};
use super::{
    CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec,
    mismatch,
};
use crate::apply::AppliedCredential;
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;
use crate::vault::VaultError;

/// How a `bearer_token` looks from outside.
const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::BearerToken,
    title: "Bearer token",
    description: "`Authorization: Bearer <value>`.",
    fields: &[FieldSpec {
        name: "value",
        label: "Token",
        shape: FieldShape::Secret { hint: true },
        required: Required::Always,
        nullable: false,
        description: "The token.",
    }],
    derived: &[],
};

/// Public configuration of a `bearer_token`: none, the token is all of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {}

impl TypeRules for Config {
    const SPEC: TypeSpec = SPEC;

    fn validate(
        fields: &CredentialFields,
        current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)> {
        let secret = secret_field(fields, "value", SentIn::Header, current.is_some(), errors);
        Some((
            Self {},
            secret.map(|v| CredentialSecrets::new(CredentialType::BearerToken).with_text("value", v)),
        ))
    }

    fn example() -> Self {
        Self {}
    }

    fn apply(&self, secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
        let value = secrets.text("value").ok_or_else(mismatch)?;
        AppliedCredential::bearer(value).map_err(|_| VaultError::Unsendable)
    }
}
