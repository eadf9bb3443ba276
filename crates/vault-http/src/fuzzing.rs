//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`, off by default):
//! the body-parsing paths of the credential and proxy routes, without a server or a store.

use time::OffsetDateTime;
use time::macros::datetime;
use vault_core::input::{NewCredential, ValidPatch};
use vault_core::{CredentialKind, CredentialType};

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
        for &kind in CredentialType::ALL {
            let _ = NewCredential::validate(kind, &fields, NOW);
            let _ = ValidPatch::validate(&CredentialKind::example(kind), &fields, NOW);
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

#[cfg(test)]
mod tests {
    use super::*;

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
