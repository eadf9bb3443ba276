//! `oauth2`: the client-credentials grant; the token it gets is sent as a bearer token.

use serde::{Deserialize, Serialize};

use super::field_rules::{SentIn, public_text, secret_field};
use super::{CredentialSecrets, CredentialType, FieldShape, FieldSpec, Required, TypeRules, TypeSpec};
use crate::credential::{MAX_SCOPES, OAuth2ClientAuth};
use crate::egress::AllowedHosts;
use crate::input::{CredentialFields, Patch};
use crate::validation::{FieldError, ValidationErrors};

/// How an `oauth2` credential looks from outside.
const SPEC: TypeSpec = TypeSpec {
    credential_type: CredentialType::OAuth2,
    title: "OAuth2 client credentials",
    description: "OAuth2 client credentials: the vault fetches the access token, caches it until shortly before it expires, and sends `Authorization: Bearer <token>`.",
    fields: &[
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
            required: Required::Always,
            nullable: false,
            description: "The client secret.",
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
                options: &["basic", "body"],
            },
            required: Required::Never,
            nullable: false,
            description: "`basic` (client_secret_basic, the default) or `body` (client_secret_post).",
        },
        FieldSpec {
            name: "audience",
            label: "Audience",
            shape: FieldShape::Text { max_length: 512 },
            required: Required::Never,
            nullable: true,
            description: "The `audience` parameter some providers want.",
        },
    ],
    derived: &[],
};

/// Public configuration of an OAuth2 client-credentials credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The client id.
    pub client_id: String,
    /// The token endpoint.
    pub token_url: String,
    /// Scopes requested with the grant.
    pub scopes: Vec<String>,
    /// Basic or body client authentication.
    pub client_auth: OAuth2ClientAuth,
    /// Optional `audience` parameter (Auth0 and others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
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
            client_id: "client-123".to_owned(),
            token_url: "https://auth.example.com/oauth/token".to_owned(),
            scopes: vec!["read:things".to_owned(), "write:things".to_owned()],
            client_auth: OAuth2ClientAuth::Body,
            audience: Some("https://api.example.com".to_owned()),
        }
    }

    /// The token endpoint must be one of the allowed hosts: the same rule as any other
    /// destination the credential is sent to.
    fn check_destinations(&self, allowed_hosts: &AllowedHosts) -> Result<(), FieldError> {
        match url::Url::parse(&self.token_url) {
            Ok(url) if allowed_hosts.allows(&url) => Ok(()),
            _ => Err(FieldError::new(
                "tokenUrl",
                "its scheme, host and port must be listed in allowedHosts (https, unless an entry names http://)",
            )),
        }
    }

    fn widened_fields(&self, before: &Self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        // Any other token endpoint, even on the same host: the path picks the tenant.
        if before.token_url != self.token_url {
            fields.push("tokenUrl");
        }
        if self.audience.is_some() && before.audience != self.audience {
            fields.push("audience");
        }
        fields
    }
}

fn token_url(raw: &str) -> Result<String, FieldError> {
    // The URL parser drops tabs and line breaks silently: what the caller wrote would not be
    // what the vault calls.
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new(
            "tokenUrl",
            "must not contain control characters",
        ));
    }
    let url = url::Url::parse(raw)
        .map_err(|_| FieldError::new("tokenUrl", "must be an absolute http or https URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(FieldError::new(
            "tokenUrl",
            "must be an absolute http or https URL",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            "tokenUrl",
            "must not carry credentials; put the client secret in clientSecret",
        ));
    }
    if url.fragment().is_some() {
        return Err(FieldError::new("tokenUrl", "must not have a fragment"));
    }
    if raw.len() > 2048 {
        return Err(FieldError::new(
            "tokenUrl",
            "must be at most 2048 characters",
        ));
    }
    Ok(url.to_string())
}

fn scopes(raw: &[String]) -> Result<Vec<String>, FieldError> {
    if raw.len() > MAX_SCOPES {
        return Err(FieldError::new(
            "scopes",
            format!("must have at most {MAX_SCOPES} entries"),
        ));
    }
    // RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    let valid = |s: &String| {
        !s.is_empty()
            && s.len() <= 256
            && s.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
    };
    if !raw.iter().all(valid) {
        return Err(FieldError::new(
            "scopes",
            "each scope must be 1-256 printable ASCII characters without spaces, '\"' or '\\'",
        ));
    }
    Ok(raw.to_vec())
}

/// Validates an `oauth2` credential's fields: all of them for a new one, those given for a
/// change of `current`.
fn validate(
    fields: &CredentialFields,
    existing: Option<&Config>,
    errors: &mut ValidationErrors,
) -> Option<(Config, Option<CredentialSecrets>)> {
    let client_id = match (fields.text("clientId"), existing) {
        (Some(raw), _) => errors.take(public_text("clientId", raw, 512)),
        (None, Some(c)) => Some(c.client_id.clone()),
        (None, None) => {
            errors.add("clientId", "is required");
            None
        }
    };
    let token_url = match (fields.text("tokenUrl"), existing) {
        (Some(raw), _) => errors.take(token_url(raw)),
        (None, Some(c)) => Some(c.token_url.clone()),
        (None, None) => {
            errors.add("tokenUrl", "is required");
            None
        }
    };
    let scopes = match (fields.texts("scopes"), existing) {
        (Some(raw), _) => errors.take(scopes(raw)),
        (None, Some(c)) => Some(c.scopes.clone()),
        (None, None) => Some(Vec::new()),
    };
    let client_auth = match (fields.text("clientAuth").map(String::as_str), existing) {
        (Some("basic"), _) => Some(OAuth2ClientAuth::Basic),
        (Some("body"), _) => Some(OAuth2ClientAuth::Body),
        (Some(_), _) => {
            errors.add("clientAuth", "must be basic or body");
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
    let secret = secret_field(
        fields,
        "clientSecret",
        SentIn::Elsewhere,
        existing.is_some(),
        errors,
    );
    Some((
        Config {
            client_id: client_id?,
            token_url: token_url?,
            scopes: scopes?,
            client_auth: client_auth?,
            audience: audience?,
        },
        secret.map(|v| CredentialSecrets::new(CredentialType::OAuth2).with_text("clientSecret", v)),
    ))
}
