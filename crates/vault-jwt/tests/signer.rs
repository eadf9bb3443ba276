//! `JsonWebTokenSigner`: every algorithm signs a token that jsonwebtoken verifies with the
//! public key (or the secret); `check_key` refuses keys of the wrong kind, unreadable keys and
//! weak keys with the right variant, agrees with `sign` on every key, and no error quotes key
//! material. The keys are test-only fixtures under `tests/keys/` (see its README).

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pkcs1::der::Decode as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value, json};
use vault_core::credential::JwtAlgorithm;
use vault_core::jwt::{JwtKeyError, JwtSigner as _};
use vault_jwt::JsonWebTokenSigner;

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://api.example";
const SUBJECT: &str = "client-42";

/// Every private-key fixture.
const PRIVATE_KEYS: [&str; 14] = [
    "rsa2048.pkcs8.pem",
    "rsa2048.pkcs1.pem",
    "rsa4096.pkcs8.pem",
    "rsa1024.pkcs8.pem",
    "rsa6144.pkcs8.pem",
    "rsa2048-e3.pkcs8.pem",
    "ec-p256.pkcs8.pem",
    "ec-p256.sec1.pem",
    "ec-p256.encrypted.pem",
    "ec-p384.pkcs8.pem",
    "ec-p384.sec1.pem",
    "ec-p521.pkcs8.pem",
    "ed25519.pkcs8.pem",
    // A public key where a private key belongs.
    "rsa2048.pub.pem",
];

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

/// An HMAC secret of exactly `len` bytes, recognizable in any output that leaked it.
fn hmac_secret(len: usize) -> String {
    "hmac-test-secret-"
        .chars()
        .chain(('a'..='z').cycle())
        .take(len)
        .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn claims() -> Map<String, Value> {
    let now = now();
    let Value::Object(claims) = json!({
        "iss": ISSUER,
        "sub": SUBJECT,
        "aud": AUDIENCE,
        "tenant": "acme",
        "scopes": ["read", "write"],
        "ctx": {"region": "eu-west-1", "tier": 3, "beta": true},
        "iat": now,
        "exp": now + 300,
        "jti": "0190f5c2-7c1e-7d3a-9b1e-4f2a6c8d0e11",
    }) else {
        unreachable!("a JSON object literal");
    };
    claims
}

fn jwt_algorithm(algorithm: JwtAlgorithm) -> Algorithm {
    algorithm
        .as_str()
        .parse()
        .expect("jsonwebtoken knows every algorithm the vault has")
}

/// How an algorithm's tokens are signed and verified in these tests.
struct Case {
    algorithm: JwtAlgorithm,
    /// The fixture file, or `None` for an HMAC secret.
    file: Option<&'static str>,
    key: SecretString,
    verify: DecodingKey,
}

fn hmac_case(algorithm: JwtAlgorithm, len: usize) -> Case {
    let text = hmac_secret(len);
    Case {
        algorithm,
        file: None,
        verify: DecodingKey::from_secret(text.as_bytes()),
        key: secret(&text),
    }
}

fn pem_case(algorithm: JwtAlgorithm, file: &'static str, public: &str) -> Case {
    let public = fixture(public);
    let verify = match algorithm {
        JwtAlgorithm::ES256 | JwtAlgorithm::ES384 => DecodingKey::from_ec_pem(public.as_bytes()),
        JwtAlgorithm::EdDSA => DecodingKey::from_ed_pem(public.as_bytes()),
        _ => DecodingKey::from_rsa_pem(public.as_bytes()),
    }
    .expect("public fixture reads");
    Case {
        algorithm,
        file: Some(file),
        key: secret(&fixture(file)),
        verify,
    }
}

/// Every algorithm, with every key format it takes.
fn cases() -> Vec<Case> {
    use JwtAlgorithm::{
        ES256, ES384, EdDSA, HS256, HS384, HS512, PS256, PS384, PS512, RS256, RS384, RS512,
    };
    let mut cases = vec![
        hmac_case(HS256, 32),
        hmac_case(HS384, 48),
        hmac_case(HS512, 64),
    ];
    for algorithm in [RS256, RS384, RS512, PS256, PS384, PS512] {
        for file in ["rsa2048.pkcs8.pem", "rsa2048.pkcs1.pem"] {
            cases.push(pem_case(algorithm, file, "rsa2048.pub.pem"));
        }
        cases.push(pem_case(algorithm, "rsa4096.pkcs8.pem", "rsa4096.pub.pem"));
    }
    for file in ["ec-p256.pkcs8.pem", "ec-p256.sec1.pem"] {
        cases.push(pem_case(ES256, file, "ec-p256.pub.pem"));
    }
    for file in ["ec-p384.pkcs8.pem", "ec-p384.sec1.pem"] {
        cases.push(pem_case(ES384, file, "ec-p384.pub.pem"));
    }
    cases.push(pem_case(EdDSA, "ed25519.pkcs8.pem", "ed25519.pub.pem"));
    cases
}

fn validation(algorithm: JwtAlgorithm) -> Validation {
    let mut validation = Validation::new(jwt_algorithm(algorithm));
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.sub = Some(SUBJECT.to_owned());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation
}

#[test]
fn every_algorithm_signs_a_token_that_verifies_with_the_public_key() {
    let signer = JsonWebTokenSigner::new();
    let claims = claims();
    let cases = cases();
    let covered: BTreeSet<&str> = cases.iter().map(|c| c.algorithm.as_str()).collect();
    let all: BTreeSet<&str> = JwtAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(covered, all, "every algorithm is tested");

    for case in &cases {
        let what = format!("{} with {:?}", case.algorithm.as_str(), case.file);
        signer
            .check_key(case.algorithm, &case.key)
            .unwrap_or_else(|error| panic!("{what}: check_key: {error}"));
        let token = signer
            .sign(case.algorithm, &case.key, &claims)
            .unwrap_or_else(|error| panic!("{what}: sign: {error}"));
        let token = token.expose_secret();

        let header = jsonwebtoken::decode_header(token).expect("header decodes");
        assert_eq!(header.alg, jwt_algorithm(case.algorithm), "{what}");
        assert_eq!(header.typ.as_deref(), Some("JWT"), "{what}");

        let decoded = jsonwebtoken::decode::<Map<String, Value>>(
            token,
            &case.verify,
            &validation(case.algorithm),
        )
        .unwrap_or_else(|error| panic!("{what}: verify: {error}"));
        assert_eq!(decoded.header.alg, jwt_algorithm(case.algorithm), "{what}");
        assert_eq!(decoded.claims, claims, "{what}: claims signed as given");
    }
}

#[test]
fn a_key_id_is_the_headers_kid_and_only_then() {
    let signer = JsonWebTokenSigner::new();
    let key = fixture("rsa2048.pkcs8.pem");
    for (key_id, algorithm) in [
        (Some("k-1"), JwtAlgorithm::RS256),
        (None, JwtAlgorithm::RS256),
        (Some("h-1"), JwtAlgorithm::HS256),
    ] {
        let key = if algorithm == JwtAlgorithm::HS256 {
            secret(&hmac_secret(32))
        } else {
            secret(&key)
        };
        let token = signer
            .sign_with_key_id(algorithm, &key, key_id, &claims())
            .expect("signs");
        let header = jsonwebtoken::decode_header(token.expose_secret()).expect("a header");
        assert_eq!(header.kid.as_deref(), key_id);
    }
}

#[test]
fn a_token_does_not_verify_under_another_key_or_once_altered() {
    let signer = JsonWebTokenSigner::new();
    let claims = claims();

    let token = signer
        .sign(JwtAlgorithm::HS256, &secret(&hmac_secret(32)), &claims)
        .expect("signs");
    let other = DecodingKey::from_secret(hmac_secret(33).as_bytes());
    assert!(
        jsonwebtoken::decode::<Map<String, Value>>(
            token.expose_secret(),
            &other,
            &validation(JwtAlgorithm::HS256)
        )
        .is_err()
    );

    let token = signer
        .sign(
            JwtAlgorithm::ES256,
            &secret(&fixture("ec-p256.pkcs8.pem")),
            &claims,
        )
        .expect("signs");
    let public = DecodingKey::from_ec_pem(fixture("ec-p256.pub.pem").as_bytes()).expect("reads");
    let mut parts: Vec<&str> = token.expose_secret().split('.').collect();
    let altered = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&json!({"sub": "someone-else"})).expect("serializes"));
    parts[1] = &altered;
    assert!(
        jsonwebtoken::decode::<Map<String, Value>>(
            parts.join("."),
            &public,
            &validation(JwtAlgorithm::ES256)
        )
        .is_err()
    );
}

#[test]
fn claims_are_encoded_as_given_even_without_registered_claims() {
    let signer = JsonWebTokenSigner::new();
    let mut claims = Map::new();
    claims.insert("only".to_owned(), json!("this"));
    let token = signer
        .sign(
            JwtAlgorithm::EdDSA,
            &secret(&fixture("ed25519.pkcs8.pem")),
            &claims,
        )
        .expect("signs");
    let public = DecodingKey::from_ed_pem(fixture("ed25519.pub.pem").as_bytes()).expect("reads");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_required_spec_claims::<&str>(&[]);
    validation.validate_exp = false;
    let decoded =
        jsonwebtoken::decode::<Map<String, Value>>(token.expose_secret(), &public, &validation)
            .expect("verifies");
    assert_eq!(decoded.claims, claims);
}

// --- refusals -----------------------------------------------------------------------------

/// Asserts `check_key` and `sign` both refuse `key` for `algorithm`, and returns the error.
fn refused(algorithm: JwtAlgorithm, key: &str) -> JwtKeyError {
    let signer = JsonWebTokenSigner::new();
    let key = secret(key);
    let checked = signer
        .check_key(algorithm, &key)
        .expect_err("check_key refuses");
    let signed = signer
        .sign(algorithm, &key, &claims())
        .expect_err("sign refuses too");
    assert_eq!(checked.to_string(), signed.to_string());
    checked
}

#[test]
fn a_key_of_the_wrong_kind_is_refused_naming_what_the_algorithm_needs() {
    use JwtAlgorithm::{ES256, ES384, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512};
    const RSA: &str = "an RSA private key";
    const P256: &str = "an EC private key on curve P-256";
    const P384: &str = "an EC private key on curve P-384";
    const ED25519: &str = "an Ed25519 private key";
    let cases = [
        // EC keys on the wrong curve.
        (ES256, "ec-p384.pkcs8.pem", P256),
        (ES256, "ec-p384.sec1.pem", P256),
        (ES256, "ec-p521.pkcs8.pem", P256),
        (ES384, "ec-p256.pkcs8.pem", P384),
        (ES384, "ec-p256.sec1.pem", P384),
        (ES384, "ec-p521.pkcs8.pem", P384),
        // Keys of other families for EC.
        (ES256, "rsa2048.pkcs8.pem", P256),
        (ES256, "rsa2048.pkcs1.pem", P256),
        (ES256, "ed25519.pkcs8.pem", P256),
        (ES384, "rsa2048.pkcs1.pem", P384),
        // ... for RSA.
        (RS256, "ec-p256.pkcs8.pem", RSA),
        (RS256, "ec-p256.sec1.pem", RSA),
        (RS384, "ec-p384.sec1.pem", RSA),
        (PS256, "ec-p384.pkcs8.pem", RSA),
        (RS256, "ed25519.pkcs8.pem", RSA),
        (RS512, "ed25519.pkcs8.pem", RSA),
        (PS384, "ed25519.pkcs8.pem", RSA),
        (PS512, "ec-p521.pkcs8.pem", RSA),
        // ... for EdDSA.
        (EdDSA, "rsa2048.pkcs8.pem", ED25519),
        (EdDSA, "rsa2048.pkcs1.pem", ED25519),
        (EdDSA, "ec-p256.pkcs8.pem", ED25519),
        (EdDSA, "ec-p256.sec1.pem", ED25519),
    ];
    for (algorithm, file, expected) in cases {
        match refused(algorithm, &fixture(file)) {
            JwtKeyError::WrongKind {
                algorithm: name,
                needs,
            } => {
                assert_eq!(name, algorithm.as_str(), "{file}");
                assert_eq!(needs, expected, "{} with {file}", algorithm.as_str());
            }
            other => panic!("{} with {file}: {other:?}", algorithm.as_str()),
        }
    }
}

/// The body of a fixture, decoded.
fn der_of(file: &str) -> Vec<u8> {
    pem_body(&fixture(file))
}

fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).expect("fixture body is base64")
}

fn armour(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn assert_unreadable(algorithm: JwtAlgorithm, key: &str, what: &str) {
    match refused(algorithm, key) {
        JwtKeyError::Unreadable(_) => {}
        other => panic!("{} with {what}: {other:?}", algorithm.as_str()),
    }
}

#[test]
fn an_unreadable_key_is_refused() {
    use JwtAlgorithm::{ES256, ES384, EdDSA, PS256, RS256, RS512};
    let rsa_body = der_of("rsa2048.pkcs1.pem");
    let mut truncated_pkcs8 = der_of("rsa2048.pkcs8.pem");
    truncated_pkcs8.truncate(truncated_pkcs8.len() / 2);
    let two_keys = fixture("ec-p256.pkcs8.pem") + &fixture("ec-p256.sec1.pem");
    let legacy_encrypted = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
         DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n{}\n\
         -----END RSA PRIVATE KEY-----\n",
        STANDARD.encode(&rsa_body)
    );
    let no_end = fixture("ed25519.pkcs8.pem").replace("-----END PRIVATE KEY-----", "");
    let cases: Vec<(JwtAlgorithm, String, &str)> = vec![
        (RS256, String::new(), "an empty key"),
        (RS256, "not a key at all".to_owned(), "plain text"),
        (ES256, "not a key at all".to_owned(), "plain text"),
        (ES384, "not a key at all".to_owned(), "plain text"),
        (EdDSA, "not a key at all".to_owned(), "plain text"),
        (
            ES256,
            STANDARD.encode(der_of("ec-p256.pkcs8.pem")),
            "base64 DER without PEM armour",
        ),
        (RS256, fixture("rsa2048.pub.pem"), "an RSA public key"),
        (
            PS256,
            fixture("rsa2048.pkcs1.pub.pem"),
            "a PKCS#1 RSA public key",
        ),
        (RS512, fixture("rsa1024.pub.pem"), "a weak RSA public key"),
        (ES256, fixture("ec-p256.pub.pem"), "an EC public key"),
        (ES384, fixture("ec-p384.pub.pem"), "a P-384 public key"),
        (EdDSA, fixture("ed25519.pub.pem"), "an Ed25519 public key"),
        (
            RS256,
            fixture("rsa2048.pub.pem").replace("PUBLIC KEY", "CERTIFICATE"),
            "a certificate",
        ),
        (
            ES256,
            fixture("ec-p256.encrypted.pem"),
            "an encrypted PKCS#8 key",
        ),
        (RS256, legacy_encrypted, "a legacy encrypted PKCS#1 key"),
        (
            RS256,
            armour("PRIVATE KEY", b"hello world"),
            "a PKCS#8 label on junk",
        ),
        (
            RS256,
            armour("RSA PRIVATE KEY", b"hello world"),
            "a PKCS#1 label on junk",
        ),
        (
            ES256,
            armour("EC PRIVATE KEY", b"hello world"),
            "a SEC1 label on junk",
        ),
        (
            EdDSA,
            armour("PRIVATE KEY", b"hello world"),
            "a PKCS#8 label on junk",
        ),
        (
            RS256,
            armour("PRIVATE KEY", &truncated_pkcs8),
            "a truncated key",
        ),
        (
            RS256,
            armour("EC PRIVATE KEY", &rsa_body),
            "an RSA key labelled SEC1",
        ),
        (
            ES256,
            armour("RSA PRIVATE KEY", &der_of("ec-p256.sec1.pem")),
            "an EC key labelled PKCS#1",
        ),
        (
            RS256,
            armour("DSA PRIVATE KEY", &rsa_body),
            "an unknown label",
        ),
        (
            EdDSA,
            armour("OPENSSH PRIVATE KEY", b"openssh-key-v1"),
            "an OpenSSH key",
        ),
        (
            RS256,
            "-----BEGIN PRIVATE KEY-----\n!!!! not base64 !!!!\n-----END PRIVATE KEY-----\n"
                .to_owned(),
            "broken base64",
        ),
        (ES256, two_keys, "two keys"),
        (EdDSA, no_end, "a PEM block without its end line"),
    ];
    for (algorithm, key, what) in &cases {
        assert_unreadable(*algorithm, key, what);
    }
}

#[test]
fn a_well_formed_key_whose_numbers_do_not_make_a_key_is_refused() {
    // RSA: change a byte of a prime, then of a CRT exponent. The structure still parses
    // (and the modulus is 2048 bits), but p * q is no longer n (found when the key is
    // read), or dP no longer gives signatures that verify (found when signing: the signer
    // checks each signature before letting it out).
    let pkcs1 = der_of("rsa2048.pkcs1.pem");
    let (p, dp) = {
        let key = pkcs1::RsaPrivateKey::from_der(&pkcs1).expect("fixture is PKCS#1");
        (
            key.prime1.as_bytes().to_vec(),
            key.exponent1.as_bytes().to_vec(),
        )
    };
    for (what, value) in [("RSA with a bad p", p), ("RSA with a bad dP", dp)] {
        let at = pkcs1
            .windows(value.len())
            .position(|w| w == value.as_slice())
            .expect("the value is in the DER");
        let mut broken = pkcs1.clone();
        broken[at + 100] ^= 0x01;
        for algorithm in [JwtAlgorithm::RS256, JwtAlgorithm::PS512] {
            assert_unreadable(algorithm, &armour("RSA PRIVATE KEY", &broken), what);
        }
    }

    // EC: change a byte of the private scalar; it no longer matches the public key inside.
    let mut sec1 = der_of("ec-p256.sec1.pem");
    // SEQUENCE, INTEGER 1, then OCTET STRING (0x04 0x20) of the 32-byte scalar.
    assert_eq!(sec1[5..7], [0x04, 0x20]);
    sec1[7 + 10] ^= 0x01;
    assert_unreadable(
        JwtAlgorithm::ES256,
        &armour("EC PRIVATE KEY", &sec1),
        "EC with a bad scalar",
    );
}

#[test]
fn a_weak_key_is_refused_as_too_weak() {
    use JwtAlgorithm::{HS256, HS384, HS512, PS256, PS384, PS512, RS256, RS384, RS512};
    for algorithm in [RS256, RS384, RS512, PS256, PS384, PS512] {
        match refused(algorithm, &fixture("rsa1024.pkcs8.pem")) {
            JwtKeyError::TooWeak {
                algorithm: name,
                reason,
            } => {
                assert_eq!(name, algorithm.as_str());
                assert!(reason.contains("2048 bits"), "{reason}");
            }
            other => panic!("{}: {other:?}", algorithm.as_str()),
        }
    }
    // RFC 7518 §3.2: at least the hash output's length, in bytes of UTF-8.
    for (algorithm, min) in [(HS256, 32), (HS384, 48), (HS512, 64)] {
        for len in [0, 1, min - 1] {
            match refused(algorithm, &hmac_secret(len)) {
                JwtKeyError::TooWeak {
                    algorithm: name,
                    reason,
                } => {
                    assert_eq!(name, algorithm.as_str());
                    assert!(reason.contains(&format!("{min} bytes")), "{reason}");
                }
                other => panic!("{} with {len} bytes: {other:?}", algorithm.as_str()),
            }
        }
        let signer = JsonWebTokenSigner::new();
        signer
            .check_key(algorithm, &secret(&hmac_secret(min)))
            .expect("exactly the minimum is enough");
        // Bytes, not characters: 16 two-byte characters are 32 bytes.
        let wide = "é".repeat(min / 2);
        signer
            .check_key(algorithm, &secret(&wide))
            .expect("counted in bytes");
        assert!(matches!(
            signer.check_key(algorithm, &secret(&"é".repeat(min / 2 - 1))),
            Err(JwtKeyError::TooWeak { .. })
        ));
    }
}

#[test]
fn an_rsa_key_over_4096_bits_or_with_a_small_exponent_is_refused() {
    use JwtAlgorithm::{PS256, RS512};
    for algorithm in [RS512, PS256] {
        match refused(algorithm, &fixture("rsa6144.pkcs8.pem")) {
            JwtKeyError::WrongKind { needs, .. } => {
                assert!(needs.contains("2048 to 4096 bits"), "{needs}");
            }
            other => panic!("{}: {other:?}", algorithm.as_str()),
        }
        // e = 3: NIST SP 800-56B and FIPS 186 ask for at least 65537.
        match refused(algorithm, &fixture("rsa2048-e3.pkcs8.pem")) {
            JwtKeyError::TooWeak { reason, .. } => {
                assert!(reason.contains("65537"), "{reason}");
            }
            other => panic!("{}: {other:?}", algorithm.as_str()),
        }
    }
}

#[test]
fn an_ec_key_after_its_curve_parameters_is_read() {
    // What `openssl ecparam -name prime256v1 -genkey` writes: the curve, then the key.
    let key = format!(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
        fixture("ec-p256.sec1.pem")
    );
    let signer = JsonWebTokenSigner::new();
    signer
        .check_key(JwtAlgorithm::ES256, &secret(&key))
        .expect("reads");
    signer
        .sign(JwtAlgorithm::ES256, &secret(&key), &claims())
        .expect("signs");
}

#[test]
fn a_key_with_crlf_line_ends_or_surrounding_blank_lines_is_read() {
    let signer = JsonWebTokenSigner::new();
    for file in [
        "rsa2048.pkcs1.pem",
        "ec-p384.pkcs8.pem",
        "ed25519.pkcs8.pem",
    ] {
        let algorithm = match file {
            "rsa2048.pkcs1.pem" => JwtAlgorithm::RS256,
            "ec-p384.pkcs8.pem" => JwtAlgorithm::ES384,
            _ => JwtAlgorithm::EdDSA,
        };
        let crlf = fixture(file).replace('\n', "\r\n");
        signer
            .check_key(algorithm, &secret(&crlf))
            .unwrap_or_else(|error| panic!("{file} with CRLF: {error}"));
        let padded = format!("\n\n  {}  \n", fixture(file));
        signer
            .check_key(algorithm, &secret(&padded))
            .unwrap_or_else(|error| panic!("{file} padded: {error}"));
    }
}

// --- agreement and secrecy ----------------------------------------------------------------

/// Every fixture and a range of HMAC secrets, under every algorithm.
fn every_key() -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = PRIVATE_KEYS
        .iter()
        .map(|file| ((*file).to_owned(), fixture(file)))
        .collect();
    for len in [0, 31, 32, 48, 63, 64, 100] {
        keys.push((format!("a {len}-byte secret"), hmac_secret(len)));
    }
    keys.push(("garbage".to_owned(), "-----BEGIN garbage".to_owned()));
    keys
}

#[test]
fn check_key_accepts_exactly_the_keys_sign_signs_with() {
    let signer = JsonWebTokenSigner::new();
    let claims = claims();
    let mut accepted = 0;
    for algorithm in JwtAlgorithm::ALL {
        for (what, text) in every_key() {
            let key = secret(&text);
            let checked = signer.check_key(algorithm, &key);
            let signed = signer.sign(algorithm, &key, &claims);
            match (&checked, &signed) {
                (Ok(()), Ok(_)) => accepted += 1,
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!(
                    "{} with {what}: check_key {checked:?}, sign {:?}",
                    algorithm.as_str(),
                    signed.map(drop)
                ),
            }
        }
    }
    // Of the secrets (0, 31, 32, 48, 63, 64, 100 bytes) HS256 takes 5, HS384 4, HS512 2;
    // to an HMAC algorithm every PEM fixture is just a long secret (all are over 64 bytes),
    // and the 18-byte "garbage" is too short. Six RSA algorithms take 3 keys each (2048
    // bits twice, 4096 bits); ES256 2; ES384 2; EdDSA 1.
    assert_eq!(
        accepted,
        5 + 4 + 2 + 3 * PRIVATE_KEYS.len() + 6 * 3 + 2 + 2 + 1
    );
}

/// The lines of a PEM body, and the HMAC secret, must appear in no error.
fn secret_fragments(text: &str) -> Vec<String> {
    if text.contains("-----BEGIN") {
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("-----"))
            .map(str::to_owned)
            .collect()
    } else if text.is_empty() {
        vec![]
    } else {
        vec![text.to_owned()]
    }
}

#[test]
fn no_error_quotes_the_key() {
    let signer = JsonWebTokenSigner::new();
    let claims = claims();
    let mut errors = 0;
    for algorithm in JwtAlgorithm::ALL {
        for (what, text) in every_key() {
            let key = secret(&text);
            let outcomes = [
                signer.check_key(algorithm, &key).err(),
                signer.sign(algorithm, &key, &claims).err(),
            ];
            for error in outcomes.into_iter().flatten() {
                errors += 1;
                let shown = format!("{error} / {error:?}");
                for fragment in secret_fragments(&text) {
                    assert!(
                        !shown.contains(&fragment),
                        "{} with {what}: {shown}",
                        algorithm.as_str()
                    );
                }
                // Nor does any source in the chain.
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    let shown = format!("{cause} / {cause:?}");
                    for fragment in secret_fragments(&text) {
                        assert!(!shown.contains(&fragment), "{what}: {shown}");
                    }
                    source = cause.source();
                }
            }
        }
    }
    assert!(errors > 100, "the matrix produced errors to inspect");
}

#[test]
fn the_signer_debug_output_is_plain() {
    let signer = JsonWebTokenSigner::new();
    assert_eq!(format!("{signer:?}"), "JsonWebTokenSigner");
}
