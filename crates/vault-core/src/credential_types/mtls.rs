//! `mtls`: a TLS client certificate and its key, presented in the handshake of each proxied
//! request (to `allowedHosts` only, like every credential). Given as PEM, or as a PKCS#12
//! archive the upstream adapter opens into PEM before anything is stored. What the
//! certificate says of itself (subject, issuer, serial, `notAfter`) is read by the upstream
//! adapter when it is stored, and shown.

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::field_rules::{choice, choice_name};
use super::{
    CredentialSecrets, CredentialType, FieldShape, FieldSpec, OpenArchive, Required, TypeRules,
    TypeSpec, mismatch,
};
use crate::apply::AppliedCredential;
use crate::ca_bundle::pem_text;
use crate::input::CredentialFields;
use crate::upstream::{CertificateFacts, ClientIdentity, TlsSettingsError};
use crate::validation::{FieldError, ValidationErrors};
use crate::vault::VaultError;

/// The largest PKCS#12 archive, before base64.
pub const MAX_PKCS12_BYTES: usize = 64 * 1024;

/// How an `mtls` credential looks from outside.
const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::Mtls,
    title: "mTLS client certificate",
    description: "A TLS client certificate the vault presents in the handshake of each request (to `allowedHosts` only). Its subject, issuer, serial and `notAfter` are shown; `expiresAt` is `notAfter` unless set earlier.",
    fields: &[
        FieldSpec {
            name: "certificateFormat",
            label: "Certificate format",
            shape: FieldShape::Choice {
                options: &["pem", "pkcs12"],
            },
            required: Required::Never,
            nullable: false,
            description: "How the certificate and key are given: `pem` (the default), or `pkcs12`, an archive (`.p12`, `.pfx`) the vault opens and stores as PEM.",
        },
        FieldSpec {
            name: "certificate",
            label: "Certificate chain (PEM)",
            shape: FieldShape::SecretPem,
            required: PEM,
            nullable: false,
            description: "The client certificate, PEM, then any intermediates.",
        },
        FieldSpec {
            name: "privateKey",
            label: "Private key (PEM)",
            shape: FieldShape::SecretPem,
            required: PEM,
            nullable: false,
            description: "The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).",
        },
        FieldSpec {
            name: "pkcs12",
            label: "PKCS#12 archive (base64)",
            shape: FieldShape::SecretPem,
            required: PKCS12,
            nullable: false,
            description: "The certificate, its chain and its key as a PKCS#12 archive, base64 (line breaks allowed). Opened once, never stored as given.",
        },
        FieldSpec {
            name: "pkcs12Password",
            label: "PKCS#12 password",
            shape: FieldShape::Secret { hint: false },
            required: PKCS12,
            nullable: false,
            description: "The archive's password.",
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

/// Required with the PEM fields, and with the archive's.
const PEM: Required = Required::If {
    field: "certificateFormat",
    one_of: &["pem"],
};
const PKCS12: Required = Required::If {
    field: "certificateFormat",
    one_of: &["pkcs12"],
};

/// How the certificate and key were given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertificateFormat {
    /// PEM text.
    #[default]
    Pem,
    /// A PKCS#12 archive, opened into PEM when stored.
    Pkcs12,
}

impl CertificateFormat {
    /// The secret fields given in this format.
    const fn fields(self) -> [&'static str; 2] {
        match self {
            Self::Pem => ["certificate", "privateKey"],
            Self::Pkcs12 => ["pkcs12", "pkcs12Password"],
        }
    }
}

/// Public configuration of an `mtls` credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// How the current certificate was given.
    #[serde(default)]
    pub certificate_format: CertificateFormat,
    /// The certificate's subject.
    pub subject: String,
    /// The certificate's issuer.
    pub issuer: String,
    /// Its serial number, hex.
    pub serial_number: String,
    /// The end of its validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: time::OffsetDateTime,
}

impl TypeRules for Config {
    const SPEC: TypeSpec = SPEC;

    fn validate(
        fields: &CredentialFields,
        current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)> {
        let given = |format: CertificateFormat| format.fields().iter().any(|f| fields.has(f));
        // Unnamed, the format is the one whose fields were given, else the current one.
        let format = match choice(&SPEC, fields, "certificateFormat", None, errors)? {
            Some(format) => format,
            None if given(CertificateFormat::Pkcs12) && !given(CertificateFormat::Pem) => {
                CertificateFormat::Pkcs12
            }
            None if given(CertificateFormat::Pem) => CertificateFormat::Pem,
            None => current.map_or(CertificateFormat::Pem, |c| c.certificate_format),
        };
        let other = match format {
            CertificateFormat::Pem => CertificateFormat::Pkcs12,
            CertificateFormat::Pkcs12 => CertificateFormat::Pem,
        };
        for name in other.fields().into_iter().filter(|f| fields.has(f)) {
            let format = choice_name(&format);
            errors.add(name, format!("does not apply when certificateFormat is {format}"));
        }
        // A new credential, or a new format, needs its values; a change may keep them.
        let keeping = current.is_some_and(|c| c.certificate_format == format);
        let [first, second] = format.fields();
        let mut value = |name: &'static str| match fields.secret(name) {
            Some(value) => errors.take(check(format, name, value)),
            None if keeping => None,
            None => {
                errors.add(name, "is required");
                None
            }
        };
        let (first, second) = (value(first), value(second));
        if first.is_some() != second.is_some() && keeping {
            // They are sealed together and must match: a new one needs the other.
            let missing = if first.is_some() { format.fields()[1] } else { format.fields()[0] };
            errors.add(missing, "is required with a new certificate or key");
            return None;
        }
        if !errors.is_empty() {
            return None;
        }
        let secrets = match (first, second) {
            (Some(first), Some(second)) => Some(
                CredentialSecrets::new(CredentialType::Mtls)
                    .with_text(format.fields()[0], first)
                    .with_text(format.fields()[1], second),
            ),
            _ => None,
        };
        // What the certificate says is read by the vault from the upstream adapter (see
        // `certified`); until then, what the current one said.
        let config = current.cloned().unwrap_or_else(|| Self {
            certificate_format: format,
            subject: String::new(),
            issuer: String::new(),
            serial_number: String::new(),
            not_after: time::OffsetDateTime::UNIX_EPOCH,
        });
        Some((
            Self {
                certificate_format: format,
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
            certificate_format: CertificateFormat::Pem,
        }
    }

    fn apply(&self, secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
        Ok(AppliedCredential::presenting(
            self.client_identity(secrets).ok_or_else(mismatch)?,
        ))
    }

    fn client_identity(&self, secrets: &CredentialSecrets) -> Option<ClientIdentity> {
        Some(ClientIdentity {
            certificate_chain: secrets.text("certificate")?.clone(),
            private_key: secrets.text("privateKey")?.clone(),
        })
    }

    fn unpacked(
        &self,
        secrets: &CredentialSecrets,
        open: &OpenArchive<'_>,
    ) -> Result<Option<CredentialSecrets>, TlsSettingsError> {
        let (Some(archive), Some(password)) = (secrets.text("pkcs12"), secrets.text("pkcs12Password"))
        else {
            return Ok(None);
        };
        let bytes = zeroize::Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(archive.expose_secret())
                .map_err(|_| TlsSettingsError::Pkcs12("must be base64"))?,
        );
        let identity = open(&bytes, password)?;
        Ok(Some(
            CredentialSecrets::new(CredentialType::Mtls)
                .with_text("certificate", identity.certificate_chain)
                .with_text("privateKey", identity.private_key),
        ))
    }

    fn certified(&mut self, facts: &CertificateFacts) {
        self.subject.clone_from(&facts.subject);
        self.issuer.clone_from(&facts.issuer);
        self.serial_number.clone_from(&facts.serial_number);
        self.not_after = facts.not_after;
    }

    fn as_stored(&self) -> Option<Self> {
        // An archive is opened once and only its PEM chain and key are sealed.
        (self.certificate_format == CertificateFormat::Pkcs12).then(|| Self {
            certificate_format: CertificateFormat::Pem,
            ..self.clone()
        })
    }
}

/// A secret value of `format` as given, checked as far as the core can: PEM framing, or
/// base64 (whitespace dropped) of a bounded archive. The adapter parses the rest.
fn check(format: CertificateFormat, name: &str, value: &SecretString) -> Result<SecretString, FieldError> {
    match (format, name) {
        (CertificateFormat::Pem, "certificate") => {
            pem_text(name, value.expose_secret(), "CERTIFICATE").map(SecretString::from)
        }
        (CertificateFormat::Pem, _) => crate::credential_types::jwt::private_key(value),
        (CertificateFormat::Pkcs12, "pkcs12") => {
            let text: String = value.expose_secret().split_whitespace().collect();
            let decoded = zeroize::Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(&text)
                    .map_err(|_| FieldError::new(name, "must be base64 (a PKCS#12 archive)"))?,
            );
            if decoded.len() > MAX_PKCS12_BYTES {
                return Err(FieldError::new(
                    name,
                    format!("must be at most {MAX_PKCS12_BYTES} bytes"),
                ));
            }
            Ok(SecretString::from(text))
        }
        (CertificateFormat::Pkcs12, _) => super::field_rules::secret_value(name, value),
    }
}
