//! The credential types, one module each. A module owns its type's public configuration
//! (`Config`), its description (a [`TypeSpec`]), its validation and how it is put on a
//! request, through [`TypeRules`]. The list at the bottom of this file is the one place
//! that names them all: it makes [`CredentialType`], [`CredentialKind`] and the dispatch
//! from them to each module.

mod field_rules;
mod secrets;
mod spec;

pub use field_rules::MAX_HEADER_NAME_BYTES;
pub(crate) use secrets::Exposed;
pub use secrets::{CredentialSecrets, PayloadMismatch, SecretValue};
pub use spec::{FieldShape, FieldSpec, Required, TypeSpec};

use std::fmt;
use std::str::FromStr;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::apply::AppliedCredential;
use crate::cipher::CipherError;
use crate::credential::JwtAlgorithm;
use crate::egress::AllowedHosts;
use crate::input::CredentialFields;
use crate::upstream::{CertificateFacts, ClientIdentity, TlsSettingsError};
use crate::validation::{FieldError, ValidationErrors};
use crate::vault::VaultError;

/// What a credential type's module provides, implemented by its public configuration.
pub trait TypeRules: Sized {
    /// How the type looks from outside.
    const SPEC: TypeSpec;

    /// Applies the type's rules to `fields`: every field of a new credential, or the ones
    /// given for a change of `current`. Returns the public part and the secrets when they
    /// were given (a change may keep the sealed ones); `None` when a field was invalid,
    /// with the errors saying which.
    fn validate(
        fields: &CredentialFields,
        current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)>;

    /// A public configuration with every optional field set, for tests and samples.
    fn example() -> Self;

    /// Puts the secrets on a request as they are. The types that first obtain a token
    /// with them (oauth2, jwt) are applied by the vault, which caches the token (see
    /// `vault::using`), and keep this refusal.
    ///
    /// # Errors
    /// Secrets that are not this type's, or a value that cannot be put in a request.
    fn apply(&self, secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
        let _ = secrets;
        Err(mismatch())
    }

    /// Checks the public fields against the credential's `allowedHosts` (an endpoint the
    /// vault itself calls must be among them).
    ///
    /// # Errors
    /// The field that names a destination outside them.
    fn check_destinations(&self, allowed_hosts: &AllowedHosts) -> Result<(), FieldError> {
        let _ = allowed_hosts;
        Ok(())
    }

    /// The public fields whose change from `before` sends the secrets somewhere new,
    /// beyond `allowedHosts` (a token endpoint, an audience).
    fn widened_fields(&self, before: &Self) -> Vec<&'static str> {
        let _ = before;
        Vec::new()
    }

    /// The key the JWT signer must be able to sign with, and the secret field holding it:
    /// checked whenever the key or its algorithm changes.
    fn jwt_key(&self) -> Option<(JwtAlgorithm, &'static str)> {
        None
    }

    /// The TLS client certificate the credential presents, which the vault has the
    /// upstream adapter check (and read, see [`certified`](Self::certified)) whenever the
    /// secrets or the public fields change.
    fn client_identity(&self, secrets: &CredentialSecrets) -> Option<ClientIdentity> {
        let _ = secrets;
        None
    }

    /// Records what the presented certificate says of itself.
    fn certified(&mut self, facts: &CertificateFacts) {
        let _ = facts;
    }

    /// The secrets to store, from secrets given in a form the upstream adapter opens
    /// first (an `mtls` PKCS#12 archive) with `open`; `None` when they are stored as given.
    ///
    /// # Errors
    /// What the adapter refused.
    fn unpacked(
        &self,
        secrets: &CredentialSecrets,
        open: &OpenArchive<'_>,
    ) -> Result<Option<CredentialSecrets>, TlsSettingsError> {
        let _ = (secrets, open);
        Ok(None)
    }

    /// The public part as a create body states it beside the stored secrets (an export),
    /// when that differs from this: secrets given in one form may be stored in another
    /// (an `mtls` PKCS#12 archive is stored as its PEM chain and key). `None`: as it is.
    fn as_stored(&self) -> Option<Self> {
        None
    }

    /// Fits the public fields to secrets restored from an older version: refuses
    /// secrets they cannot use, and sets again what is derived from them.
    ///
    /// # Errors
    /// Why the secrets do not fit, said of the version (`version 3 <why>`).
    fn restore(&mut self, secrets: &CredentialSecrets) -> Result<(), String> {
        let _ = secrets;
        Ok(())
    }
}

/// Opens a PKCS#12 archive with its password (the upstream adapter's
/// [`open_pkcs12`](crate::upstream::Upstream::open_pkcs12)).
pub type OpenArchive<'a> =
    dyn Fn(&[u8], &SecretString) -> Result<ClientIdentity, TlsSettingsError> + 'a;

/// Opened secrets that are not those of the credential's type.
pub(crate) fn mismatch() -> VaultError {
    VaultError::Cipher(CipherError::Malformed)
}

/// Makes the enums of the types listed and the dispatch from them to each module.
macro_rules! credential_types {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal in $module:ident, )+) => {
        $( pub mod $module; )+

        /// The kinds of credential.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum CredentialType {
            $( $(#[$doc])* #[serde(rename = $name)] $variant, )+
        }

        impl CredentialType {
            /// Every type, in the order listed.
            pub const ALL: &'static [Self] = &[$( Self::$variant ),+];

            /// The wire and storage name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $name, )+ }
            }
        }

        /// Every type's description, in the order of [`CredentialType::ALL`].
        pub const SPECS: &[&TypeSpec] = &[$( &<$module::Config as TypeRules>::SPEC ),+];

        /// How `kind` looks from outside.
        #[must_use]
        pub const fn spec(kind: CredentialType) -> &'static TypeSpec {
            match kind { $( CredentialType::$variant => &<$module::Config as TypeRules>::SPEC, )+ }
        }

        /// The public part of a credential: its type and the fields that are not secret.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum CredentialKind {
            $( $(#[$doc])* #[serde(rename = $name)] $variant($module::Config), )+
        }

        impl CredentialKind {
            /// A credential of `kind` with every optional field set (see
            /// [`TypeRules::example`]).
            #[must_use]
            pub fn example(kind: CredentialType) -> Self {
                match kind { $( CredentialType::$variant => Self::$variant($module::Config::example()), )+ }
            }

            /// The type tag.
            #[must_use]
            pub const fn credential_type(&self) -> CredentialType {
                match self { $( Self::$variant(_) => CredentialType::$variant, )+ }
            }
        }

        /// Applies the rules of `kind` to `fields`: every field of a new credential, or the
        /// ones given for a change of `current`.
        pub(crate) fn validate(
            kind: CredentialType,
            fields: &CredentialFields,
            current: Option<&CredentialKind>,
            errors: &mut ValidationErrors,
        ) -> Typed {
            match kind {
                $( CredentialType::$variant => {
                    let current = match current {
                        Some(CredentialKind::$variant(c)) => Some(c),
                        _ => None,
                    };
                    let (config, secrets) = $module::Config::validate(fields, current, errors)?;
                    Some((CredentialKind::$variant(config), secrets))
                } )+
            }
        }

        impl CredentialKind {
            /// See [`TypeRules::apply`].
            pub(crate) fn apply(
                &self,
                secrets: &CredentialSecrets,
            ) -> Result<AppliedCredential, VaultError> {
                if secrets.credential_type() != self.credential_type() {
                    return Err(mismatch());
                }
                match self { $( Self::$variant(c) => c.apply(secrets), )+ }
            }

            /// See [`TypeRules::check_destinations`].
            pub(crate) fn check_destinations(
                &self,
                allowed_hosts: &AllowedHosts,
            ) -> Result<(), FieldError> {
                match self { $( Self::$variant(c) => c.check_destinations(allowed_hosts), )+ }
            }

            /// See [`TypeRules::widened_fields`]; none when the type changes, which the
            /// API refuses.
            pub(crate) fn widened_fields(&self, before: &Self) -> Vec<&'static str> {
                match (self, before) {
                    $( (Self::$variant(after), Self::$variant(before)) => after.widened_fields(before), )+
                    #[allow(unreachable_patterns, reason = "unreachable with a single type")]
                    _ => Vec::new(),
                }
            }

            /// See [`TypeRules::jwt_key`].
            pub(crate) fn jwt_key(&self) -> Option<(JwtAlgorithm, &'static str)> {
                match self { $( Self::$variant(c) => c.jwt_key(), )+ }
            }

            /// See [`TypeRules::client_identity`].
            pub(crate) fn client_identity(
                &self,
                secrets: &CredentialSecrets,
            ) -> Option<ClientIdentity> {
                match self { $( Self::$variant(c) => c.client_identity(secrets), )+ }
            }

            /// See [`TypeRules::certified`].
            pub(crate) fn certified(&mut self, facts: &CertificateFacts) {
                match self { $( Self::$variant(c) => c.certified(facts), )+ }
            }

            /// See [`TypeRules::unpacked`].
            pub(crate) fn unpacked(
                &self,
                secrets: &CredentialSecrets,
                open: &OpenArchive<'_>,
            ) -> Result<Option<CredentialSecrets>, TlsSettingsError> {
                match self { $( Self::$variant(c) => c.unpacked(secrets, open), )+ }
            }

            /// See [`TypeRules::restore`].
            pub(crate) fn restore(&mut self, secrets: &CredentialSecrets) -> Result<(), String> {
                match self { $( Self::$variant(c) => c.restore(secrets), )+ }
            }

            /// See [`TypeRules::as_stored`].
            pub(crate) fn as_stored(&self) -> std::borrow::Cow<'_, Self> {
                let stored = match self { $( Self::$variant(c) => c.as_stored().map(Self::$variant), )+ };
                stored.map_or(std::borrow::Cow::Borrowed(self), std::borrow::Cow::Owned)
            }
        }
    };
}

/// A type's validated public part, and its secrets when they were given (a change may keep
/// the sealed ones). `None` when a field was invalid; the errors say which.
pub(crate) type Typed = Option<(CredentialKind, Option<CredentialSecrets>)>;

impl fmt::Display for CredentialType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CredentialType {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                FieldError::new("type", format!("must be one of {}", names.join(", ")))
            })
    }
}

/// True when `field` (API spelling) is one of the type-specific fields `kind` takes.
#[must_use]
pub fn takes(kind: CredentialType, field: &str) -> bool {
    spec(kind).field_names().any(|name| name == field)
}

// The types. A new one is a module beside these and one line here.
credential_types! {
    /// A static API key sent in a header or query parameter.
    ApiKey = "api_key" in api_key,
    /// A static bearer token.
    BearerToken = "bearer_token" in bearer_token,
    /// HTTP Basic authentication.
    BasicAuth = "basic_auth" in basic_auth,
    /// OAuth2 client-credentials grant.
    OAuth2 = "oauth2" in oauth2,
    /// A freshly signed JWT per use.
    Jwt = "jwt" in jwt,
    /// Arbitrary headers.
    Custom = "custom" in custom,
    /// AWS Signature Version 4, signed per request.
    AwsSigV4 = "aws_sigv4" in aws_sigv4,
    /// An HMAC over parts of each request.
    HmacSignature = "hmac_signature" in hmac_signature,
    /// A TLS client certificate.
    Mtls = "mtls" in mtls,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{JwtAlgorithm, OAuth2ClientAuth};

    #[test]
    fn choices_are_the_values_the_types_accept() {
        let algorithms: Vec<&str> = JwtAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
        let choice = |spec: &TypeSpec, name: &str| match spec.fields.iter().find(|f| f.name == name)
        {
            Some(FieldSpec {
                shape: FieldShape::Choice { options },
                ..
            }) => options.to_vec(),
            other => panic!("{name} is no choice: {other:?}"),
        };
        assert_eq!(choice(spec(CredentialType::Jwt), "algorithm"), algorithms);
        assert_eq!(
            choice(spec(CredentialType::OAuth2), "clientAuth"),
            ["basic", "body", "none", "private_key_jwt"]
        );
        for (name, auth) in [
            ("basic", OAuth2ClientAuth::Basic),
            ("body", OAuth2ClientAuth::Body),
            ("none", OAuth2ClientAuth::None),
            ("private_key_jwt", OAuth2ClientAuth::PrivateKeyJwt),
        ] {
            let json = serde_json::to_value(auth).expect("json");
            assert_eq!(json, name, "the stored spelling of {auth:?}");
        }
    }

    #[test]
    fn every_example_is_of_its_type_and_keeps_its_stored_form() {
        for &kind in CredentialType::ALL {
            let example = CredentialKind::example(kind);
            assert_eq!(example.credential_type(), kind);
            let stored = serde_json::to_value(&example).expect("json");
            assert_eq!(stored["type"], kind.as_str(), "the tag is the wire name");
            let back: CredentialKind = serde_json::from_value(stored).expect("decodes");
            assert_eq!(back, example);
        }
    }

    /// The fields of a body that creates `example`: its public fields as the API writes
    /// them (views show a credential's public fields as bodies take them), and a made-up
    /// value for each secret it needs.
    fn body_of(example: &CredentialKind) -> CredentialFields {
        use crate::input::{FieldValue, PlacementInput};
        use secrecy::SecretString;

        let json = serde_json::to_value(example).expect("json");
        let spec = spec(example.credential_type());
        let secret = |text: &str| FieldValue::Secret(SecretString::from(text.to_owned()));
        let mut fields = CredentialFields::default();
        for field in spec.fields {
            let needed = match field.required {
                Required::Always => true,
                Required::Never => !field.is_secret(),
                Required::If {
                    field: other,
                    one_of,
                } => json[other].as_str().is_some_and(|v| one_of.contains(&v)),
            };
            if !needed {
                continue;
            }
            let value = &json[field.name];
            let given = match field.shape {
                FieldShape::Text { .. } | FieldShape::Url | FieldShape::Choice { .. } => {
                    value.as_str().map(|t| FieldValue::Text(t.to_owned()))
                }
                FieldShape::TextList => serde_json::from_value(value.clone())
                    .ok()
                    .map(FieldValue::Texts),
                FieldShape::Integer { .. } => value.as_i64().map(FieldValue::Integer),
                FieldShape::Object => value.as_object().cloned().map(FieldValue::Object),
                FieldShape::Placement { .. } => Some(FieldValue::Placement(PlacementInput {
                    location: value["in"].as_str().map(str::to_owned),
                    name: value["name"].as_str().map(str::to_owned),
                    prefix: Some(value["prefix"].as_str().unwrap_or_default().to_owned()),
                })),
                FieldShape::Secret { .. } => Some(secret("0123456789abcdef0123456789abcdef")),
                FieldShape::SecretPem if field.name == "certificate" => Some(secret(
                    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                )),
                FieldShape::SecretPem => Some(secret(
                    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----",
                )),
                FieldShape::SecretMap { names } => Some(FieldValue::SecretMap(
                    json[names]
                        .as_array()
                        .expect("the names of the map")
                        .iter()
                        .map(|name| {
                            (
                                name.as_str().expect("a name").to_owned(),
                                SecretString::from("v"),
                            )
                        })
                        .collect(),
                )),
            };
            if let Some(given) = given {
                fields.typed.insert(field.name, given);
            }
        }
        fields
    }

    #[test]
    fn every_example_is_what_its_types_rules_make_of_it() {
        for &kind in CredentialType::ALL {
            let example = CredentialKind::example(kind);
            let fields = body_of(&example);
            let mut errors = ValidationErrors::default();
            let validated = validate(kind, &fields, None, &mut errors);
            assert!(errors.is_empty(), "{kind}: {errors:?}");
            let (mut made, secrets) = validated.expect("valid");
            // What a client certificate says is read by the upstream adapter, not from
            // the body.
            if let (CredentialKind::Mtls(made), CredentialKind::Mtls(example)) =
                (&mut made, &example)
            {
                made.certified(&crate::upstream::CertificateFacts {
                    subject: example.subject.clone(),
                    issuer: example.issuer.clone(),
                    serial_number: example.serial_number.clone(),
                    not_after: example.not_after,
                });
            }
            assert_eq!(made, example, "{kind}");
            assert!(secrets.is_some(), "{kind}: the secrets it needs");
        }
    }

    #[test]
    fn every_type_has_its_spec_in_order_and_once() {
        let listed: Vec<CredentialType> = SPECS.iter().map(|s| s.credential_type).collect();
        assert_eq!(listed, CredentialType::ALL);
        for kind in CredentialType::ALL {
            assert_eq!(spec(*kind).credential_type, *kind);
        }
    }

    #[test]
    fn field_names_are_unique_and_conditions_and_map_names_name_a_field_of_the_type() {
        for spec in SPECS {
            let mut names: Vec<&str> = spec.field_names().collect();
            names.sort_unstable();
            let count = names.len();
            names.dedup();
            assert_eq!(
                names.len(),
                count,
                "{} names a field twice",
                spec.credential_type
            );
            for field in spec.fields {
                if let Required::If {
                    field: other,
                    one_of,
                } = field.required
                {
                    let Some(FieldSpec {
                        shape: FieldShape::Choice { options },
                        ..
                    }) = spec.fields.iter().find(|f| f.name == other)
                    else {
                        panic!(
                            "{}: {} depends on a field that is no choice",
                            spec.credential_type, field.name
                        );
                    };
                    assert!(one_of.iter().all(|v| options.contains(v)));
                }
                if let FieldShape::SecretMap { names } = field.shape {
                    assert!(
                        spec.derived
                            .iter()
                            .any(|d| d.name == names && d.shape == FieldShape::TextList),
                        "{}: {} lists its names in no derived list",
                        spec.credential_type,
                        field.name
                    );
                }
            }
        }
    }
}
