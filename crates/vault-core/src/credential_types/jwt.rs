//! `jwt`: a JWT signed afresh for each use (HMAC with a shared secret, or RSA, ECDSA or
//! EdDSA with a PEM private key), sent where its placement says.

use secrecy::{ExposeSecret, SecretString};

use serde::{Deserialize, Serialize};

use super::field_rules::{placement, public_text, secret_value};
use super::{CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec};
use crate::credential::{
    JwtAlgorithm, JwtClaims, MAX_CLAIMS_BYTES, MAX_PRIVATE_KEY_BYTES, Placement,
};
use crate::input::{CredentialFields, Patch};
use crate::validation::{FieldError, ValidationErrors};

/// How a `jwt` credential looks from outside.
const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::Jwt,
    title: "Signed JWT",
    description: "A JWT the vault signs for each use (cached until near its expiry), sent as `Authorization: Bearer <token>` unless placed elsewhere.",
    fields: &[
        FieldSpec {
            name: "algorithm",
            label: "Algorithm",
            shape: FieldShape::Choice {
                options: &[
                    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
                    "PS512", "ES256", "ES384", "EdDSA",
                ],
            },
            required: Required::Always,
            nullable: false,
            description: "The signing algorithm.",
        },
        FieldSpec {
            name: "secret",
            label: "Shared secret",
            shape: FieldShape::Secret { hint: true },
            required: Required::If {
                field: "algorithm",
                one_of: &["HS256", "HS384", "HS512"],
            },
            nullable: false,
            description: "HS256/384/512: the shared secret (at least the hash length).",
        },
        FieldSpec {
            name: "privateKey",
            label: "Private key (PEM)",
            shape: FieldShape::SecretPem,
            required: Required::If {
                field: "algorithm",
                one_of: &[
                    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
                ],
            },
            nullable: false,
            description: "RS*, PS*, ES*, EdDSA: the PEM private key (PKCS#8, PKCS#1 or SEC1).",
        },
        FieldSpec {
            name: "keyId",
            label: "Key ID",
            shape: FieldShape::Text { max_length: 256 },
            required: Required::Never,
            nullable: true,
            description: "Sent as the tokens' `kid` header, for an upstream that holds several keys.",
        },
        FieldSpec {
            name: "claims",
            label: "Claims",
            shape: FieldShape::Object,
            required: Required::Never,
            nullable: false,
            description: "The claims template: `iss`, `sub`, `aud` and any custom claims (`iat`, `exp` and `jti` are set at signing).",
        },
        FieldSpec {
            name: "ttlSeconds",
            label: "Lifetime (seconds)",
            shape: FieldShape::Integer {
                minimum: 1,
                maximum: MAX_JWT_TTL_SECONDS as i64,
            },
            required: Required::Never,
            nullable: false,
            description: "Lifetime of each token, in seconds (default 300).",
        },
        FieldSpec {
            name: "placement",
            label: "Placement",
            shape: FieldShape::Placement {
                query: false,
                default_name: "Authorization",
                default_prefix: "Bearer ",
            },
            required: Required::Never,
            nullable: false,
            description: "The header the token goes in, and text put before it. Default: `Authorization: Bearer <token>`.",
        },
    ],
    derived: &[],
};

/// Default lifetime of a signed JWT.
pub const DEFAULT_JWT_TTL_SECONDS: u32 = 300;
/// Longest lifetime of a signed JWT.
pub const MAX_JWT_TTL_SECONDS: u32 = 86_400;

fn claims(raw: &serde_json::Map<String, serde_json::Value>) -> Result<JwtClaims, FieldError> {
    const SET_AT_SIGNING: [&str; 4] = ["exp", "iat", "nbf", "jti"];
    if let Some(reserved) = raw.keys().find(|k| SET_AT_SIGNING.contains(&k.as_str())) {
        return Err(FieldError::new(
            format!("claims.{reserved}"),
            "is set by the vault when it signs each token",
        ));
    }
    let size = serde_json::to_vec(raw).map_or(usize::MAX, |v| v.len());
    if size > MAX_CLAIMS_BYTES {
        return Err(FieldError::new(
            "claims",
            format!("must be at most {MAX_CLAIMS_BYTES} bytes as JSON"),
        ));
    }
    let mut custom = raw.clone();
    let mut take = |name: &str| -> Result<Option<String>, FieldError> {
        match custom.remove(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(FieldError::new(
                format!("claims.{name}"),
                "must be a string",
            )),
        }
    };
    Ok(JwtClaims {
        iss: take("iss")?,
        sub: take("sub")?,
        aud: take("aud")?,
        custom,
    })
}

pub(super) fn private_key(value: &SecretString) -> Result<SecretString, FieldError> {
    let pem = value.expose_secret().trim();
    if pem.len() > MAX_PRIVATE_KEY_BYTES {
        return Err(FieldError::new(
            "privateKey",
            format!("must be at most {MAX_PRIVATE_KEY_BYTES} bytes"),
        ));
    }
    let armoured = pem.starts_with("-----BEGIN ")
        && pem.ends_with("-----")
        && pem.contains("PRIVATE KEY-----");
    if !armoured
        || pem
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(FieldError::new(
            "privateKey",
            "must be a PEM-encoded private key",
        ));
    }
    Ok(SecretString::from(pem.to_owned()))
}

/// Public configuration of a JWT-signing credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The signing algorithm.
    pub algorithm: JwtAlgorithm,
    /// The claims template.
    pub claims: JwtClaims,
    /// Lifetime of each signed token, in seconds.
    pub ttl_seconds: u32,
    /// Where the token goes on the outgoing request.
    pub placement: Placement,
    /// The tokens' `kid` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

impl TypeRules for Config {
    const SPEC: TypeSpec = SPEC;

    fn validate(
        fields: &CredentialFields,
        current: Option<&Self>,
        errors: &mut ValidationErrors,
    ) -> Option<(Self, Option<CredentialSecrets>)> {
        validate(fields, current, errors)
    }

    fn example() -> Self {
        let mut custom = serde_json::Map::new();
        custom.insert("tenant".to_owned(), serde_json::json!("acme"));
        custom.insert("level".to_owned(), serde_json::json!(3));
        custom.insert(
            "nested".to_owned(),
            serde_json::json!({"a": [1, 2], "b": null}),
        );
        Self {
            algorithm: JwtAlgorithm::ES256,
            claims: JwtClaims {
                iss: Some("vault".to_owned()),
                sub: None,
                aud: Some("upstream".to_owned()),
                custom,
            },
            ttl_seconds: 600,
            placement: Placement::jwt_default(),
            key_id: Some("2026-12".to_owned()),
        }
    }

    /// A new audience sends the tokens somewhere new.
    fn widened_fields(&self, before: &Self) -> Vec<&'static str> {
        if self.claims.aud.is_some() && before.claims.aud != self.claims.aud {
            vec!["claims"]
        } else {
            Vec::new()
        }
    }

    fn jwt_key(&self) -> Option<(JwtAlgorithm, &'static str)> {
        Some((self.algorithm, self.algorithm.key_field()))
    }

    /// The restored key must be of the family the algorithm signs with.
    fn restore(&mut self, secrets: &CredentialSecrets) -> Result<(), String> {
        if secrets.text(self.algorithm.key_field()).is_some() {
            Ok(())
        } else {
            Err(format!(
                "holds a key of another kind than {} needs; change the algorithm first",
                self.algorithm.as_str()
            ))
        }
    }
}

/// Validates a `jwt` credential's fields: all of them for a new one, those given for a
/// change of `current`.
fn validate(
    fields: &CredentialFields,
    existing: Option<&Config>,
    errors: &mut ValidationErrors,
) -> Option<(Config, Option<CredentialSecrets>)> {
    let algorithm = match (fields.text("algorithm"), existing) {
        (Some(raw), _) => errors.take(raw.parse::<JwtAlgorithm>()),
        (None, Some(c)) => Some(c.algorithm),
        (None, None) => {
            errors.add("algorithm", "is required");
            None
        }
    };
    let claims = match (fields.object("claims"), existing) {
        (Some(raw), _) => errors.take(claims(raw)),
        (None, Some(c)) => Some(c.claims.clone()),
        (None, None) => Some(JwtClaims::default()),
    };
    let ttl_seconds = match (fields.integer("ttlSeconds"), existing) {
        (Some(t), _) => match u32::try_from(t) {
            Ok(t) if (1..=MAX_JWT_TTL_SECONDS).contains(&t) => Some(t),
            _ => {
                errors.add(
                    "ttlSeconds",
                    format!("must be between 1 and {MAX_JWT_TTL_SECONDS}"),
                );
                None
            }
        },
        (None, Some(c)) => Some(c.ttl_seconds),
        (None, None) => Some(DEFAULT_JWT_TTL_SECONDS),
    };
    let key_id = key_id(fields, "keyId", existing.and_then(|c| c.key_id.as_ref()), errors);
    let default_placement = existing.map_or_else(Placement::jwt_default, |c| c.placement.clone());
    let placement = placement(
        fields.placement("placement"),
        default_placement,
        false,
        errors,
    );

    let algorithm = algorithm?;
    // The key must fit the algorithm's family; when a patch keeps the family, the sealed
    // key still fits and need not be given again.
    let family_kept = existing
        .is_some_and(|c| c.algorithm.uses_shared_secret() == algorithm.uses_shared_secret());
    let secrets = if algorithm.uses_shared_secret() {
        if fields.has("privateKey") {
            errors.add(
                "privateKey",
                format!("does not apply to {}; give secret", algorithm.as_str()),
            );
        }
        match fields.secret("secret") {
            Some(v) => errors
                .take(secret_value("secret", v))
                .map(|v| CredentialSecrets::new(CredentialType::Jwt).with_text("secret", v)),
            None if family_kept => None,
            None => {
                errors.add("secret", format!("is required for {}", algorithm.as_str()));
                None
            }
        }
    } else {
        if fields.has("secret") {
            errors.add(
                "secret",
                format!("does not apply to {}; give privateKey", algorithm.as_str()),
            );
        }
        match fields.secret("privateKey") {
            Some(v) => errors
                .take(private_key(v))
                .map(|v| CredentialSecrets::new(CredentialType::Jwt).with_text("privateKey", v)),
            None if family_kept => None,
            None => {
                errors.add(
                    "privateKey",
                    format!("is required for {}", algorithm.as_str()),
                );
                None
            }
        }
    };
    Some((
        Config {
            algorithm,
            claims: claims?,
            ttl_seconds: ttl_seconds?,
            placement: placement?,
            key_id: key_id?,
        },
        secrets,
    ))
}

/// A key id for a JWT header (`kid`): given, cleared with null, or kept.
pub(super) fn key_id(
    fields: &CredentialFields,
    name: &'static str,
    kept: Option<&String>,
    errors: &mut ValidationErrors,
) -> Option<Option<String>> {
    match fields.nullable_text(name) {
        Patch::Value(raw) => errors.take(public_text(name, raw, 256)).map(Some),
        Patch::Null => Some(None),
        Patch::Absent => Some(kept.cloned()),
    }
}
