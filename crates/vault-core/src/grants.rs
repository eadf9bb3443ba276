//! Grants: least privilege per credential. A grant binds a grantee (an access key, an
//! identity-provider subject, or a group named in the provider's token) to one
//! credential, with a permission, an optional expiry, rules on the requests it may send
//! and a budget of how many. A principal without an organization-wide use scope may use
//! a credential only through a grant whose rules fit the request.

pub mod authority;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::ids::{AccessKeyId, CredentialId, GrantId, OrganizationId};
use crate::input::parse_expiry;
use crate::validation::{FieldError, ValidationErrors};

/// The longest subject or group name a grant may name, in bytes.
pub const MAX_GRANTEE_NAME_BYTES: usize = 255;
/// The most path patterns one grant may list.
pub const MAX_PATH_PATTERNS: usize = 32;
/// The longest path pattern, in bytes.
pub const MAX_PATH_PATTERN_BYTES: usize = 512;

/// True for a subject or group name a grant may name: 1 to [`MAX_GRANTEE_NAME_BYTES`]
/// bytes without control characters.
#[must_use]
pub fn is_valid_grantee_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_GRANTEE_NAME_BYTES && !name.chars().any(char::is_control)
}

/// Who a grant is for. Written `key:<access key id>`, `subject:<sub>` or `group:<name>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grantee {
    /// An access key of the organization.
    AccessKey(AccessKeyId),
    /// An identity-provider token's `sub`.
    Subject(String),
    /// A group or role listed in the identity-provider token's configured claim.
    Group(String),
}

impl fmt::Display for Grantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccessKey(id) => write!(f, "key:{id}"),
            Self::Subject(subject) => write!(f, "subject:{subject}"),
            Self::Group(group) => write!(f, "group:{group}"),
        }
    }
}

impl FromStr for Grantee {
    type Err = FieldError;
    fn from_str(raw: &str) -> Result<Self, FieldError> {
        let refuse = |message: &str| FieldError::new("principal", message);
        let (kind, name) = raw.split_once(':').ok_or_else(|| {
            refuse("must be key:<access key id>, subject:<subject> or group:<group>")
        })?;
        let name_ok = is_valid_grantee_name(name);
        match kind {
            "key" => name
                .parse()
                .map(Self::AccessKey)
                .map_err(|_| refuse("key: must be followed by an access key id")),
            "subject" | "group" if !name_ok => Err(refuse(
                "the subject or group must be 1-255 bytes without control characters",
            )),
            "subject" => Ok(Self::Subject(name.to_owned())),
            "group" => Ok(Self::Group(name.to_owned())),
            _ => Err(refuse(
                "must be key:<access key id>, subject:<subject> or group:<group>",
            )),
        }
    }
}

impl Serialize for Grantee {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grantee {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse()
            .map_err(|e: FieldError| serde::de::Error::custom(e.message))
    }
}

/// What a grant allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Use the credential for requests within the grant's rules.
    Use,
    /// Use it, and grant `use` of it to others, within this grant's own rules.
    Manage,
}

impl FromStr for Permission {
    type Err = FieldError;
    fn from_str(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "use" => Ok(Self::Use),
            "manage" => Ok(Self::Manage),
            _ => Err(FieldError::new("permission", "must be use or manage")),
        }
    }
}

/// A path a grant allows: exact (`/v1/charges`), or a prefix when it ends in `*`
/// (`/v1/charges*` allows `/v1/charges` and `/v1/charges/ch_1`). Matched against the
/// request's path after the URL parser has resolved dot segments, so `..` cannot climb
/// out of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PathPattern(String);

impl PathPattern {
    /// Validates a pattern.
    ///
    /// # Errors
    /// A pattern that is not an absolute path of visible ASCII, has a query, a fragment
    /// or dot segments, or has `*` anywhere but at its end.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let refuse = |message: &str| FieldError::new("paths", message);
        if !raw.starts_with('/') || raw.len() > MAX_PATH_PATTERN_BYTES {
            return Err(refuse(&format!(
                "each must be a path starting with / (at most {MAX_PATH_PATTERN_BYTES} bytes)"
            )));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) || raw.contains(['?', '#']) {
            return Err(refuse(
                "each must be visible ASCII without a query or fragment (percent-encode the rest)",
            ));
        }
        let literal = raw.strip_suffix('*').unwrap_or(raw);
        if literal.contains('*') {
            return Err(refuse("* may only end a pattern, as in /v1/charges*"));
        }
        if literal.split('/').any(|segment| {
            matches!(
                segment.to_ascii_lowercase().as_str(),
                "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
            )
        }) {
            return Err(refuse("each must be without . or .. segments"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// True when `path` (a request's normalized path) is allowed.
    #[must_use]
    pub fn matches(&self, path: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.0,
        }
    }

    /// The pattern as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PathPattern {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw).map_err(|e| e.message)
    }
}

impl From<PathPattern> for String {
    fn from(pattern: PathPattern) -> Self {
        pattern.0
    }
}

/// True when `path` percent-encodes a slash, a backslash or a dot: an upstream that
/// decodes them could read a path the patterns never saw (`/v1/charges/..%2Fadmin`).
fn hides_separators(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    ["%2f", "%5c", "%2e"]
        .iter()
        .any(|code| lower.contains(code))
}

/// The requests a grant allows: any of `methods` (all when empty) to a path matching any
/// of `paths` (all when empty), on the credential's allowed hosts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRules {
    /// Upper-case HTTP methods.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub methods: BTreeSet<String>,
    /// Path patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<PathPattern>,
}

/// The rule a request broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokenRule {
    /// Its method is not among the grant's methods.
    Method,
    /// Its path matches none of the grant's patterns.
    Path,
}

impl BrokenRule {
    /// The rule's field name, as problem documents name it.
    #[must_use]
    pub const fn field(self) -> &'static str {
        match self {
            Self::Method => "methods",
            Self::Path => "paths",
        }
    }
}

impl RequestRules {
    /// Validates methods and path patterns as given.
    ///
    /// # Errors
    /// Every method that is not an HTTP method token and every bad pattern.
    pub fn parse(methods: &[String], paths: &[String]) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut rules = Self::default();
        for method in methods {
            match http::Method::from_bytes(method.as_bytes()) {
                Ok(m)
                    if m.as_str().bytes().all(|b| b.is_ascii_uppercase())
                        && m.as_str().len() <= 32 =>
                {
                    rules.methods.insert(m.as_str().to_owned());
                }
                _ => errors.add(
                    "methods",
                    "each must be an HTTP method in upper case, such as GET or POST",
                ),
            }
        }
        if paths.len() > MAX_PATH_PATTERNS {
            errors.add(
                "paths",
                format!("must have at most {MAX_PATH_PATTERNS} entries"),
            );
        }
        for path in paths {
            if let Some(pattern) = errors.take(PathPattern::parse(path)) {
                rules.paths.push(pattern);
            }
        }
        errors.finish(|| rules)
    }

    /// Checks a request's method and normalized path.
    ///
    /// # Errors
    /// The first rule it breaks.
    pub fn check(&self, method: &str, path: &str) -> Result<(), BrokenRule> {
        if !self.methods.is_empty() && !self.methods.contains(method) {
            return Err(BrokenRule::Method);
        }
        if !self.paths.is_empty()
            && (hides_separators(path) || !self.paths.iter().any(|p| p.matches(path)))
        {
            return Err(BrokenRule::Path);
        }
        Ok(())
    }

    /// Checks a use that names no request (an embedder applying the credential itself):
    /// only rules that allow every request let it through.
    ///
    /// # Errors
    /// The first rule that limits requests.
    pub fn check_unnamed(&self) -> Result<(), BrokenRule> {
        if !self.methods.is_empty() {
            return Err(BrokenRule::Method);
        }
        if !self.paths.is_empty() {
            return Err(BrokenRule::Path);
        }
        Ok(())
    }

    /// True when every request these rules allow, `wider` allows too.
    #[must_use]
    pub fn within(&self, wider: &Self) -> bool {
        let methods = wider.methods.is_empty()
            || (!self.methods.is_empty() && self.methods.is_subset(&wider.methods));
        let paths = wider.paths.is_empty()
            || (!self.paths.is_empty()
                && self.paths.iter().all(|mine| {
                    wider
                        .paths
                        .iter()
                        .any(|theirs| match theirs.0.strip_suffix('*') {
                            Some(prefix) => mine.0.starts_with(prefix),
                            None => mine.0 == theirs.0,
                        })
                }));
        methods && paths
    }
}

/// A budget window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Window {
    /// The current minute (UTC).
    Minute,
    /// The current hour (UTC).
    Hour,
    /// The current day (UTC).
    Day,
    /// The grant's whole life.
    Total,
}

impl Window {
    /// Every window, shortest first.
    pub const ALL: [Self; 4] = [Self::Minute, Self::Hour, Self::Day, Self::Total];

    /// The name a budget field and a counter row use.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Total => "total",
        }
    }

    /// The Unix second the window holding `now` started at (0 for the total).
    #[must_use]
    pub const fn start(self, now: OffsetDateTime) -> i64 {
        let at = now.unix_timestamp();
        match self {
            Self::Minute => at - at.rem_euclid(60),
            Self::Hour => at - at.rem_euclid(3_600),
            Self::Day => at - at.rem_euclid(86_400),
            Self::Total => 0,
        }
    }

    /// Whole seconds until the window holding `now` ends; `None` for the total, which
    /// never does.
    #[must_use]
    pub const fn retry_after(self, now: OffsetDateTime) -> Option<i64> {
        let length = match self {
            Self::Minute => 60,
            Self::Hour => 3_600,
            Self::Day => 86_400,
            Self::Total => return None,
        };
        Some(self.start(now) + length - now.unix_timestamp())
    }
}

/// How many requests a grant allows per window; at least one window is capped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// Per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_minute: Option<u64>,
    /// Per hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_hour: Option<u64>,
    /// Per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u64>,
    /// Over the grant's life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// The largest cap of any window.
pub const MAX_BUDGET: u64 = 1_000_000_000;

impl Budget {
    /// Validates the caps as given (JSON numbers).
    ///
    /// # Errors
    /// A cap that is not a whole number from 1 to [`MAX_BUDGET`], or none at all.
    pub fn parse(caps: [(Window, Option<i64>); 4]) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut budget = Self::default();
        for (window, cap) in caps {
            let Some(cap) = cap else { continue };
            let field = match window {
                Window::Minute => "budget.perMinute",
                Window::Hour => "budget.perHour",
                Window::Day => "budget.perDay",
                Window::Total => "budget.total",
            };
            match u64::try_from(cap) {
                Ok(cap) if (1..=MAX_BUDGET).contains(&cap) => *budget.cap_mut(window) = Some(cap),
                _ => errors.add(
                    field,
                    format!("must be a whole number from 1 to {MAX_BUDGET}"),
                ),
            }
        }
        if errors.is_empty() && budget.caps().next().is_none() {
            errors.add(
                "budget",
                "must cap at least one of perMinute, perHour, perDay and total",
            );
        }
        errors.finish(|| budget)
    }

    fn cap_mut(&mut self, window: Window) -> &mut Option<u64> {
        match window {
            Window::Minute => &mut self.per_minute,
            Window::Hour => &mut self.per_hour,
            Window::Day => &mut self.per_day,
            Window::Total => &mut self.total,
        }
    }

    /// The capped windows and their caps, shortest window first.
    pub fn caps(&self) -> impl DoubleEndedIterator<Item = (Window, u64)> + '_ {
        Window::ALL.into_iter().filter_map(|window| {
            let cap = match window {
                Window::Minute => self.per_minute,
                Window::Hour => self.per_hour,
                Window::Day => self.per_day,
                Window::Total => self.total,
            };
            cap.map(|cap| (window, cap))
        })
    }
}

/// What allowed a use, as audit events and request-log entries record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// An organization-wide scope: `credentials:use-all`.
    Organization,
    /// This grant.
    Grant(GrantId),
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Organization => f.write_str(crate::access_key::Scope::CredentialsUseAll.as_str()),
            Self::Grant(id) => write!(f, "grant:{id}"),
        }
    }
}

/// A grant as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Its id (UUID v7).
    pub id: GrantId,
    /// The organization of the credential and the grantee.
    pub organization_id: OrganizationId,
    /// The credential granted.
    pub credential_id: CredentialId,
    /// Who may use it.
    pub grantee: Grantee,
    /// What they may do.
    pub permission: Permission,
    /// Which requests.
    pub rules: RequestRules,
    /// How many.
    pub budget: Option<Budget>,
    /// When it stops; never after the granting key does.
    pub expires_at: Option<OffsetDateTime>,
    /// The access key that granted it, when one did: revoking that key ends the grant.
    pub granted_by: Option<AccessKeyId>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// The `manage` grant it was made under, if one: it lets nothing through once that
    /// grant is gone or expired.
    pub parent: Option<GrantId>,
    /// Binds the row to what it grants (see [`binding_message`]); `None` until the vault
    /// binds it. A grant whose binding does not verify lets nothing through.
    pub binding: Option<GrantBinding>,
}

/// HMAC-SHA-256, under the access-key hash key, of what a stored grant allows
/// ([`binding_message`]): a grant row written or edited behind the vault's back (another
/// grantee, wider rules, a larger budget, a later expiry) does not verify, so it grants
/// nothing, as an edited access-key row does not authenticate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GrantBinding(pub [u8; 32]);

impl fmt::Debug for GrantBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GrantBinding([REDACTED])")
    }
}

/// The bytes a [`GrantBinding`] authenticates: a version tag, then every field that says
/// what the grant allows, each fixed-width or length-prefixed so that no two grants share
/// an encoding. Only `created_at` and the binding itself are left out.
#[must_use]
pub fn binding_message(grant: &Grant) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, value: &str) {
        out.extend_from_slice(&(value.len() as u64).to_be_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    fn optional(out: &mut Vec<u8>, value: Option<&[u8]>) {
        match value {
            Some(bytes) => {
                out.push(1);
                out.extend_from_slice(bytes);
            }
            None => out.push(0),
        }
    }
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"vault grant binding v1\0");
    out.extend_from_slice(grant.id.as_uuid().as_bytes());
    out.extend_from_slice(grant.organization_id.as_uuid().as_bytes());
    out.extend_from_slice(grant.credential_id.as_uuid().as_bytes());
    text(&mut out, &grant.grantee.to_string());
    out.push(match grant.permission {
        Permission::Use => 0,
        Permission::Manage => 1,
    });
    out.extend_from_slice(&(grant.rules.methods.len() as u64).to_be_bytes());
    for method in &grant.rules.methods {
        text(&mut out, method);
    }
    out.extend_from_slice(&(grant.rules.paths.len() as u64).to_be_bytes());
    for path in &grant.rules.paths {
        text(&mut out, path.as_str());
    }
    for window in Window::ALL {
        let cap = grant
            .budget
            .as_ref()
            .and_then(|b| b.caps().find(|(w, _)| *w == window))
            .map(|(_, cap)| cap.to_be_bytes());
        optional(&mut out, cap.as_ref().map(<[u8; 8]>::as_slice));
    }
    let expiry = grant
        .expires_at
        .map(|at| at.unix_timestamp_nanos().div_euclid(1000).to_be_bytes());
    optional(&mut out, expiry.as_ref().map(<[u8; 16]>::as_slice));
    optional(
        &mut out,
        grant
            .granted_by
            .map(|k| *k.as_uuid().as_bytes())
            .as_ref()
            .map(<[u8; 16]>::as_slice),
    );
    optional(
        &mut out,
        grant
            .parent
            .map(|p| *p.as_uuid().as_bytes())
            .as_ref()
            .map(<[u8; 16]>::as_slice),
    );
    out
}

impl Grant {
    /// True once `expires_at` has passed.
    #[must_use]
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// True when it is unexpired and so is the grant it was made under, among `grants`
    /// (its credential's).
    #[must_use]
    pub fn is_live(&self, grants: &[Self], now: OffsetDateTime) -> bool {
        !self.is_expired(now)
            && self.parent.is_none_or(|parent| {
                grants
                    .iter()
                    .any(|g| g.id == parent && g.parent.is_none() && !g.is_expired(now))
            })
    }
}

/// A grant as a request body gives it, not yet checked.
#[derive(Clone, Debug, Default)]
pub struct GrantInput {
    /// `principal`: `key:<id>`, `subject:<sub>` or `group:<name>`.
    pub principal: Option<String>,
    /// `permission`: `use` (the default) or `manage`.
    pub permission: Option<String>,
    /// `methods`.
    pub methods: Vec<String>,
    /// `paths`.
    pub paths: Vec<String>,
    /// `budget`: perMinute, perHour, perDay and total, when a budget is given.
    pub budget: Option<[(Window, Option<i64>); 4]>,
    /// `expiresAt` (RFC 3339).
    pub expires_at: Option<String>,
}

/// A grant's fields once checked, before the rules of who may grant what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidGrant {
    /// Who.
    pub grantee: Grantee,
    /// What.
    pub permission: Permission,
    /// Which requests.
    pub rules: RequestRules,
    /// How many.
    pub budget: Option<Budget>,
    /// Until when.
    pub expires_at: Option<OffsetDateTime>,
}

impl GrantInput {
    /// Checks every field, naming each bad one.
    ///
    /// # Errors
    /// Every problem found.
    pub fn validate(&self, now: OffsetDateTime) -> Result<ValidGrant, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let grantee = match &self.principal {
            Some(raw) => errors.take(raw.parse::<Grantee>()),
            None => {
                errors.add("principal", "is required");
                None
            }
        };
        let permission = match &self.permission {
            Some(raw) => errors.take(raw.parse::<Permission>()),
            None => Some(Permission::Use),
        };
        let rules = match RequestRules::parse(&self.methods, &self.paths) {
            Ok(rules) => Some(rules),
            Err(found) => {
                errors.extend(found);
                None
            }
        };
        let budget = match self.budget.map(Budget::parse).transpose() {
            Ok(budget) => Some(budget),
            Err(found) => {
                errors.extend(found);
                None
            }
        };
        let expires_at = self
            .expires_at
            .as_deref()
            .map(|raw| errors.take(parse_expiry(raw, now)));
        match (grantee, permission, rules, budget) {
            (Some(grantee), Some(permission), Some(rules), Some(budget)) if errors.is_empty() => {
                Ok(ValidGrant {
                    grantee,
                    permission,
                    rules,
                    budget,
                    expires_at: expires_at.flatten(),
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests;
