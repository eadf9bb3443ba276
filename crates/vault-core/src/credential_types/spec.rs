//! What a credential type looks like from outside: its fields, which are secret, which are
//! required, and what each means. The API serves it (the console builds its form from it),
//! and the OpenAPI document and the command-line client are derived from it, so that a
//! type described once is known to every surface.

use serde::Serialize;

use crate::credential::CredentialType;

/// How a field is written in a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum FieldShape {
    /// A one-line string.
    Text {
        /// Longest accepted length, in characters.
        max_length: u32,
    },
    /// A string that must be an absolute http(s) URL.
    Url,
    /// One of a few strings.
    Choice {
        /// The accepted values; the first is the default when the field is optional.
        options: &'static [&'static str],
    },
    /// A list of strings.
    TextList,
    /// A whole number in a range.
    Integer {
        /// Smallest accepted value.
        minimum: i64,
        /// Largest accepted value.
        maximum: i64,
    },
    /// A JSON object, copied as given (a JWT's claims template).
    Object,
    /// Where a value goes on the request: `{"in", "name", "prefix"}`.
    Placement {
        /// Whether `in` may be `query` (else only `header`).
        query: bool,
        /// The header name used when none is given.
        default_name: &'static str,
        /// The prefix used when none is given.
        default_prefix: &'static str,
    },
    /// A secret string on one line.
    Secret {
        /// Whether views show its last four characters (never for a password, whose
        /// tail is too large a share of it).
        hint: bool,
    },
    /// A secret of several lines (a PEM private key).
    SecretPem,
    /// Names, each with a secret value (header name to value).
    SecretMap {
        /// The derived field that lists the names (the values are never shown), so a form
        /// can show the entries it replaces.
        names: &'static str,
    },
}

impl FieldShape {
    /// True for the shapes whose values are sealed and never shown again.
    #[must_use]
    pub const fn is_secret(self) -> bool {
        matches!(
            self,
            Self::Secret { .. } | Self::SecretPem | Self::SecretMap { .. }
        )
    }
}

/// When a field must be given on create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "when",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Required {
    /// Always.
    Always,
    /// Never: it has a default, or is optional.
    Never,
    /// When another field has one of some values (and then it is the only one of its
    /// group that applies).
    If {
        /// The other field.
        field: &'static str,
        /// The values of it that make this field required.
        one_of: &'static [&'static str],
    },
}

/// One type-specific field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    /// The field's name in request bodies and views.
    pub name: &'static str,
    /// A short label for forms and flags.
    pub label: &'static str,
    /// How it is written.
    pub shape: FieldShape,
    /// When it is required on create (a change may always leave it out).
    pub required: Required,
    /// Whether `null` in a patch clears it.
    pub nullable: bool,
    /// What it means, in a sentence.
    pub description: &'static str,
}

impl FieldSpec {
    /// True when the field is sealed and never shown again.
    #[must_use]
    pub const fn is_secret(&self) -> bool {
        self.shape.is_secret()
    }
}

/// A credential type as the outside sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeSpec {
    /// The type's name (`type` in request bodies).
    #[serde(rename = "type")]
    pub credential_type: CredentialType,
    /// A short human name.
    pub title: &'static str,
    /// How it is applied to a request.
    pub description: &'static str,
    /// The fields a create or patch body takes for this type.
    pub fields: &'static [FieldSpec],
    /// Public fields the vault derives and shows, which are never written (a custom
    /// credential's header names).
    pub derived: &'static [FieldSpec],
}

impl TypeSpec {
    /// The names of the fields a body may carry for this type.
    pub fn field_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().map(|f| f.name)
    }
}
