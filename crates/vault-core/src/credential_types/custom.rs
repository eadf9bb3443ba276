//! `custom`: arbitrary headers, each value secret.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::field_rules::{header_name, header_secret};
use super::{
    CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec,
    mismatch,
};
use crate::apply::AppliedCredential;
use crate::credential::MAX_CUSTOM_HEADERS;
use crate::input::CredentialFields;
use crate::validation::ValidationErrors;
use crate::vault::VaultError;

/// How a `custom` credential looks from outside.
const SPEC: TypeSpec = TypeSpec {
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

/// Public configuration of a `custom` credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The names of the headers set (their values are secret).
    pub header_names: Vec<String>,
}

impl TypeRules for Config {
    const SPEC: TypeSpec = SPEC;

    /// Validates the headers (a change replaces them all).
    fn validate(
        fields: &CredentialFields,
        _current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)> {
        validate(fields, errors)
    }

    fn example() -> Self {
        Self {
            header_names: vec!["X-One".to_owned(), "X-Two".to_owned()],
        }
    }

    fn apply(&self, secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
        let headers = secrets.map("headers").ok_or_else(mismatch)?;
        let mut applied = AppliedCredential::default();
        for (name, value) in headers {
            applied
                .header(name, value.expose_secret())
                .map_err(|_| VaultError::Unsendable)?;
        }
        Ok(applied)
    }

    /// The header names are those of the restored values.
    fn restore(&mut self, secrets: &CredentialSecrets) -> Result<(), String> {
        if let Some(headers) = secrets.map("headers") {
            self.header_names = headers.keys().cloned().collect();
        }
        Ok(())
    }
}

fn validate(
    fields: &CredentialFields,
    errors: &mut ValidationErrors,
) -> Option<(Config, Option<CredentialSecrets>)> {
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
        Config { header_names },
        Some(CredentialSecrets::new(CredentialType::Custom).with_map("headers", values)),
    ))
}

