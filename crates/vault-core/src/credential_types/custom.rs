//! `custom`: arbitrary headers, each value secret.

use std::collections::{BTreeMap, BTreeSet};

use super::Typed;
use secrecy::ExposeSecret;

use super::field_rules::{header_name, header_secret};
use super::mismatch;
use super::spec::{FieldShape, FieldSpec, Required, TypeSpec};
use crate::apply::AppliedCredential;
use crate::credential::{CredentialKind, CredentialSecrets, CredentialType, MAX_CUSTOM_HEADERS};
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;
use crate::vault::VaultError;

/// How a `custom` credential looks from outside.
pub const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::Custom,
    title: "Custom headers",
    description: "Headers whose values are secret.",
    fields: &[FieldSpec {
        name: "headers",
        label: "Headers",
        shape: FieldShape::SecretMap {
            names: "headerNames",
        },
        required: Required::Always,
        nullable: false,
        description: "Header name to secret value.",
    }],
    derived: &[FieldSpec {
        name: "headerNames",
        label: "Header names",
        shape: FieldShape::TextList,
        required: Required::Never,
        nullable: false,
        description: "The names of the headers set (their values are secret).",
    }],
};

/// Validates a `custom` credential's headers (a change replaces them all).
pub(super) fn validate(fields: &CredentialFields, errors: &mut ValidationErrors) -> Typed {
    let Some(headers) = fields.secret_map("headers") else {
        errors.add("headers", "is required");
        return None;
    };
    if headers.is_empty() || headers.len() > MAX_CUSTOM_HEADERS {
        errors.add(
            "headers",
            format!("must have between 1 and {MAX_CUSTOM_HEADERS} entries"),
        );
        return None;
    }
    let mut values = BTreeMap::new();
    let mut lowercase = BTreeSet::new();
    for (name, value) in headers {
        let field = format!("headers.{name}");
        let Some(valid_name) = errors.take(header_name("headers", name)) else {
            continue;
        };
        if !lowercase.insert(valid_name.to_ascii_lowercase()) {
            errors.add(
                "headers",
                "names the same header twice (names are case-insensitive)",
            );
            continue;
        }
        if let Some(v) = errors.take(header_secret(&field, value)) {
            values.insert(valid_name, v);
        }
    }
    if !errors.is_empty() {
        return None;
    }
    let header_names = values.keys().cloned().collect();
    Some((
        CredentialKind::Custom { header_names },
        Some(CredentialSecrets::Headers(values)),
    ))
}

/// Each header with its value.
pub(super) fn apply(secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
    let CredentialSecrets::Headers(headers) = secrets else {
        return Err(mismatch());
    };
    let mut applied = AppliedCredential::default();
    for (name, value) in headers {
        applied
            .header(name, value.expose_secret())
            .map_err(|_| VaultError::Unsendable)?;
    }
    Ok(applied)
}
