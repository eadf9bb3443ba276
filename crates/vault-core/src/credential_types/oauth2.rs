//! `oauth2`: an access token obtained with the client-credentials grant, or with the
//! authorization-code grant after a user connects the credential (`vault::connect`); the
//! token is sent as a bearer token.

mod fields;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::field_rules::{SentIn, public_text, secret_field};
use super::{CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec};
use crate::credential::{JwtAlgorithm, OAuth2ClientAuth, OAuth2Grant};
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
                options: &["client_credentials", "authorization_code", "jwt_bearer"],
            },
            required: Required::Never,
            nullable: false,
            description: "`client_credentials` (the default); `authorization_code`: a user connects the credential once (`POST /credentials/{id}/connect`), and the vault refreshes the tokens it is given; or `jwt_bearer` (RFC 7523 §2.1, Google service accounts): the vault asks with a JWT it signs with `privateKey` (`iss` the client id, `aud` the token URL, `scope`, and `sub` when `assertionSubject` is set). Cannot be changed.",
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
            description: "The client secret, for `clientAuth` `basic` or `body`.",
        },
        FieldSpec {
            name: "privateKey",
            label: "Private key (PEM)",
            shape: FieldShape::SecretPem,
            required: Required::If {
                field: "clientAuth",
                one_of: &["private_key_jwt"],
            },
            nullable: false,
            description: "For `clientAuth` `private_key_jwt` (and so the `jwt_bearer` grant): the PEM private key (PKCS#8, PKCS#1 or SEC1) the assertions are signed with.",
        },
        FieldSpec {
            name: "assertionAlgorithm",
            label: "Assertion algorithm",
            shape: FieldShape::Choice {
                options: &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"],
            },
            // Asked for only with the key it signs with; the API defaults it.
            required: Required::If {
                field: "clientAuth",
                one_of: &["private_key_jwt"],
            },
            nullable: false,
            description: "The algorithm assertions are signed with (default RS256).",
        },
        FieldSpec {
            name: "assertionKeyId",
            label: "Assertion key ID",
            shape: FieldShape::Text { max_length: 256 },
            required: Required::Never,
            nullable: true,
            description: "`private_key_jwt`: the assertions' `kid` header, the id under which the provider holds the public key.",
        },
        FieldSpec {
            name: "assertionSubject",
            label: "Assertion subject",
            shape: FieldShape::Text { max_length: 512 },
            required: Required::Never,
            nullable: true,
            description: "`jwt_bearer` only: the assertion's `sub`, the user a service account acts for (Google's domain-wide delegation).",
        },
        FieldSpec {
            name: "tokenUrl",
            label: "Token URL",
            shape: FieldShape::Url,
            required: Required::Always,
            nullable: false,
            description: "The token endpoint, https (an absolute URL). Naming it allows token requests to it; it need not be in `allowedHosts`, which governs proxied requests.",
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
            description: "An RFC 7009 revocation endpoint, called (best effort) when a connected credential is deleted; https, like `tokenUrl`.",
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
                options: &["basic", "body", "none", "private_key_jwt"],
            },
            required: Required::Never,
            nullable: false,
            description: "`basic` (client_secret_basic, the default but for `jwt_bearer`), `body` (client_secret_post), `private_key_jwt` (a JWT signed with `privateKey` per token request, RFC 7523 §2.2; what `jwt_bearer` requires and defaults to, its grant's assertion being the proof), or `none` (a public client, authorization_code only).",
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
    /// The algorithm of the assertions signed with the private key, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_algorithm: Option<JwtAlgorithm>,
    /// The assertions' `kid` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_key_id: Option<String>,
    /// The JWT-bearer assertion's `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_subject: Option<String>,
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
            assertion_algorithm: None,
            assertion_key_id: None,
            assertion_subject: None,
        }
    }

    /// The private key assertions are signed with: it must sign with its algorithm.
    fn jwt_key(&self) -> Option<(JwtAlgorithm, &'static str)> {
        self.assertion_algorithm.map(|algorithm| (algorithm, "privateKey"))
    }

    /// The endpoints the vault calls for tokens (token, revocation) are allowed by being
    /// named: whoever writes `tokenUrl` would write its host in `allowedHosts` too, and a
    /// change of either is a change of destinations (see `widened_fields`). They must be
    /// https, unless `allowedHosts` names their origin with `http://`; the network rules
    /// still apply when they are called. `allowedHosts` keeps governing where requests
    /// are proxied. The authorization endpoint is not called by the vault: a user's
    /// browser visits it, and nothing secret goes there.
    fn check_destinations(&self, allowed_hosts: &AllowedHosts) -> Result<(), FieldError> {
        let called = [("tokenUrl", Some(&self.token_url)), ("revocationUrl", self.revocation_url.as_ref())];
        for (field, url) in called {
            let Some(url) = url else { continue };
            match url::Url::parse(url) {
                Ok(url) if url.scheme() == "https" || allowed_hosts.allows(&url) => {}
                _ => {
                    return Err(FieldError::new(
                        field,
                        "must be https (plain http only where allowedHosts names its origin with http://)",
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
    /// Whether the client authenticates with a shared secret.
    #[must_use]
    pub const fn has_secret(&self) -> bool {
        matches!(
            self.client_auth,
            OAuth2ClientAuth::Basic | OAuth2ClientAuth::Body
        )
    }

    /// Whether the vault signs assertions with a private key (client authentication, or
    /// the JWT-bearer grant, which requires it).
    #[must_use]
    pub fn signs_assertions(&self) -> bool {
        self.client_auth == OAuth2ClientAuth::PrivateKeyJwt
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
        (Some("jwt_bearer"), _) => Some(OAuth2Grant::JwtBearer),
        (Some(_), _) => {
            errors.add(
                "grant",
                "must be client_credentials, authorization_code or jwt_bearer",
            );
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
        (Some("private_key_jwt"), _) => Some(OAuth2ClientAuth::PrivateKeyJwt),
        (Some(_), _) => {
            errors.add("clientAuth", "must be basic, body, none or private_key_jwt");
            None
        }
        (None, Some(c)) => Some(c.client_auth),
        // The JWT-bearer grant's assertion, signed with the private key, is the client's proof.
        (None, None) if grant == Some(OAuth2Grant::JwtBearer) => {
            Some(OAuth2ClientAuth::PrivateKeyJwt)
        }
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
    let subject = match (fields.nullable_text("assertionSubject"), existing) {
        (Patch::Value(raw), _) => errors.take(public_text("assertionSubject", raw, 512)).map(Some),
        (Patch::Null, _) => Some(None),
        (Patch::Absent, Some(c)) => Some(c.assertion_subject.clone()),
        (Patch::Absent, None) => Some(None),
    };
    let shared = matches!(
        client_auth,
        Some(OAuth2ClientAuth::Basic | OAuth2ClientAuth::Body)
    );
    let signs = client_auth == Some(OAuth2ClientAuth::PrivateKeyJwt);
    let secret = if shared {
        // A change to a shared secret from another proof must bring the secret.
        let had_secret = existing.is_some_and(Config::has_secret);
        secret_field(fields, "clientSecret", SentIn::Elsewhere, had_secret, errors)
    } else {
        if fields.secret("clientSecret").is_some() {
            errors.add("clientSecret", "is only for clientAuth basic or body");
        }
        None
    };
    let assertion_key_id = crate::credential_types::jwt::key_id(
        fields,
        "assertionKeyId",
        existing.and_then(|c| c.assertion_key_id.as_ref()),
        errors,
    );
    if !signs && fields.has("assertionKeyId") {
        errors.add("assertionKeyId", "is only for clientAuth private_key_jwt");
    }
    let (assertion_algorithm, private_key) = fields::assertion_key(
        fields,
        signs,
        existing.and_then(|c| c.assertion_algorithm),
        errors,
    )?;
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
        assertion_algorithm,
        assertion_key_id: if signs { assertion_key_id? } else { None },
        assertion_subject: subject?,
    };
    check_grant(&config, errors)?;
    let secrets = match (secret, private_key) {
        (Some(value), _) => {
            Some(CredentialSecrets::new(CredentialType::OAuth2).with_text("clientSecret", value))
        }
        (None, Some(key)) => {
            Some(CredentialSecrets::new(CredentialType::OAuth2).with_text("privateKey", key))
        }
        // A new public client has no secret to seal: an empty set, so it is stored.
        (None, None) if !shared && !signs && existing.is_none() => {
            Some(CredentialSecrets::new(CredentialType::OAuth2))
        }
        (None, None) => None,
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
        OAuth2Grant::ClientCredentials | OAuth2Grant::JwtBearer => {
            if config.authorization_url.is_some() {
                errors.add("authorizationUrl", "is only for the authorization_code grant");
            }
            if !config.authorization_params.is_empty() {
                errors.add("authorizationParams", "are only for the authorization_code grant");
            }
        }
    }
    match config.grant {
        OAuth2Grant::ClientCredentials if config.client_auth == OAuth2ClientAuth::None => {
            errors.add(
                "clientAuth",
                "none (a public client) is only for the authorization_code grant",
            );
        }
        OAuth2Grant::JwtBearer if config.client_auth != OAuth2ClientAuth::PrivateKeyJwt => {
            errors.add(
                "clientAuth",
                "must be private_key_jwt for jwt_bearer: the private key signs the grant's assertion",
            );
        }
        OAuth2Grant::ClientCredentials | OAuth2Grant::AuthorizationCode
            if config.assertion_subject.is_some() =>
        {
            errors.add("assertionSubject", "is only for the jwt_bearer grant");
        }
        _ => {}
    }
    (errors.errors().len() == before).then_some(())
}

#[cfg(test)]
mod tests;
