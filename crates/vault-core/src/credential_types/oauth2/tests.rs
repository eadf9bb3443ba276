use secrecy::SecretString;

use super::*;
use crate::input::FieldValue;

const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----";

fn body(pairs: &[(&'static str, &str)]) -> CredentialFields {
    let mut fields = CredentialFields::default();
    fields.set("clientId", Some("svc@example.iam".to_owned()));
    fields.set("tokenUrl", Some("https://oauth2.example.com/token".to_owned()));
    for (name, value) in pairs {
        let value = if matches!(*name, "privateKey" | "clientSecret") {
            FieldValue::Secret(SecretString::from((*value).to_owned()))
        } else {
            FieldValue::Text((*value).to_owned())
        };
        fields.typed.insert(name, value);
    }
    fields
}

fn validated(pairs: &[(&'static str, &str)]) -> Result<(Config, Option<CredentialSecrets>), Vec<String>> {
    let mut errors = ValidationErrors::default();
    let made = Config::validate(&body(pairs), None, &mut errors);
    match made {
        Some(made) if errors.is_empty() => Ok(made),
        _ => Err(errors.errors().iter().map(|e| format!("{}: {}", e.field, e.message)).collect()),
    }
}

#[test]
fn private_key_jwt_takes_a_key_and_an_asymmetric_algorithm() {
    let (config, secrets) =
        validated(&[("clientAuth", "private_key_jwt"), ("privateKey", PEM)]).expect("valid");
    assert_eq!(config.client_auth, OAuth2ClientAuth::PrivateKeyJwt);
    assert_eq!(config.assertion_algorithm, Some(JwtAlgorithm::RS256), "the default");
    assert_eq!(config.jwt_key(), Some((JwtAlgorithm::RS256, "privateKey")));
    let secrets = secrets.expect("sealed");
    assert!(secrets.text("privateKey").is_some() && secrets.text("clientSecret").is_none());

    for (pairs, expected) in [
        (vec![("clientAuth", "private_key_jwt")], "privateKey: is required"),
        (
            vec![("clientAuth", "private_key_jwt"), ("privateKey", PEM), ("assertionAlgorithm", "HS256")],
            "assertionAlgorithm: must be an asymmetric algorithm",
        ),
        (
            vec![("clientAuth", "private_key_jwt"), ("privateKey", PEM), ("clientSecret", "s")],
            "clientSecret: is only for clientAuth basic or body",
        ),
        (
            vec![("clientAuth", "private_key_jwt"), ("privateKey", "not a key")],
            "privateKey: must be a PEM-encoded private key",
        ),
        (
            vec![("clientSecret", "s"), ("privateKey", PEM)],
            "privateKey: is only for clientAuth private_key_jwt",
        ),
    ] {
        let errors = validated(&pairs).expect_err(expected);
        assert!(errors.iter().any(|e| e.starts_with(expected)), "{expected}: {errors:?}");
    }
}

#[test]
fn the_jwt_bearer_grant_authenticates_with_its_assertion() {
    let (config, secrets) = validated(&[
        ("grant", "jwt_bearer"),
        ("privateKey", PEM),
        ("assertionAlgorithm", "ES256"),
        ("assertionSubject", "user@example.com"),
    ])
    .expect("valid");
    assert_eq!(config.grant, OAuth2Grant::JwtBearer);
    assert_eq!(config.client_auth, OAuth2ClientAuth::PrivateKeyJwt, "its default");
    assert_eq!(config.assertion_subject.as_deref(), Some("user@example.com"));
    assert!(config.signs_assertions() && !config.has_secret());
    assert!(secrets.expect("sealed").text("privateKey").is_some());

    for (pairs, expected) in [
        (vec![("grant", "jwt_bearer")], "privateKey: is required"),
        (
            vec![("grant", "jwt_bearer"), ("privateKey", PEM), ("clientAuth", "basic"), ("clientSecret", "s")],
            "clientAuth: must be private_key_jwt for jwt_bearer",
        ),
        (vec![("clientSecret", "s"), ("assertionSubject", "u")], "assertionSubject: is only for the jwt_bearer grant"),
        (vec![("clientAuth", "none")], "clientAuth: none (a public client) is only for"),
        (
            vec![("grant", "jwt_bearer"), ("clientAuth", "none")],
            "clientAuth: must be private_key_jwt for jwt_bearer",
        ),
    ] {
        let errors = validated(&pairs).expect_err(expected);
        assert!(errors.iter().any(|e| e.starts_with(expected)), "{expected}: {errors:?}");
    }
}

#[test]
fn a_change_of_proof_needs_its_new_secret() {
    let (basic, _) = validated(&[("clientSecret", "s")]).expect("valid");
    let mut errors = ValidationErrors::default();
    let changed = Config::validate(
        &{
            let mut fields = CredentialFields::default();
            fields.set("clientAuth", Some("private_key_jwt".to_owned()));
            fields
        },
        Some(&basic),
        &mut errors,
    );
    assert!(changed.is_none());
    assert_eq!(errors.errors()[0].field, "privateKey", "{errors:?}");
}
