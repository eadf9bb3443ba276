//! `mtls`: a TLS client certificate and its key, presented in the handshake of each proxied
//! request (to `allowedHosts` only, like every credential), optionally with CA
//! certificates that pin the upstream's server certificate to a private PKI. What the
//! certificate says of itself (subject, issuer, serial, `notAfter`) is read by the upstream
//! adapter when it is stored, and shown.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{
    CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec,
    mismatch,
};
use crate::apply::AppliedCredential;
use crate::input::{CredentialFields, Patch};
use crate::upstream::{CertificateFacts, ClientIdentity};
use crate::validation::{FieldError, ValidationErrors};
use crate::vault::VaultError;

/// The largest certificate chain or CA bundle, PEM.
pub const MAX_PEM_BYTES: usize = 64 * 1024;

/// How an `mtls` credential looks from outside.
const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::Mtls,
    title: "mTLS client certificate",
    description: "A TLS client certificate the vault presents in the handshake of each request (to `allowedHosts` only). Its subject, issuer, serial and `notAfter` are shown; `expiresAt` is `notAfter` unless set earlier.",
    fields: &[
        FieldSpec {
            name: "certificate",
            label: "Certificate chain (PEM)",
            shape: FieldShape::SecretPem,
            required: Required::Always,
            nullable: false,
            description: "The client certificate, PEM, then any intermediates.",
        },
        FieldSpec {
            name: "privateKey",
            label: "Private key (PEM)",
            shape: FieldShape::SecretPem,
            required: Required::Always,
            nullable: false,
            description: "The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).",
        },
        FieldSpec {
            name: "caBundle",
            label: "Server CA bundle (PEM)",
            shape: FieldShape::Text {
                max_length: MAX_PEM_BYTES as u32,
            },
            required: Required::Never,
            nullable: true,
            description: "CA certificates, PEM: when set, the upstream's certificate must chain to one of them (a private PKI), instead of the system's roots.",
        },
    ],
    derived: &[
        FieldSpec {
            name: "subject",
            label: "Subject",
            shape: FieldShape::Text { max_length: 1024 },
            required: Required::Never,
            nullable: false,
            description: "The certificate's subject.",
        },
        FieldSpec {
            name: "issuer",
            label: "Issuer",
            shape: FieldShape::Text { max_length: 1024 },
            required: Required::Never,
            nullable: false,
            description: "The certificate's issuer.",
        },
        FieldSpec {
            name: "serialNumber",
            label: "Serial number",
            shape: FieldShape::Text { max_length: 128 },
            required: Required::Never,
            nullable: false,
            description: "The certificate's serial number, hex.",
        },
        FieldSpec {
            name: "notAfter",
            label: "Not after",
            shape: FieldShape::Text { max_length: 64 },
            required: Required::Never,
            nullable: false,
            description: "The end of the certificate's validity (RFC 3339).",
        },
    ],
};

/// Public configuration of an `mtls` credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The certificate's subject.
    pub subject: String,
    /// The certificate's issuer.
    pub issuer: String,
    /// Its serial number, hex.
    pub serial_number: String,
    /// The end of its validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: time::OffsetDateTime,
    /// The roots the upstream's certificate must chain to, PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
}

impl TypeRules for Config {
    const SPEC: TypeSpec = SPEC;

    fn validate(
        fields: &CredentialFields,
        current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)> {
        let changing = current.is_some();
        let mut pem = |name: &'static str, check: &dyn Fn(&SecretString) -> Result<SecretString, FieldError>| {
            match fields.secret(name) {
                Some(value) => errors.take(check(value)),
                None if changing => None,
                None => {
                    errors.add(name, "is required");
                    None
                }
            }
        };
        let certificate = pem("certificate", &|v| armoured("certificate", v, "CERTIFICATE"));
        let key = pem("privateKey", &crate::credential_types::jwt::private_key);
        let ca_bundle = match (fields.nullable_text("caBundle"), current) {
            (Patch::Value(raw), _) => errors
                .take(armoured("caBundle", &SecretString::from(raw.clone()), "CERTIFICATE"))
                .map(|_| Some(raw.trim().to_owned())),
            (Patch::Null, _) => Some(None),
            (Patch::Absent, Some(c)) => Some(c.ca_bundle.clone()),
            (Patch::Absent, None) => Some(None),
        };
        if certificate.is_some() != key.is_some() && changing {
            // They are sealed together and must match: a new one needs the other.
            let missing = if certificate.is_some() { "privateKey" } else { "certificate" };
            errors.add(missing, "is required with a new certificate or key");
            return None;
        }
        let secrets = match (certificate, key) {
            (Some(certificate), Some(key)) => Some(
                CredentialSecrets::new(CredentialType::Mtls)
                    .with_text("certificate", certificate)
                    .with_text("privateKey", key),
            ),
            _ => None,
        };
        // What the certificate says is read by the vault from the upstream adapter (see
        // `certified`); until then, what the current one said.
        let config = current.cloned().unwrap_or_else(|| Self {
            subject: String::new(),
            issuer: String::new(),
            serial_number: String::new(),
            not_after: time::OffsetDateTime::UNIX_EPOCH,
            ca_bundle: None,
        });
        Some((
            Self {
                ca_bundle: ca_bundle?,
                ..config
            },
            secrets,
        ))
    }

    fn example() -> Self {
        Self {
            subject: "CN=gateway,O=Acme".to_owned(),
            issuer: "CN=Acme Partner CA".to_owned(),
            serial_number: "1f2e3d".to_owned(),
            not_after: time::macros::datetime!(2030-01-01 00:00 UTC),
            ca_bundle: Some(
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----".to_owned(),
            ),
        }
    }

    fn apply(&self, secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
        Ok(AppliedCredential::presenting(
            self.client_identity(secrets).ok_or_else(mismatch)?,
        ))
    }

    fn client_identity(&self, secrets: &CredentialSecrets) -> Option<ClientIdentity> {
        Some(ClientIdentity {
            reuse_key: (uuid::Uuid::nil(), 0),
            certificate_chain: secrets.text("certificate")?.clone(),
            private_key: secrets.text("privateKey")?.clone(),
            ca_bundle: self.ca_bundle.clone(),
        })
    }

    fn certified(&mut self, facts: &CertificateFacts) {
        self.subject.clone_from(&facts.subject);
        self.issuer.clone_from(&facts.issuer);
        self.serial_number.clone_from(&facts.serial_number);
        self.not_after = facts.not_after;
    }
}

/// PEM text of `label` blocks (`CERTIFICATE`), bounded: the adapter parses it.
fn armoured(field: &str, pem: &SecretString, label: &str) -> Result<SecretString, FieldError> {
    let text = pem.expose_secret().trim();
    if text.len() > MAX_PEM_BYTES {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_PEM_BYTES} bytes"),
        ));
    }
    let controls = text.chars().any(|c| c.is_control() && c != '\n' && c != '\r');
    if controls || !text.starts_with(&format!("-----BEGIN {label}-----")) || !text.ends_with("-----") {
        return Err(FieldError::new(
            field,
            format!("must be PEM text (-----BEGIN {label}-----)"),
        ));
    }
    Ok(SecretString::from(text.to_owned()))
}
