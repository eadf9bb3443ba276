//! `api_key`: a static key sent in a header or query parameter (default header
//! `X-API-Key`).

use serde::{Deserialize, Serialize};

use super::field_rules::{SentIn, placement, secret_field};
use super::{
    CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec,
    mismatch,
};
use crate::apply::AppliedCredential;
use crate::credential::{Placement, PlacementLocation};
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;
use crate::vault::VaultError;

/// How an `api_key` looks from outside.
const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::ApiKey,
    title: "API key",
    description: "A key sent in a header (default `X-API-Key`) or query parameter.",
    fields: &[
        FieldSpec {
            name: "value",
            label: "Key",
            shape: FieldShape::Secret { hint: true },
            required: Required::Always,
            nullable: false,
            description: "The key.",
        },
        FieldSpec {
            name: "placement",
            label: "Placement",
            shape: FieldShape::Placement {
                query: true,
                default_name: "X-API-Key",
                default_prefix: "",
            },
            required: Required::Never,
            nullable: false,
            description: "Where the key goes: a header or a query parameter, its name, and text put before the key. Default: header `X-API-Key`, no prefix.",
        },
    ],
    derived: &[],
};

/// Public configuration of an `api_key`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Where the key goes.
    pub placement: Placement,
}

impl TypeRules for Config {
    const SPEC: TypeSpec = SPEC;

    fn validate(
        fields: &CredentialFields,
        current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)> {
        let secret = secret_field(fields, "value", SentIn::Header, current.is_some(), errors);
        let default = current.map_or_else(Placement::api_key_default, |c| c.placement.clone());
        let placement = placement(fields.placement("placement"), default, true, errors)?;
        Some((
            Self { placement },
            secret.map(|v| CredentialSecrets::new(CredentialType::ApiKey).with_text("value", v)),
        ))
    }

    fn example() -> Self {
        Self {
            placement: Placement {
                location: PlacementLocation::Query,
                name: "api_key".to_owned(),
                prefix: Some("Token ".to_owned()),
            },
        }
    }

    /// Puts the key where its placement says.
    fn apply(&self, secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
        let value = secrets.text("value").ok_or_else(mismatch)?;
        AppliedCredential::placed(&self.placement, value).map_err(|_| VaultError::Unsendable)
    }
}
