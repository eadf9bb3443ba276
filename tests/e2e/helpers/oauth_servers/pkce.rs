//! PKCE (RFC 7636): the verifier and its S256 challenge.

use super::*;

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// The S256 `code_challenge` of `verifier`: BASE64URL(SHA256(verifier)), unpadded.
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()))
}

/// A fresh `code_verifier`: 64 characters of the unreserved set, 244 random bits.
pub(crate) fn pkce_verifier() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A verifier as RFC 7636 §4.1 allows: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub(super) fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}
