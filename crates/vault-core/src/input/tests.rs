//! The rules of `input.rs`, case by case.

use super::*;
use crate::credential::{MAX_SECRET_BYTES, Placement};
use crate::credential_types::{MAX_HEADER_NAME_BYTES, api_key};

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid")
}

fn named() -> CredentialFields {
    CredentialFields {
        name: Some("Stripe".to_owned()),
        ..CredentialFields::default()
    }
}

fn secret(s: &str) -> Option<SecretString> {
    Some(SecretString::from(s.to_owned()))
}

fn fields_named(errors: &ValidationErrors) -> Vec<&str> {
    errors.errors().iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn a_token_url_with_control_characters_is_refused_not_joined() {
    for raw in [
        "https://a.example/to\nken",
        "https://a.exa\tmple/token",
        "https://a.example/\r",
    ] {
        let fields = CredentialFields {
            allowed_hosts: Patch::Value(vec!["a.example".to_owned()]),
            ..named()
        }
        .with("clientId", Some("id".to_owned()))
        .with("clientSecret", secret("s3cret-value"))
        .with("tokenUrl", Some(raw.to_owned()));
        let errors = NewCredential::validate(CredentialType::OAuth2, &fields, now())
            .expect_err("a control character is refused");
        assert_eq!(fields_named(&errors), ["tokenUrl"], "{raw:?}");
    }
}

#[test]
fn api_key_defaults_to_the_x_api_key_header() {
    let fields = named().with("value", secret("sk_live_1234567890abcdef"));
    let new = NewCredential::validate(CredentialType::ApiKey, &fields, now()).expect("valid");
    assert_eq!(
        new.kind,
        CredentialKind::ApiKey(api_key::Config {
            placement: Placement::api_key_default()
        })
    );
    assert_eq!(
        new.secrets.hints().get("value").map(String::as_str),
        Some("…cdef")
    );
}

#[test]
fn missing_fields_are_each_named() {
    let errors =
        NewCredential::validate(CredentialType::OAuth2, &CredentialFields::default(), now())
            .expect_err("invalid");
    assert_eq!(
        fields_named(&errors),
        ["name", "clientId", "tokenUrl", "clientSecret"]
    );
}

#[test]
fn fields_of_another_type_are_refused() {
    let fields = named()
        .with("value", secret("token"))
        .with("username", Some("bob".to_owned()));
    let errors =
        NewCredential::validate(CredentialType::BearerToken, &fields, now()).expect_err("invalid");
    assert_eq!(fields_named(&errors), ["username"]);
}

#[test]
fn secrets_must_be_non_empty_and_free_of_line_breaks() {
    for bad in ["", "abc\r\nX-Evil: 1", "nul\0"] {
        let fields = named().with("value", secret(bad));
        let errors = NewCredential::validate(CredentialType::BearerToken, &fields, now())
            .expect_err("invalid");
        assert_eq!(fields_named(&errors), ["value"]);
        assert!(
            !errors.to_string().contains("Evil"),
            "error repeats the value"
        );
    }
    let huge = "x".repeat(MAX_SECRET_BYTES + 1);
    let fields = named().with("value", secret(&huge));
    assert!(NewCredential::validate(CredentialType::BearerToken, &fields, now()).is_err());
}

#[test]
fn token_url_must_be_an_absolute_http_url_without_credentials() {
    for bad in [
        "not a url",
        "ftp://x/token",
        "/token",
        "https://user:pw@idp/token",
        "https://idp/token#frag",
    ] {
        let fields = named()
            .with("clientId", Some("id".to_owned()))
            .with("clientSecret", secret("s3cr3t"))
            .with("tokenUrl", Some(bad.to_owned()));
        let errors =
            NewCredential::validate(CredentialType::OAuth2, &fields, now()).expect_err(bad);
        assert_eq!(fields_named(&errors), ["tokenUrl"], "{bad}");
    }
}

#[test]
fn jwt_needs_secret_for_hs_and_private_key_otherwise() {
    let hs = named().with("algorithm", Some("HS256".to_owned())).with(
        "privateKey",
        secret("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"),
    );
    let errors = NewCredential::validate(CredentialType::Jwt, &hs, now()).expect_err("invalid");
    assert_eq!(fields_named(&errors), ["privateKey", "secret"]);

    let rs = named()
        .with("algorithm", Some("RS256".to_owned()))
        .with("privateKey", secret("not pem"));
    let errors = NewCredential::validate(CredentialType::Jwt, &rs, now()).expect_err("invalid");
    assert_eq!(fields_named(&errors), ["privateKey"]);

    let unknown = named().with("algorithm", Some("none".to_owned()));
    let errors =
        NewCredential::validate(CredentialType::Jwt, &unknown, now()).expect_err("invalid");
    assert_eq!(fields_named(&errors), ["algorithm"]);
}

#[test]
fn jwt_claims_cannot_preset_exp_or_iat() {
    let mut claims = serde_json::Map::new();
    claims.insert("exp".to_owned(), serde_json::json!(1));
    let fields = named()
        .with("algorithm", Some("HS512".to_owned()))
        .with("secret", secret("0123456789abcdef0123456789abcdef"))
        .with("claims", Some(claims));
    let errors = NewCredential::validate(CredentialType::Jwt, &fields, now()).expect_err("invalid");
    assert_eq!(fields_named(&errors), ["claims.exp"]);
}

#[test]
fn header_names_are_capped_at_256_characters_naming_the_field() {
    let long = format!("X-{}", "a".repeat(MAX_HEADER_NAME_BYTES - 1));
    let fits = "X-".to_owned() + &"a".repeat(MAX_HEADER_NAME_BYTES - 2);
    let custom = |name: &str| {
        named().with(
            "headers",
            Some(vec![(name.to_owned(), SecretString::from("v".to_owned()))]),
        )
    };
    let errors = NewCredential::validate(CredentialType::Custom, &custom(&long), now())
        .expect_err("too long");
    assert_eq!(fields_named(&errors), ["headers"]);
    assert!(NewCredential::validate(CredentialType::Custom, &custom(&fits), now()).is_ok());
    let placed = |name: &str| {
        named()
            .with("value", secret("key-value-1234"))
            .with("algorithm", Some("HS256".to_owned()))
            .with("secret", secret("0123456789abcdef0123456789abcdef"))
            .with(
                "placement",
                Some(PlacementInput {
                    location: Some("header".to_owned()),
                    name: Some(name.to_owned()),
                    prefix: None,
                }),
            )
    };
    for kind in [CredentialType::ApiKey, CredentialType::Jwt] {
        let mut fields = placed(&long);
        if kind == CredentialType::ApiKey {
            fields.typed.remove("algorithm");
            fields.typed.remove("secret");
        } else {
            fields.typed.remove("value");
        }
        let errors = NewCredential::validate(kind, &fields, now()).expect_err("too long");
        assert_eq!(fields_named(&errors), ["placement.name"], "{kind:?}");
    }
}

#[test]
fn values_sent_in_headers_must_be_visible_ascii() {
    for (kind, fields, field) in [
        (
            CredentialType::ApiKey,
            named().with("value", secret("cl\u{e9}-secr\u{e8}te")),
            "value",
        ),
        (
            CredentialType::BearerToken,
            named().with("value", secret("tok\u{2603}")),
            "value",
        ),
        (
            CredentialType::Custom,
            named().with(
                "headers",
                Some(vec![(
                    "X-Tenant".to_owned(),
                    SecretString::from("caf\u{e9}".to_owned()),
                )]),
            ),
            "headers.X-Tenant",
        ),
    ] {
        let errors = NewCredential::validate(kind, &fields, now()).expect_err("non-ASCII");
        assert_eq!(fields_named(&errors), [field], "{kind:?}");
    }
    // A password is base64-encoded on the way out: any text goes.
    let basic = named()
        .with("username", Some("user".to_owned()))
        .with("password", secret("p\u{e4}ssw\u{f6}rt"));
    assert!(NewCredential::validate(CredentialType::BasicAuth, &basic, now()).is_ok());
}

#[test]
fn custom_header_names_must_be_valid_and_not_transport_headers() {
    for bad in [
        "Bad Header",
        "X:Y",
        "",
        "Host",
        "content-length",
        "Proxy-Authorization",
    ] {
        let fields = named().with(
            "headers",
            Some(vec![(bad.to_owned(), SecretString::from("v".to_owned()))]),
        );
        assert!(
            NewCredential::validate(CredentialType::Custom, &fields, now()).is_err(),
            "{bad:?} accepted"
        );
    }
    let fields = named().with(
        "headers",
        Some(vec![
            ("X-Tenant".to_owned(), SecretString::from("t1".to_owned())),
            ("x-tenant".to_owned(), SecretString::from("t2".to_owned())),
        ]),
    );
    assert!(NewCredential::validate(CredentialType::Custom, &fields, now()).is_err());
}

#[test]
fn expiry_must_be_a_future_timestamp() {
    for (raw, ok) in [
        ("2030-01-01T00:00:00Z", true),
        ("2020-01-01T00:00:00Z", false),
        ("tomorrow", false),
    ] {
        let fields = CredentialFields {
            expires_at: Patch::Value(raw.to_owned()),
            ..named()
        }
        .with("value", secret("token"));
        assert_eq!(
            NewCredential::validate(CredentialType::BearerToken, &fields, now()).is_ok(),
            ok,
            "{raw}"
        );
    }
}

#[test]
fn names_are_trimmed_and_bounded() {
    assert_eq!(
        CredentialName::parse("  Stripe ").expect("valid").as_str(),
        "Stripe"
    );
    assert!(CredentialName::parse("   ").is_err());
    assert!(CredentialName::parse(&"n".repeat(201)).is_err());
    assert!(CredentialName::parse("a\u{7}b").is_err());
    assert!(Description::parse(&"d".repeat(2001)).is_err());
}

#[test]
fn patch_keeps_what_is_not_given() {
    let fields = named()
        .with("username", Some("alice".to_owned()))
        .with("password", secret("pw"));
    let new = NewCredential::validate(CredentialType::BasicAuth, &fields, now()).expect("valid");
    let patch = CredentialFields::default().with("password", secret("new-pw"));
    let valid = ValidPatch::validate(&new.kind, &patch, now()).expect("valid");
    assert!(valid.kind.is_none(), "username unchanged");
    assert!(
        valid
            .secrets
            .as_ref()
            .and_then(|s| s.text("password"))
            .is_some()
    );
    assert!(valid.name.is_none());

    let empty =
        ValidPatch::validate(&new.kind, &CredentialFields::default(), now()).expect("valid");
    assert!(empty.is_empty());
}

#[test]
fn patch_switching_jwt_family_needs_the_new_key() {
    let fields = named()
        .with("algorithm", Some("HS256".to_owned()))
        .with("secret", secret("0123456789abcdef0123456789abcdef"));
    let new = NewCredential::validate(CredentialType::Jwt, &fields, now()).expect("valid");
    let same_family = CredentialFields::default().with("algorithm", Some("HS384".to_owned()));
    assert!(ValidPatch::validate(&new.kind, &same_family, now()).is_ok());
    let other_family = CredentialFields::default().with("algorithm", Some("ES256".to_owned()));
    let errors = ValidPatch::validate(&new.kind, &other_family, now()).expect_err("needs key");
    assert_eq!(fields_named(&errors), ["privateKey"]);
}

#[test]
fn sealed_payload_round_trips_for_every_type() {
    let text = |kind, field, value: &str| {
        CredentialSecrets::new(kind).with_text(field, SecretString::from(value.to_owned()))
    };
    let headers = CredentialSecrets::new(CredentialType::Custom).with_map(
        "headers",
        [(
            "X-A".to_owned(),
            SecretString::from("\"quoted\\\"".to_owned()),
        )]
        .into(),
    );
    let cases = [
        (
            text(CredentialType::ApiKey, "value", "v"),
            r#"{"value":"v"}"#,
        ),
        (
            text(CredentialType::BasicAuth, "password", "p"),
            r#"{"password":"p"}"#,
        ),
        (
            text(CredentialType::OAuth2, "clientSecret", "c"),
            r#"{"clientSecret":"c"}"#,
        ),
        (
            text(CredentialType::Jwt, "secret", "s"),
            r#"{"secret":"s"}"#,
        ),
        (
            text(CredentialType::Jwt, "privateKey", "k"),
            r#"{"privateKey":"k"}"#,
        ),
        (headers, r#"{"headers":{"X-A":"\"quoted\\\""}}"#),
    ];
    for (secrets, layout) in cases {
        let kind = secrets.credential_type();
        let bytes = secrets.to_plaintext();
        assert_eq!(
            std::str::from_utf8(&bytes).expect("utf-8"),
            layout,
            "the sealed layout"
        );
        let back = CredentialSecrets::from_plaintext(kind, &bytes).expect("decodes");
        assert_eq!(*bytes, *back.to_plaintext());
    }
    assert!(
        CredentialSecrets::from_plaintext(CredentialType::BasicAuth, br#"{"value":"v"}"#).is_err()
    );
}

#[test]
fn debug_output_never_shows_secrets() {
    let fields = named().with("value", secret("CANARY-debug-value"));
    assert!(!format!("{fields:?}").contains("CANARY"));
    let new = NewCredential::validate(CredentialType::BearerToken, &fields, now()).expect("valid");
    assert!(!format!("{new:?}").contains("CANARY"));
}

#[test]
fn field_values_show_their_shape_never_their_value() {
    let fields = named()
        .with("value", secret("sk_live_canary_0123456789"))
        .with("username", Some("canary-user".to_owned()))
        .with(
            "headers",
            Some(vec![(
                "X-Canary".to_owned(),
                SecretString::from("canary-header-value".to_owned()),
            )]),
        );
    let values: Vec<String> = fields.typed.values().map(|v| format!("{v:?}")).collect();
    assert_eq!(values, ["SecretMap", "Text", "Secret"]);
    let new = NewCredential::validate(
        CredentialType::ApiKey,
        &named().with("value", secret("sk_live_canary_0123456789")),
        now(),
    )
    .expect("valid");
    let shown = format!("{fields:?} {values:?} {:?} {new:?}", new.secrets);
    for value in ["sk_live_canary", "canary-user", "canary-header-value"] {
        assert!(!shown.contains(value), "{value} in {shown}");
    }
}
