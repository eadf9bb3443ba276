//! `oauth2`: an access token obtained with the client-credentials grant, or with the
//! authorization-code grant after a user connects the credential (`vault::connect`); the
//! token is sent as a bearer token.

mod fields;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::field_rules::{SentIn, public_text, secret_field};
use super::{CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec};
use crate::credential::{OAuth2ClientAuth, OAuth2Grant};
use crate::egress::AllowedHosts;
use crate::input::{CredentialFields, Patch};
use crate::validation::{FieldError, ValidationErrors};

/// How an `oauth2` credential looks from outside.
const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::OAuth2,
    title: "OAuth2",
    description: "OAuth2: the vault gets the access token (client credentials, or authorization code after a user connects the credential), keeps it fresh, and sends `Authorization: Bearer <token>`.",
    fields: &[
        FieldSpec {
            name: "grant",
            label: "Grant",
            shape: FieldShape::Choice {
                options: &["client_credentials", "authorization_code"],
            },
            required: Required::Never,
            nullable: false,
            description: "`client_credentials` (the default) or `authorization_code`: a user connects the credential once (`POST /credentials/{id}/connect`), and the vault refreshes the tokens it is given. Cannot be changed.",
        },
        FieldSpec {
            name: "clientId",
            label: "Client id",
            shape: FieldShape::Text { max_length: 512 },
            required: Required::Always,
            nullable: false,
            description: "The client id.",
        },
        FieldSpec {
            name: "clientSecret",
            label: "Client secret",
            shape: FieldShape::Secret { hint: true },
            required: Required::If {
                field: "clientAuth",
                one_of: &["basic", "body"],
            },
            nullable: false,
            description: "The client secret; a public client (`clientAuth` `none`) has none.",
        },
        FieldSpec {
            name: "tokenUrl",
            label: "Token URL",
            shape: FieldShape::Url,
            required: Required::Always,
            nullable: false,
            description: "The token endpoint (an absolute URL); its origin must be in `allowedHosts`.",
        },
        FieldSpec {
            name: "authorizationUrl",
            label: "Authorization URL",
            shape: FieldShape::Url,
            required: Required::If {
                field: "grant",
                one_of: &["authorization_code"],
            },
            nullable: false,
            description: "The authorization endpoint a user is sent to when connecting (authorization_code only).",
        },
        FieldSpec {
            name: "revocationUrl",
            label: "Revocation URL",
            shape: FieldShape::Url,
            required: Required::Never,
            nullable: true,
            description: "An RFC 7009 revocation endpoint, called (best effort) when a connected credential is deleted; its origin must be in `allowedHosts`.",
        },
        FieldSpec {
            name: "scopes",
            label: "Scopes",
            shape: FieldShape::TextList,
            required: Required::Never,
            nullable: false,
            description: "Scopes requested with the grant.",
        },
        FieldSpec {
            name: "clientAuth",
            label: "Client authentication",
            shape: FieldShape::Choice {
                options: &["basic", "body", "none"],
            },
            required: Required::Never,
            nullable: false,
            description: "`basic` (client_secret_basic, the default), `body` (client_secret_post) or `none` (a public client, authorization_code only).",
        },
        FieldSpec {
            name: "audience",
            label: "Audience",
            shape: FieldShape::Text { max_length: 512 },
            required: Required::Never,
            nullable: true,
            description: "The `audience` parameter some providers want.",
        },
        FieldSpec {
            name: "authorizationParams",
            label: "Authorization parameters",
            shape: FieldShape::Object,
            required: Required::Never,
            nullable: false,
            description: "Extra parameters of the authorization request, name to string (`access_type`: `offline`, `prompt`: `consent`); authorization_code only.",
        },
    ],
    derived: &[],
};

/// Public configuration of an OAuth2 credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The grant; credentials stored before there was a choice are client credentials.
    #[serde(default)]
    pub grant: OAuth2Grant,
    /// The client id.
    pub client_id: String,
    /// The token endpoint.
    pub token_url: String,
    /// The authorization endpoint (authorization code only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
    /// The RFC 7009 revocation endpoint, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<String>,
    /// Scopes requested with the grant.
    pub scopes: Vec<String>,
    /// How the client authenticates to the token endpoint.
    pub client_auth: OAuth2ClientAuth,
    /// Optional `audience` parameter (Auth0 and others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Extra authorization-request parameters (authorization code only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub authorization_params: BTreeMap<String, String>,
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
        Self {
            grant: OAuth2Grant::ClientCredentials,
            client_id: "client-123".to_owned(),
            token_url: "https://auth.example.com/oauth/token".to_owned(),
            authorization_url: None,
            revocation_url: Some("https://auth.example.com/oauth/revoke".to_owned()),
            scopes: vec!["read:things".to_owned(), "write:things".to_owned()],
            client_auth: OAuth2ClientAuth::Body,
            audience: Some("https://api.example.com".to_owned()),
            authorization_params: BTreeMap::new(),
        }
    }

    /// The endpoints the vault calls must be among the allowed hosts: the same rule as any
    /// other destination the credential is sent to. The authorization endpoint is not one:
    /// a user's browser visits it, and nothing secret goes there.
    fn check_destinations(&self, allowed_hosts: &AllowedHosts) -> Result<(), FieldError> {
        let called = [("tokenUrl", Some(&self.token_url)), ("revocationUrl", self.revocation_url.as_ref())];
        for (field, url) in called {
            let Some(url) = url else { continue };
            match url::Url::parse(url) {
                Ok(url) if allowed_hosts.allows(&url) => {}
                _ => {
                    return Err(FieldError::new(
                        field,
                        "its scheme, host and port must be listed in allowedHosts (https, unless an entry names http://)",
                    ));
                }
            }
        }
        Ok(())
    }

    fn widened_fields(&self, before: &Self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        // Any other endpoint, even on the same host: the path picks the tenant.
        if before.token_url != self.token_url {
            fields.push("tokenUrl");
        }
        if self.revocation_url.is_some() && before.revocation_url != self.revocation_url {
            fields.push("revocationUrl");
        }
        if self.audience.is_some() && before.audience != self.audience {
            fields.push("audience");
        }
        fields
    }
}

impl Config {
    /// Whether the client authenticates with a secret (else it is a public client).
    #[must_use]
    pub const fn has_secret(&self) -> bool {
        !matches!(self.client_auth, OAuth2ClientAuth::None)
    }
}

/// Validates an `oauth2` credential's fields: all of them for a new one, those given for a
/// change of `current`.
fn validate(
    fields: &CredentialFields,
    existing: Option<&Config>,
    errors: &mut ValidationErrors,
) -> Option<(Config, Option<CredentialSecrets>)> {
    let grant = match (fields.text("grant").map(String::as_str), existing) {
        (Some(raw), Some(c)) if raw != c.grant.as_str() => {
            errors.add("grant", "cannot be changed; create a new credential");
            None
        }
        (Some("client_credentials"), _) => Some(OAuth2Grant::ClientCredentials),
        (Some("authorization_code"), _) => Some(OAuth2Grant::AuthorizationCode),
        (Some(_), _) => {
            errors.add("grant", "must be client_credentials or authorization_code");
            None
        }
        (None, Some(c)) => Some(c.grant),
        (None, None) => Some(OAuth2Grant::default()),
    };
    let client_id = match (fields.text("clientId"), existing) {
        (Some(raw), _) => errors.take(public_text("clientId", raw, 512)),
        (None, Some(c)) => Some(c.client_id.clone()),
        (None, None) => {
            errors.add("clientId", "is required");
            None
        }
    };
    let url = |name: &'static str, current: Option<&String>, errors: &mut ValidationErrors| {
        match (fields.nullable_text(name), existing) {
            (Patch::Value(raw), _) => errors.take(fields::endpoint_url(name, raw)).map(Some),
            (Patch::Null, _) => Some(None),
            (Patch::Absent, Some(_)) => Some(current.cloned()),
            (Patch::Absent, None) => Some(None),
        }
    };
    let token_url = url("tokenUrl", existing.map(|c| &c.token_url), errors).and_then(|url| {
        if url.is_none() {
            errors.add("tokenUrl", "is required");
        }
        url
    });
    let authorization_url = url(
        "authorizationUrl",
        existing.and_then(|c| c.authorization_url.as_ref()),
        errors,
    );
    let revocation_url = url(
        "revocationUrl",
        existing.and_then(|c| c.revocation_url.as_ref()),
        errors,
    );
    let scopes = match (fields.texts("scopes"), existing) {
        (Some(raw), _) => errors.take(fields::scopes(raw)),
        (None, Some(c)) => Some(c.scopes.clone()),
        (None, None) => Some(Vec::new()),
    };
    let client_auth = match (fields.text("clientAuth").map(String::as_str), existing) {
        (Some("basic"), _) => Some(OAuth2ClientAuth::Basic),
        (Some("body"), _) => Some(OAuth2ClientAuth::Body),
        (Some("none"), _) => Some(OAuth2ClientAuth::None),
        (Some(_), _) => {
            errors.add("clientAuth", "must be basic, body or none");
            None
        }
        (None, Some(c)) => Some(c.client_auth),
        (None, None) => Some(OAuth2ClientAuth::default()),
    };
    let audience = match (fields.nullable_text("audience"), existing) {
        (Patch::Value(raw), _) => errors.take(public_text("audience", raw, 512)).map(Some),
        (Patch::Null, _) => Some(None),
        (Patch::Absent, Some(c)) => Some(c.audience.clone()),
        (Patch::Absent, None) => Some(None),
    };
    let authorization_params = match (fields.object("authorizationParams"), existing) {
        (Some(raw), _) => errors.take(fields::authorization_params(raw)),
        (None, Some(c)) => Some(c.authorization_params.clone()),
        (None, None) => Some(BTreeMap::new()),
    };
    let public_client = client_auth == Some(OAuth2ClientAuth::None);
    let secret = if public_client {
        if fields.secret("clientSecret").is_some() {
            errors.add(
                "clientSecret",
                "a public client (clientAuth none) has no client secret",
            );
        }
        None
    } else {
        // A change that makes a public client confidential must bring the secret.
        let had_secret = existing.is_some_and(Config::has_secret);
        secret_field(fields, "clientSecret", SentIn::Elsewhere, had_secret, errors)
    };
    let config = Config {
        grant: grant?,
        client_id: client_id?,
        token_url: token_url?,
        authorization_url: authorization_url?,
        revocation_url: revocation_url?,
        scopes: scopes?,
        client_auth: client_auth?,
        audience: audience?,
        authorization_params: authorization_params?,
    };
    check_grant(&config, errors)?;
    let secrets = match secret {
        Some(value) => Some(CredentialSecrets::new(CredentialType::OAuth2).with_text("clientSecret", value)),
        // A new public client has no secret to seal: an empty set, so it is stored.
        None if public_client && existing.is_none() => {
            Some(CredentialSecrets::new(CredentialType::OAuth2))
        }
        None => None,
    };
    Some((config, secrets))
}

/// The fields that belong to one grant only.
fn check_grant(config: &Config, errors: &mut ValidationErrors) -> Option<()> {
    let before = errors.errors().len();
    match config.grant {
        OAuth2Grant::AuthorizationCode => {
            if config.authorization_url.is_none() {
                errors.add("authorizationUrl", "is required for the authorization_code grant");
            }
        }
        OAuth2Grant::ClientCredentials => {
            if config.authorization_url.is_some() {
                errors.add("authorizationUrl", "is only for the authorization_code grant");
            }
            if !config.authorization_params.is_empty() {
                errors.add("authorizationParams", "are only for the authorization_code grant");
            }
            if !config.has_secret() {
                errors.add(
                    "clientAuth",
                    "none (a public client) is only for the authorization_code grant",
                );
            }
        }
    }
    (errors.errors().len() == before).then_some(())
}
