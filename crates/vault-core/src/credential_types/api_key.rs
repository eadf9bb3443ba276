//! `api_key`: a static key sent in a header or query parameter (default header
//! `X-API-Key`).

use super::Typed;
use super::field_rules::{SentIn, placement, secret_field};
use super::mismatch;
use super::spec::{FieldShape, FieldSpec, Required, TypeSpec};
use crate::apply::AppliedCredential;
use crate::credential::{CredentialKind, CredentialSecrets, CredentialType, Placement};
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;
use crate::vault::VaultError;

/// How an `api_key` looks from outside.
pub const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::ApiKey,
    title: "API key",
    description: "A key sent in a header (default `X-API-Key`) or query parameter.",
    fields: &[
        FieldSpec {
            name: "value",
            label: "Key",
            shape: FieldShape::Secret,
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
            secret_field(fields, "value", SentIn::Header, true, errors),
        ),
        _ => (
            Placement::api_key_default(),
            secret_field(fields, "value", SentIn::Header, false, errors),
        ),
    };
    let placement = placement(fields.placement("placement"), default, true, errors)?;
    Some((
        CredentialKind::ApiKey { placement },
        secret.map(CredentialSecrets::Value),
    ))
}

/// Puts the key where its placement says.
pub(super) fn apply(
    placement: &Placement,
    secrets: &CredentialSecrets,
) -> Result<AppliedCredential, VaultError> {
    let CredentialSecrets::Value(value) = secrets else {
        return Err(mismatch());
    };
    AppliedCredential::placed(placement, value).map_err(|_| VaultError::Unsendable)
}
