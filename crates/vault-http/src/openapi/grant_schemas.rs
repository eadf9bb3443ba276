//! The grant schemas of the document (`/credentials/{id}/grants`, `/grants`).

use utoipa::ToSchema;

/// `use` lets the principal use the credential within the grant's rules; `manage` also
/// lets it grant `use` to others, within them.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Permission {
    Use,
    Manage,
}

/// How many requests a grant allows per window; at least one cap. Windows are calendar
/// minutes, hours and days (UTC); `total` counts over the grant's life. Past a cap, uses
/// get 429 `budget-exhausted`, with `Retry-After` until the window ends (none for
/// `total`, which never refills). Caps hold across replicas sharing a database.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Budget {
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    per_minute: Option<i64>,
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    per_hour: Option<i64>,
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    per_day: Option<i64>,
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    total: Option<i64>,
}

/// `POST /credentials/{id}/grants`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GrantCreate {
    /// `key:<access key id>` (an active key of the organization), `subject:<sub>` (an
    /// identity-provider subject) or `group:<name>` (a group or role in the provider's
    /// configured groups claim).
    #[schema(pattern = "^(key|subject|group):.+$", max_length = 261)]
    principal: String,
    /// Default `use`.
    permission: Option<Permission>,
    /// Allowed HTTP methods, upper case; absent or empty: every method.
    #[schema(pattern = "^[A-Z]{1,32}$")]
    methods: Option<Vec<String>>,
    /// Allowed paths on the credential's `allowedHosts`: exact (`/v1/charges`), or a
    /// prefix ending in `*` (`/v1/charges*`); at most 32. Absent or empty: every path.
    /// Requests whose path percent-encodes `/`, `\` or `.` match no pattern.
    #[schema(pattern = "^/", max_length = 512)]
    paths: Option<Vec<String>>,
    budget: Option<Budget>,
    /// In the future, and no later than the granter's own expiry. Absent: the granter's.
    #[schema(format = DateTime, nullable = false)]
    expires_at: Option<String>,
}

/// A grant.
#[derive(ToSchema)]
#[schema(as = Grant)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GrantSchema {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    credential_id: String,
    principal: String,
    permission: Permission,
    /// Empty: every method.
    methods: Vec<String>,
    /// Empty: every path.
    paths: Vec<String>,
    budget: Option<Budget>,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// The access key that granted it (none for an identity-provider subject); revoking
    /// that key ends the grant.
    #[schema(format = Uuid)]
    granted_by: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    /// True once `expiresAt` has passed: the grant no longer lets anything through.
    expired: bool,
    /// The `manage` grant this one was made under: revoking that one revokes this, and
    /// while it is expired this lets nothing through.
    #[schema(format = Uuid)]
    parent_id: Option<String>,
}

/// Grants, in the order they were made.
#[derive(ToSchema)]
pub(crate) struct GrantList {
    items: Vec<GrantSchema>,
}
