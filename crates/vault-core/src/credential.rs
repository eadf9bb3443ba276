//! Credentials: what every credential has (name, description, destinations, expiry,
//! versions) and the values several types share. Each type's own fields are in its module
//! of [`credential_types`](mod@crate::credential_types).

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ca_bundle::CaBundle;
use crate::cipher::SealedBlob;
pub use crate::credential_types::jwt::Config as JwtConfig;
pub use crate::credential_types::oauth2::Config as OAuth2Config;
pub use crate::credential_types::{
    CredentialKind, CredentialSecrets, CredentialType, PayloadMismatch,
};
use crate::egress::AllowedHosts;
use crate::ids::{CredentialId, OrganizationId};
use crate::validation::FieldError;

/// The longest credential name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// The largest single secret value (token, password, HMAC secret, header value), in bytes.
pub const MAX_SECRET_BYTES: usize = 8 * 1024;
/// The largest PEM private key, in bytes (a 4096-bit RSA key is about 3.3 KiB).
pub const MAX_PRIVATE_KEY_BYTES: usize = 16 * 1024;
/// The most headers a custom credential may set.
pub const MAX_CUSTOM_HEADERS: usize = 32;
/// The most OAuth2 scopes.
pub const MAX_SCOPES: usize = 64;
/// The largest serialized JWT claims template, in bytes.
pub const MAX_CLAIMS_BYTES: usize = 4 * 1024;
/// Shortest secret for which a hint (its last four characters) is shown. Shorter values
/// would give away too large a share of themselves.
pub const HINT_MIN_CHARS: usize = 16;

/// A credential's display name: 1 to 200 characters, no control characters, no
/// surrounding whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CredentialName(String);

impl CredentialName {
    /// Validates a name.
    ///
    /// # Errors
    /// When the name is empty, too long, or has control characters.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        check_text("name", name, 1, MAX_NAME_CHARS, false)?;
        Ok(Self(name.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A credential's optional description: at most 2000 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Description(String);

impl Description {
    /// Validates a description.
    ///
    /// # Errors
    /// When it is too long or has control characters other than newlines and tabs.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        check_text("description", raw, 0, MAX_DESCRIPTION_CHARS, true)?;
        Ok(Self(raw.to_owned()))
    }

    /// The description.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) fn check_text(
    field: &str,
    value: &str,
    min_chars: usize,
    max_chars: usize,
    allow_newlines: bool,
) -> Result<(), FieldError> {
    let chars = value.chars().count();
    if chars < min_chars {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if chars > max_chars {
        return Err(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    // Shown to people (lists, the console, audit readers): characters that reorder or hide
    // text would let a name look like another one.
    if value.chars().any(is_invisible_or_reordering) {
        return Err(FieldError::new(
            field,
            "must not contain bidirectional-override or zero-width characters (U+200B-U+200F, U+202A-U+202E, U+2066-U+2069)",
        ));
    }
    Ok(())
}

/// Zero-width characters and marks (U+200B-U+200F) and bidirectional embeddings,
/// overrides and isolates (U+202A-U+202E, U+2066-U+2069).
const fn is_invisible_or_reordering(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Where an API key (or a signed JWT) goes on the outgoing request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlacementLocation {
    /// An HTTP header.
    Header,
    /// A query-string parameter.
    Query,
}

/// Where and how a value is attached: header or query parameter, its name, and an optional
/// prefix put before the value (`"Bearer "`, `"Token "`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// Header or query parameter.
    #[serde(rename = "in")]
    pub location: PlacementLocation,
    /// The header or parameter name.
    pub name: String,
    /// Text put before the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl Placement {
    /// The api_key default: header `X-API-Key`, no prefix.
    #[must_use]
    pub fn api_key_default() -> Self {
        Self {
            location: PlacementLocation::Header,
            name: "X-API-Key".to_owned(),
            prefix: None,
        }
    }

    /// The jwt default: `Authorization: Bearer <jwt>`.
    #[must_use]
    pub fn jwt_default() -> Self {
        Self {
            location: PlacementLocation::Header,
            name: "Authorization".to_owned(),
            prefix: Some("Bearer ".to_owned()),
        }
    }
}

/// How an OAuth2 client authenticates to the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OAuth2ClientAuth {
    /// `client_secret_basic`: HTTP Basic with client id and secret (the RFC 6749 default).
    #[default]
    Basic,
    /// `client_secret_post`: id and secret in the form body.
    Body,
    /// A public client (RFC 6749 §2.1): the client id in the form body and no secret;
    /// only with the authorization-code grant, which PKCE protects, and the JWT-bearer
    /// grant, whose assertion authenticates.
    None,
    /// `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a JWT the vault signs with the
    /// client's private key for each token request, instead of a shared secret.
    #[serde(rename = "private_key_jwt")]
    PrivateKeyJwt,
}

/// Which OAuth2 grant a credential uses to get its access tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuth2Grant {
    /// RFC 6749 §4.4: the vault asks with the client's own credentials.
    #[default]
    ClientCredentials,
    /// RFC 6749 §4.1 with PKCE: a user approves once (the connect flow), then the vault
    /// keeps the access token fresh with the refresh token it was given.
    AuthorizationCode,
    /// RFC 7523 §2.1: the vault asks with a JWT it signs with the private key (Google
    /// service accounts).
    JwtBearer,
}

impl OAuth2Grant {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::AuthorizationCode => "authorization_code",
            Self::JwtBearer => "jwt_bearer",
        }
    }
}

/// JWT signing algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    /// HMAC SHA-256.
    HS256,
    /// HMAC SHA-384.
    HS384,
    /// HMAC SHA-512.
    HS512,
    /// RSA PKCS#1 v1.5 SHA-256.
    RS256,
    /// RSA PKCS#1 v1.5 SHA-384.
    RS384,
    /// RSA PKCS#1 v1.5 SHA-512.
    RS512,
    /// RSA-PSS SHA-256.
    PS256,
    /// RSA-PSS SHA-384.
    PS384,
    /// RSA-PSS SHA-512.
    PS512,
    /// ECDSA P-256 SHA-256.
    ES256,
    /// ECDSA P-384 SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl JwtAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [Self; 12] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// The JOSE name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// HMAC algorithms sign with a shared `secret`; the others with a `privateKey`.
    #[must_use]
    pub const fn uses_shared_secret(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// The secret field that holds the key this algorithm signs with.
    #[must_use]
    pub const fn key_field(self) -> &'static str {
        if self.uses_shared_secret() {
            "secret"
        } else {
            "privateKey"
        }
    }
}

impl FromStr for JwtAlgorithm {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            FieldError::new(
                "algorithm",
                "must be one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA",
            )
        })
    }
}

/// The claims every signed JWT carries; `iat`, `exp` and `jti` are added at signing time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtClaims {
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Any other claims, copied as given.
    #[serde(flatten)]
    pub custom: serde_json::Map<String, serde_json::Value>,
}

/// A credential as the API shows it: everything except the secret values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// Server-assigned id (UUID v7).
    pub id: CredentialId,
    /// The owning organization.
    pub organization_id: OrganizationId,
    /// Display name.
    pub name: CredentialName,
    /// Optional description.
    pub description: Option<Description>,
    /// Type and public fields.
    pub kind: CredentialKind,
    /// Where the credential may be sent (proxy destinations, OAuth2 token endpoint).
    pub allowed_hosts: AllowedHosts,
    /// The roots an upstream's TLS certificate must chain to, when pinned.
    pub ca_bundle: Option<CaBundle>,
    /// Non-reversible hints of the secret values.
    pub secret_hints: BTreeMap<String, String>,
    /// When the credential stops being usable, if ever.
    pub expires_at: Option<OffsetDateTime>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Time of the last change.
    pub updated_at: OffsetDateTime,
    /// Starts at 1 and grows by one with every change.
    pub version: i64,
}

impl Credential {
    /// True once `expires_at` has passed.
    #[must_use]
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A credential with its sealed secrets, as stores keep it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCredential {
    /// The public part.
    pub credential: Credential,
    /// The secret fields, sealed by the cipher and bound to (organization, id, version).
    pub sealed: SealedBlob,
    /// The lowest version of the secret values that may be restored without
    /// `credentials:route`: older ones were entered when the credential reached fewer
    /// destinations than it does now. 0 until a change first widens them.
    pub restore_floor: i64,
    /// The number of the version holding the current secret values, so that a change
    /// numbers its version without listing them. 0 for a credential stored before versions
    /// existed: its values become version 1 on their first change.
    pub secret_version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_descriptions_refuse_reordering_and_invisible_characters() {
        for c in ('\u{200B}'..='\u{200F}')
            .chain('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}')
        {
            let text = format!("pay{c}roll");
            let name = CredentialName::parse(&text).expect_err("refused");
            assert_eq!(name.field, "name", "{:04X}", u32::from(c));
            let description = Description::parse(&text).expect_err("refused");
            assert_eq!(description.field, "description");
        }
        // Neighbours of the ranges, and ordinary non-Latin text, stay allowed.
        for ok in ["a\u{2010}b", "a\u{2070}b", "a\u{2065}b", "日本語", "עברית"] {
            CredentialName::parse(ok).expect(ok);
        }
    }
}
