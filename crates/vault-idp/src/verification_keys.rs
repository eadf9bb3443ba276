//! Reading the identity provider's verification keys: HS256 secrets, RS256 and ES256 public
//! keys from PEM files, and the RS256/ES256 keys of a JWKS file. Every key is bound to
//! exactly one algorithm here, once, at start-up.
//!
//! As in vault-jwt, PEM is read with the RustCrypto format crates (which tell a private key,
//! a certificate and a key on the wrong curve apart, for a clear message) and the DER is
//! handed to jsonwebtoken's `from_*_der` constructors. Messages name the file and what is
//! wrong with it, never its content.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use pkcs8::der::Decode as _;
use pkcs8::{ObjectIdentifier, SubjectPublicKeyInfoRef};
use secrecy::{ExposeSecret as _, SecretString};

use crate::config::IdpConfigError;

/// `rsaEncryption` (RFC 8017).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-ecPublicKey` (RFC 5480); its parameter names the curve.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `secp256r1` (P-256), the curve of ES256.
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used" with RS*.
pub(crate) const MIN_RSA_MODULUS_BITS: usize = 2048;
/// RFC 7518 §3.2: an HS256 key of at least the hash size, 256 bits.
pub(crate) const MIN_HS256_SECRET_BYTES: usize = 32;

/// The algorithms this verifier accepts. Each key is bound to one of them.
pub(crate) const ACCEPTED: [Algorithm; 3] = [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256];

/// One verification key, bound to exactly one algorithm.
pub(crate) struct VerificationKey {
    /// The JWKS `kid`; `None` for HS256 secrets, PEM files and JWKS keys without one.
    pub(crate) kid: Option<String>,
    /// The only algorithm a token verified with this key may name.
    pub(crate) algorithm: Algorithm,
    /// jsonwebtoken's key: zeroized on drop, and its `Debug` redacts the content.
    pub(crate) key: DecodingKey,
    /// Where the key came from, for start-up logs and `Debug` (never key material).
    pub(crate) source: String,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The HS256 secrets, as their UTF-8 bytes (the way vault-jwt signs with them).
pub(crate) fn hs256_secrets(
    secrets: &[SecretString],
) -> Result<Vec<VerificationKey>, IdpConfigError> {
    secrets
        .iter()
        .enumerate()
        .map(|(i, secret)| {
            let bytes = secret.expose_secret().as_bytes();
            if bytes.len() < MIN_HS256_SECRET_BYTES {
                return Err(IdpConfigError::SecretTooShort { number: i + 1 });
            }
            Ok(VerificationKey {
                kid: None,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(bytes),
                source: format!("HS256 secret #{}", i + 1),
            })
        })
        .collect()
}

/// A public key from a PEM file: RSA (`PUBLIC KEY` or `RSA PUBLIC KEY`) becomes an RS256
/// key, EC on P-256 an ES256 key.
pub(crate) fn pem_file(path: &Path) -> Result<VerificationKey, IdpConfigError> {
    let text = read(path)?;
    let refuse = |reason: &'static str| IdpConfigError::PublicKey {
        path: path.to_owned(),
        reason,
    };
    let blocks =
        pem::parse_many(&text).map_err(|_| refuse("its PEM framing or base64 is broken"))?;
    let mut blocks = blocks.into_iter();
    let block = blocks.next().ok_or(refuse("it holds no PEM block"))?;
    if blocks.next().is_some() {
        return Err(refuse(
            "it holds more than one PEM block; give one public key per file",
        ));
    }
    let source = format!("public key file {}", path.display());
    let (algorithm, key) = match block.tag() {
        "PUBLIC KEY" => spki(block.contents()).map_err(refuse)?,
        "RSA PUBLIC KEY" => (
            Algorithm::RS256,
            rsa_pkcs1(block.contents()).map_err(refuse)?,
        ),
        "PRIVATE KEY"
        | "RSA PRIVATE KEY"
        | "EC PRIVATE KEY"
        | "ENCRYPTED PRIVATE KEY"
        | "OPENSSH PRIVATE KEY" => {
            return Err(refuse(
                "it is a private key; give the identity provider's public key \
                 (openssl pkey -in key.pem -pubout), and keep private keys off this server",
            ));
        }
        "CERTIFICATE" | "TRUSTED CERTIFICATE" | "X509 CERTIFICATE" => {
            return Err(refuse(
                "it is a certificate; give its public key \
                 (openssl x509 -in cert.pem -pubkey -noout)",
            ));
        }
        _ => return Err(refuse("its PEM label is not PUBLIC KEY or RSA PUBLIC KEY")),
    };
    Ok(VerificationKey {
        kid: None,
        algorithm,
        key,
        source,
    })
}

/// A `SubjectPublicKeyInfo`, told apart by its algorithm.
fn spki(der: &[u8]) -> Result<(Algorithm, DecodingKey), &'static str> {
    let info = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|_| "it is not a well-formed public key (SubjectPublicKeyInfo)")?;
    let key_bytes = info
        .subject_public_key
        .as_bytes()
        .ok_or("it is not a well-formed public key (SubjectPublicKeyInfo)")?;
    if info.algorithm.oid == RSA_ENCRYPTION {
        return Ok((Algorithm::RS256, rsa_pkcs1(key_bytes)?));
    }
    if info.algorithm.oid == EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| "its EC curve is not named")?;
        if curve != SECP256R1 {
            return Err("it is an EC key on another curve than P-256, the only one ES256 uses");
        }
        return Ok((Algorithm::ES256, ec_p256_point(key_bytes)?));
    }
    Err("it is neither an RSA nor an EC P-256 public key (only RS256 and ES256 are accepted)")
}

/// A PKCS#1 `RSAPublicKey`, refused under 2048 bits.
fn rsa_pkcs1(der: &[u8]) -> Result<DecodingKey, &'static str> {
    let key = pkcs1::RsaPublicKey::from_der(der).map_err(|_| "it is not a well-formed RSA key")?;
    check_rsa(key.modulus.as_bytes(), key.public_exponent.as_bytes())?;
    Ok(DecodingKey::from_rsa_der(der))
}

fn check_rsa(modulus: &[u8], exponent: &[u8]) -> Result<(), &'static str> {
    if bit_length(modulus) < MIN_RSA_MODULUS_BITS {
        return Err("its RSA modulus has fewer than 2048 bits (RFC 7518 asks for 2048)");
    }
    // An even, tiny or huge exponent is no RSA key anyone generates.
    let e = strip_zeros(exponent);
    if e.is_empty() || e.len() > 8 || e.last().is_none_or(|last| last & 1 == 0) || e == [1] {
        return Err("its RSA public exponent is not valid");
    }
    Ok(())
}

/// An uncompressed SEC1 point on P-256, checked to be on the curve (jsonwebtoken reads the
/// point only when it verifies, so a bad one would otherwise just fail every token).
fn ec_p256_point(point: &[u8]) -> Result<DecodingKey, &'static str> {
    let key = DecodingKey::from_ec_der(point);
    // A trial verification of an empty signature: a key that cannot be read is an error,
    // a readable one merely does not verify it.
    match jsonwebtoken::crypto::verify("", b"vault key check", &key, Algorithm::ES256) {
        Ok(_) => Ok(key),
        Err(_) => Err("its EC point is not a valid P-256 public key"),
    }
}

/// The RS256 and ES256 signing keys of a JWKS file. Keys for other uses (`use: enc`) or of
/// other kinds (other key types, curves or algorithms) are skipped with a warning: a
/// provider's key set may hold them. A usable kind with broken values is an error.
pub(crate) fn jwks_file(path: &Path) -> Result<Vec<VerificationKey>, IdpConfigError> {
    let text = read(path)?;
    let set: JwkSet = serde_json::from_str(&text).map_err(|_| IdpConfigError::Jwks {
        path: path.to_owned(),
        reason: "it is not a JWK set (a JSON object with a \"keys\" array of JWKs)".to_owned(),
    })?;
    let mut keys: Vec<VerificationKey> = Vec::new();
    for (i, jwk) in set.keys.iter().enumerate() {
        let name = jwk
            .common
            .key_id
            .as_deref()
            .map_or_else(|| format!("key #{}", i + 1), |kid| format!("key {kid:?}"));
        let refuse = |reason: &str| IdpConfigError::Jwks {
            path: path.to_owned(),
            reason: format!("{name}: {reason}"),
        };
        let algorithm = match usable(jwk) {
            Ok(algorithm) => algorithm,
            Err(why) => {
                tracing::warn!(path = %path.display(), key = %name, "JWKS key skipped: {why}");
                continue;
            }
        };
        let key = match &jwk.algorithm {
            AlgorithmParameters::RSA(rsa) => {
                let n = b64(&rsa.n).ok_or_else(|| refuse("its n is not base64url"))?;
                let e = b64(&rsa.e).ok_or_else(|| refuse("its e is not base64url"))?;
                check_rsa(&n, &e).map_err(refuse)?;
                DecodingKey::from_rsa_raw_components(&n, &e)
            }
            AlgorithmParameters::EllipticCurve(ec) => {
                let x = b64(&ec.x).ok_or_else(|| refuse("its x is not base64url"))?;
                let y = b64(&ec.y).ok_or_else(|| refuse("its y is not base64url"))?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(refuse("a P-256 key's x and y must have 32 bytes each"));
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                ec_p256_point(&point).map_err(refuse)?
            }
            // `usable` lets only RSA and EC P-256 keys through.
            _ => continue,
        };
        if let Some(kid) = &jwk.common.key_id
            && keys.iter().any(|k| k.kid.as_ref() == Some(kid))
        {
            return Err(refuse("another key of the set has the same kid"));
        }
        keys.push(VerificationKey {
            kid: jwk.common.key_id.clone(),
            algorithm,
            key,
            source: format!("JWKS file {}, {name}", path.display()),
        });
    }
    if keys.is_empty() {
        return Err(IdpConfigError::Jwks {
            path: path.to_owned(),
            reason: "it holds no RS256 or ES256 signing key".to_owned(),
        });
    }
    Ok(keys)
}

/// The algorithm a JWK verifies with, or why it is skipped.
fn usable(jwk: &Jwk) -> Result<Algorithm, String> {
    if let Some(usage) = &jwk.common.public_key_use
        && *usage != PublicKeyUse::Signature
    {
        return Err("it is not a signature key (use)".to_owned());
    }
    if let Some(operations) = &jwk.common.key_operations
        && !operations.contains(&KeyOperations::Verify)
    {
        return Err("its key_ops do not include verify".to_owned());
    }
    // The key's kind decides its algorithm; a stated `alg` must agree with it.
    let kind = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::EllipticCurve(_) => {
            return Err("it is an EC key on another curve than P-256".to_owned());
        }
        _ => return Err("only RSA and EC P-256 keys are used (RS256, ES256)".to_owned()),
    };
    match jwk.common.key_algorithm {
        None => Ok(kind),
        Some(KeyAlgorithm::RS256) if kind == Algorithm::RS256 => Ok(kind),
        Some(KeyAlgorithm::ES256) if kind == Algorithm::ES256 => Ok(kind),
        Some(other) => Err(format!(
            "its alg {other:?} is not accepted for this key (only RS256 for RSA, ES256 for P-256)"
        )),
    }
}

fn b64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

fn read(path: &Path) -> Result<String, IdpConfigError> {
    std::fs::read_to_string(path).map_err(|source| IdpConfigError::ReadFile {
        path: PathBuf::from(path),
        source,
    })
}

fn strip_zeros(mut bytes: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

/// The bit length of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    let bytes = strip_zeros(bytes);
    bytes
        .first()
        .map_or(0, |first| bytes.len() * 8 - first.leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_from_the_highest_set_bit() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0x80]), 8);
        assert_eq!(bit_length(&[0x7f; 256]), 2047);
        assert_eq!(bit_length(&[0x80; 256]), 2048);
    }

    #[test]
    fn rsa_exponents_must_be_plausible() {
        let modulus = [0xffu8; 256];
        assert!(check_rsa(&modulus, &[1, 0, 1]).is_ok());
        assert!(check_rsa(&modulus, &[0, 3]).is_ok());
        for bad in [&[][..], &[1], &[2], &[1, 0, 0], &[1; 9]] {
            assert!(check_rsa(&modulus, bad).is_err(), "{bad:?}");
        }
        assert!(check_rsa(&[0xff; 128], &[1, 0, 1]).is_err());
    }
}
