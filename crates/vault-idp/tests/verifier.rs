//! The verifier against tokens these tests sign as the identity provider would: every
//! accepted form, and every refusal with its code (expired, not yet valid, wrong issuer,
//! audience or key, `alg: none`, algorithm confusion, unknown kid, bad claims), what a
//! refusal may carry, and configurations refused at start-up.

use std::collections::BTreeSet;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use vault_core::identity::{IdentityError, IdentityRefusal, IdentityVerifier as _};
use vault_core::{OrganizationId, Scope};
use vault_idp::{ClaimNames, IdpConfig, IdpConfigError, JwtIdentityVerifier};

const ISSUER: &str = "https://login.example.com/";
const AUDIENCE: &str = "vault";
const SECRET: &str = "an HS256 secret of at least 32 bytes, for the tests only";
const NOW: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/idp")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

fn config() -> IdpConfig {
    let mut config = IdpConfig::new(ISSUER, AUDIENCE);
    config.hs256_secrets = vec![SecretString::from(SECRET.to_owned())];
    config.public_key_files = vec![fixture("rsa.pub.pem")];
    config.jwks_file = Some(fixture("jwks.json"));
    config
}

fn verifier() -> JwtIdentityVerifier {
    JwtIdentityVerifier::new(&config()).expect("the test configuration is valid")
}

fn at(offset: i64) -> i64 {
    NOW.unix_timestamp() + offset
}

fn claims(org: OrganizationId) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice@example.com",
        "org": org.to_string(),
        "scope": "credentials:read openid profile",
        "iat": at(-60),
        "exp": at(300),
    })
}

/// The keys of the tests' identity provider (and of an impostor).
enum Key<'a> {
    /// An HMAC secret.
    Secret(&'a str),
    /// A private key fixture.
    Pem(&'static str),
}

fn sign(algorithm: Algorithm, key: &Key<'_>, kid: Option<&str>, claims: &Value) -> String {
    let key = match key {
        Key::Secret(secret) => EncodingKey::from_secret(secret.as_bytes()),
        Key::Pem(name) if algorithm == Algorithm::ES256 => {
            EncodingKey::from_ec_pem(&read(name)).expect("EC fixture")
        }
        Key::Pem(name) => EncodingKey::from_rsa_pem(&read(name)).expect("RSA fixture"),
    };
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).expect("signed")
}

fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, &Key::Secret(SECRET), None, claims)
}

/// A token with any header, and a signature that is whatever the caller says.
fn hand_built(header: &Value, claims: &Value, signature: &str) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
    format!("{}.{}.{signature}", part(header), part(claims))
}

fn refused(token: &str) -> IdentityRefusal {
    verifier()
        .verify(token, NOW)
        .expect_err("the token must be refused")
}

fn code(token: &str) -> &'static str {
    refused(token).error.code()
}

#[test]
fn tokens_of_each_algorithm_verify_with_their_keys() {
    let org = OrganizationId::new();
    let claims = claims(org);
    let tokens = [
        ("HS256 secret", hs256(&claims)),
        (
            "RS256 PEM file",
            sign(Algorithm::RS256, &Key::Pem("rsa.pem"), None, &claims),
        ),
        (
            "ES256 JWKS kid",
            sign(Algorithm::ES256, &Key::Pem("ec.pem"), Some("ec-1"), &claims),
        ),
        (
            "RS256 JWKS kid",
            sign(
                Algorithm::RS256,
                &Key::Pem("jwks-rsa.pem"),
                Some("rsa-1"),
                &claims,
            ),
        ),
    ];
    let verifier = verifier();
    for (what, token) in tokens {
        let identity = verifier
            .verify(&token, NOW)
            .unwrap_or_else(|refusal| panic!("{what}: {}", refusal.error.code()));
        assert_eq!(identity.organization_id(), org, "{what}");
        assert_eq!(identity.subject(), "alice@example.com", "{what}");
        assert_eq!(
            identity.scopes(),
            &BTreeSet::from([Scope::CredentialsRead]),
            "{what}: only vault scopes count"
        );
    }
}

#[test]
fn pkcs1_and_ec_pem_files_verify_too() {
    let mut config = IdpConfig::new(ISSUER, AUDIENCE);
    config.public_key_files = vec![fixture("rsa.pkcs1.pub.pem"), fixture("ec.pub.pem")];
    let verifier = JwtIdentityVerifier::new(&config).expect("PEM keys");
    let org = OrganizationId::new();
    for (algorithm, key) in [(Algorithm::RS256, "rsa.pem"), (Algorithm::ES256, "ec.pem")] {
        let token = sign(algorithm, &Key::Pem(key), None, &claims(org));
        assert!(verifier.verify(&token, NOW).is_ok(), "{algorithm:?}");
    }
    // Only RS256 and ES256 are configured: an HS256 token has no key.
    let error = verifier
        .verify(&hs256(&claims(org)), NOW)
        .expect_err("no HS256 key");
    assert_eq!(error.error.code(), "unknown-key");
}

#[test]
fn scopes_come_from_a_string_or_an_array_and_only_vault_names_count() {
    let org = OrganizationId::new();
    let verifier = verifier();
    let scopes_of = |scope: Value| {
        let mut claims = claims(org);
        claims["scope"] = scope;
        verifier
            .verify(&hs256(&claims), NOW)
            .map(|i| i.scopes().clone())
    };
    assert_eq!(
        scopes_of(json!("credentials:write  access-keys:manage admin")).expect("string"),
        BTreeSet::from([Scope::CredentialsWrite, Scope::AccessKeysManage])
    );
    assert_eq!(
        scopes_of(json!(["audit:read", "admin", "credentials:use"])).expect("array"),
        BTreeSet::from([Scope::AuditRead, Scope::CredentialsUse])
    );
    assert_eq!(
        scopes_of(json!("openid profile")).expect("no vault scope"),
        BTreeSet::new()
    );
    assert_eq!(scopes_of(Value::Null).expect("null"), BTreeSet::new());
    let mut without = claims(org);
    without.as_object_mut().expect("object").remove("scope");
    assert!(
        verifier
            .verify(&hs256(&without), NOW)
            .expect("no claim")
            .scopes()
            .is_empty()
    );
    for bad in [json!(7), json!(["credentials:read", 7]), json!({"a": 1})] {
        let refusal = scopes_of(bad.clone()).expect_err("a scope claim of another type");
        assert!(
            matches!(&refusal.error, IdentityError::InvalidClaim(c) if c == "scope"),
            "{bad}: {:?}",
            refusal.error
        );
    }
}

#[test]
fn expiry_and_not_before_are_judged_with_the_leeway() {
    let org = OrganizationId::new();
    let with = |name: &str, value: Value| {
        let mut claims = claims(org);
        claims[name] = value;
        hs256(&claims)
    };
    // Leeway 30 s: expired 29 s ago still passes, 30 s ago does not.
    assert!(verifier().verify(&with("exp", json!(at(-29))), NOW).is_ok());
    assert_eq!(code(&with("exp", json!(at(-30)))), "expired-token");
    assert_eq!(code(&with("exp", json!(at(-3600)))), "expired-token");
    // Fractional NumericDates round the strict way.
    assert_eq!(
        code(&with("exp", json!(at(-30) as f64 + 0.9))),
        "expired-token"
    );
    assert!(
        verifier()
            .verify(&with("exp", json!(at(-29) as f64 + 0.5)), NOW)
            .is_ok()
    );
    // Not valid for 30 s more still passes, 31 s does not.
    assert!(verifier().verify(&with("nbf", json!(at(30))), NOW).is_ok());
    assert_eq!(code(&with("nbf", json!(at(31)))), "token-not-yet-valid");
    assert_eq!(
        code(&with("nbf", json!(at(30) as f64 + 0.1))),
        "token-not-yet-valid"
    );

    let mut no_exp = claims(org);
    no_exp.as_object_mut().expect("object").remove("exp");
    let refusal = refused(&hs256(&no_exp));
    assert!(matches!(&refusal.error, IdentityError::MissingClaim(c) if c == "exp"));
    for bad in [json!("tomorrow"), json!(true), json!(1e300)] {
        let refusal = refused(&with("exp", bad.clone()));
        assert!(
            matches!(&refusal.error, IdentityError::InvalidClaim(c) if c == "exp"),
            "{bad}"
        );
    }
    assert_eq!(code(&with("nbf", json!("now"))), "invalid-claim");

    // A custom leeway.
    let mut strict = config();
    strict.leeway_seconds = 0;
    let strict = JwtIdentityVerifier::new(&strict).expect("leeway 0");
    assert!(strict.verify(&with("exp", json!(at(-1))), NOW).is_err());
    assert!(strict.verify(&with("exp", json!(at(1))), NOW).is_ok());
}

#[test]
fn issuer_and_audience_must_be_ours() {
    let org = OrganizationId::new();
    let with = |name: &str, value: Value| {
        let mut claims = claims(org);
        claims[name] = value;
        hs256(&claims)
    };
    assert_eq!(
        code(&with("iss", json!("https://evil.example.com/"))),
        "wrong-issuer"
    );
    assert_eq!(
        code(&with("iss", json!("https://login.example.com"))),
        "wrong-issuer"
    );
    assert_eq!(code(&with("iss", json!([ISSUER]))), "wrong-issuer");
    assert_eq!(code(&with("iss", Value::Null)), "wrong-issuer");
    assert_eq!(code(&with("aud", json!("another-api"))), "wrong-audience");
    assert_eq!(
        code(&with("aud", json!(["another-api", "yet-another"]))),
        "wrong-audience"
    );
    assert_eq!(code(&with("aud", json!([]))), "wrong-audience");
    assert_eq!(code(&with("aud", Value::Null)), "wrong-audience");
    assert!(
        verifier()
            .verify(&with("aud", json!(["another-api", AUDIENCE])), NOW)
            .is_ok(),
        "an array naming us"
    );
}

#[test]
fn tokens_signed_with_other_keys_are_refused() {
    let claims = claims(OrganizationId::new());
    assert_eq!(
        code(&sign(
            Algorithm::HS256,
            &Key::Secret("another secret, also 32 bytes or more"),
            None,
            &claims
        )),
        "bad-signature"
    );
    assert_eq!(
        code(&sign(
            Algorithm::RS256,
            &Key::Pem("other-rsa.pem"),
            None,
            &claims
        )),
        "bad-signature"
    );
    assert_eq!(
        code(&sign(
            Algorithm::ES256,
            &Key::Pem("other-ec.pem"),
            Some("ec-1"),
            &claims
        )),
        "bad-signature"
    );
    // The right key with an altered payload.
    let token = hs256(&claims);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut forged = claims.clone();
    forged["scope"] = json!("credentials:read credentials:write access-keys:manage");
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).expect("JSON"));
    assert_eq!(code(&parts.join(".")), "bad-signature");
}

#[test]
fn alg_none_and_unaccepted_algorithms_are_refused() {
    let claims = claims(OrganizationId::new());
    for alg in [
        "none", "None", "NONE", "HS512", "RS512", "PS256", "EdDSA", "ES384", "",
    ] {
        for signature in ["", "c2lnbmF0dXJl"] {
            let token = hand_built(&json!({"alg": alg, "typ": "JWT"}), &claims, signature);
            assert_eq!(code(&token), "disallowed-algorithm", "alg {alg:?}");
        }
    }
    // Even naming a configured key.
    let token = hand_built(&json!({"alg": "none", "kid": "ec-1"}), &claims, "");
    assert_eq!(code(&token), "disallowed-algorithm");
    // A real HS512 signature with the configured secret: the secret is HS256's only.
    let token = sign(Algorithm::HS512, &Key::Secret(SECRET), None, &claims);
    assert_eq!(code(&token), "disallowed-algorithm");
}

#[test]
fn an_hs256_token_signed_with_an_rsa_public_key_is_refused() {
    let claims = claims(OrganizationId::new());
    // The classic confusion: the verifier's own public key, as an HMAC secret.
    let public_pem = String::from_utf8(read("rsa.pub.pem")).expect("PEM text");
    let token = sign(Algorithm::HS256, &Key::Secret(&public_pem), None, &claims);
    assert_eq!(
        code(&token),
        "bad-signature",
        "checked with the HS256 secrets only"
    );
    // Naming the JWKS RSA key, whose public key the attacker knows.
    // (Refused before any signature check, so which public key served does not matter.)
    let token = sign(
        Algorithm::HS256,
        &Key::Secret(&public_pem),
        Some("rsa-1"),
        &claims,
    );
    assert_eq!(
        code(&token),
        "disallowed-algorithm",
        "the key decides the algorithm"
    );
    // And an ES256 token naming an RSA key.
    let token = sign(
        Algorithm::ES256,
        &Key::Pem("ec.pem"),
        Some("rsa-1"),
        &claims,
    );
    assert_eq!(code(&token), "disallowed-algorithm");
}

#[test]
fn a_kid_picks_its_key_or_falls_back_to_unnamed_keys_of_the_algorithm() {
    let org = OrganizationId::new();
    let claims = claims(org);
    // No ES256 key without a kid: an unknown kid leaves nothing to try.
    let token = sign(Algorithm::ES256, &Key::Pem("ec.pem"), Some("ec-2"), &claims);
    assert_eq!(code(&token), "unknown-key");
    // The encryption key of the set was skipped, so its kid is unknown too.
    let token = sign(
        Algorithm::ES256,
        &Key::Pem("ec.pem"),
        Some("enc-1"),
        &claims,
    );
    assert_eq!(code(&token), "unknown-key");
    // HS256 secrets and PEM keys cannot be named, so a kid we do not know falls back to
    // them: a provider that sets a kid on HS256 tokens still works.
    let token = sign(
        Algorithm::HS256,
        &Key::Secret(SECRET),
        Some("hs-key-7"),
        &claims,
    );
    assert!(verifier().verify(&token, NOW).is_ok());
    let token = sign(
        Algorithm::RS256,
        &Key::Pem("rsa.pem"),
        Some("pem-key"),
        &claims,
    );
    assert!(verifier().verify(&token, NOW).is_ok());
    // A kid that names a key uses that key only, not the PEM one with the same algorithm.
    let token = sign(
        Algorithm::RS256,
        &Key::Pem("rsa.pem"),
        Some("rsa-1"),
        &claims,
    );
    assert_eq!(code(&token), "bad-signature");
    // Without a kid, every key of the algorithm is tried (the JWKS ones included).
    let token = sign(Algorithm::ES256, &Key::Pem("ec.pem"), None, &claims);
    assert!(verifier().verify(&token, NOW).is_ok());
}

#[test]
fn malformed_tokens_are_refused() {
    let claims = claims(OrganizationId::new());
    let valid = hs256(&claims);
    let (header, rest) = valid.split_once('.').expect("three parts");
    let five_parts = format!("{valid}.a.b");
    let oversized = format!("{valid}{}", "A".repeat(20_000));
    let crit = sign_with_header(json!({"alg": "HS256", "crit": ["exp"], "exp": 1}), &claims);
    for token in [
        "",
        "not a token",
        "a.b",
        header,
        five_parts.as_str(),
        "!!!.e30.sig",
        "e30.e30.sig",
        &format!("bm90IGpzb24.{rest}"),
        &format!("{}.{rest}", URL_SAFE_NO_PAD.encode(r#"{"alg": 256}"#)),
        &format!(
            "{}.{rest}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":7}"#)
        ),
        oversized.as_str(),
        crit.as_str(),
    ] {
        assert_eq!(code(token), "malformed-token", "{:.60}", token);
    }
    // A signed payload that is not a JSON object.
    let token = sign_raw_payload(b"[1, 2, 3]");
    assert_eq!(code(&token), "malformed-token");
}

/// An HS256 token with the given header, correctly signed with the configured secret.
fn sign_with_header(header: Value, claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
    let message = format!("{}.{}", part(&header), part(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .expect("signed");
    format!("{message}.{signature}")
}

fn sign_raw_payload(payload: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
    let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .expect("signed");
    format!("{message}.{signature}")
}

#[test]
fn organization_and_subject_claims_are_required_and_checked() {
    let org = OrganizationId::new();
    let with = |name: &str, value: Option<Value>| {
        let mut claims = claims(org);
        match value {
            Some(value) => claims[name] = value,
            None => {
                claims.as_object_mut().expect("object").remove(name);
            }
        }
        refused(&hs256(&claims)).error
    };
    assert!(matches!(with("org", None), IdentityError::MissingClaim(c) if c == "org"));
    assert!(
        matches!(with("org", Some(json!("acme"))), IdentityError::InvalidClaim(c) if c == "org")
    );
    assert!(matches!(with("org", Some(json!(42))), IdentityError::InvalidClaim(c) if c == "org"));
    assert!(matches!(with("sub", None), IdentityError::MissingClaim(c) if c == "sub"));
    assert!(matches!(with("sub", Some(json!(7))), IdentityError::InvalidClaim(c) if c == "sub"));
    for bad in [
        "",
        " alice",
        "alice\nadmin",
        "bob\u{202e}",
        &"x".repeat(256),
    ] {
        assert!(
            matches!(with("sub", Some(json!(bad))), IdentityError::InvalidClaim(c) if c == "sub"),
            "{bad:?}"
        );
    }
}

#[test]
fn claim_names_are_configurable() {
    let mut config = config();
    config.claims = ClaimNames {
        organization: "https://vault.example.com/org".to_owned(),
        subject: "email".to_owned(),
        scopes: "permissions".to_owned(),
        groups: "https://vault.example.com/roles".to_owned(),
    };
    let verifier = JwtIdentityVerifier::new(&config).expect("custom claims");
    let org = OrganizationId::new();
    let token = hs256(&json!({
        "iss": ISSUER, "aud": AUDIENCE, "exp": at(60),
        "sub": "auth0|123", "email": "carol@example.com",
        "https://vault.example.com/org": org.to_string(),
        "permissions": ["credentials:use"],
        "https://vault.example.com/roles": ["payments", "ops\nforged", ""],
        "org": "not looked at", "scope": "credentials:write", "groups": ["admins"],
    }));
    let identity = verifier.verify(&token, NOW).expect("verified");
    assert_eq!(identity.organization_id(), org);
    assert_eq!(identity.subject(), "carol@example.com");
    assert_eq!(identity.scopes(), &BTreeSet::from([Scope::CredentialsUse]));
    // Names a grant could not name (a control character, empty) are dropped.
    assert_eq!(identity.groups(), ["payments"]);
}

#[test]
fn groups_are_a_string_or_an_array_and_nothing_else() {
    let verifier = JwtIdentityVerifier::new(&config()).expect("a verifier");
    let org = OrganizationId::new();
    let token = |groups: Value| {
        let mut claims = claims(org);
        claims["groups"] = groups;
        hs256(&claims)
    };
    for (groups, expected) in [
        (json!("payments ops"), vec!["payments", "ops"]),
        (json!(["payments"]), vec!["payments"]),
        (Value::Null, vec![]),
    ] {
        let identity = verifier
            .verify(&token(groups.clone()), NOW)
            .expect("verified");
        assert_eq!(identity.groups(), expected, "{groups}");
    }
    for bad in [json!(7), json!([1]), json!({"a": "b"})] {
        let refused = verifier
            .verify(&token(bad.clone()), NOW)
            .expect_err("refused");
        assert!(
            matches!(&refused.error, IdentityError::InvalidClaim(c) if c == "groups"),
            "{bad}: {refused}"
        );
    }
}

#[test]
fn refusals_carry_organization_and_subject_only_when_signed_and_meant_for_us() {
    let org = OrganizationId::new();
    let with = |name: &str, value: Value| {
        let mut claims = claims(org);
        claims[name] = value;
        claims
    };
    // Signed and ours, but expired: audited in its organization, by its subject.
    let refusal = refused(&hs256(&with("exp", json!(at(-3600)))));
    assert_eq!(refusal.error.code(), "expired-token");
    assert_eq!(refusal.organization_id, Some(org));
    assert_eq!(refusal.subject.as_deref(), Some("alice@example.com"));
    // An invalid subject is not carried; a valid organization still is.
    let mut claims_bad_sub = with("sub", json!("two\nlines"));
    claims_bad_sub["exp"] = json!(at(-3600));
    let refusal = refused(&hs256(&claims_bad_sub));
    assert_eq!(
        (refusal.organization_id, refusal.subject),
        (Some(org), None)
    );
    // Meant for someone else, or not signed by our keys: nothing is carried.
    for token in [
        hs256(&with("aud", json!("another-api"))),
        hs256(&with("iss", json!("https://evil.example.com/"))),
        sign(
            Algorithm::RS256,
            &Key::Pem("other-rsa.pem"),
            None,
            &claims(org),
        ),
        hand_built(&json!({"alg": "none"}), &claims(org), ""),
    ] {
        let refusal = refused(&token);
        assert_eq!(
            (refusal.organization_id, refusal.subject.as_deref()),
            (None, None),
            "{}",
            refusal.error.code()
        );
    }
}

#[test]
fn neither_debug_nor_errors_show_secrets_tokens_or_claim_values() {
    let verifier = verifier();
    let shown = format!("{verifier:?} {:?}", config());
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("an HS256 secret"), "{shown}");
    assert!(
        shown.contains("rsa.pub.pem") && shown.contains("ec-1"),
        "{shown}"
    );
    let keys = verifier.describe_keys().join("; ");
    assert!(
        keys.contains("HS256 secret #1") && !keys.contains(SECRET),
        "{keys}"
    );
    assert!(
        !keys.contains("enc-1"),
        "the encryption key is skipped: {keys}"
    );

    let org = OrganizationId::new();
    let mut claims = claims(org);
    claims["exp"] = json!(at(-3600));
    claims["sub"] = json!("secret-subject-value");
    let token = hs256(&claims);
    let refusal = refused(&token);
    let text = format!("{refusal} {refusal:?} {}", refusal.error);
    let signature = token.rsplit('.').next().expect("signature");
    assert!(!text.contains(signature), "{text}");
    assert!(!format!("{}", refusal.error).contains("secret-subject-value"));
}

#[test]
fn bad_configurations_are_refused_with_clear_messages() {
    let message = |config: &IdpConfig| {
        JwtIdentityVerifier::new(config)
            .expect_err("refused")
            .to_string()
    };
    let mut c = config();
    c.issuer = "  ".to_owned();
    assert!(message(&c).contains("idp_issuer"));
    let mut c = config();
    c.audience = String::new();
    assert!(message(&c).contains("idp_audience"));
    let none = IdpConfig::new(ISSUER, AUDIENCE);
    assert!(matches!(
        JwtIdentityVerifier::new(&none),
        Err(IdpConfigError::NoKey)
    ));
    assert!(message(&none).contains("idp_hs256_secrets"));

    let mut c = config();
    c.hs256_secrets
        .push(SecretString::from("short but secret".to_owned()));
    let shown = message(&c);
    assert!(
        shown.contains("#2") && shown.contains("32 bytes"),
        "{shown}"
    );
    assert!(!shown.contains("short but secret"), "{shown}");

    let mut c = config();
    c.leeway_seconds = 3600;
    assert!(message(&c).contains("idp_leeway_seconds"));
    let mut c = config();
    c.claims.organization = String::new();
    assert!(message(&c).contains("idp_organization_claim"));

    for (file, expected) in [
        ("missing.pem", "cannot read"),
        ("rsa.pem", "private key"),
        ("weak-rsa.pub.pem", "2048"),
        ("p384.pub.pem", "P-256"),
        ("jwks.json", "PEM"),
    ] {
        let mut c = config();
        c.public_key_files = vec![fixture(file)];
        let shown = message(&c);
        assert!(shown.contains(file), "{shown}");
        assert!(shown.contains(expected), "{file}: {shown}");
        assert!(
            !shown.contains("MII"),
            "{file}: the message quotes the key: {shown}"
        );
    }

    let dir = tempfile::tempdir().expect("a temporary directory");
    let jwks = |content: &str| {
        let path = dir.path().join(format!("{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&path, content).expect("written");
        let mut c = config();
        c.jwks_file = Some(path);
        message(&c)
    };
    assert!(jwks("not json").contains("not a JWK set"));
    assert!(jwks(r#"{"keys": []}"#).contains("no RS256 or ES256 signing key"));
    assert!(
        jwks(r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}"#)
            .contains("no RS256 or ES256 signing key"),
        "an Ed25519 key is skipped"
    );
    assert!(
        jwks(r#"{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": "AAAA", "y": "AAAA"}]}"#)
            .contains("32 bytes")
    );
    let off_curve = URL_SAFE_NO_PAD.encode([7u8; 32]);
    assert!(
        jwks(&format!(
            r#"{{"keys": [{{"kty": "EC", "crv": "P-256", "kid": "k", "x": "{off_curve}", "y": "{off_curve}"}}]}}"#
        ))
        .contains("not a valid P-256")
    );
    let weak_n = URL_SAFE_NO_PAD.encode([0xffu8; 128]);
    assert!(
        jwks(&format!(
            r#"{{"keys": [{{"kty": "RSA", "kid": "k", "n": "{weak_n}", "e": "AQAB"}}]}}"#
        ))
        .contains("2048")
    );
    let set: Value = serde_json::from_slice(&read("jwks.json")).expect("the fixture is JSON");
    let twice = json!({"keys": [set["keys"][0], set["keys"][0]]});
    assert!(jwks(&twice.to_string()).contains("same kid"));
}
