//! What the adapter sends Transit to encrypt: `b"vkm1" | u16 big-endian length | context |
//! keyring`, in zeroizing memory.
//!
//! Transit binds associated data only for some key types and versions, so the context
//! goes inside the plaintext instead: Transit's ciphertext is authenticated (AES-GCM,
//! ChaCha20-Poly1305), so the header cannot be changed without the decryption failing,
//! and [`open`] refuses a header naming another context.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret as _, SecretString};
use vault_core::cipher::Plaintext;
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"vkm1";

/// The keyring behind its context header.
pub(crate) fn seal(context: &str, keyring: &[u8]) -> Result<Plaintext, String> {
    let len = u16::try_from(context.len())
        .map_err(|_| format!("the context is {} bytes long, above 65535", context.len()))?;
    let mut framed = Zeroizing::new(Vec::with_capacity(6 + context.len() + keyring.len()));
    framed.extend_from_slice(MAGIC);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(context.as_bytes());
    framed.extend_from_slice(keyring);
    Ok(framed)
}

/// The keyring, when `framed` carries exactly `context` in its header; otherwise why not.
pub(crate) fn open(context: &str, mut framed: Plaintext) -> Result<Plaintext, String> {
    let rest = framed
        .strip_prefix(MAGIC.as_slice())
        .ok_or("the plaintext has no vkm1 header (not wrapped by this adapter)")?;
    let (len, rest) = rest
        .split_first_chunk::<2>()
        .ok_or("the plaintext's header is truncated")?;
    let len = usize::from(u16::from_be_bytes(*len));
    let stored = rest
        .get(..len)
        .ok_or("the plaintext's header is truncated")?;
    // The context is not secret: a plain comparison, and it may be printed.
    if stored != context.as_bytes() {
        return Err(format!(
            "it was wrapped for context {:?}, not {context:?}",
            String::from_utf8_lossy(stored)
        ));
    }
    // In place: the bytes left behind in the spare capacity are wiped with the buffer.
    framed.drain(..MAGIC.len() + 2 + len);
    Ok(framed)
}

/// The encrypt request's JSON body, `{"plaintext":"<base64>"}`, built in zeroizing memory
/// (base64 needs no JSON escaping).
pub(crate) fn encrypt_body(plaintext: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    const HEAD: &[u8] = br#"{"plaintext":""#;
    const TAIL: &[u8] = br#""}"#;
    let encoded = base64::encoded_len(plaintext.len(), true).ok_or("the keyring is too long")?;
    let mut body = Zeroizing::new(vec![0; HEAD.len() + encoded + TAIL.len()]);
    body[..HEAD.len()].copy_from_slice(HEAD);
    STANDARD
        .encode_slice(plaintext, &mut body[HEAD.len()..HEAD.len() + encoded])
        .map_err(|e| e.to_string())?;
    body[HEAD.len() + encoded..].copy_from_slice(TAIL);
    Ok(body)
}

/// Decodes Transit's base64 plaintext into zeroizing memory, sized up front so that no
/// reallocation leaves a copy behind.
pub(crate) fn decode(encoded: &SecretString) -> Result<Plaintext, String> {
    let encoded = encoded.expose_secret().as_bytes();
    let mut decoded = Zeroizing::new(Vec::with_capacity(base64::decoded_len_estimate(
        encoded.len(),
    )));
    STANDARD
        .decode_vec(encoded, &mut decoded)
        .map_err(|e| format!("Transit returned a plaintext that is not base64: {e}"))?;
    Ok(decoded)
}

/// The key version in a Transit ciphertext, `vault:v<N>:<base64>`.
pub(crate) fn version(ciphertext: &str) -> Option<u32> {
    let (version, body) = ciphertext.strip_prefix("vault:v")?.split_once(':')?;
    let digits_only = !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit());
    let n: u32 = version.parse().ok().filter(|_| digits_only)?;
    (n > 0 && !body.is_empty()).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_opens_only_for_its_context() {
        let framed = seal("install 1", b"key bytes").expect("seal");
        assert_eq!(&framed[..6], b"vkm1\x00\x09");
        let opened = open("install 1", framed.clone()).expect("same context");
        assert_eq!(opened.as_slice(), b"key bytes");
        let refused = open("install 2", framed).expect_err("another context");
        assert!(
            refused.contains("install 1") && !refused.contains("key bytes"),
            "{refused}"
        );
    }

    #[test]
    fn malformed_frames_are_refused() {
        for bad in [
            &b""[..],
            b"vkm1",
            b"vkm1\x00",
            b"vkm1\x00\x05abc",
            b"vkm2\x00\x00key",
        ] {
            assert!(open("", Zeroizing::new(bad.to_vec())).is_err(), "{bad:?}");
        }
        assert!(open("", Zeroizing::new(b"vkm1\x00\x00".to_vec())).is_ok_and(|p| p.is_empty()));
        assert!(seal(&"x".repeat(65_536), b"").is_err());
    }

    #[test]
    fn the_body_is_json_with_base64() {
        let body = encrypt_body(b"hello").expect("body");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(value["plaintext"], "aGVsbG8=");
        let decoded = decode(&SecretString::from("aGVsbG8=")).expect("base64");
        assert_eq!(decoded.as_slice(), b"hello");
        assert!(decode(&SecretString::from("not base64!")).is_err());
    }

    #[test]
    fn versions_are_read_from_the_prefix() {
        assert_eq!(version("vault:v1:abc="), Some(1));
        assert_eq!(version("vault:v12:abc="), Some(12));
        for bad in [
            "vault:v0:abc",
            "vault:v:abc",
            "vault:v+1:abc",
            "vault:v1:",
            "wault:v1:a",
            "vault:v1",
        ] {
            assert_eq!(version(bad), None, "{bad}");
        }
    }
}
