//! Unvalidated input for creating and patching credentials, and the per-type rules that
//! turn it into domain values.
//!
//! Input is flat, as the REST contract's bodies are: every field of every type sits side
//! by side, and the credential type decides which of them apply.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::clock::truncate_to_micros;
use crate::credential::{
    CredentialKind, CredentialName, CredentialSecrets, CredentialType, Description, JwtAlgorithm,
    JwtClaims, JwtConfig, MAX_CLAIMS_BYTES, MAX_CUSTOM_HEADERS, MAX_PRIVATE_KEY_BYTES, MAX_SCOPES,
    MAX_SECRET_BYTES, OAuth2ClientAuth, OAuth2Config, Placement, PlacementLocation, check_text,
};
use crate::egress::AllowedHosts;
use crate::validation::{FieldError, ValidationErrors};

/// Default lifetime of a signed JWT.
pub const DEFAULT_JWT_TTL_SECONDS: u32 = 300;
/// Longest allowed lifetime of a signed JWT (one day).
pub const MAX_JWT_TTL_SECONDS: u32 = 86_400;

/// A field that may be absent (leave as is), null (clear) or set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not given: keep the current value.
    #[default]
    Absent,
    /// Given as null: clear it.
    Null,
    /// Given: set it.
    Value(T),
}

impl<T> Patch<T> {
    /// True unless absent.
    #[must_use]
    pub const fn is_present(&self) -> bool {
        !matches!(self, Self::Absent)
    }
}

/// `placement` as given: each part optional, defaults filled in per type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlacementInput {
    /// `in`: `header` or `query`.
    pub location: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `prefix`.
    pub prefix: Option<String>,
}

/// Every field a create or patch body can carry, none yet validated.
#[derive(Default)]
pub struct CredentialFields {
    /// `name`.
    pub name: Option<String>,
    /// `description` (null clears it on patch).
    pub description: Patch<String>,
    /// `expiresAt`, ISO 8601 / RFC 3339 (null clears it on patch).
    pub expires_at: Patch<String>,
    /// `allowedHosts` (every type; null clears it on patch).
    pub allowed_hosts: Patch<Vec<String>>,
    /// `value` (api_key, bearer_token).
    pub value: Option<SecretString>,
    /// `placement` (api_key, jwt).
    pub placement: Option<PlacementInput>,
    /// `username` (basic_auth).
    pub username: Option<String>,
    /// `password` (basic_auth).
    pub password: Option<SecretString>,
    /// `clientId` (oauth2).
    pub client_id: Option<String>,
    /// `clientSecret` (oauth2).
    pub client_secret: Option<SecretString>,
    /// `tokenUrl` (oauth2).
    pub token_url: Option<String>,
    /// `scopes` (oauth2).
    pub scopes: Option<Vec<String>>,
    /// `clientAuth`: `basic` or `body` (oauth2).
    pub client_auth: Option<String>,
    /// `audience` (oauth2; null clears it on patch).
    pub audience: Patch<String>,
    /// `algorithm` (jwt).
    pub algorithm: Option<String>,
    /// `secret` (jwt, HS*).
    pub secret: Option<SecretString>,
    /// `privateKey` (jwt, all but HS*).
    pub private_key: Option<SecretString>,
    /// `claims` (jwt).
    pub claims: Option<serde_json::Map<String, serde_json::Value>>,
    /// `ttlSeconds` (jwt).
    pub ttl_seconds: Option<i64>,
    /// `headers`, name to value (custom).
    pub headers: Option<Vec<(String, SecretString)>>,
}

impl std::fmt::Debug for CredentialFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only which fields are present: values may be secret.
        f.debug_struct("CredentialFields")
            .field("present", &self.present_fields())
            .finish_non_exhaustive()
    }
}

impl CredentialFields {
    /// Names (API spelling) of the type-specific fields that were given.
    #[must_use]
    pub fn present_fields(&self) -> Vec<&'static str> {
        let mut present = Vec::new();
        let mut mark = |given: bool, name: &'static str| {
            if given {
                present.push(name);
            }
        };
        mark(self.value.is_some(), "value");
        mark(self.placement.is_some(), "placement");
        mark(self.username.is_some(), "username");
        mark(self.password.is_some(), "password");
        mark(self.client_id.is_some(), "clientId");
        mark(self.client_secret.is_some(), "clientSecret");
        mark(self.token_url.is_some(), "tokenUrl");
        mark(self.scopes.is_some(), "scopes");
        mark(self.client_auth.is_some(), "clientAuth");
        mark(self.audience.is_present(), "audience");
        mark(self.algorithm.is_some(), "algorithm");
        mark(self.secret.is_some(), "secret");
        mark(self.private_key.is_some(), "privateKey");
        mark(self.claims.is_some(), "claims");
        mark(self.ttl_seconds.is_some(), "ttlSeconds");
        mark(self.headers.is_some(), "headers");
        present
    }
}

/// The type-specific fields each type accepts.
#[must_use]
pub const fn fields_of(kind: CredentialType) -> &'static [&'static str] {
    match kind {
        CredentialType::ApiKey => &["value", "placement"],
        CredentialType::BearerToken => &["value"],
        CredentialType::BasicAuth => &["username", "password"],
        CredentialType::OAuth2 => &[
            "clientId",
            "clientSecret",
            "tokenUrl",
            "scopes",
            "clientAuth",
            "audience",
        ],
        CredentialType::Jwt => &[
            "algorithm",
            "secret",
            "privateKey",
            "claims",
            "ttlSeconds",
            "placement",
        ],
        CredentialType::Custom => &["headers"],
    }
}

/// A credential ready to be sealed and stored.
#[derive(Debug)]
pub struct NewCredential {
    /// Name.
    pub name: CredentialName,
    /// Description.
    pub description: Option<Description>,
    /// Type and public fields.
    pub kind: CredentialKind,
    /// Where it may be sent.
    pub allowed_hosts: AllowedHosts,
    /// Secret fields.
    pub secrets: CredentialSecrets,
    /// Expiry.
    pub expires_at: Option<OffsetDateTime>,
}

impl NewCredential {
    /// Applies the rules of `kind` to `fields`.
    ///
    /// # Errors
    /// Every missing, invalid or inapplicable field, each named.
    pub fn validate(
        kind: CredentialType,
        fields: &CredentialFields,
        now: OffsetDateTime,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        reject_foreign_fields(kind, fields, &mut errors);

        let name = match &fields.name {
            Some(raw) => errors.take(CredentialName::parse(raw)),
            None => {
                errors.add("name", "is required");
                None
            }
        };
        let description = match &fields.description {
            Patch::Value(raw) => errors.take(Description::parse(raw)),
            Patch::Absent | Patch::Null => None,
        };
        let expires_at = match &fields.expires_at {
            Patch::Value(raw) => errors.take(parse_expiry(raw, now)),
            Patch::Absent | Patch::Null => None,
        };
        let allowed_hosts = match &fields.allowed_hosts {
            Patch::Value(raw) => errors.take(AllowedHosts::parse(raw)),
            Patch::Absent | Patch::Null => Some(AllowedHosts::default()),
        };

        let typed = match kind {
            CredentialType::ApiKey => api_key(fields, None, &mut errors),
            CredentialType::BearerToken => bearer(fields, &mut errors),
            CredentialType::BasicAuth => basic(fields, None, &mut errors),
            CredentialType::OAuth2 => oauth2(fields, None, &mut errors),
            CredentialType::Jwt => jwt(fields, None, &mut errors),
            CredentialType::Custom => custom(fields, &mut errors),
        };
        if let (Some((kind, _)), Some(hosts)) = (&typed, &allowed_hosts)
            && let Err(error) = check_token_url_allowed(kind, hosts)
        {
            errors.add(error.field, error.message);
        }
        match (name, typed, allowed_hosts) {
            (Some(name), Some((kind, Some(secrets))), Some(allowed_hosts)) if errors.is_empty() => {
                Ok(Self {
                    name,
                    description,
                    kind,
                    allowed_hosts,
                    secrets,
                    expires_at,
                })
            }
            _ => {
                if errors.is_empty() {
                    errors.add("type", "is missing its secret field");
                }
                Err(errors)
            }
        }
    }
}

/// The result of applying a patch to a credential.
#[derive(Debug)]
pub struct ValidPatch {
    /// New name, if changed.
    pub name: Option<CredentialName>,
    /// New description, if changed (`Some(None)` clears it).
    pub description: Option<Option<Description>>,
    /// New expiry, if changed (`Some(None)` clears it).
    pub expires_at: Option<Option<OffsetDateTime>>,
    /// New allowed hosts, if given.
    pub allowed_hosts: Option<AllowedHosts>,
    /// New public fields, if any changed.
    pub kind: Option<CredentialKind>,
    /// New secrets, to be sealed, if any secret changed.
    pub secrets: Option<CredentialSecrets>,
}

impl ValidPatch {
    /// Validates `fields` as a partial update of a credential whose public part is
    /// `current`. Secret fields replace the sealed payload whole; for every type the
    /// payload is one unit (custom `headers` is replaced as a map).
    ///
    /// # Errors
    /// Every invalid or inapplicable field, each named.
    pub fn validate(
        current: &CredentialKind,
        fields: &CredentialFields,
        now: OffsetDateTime,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let kind = current.credential_type();
        reject_foreign_fields(kind, fields, &mut errors);

        let name = fields
            .name
            .as_deref()
            .and_then(|raw| errors.take(CredentialName::parse(raw)));
        let description = match &fields.description {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(raw) => errors.take(Description::parse(raw)).map(Some),
        };
        let expires_at = match &fields.expires_at {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(raw) => errors.take(parse_expiry(raw, now)).map(Some),
        };
        let allowed_hosts = match &fields.allowed_hosts {
            Patch::Absent => None,
            Patch::Null => Some(AllowedHosts::default()),
            Patch::Value(raw) => errors.take(AllowedHosts::parse(raw)),
        };

        let touched = fields
            .present_fields()
            .iter()
            .any(|f| fields_of(kind).contains(f));
        let typed = if touched {
            match kind {
                CredentialType::ApiKey => api_key(fields, Some(current), &mut errors),
                CredentialType::BearerToken => bearer_patch(fields, current, &mut errors),
                CredentialType::BasicAuth => basic(fields, Some(current), &mut errors),
                CredentialType::OAuth2 => oauth2(fields, Some(current), &mut errors),
                CredentialType::Jwt => jwt(fields, Some(current), &mut errors),
                CredentialType::Custom => custom(fields, &mut errors),
            }
        } else {
            None
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let (kind, secrets) = match typed {
            Some((new_kind, secrets)) => ((new_kind != *current).then_some(new_kind), secrets),
            None => (None, None),
        };
        Ok(Self {
            name,
            description,
            expires_at,
            allowed_hosts,
            kind,
            secrets,
        })
    }

    /// True when the patch changes nothing.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.expires_at.is_none()
            && self.allowed_hosts.is_none()
            && self.kind.is_none()
            && self.secrets.is_none()
    }
}

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

type Typed = Option<(CredentialKind, Option<CredentialSecrets>)>;

fn reject_foreign_fields(
    kind: CredentialType,
    fields: &CredentialFields,
    errors: &mut ValidationErrors,
) {
    for field in fields.present_fields() {
        if !fields_of(kind).contains(&field) {
            errors.add(field, format!("does not apply to type {kind}"));
        }
    }
}

fn parse_expiry(raw: &str, now: OffsetDateTime) -> Result<OffsetDateTime, FieldError> {
    let at = OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
        FieldError::new(
            "expiresAt",
            "must be an ISO 8601 timestamp with a time zone, e.g. 2027-01-31T00:00:00Z",
        )
    })?;
    let at = truncate_to_micros(at.to_offset(time::UtcOffset::UTC));
    if at <= now {
        return Err(FieldError::new("expiresAt", "must be in the future"));
    }
    Ok(at)
}

/// A secret string: non-empty, bounded, and free of control characters (it ends up in a
/// header, where CR or LF would let it inject other headers).
fn secret_value(field: &str, value: &SecretString) -> Result<SecretString, FieldError> {
    let s = value.expose_secret();
    if s.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if s.len() > MAX_SECRET_BYTES {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_SECRET_BYTES} bytes"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.clone())
}

/// A secret sent as (part of) a header value: also visible ASCII only, as the `http`
/// crate would pass other bytes through raw and each upstream would read them its own way.
fn header_secret(field: &str, value: &SecretString) -> Result<SecretString, FieldError> {
    let value = secret_value(field, value)?;
    if !crate::apply::is_visible_ascii(value.expose_secret()) {
        return Err(FieldError::new(
            field,
            "must be visible ASCII text (it is sent in a header)",
        ));
    }
    Ok(value)
}

fn required_header_secret(
    field: &str,
    value: Option<&SecretString>,
    errors: &mut ValidationErrors,
) -> Option<SecretString> {
    match value {
        Some(v) => errors.take(header_secret(field, v)),
        None => {
            errors.add(field, "is required");
            None
        }
    }
}

fn optional_header_secret(
    field: &str,
    value: Option<&SecretString>,
    errors: &mut ValidationErrors,
) -> Option<SecretString> {
    value.and_then(|v| errors.take(header_secret(field, v)))
}

fn required_secret(
    field: &str,
    value: Option<&SecretString>,
    errors: &mut ValidationErrors,
) -> Option<SecretString> {
    match value {
        Some(v) => errors.take(secret_value(field, v)),
        None => {
            errors.add(field, "is required");
            None
        }
    }
}

fn optional_secret(
    field: &str,
    value: Option<&SecretString>,
    errors: &mut ValidationErrors,
) -> Option<SecretString> {
    value.and_then(|v| errors.take(secret_value(field, v)))
}

/// The longest header name a credential may set: `http` takes up to 64 KiB, which no
/// upstream needs and some refuse.
pub const MAX_HEADER_NAME_BYTES: usize = 256;

/// Header names must be valid HTTP tokens of at most [`MAX_HEADER_NAME_BYTES`], and may
/// not be ones the transport owns.
pub(crate) fn header_name(field: &str, raw: &str) -> Result<String, FieldError> {
    const RESERVED: [&str; 8] = [
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
    ];
    if raw.len() > MAX_HEADER_NAME_BYTES {
        return Err(FieldError::new(
            field,
            format!("header names must be at most {MAX_HEADER_NAME_BYTES} characters"),
        ));
    }
    let name = http::HeaderName::from_bytes(raw.as_bytes())
        .map_err(|_| FieldError::new(field, "must be a valid HTTP header name"))?;
    if RESERVED.contains(&name.as_str()) || name.as_str().starts_with("proxy-") {
        return Err(FieldError::new(
            field,
            "names a header the HTTP transport controls and cannot be set",
        ));
    }
    // Keep the caller's spelling for display; HTTP header names are case-insensitive.
    Ok(raw.to_owned())
}

fn public_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    check_text(field, raw, 1, max, false)?;
    Ok(raw.to_owned())
}

fn placement(
    input: Option<&PlacementInput>,
    default: Placement,
    allow_query: bool,
    errors: &mut ValidationErrors,
) -> Option<Placement> {
    let Some(input) = input else {
        return Some(default);
    };
    let location = match input.location.as_deref() {
        None => default.location,
        Some("header") => PlacementLocation::Header,
        Some("query") if allow_query => PlacementLocation::Query,
        Some(_) if allow_query => {
            errors.add("placement.in", "must be header or query");
            return None;
        }
        Some(_) => {
            errors.add("placement.in", "must be header");
            return None;
        }
    };
    let name = match (&input.name, location) {
        (None, l) if l == default.location => Some(default.name.clone()),
        (None, _) => {
            errors.add("placement.name", "is required");
            None
        }
        (Some(raw), PlacementLocation::Header) => errors.take(header_name("placement.name", raw)),
        (Some(raw), PlacementLocation::Query) => {
            let ok = !raw.is_empty()
                && raw.len() <= 128
                && raw
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.~[]".contains(&b));
            if ok {
                Some(raw.clone())
            } else {
                errors.add(
                    "placement.name",
                    "must be 1-128 characters of letters, digits, '-', '_', '.', '~', '[' or ']'",
                );
                None
            }
        }
    };
    let prefix = match &input.prefix {
        None => default.prefix.clone(),
        Some(p) if p.is_empty() => None,
        Some(p) => {
            let ok = p.len() <= 64 && p.bytes().all(|b| (0x20..0x7f).contains(&b));
            if !ok {
                errors.add(
                    "placement.prefix",
                    "must be at most 64 printable ASCII characters",
                );
            }
            Some(p.clone())
        }
    };
    Some(Placement {
        location,
        name: name?,
        prefix,
    })
}

fn api_key(
    fields: &CredentialFields,
    current: Option<&CredentialKind>,
    errors: &mut ValidationErrors,
) -> Typed {
    let (default, secret) = match current {
        Some(CredentialKind::ApiKey { placement }) => (
            placement.clone(),
            optional_header_secret("value", fields.value.as_ref(), errors),
        ),
        _ => (
            Placement::api_key_default(),
            required_header_secret("value", fields.value.as_ref(), errors),
        ),
    };
    let placement = placement(fields.placement.as_ref(), default, true, errors)?;
    Some((
        CredentialKind::ApiKey { placement },
        secret.map(CredentialSecrets::Value),
    ))
}

fn bearer(fields: &CredentialFields, errors: &mut ValidationErrors) -> Typed {
    let secret = required_header_secret("value", fields.value.as_ref(), errors);
    Some((
        CredentialKind::BearerToken {},
        secret.map(CredentialSecrets::Value),
    ))
}

fn bearer_patch(
    fields: &CredentialFields,
    current: &CredentialKind,
    errors: &mut ValidationErrors,
) -> Typed {
    let secret = optional_header_secret("value", fields.value.as_ref(), errors);
    Some((current.clone(), secret.map(CredentialSecrets::Value)))
}

fn basic(
    fields: &CredentialFields,
    current: Option<&CredentialKind>,
    errors: &mut ValidationErrors,
) -> Typed {
    let username = match (&fields.username, current) {
        (Some(raw), _) => {
            // RFC 7617: the user-id cannot contain a colon.
            let parsed = errors.take(public_text("username", raw, 256));
            if parsed.as_deref().is_some_and(|u| u.contains(':')) {
                errors.add("username", "must not contain ':'");
                return None;
            }
            parsed
        }
        (None, Some(CredentialKind::BasicAuth { username })) => Some(username.clone()),
        (None, _) => {
            errors.add("username", "is required");
            None
        }
    };
    let password = if current.is_some() {
        optional_secret("password", fields.password.as_ref(), errors)
    } else {
        required_secret("password", fields.password.as_ref(), errors)
    };
    Some((
        CredentialKind::BasicAuth {
            username: username?,
        },
        password.map(CredentialSecrets::Password),
    ))
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

fn oauth2(
    fields: &CredentialFields,
    current: Option<&CredentialKind>,
    errors: &mut ValidationErrors,
) -> Typed {
    let existing = match current {
        Some(CredentialKind::OAuth2(config)) => Some(config),
        _ => None,
    };
    let client_id = match (&fields.client_id, existing) {
        (Some(raw), _) => errors.take(public_text("clientId", raw, 512)),
        (None, Some(c)) => Some(c.client_id.clone()),
        (None, None) => {
            errors.add("clientId", "is required");
            None
        }
    };
    let token_url = match (&fields.token_url, existing) {
        (Some(raw), _) => errors.take(token_url(raw)),
        (None, Some(c)) => Some(c.token_url.clone()),
        (None, None) => {
            errors.add("tokenUrl", "is required");
            None
        }
    };
    let scopes = match (&fields.scopes, existing) {
        (Some(raw), _) => errors.take(scopes(raw)),
        (None, Some(c)) => Some(c.scopes.clone()),
        (None, None) => Some(Vec::new()),
    };
    let client_auth = match (fields.client_auth.as_deref(), existing) {
        (Some("basic"), _) => Some(OAuth2ClientAuth::Basic),
        (Some("body"), _) => Some(OAuth2ClientAuth::Body),
        (Some(_), _) => {
            errors.add("clientAuth", "must be basic or body");
            None
        }
        (None, Some(c)) => Some(c.client_auth),
        (None, None) => Some(OAuth2ClientAuth::default()),
    };
    let audience = match (&fields.audience, existing) {
        (Patch::Value(raw), _) => errors.take(public_text("audience", raw, 512)).map(Some),
        (Patch::Null, _) => Some(None),
        (Patch::Absent, Some(c)) => Some(c.audience.clone()),
        (Patch::Absent, None) => Some(None),
    };
    let secret = if existing.is_some() {
        optional_secret("clientSecret", fields.client_secret.as_ref(), errors)
    } else {
        required_secret("clientSecret", fields.client_secret.as_ref(), errors)
    };
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

fn private_key(value: &SecretString) -> Result<SecretString, FieldError> {
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

fn jwt(
    fields: &CredentialFields,
    current: Option<&CredentialKind>,
    errors: &mut ValidationErrors,
) -> Typed {
    let existing = match current {
        Some(CredentialKind::Jwt(config)) => Some(config),
        _ => None,
    };
    let algorithm = match (&fields.algorithm, existing) {
        (Some(raw), _) => errors.take(raw.parse::<JwtAlgorithm>()),
        (None, Some(c)) => Some(c.algorithm),
        (None, None) => {
            errors.add("algorithm", "is required");
            None
        }
    };
    let claims = match (&fields.claims, existing) {
        (Some(raw), _) => errors.take(claims(raw)),
        (None, Some(c)) => Some(c.claims.clone()),
        (None, None) => Some(JwtClaims::default()),
    };
    let ttl_seconds = match (fields.ttl_seconds, existing) {
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
    let default_placement = existing.map_or_else(Placement::jwt_default, |c| c.placement.clone());
    let placement = placement(fields.placement.as_ref(), default_placement, false, errors);

    let algorithm = algorithm?;
    // The key must fit the algorithm's family; when a patch keeps the family, the sealed
    // key still fits and need not be given again.
    let family_kept = existing
        .is_some_and(|c| c.algorithm.uses_shared_secret() == algorithm.uses_shared_secret());
    let secrets = if algorithm.uses_shared_secret() {
        if fields.private_key.is_some() {
            errors.add(
                "privateKey",
                format!("does not apply to {}; give secret", algorithm.as_str()),
            );
        }
        match &fields.secret {
            Some(v) => errors
                .take(secret_value("secret", v))
                .map(CredentialSecrets::JwtSecret),
            None if family_kept => None,
            None => {
                errors.add("secret", format!("is required for {}", algorithm.as_str()));
                None
            }
        }
    } else {
        if fields.secret.is_some() {
            errors.add(
                "secret",
                format!("does not apply to {}; give privateKey", algorithm.as_str()),
            );
        }
        match &fields.private_key {
            Some(v) => errors
                .take(private_key(v))
                .map(CredentialSecrets::JwtPrivateKey),
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
        CredentialKind::Jwt(JwtConfig {
            algorithm,
            claims: claims?,
            ttl_seconds: ttl_seconds?,
            placement: placement?,
        }),
        secrets,
    ))
}

fn custom(fields: &CredentialFields, errors: &mut ValidationErrors) -> Typed {
    let Some(headers) = &fields.headers else {
        errors.add("headers", "is required");
        return None;
    };
    if headers.is_empty() || headers.len() > MAX_CUSTOM_HEADERS {
        errors.add(
            "headers",
            format!("must have between 1 and {MAX_CUSTOM_HEADERS} entries"),
        );
        return None;
    }
    let mut values = BTreeMap::new();
    let mut lowercase = std::collections::BTreeSet::new();
    for (name, value) in headers {
        let field = format!("headers.{name}");
        let Some(valid_name) = errors.take(header_name("headers", name)) else {
            continue;
        };
        if !lowercase.insert(valid_name.to_ascii_lowercase()) {
            errors.add(
                "headers",
                "names the same header twice (names are case-insensitive)",
            );
            continue;
        }
        if let Some(v) = errors.take(header_secret(&field, value)) {
            values.insert(valid_name, v);
        }
    }
    if !errors.is_empty() {
        return None;
    }
    let header_names = values.keys().cloned().collect();
    Some((
        CredentialKind::Custom { header_names },
        Some(CredentialSecrets::Headers(values)),
    ))
}

#[cfg(test)]
mod tests;
