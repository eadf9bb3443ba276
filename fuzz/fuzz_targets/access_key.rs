//! Arbitrary text as a presented access key: never a panic, and a token that parses is
//! exactly the text presented.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vault_core::access_key::AccessToken;

fuzz_target!(|text: &str| {
    if let Ok(token) = AccessToken::parse(text) {
        assert_eq!(token.expose(), text);
    }
});
