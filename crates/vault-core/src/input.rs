//! Unvalidated input for creating and patching credentials, and the rules every type
//! shares (name, description, expiry, allowed hosts); each type's own rules are in its
//! module of [`credential_types`](crate::credential_types).
//!
//! Input is flat, as the REST contract's bodies are: every field of every type sits side
//! by side, and the credential type decides which of them apply.

use secrecy::SecretString;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::clock::truncate_to_micros;
use crate::credential::{
    CredentialKind, CredentialName, CredentialSecrets, CredentialType, Description,
};
use crate::credential_types::{self, oauth2};
use crate::egress::AllowedHosts;
use crate::validation::{FieldError, ValidationErrors};

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

        let typed = credential_types::validate(kind, fields, None, &mut errors);
        if let (Some((kind, _)), Some(hosts)) = (&typed, &allowed_hosts)
            && let Err(error) = oauth2::check_token_url_allowed(kind, hosts)
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
            .any(|f| credential_types::takes(kind, f));
        let typed = if touched {
            credential_types::validate(kind, fields, Some(current), &mut errors)
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

fn reject_foreign_fields(
    kind: CredentialType,
    fields: &CredentialFields,
    errors: &mut ValidationErrors,
) {
    for field in fields.present_fields() {
        if !credential_types::takes(kind, field) {
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

#[cfg(test)]
mod tests;
