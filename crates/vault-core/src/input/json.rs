//! Reading a flat JSON body into [`CredentialFields`]: each field as its type's description
//! shapes it, with type errors recorded by field name and no message echoing a submitted
//! value (serde's own messages quote the offending value, which could be a secret). The
//! HTTP layer reads request bodies with it, and imports read bundles with it, so a bundle's
//! credential is read exactly as a create body is.

use secrecy::SecretString;
use serde_json::{Map, Value};

use super::{CredentialFields, FieldValue, Patch, PlacementInput};
use crate::credential_types::{FieldShape, FieldSpec, SPECS};
use crate::validation::ValidationErrors;

/// Takes fields out of a JSON object, recording type errors by field name.
pub struct JsonFields {
    map: Map<String, Value>,
    /// The type errors found so far, by field name.
    pub errors: ValidationErrors,
}

impl std::fmt::Debug for JsonFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the names: values may be secret.
        f.debug_struct("JsonFields")
            .field("remaining", &self.map.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl JsonFields {
    /// The fields of one JSON object, none taken yet.
    #[must_use]
    pub fn new(map: Map<String, Value>) -> Self {
        Self {
            map,
            errors: ValidationErrors::default(),
        }
    }

    fn wrong(&mut self, field: &str, expected: &str) {
        self.errors.add(field, format!("must be {expected}"));
    }

    /// True when `field` is there (`null` included) and not taken yet.
    #[must_use]
    pub fn contains(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    /// The names of the fields not taken yet.
    pub fn remaining(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// A string field; absent is `None`, any other JSON type (null included) an error.
    pub fn string(&mut self, field: &str) -> Option<String> {
        match self.map.remove(field) {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.wrong(field, "a string");
                None
            }
        }
    }

    /// A secret string: moved straight into a type that wipes it on drop.
    pub fn secret(&mut self, field: &str) -> Option<SecretString> {
        self.string(field).map(SecretString::from)
    }

    /// A string that may be null (to clear it on update).
    pub fn nullable_string(&mut self, field: &str) -> Patch<String> {
        match self.map.remove(field) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::String(s)) => Patch::Value(s),
            Some(_) => {
                self.wrong(field, "a string or null");
                Patch::Absent
            }
        }
    }

    /// An array of strings; absent is `None`, anything else an error naming it.
    pub fn string_array(&mut self, field: &str) -> Option<Vec<String>> {
        match self.map.remove(field) {
            None => None,
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => out.push(s),
                        _ => {
                            self.wrong(field, "an array of strings");
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Some(_) => {
                self.wrong(field, "an array of strings");
                None
            }
        }
    }

    /// An array of strings that may be null (to clear it on update).
    pub fn nullable_string_array(&mut self, field: &str) -> Patch<Vec<String>> {
        if matches!(self.map.get(field), Some(Value::Null)) {
            self.map.remove(field);
            return Patch::Null;
        }
        let present = self.map.contains_key(field);
        match self.string_array(field) {
            Some(items) => Patch::Value(items),
            None if present => Patch::Absent, // the type error is recorded
            None => Patch::Absent,
        }
    }

    /// An array of integers; absent is `None`, anything else an error naming it.
    pub fn integer_array(&mut self, field: &str) -> Option<Vec<i64>> {
        let value = self.map.remove(field)?;
        let items = match value {
            Value::Array(items) => items.iter().map(Value::as_i64).collect::<Option<Vec<_>>>(),
            _ => None,
        };
        if items.is_none() {
            self.wrong(field, "an array of integers");
        }
        items
    }

    /// A boolean; absent is `None`, anything else (null included) an error.
    pub fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.map.remove(field)? {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong(field, "true or false");
                None
            }
        }
    }

    /// A whole number; absent is `None`, anything else an error naming it.
    pub fn integer(&mut self, field: &str) -> Option<i64> {
        match self.map.remove(field) {
            None => None,
            Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
            Some(_) => {
                self.wrong(field, "an integer");
                None
            }
        }
    }

    /// An object; absent is `None`, anything else an error naming it.
    pub fn object(&mut self, field: &str) -> Option<Map<String, Value>> {
        match self.map.remove(field) {
            None => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => {
                self.wrong(field, "an object");
                None
            }
        }
    }

    /// An object of string values whose values are secret (custom headers).
    pub fn secret_map(&mut self, field: &str) -> Option<Vec<(String, SecretString)>> {
        let map = self.object(field)?;
        let mut out = Vec::with_capacity(map.len());
        let mut bad = false;
        for (name, value) in map {
            match value {
                Value::String(s) => out.push((name, SecretString::from(s))),
                _ => bad = true,
            }
        }
        if bad {
            self.wrong(field, "an object whose values are strings");
            return None;
        }
        Some(out)
    }
}

impl CredentialFields {
    /// Pulls a flat create/patch body apart into domain input: the common fields, then
    /// every type's fields as their descriptions shape them (a field of another type is
    /// left for the domain to refuse by name). Type errors are recorded in `fields.errors`.
    #[must_use]
    pub fn take_from(fields: &mut JsonFields) -> Self {
        let mut input = Self {
            name: fields.string("name"),
            description: fields.nullable_string("description"),
            expires_at: fields.nullable_string("expiresAt"),
            allowed_hosts: fields.nullable_string_array("allowedHosts"),
            ca_bundle: fields.nullable_string("caBundle"),
            ..CredentialFields::default()
        };
        for spec in SPECS.iter().flat_map(|spec| spec.fields) {
            if input.typed.contains_key(spec.name) || !fields.contains(spec.name) {
                continue;
            }
            let value = typed_field(fields, spec);
            if let Some(value) = value {
                input.typed.insert(spec.name, value);
            }
        }
        input
    }
}

/// One type-specific field, read as its shape says; `None` (with the error recorded)
/// when it has another JSON type.
fn typed_field(fields: &mut JsonFields, spec: &FieldSpec) -> Option<FieldValue> {
    let name = spec.name;
    match spec.shape {
        FieldShape::Text { .. } | FieldShape::Url | FieldShape::Choice { .. } if spec.nullable => {
            match fields.nullable_string(name) {
                Patch::Absent => None,
                Patch::Null => Some(FieldValue::Null),
                Patch::Value(text) => Some(FieldValue::Text(text)),
            }
        }
        FieldShape::Text { .. } | FieldShape::Url | FieldShape::Choice { .. } => {
            fields.string(name).map(FieldValue::Text)
        }
        FieldShape::TextList => fields.string_array(name).map(FieldValue::Texts),
        FieldShape::Integer { .. } => fields.integer(name).map(FieldValue::Integer),
        FieldShape::Object => fields.object(name).map(FieldValue::Object),
        FieldShape::Placement { .. } => placement(fields, name).map(FieldValue::Placement),
        FieldShape::Secret { .. } | FieldShape::SecretPem => {
            fields.secret(name).map(FieldValue::Secret)
        }
        FieldShape::SecretMap { .. } => fields.secret_map(name).map(FieldValue::SecretMap),
    }
}

/// A placement object: `in`, `name` and `prefix`, each optional.
fn placement(fields: &mut JsonFields, name: &str) -> Option<PlacementInput> {
    fields.object(name).map(|mut map| {
        let mut inner = JsonFields::new(std::mem::take(&mut map));
        let placement = PlacementInput {
            location: inner.string("in"),
            name: inner.string("name"),
            prefix: inner.string("prefix"),
        };
        for e in inner.errors.errors() {
            fields
                .errors
                .add(format!("{name}.{}", e.field), e.message.clone());
        }
        placement
    })
}
