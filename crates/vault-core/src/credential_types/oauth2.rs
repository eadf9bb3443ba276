//! `oauth2`: the client-credentials grant; the token it gets is sent as a bearer token.

use super::Typed;
use super::field_rules::{SentIn, public_text, secret_field};
use super::spec::{FieldShape, FieldSpec, Required, TypeSpec};
use crate::credential::{
    CredentialKind, CredentialSecrets, CredentialType, MAX_SCOPES, OAuth2ClientAuth, OAuth2Config,
};
use crate::egress::AllowedHosts;
use crate::input::{CredentialFields, Patch};
use crate::validation::{FieldError, ValidationErrors};

/// How an `oauth2` credential looks from outside.
pub const SPEC: TypeSpec = TypeSpec {
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
            shape: FieldShape::Secret,
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

/// An OAuth2 credential's token endpoint must be one of its allowed hosts: the same rule
/// as any other destination it is sent to.
///
/// # Errors
/// Naming `tokenUrl` when its origin is not allowed.
pub fn check_token_url_allowed(
    kind: &CredentialKind,
    allowed_hosts: &AllowedHosts,
) -> Result<(), FieldError> {
    let CredentialKind::OAuth2(config) = kind else {
        return Ok(());
    };
    match url::Url::parse(&config.token_url) {
        Ok(url) if allowed_hosts.allows(&url) => Ok(()),
        _ => Err(FieldError::new(
            "tokenUrl",
            "its scheme, host and port must be listed in allowedHosts (https, unless an entry names http://)",
        )),
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
pub(super) fn validate(
    fields: &CredentialFields,
    current: Option<&CredentialKind>,
    errors: &mut ValidationErrors,
) -> Typed {
    let existing = match current {
        Some(CredentialKind::OAuth2(config)) => Some(config),
        _ => None,
    };
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
        CredentialKind::OAuth2(OAuth2Config {
            client_id: client_id?,
            token_url: token_url?,
            scopes: scopes?,
            client_auth: client_auth?,
            audience: audience?,
        }),
        secret.map(CredentialSecrets::ClientSecret),
    ))
}
