//! The rules of an `oauth2` credential's public fields: endpoint URLs, scopes and extra
//! authorization parameters.

use std::collections::BTreeMap;

use secrecy::SecretString;

use crate::credential::{JwtAlgorithm, MAX_SCOPES};
use crate::input::CredentialFields;
use crate::validation::{FieldError, ValidationErrors};

/// The most extra authorization parameters.
const MAX_AUTHORIZATION_PARAMS: usize = 20;
/// Parameters the vault sets itself on every authorization request: a credential that
/// set them would break PKCE, the state check or the redirect.
const RESERVED_PARAMS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];

/// An endpoint URL: absolute http(s), no credentials in it, no fragment, bounded.
pub(super) fn endpoint_url(field: &str, raw: &str) -> Result<String, FieldError> {
    // The URL parser drops tabs and line breaks silently: what the caller wrote would not be
    // what the vault calls.
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    let url = url::Url::parse(raw)
        .map_err(|_| FieldError::new(field, "must be an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(FieldError::new(field, "must be an absolute http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            field,
            "must not carry credentials; put the client secret in clientSecret",
        ));
    }
    if url.fragment().is_some() {
        return Err(FieldError::new(field, "must not have a fragment"));
    }
    if raw.len() > 2048 {
        return Err(FieldError::new(field, "must be at most 2048 characters"));
    }
    Ok(url.to_string())
}

pub(super) fn scopes(raw: &[String]) -> Result<Vec<String>, FieldError> {
    if raw.len() > MAX_SCOPES {
        return Err(FieldError::new(
            "scopes",
            format!("must have at most {MAX_SCOPES} entries"),
        ));
    }
    // RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    let valid = |s: &String| {
        !s.is_empty()
            && s.len() <= 256
            && s.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
    };
    if !raw.iter().all(valid) {
        return Err(FieldError::new(
            "scopes",
            "each scope must be 1-256 printable ASCII characters without spaces, '\"' or '\\'",
        ));
    }
    Ok(raw.to_vec())
}

/// Extra parameters of the authorization request (`access_type=offline`, `prompt`,
/// `audience`): string values, and none of the parameters the vault sets itself.
pub(super) fn authorization_params(
    raw: &serde_json::Map<String, serde_json::Value>,
) -> Result<BTreeMap<String, String>, FieldError> {
    const FIELD: &str = "authorizationParams";
    if raw.len() > MAX_AUTHORIZATION_PARAMS {
        return Err(FieldError::new(
            FIELD,
            format!("must have at most {MAX_AUTHORIZATION_PARAMS} entries"),
        ));
    }
    let mut params = BTreeMap::new();
    for (name, value) in raw {
        let field = format!("{FIELD}.{name}");
        let name_ok = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !name_ok {
            return Err(FieldError::new(
                field,
                "names must be 1-64 letters, digits, '_', '-' or '.'",
            ));
        }
        if RESERVED_PARAMS.contains(&name.as_str()) {
            return Err(FieldError::new(
                field,
                "is set by the vault on every authorization request",
            ));
        }
        let Some(value) = value.as_str() else {
            return Err(FieldError::new(field, "must be a string"));
        };
        if value.len() > 512 || value.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "must be at most 512 characters, without control characters",
            ));
        }
        params.insert(name.clone(), value.to_owned());
    }
    Ok(params)
}

/// The private key and its algorithm, for a client that signs assertions (`signs`): the
/// algorithm given, kept or RS256, asymmetric; the key when given (required for a
/// credential that did not sign before). `None` when a field was invalid.
pub(super) fn assertion_key(
    fields: &CredentialFields,
    signs: bool,
    kept: Option<JwtAlgorithm>,
    errors: &mut ValidationErrors,
) -> Option<(Option<JwtAlgorithm>, Option<SecretString>)> {
    if !signs {
        for field in ["privateKey", "assertionAlgorithm"] {
            if fields.has(field) {
                errors.add(
                    field,
                    "is only for clientAuth private_key_jwt (and the jwt_bearer grant)",
                );
            }
        }
        return Some((None, None));
    }
    let algorithm = match fields.text("assertionAlgorithm") {
        Some(raw) => match raw.parse::<JwtAlgorithm>() {
            Ok(algorithm) if !algorithm.uses_shared_secret() => algorithm,
            _ => {
                errors.add(
                    "assertionAlgorithm",
                    "must be an asymmetric algorithm: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA",
                );
                return None;
            }
        },
        None => kept.unwrap_or(JwtAlgorithm::RS256),
    };
    let key = match fields.secret("privateKey") {
        Some(value) => Some(errors.take(crate::credential_types::jwt::private_key(value))?),
        // The sealed key serves a new algorithm only if it signs with it (checked by the
        // vault with the signer).
        None if kept.is_some() => None,
        None => {
            errors.add("privateKey", "is required to sign assertions");
            return None;
        }
    };
    Some((Some(algorithm), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_malformed_authorization_params_are_refused() {
        let params = |json: serde_json::Value| {
            authorization_params(json.as_object().expect("an object")).map_err(|e| e.field)
        };
        let ok = params(serde_json::json!({"access_type": "offline", "prompt": "consent"}));
        assert_eq!(ok.expect("valid").len(), 2);
        for (bad, field) in [
            (serde_json::json!({"state": "x"}), "authorizationParams.state"),
            (serde_json::json!({"redirect_uri": "x"}), "authorizationParams.redirect_uri"),
            (serde_json::json!({"prompt": 1}), "authorizationParams.prompt"),
            (serde_json::json!({"a b": "x"}), "authorizationParams.a b"),
            (serde_json::json!({"x": "a\nb"}), "authorizationParams.x"),
        ] {
            assert_eq!(params(bad).expect_err("refused"), field);
        }
    }

    #[test]
    fn endpoint_urls_must_be_plain_absolute_http() {
        assert!(endpoint_url("tokenUrl", "https://a.example/token").is_ok());
        for bad in [
            "a.example/token",
            "ftp://a.example/",
            "https://u:p@a.example/",
            "https://a.example/#x",
            "https://a.example/\ttoken",
        ] {
            assert!(endpoint_url("tokenUrl", bad).is_err(), "{bad}");
        }
    }
}
