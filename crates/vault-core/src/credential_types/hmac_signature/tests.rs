use secrecy::SecretString;

use super::*;
use crate::input::FieldValue;
use crate::upstream::RequestPurpose;

/// Signs with the message itself as the "MAC", and a digest of zeros: what each template
/// renders is then visible in the headers. The MACs themselves are checked end to end,
/// against receivers' own libraries.
struct Echo;

impl RequestSigner for Echo {
    fn mac(&self, _: HashAlgorithm, key: &[u8], message: &[u8]) -> Result<Vec<u8>, SigningError> {
        assert_eq!(key, b"k3y", "the key's bytes");
        Ok(message.to_vec())
    }
    fn digest(&self, _: HashAlgorithm, _: &[u8]) -> Result<Vec<u8>, SigningError> {
        Ok(vec![0; 32])
    }
    fn sigv4(
        &self,
        _: &OutgoingRequest,
        _: &crate::signing::SigV4Params<'_>,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, SigningError> {
        unreachable!()
    }
}

fn fields(pairs: &[(&'static str, FieldValue)]) -> CredentialFields {
    let mut fields = CredentialFields::default();
    for (name, value) in pairs {
        fields.typed.insert(name, value.clone());
    }
    fields
}

fn text(value: &str) -> FieldValue {
    FieldValue::Text(value.to_owned())
}

fn key(value: &str) -> FieldValue {
    FieldValue::Secret(SecretString::from(value.to_owned()))
}

fn object(value: serde_json::Value) -> FieldValue {
    FieldValue::Object(value.as_object().expect("an object").clone())
}

fn errors_of(fields: &CredentialFields) -> Vec<String> {
    let mut errors = ValidationErrors::default();
    let _ = Config::validate(fields, None, &mut errors);
    errors
        .errors()
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect()
}

fn request() -> OutgoingRequest {
    let mut headers = http::HeaderMap::new();
    headers.insert("x-tenant", http::HeaderValue::from_static("acme"));
    OutgoingRequest {
        method: http::Method::POST,
        url: url::Url::parse("https://api.example.com:8443/v1/pay?b=2&a=1").expect("url"),
        headers,
        body: b"{\"amount\":1}".to_vec(),
        purpose: RequestPurpose::Proxy,
        tls: None,
    }
}

fn signed(config: &Config, at: SystemTime) -> BTreeMap<String, String> {
    let signature = HmacSignature {
        config: config.clone(),
        key: Zeroizing::new(b"k3y".to_vec()),
    };
    signature
        .sign(&request(), &Echo, at)
        .expect("signed")
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.to_str().expect("ascii").to_owned()))
        .collect()
}

#[test]
fn a_custom_template_renders_every_part_of_the_request() {
    let made = Config::validate(
        &fields(&[
            ("secret", key("k3y")),
            (
                "stringToSign",
                text("{method}|{path}|{query}|{pathAndQuery}|{host}|{header:X-Tenant}|{header:absent}|{timestamp}|{keyId}|{bodySha256}\\n{body}"),
            ),
            ("signatureHeaders", object(serde_json::json!({"X-Sig": "t={timestamp},s={signature}"}))),
            ("signatureEncoding", text("base64")),
            ("timestampFormat", text("unix-ms")),
            ("keyId", text("k-1")),
        ]),
        None,
        &mut ValidationErrors::default(),
    );
    let (config, secrets) = made.expect("valid");
    assert!(secrets.is_some());
    let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
    let headers = signed(&config, at);
    let value = &headers["x-sig"];
    let (stamp, signature) = value
        .strip_prefix("t=1700000000123,s=")
        .map(|s| ("1700000000123", s))
        .expect(value);
    let message = STANDARD.decode(signature).expect("base64");
    assert_eq!(
        String::from_utf8(message).expect("utf-8"),
        format!(
            "POST|/v1/pay|b=2&a=1|/v1/pay?b=2&a=1|api.example.com:8443|acme||{stamp}|k-1|{}\n{{\"amount\":1}}",
            "0".repeat(64)
        )
    );
}

#[test]
fn standard_webhooks_signs_id_timestamp_and_body_with_a_fresh_id() {
    let (config, _) = Config::validate(
        &fields(&[("preset", text("standard-webhooks")), ("secret", key("whsec_azN5"))]),
        None,
        &mut ValidationErrors::default(),
    )
    .expect("valid");
    assert_eq!(config.key_encoding, KeyEncoding::Base64);
    let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let first = signed(&config, at);
    let id = &first["webhook-id"];
    assert!(id.starts_with("msg_") && id.len() == 36, "{id}");
    assert_eq!(first["webhook-timestamp"], "1700000000");
    let signature = first["webhook-signature"].strip_prefix("v1,").expect("v1,");
    let message = STANDARD.decode(signature).expect("base64");
    assert_eq!(message, format!("{id}.1700000000.{{\"amount\":1}}").into_bytes());
    assert_ne!(signed(&config, at)["webhook-id"], *id, "each request its own id");
}

#[test]
fn a_webhook_id_the_caller_sent_is_kept_and_signed() {
    let (config, _) = Config::validate(
        &fields(&[("preset", text("standard-webhooks")), ("secret", key("whsec_azN5"))]),
        None,
        &mut ValidationErrors::default(),
    )
    .expect("valid");
    let signature = HmacSignature {
        config,
        key: Zeroizing::new(b"k3y".to_vec()),
    };
    let mut retried = request();
    retried
        .headers
        .insert("webhook-id", http::HeaderValue::from_static("msg_2f9a1c"));
    let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let headers: BTreeMap<String, String> = signature
        .sign(&retried, &Echo, at)
        .expect("signed")
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.to_str().expect("ascii").to_owned()))
        .collect();
    assert_eq!(headers["webhook-id"], "msg_2f9a1c");
    let signed = STANDARD
        .decode(headers["webhook-signature"].strip_prefix("v1,").expect("v1,"))
        .expect("base64");
    assert!(signed.starts_with(b"msg_2f9a1c.1700000000."), "the kept id is signed");

    let template = Template::parse("msg_{nonce}").expect("parses");
    assert_eq!(template.nonce_in("msg_abc").as_deref(), Some("abc"));
    for refused in ["abc", "msg_", "msg_a b"] {
        assert_eq!(template.nonce_in(refused), None, "{refused}");
    }
    let two_parts = Template::parse("{timestamp}.{nonce}").expect("parses");
    assert_eq!(two_parts.nonce_in("1.abc"), None, "only text around the nonce");
}

#[test]
fn kong_hmac_auth_signs_the_date_request_line_and_digest() {
    let (config, _) = Config::validate(
        &fields(&[
            ("preset", text("kong-hmac-auth")),
            ("secret", key("k3y")),
            ("keyId", text("alice123")),
        ]),
        None,
        &mut ValidationErrors::default(),
    )
    .expect("valid");
    let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_498_151_721);
    let headers = signed(&config, at);
    assert_eq!(headers["date"], "Thu, 22 Jun 2017 17:15:21 GMT");
    let digest = format!("SHA-256={}", STANDARD.encode([0u8; 32]));
    assert_eq!(headers["digest"], digest);
    let authorization = &headers["authorization"];
    let signature = authorization
        .strip_prefix(
            "hmac username=\"alice123\", algorithm=\"hmac-sha256\", headers=\"date request-line digest\", signature=\"",
        )
        .and_then(|s| s.strip_suffix('"'))
        .expect(authorization);
    assert_eq!(
        STANDARD.decode(signature).expect("base64"),
        format!("date: Thu, 22 Jun 2017 17:15:21 GMT\nPOST /v1/pay?b=2&a=1 HTTP/1.1\ndigest: {digest}")
            .into_bytes()
    );
}

#[test]
fn invalid_schemes_are_refused_naming_the_field() {
    let signature = object(serde_json::json!({"x-sig": "{signature}"}));
    for (given, expected) in [
        (
            vec![("secret", key("k")), ("stringToSign", text("{timestamp}.{nonce}")), ("signatureHeaders", signature.clone())],
            "stringToSign: must name a part of the request",
        ),
        (
            vec![("secret", key("k")), ("stringToSign", text("{method}{nope}")), ("signatureHeaders", signature.clone())],
            "stringToSign: names an unknown placeholder {nope}",
        ),
        (
            vec![("secret", key("k")), ("stringToSign", text("{method}")), ("signatureHeaders", object(serde_json::json!({"x-sig": "{timestamp}"})))],
            "signatureHeaders: must put {signature} in one header",
        ),
        (
            vec![("secret", key("k")), ("stringToSign", text("{method}")), ("signatureHeaders", object(serde_json::json!({"x-sig": "{signature}{body}"})))],
            "signatureHeaders.x-sig: cannot hold {body}",
        ),
        (
            vec![("secret", key("k")), ("stringToSign", text("{method}")), ("signatureHeaders", object(serde_json::json!({"host": "{signature}"})))],
            "signatureHeaders.host: names a header the HTTP transport controls",
        ),
        (
            vec![("secret", key("k")), ("preset", text("kong-hmac-auth"))],
            "keyId: is required",
        ),
        (
            vec![("secret", key("not base64!")), ("preset", text("standard-webhooks"))],
            "secret: must be base64",
        ),
        (
            vec![("secret", key("k"))],
            "stringToSign: is required without a preset",
        ),
        (
            vec![("secret", key("k")), ("preset", text("stripe"))],
            "preset: must be one of custom, standard-webhooks, kong-hmac-auth",
        ),
    ] {
        let errors = errors_of(&fields(&given));
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "{expected}: {errors:?}"
        );
    }
}

#[test]
fn a_change_keeps_the_scheme_and_a_new_preset_replaces_it() {
    let (kong, _) = Config::validate(
        &fields(&[("preset", text("kong-hmac-auth")), ("secret", key("k3y")), ("keyId", text("a"))]),
        None,
        &mut ValidationErrors::default(),
    )
    .expect("valid");
    let (renamed, secrets) = Config::validate(
        &fields(&[("keyId", text("b"))]),
        Some(&kong),
        &mut ValidationErrors::default(),
    )
    .expect("valid");
    assert!(secrets.is_none(), "the sealed key is kept");
    assert_eq!(renamed.key_id.as_deref(), Some("b"));
    assert_eq!(renamed.string_to_sign, kong.string_to_sign);
    let mut errors = ValidationErrors::default();
    let moved = Config::validate(&fields(&[("preset", text("standard-webhooks"))]), Some(&kong), &mut errors);
    assert!(moved.is_none(), "a new key encoding needs the key again");
    assert_eq!(errors.errors()[0].field, "secret");
}

#[test]
fn templates_round_trip_as_their_text() {
    let template = Template::parse("a\\nb{method}\\\\").expect("parses");
    assert_eq!(serde_json::to_value(&template).expect("json"), "a\\nb{method}\\\\");
    assert!(Template::parse("{method").is_err());
    assert!(Template::parse("}").is_err());
    assert!(Template::parse("\\t").is_err());
}
