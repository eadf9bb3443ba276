//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`, off by default):
//! the body-parsing paths of the credential and proxy routes, without a server or a store.

use secrecy::SecretString;
use time::OffsetDateTime;
use time::macros::datetime;
use vault_core::CredentialType;
use vault_core::input::{CredentialFields, NewCredential, ValidPatch};

use crate::body::parse_json_object;
use crate::credentials::{create_input, update_input};
use crate::usage::proxy_request;

/// A fixed "now", so that a crash reproduces whatever the date.
const NOW: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

/// Runs `bytes` through what a create and a patch of a credential do before the store:
/// JSON object parsing, unknown-field checks, field extraction, then the domain's
/// validation (of a new credential, and of a patch of every type). Panics only on a bug.
pub fn fuzz_credential_body(bytes: &[u8]) {
    let Ok(map) = parse_json_object(bytes) else {
        return;
    };
    if let Ok((kind, fields)) = create_input(map.clone()) {
        let _ = NewCredential::validate(kind, &fields, NOW);
    }
    if let Ok(fields) = update_input(map) {
        for kind in CredentialType::ALL {
            let _ = NewCredential::validate(kind, &fields, NOW);
            if let Some(current) = sample_kind(kind) {
                let _ = ValidPatch::validate(&current, &fields, NOW);
            }
        }
    }
}

/// Runs `bytes` through what the proxy route does with its body before any network call:
/// JSON object parsing, field extraction, then the outgoing request's validation.
pub fn fuzz_proxy_body(bytes: &[u8]) {
    let Ok(map) = parse_json_object(bytes) else {
        return;
    };
    if let Ok(request) = proxy_request(map) {
        let _ = request.validate();
    }
}

/// A valid credential of `kind`, as the public part a patch is checked against.
fn sample_kind(kind: CredentialType) -> Option<vault_core::CredentialKind> {
    let mut fields = CredentialFields {
        name: Some("sample".to_owned()),
        ..CredentialFields::default()
    };
    let secret = |s: &str| Some(SecretString::from(s.to_owned()));
    match kind {
        CredentialType::ApiKey | CredentialType::BearerToken => {
            fields.set("value", secret("v"));
        }
        CredentialType::BasicAuth => {
            fields.set("username", Some("u"));
            fields.set("password", secret("p"));
        }
        CredentialType::OAuth2 => {
            fields.set("clientId", Some("c"));
            fields.set("clientSecret", secret("s"));
            fields.set("tokenUrl", Some("https://auth.example.com/token"));
            fields.allowed_hosts = vault_core::Patch::Value(vec!["auth.example.com".to_owned()]);
        }
        CredentialType::Jwt => {
            fields.set("algorithm", Some("HS256"));
            fields.set("secret", secret("0123456789abcdef0123456789abcdef"));
        }
        CredentialType::Custom => {
            fields.set(
                "headers",
                Some(vec![("X-Key".to_owned(), SecretString::from("v"))]),
            );
        }
    }
    NewCredential::validate(kind, &fields, NOW)
        .ok()
        .map(|c| c.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_kind_is_valid() {
        for kind in CredentialType::ALL {
            assert!(sample_kind(kind).is_some(), "{kind}");
        }
    }

    #[test]
    fn bodies_do_not_panic() {
        for body in [
            &b"{}"[..],
            b"[]",
            b"not json",
            br#"{"type":"bearer_token","name":"n","value":"v"}"#,
            br#"{"name":"n","expiresAt":"2027-01-01T00:00:00Z","allowedHosts":["*.example.com"]}"#,
            br#"{"method":"GET","url":"https://example.com/","headers":{"a":"b"},"bodyBase64":"AA=="}"#,
        ] {
            fuzz_credential_body(body);
            fuzz_proxy_body(body);
        }
    }
}
