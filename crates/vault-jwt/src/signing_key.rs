//! Reading a credential's key into what jsonwebtoken signs with, refusing with fixed words.
//!
//! jsonwebtoken's own PEM readers accept public keys as RSA keys, do not read SEC1
//! `EC PRIVATE KEY`, and do not say which curve an EC key is on. So the PEM is read here
//! with the RustCrypto format crates (the ones jsonwebtoken itself builds on), which tells
//! apart a key of the wrong kind from one that cannot be read, and the DER is handed to
//! jsonwebtoken's `from_*_der` constructors.
//!
//! RSA keys are the exception: they sign with ring, not jsonwebtoken. jsonwebtoken's
//! RustCrypto backend signs RSA with the `rsa` crate, whose private-key arithmetic is not
//! constant-time (RUSTSEC-2023-0071, the Marvin attack: timing seen over the network can
//! leak the key). ring's RSA is constant-time, and it validates the whole key when it reads
//! it. The token around the signature is the same `base64url(header).base64url(claims)`
//! that jsonwebtoken writes, under jsonwebtoken's own header.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pkcs8::der::asn1::AnyRef;
use pkcs8::der::{Decode as _, SecretDocument};
use pkcs8::{AlgorithmIdentifierRef, ObjectIdentifier, PrivateKeyInfo};
use ring::rand::SystemRandom;
use ring::signature::{
    RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384,
    RSA_PSS_SHA512, RsaEncoding, RsaKeyPair,
};
use secrecy::SecretString;
use vault_core::credential::JwtAlgorithm;
use vault_core::jwt::JwtKeyError;
use zeroize::Zeroizing;

/// `rsaEncryption` (RFC 8017): the PKCS#8 algorithm of an RSA key.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-ecPublicKey` (RFC 5480): the PKCS#8 algorithm of an EC key; its parameter names the
/// curve.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `secp256r1` (P-256).
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `secp384r1` (P-384).
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// `id-Ed25519` (RFC 8410).
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these algorithms"
/// (RS* and, by §3.5, PS*).
const MIN_RSA_MODULUS_BITS: usize = 2048;
/// The largest RSA key ring signs with.
const MAX_RSA_MODULUS_BITS: usize = 4096;

/// The curves jsonwebtoken signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
}

/// What an algorithm signs with.
#[derive(Clone, Copy, Debug)]
enum Family {
    /// A shared secret of at least `min_len` bytes.
    Hmac {
        min_len: usize,
        reason: &'static str,
    },
    Rsa(&'static dyn RsaEncoding),
    Ec(Curve),
    Ed25519,
}

/// A key read and checked for one algorithm, ready to sign.
#[derive(Debug)]
pub(crate) struct SigningKey {
    algorithm: Algorithm,
    key: Key,
}

/// Who signs.
#[derive(Debug)]
enum Key {
    /// jsonwebtoken's key: zeroized on drop, and its `Debug` redacts the content.
    JsonWebToken(EncodingKey),
    /// ring's RSA key (its `Debug` shows the public key only) and padding.
    Rsa {
        pair: Box<RsaKeyPair>,
        padding: &'static dyn RsaEncoding,
    },
}

impl SigningKey {
    /// Reads `key` for `algorithm`: an HMAC secret as its UTF-8 bytes, anything else as a
    /// PEM private key. Checks kind and strength, but not that the key's numbers are
    /// consistent: only signing proves that (see `check_key`).
    pub(crate) fn read(algorithm: JwtAlgorithm, key: &str) -> Result<Self, JwtKeyError> {
        let name = algorithm.as_str();
        let (jwt_algorithm, family) = family(algorithm);
        let key = match family {
            Family::Hmac { min_len, reason } => {
                if key.len() < min_len {
                    return Err(JwtKeyError::TooWeak {
                        algorithm: name,
                        reason,
                    });
                }
                Key::JsonWebToken(EncodingKey::from_secret(key.as_bytes()))
            }
            Family::Rsa(padding) => match read_private_key(key)? {
                PrivateKey::Rsa {
                    pkcs1,
                    modulus_bits,
                    exponent_below_65537,
                } => {
                    if modulus_bits < MIN_RSA_MODULUS_BITS {
                        return Err(JwtKeyError::TooWeak {
                            algorithm: name,
                            reason: "an RSA modulus must have at least 2048 bits",
                        });
                    }
                    if modulus_bits > MAX_RSA_MODULUS_BITS {
                        return Err(JwtKeyError::WrongKind {
                            algorithm: name,
                            needs: "an RSA private key of 2048 to 4096 bits",
                        });
                    }
                    // ring's own minimum, checked here so the refusal can say why.
                    if exponent_below_65537 {
                        return Err(JwtKeyError::TooWeak {
                            algorithm: name,
                            reason: "an RSA public exponent must be at least 65537",
                        });
                    }
                    let pair = RsaKeyPair::from_der(&pkcs1).map_err(|_| {
                        JwtKeyError::Unreadable("its values do not make up a valid key")
                    })?;
                    Key::Rsa {
                        pair: Box::new(pair),
                        padding,
                    }
                }
                _ => return Err(wrong_kind(name, family)),
            },
            Family::Ec(curve) => match read_private_key(key)? {
                PrivateKey::Ec {
                    curve: Some(found),
                    pkcs8,
                } if found == curve => Key::JsonWebToken(EncodingKey::from_ec_der(&pkcs8)),
                _ => return Err(wrong_kind(name, family)),
            },
            Family::Ed25519 => match read_private_key(key)? {
                PrivateKey::Ed25519 { pkcs8 } => {
                    Key::JsonWebToken(EncodingKey::from_ed_der(&pkcs8))
                }
                _ => return Err(wrong_kind(name, family)),
            },
        };
        Ok(Self {
            algorithm: jwt_algorithm,
            key,
        })
    }

    /// Signs `claims` as they are, under a header of `alg`, `typ: JWT`, and `kid` when
    /// `key_id` is given.
    pub(crate) fn sign(
        &self,
        key_id: Option<&str>,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<SecretString, JwtKeyError> {
        let mut header = Header::new(self.algorithm);
        header.kid = key_id.map(str::to_owned);
        match &self.key {
            Key::JsonWebToken(key) => jsonwebtoken::encode(&header, claims, key)
                .map(SecretString::from)
                // jsonwebtoken's messages are not passed on: some carry the text of an
                // error from a parser that has read the key.
                .map_err(|error| match error.kind() {
                    // EC and Ed25519 keys are validated when jsonwebtoken builds its signer.
                    // HMAC signing cannot fail.
                    ErrorKind::InvalidKeyFormat
                    | ErrorKind::InvalidEcdsaKey
                    | ErrorKind::InvalidEddsaKey
                    | ErrorKind::Signing(_) => {
                        JwtKeyError::Unreadable("its values do not make up a valid key")
                    }
                    _ => JwtKeyError::Signing("the JWT library failed to sign".into()),
                }),
            Key::Rsa { pair, padding } => {
                let encoded = |json: Result<Vec<u8>, serde_json::Error>| {
                    json.map(|json| URL_SAFE_NO_PAD.encode(json))
                        .map_err(|_| JwtKeyError::Signing("the claims could not be encoded".into()))
                };
                let signing_input = format!(
                    "{}.{}",
                    encoded(serde_json::to_vec(&header))?,
                    encoded(serde_json::to_vec(claims))?
                );
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    *padding,
                    &SystemRandom::new(),
                    signing_input.as_bytes(),
                    &mut signature,
                )
                // ring checks each signature against the public key before it lets it out
                // (against fault attacks): a key whose CRT values are wrong fails here.
                .map_err(|_| JwtKeyError::Unreadable("its values do not make up a valid key"))?;
                Ok(SecretString::from(format!(
                    "{signing_input}.{}",
                    URL_SAFE_NO_PAD.encode(signature)
                )))
            }
        }
    }
}

/// jsonwebtoken's algorithm and the key family it needs.
const fn family(algorithm: JwtAlgorithm) -> (Algorithm, Family) {
    match algorithm {
        // RFC 7518 §3.2: "A key of the same size as the hash output ... or larger MUST be
        // used with this algorithm."
        JwtAlgorithm::HS256 => (
            Algorithm::HS256,
            Family::Hmac {
                min_len: 32,
                reason: "an HS256 secret must have at least 32 bytes",
            },
        ),
        JwtAlgorithm::HS384 => (
            Algorithm::HS384,
            Family::Hmac {
                min_len: 48,
                reason: "an HS384 secret must have at least 48 bytes",
            },
        ),
        JwtAlgorithm::HS512 => (
            Algorithm::HS512,
            Family::Hmac {
                min_len: 64,
                reason: "an HS512 secret must have at least 64 bytes",
            },
        ),
        // RFC 7518 §3.3 and §3.5: PKCS#1 v1.5, and PSS with MGF1 and a salt as long as
        // the hash, which is what ring's `RSA_PSS_*` do.
        JwtAlgorithm::RS256 => (Algorithm::RS256, Family::Rsa(&RSA_PKCS1_SHA256)),
        JwtAlgorithm::RS384 => (Algorithm::RS384, Family::Rsa(&RSA_PKCS1_SHA384)),
        JwtAlgorithm::RS512 => (Algorithm::RS512, Family::Rsa(&RSA_PKCS1_SHA512)),
        JwtAlgorithm::PS256 => (Algorithm::PS256, Family::Rsa(&RSA_PSS_SHA256)),
        JwtAlgorithm::PS384 => (Algorithm::PS384, Family::Rsa(&RSA_PSS_SHA384)),
        JwtAlgorithm::PS512 => (Algorithm::PS512, Family::Rsa(&RSA_PSS_SHA512)),
        JwtAlgorithm::ES256 => (Algorithm::ES256, Family::Ec(Curve::P256)),
        JwtAlgorithm::ES384 => (Algorithm::ES384, Family::Ec(Curve::P384)),
        JwtAlgorithm::EdDSA => (Algorithm::EdDSA, Family::Ed25519),
    }
}

fn wrong_kind(algorithm: &'static str, family: Family) -> JwtKeyError {
    let needs = match family {
        Family::Hmac { .. } => "a shared secret",
        Family::Rsa(_) => "an RSA private key",
        Family::Ec(Curve::P256) => "an EC private key on curve P-256",
        Family::Ec(Curve::P384) => "an EC private key on curve P-384",
        Family::Ed25519 => "an Ed25519 private key",
    };
    JwtKeyError::WrongKind { algorithm, needs }
}

/// A private key read from PEM, in the DER form jsonwebtoken takes for its kind.
enum PrivateKey {
    /// PKCS#1 `RSAPrivateKey`.
    Rsa {
        pkcs1: Zeroizing<Vec<u8>>,
        modulus_bits: usize,
        /// NIST SP 800-56B and FIPS 186 ask for e ≥ 65537, and ring signs with no less.
        exponent_below_65537: bool,
    },
    /// PKCS#8 of an EC key; `curve` is `None` on a curve jsonwebtoken does not sign with.
    Ec {
        curve: Option<Curve>,
        pkcs8: Zeroizing<Vec<u8>>,
    },
    /// PKCS#8 of an Ed25519 key.
    Ed25519 { pkcs8: Zeroizing<Vec<u8>> },
    /// A well-formed PKCS#8 key of another algorithm (Ed448, X25519, DSA, RSA-PSS...).
    Other,
}

/// A PEM block, its content already under `Zeroizing`.
struct Block {
    label: String,
    /// RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) mark a legacy encrypted key.
    encrypted: bool,
    der: Zeroizing<Vec<u8>>,
}

fn read_private_key(text: &str) -> Result<PrivateKey, JwtKeyError> {
    let blocks = pem::parse_many(text)
        .map_err(|_| JwtKeyError::Unreadable("its PEM framing or base64 is broken"))?;
    let mut blocks = blocks
        .into_iter()
        .map(|block| Block {
            label: block.tag().to_owned(),
            encrypted: block.headers().get("Proc-Type").is_some()
                || block.headers().get("DEK-Info").is_some(),
            der: Zeroizing::new(block.into_contents()),
        })
        // `openssl ecparam -genkey` writes the curve before the key; the key names it too.
        .filter(|block| block.label != "EC PARAMETERS");
    let block = blocks
        .next()
        .ok_or(JwtKeyError::Unreadable("no PEM block was found"))?;
    if blocks.next().is_some() {
        return Err(JwtKeyError::Unreadable("it holds more than one PEM block"));
    }
    if block.encrypted {
        return Err(encrypted());
    }
    match block.label.as_str() {
        "PRIVATE KEY" => read_pkcs8(block.der),
        "RSA PRIVATE KEY" => read_pkcs1(block.der),
        "EC PRIVATE KEY" => read_sec1(&block.der),
        "ENCRYPTED PRIVATE KEY" => Err(encrypted()),
        "PUBLIC KEY" | "RSA PUBLIC KEY" | "EC PUBLIC KEY" => Err(JwtKeyError::Unreadable(
            "it is a public key; signing needs the private key",
        )),
        "CERTIFICATE" | "TRUSTED CERTIFICATE" | "X509 CERTIFICATE" => Err(JwtKeyError::Unreadable(
            "it is a certificate; signing needs the private key",
        )),
        "OPENSSH PRIVATE KEY" => Err(JwtKeyError::Unreadable(
            "the OpenSSH key format is not supported; convert the key to PKCS#8",
        )),
        _ => Err(JwtKeyError::Unreadable(
            "its PEM label is not PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY",
        )),
    }
}

const fn encrypted() -> JwtKeyError {
    JwtKeyError::Unreadable("it is encrypted; give the key unencrypted")
}

/// A PKCS#8 `PrivateKeyInfo` (RFC 5958), told apart by its algorithm.
fn read_pkcs8(der: Zeroizing<Vec<u8>>) -> Result<PrivateKey, JwtKeyError> {
    let info = PrivateKeyInfo::from_der(&der)
        .map_err(|_| JwtKeyError::Unreadable("it is not a well-formed PKCS#8 key"))?;
    let oid = info.algorithm.oid;
    if oid == RSA_ENCRYPTION {
        // jsonwebtoken signs with the PKCS#1 key inside.
        return read_pkcs1(Zeroizing::new(info.private_key.to_vec()));
    }
    if oid == EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| JwtKeyError::Unreadable("its EC curve is not named"))?;
        return Ok(PrivateKey::Ec {
            curve: curve_of(curve),
            pkcs8: der,
        });
    }
    if oid == ED25519 {
        return Ok(PrivateKey::Ed25519 { pkcs8: der });
    }
    Ok(PrivateKey::Other)
}

/// A PKCS#1 `RSAPrivateKey` (RFC 8017). Reading the structure is cheap (no arithmetic);
/// whether its numbers make up a key is left to signing.
fn read_pkcs1(der: Zeroizing<Vec<u8>>) -> Result<PrivateKey, JwtKeyError> {
    let key = pkcs1::RsaPrivateKey::from_der(&der)
        .map_err(|_| JwtKeyError::Unreadable("it is not a well-formed RSA key"))?;
    let modulus_bits = bit_length(key.modulus.as_bytes());
    // 65537 = 2^16 + 1: any exponent of more than 17 bits is larger, and of 17 bits, only
    // 65536 (even, never a valid exponent) is smaller.
    let exponent = key.public_exponent.as_bytes();
    let exponent_below_65537 = match bit_length(exponent) {
        bits if bits < 17 => true,
        17 => exponent.iter().fold(0_u32, |n, b| (n << 8) | u32::from(*b)) < 65537,
        _ => false,
    };
    Ok(PrivateKey::Rsa {
        pkcs1: der,
        modulus_bits,
        exponent_below_65537,
    })
}

/// A SEC1 `ECPrivateKey` (RFC 5915). jsonwebtoken reads EC keys from PKCS#8 only, so the
/// SEC1 structure is wrapped, unchanged, in a `PrivateKeyInfo` naming its curve: the form
/// `openssl pkcs8 -topk8` would give.
fn read_sec1(der: &[u8]) -> Result<PrivateKey, JwtKeyError> {
    let key = sec1::EcPrivateKey::from_der(der)
        .map_err(|_| JwtKeyError::Unreadable("it is not a well-formed EC key"))?;
    let curve = key
        .parameters
        .and_then(sec1::EcParameters::named_curve)
        .ok_or(JwtKeyError::Unreadable("its EC curve is not named"))?;
    let info = PrivateKeyInfo::new(
        AlgorithmIdentifierRef {
            oid: EC_PUBLIC_KEY,
            parameters: Some(AnyRef::from(&curve)),
        },
        der,
    );
    let pkcs8 = SecretDocument::encode_msg(&info)
        .map_err(|_| JwtKeyError::Unreadable("it is not a well-formed EC key"))?;
    Ok(PrivateKey::Ec {
        curve: curve_of(curve),
        pkcs8: Zeroizing::new(pkcs8.as_bytes().to_vec()),
    })
}

fn curve_of(oid: ObjectIdentifier) -> Option<Curve> {
    if oid == SECP256R1 {
        Some(Curve::P256)
    } else if oid == SECP384R1 {
        Some(Curve::P384)
    } else {
        None
    }
}

/// The bit length of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    let mut bytes = bytes;
    while let [0, rest @ ..] = bytes {
        bytes = rest;
    }
    match bytes.first() {
        None => 0,
        Some(first) => bytes.len() * 8 - first.leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_from_the_highest_set_bit() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80]), 8);
        assert_eq!(bit_length(&[0, 0x7f, 0xff]), 15);
        let mut modulus = vec![0x80; 256];
        assert_eq!(bit_length(&modulus), 2048);
        modulus[0] = 0x7f;
        assert_eq!(bit_length(&modulus), 2047);
    }

    #[test]
    fn every_algorithm_maps_to_the_jsonwebtoken_algorithm_of_the_same_name() {
        for algorithm in JwtAlgorithm::ALL {
            let (jwt_algorithm, _) = family(algorithm);
            assert_eq!(format!("{jwt_algorithm:?}"), algorithm.as_str());
        }
    }

    #[test]
    fn a_sec1_key_is_rewrapped_as_the_pkcs8_key_openssl_writes() {
        // Both files hold the same key; openssl's PKCS#8 drops the curve from the inner
        // SEC1 structure, ours keeps it, so compare what both decode to.
        let sec1 = pem::parse(include_str!("../tests/keys/ec-p256.sec1.pem"))
            .expect("fixture is PEM")
            .into_contents();
        let PrivateKey::Ec {
            curve: Some(Curve::P256),
            pkcs8,
        } = read_sec1(&sec1).expect("fixture is a SEC1 key")
        else {
            panic!("a P-256 key expected");
        };
        let ours = PrivateKeyInfo::from_der(&pkcs8).expect("well-formed PKCS#8");
        let theirs_der = pem::parse(include_str!("../tests/keys/ec-p256.pkcs8.pem"))
            .expect("fixture is PEM")
            .into_contents();
        let theirs = PrivateKeyInfo::from_der(&theirs_der).expect("well-formed PKCS#8");
        assert_eq!(ours.algorithm, theirs.algorithm);
        let scalar = |der: &[u8]| {
            sec1::EcPrivateKey::from_der(der)
                .expect("SEC1 inside")
                .private_key
                .to_vec()
        };
        assert_eq!(scalar(ours.private_key), scalar(theirs.private_key));
    }
}
