//! Unvalidated input for creating and patching credentials, and the rules every type
//! shares (name, description, expiry, allowed hosts, CA bundle); each type's own rules are in its
//! module of [`credential_types`](mod@crate::credential_types).
//!
//! Input is flat, as the REST contract's bodies are: every field of every type sits side
//! by side, and the credential type decides which of them apply.

use std::collections::BTreeMap;

use secrecy::SecretString;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ca_bundle::CaBundle;
use crate::clock::truncate_to_micros;
use crate::credential::{
    CredentialKind, CredentialName, CredentialSecrets, CredentialType, Description,
};
use crate::credential_types;
use crate::egress::AllowedHosts;
use crate::validation::{FieldError, ValidationErrors};

mod json;
pub use json::JsonFields;

/// A field that may be absent (leave as is), null (clear) or set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not given: keep the current value.
    #[default]
    Absent,
    /// Given as null: clear it.
    Null,
    /// Given: set it.
    Value(T),
}

impl<T> Patch<T> {
    /// True unless absent.
    #[must_use]
    pub const fn is_present(&self) -> bool {
        !matches!(self, Self::Absent)
    }
}

/// `placement` as given: each part optional, defaults filled in per type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlacementInput {
    /// `in`: `header` or `query`.
    pub location: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `prefix`.
    pub prefix: Option<String>,
}

/// A type-specific field's value as given: shaped as its type's description says (see
/// [`FieldShape`](crate::credential_types::FieldShape)), not yet checked.
#[derive(Clone)]
pub enum FieldValue {
    /// `null`: clears a nullable field on patch.
    Null,
    /// A string (text, URL, choice).
    Text(String),
    /// A list of strings.
    Texts(Vec<String>),
    /// A whole number.
    Integer(i64),
    /// A JSON object, copied as given.
    Object(serde_json::Map<String, serde_json::Value>),
    /// A placement: `in`, `name`, `prefix`.
    Placement(PlacementInput),
    /// A secret string.
    Secret(SecretString),
    /// Names, each with a secret value.
    SecretMap(Vec<(String, SecretString)>),
}

impl std::fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The shape only: values may be secret.
        f.write_str(match self {
            Self::Null => "Null",
            Self::Text(_) => "Text",
            Self::Texts(_) => "Texts",
            Self::Integer(_) => "Integer",
            Self::Object(_) => "Object",
            Self::Placement(_) => "Placement",
            Self::Secret(_) => "Secret",
            Self::SecretMap(_) => "SecretMap",
        })
    }
}

impl From<String> for FieldValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for FieldValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<Vec<String>> for FieldValue {
    fn from(value: Vec<String>) -> Self {
        Self::Texts(value)
    }
}

impl From<i64> for FieldValue {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

impl From<serde_json::Map<String, serde_json::Value>> for FieldValue {
    fn from(value: serde_json::Map<String, serde_json::Value>) -> Self {
        Self::Object(value)
    }
}

impl From<PlacementInput> for FieldValue {
    fn from(value: PlacementInput) -> Self {
        Self::Placement(value)
    }
}

impl From<SecretString> for FieldValue {
    fn from(value: SecretString) -> Self {
        Self::Secret(value)
    }
}

impl From<Vec<(String, SecretString)>> for FieldValue {
    fn from(value: Vec<(String, SecretString)>) -> Self {
        Self::SecretMap(value)
    }
}

/// Every field a create or patch body can carry, none yet validated: the fields every
/// type has, and the type-specific ones by name.
#[derive(Default)]
pub struct CredentialFields {
    /// `name`.
    pub name: Option<String>,
    /// `description` (null clears it on patch).
    pub description: Patch<String>,
    /// `expiresAt`, ISO 8601 / RFC 3339 (null clears it on patch).
    pub expires_at: Patch<String>,
    /// `allowedHosts` (every type; null clears it on patch).
    pub allowed_hosts: Patch<Vec<String>>,
    /// `caBundle`, PEM (every type; null clears it on patch).
    pub ca_bundle: Patch<String>,
    /// The type-specific fields given, by their API names.
    pub typed: BTreeMap<&'static str, FieldValue>,
}

impl std::fmt::Debug for CredentialFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only which fields are present: values may be secret.
        f.debug_struct("CredentialFields")
            .field("present", &self.present_fields())
            .finish_non_exhaustive()
    }
}

impl CredentialFields {
    /// Names (API spelling) of the type-specific fields that were given.
    #[must_use]
    pub fn present_fields(&self) -> Vec<&'static str> {
        self.typed.keys().copied().collect()
    }

    /// Sets the type-specific field `name` when `value` is given (for embedders and
    /// tests; the HTTP layer fills `typed` from the request body).
    #[must_use]
    pub fn with<T: Into<FieldValue>>(mut self, name: &'static str, value: Option<T>) -> Self {
        self.set(name, value);
        self
    }

    /// Sets the type-specific field `name` to `value`, or leaves it out for `None`.
    pub fn set<T: Into<FieldValue>>(&mut self, name: &'static str, value: Option<T>) {
        match value {
            Some(value) => self.typed.insert(name, value.into()),
            None => self.typed.remove(name),
        };
    }

    /// Sets a nullable type-specific field: absent leaves it out, null clears it.
    #[must_use]
    pub fn with_patch(mut self, name: &'static str, value: Patch<String>) -> Self {
        match value {
            Patch::Absent => {}
            Patch::Null => {
                self.typed.insert(name, FieldValue::Null);
            }
            Patch::Value(text) => {
                self.typed.insert(name, FieldValue::Text(text));
            }
        }
        self
    }

    /// A string field, if given as one.
    pub(crate) fn text(&self, name: &str) -> Option<&String> {
        match self.typed.get(name) {
            Some(FieldValue::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// A nullable string field: absent, null, or given.
    pub(crate) fn nullable_text(&self, name: &str) -> Patch<&String> {
        match self.typed.get(name) {
            Some(FieldValue::Text(text)) => Patch::Value(text),
            Some(FieldValue::Null) => Patch::Null,
            _ => Patch::Absent,
        }
    }

    /// A list-of-strings field, if given as one.
    pub(crate) fn texts(&self, name: &str) -> Option<&Vec<String>> {
        match self.typed.get(name) {
            Some(FieldValue::Texts(texts)) => Some(texts),
            _ => None,
        }
    }

    /// A whole-number field, if given as one.
    pub(crate) fn integer(&self, name: &str) -> Option<i64> {
        match self.typed.get(name) {
            Some(FieldValue::Integer(n)) => Some(*n),
            _ => None,
        }
    }

    /// An object field, if given as one.
    pub(crate) fn object(&self, name: &str) -> Option<&serde_json::Map<String, serde_json::Value>> {
        match self.typed.get(name) {
            Some(FieldValue::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// A placement field, if given as one.
    pub(crate) fn placement(&self, name: &str) -> Option<&PlacementInput> {
        match self.typed.get(name) {
            Some(FieldValue::Placement(placement)) => Some(placement),
            _ => None,
        }
    }

    /// A secret field, if given as one.
    pub(crate) fn secret(&self, name: &str) -> Option<&SecretString> {
        match self.typed.get(name) {
            Some(FieldValue::Secret(secret)) => Some(secret),
            _ => None,
        }
    }

    /// A field of names with secret values, if given as one.
    pub(crate) fn secret_map(&self, name: &str) -> Option<&Vec<(String, SecretString)>> {
        match self.typed.get(name) {
            Some(FieldValue::SecretMap(map)) => Some(map),
            _ => None,
        }
    }

    /// True when `name` was given (null included).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.typed.contains_key(name)
    }
}

/// A credential ready to be sealed and stored.
#[derive(Debug)]
pub struct NewCredential {
    /// Name.
    pub name: CredentialName,
    /// Description.
    pub description: Option<Description>,
    /// Type and public fields.
    pub kind: CredentialKind,
    /// Where it may be sent.
    pub allowed_hosts: AllowedHosts,
    /// The roots its upstreams' certificates must chain to, if pinned.
    pub ca_bundle: Option<CaBundle>,
    /// Secret fields.
    pub secrets: CredentialSecrets,
    /// Expiry.
    pub expires_at: Option<OffsetDateTime>,
}

impl NewCredential {
    /// Applies the rules of `kind` to `fields`.
    ///
    /// # Errors
    /// Every missing, invalid or inapplicable field, each named.
    pub fn validate(
        kind: CredentialType,
        fields: &CredentialFields,
        now: OffsetDateTime,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        reject_foreign_fields(kind, fields, &mut errors);

        let name = match &fields.name {
            Some(raw) => errors.take(CredentialName::parse(raw)),
            None => {
                errors.add("name", "is required");
                None
            }
        };
        let description = match &fields.description {
            Patch::Value(raw) => errors.take(Description::parse(raw)),
            Patch::Absent | Patch::Null => None,
        };
        let expires_at = match &fields.expires_at {
            Patch::Value(raw) => errors.take(parse_expiry(raw, now)),
            Patch::Absent | Patch::Null => None,
        };
        let allowed_hosts = match &fields.allowed_hosts {
            Patch::Value(raw) => errors.take(AllowedHosts::parse(raw)),
            Patch::Absent | Patch::Null => Some(AllowedHosts::default()),
        };
        let ca_bundle = match &fields.ca_bundle {
            Patch::Value(raw) => errors.take(CaBundle::parse(raw)),
            Patch::Absent | Patch::Null => None,
        };

        let typed = credential_types::validate(kind, fields, None, &mut errors);
        if let (Some((kind, _)), Some(hosts)) = (&typed, &allowed_hosts)
            && let Err(error) = kind.check_destinations(hosts)
        {
            errors.add(error.field, error.message);
        }
        match (name, typed, allowed_hosts) {
            (Some(name), Some((kind, Some(secrets))), Some(allowed_hosts)) if errors.is_empty() => {
                Ok(Self {
                    name,
                    description,
                    kind,
                    allowed_hosts,
                    ca_bundle,
                    secrets,
                    expires_at,
                })
            }
            _ => {
                if errors.is_empty() {
                    errors.add("type", "is missing its secret field");
                }
                Err(errors)
            }
        }
    }
}

/// The result of applying a patch to a credential.
#[derive(Debug)]
pub struct ValidPatch {
    /// New name, if changed.
    pub name: Option<CredentialName>,
    /// New description, if changed (`Some(None)` clears it).
    pub description: Option<Option<Description>>,
    /// New expiry, if changed (`Some(None)` clears it).
    pub expires_at: Option<Option<OffsetDateTime>>,
    /// New allowed hosts, if given.
    pub allowed_hosts: Option<AllowedHosts>,
    /// New CA bundle, if given (`Some(None)` clears it).
    pub ca_bundle: Option<Option<CaBundle>>,
    /// New public fields, if any changed.
    pub kind: Option<CredentialKind>,
    /// New secrets, to be sealed, if any secret changed.
    pub secrets: Option<CredentialSecrets>,
}

impl ValidPatch {
    /// Validates `fields` as a partial update of a credential whose public part is
    /// `current`. Secret fields replace the sealed payload whole; for every type the
    /// payload is one unit (custom `headers` is replaced as a map).
    ///
    /// # Errors
    /// Every invalid or inapplicable field, each named.
    pub fn validate(
        current: &CredentialKind,
        fields: &CredentialFields,
        now: OffsetDateTime,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let kind = current.credential_type();
        reject_foreign_fields(kind, fields, &mut errors);

        let name = fields
            .name
            .as_deref()
            .and_then(|raw| errors.take(CredentialName::parse(raw)));
        let description = match &fields.description {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(raw) => errors.take(Description::parse(raw)).map(Some),
        };
        let expires_at = match &fields.expires_at {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(raw) => errors.take(parse_expiry(raw, now)).map(Some),
        };
        let allowed_hosts = match &fields.allowed_hosts {
            Patch::Absent => None,
            Patch::Null => Some(AllowedHosts::default()),
            Patch::Value(raw) => errors.take(AllowedHosts::parse(raw)),
        };
        let ca_bundle = match &fields.ca_bundle {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(raw) => errors.take(CaBundle::parse(raw)).map(Some),
        };

        let touched = fields
            .present_fields()
            .iter()
            .any(|f| credential_types::takes(kind, f));
        let typed = if touched {
            credential_types::validate(kind, fields, Some(current), &mut errors)
        } else {
            None
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let (kind, secrets) = match typed {
            Some((new_kind, secrets)) => ((new_kind != *current).then_some(new_kind), secrets),
            None => (None, None),
        };
        Ok(Self {
            name,
            description,
            expires_at,
            allowed_hosts,
            ca_bundle,
            kind,
            secrets,
        })
    }

    /// True when the patch changes nothing.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.expires_at.is_none()
            && self.allowed_hosts.is_none()
            && self.ca_bundle.is_none()
            && self.kind.is_none()
            && self.secrets.is_none()
    }
}

fn reject_foreign_fields(
    kind: CredentialType,
    fields: &CredentialFields,
    errors: &mut ValidationErrors,
) {
    for field in fields.present_fields() {
        if !credential_types::takes(kind, field) {
            errors.add(field, format!("does not apply to type {kind}"));
        }
    }
}

pub(crate) fn parse_expiry(raw: &str, now: OffsetDateTime) -> Result<OffsetDateTime, FieldError> {
    let at = OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
        FieldError::new(
            "expiresAt",
            "must be an ISO 8601 timestamp with a time zone, e.g. 2027-01-31T00:00:00Z",
        )
    })?;
    let at = truncate_to_micros(at.to_offset(time::UtcOffset::UTC));
    if at <= now {
        return Err(FieldError::new("expiresAt", "must be in the future"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests;
