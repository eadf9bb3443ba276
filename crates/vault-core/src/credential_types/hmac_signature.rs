//! `hmac_signature`: an HMAC over parts of each request, as many partner and payment APIs
//! and webhook receivers check it. A template names what is signed; the headers the
//! signature travels in are templates too. Presets fill both for known schemes.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::field_rules::{SentIn, choice, choice_name, header_name, public_text, secret_field};
use super::{
    CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec,
    mismatch,
};
use crate::apply::{AppliedCredential, SignsRequests, is_visible_ascii};
use crate::input::CredentialFields;
use crate::signing::{HashAlgorithm, RequestSigner, SigningError};
use crate::upstream::OutgoingRequest;
use crate::validation::{FieldError, ValidationErrors};
use crate::vault::VaultError;

mod template;

pub use template::{Part, Template};

/// How an `hmac_signature` credential looks from outside.
const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::HmacSignature,
    title: "HMAC request signature",
    description: "An HMAC-SHA256/512 over the parts of each request a template names, sent in headers whose values are templates too. Presets: `standard-webhooks` (Standard Webhooks, as a sender) and `kong-hmac-auth` (Kong's hmac-auth plugin, HTTP Signatures style).",
    fields: &[
        FieldSpec {
            name: "secret",
            label: "Secret key",
            shape: FieldShape::Secret { hint: false },
            required: Required::Always,
            nullable: false,
            description: "The HMAC key, read per `keyEncoding` (a `whsec_` prefix is dropped for `base64`).",
        },
        FieldSpec {
            name: "preset",
            label: "Preset",
            shape: FieldShape::Choice {
                options: &["custom", "standard-webhooks", "kong-hmac-auth"],
            },
            required: Required::Never,
            nullable: false,
            description: "Fills every field below for a known scheme; fields given as well override it. `custom` (the default) fills none: give `stringToSign` and `signatureHeaders` (the other fields have defaults).",
        },
        FieldSpec {
            name: "algorithm",
            label: "Algorithm",
            shape: FieldShape::Choice {
                options: &["HMAC-SHA256", "HMAC-SHA512"],
            },
            required: Required::If {
                field: "preset",
                one_of: &["custom"],
            },
            nullable: false,
            description: "The MAC (default HMAC-SHA256).",
        },
        FieldSpec {
            name: "keyEncoding",
            label: "Key encoding",
            shape: FieldShape::Choice {
                options: &["utf8", "base64", "hex"],
            },
            required: Required::If {
                field: "preset",
                one_of: &["custom"],
            },
            nullable: false,
            description: "How the key's text becomes its bytes (default utf8).",
        },
        FieldSpec {
            name: "stringToSign",
            label: "String to sign",
            shape: FieldShape::Text {
                max_length: MAX_TEMPLATE_BYTES as u32,
            },
            required: Required::If {
                field: "preset",
                one_of: &["custom"],
            },
            nullable: false,
            description: "What is signed: text with placeholders `{method}`, `{path}`, `{query}`, `{pathAndQuery}`, `{host}`, `{body}`, `{bodySha256}` (hex), `{bodySha256Base64}`, `{header:<name>}`, `{timestamp}`, `{nonce}` (new per request, or the one in a signature header the caller sent) and `{keyId}`; `\\n` is a line break. It must name a part of the request.",
        },
        FieldSpec {
            name: "signatureHeaders",
            label: "Signature headers",
            shape: FieldShape::Object,
            required: Required::If {
                field: "preset",
                one_of: &["custom"],
            },
            nullable: false,
            description: "The headers set on each request: name to a template of the placeholders of `stringToSign` (but `{body}`), plus `{signature}`. One must hold `{signature}`.",
        },
        FieldSpec {
            name: "signatureEncoding",
            label: "Signature encoding",
            shape: FieldShape::Choice {
                options: &["hex", "base64"],
            },
            required: Required::If {
                field: "preset",
                one_of: &["custom"],
            },
            nullable: false,
            description: "How `{signature}` is written (default hex).",
        },
        FieldSpec {
            name: "timestampFormat",
            label: "Timestamp format",
            shape: FieldShape::Choice {
                options: &["unix", "unix-ms", "rfc3339", "http-date"],
            },
            required: Required::If {
                field: "preset",
                one_of: &["custom"],
            },
            nullable: false,
            description: "How `{timestamp}`, the signing time, is written (default unix: seconds).",
        },
        FieldSpec {
            name: "keyId",
            label: "Key ID",
            shape: FieldShape::Text { max_length: 256 },
            required: Required::If {
                field: "preset",
                one_of: &["kong-hmac-auth", "custom"],
            },
            nullable: false,
            description: "A public name of the key, for `{keyId}` (Kong's username); required when a template holds `{keyId}`.",
        },
    ],
    derived: &[],
};

/// The longest template.
pub const MAX_TEMPLATE_BYTES: usize = 1024;
/// Most headers a signature sets.
const MAX_SIGNATURE_HEADERS: usize = 8;

/// The schemes the presets fill in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Standard Webhooks (standardwebhooks.com), as a sender: `webhook-id`,
    /// `webhook-timestamp`, `webhook-signature: v1,<base64>` over `id.timestamp.body`.
    StandardWebhooks,
    /// Kong's `hmac-auth` plugin: `Date`, `Digest` and `Authorization: hmac username=...`
    /// over the date, the request line and the digest.
    KongHmacAuth,
    /// No preset: every part given.
    Custom,
}

/// How a key's text becomes its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyEncoding {
    /// Its UTF-8 bytes.
    Utf8,
    /// Base64 (standard alphabet), after an optional `whsec_` prefix.
    Base64,
    /// Hexadecimal.
    Hex,
}

/// How a signature or digest is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Lower-case hexadecimal.
    Hex,
    /// Base64, standard alphabet, padded.
    Base64,
}

/// How the signing time is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimestampFormat {
    /// Seconds since the Unix epoch.
    Unix,
    /// Milliseconds since the Unix epoch.
    UnixMs,
    /// RFC 3339 in UTC, with milliseconds.
    Rfc3339,
    /// RFC 9110's HTTP-date (IMF-fixdate).
    HttpDate,
}

/// The MACs offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MacAlgorithm {
    /// HMAC with SHA-256.
    #[serde(rename = "HMAC-SHA256")]
    HmacSha256,
    /// HMAC with SHA-512.
    #[serde(rename = "HMAC-SHA512")]
    HmacSha512,
}

/// Public configuration of an `hmac_signature` credential: the resolved scheme, whatever
/// preset filled it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The preset it was made from.
    pub preset: Preset,
    /// The MAC.
    pub algorithm: MacAlgorithm,
    /// How the key's text becomes bytes.
    pub key_encoding: KeyEncoding,
    /// What is signed.
    pub string_to_sign: Template,
    /// The headers set: name to template.
    pub signature_headers: BTreeMap<String, Template>,
    /// How the signature is written.
    pub signature_encoding: Encoding,
    /// How the time is written.
    pub timestamp_format: TimestampFormat,
    /// The key's public name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

impl Config {
    /// What `preset` fills in (`custom`: nothing, so `None`).
    fn of_preset(preset: Preset, key_id: Option<String>) -> Option<Self> {
        let headers = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(name, value)| {
                    let template = Template::parse(value).expect("a preset's template parses");
                    ((*name).to_owned(), template)
                })
                .collect()
        };
        let (message, headers, encoding, timestamps) = match preset {
            Preset::Custom => return None,
            Preset::StandardWebhooks => (
                "msg_{nonce}.{timestamp}.{body}",
                headers(&[
                    ("webhook-id", "msg_{nonce}"),
                    ("webhook-timestamp", "{timestamp}"),
                    ("webhook-signature", "v1,{signature}"),
                ]),
                Encoding::Base64,
                TimestampFormat::Unix,
            ),
            Preset::KongHmacAuth => (
                "date: {timestamp}\\n{method} {pathAndQuery} HTTP/1.1\\ndigest: SHA-256={bodySha256Base64}",
                headers(&[
                    ("date", "{timestamp}"),
                    ("digest", "SHA-256={bodySha256Base64}"),
                    (
                        "authorization",
                        "hmac username=\"{keyId}\", algorithm=\"hmac-sha256\", headers=\"date request-line digest\", signature=\"{signature}\"",
                    ),
                ]),
                Encoding::Base64,
                TimestampFormat::HttpDate,
            ),
        };
        Some(Self {
            preset,
            algorithm: MacAlgorithm::HmacSha256,
            key_encoding: if preset == Preset::StandardWebhooks {
                KeyEncoding::Base64
            } else {
                KeyEncoding::Utf8
            },
            string_to_sign: Template::parse(message).expect("a preset's template parses"),
            signature_headers: headers,
            signature_encoding: encoding,
            timestamp_format: timestamps,
            key_id,
        })
    }
}

impl TypeRules for Config {
    const SPEC: TypeSpec = SPEC;

    fn validate(
        fields: &CredentialFields,
        current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)> {
        validate(fields, current, errors)
    }

    fn example() -> Self {
        Self::of_preset(Preset::KongHmacAuth, Some("alice123".to_owned()))
            .expect("kong-hmac-auth is a preset")
    }

    fn apply(&self, secrets: &CredentialSecrets) -> Result<AppliedCredential, VaultError> {
        let key = secrets.text("secret").ok_or_else(mismatch)?;
        let key = key_bytes(self.key_encoding, key).map_err(|_| mismatch())?;
        Ok(AppliedCredential::signed(HmacSignature {
            config: self.clone(),
            key,
        }))
    }

    /// The key must still read under the encoding.
    fn restore(&mut self, secrets: &CredentialSecrets) -> Result<(), String> {
        match secrets.text("secret").map(|key| key_bytes(self.key_encoding, key)) {
            Some(Ok(_)) => Ok(()),
            _ => Err(format!(
                "holds a key that is not {}; change keyEncoding first",
                choice_name(&self.key_encoding)
            )),
        }
    }
}

fn validate(
    fields: &CredentialFields,
    current: Option<&Config>,
    errors: &mut ValidationErrors,
) -> Option<(Config, Option<CredentialSecrets>)> {
    let preset = choice(&SPEC, fields, "preset", current.map(|c| c.preset), errors)?;
    let key_id = match fields.text("keyId") {
        Some(raw) => Some(errors.take(public_text("keyId", raw, 256))?),
        None => current.and_then(|c| c.key_id.clone()),
    };
    // A new preset starts from its own scheme; otherwise the current one, field by field.
    let base = match (preset, current) {
        (Some(preset), Some(c)) if preset == c.preset => Some(c.clone()),
        (Some(preset), _) => Config::of_preset(preset, key_id.clone()),
        (None, Some(c)) => Some(c.clone()),
        (None, None) => None,
    };
    let preset = preset.unwrap_or(Preset::Custom);
    let algorithm = choice(&SPEC, fields, "algorithm", base.as_ref().map(|b| b.algorithm), errors);
    let key_encoding = choice(&SPEC, fields, "keyEncoding", base.as_ref().map(|b| b.key_encoding), errors);
    let signature_encoding = choice(
        &SPEC,
        fields,
        "signatureEncoding",
        base.as_ref().map(|b| b.signature_encoding),
        errors,
    );
    let timestamp_format = choice(
        &SPEC,
        fields,
        "timestampFormat",
        base.as_ref().map(|b| b.timestamp_format),
        errors,
    );
    let message = match (fields.text("stringToSign"), &base) {
        (Some(raw), _) => errors.take(message(raw)),
        (None, Some(b)) => Some(b.string_to_sign.clone()),
        (None, None) => {
            errors.add("stringToSign", "is required without a preset");
            None
        }
    };
    let headers = match (fields.object("signatureHeaders"), &base) {
        (Some(raw), _) => errors.take(signature_headers(raw)),
        (None, Some(b)) => Some(b.signature_headers.clone()),
        (None, None) => {
            errors.add("signatureHeaders", "is required without a preset");
            None
        }
    };
    let key_encoding = key_encoding?.unwrap_or(KeyEncoding::Utf8);
    let key = secret_field(fields, "secret", SentIn::Elsewhere, current.is_some(), errors);
    let key = match key {
        Some(key) => match key_bytes(key_encoding, &key) {
            Ok(_) => Some(key),
            Err(why) => {
                errors.add("secret", why);
                return None;
            }
        },
        None => None,
    };
    let config = Config {
        preset,
        algorithm: algorithm?.unwrap_or(MacAlgorithm::HmacSha256),
        key_encoding,
        string_to_sign: message?,
        signature_headers: headers?,
        signature_encoding: signature_encoding?.unwrap_or(Encoding::Hex),
        timestamp_format: timestamp_format?.unwrap_or(TimestampFormat::Unix),
        key_id,
    };
    let uses_key_id = config.string_to_sign.uses(&Part::KeyId)
        || config.signature_headers.values().any(|t| t.uses(&Part::KeyId));
    if uses_key_id && config.key_id.is_none() {
        errors.add("keyId", "is required: a template uses {keyId}");
        return None;
    }
    if key.is_none() && current.is_some_and(|c| c.key_encoding != key_encoding) {
        errors.add("secret", "is required with a new keyEncoding");
        return None;
    }
    Some((
        config,
        key.map(|key| CredentialSecrets::new(CredentialType::HmacSignature).with_text("secret", key)),
    ))
}

/// The signed message: a template that names a part of the request.
fn message(raw: &str) -> Result<Template, FieldError> {
    let template = Template::parse(raw).map_err(|why| FieldError::new("stringToSign", why))?;
    if template.uses(&Part::Signature) {
        return Err(FieldError::new("stringToSign", "cannot hold {signature}"));
    }
    if !template.names_request() {
        return Err(FieldError::new(
            "stringToSign",
            "must name a part of the request: {method}, {path}, {query}, {pathAndQuery}, {host}, {body}, a body digest or a {header:<name>}",
        ));
    }
    Ok(template)
}

/// The headers a signature sets: valid names, templates without the body, and one with
/// the signature.
fn signature_headers(
    raw: &serde_json::Map<String, serde_json::Value>,
) -> Result<BTreeMap<String, Template>, FieldError> {
    if raw.is_empty() || raw.len() > MAX_SIGNATURE_HEADERS {
        return Err(FieldError::new(
            "signatureHeaders",
            format!("must set 1 to {MAX_SIGNATURE_HEADERS} headers"),
        ));
    }
    let mut headers = BTreeMap::new();
    for (name, value) in raw {
        let field = format!("signatureHeaders.{name}");
        let name = header_name(&field, name)?.to_ascii_lowercase();
        let Some(text) = value.as_str() else {
            return Err(FieldError::new(field, "must be a template string"));
        };
        let template = Template::parse(text).map_err(|why| FieldError::new(&field, why))?;
        if template.uses(&Part::Body) {
            return Err(FieldError::new(field, "cannot hold {body}; use a digest"));
        }
        if !is_visible_ascii(text) {
            return Err(FieldError::new(field, "must be visible ASCII"));
        }
        headers.insert(name, template);
    }
    if !headers.values().any(|t| t.uses(&Part::Signature)) {
        return Err(FieldError::new(
            "signatureHeaders",
            "must put {signature} in one header",
        ));
    }
    Ok(headers)
}

/// The key's bytes under `encoding`.
fn key_bytes(
    encoding: KeyEncoding,
    key: &SecretString,
) -> Result<Zeroizing<Vec<u8>>, &'static str> {
    let text = key.expose_secret();
    let bytes = match encoding {
        KeyEncoding::Utf8 => text.as_bytes().to_vec(),
        KeyEncoding::Base64 => STANDARD
            .decode(text.strip_prefix("whsec_").unwrap_or(text))
            .map_err(|_| "must be base64 (keyEncoding is base64)")?,
        KeyEncoding::Hex => hex::decode(text).map_err(|_| "must be hexadecimal (keyEncoding is hex)")?,
    };
    if bytes.is_empty() {
        return Err("must not be empty");
    }
    Ok(Zeroizing::new(bytes))
}

/// The opened key and the scheme, signing each request. `Debug` is not derived: it holds
/// the key.
struct HmacSignature {
    config: Config,
    key: Zeroizing<Vec<u8>>,
}

impl SignsRequests for HmacSignature {
    fn scheme(&self) -> &'static str {
        "hmac_signature"
    }

    fn sign(
        &self,
        request: &OutgoingRequest,
        signer: &dyn RequestSigner,
        at: SystemTime,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, SigningError> {
        let config = &self.config;
        let values = template::Values::of(request, signer, config, at)?;
        let message = config.string_to_sign.render(&values, &[]);
        let hash = match config.algorithm {
            MacAlgorithm::HmacSha256 => HashAlgorithm::Sha256,
            MacAlgorithm::HmacSha512 => HashAlgorithm::Sha512,
        };
        let mac = signer.mac(hash, &self.key, &message)?;
        let signature = encode(config.signature_encoding, &mac);
        config
            .signature_headers
            .iter()
            .map(|(name, template)| {
                let value = template.render(&values, signature.as_bytes());
                let name = http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| SigningError::Unsignable("a header name is invalid"))?;
                let mut value = http::HeaderValue::from_bytes(&value)
                    .map_err(|_| SigningError::Unsignable("a header value is invalid"))?;
                value.set_sensitive(template.uses(&Part::Signature));
                Ok((name, value))
            })
            .collect()
    }
}

/// `bytes` written as `encoding` says.
fn encode(encoding: Encoding, bytes: &[u8]) -> String {
    match encoding {
        Encoding::Hex => hex::encode(bytes),
        Encoding::Base64 => STANDARD.encode(bytes),
    }
}

/// The signing time as `format` writes it.
fn timestamp(format: TimestampFormat, at: SystemTime) -> String {
    let at = OffsetDateTime::from(at);
    match format {
        TimestampFormat::Unix => at.unix_timestamp().to_string(),
        TimestampFormat::UnixMs => (at.unix_timestamp_nanos() / 1_000_000).to_string(),
        TimestampFormat::Rfc3339 => at
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .unwrap_or_default(),
        TimestampFormat::HttpDate => at
            .format(time::macros::format_description!(
                "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
            ))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;
