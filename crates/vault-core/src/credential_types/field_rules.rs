//! Rules several credential types share: secret values, header names and values, short
//! public texts, and where a value is placed on the request.

use secrecy::{ExposeSecret, SecretString};

use crate::credential::{MAX_SECRET_BYTES, Placement, PlacementLocation, check_text};
use serde::Deserialize;

use super::{FieldShape, TypeSpec};
use crate::input::{CredentialFields, PlacementInput};
use crate::validation::{FieldError, ValidationErrors};

/// A secret string: non-empty, bounded, and free of control characters (it ends up in a
/// header, where CR or LF would let it inject other headers).
pub(super) fn secret_value(field: &str, value: &SecretString) -> Result<SecretString, FieldError> {
    let s = value.expose_secret();
    if s.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if s.len() > MAX_SECRET_BYTES {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_SECRET_BYTES} bytes"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.clone())
}

/// A secret sent as (part of) a header value: also visible ASCII only, as the `http`
/// crate would pass other bytes through raw and each upstream would read them its own way.
pub(super) fn header_secret(field: &str, value: &SecretString) -> Result<SecretString, FieldError> {
    let value = secret_value(field, value)?;
    if !crate::apply::is_visible_ascii(value.expose_secret()) {
        return Err(FieldError::new(
            field,
            "must be visible ASCII text (it is sent in a header)",
        ));
    }
    Ok(value)
}

/// Where a secret is sent: a header value must also be visible ASCII.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SentIn {
    /// In a header, as it is or after a prefix.
    Header,
    /// Elsewhere (a token request's body or Basic authentication, encoded there).
    Elsewhere,
}

/// A secret field: required for a new credential, optional for a change (`changing`).
pub(super) fn secret_field(
    fields: &CredentialFields,
    name: &'static str,
    sent_in: SentIn,
    changing: bool,
    errors: &mut ValidationErrors,
) -> Option<SecretString> {
    let check = match sent_in {
        SentIn::Header => header_secret,
        SentIn::Elsewhere => secret_value,
    };
    match fields.secret(name) {
        Some(value) => errors.take(check(name, value)),
        None if changing => None,
        None => {
            errors.add(name, "is required");
            None
        }
    }
}

/// The longest header name a credential may set: `http` takes up to 64 KiB, which no
/// upstream needs and some refuse.
pub const MAX_HEADER_NAME_BYTES: usize = 256;

/// Header names must be valid HTTP tokens of at most [`MAX_HEADER_NAME_BYTES`], and may
/// not be ones the transport owns.
pub(crate) fn header_name(field: &str, raw: &str) -> Result<String, FieldError> {
    const RESERVED: [&str; 8] = [
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
    ];
    if raw.len() > MAX_HEADER_NAME_BYTES {
        return Err(FieldError::new(
            field,
            format!("header names must be at most {MAX_HEADER_NAME_BYTES} characters"),
        ));
    }
    let name = http::HeaderName::from_bytes(raw.as_bytes())
        .map_err(|_| FieldError::new(field, "must be a valid HTTP header name"))?;
    if RESERVED.contains(&name.as_str()) || name.as_str().starts_with("proxy-") {
        return Err(FieldError::new(
            field,
            "names a header the HTTP transport controls and cannot be set",
        ));
    }
    // Keep the caller's spelling for display; HTTP header names are case-insensitive.
    Ok(raw.to_owned())
}

pub(super) fn public_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    check_text(field, raw, 1, max, false)?;
    Ok(raw.to_owned())
}

pub(super) fn placement(
    input: Option<&PlacementInput>,
    default: Placement,
    allow_query: bool,
    errors: &mut ValidationErrors,
) -> Option<Placement> {
    let Some(input) = input else {
        return Some(default);
    };
    let location = match input.location.as_deref() {
        None => default.location,
        Some("header") => PlacementLocation::Header,
        Some("query") if allow_query => PlacementLocation::Query,
        Some(_) if allow_query => {
            errors.add("placement.in", "must be header or query");
            return None;
        }
        Some(_) => {
            errors.add("placement.in", "must be header");
            return None;
        }
    };
    let name = match (&input.name, location) {
        (None, l) if l == default.location => Some(default.name.clone()),
        (None, _) => {
            errors.add("placement.name", "is required");
            None
        }
        (Some(raw), PlacementLocation::Header) => errors.take(header_name("placement.name", raw)),
        (Some(raw), PlacementLocation::Query) => {
            let ok = !raw.is_empty()
                && raw.len() <= 128
                && raw
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.~[]".contains(&b));
            if ok {
                Some(raw.clone())
            } else {
                errors.add(
                    "placement.name",
                    "must be 1-128 characters of letters, digits, '-', '_', '.', '~', '[' or ']'",
                );
                None
            }
        }
    };
    let prefix = match &input.prefix {
        None => default.prefix.clone(),
        Some(p) if p.is_empty() => None,
        Some(p) => {
            let ok = p.len() <= 64 && p.bytes().all(|b| (0x20..0x7f).contains(&b));
            if !ok {
                errors.add(
                    "placement.prefix",
                    "must be at most 64 printable ASCII characters",
                );
            }
            Some(p.clone())
        }
    };
    Some(Placement {
        location,
        name: name?,
        prefix,
    })
}

/// A choice field of `spec`: given (parsed by its serde name), or `kept` (`None` when the
/// value given is not one of its options, with the error said).
pub(super) fn choice<T: for<'de> Deserialize<'de> + Copy>(
    spec: &TypeSpec,
    fields: &CredentialFields,
    name: &'static str,
    kept: Option<T>,
    errors: &mut ValidationErrors,
) -> Option<Option<T>> {
    match fields.text(name) {
        Some(raw) => match serde_json::from_value(serde_json::Value::String(raw.clone())) {
            Ok(value) => Some(Some(value)),
            Err(_) => {
                let options = spec
                    .fields
                    .iter()
                    .find(|f| f.name == name)
                    .and_then(|f| match f.shape {
                        FieldShape::Choice { options } => Some(options.join(", ")),
                        _ => None,
                    })
                    .unwrap_or_default();
                errors.add(name, format!("must be one of {options}"));
                None
            }
        },
        None => Some(kept),
    }
}

/// The serde name of a choice, as the API spells it.
pub(super) fn choice_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
