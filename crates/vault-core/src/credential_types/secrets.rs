//! A credential's secret fields, by the names its type's description gives them. The
//! sealed payload is one JSON object of them, keyed by API field name, so a type's secrets
//! are whatever its [`TypeSpec`](super::TypeSpec) lists as secret.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{CredentialType, FieldShape, Required, spec};
use crate::cipher::Plaintext;
use crate::credential::HINT_MIN_CHARS;

/// One secret field's value.
#[derive(Clone, Debug)]
pub enum SecretValue {
    /// A string (a token, a password, a PEM key).
    Text(SecretString),
    /// Names, each with a secret string (a custom credential's headers).
    Map(BTreeMap<String, SecretString>),
}

/// The secret fields of a credential of one type. Never serialized except into a sealed
/// payload.
#[derive(Clone, Debug)]
pub struct CredentialSecrets {
    of: CredentialType,
    values: BTreeMap<&'static str, SecretValue>,
}

/// A sealed payload that does not decode as the secrets of its credential type.
#[derive(Debug, thiserror::Error)]
#[error("the opened payload does not match the credential type {0}")]
pub struct PayloadMismatch(pub CredentialType);

impl CredentialSecrets {
    /// No secrets yet, for a credential of type `of`.
    #[must_use]
    pub const fn new(of: CredentialType) -> Self {
        Self {
            of,
            values: BTreeMap::new(),
        }
    }

    /// The secrets with one string field set.
    #[must_use]
    pub fn with_text(mut self, field: &'static str, value: SecretString) -> Self {
        self.values.insert(field, SecretValue::Text(value));
        self
    }

    /// The secrets with one map field set.
    #[must_use]
    pub fn with_map(mut self, field: &'static str, value: BTreeMap<String, SecretString>) -> Self {
        self.values.insert(field, SecretValue::Map(value));
        self
    }

    /// The type whose secrets these are.
    #[must_use]
    pub const fn credential_type(&self) -> CredentialType {
        self.of
    }

    /// A string field, when set.
    #[must_use]
    pub fn text(&self, field: &str) -> Option<&SecretString> {
        match self.values.get(field) {
            Some(SecretValue::Text(value)) => Some(value),
            _ => None,
        }
    }

    /// A map field, when set.
    #[must_use]
    pub fn map(&self, field: &str) -> Option<&BTreeMap<String, SecretString>> {
        match self.values.get(field) {
            Some(SecretValue::Map(value)) => Some(value),
            _ => None,
        }
    }

    /// Every secret string, map entries included (still wrapped), for checks that look for
    /// them.
    pub fn secret_strings(&self) -> impl Iterator<Item = &SecretString> {
        self.values.values().flat_map(|value| match value {
            SecretValue::Text(text) => vec![text],
            SecretValue::Map(map) => map.values().collect(),
        })
    }

    /// Serializes into a buffer that is wiped on drop.
    #[must_use]
    pub fn to_plaintext(&self) -> Plaintext {
        // Reserve generously so serde_json never reallocates, which would leave an
        // unwiped copy of the secret in freed memory.
        let mut buf = Zeroizing::new(Vec::with_capacity(self.plaintext_len_hint()));
        // Writing JSON into a Vec cannot fail: no I/O, and every key is a string.
        if serde_json::to_writer(&mut *buf, &self.exposed()).is_err() {
            buf.clear();
        }
        buf
    }

    /// The values as they serialize into a sealed payload (or an export bundle, which
    /// is sealed too): a JSON object keyed by API field name.
    pub(crate) const fn exposed(&self) -> Exposed<'_> {
        Exposed(self)
    }

    fn plaintext_len_hint(&self) -> usize {
        // JSON escaping can grow a string up to 6x (\u00XX); size for the worst case.
        let raw: usize = self
            .values
            .iter()
            .map(|(field, value)| {
                field.len()
                    + 8
                    + match value {
                        SecretValue::Text(text) => text.expose_secret().len(),
                        SecretValue::Map(map) => map
                            .iter()
                            .map(|(k, v)| k.len() + v.expose_secret().len() + 8)
                            .sum(),
                    }
            })
            .sum();
        raw * 6 + 64
    }

    /// Decodes an opened payload as the secrets of `kind`: only the secret fields its
    /// description lists, each of its shape, and every one it always requires.
    ///
    /// # Errors
    /// When the payload is not JSON of that shape.
    pub fn from_plaintext(kind: CredentialType, bytes: &[u8]) -> Result<Self, PayloadMismatch> {
        let parsed: BTreeMap<String, SecretValue> =
            serde_json::from_slice(bytes).map_err(|_| PayloadMismatch(kind))?;
        let mut secrets = Self::new(kind);
        for (name, value) in parsed {
            let field = spec(kind)
                .fields
                .iter()
                .find(|f| f.name == name && f.is_secret())
                .ok_or(PayloadMismatch(kind))?;
            let fits = matches!(
                (field.shape, &value),
                (FieldShape::SecretMap { .. }, SecretValue::Map(_))
                    | (
                        FieldShape::Secret { .. } | FieldShape::SecretPem,
                        SecretValue::Text(_)
                    )
            );
            if !fits {
                return Err(PayloadMismatch(kind));
            }
            secrets.values.insert(field.name, value);
        }
        let complete = spec(kind).fields.iter().all(|f| {
            !(f.is_secret() && f.required == Required::Always)
                || secrets.values.contains_key(f.name)
        });
        // Empty only for a type that may have no secret at all (a public OAuth2 client).
        let may_be_empty = !spec(kind)
            .fields
            .iter()
            .any(|f| f.is_secret() && f.required == Required::Always);
        if (secrets.values.is_empty() && !may_be_empty) || !complete {
            return Err(PayloadMismatch(kind));
        }
        Ok(secrets)
    }

    /// Non-reversible hints: the last four characters of each long secret whose field
    /// allows one, keyed by field (`<field>.<name>` for the entries of a map). Passwords
    /// and private keys get none: a password's tail is too large a share of it, a PEM's
    /// tail is its armour.
    #[must_use]
    pub fn hints(&self) -> BTreeMap<String, String> {
        let mut hints = BTreeMap::new();
        let mut add = |field: String, secret: &SecretString| {
            let s = secret.expose_secret();
            let chars = s.chars().count();
            if chars >= HINT_MIN_CHARS {
                let tail: String = s.chars().skip(chars - 4).collect();
                hints.insert(field, format!("…{tail}"));
            }
        };
        for field in spec(self.of).fields {
            match (field.shape, self.values.get(field.name)) {
                (FieldShape::Secret { hint: true }, Some(SecretValue::Text(value))) => {
                    add(field.name.to_owned(), value);
                }
                (FieldShape::SecretMap { .. }, Some(SecretValue::Map(map))) => {
                    for (name, value) in map {
                        add(format!("{}.{name}", field.name), value);
                    }
                }
                _ => {}
            }
        }
        hints
    }
}

/// Secret values serialized as they are: only ever into a buffer that is sealed.
pub(crate) struct Exposed<'a>(&'a CredentialSecrets);

impl Serialize for Exposed<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Out<'a> {
            Text(&'a str),
            Map(BTreeMap<&'a str, &'a str>),
        }
        let mut map = serializer.serialize_map(Some(self.0.values.len()))?;
        for (field, value) in &self.0.values {
            match value {
                SecretValue::Text(text) => {
                    map.serialize_entry(field, &Out::Text(text.expose_secret()))?
                }
                SecretValue::Map(entries) => {
                    let entries = entries
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.expose_secret()))
                        .collect();
                    map.serialize_entry(field, &Out::Map(entries))?;
                }
            }
        }
        map.end()
    }
}

/// Reads a string or an object of strings straight into secret strings, with no copy
/// buffered on the way (an untagged enum would buffer the content).
impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretValueVisitor;

        impl<'de> Visitor<'de> for SecretValueVisitor {
            type Value = SecretValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an object of strings")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<SecretValue, E> {
                Ok(SecretValue::Text(SecretString::from(value.to_owned())))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<SecretValue, E> {
                Ok(SecretValue::Text(SecretString::from(value)))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<SecretValue, A::Error> {
                let mut map = BTreeMap::new();
                while let Some((name, value)) = access.next_entry::<String, SecretString>()? {
                    map.insert(name, value);
                }
                Ok(SecretValue::Map(map))
            }
        }

        deserializer.deserialize_any(SecretValueVisitor)
    }
}
