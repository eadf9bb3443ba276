//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and
//! the schema types below, served at `/openapi.json`.
//!
//! Request bodies are read field by field (see `body.rs`), so their schemas are written
//! here as types that only describe the JSON; `tests/openapi.rs` and `make fuzz-api`
//! (schemathesis against a running server) keep them true.
#![expect(
    dead_code,
    reason = "schema types describe JSON for the document and are never built"
)]

use std::collections::BTreeMap;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Response};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

mod bundle_schemas;
mod credential_schemas;
mod grant_schemas;
mod webhook_schemas;

pub(crate) use bundle_schemas::{
    BundleFile, ExportRequestSchema, ImportRequestSchema, ImportResult,
};
use credential_schemas::CredentialSchemas;
pub(crate) use grant_schemas::{GrantCreate, GrantList, GrantSchema};
pub(crate) use webhook_schemas::{
    WebhookCreate, WebhookDeliveryList, WebhookDeliverySchema as WebhookDelivery, WebhookList,
    WebhookSchema, WebhookUpdate, WebhookWithSecret,
};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "vault",
        description = "Credential vault for API gateways: stores upstream credentials encrypted, \
                       never returns a secret after creation, and applies credentials to \
                       outgoing requests.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    // Relative: the document describes the server that serves it, wherever it runs.
    servers((url = "/", description = "The server this document was read from")),
    paths(
        crate::health::healthz,
        crate::health::healthz_head,
        crate::health::readyz,
        crate::health::readyz_head,
        crate::health::metrics,
        openapi_json,
        crate::credential_types::list,
        crate::credentials::create,
        crate::credentials::list,
        crate::credentials::get,
        crate::credentials::update,
        crate::credentials::delete,
        crate::bundles::export,
        crate::bundles::import,
        crate::usage::proxy,
        crate::connections::connect,
        crate::connections::callback,
        crate::versions::list,
        crate::versions::restore,
        crate::versions::key_status,
        crate::usage::request_logs,
        crate::credential_usage::usage,
        crate::usage::audit_events,
        crate::audit_chain::checkpoints,
        crate::audit_chain::chain_status,
        crate::access_keys::create,
        crate::access_keys::list,
        crate::access_keys::revoke,
        crate::grants::create,
        crate::grants::list,
        crate::grants::get,
        crate::grants::revoke,
        crate::grants::of_principal,
        crate::webhooks::create,
        crate::webhooks::list,
        crate::webhooks::get,
        crate::webhooks::update,
        crate::webhooks::delete,
        crate::webhooks::rotate_secret,
        crate::webhooks::deliveries,
        crate::webhooks::replay,
        crate::console::index,
        crate::console::script,
        crate::console::styles,
    ),
    components(
        schemas(ProblemSchema, ProblemFieldSchema, CommonCreate, Placement),
        responses(ProblemResponse)
    ),
    modifiers(&Security, &CredentialSchemas),
    tags(
        (name = "health", description = "Liveness, readiness, metrics and this document; no access key needed."),
        (name = "credentials", description = "Stored credentials. Secret values go in, never out."),
        (name = "usage", description = "Applying credentials to outgoing requests, and their logs."),
        (name = "versions", description = "Secret-value history, restore, and encryption-key status."),
        (name = "access-keys", description = "The organization's API access keys."),
        (name = "grants", description = "Who may use which credential, for which requests, and how much. A key without `credentials:use-all` uses only the credentials granted to it."),
        (name = "webhooks", description = "Subscriptions to the vault's events (expiring credentials and keys, refused uses, lost OAuth2 connections, key rotations), delivered signed as Standard Webhooks, with their deliveries."),
        (name = "console", description = "The web console: a page and its script and styles, embedded in the binary; no access key needed to load them."),
    )
)]
pub(crate) struct ApiDoc;

/// `GET /openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    summary = "This OpenAPI document",
    tag = "health",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub(crate) async fn openapi_json() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(ApiDoc::openapi())
}

/// Responses every authenticated operation can give, added to each operation so that no
/// annotation can forget one.
const AUTHENTICATED: [(&str, &str); 5] = [
    ("401", "No valid, active access key or identity token"),
    ("403", "The caller lacks a scope this operation needs"),
    (
        "429",
        "The caller's rate limit is exhausted, or the source address has spent its failed authentications (refused before the key is looked up); see Retry-After",
    ),
    ("500", "The vault failed; quote the requestId"),
    ("503", "The database is unavailable; retry shortly"),
];

/// Bearer auth on everything but the health routes, and the shared error responses.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access key (`vlt_...`) or, when configured, an identity provider's JWT",
                    ))
                    .build(),
            ),
        );
        doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        for item in doc.paths.paths.values_mut() {
            for operation in operations(item) {
                let public = operation
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(is_empty_requirement));
                let responses = &mut operation.responses.responses;
                if !public {
                    for (status, description) in AUTHENTICATED {
                        responses
                            .entry(status.to_owned())
                            .or_insert_with(|| problem_ref(description));
                    }
                }
                if operation.request_body.is_some() {
                    responses
                        .entry("408".to_owned())
                        .or_insert_with(|| problem_ref("The request body did not arrive in time"));
                }
                responses
                    .entry("500".to_owned())
                    .or_insert_with(|| problem_ref("The vault failed; quote the requestId"));
            }
        }
    }
}

fn is_empty_requirement(requirement: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(requirement).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn problem_ref(description: &str) -> RefOr<Response> {
    let _ = description; // a $ref response cannot carry its own description in 3.1
    RefOr::Ref(Ref::from_response_name("ProblemResponse"))
}

/// An RFC 9457 problem: every error the API returns.
#[derive(ToSchema)]
#[schema(as = Problem)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProblemSchema {
    /// `urn:vault:problem:<code>`.
    #[serde(rename = "type")]
    problem_type: String,
    /// A short, fixed summary of the problem type.
    title: String,
    /// The HTTP status.
    status: u16,
    /// What went wrong here. Never contains a secret value.
    detail: String,
    /// Stable machine-readable code (`invalid-field`, `not-found`, `rate-limited`, ...).
    code: String,
    /// The first offending field, when the problem is about fields.
    #[schema(nullable = false)]
    field: Option<String>,
    /// Every offending field with its message.
    #[schema(nullable = false)]
    errors: Option<Vec<ProblemFieldSchema>>,
    /// The request's id (as in `X-Request-Id`), for support and logs.
    request_id: String,
}

/// One field's problem.
#[derive(ToSchema)]
#[schema(as = ProblemField)]
pub(crate) struct ProblemFieldSchema {
    field: String,
    message: String,
}

/// The error response of every operation.
#[derive(ToResponse)]
#[response(
    description = "An error, as RFC 9457 problem+json",
    content_type = "application/problem+json"
)]
pub(crate) struct ProblemResponse(ProblemSchema);

/// `GET /healthz`.
#[derive(ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    status: String,
}

/// `GET /readyz`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Readiness {
    /// `ok` or `unavailable`.
    status: String,
    /// `ok`, or why the database cannot serve.
    database: String,
    /// `ok`, or why the key cannot open this database.
    encryption_key: String,
    /// The current key's id when the key is loaded.
    key_id: Option<String>,
    /// The key manager, as last checked (absent when the server does not report it).
    /// Never fails readiness: the keyring was unwrapped at start.
    key_manager: Option<KeyManagerReadiness>,
}

/// The key manager's part of `GET /readyz`.
#[derive(ToSchema)]
pub(crate) struct KeyManagerReadiness {
    /// `static`, `transit`, `awskms` or `pkcs11`.
    kind: String,
    /// Whether it answered and its key was usable at the last check (`null` before the
    /// first).
    reachable: Option<bool>,
}

/// Where a value goes on the outgoing request.
#[derive(ToSchema)]
pub(crate) struct Placement {
    /// `header` or `query`.
    #[schema(pattern = "^(header|query)$")]
    r#in: String,
    /// The header or query parameter name.
    #[schema(min_length = 1)]
    name: String,
    /// Text put before the value (`Bearer `, `Token `).
    #[schema(nullable = false)]
    prefix: Option<String>,
}

/// A credential as every endpoint shows it: public fields only, plus hints of the secret
/// values (never the values).
#[derive(ToSchema)]
#[schema(as = Credential)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialSchema {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    #[serde(rename = "type")]
    credential_type: CredentialType,
    /// Where the credential may be sent: `host`, `host:port`, `https://host[:port]` or
    /// `http://host:port`. Empty: nowhere.
    allowed_hosts: Vec<String>,
    /// CA certificates, PEM, that pin the upstream's TLS certificate (a private PKI);
    /// `null`: the system's roots.
    ca_bundle: Option<String>,
    description: Option<String>,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// True once `expiresAt` has passed: the credential is never applied.
    expired: bool,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// Increases with every change, its metadata's too; also the `ETag` (`If-Match` takes
    /// it). Not the number of a version of the secret values, which only a change of them
    /// makes (`GET /credentials/{id}/versions`).
    revision: i64,
    /// The last four characters of each secret value of 16 characters or more, by field
    /// (`headers.<name>` for a custom credential's), so one can tell which value is
    /// stored. Shorter values, passwords and private keys have none: four characters would
    /// give away too large a share of them.
    secret_hints: BTreeMap<String, String>,
    /// Only on an `oauth2` credential with the `authorization_code` grant.
    #[schema(nullable = false)]
    connection: Option<ConnectionSchema>,
}

/// Where an authorization-code credential's connection stands.
#[derive(ToSchema)]
#[schema(as = Connection)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConnectionSchema {
    /// `pending` (never connected), `connected`, or `needs-reconnect` (the provider refused
    /// the refresh token: uses fail with 409 `reconnect-required` until a user connects
    /// it again).
    #[schema(pattern = "^(pending|connected|needs-reconnect)$")]
    status: String,
    /// When a user last connected it.
    #[schema(format = DateTime, nullable = false)]
    connected_at: Option<String>,
    /// Why it needs a reconnect: the provider's OAuth2 error code (`invalid_grant`).
    #[schema(nullable = false)]
    reason: Option<String>,
}

/// Every credential type, as `GET /credential-types` describes it.
#[derive(ToSchema)]
pub(crate) struct CredentialTypeList {
    items: Vec<CredentialTypeSchema>,
}

/// One credential type: `type`, `title`, `description`, and its `fields` (and `derived`
/// ones, shown but never written), each with `name`, `label`, `shape` (`kind` and its
/// parameters), `required` (`when`: `always`, `never`, or `if` a `field` is `oneOf` some
/// values), `nullable` and `description`.
#[derive(ToSchema)]
pub(crate) struct CredentialTypeSchema {
    r#type: String,
    title: String,
    description: String,
    fields: Vec<BTreeMap<String, serde_json::Value>>,
    derived: Vec<BTreeMap<String, serde_json::Value>>,
}

/// A page of credentials.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialList {
    items: Vec<CredentialSchema>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// The fields every type has.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommonCreate {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// Up to 2000 characters.
    #[schema(max_length = 2000, nullable = false)]
    description: Option<String>,
    /// ISO 8601 / RFC 3339; after it the credential is never applied.
    #[schema(format = DateTime, nullable = false)]
    expires_at: Option<String>,
    /// Destinations this credential may be sent to (see `Credential.allowedHosts`).
    #[schema(nullable = false)]
    allowed_hosts: Option<Vec<String>>,
    /// CA certificates, PEM (only `CERTIFICATE` blocks, up to 64 KiB): when set, a proxied
    /// request's upstream must present a certificate chaining to one of them (a private
    /// PKI) instead of the system's roots. Token endpoints keep the system's roots.
    /// Setting or changing it to trust a new root is a change of destinations: it needs
    /// the secret values re-entered or `credentials:route`.
    #[schema(nullable = false, max_length = 65536)]
    ca_bundle: Option<String>,
}

/// `POST /credentials`, `PATCH /credentials/{id}` and the type names: placeholders the
/// handlers' annotations name, replaced by the schemas derived from each type's
/// description (see `credential_schemas`).
#[derive(ToSchema)]
pub(crate) struct CredentialCreate;
/// See [`CredentialCreate`].
#[derive(ToSchema)]
pub(crate) struct CredentialUpdate;
/// See [`CredentialCreate`].
#[derive(ToSchema)]
pub(crate) struct CredentialType;

/// `POST /credentials/{id}/proxy`: the request to send with the credential applied.
#[derive(ToSchema)]
#[schema(as = ProxyRequest)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProxyRequestSchema {
    /// An HTTP method.
    method: String,
    /// An absolute `https://` (or allowed `http://`) URL on one of the credential's
    /// `allowedHosts`.
    url: String,
    /// Headers to send; the credential's own header replaces a same-named one.
    #[schema(nullable = false)]
    headers: Option<BTreeMap<String, String>>,
    /// A text body.
    #[schema(nullable = false)]
    body: Option<String>,
    /// A binary body, standard base64 (not with `body`).
    #[schema(nullable = false)]
    body_base64: Option<String>,
}

/// One version of a credential's secret values.
#[derive(ToSchema)]
#[schema(as = Version)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VersionSchema {
    version: i64,
    /// The version the credential holds now.
    current: bool,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = Uuid)]
    created_by: Option<String>,
    /// Set when this version was made by restoring that one.
    restored_from: Option<i64>,
    secret_hints: BTreeMap<String, String>,
}

/// The versions kept, newest first.
#[derive(ToSchema)]
pub(crate) struct VersionList {
    items: Vec<VersionSchema>,
}

/// Rows sealed under one key.
#[derive(ToSchema)]
#[schema(as = KeyUsage)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyUsageSchema {
    key_id: String,
    current: bool,
    credentials: u64,
    versions: u64,
    meta: u64,
    /// OAuth2 connections' tokens.
    connections: u64,
    /// Webhook subscriptions' signing secrets.
    webhooks: u64,
}

/// `GET /admin/keys`: the caller's organization's rows only.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyStatus {
    current_key_id: String,
    /// This organization's rows still under older keys. Whether older keys can be removed
    /// from the keyring is for the operator to tell, installation-wide
    /// (`vault-server keys status`).
    rows_under_old_keys: u64,
    keys: Vec<KeyUsageSchema>,
}

/// A request-log entry: one proxied request (never its headers, query or body).
#[derive(ToSchema)]
#[schema(as = RequestLogEntry)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestLogSchema {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    credential_id: String,
    credential_name: String,
    method: String,
    /// `host:port`.
    host: String,
    /// The path, without the query.
    path: String,
    /// The upstream's status; `null` when no response came.
    status: Option<u16>,
    /// The error code when no response came.
    error: Option<String>,
    latency_ms: f64,
    #[schema(format = DateTime)]
    at: String,
    #[schema(format = Uuid)]
    access_key_id: Option<String>,
    /// The identity provider's subject, when one of its tokens asked.
    actor_subject: Option<String>,
    /// What allowed the use: `grant:<id>`, or `credentials:use-all`.
    via: Option<String>,
}

/// A page of request-log entries, newest first.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestLogList {
    items: Vec<RequestLogSchema>,
    next_cursor: Option<String>,
}

/// An audit event.
#[derive(ToSchema)]
#[schema(as = AuditEvent)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditEventSchema {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    organization_id: Option<String>,
    /// The access key that acted (`null`: the vault itself, or an unknown caller).
    #[schema(format = Uuid)]
    actor_access_key_id: Option<String>,
    /// `credential.create`, `credential.update`, `credential.delete`, `credential.use`,
    /// `access_key.create`, `access_key.revoke`, `authentication.failure`, `grant.create`,
    /// `grant.revoke`, `connection.connect`, `connection.lost`, `connection.revoke` (the
    /// last three name the credential), `webhook.create`, `webhook.update` (a new secret
    /// included), `webhook.delete`, `webhook.replay` (the last four name the
    /// subscription), `credential.export` (one per credential that left in an export
    /// bundle), `credential.import` (one per credential an import created).
    action: String,
    /// `credential`, `access_key`, `grant` or `webhook`.
    target_type: Option<String>,
    #[schema(format = Uuid)]
    target_id: Option<String>,
    /// `success` or `failure`.
    outcome: String,
    /// On failure, a stable code saying why. On a successful update that added a
    /// destination, what authorised it: `destinations-added:secret-reentered` or
    /// `destinations-added:credentials-route`.
    reason: Option<String>,
    /// When it happened; for an event counting several failures, the last one's time.
    #[schema(format = DateTime)]
    at: String,
    /// How many occurrences the event stands for: 1, or for repeated failed
    /// authentications of one key (or subject) with one reason, the failures after the
    /// one written at once, counted over a minute and written as one event.
    #[schema(minimum = 1)]
    count: u32,
    /// The identity provider's subject that acted, when one of its tokens authenticated.
    actor_subject: Option<String>,
    /// For a use that went ahead: what allowed it, `grant:<id>` or `credentials:use-all`.
    via: Option<String>,
    /// Where the event sits in its organization's audit chain; `null` for events written
    /// before chains existed.
    chain: Option<ChainLinkSchema>,
}

/// Where an audit event sits in its chain. `digest` is the SHA-256 of the event's
/// canonical form; `hash` is SHA-256 over `vault-audit-link-v1`, `previousHash`, the
/// sequence (8 bytes, big-endian) and `digest`, and is the next event's `previousHash`.
#[derive(ToSchema)]
#[schema(as = AuditChainLink)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChainLinkSchema {
    /// 1 for the chain's first event, then one more for each, with no gap.
    #[schema(minimum = 1)]
    sequence: u64,
    /// Lower-case hex, 64 digits.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    digest: String,
    /// Lower-case hex, 64 digits (all zeros before the first event).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    previous_hash: String,
    /// Lower-case hex, 64 digits.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    hash: String,
}

/// A signed checkpoint of an audit chain: the chain reached `sequence` with `hash` at `at`.
/// The Ed25519 signature covers `vault-audit-checkpoint-v1`, the chain's key (the
/// organization id's 16 bytes, or 16 zero bytes for the installation), the sequence and
/// the time in Unix microseconds (8 bytes big-endian each), the hash's 32 bytes and the
/// kind's name.
#[derive(ToSchema)]
#[schema(as = AuditCheckpoint)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckpointSchema {
    #[schema(format = Uuid)]
    organization_id: Option<String>,
    #[schema(minimum = 1)]
    sequence: u64,
    /// Lower-case hex, 64 digits.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    hash: String,
    #[schema(format = DateTime)]
    at: String,
    /// `periodic`, or `retention` (the events up to it were deleted by retention; the
    /// chain verifies from here).
    kind: String,
    key_id: String,
    /// Standard base64.
    signature: String,
}

/// A page of checkpoints, newest first, with the key that checks them.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditCheckpointList {
    /// `Ed25519`.
    algorithm: String,
    /// `null` when this vault signs no checkpoints.
    key_id: Option<String>,
    /// The raw 32-byte Ed25519 public key, in standard base64.
    public_key: Option<String>,
    items: Vec<CheckpointSchema>,
    next_cursor: Option<String>,
}

/// A credential's uses per hour and status class, and its last use.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialUsage {
    #[schema(format = Uuid)]
    credential_id: String,
    /// The first hour counted.
    #[schema(format = DateTime)]
    since: String,
    /// When it was counted.
    #[schema(format = DateTime)]
    until: String,
    /// The hours with uses, oldest first (hours without are absent).
    buckets: Vec<UsageBucketSchema>,
    /// The most recent use still in the request log.
    last_use: Option<RequestLogSchema>,
}

/// The uses of one hour answered with one class of status.
#[derive(ToSchema)]
#[schema(as = UsageBucket)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageBucketSchema {
    /// The hour's start.
    #[schema(format = DateTime)]
    hour: String,
    /// `1xx` to `5xx`, or `none` (the upstream never answered).
    #[schema(pattern = "^([1-5]xx|none)$")]
    status_class: String,
    #[schema(minimum = 1)]
    count: u64,
}

/// The state of the organization's audit chain.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditChainStatus {
    /// `intact` (the events since the last checkpoint verify, and its signature does),
    /// `broken`, or `empty` (no event yet).
    #[schema(pattern = "^(intact|broken|empty)$")]
    status: String,
    /// The chain's last event.
    head: Option<AuditChainPoint>,
    /// The last signed checkpoint.
    last_checkpoint: Option<CheckpointSchema>,
    /// The last number verified (0 when broken or empty).
    #[schema(minimum = 0)]
    verified_through: u64,
    /// The first break, when broken.
    #[serde(rename = "break")]
    broken: Option<AuditChainBreak>,
}

/// A point of an audit chain.
#[derive(ToSchema)]
pub(crate) struct AuditChainPoint {
    #[schema(minimum = 1)]
    sequence: u64,
    /// Lower-case hex, 64 digits.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    hash: String,
}

/// Where and how an audit chain breaks.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditChainBreak {
    #[schema(minimum = 0)]
    sequence: u64,
    #[schema(format = Uuid)]
    event_id: Option<String>,
    /// What is wrong there, in words.
    detail: String,
}

/// A page of audit events, newest first.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditEventList {
    items: Vec<AuditEventSchema>,
    next_cursor: Option<String>,
}

/// The scopes an access key can hold.
#[derive(ToSchema)]
pub(crate) enum Scope {
    #[serde(rename = "credentials:read")]
    CredentialsRead,
    #[serde(rename = "credentials:write")]
    CredentialsWrite,
    #[serde(rename = "credentials:route")]
    CredentialsRoute,
    #[serde(rename = "credentials:use")]
    CredentialsUse,
    #[serde(rename = "credentials:use-all")]
    CredentialsUseAll,
    #[serde(rename = "access-keys:manage")]
    AccessKeysManage,
    #[serde(rename = "audit:read")]
    AuditRead,
    #[serde(rename = "keys:read")]
    KeysRead,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    #[serde(rename = "credentials:export")]
    CredentialsExport,
}

/// `POST /access-keys`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessKeyCreate {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// At least one; never more than the caller holds.
    scopes: Vec<Scope>,
    /// In the future, and no later than the caller's own expiry (the access key's, or the
    /// identity-provider token's `exp`). Absent: the caller's expiry (none if it has none).
    #[schema(format = DateTime, nullable = false)]
    expires_at: Option<String>,
}

/// An access key as listed: never the key itself or its hash.
#[derive(ToSchema)]
#[schema(as = AccessKey)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessKeySchema {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    scopes: Vec<Scope>,
    #[schema(format = Uuid)]
    created_by: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
    #[schema(format = DateTime)]
    revoked_at: Option<String>,
    active: bool,
}

/// A new access key, with the key shown this once.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessKeyCreated {
    #[serde(flatten)]
    key: AccessKeySchema,
    /// The key. Store it now: it is never shown again.
    key_secret: String,
}

/// A page of access keys.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessKeyList {
    items: Vec<AccessKeySchema>,
    next_cursor: Option<String>,
}
