//! `/credentials/{id}/grants` (who may use a credential, for which requests, how much) and
//! `/grants` (what one principal may use).

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use time::OffsetDateTime;
use vault_core::grants::{Budget, Grant, GrantInput, Grantee, Permission, Window};
use vault_core::{AccessKeyId, CredentialId, GrantId, Store, Vault};

use crate::ApiConfig;
use crate::auth::authenticate;
use crate::body::{Fields, read_json_body, reject_unknown};
use crate::error::ApiError;
use crate::params::parse_id;

/// The fields of `POST /credentials/{id}/grants`.
const GRANT_FIELDS: [&str; 6] = [
    "principal",
    "permission",
    "methods",
    "paths",
    "budget",
    "expiresAt",
];

/// The fields of a budget, with the window each caps.
const BUDGET_FIELDS: [(&str, Window); 4] = [
    ("perMinute", Window::Minute),
    ("perHour", Window::Hour),
    ("perDay", Window::Day),
    ("total", Window::Total),
];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrantView<'a> {
    id: GrantId,
    credential_id: CredentialId,
    principal: &'a Grantee,
    permission: Permission,
    methods: Vec<&'a str>,
    paths: Vec<&'a str>,
    budget: Option<&'a Budget>,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    granted_by: Option<AccessKeyId>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    expired: bool,
    parent_id: Option<GrantId>,
}

impl<'a> GrantView<'a> {
    fn new(grant: &'a Grant, now: OffsetDateTime) -> Self {
        Self {
            id: grant.id,
            credential_id: grant.credential_id,
            principal: &grant.grantee,
            permission: grant.permission,
            methods: grant.rules.methods.iter().map(String::as_str).collect(),
            paths: grant.rules.paths.iter().map(|p| p.as_str()).collect(),
            budget: grant.budget.as_ref(),
            expires_at: grant.expires_at,
            granted_by: grant.granted_by,
            created_at: grant.created_at,
            expired: grant.is_expired(now),
            parent_id: grant.parent,
        }
    }
}

#[derive(Serialize)]
struct GrantList<'a> {
    items: Vec<GrantView<'a>>,
}

fn list_view(grants: &[Grant], now: OffsetDateTime) -> GrantList<'_> {
    GrantList {
        items: grants.iter().map(|g| GrantView::new(g, now)).collect(),
    }
}

/// Reads a grant body field by field, naming every field of the wrong type.
fn grant_input(map: serde_json::Map<String, serde_json::Value>) -> Result<GrantInput, ApiError> {
    reject_unknown(&map, &GRANT_FIELDS, "")?;
    let mut fields = Fields::new(map);
    let mut input = GrantInput {
        principal: fields.string("principal"),
        permission: fields.string("permission"),
        methods: fields.string_array("methods").unwrap_or_default(),
        paths: fields.string_array("paths").unwrap_or_default(),
        budget: None,
        expires_at: fields.string("expiresAt"),
    };
    if let Some(budget) = fields.object("budget") {
        reject_unknown(&budget, &BUDGET_FIELDS.map(|(name, _)| name), "budget.")?;
        let mut caps = Fields::new(budget);
        input.budget = Some(BUDGET_FIELDS.map(|(name, window)| (window, caps.integer(name))));
        for error in caps.errors.errors() {
            fields
                .errors
                .add(format!("budget.{}", error.field), error.message.clone());
        }
    }
    if fields.errors.is_empty() {
        Ok(input)
    } else {
        Err(ApiError::Invalid(fields.errors))
    }
}

#[utoipa::path(
    post,
    path = "/credentials/{id}/grants",
    operation_id = "createGrant",
    summary = "Grant a credential",
    tag = "grants",
    description = "Grants a principal (`key:<id>`, `subject:<sub>` or `group:<name>`) the use of this credential (`use`), or its use and the right to grant `use` of it (`manage`), optionally for some methods and paths only, with a budget and an expiry. Needs `credentials:write` and `credentials:use-all`, or a live `manage` grant of the credential (then only `use`, within that grant's methods, paths, budget and expiry). Nobody grants to themselves, and a grant never outlives its granter: without `expiresAt` it gets the granter's key's or token's expiry. Audited.",
    params(("id" = String, Path, description = "The credential id (UUID)")),
    request_body(content = crate::openapi::GrantCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Granted", body = crate::openapi::GrantSchema,
            headers(("Location" = String, description = "The grant's URL"))),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
        (status = 413, response = crate::openapi::ProblemResponse),
        (status = 415, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn create<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    payload: Payload,
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let id = parse_id(&id)?;
    let map = read_json_body(&req, payload, config.max_body_bytes).await?;
    let input = grant_input(map)?;
    let grant = vault.create_grant(&who, id, &input).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/credentials/{id}/grants/{}", grant.id),
        ))
        .json(GrantView::new(&grant, vault.now())))
}

#[utoipa::path(
    get,
    path = "/credentials/{id}/grants",
    operation_id = "listGrants",
    summary = "List a credential's grants",
    tag = "grants",
    description = "The credential's grants, in the order they were made, expired ones included. Needs `credentials:read`, or a live `manage` grant of the credential.",
    params(("id" = String, Path, description = "The credential id (UUID)")),
    responses(
        (status = 200, description = "The grants", body = crate::openapi::GrantList),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn list<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let grants = vault.list_grants(&who, parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(list_view(&grants, vault.now())))
}

#[utoipa::path(
    get,
    path = "/credentials/{id}/grants/{grantId}",
    operation_id = "getGrant",
    summary = "Read a grant",
    tag = "grants",
    description = "One grant of the credential. Needs what listing them needs.",
    params(
        ("id" = String, Path, description = "The credential id (UUID)"),
        ("grantId" = String, Path, description = "The grant id (UUID)"),
    ),
    responses(
        (status = 200, description = "The grant", body = crate::openapi::GrantSchema),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn get<S: Store>(
    req: HttpRequest,
    path: Path<(String, String)>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let (id, grant) = path.into_inner();
    let (id, grant) = (parse_id(&id)?, parse_id::<GrantId>(&grant)?);
    let grants = vault.list_grants(&who, id).await?;
    let found = grants
        .iter()
        .find(|g| g.id == grant)
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(GrantView::new(found, vault.now())))
}

#[utoipa::path(
    delete,
    path = "/credentials/{id}/grants/{grantId}",
    operation_id = "revokeGrant",
    summary = "Revoke a grant",
    tag = "grants",
    description = "Revokes a grant, with its budget counters. Effective at once on every replica: each use reads the credential's grants from the database. Needs `credentials:write` and `credentials:use-all`, or a live `manage` grant of the credential (which revokes its `use` grants). Audited.",
    params(
        ("id" = String, Path, description = "The credential id (UUID)"),
        ("grantId" = String, Path, description = "The grant id (UUID)"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn revoke<S: Store>(
    req: HttpRequest,
    path: Path<(String, String)>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let (id, grant) = path.into_inner();
    vault
        .revoke_grant(&who, parse_id(&id)?, parse_id::<GrantId>(&grant)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/grants",
    operation_id = "listPrincipalGrants",
    summary = "List a principal's grants",
    tag = "grants",
    description = "What a principal may use: its grants, of every credential. Without `principal`, the caller's own (its key's, or its token's subject's and groups'), which anyone may list; another principal's need `credentials:read`. A key with `credentials:use-all` uses every credential without a grant.",
    params(
        ("principal" = Option<String>, Query, description = "`key:<access key id>`, `subject:<sub>` or `group:<name>`"),
    ),
    responses(
        (status = 200, description = "The grants", body = crate::openapi::GrantList),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn of_principal<S: Store>(
    req: HttpRequest,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let mut query = query.into_inner();
    let principal = query.remove("principal");
    if let Some(unknown) = query.keys().next() {
        return Err(ApiError::UnknownField(unknown.clone()));
    }
    let grants = vault.grants_of(&who, principal.as_deref()).await?;
    Ok(HttpResponse::Ok().json(list_view(&grants, vault.now())))
}
