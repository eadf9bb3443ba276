//! Arbitrary bytes as the body of a credential create or patch and of a proxy call: the
//! parsing and validation the HTTP layer runs before any store or network call must never
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vault_http::fuzzing::fuzz_credential_body(data);
    vault_http::fuzzing::fuzz_proxy_body(data);
});
