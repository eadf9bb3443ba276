//! `/credentials/{id}/versions` (the history of a credential's secret values: metadata
//! only, never a value), restoring one, and `/admin/keys` (which encryption key still
//! protects how many sealed rows).

use std::collections::BTreeMap;

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use time::OffsetDateTime;
use vault_core::versions::VersionInfo;
use vault_core::{AccessKeyId, Store, Vault};

use crate::auth::authenticate;
use crate::credentials::current;
use crate::error::ApiError;
use crate::params::{if_match, parse_id};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionView<'a> {
    version: i64,
    current: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    created_by: Option<AccessKeyId>,
    restored_from: Option<i64>,
    secret_hints: &'a BTreeMap<String, String>,
}

impl<'a> VersionView<'a> {
    fn new(v: &'a VersionInfo, current: bool) -> Self {
        Self {
            version: v.number,
            current,
            created_at: v.created_at,
            created_by: v.created_by,
            restored_from: v.restored_from,
            secret_hints: &v.secret_hints,
        }
    }
}

#[derive(Serialize)]
struct VersionList<'a> {
    items: Vec<VersionView<'a>>,
}

#[utoipa::path(
    get,
    path = "/credentials/{id}/versions",
    operation_id = "listVersions",
    summary = "List a credential's versions",
    tag = "versions",
    description = "The kept versions of the credential's secret values, newest first (hints only). Needs `credentials:read`.",
    params(("id" = String, Path, description = "The credential id (UUID)")),
    responses(
        (status = 200, description = "The versions", body = crate::openapi::VersionList),
        (status = 404, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn list<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let versions = vault.list_versions(&who, parse_id(&id)?).await?;
    let newest = versions.first().map(|v| v.number);
    Ok(HttpResponse::Ok().json(VersionList {
        items: versions
            .iter()
            .map(|v| VersionView::new(v, Some(v.number) == newest))
            .collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/credentials/{id}/versions/{number}/restore",
    operation_id = "restoreVersion",
    summary = "Restore a version",
    tag = "versions",
    description = "Makes an older version's secret values current again, as a new version. Needs `credentials:write`, and `credentials:route` for a version entered before the credential's destinations last widened (else 403 `route-not-allowed`).",
    params(("id" = String, Path, description = "The credential id (UUID)"),
        ("number" = i64, Path, description = "The version to restore"),
        ("If-Match" = Option<String>, Header, description = "Restore only if the credential is still at one of these ETags (`*`, or a list; weak tags never match)"),
    ),
    responses(
        (status = 200, description = "The credential, at its new version", body = crate::openapi::CredentialSchema,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
        (status = 409, response = crate::openapi::ProblemResponse),
        (status = 412, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn restore<S: Store>(
    req: HttpRequest,
    path: Path<(String, String)>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let (id, number) = path.into_inner();
    let id = parse_id(&id)?;
    // A version that cannot be a number cannot exist.
    let number: i64 = number.parse().map_err(|_| ApiError::NotFound)?;
    let precondition = if_match(&req)?;
    let credential = vault
        .restore_version(&who, id, number, precondition.as_deref())
        .await?;
    current(&vault, &who, &credential).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyView<'a> {
    key_id: &'a str,
    current: bool,
    credentials: u64,
    versions: u64,
    meta: u64,
    connections: u64,
    webhooks: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyStatusView<'a> {
    current_key_id: &'a str,
    /// This organization's rows still under older keys (whether the older keys can be
    /// dropped is the operator's call, on installation-wide counts).
    rows_under_old_keys: u64,
    keys: Vec<KeyView<'a>>,
}

#[utoipa::path(
    get,
    path = "/admin/keys",
    operation_id = "getKeyStatus",
    summary = "Encryption-key status",
    tag = "versions",
    description = "Which encryption keys seal how many of this organization's rows (its credentials, their versions, their OAuth2 connections' tokens and its webhooks' signing secrets; `meta` is always 0, the installation's own values belonging to no organization). Needs `keys:read`. Installation-wide counts, which would show one organization another's activity, are for the operator: `vault-server keys status`.",
    responses(
        (status = 200, description = "Key usage", body = crate::openapi::KeyStatus),
    )
)]
pub(crate) async fn key_status<S: Store>(
    req: HttpRequest,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let status = vault.key_status_for(&who).await?;
    Ok(HttpResponse::Ok().json(KeyStatusView {
        current_key_id: status.current.as_str(),
        rows_under_old_keys: status.rows_under_old_keys(),
        keys: status
            .keys
            .iter()
            .map(|k| KeyView {
                key_id: k.key_id.as_str(),
                current: k.key_id == status.current,
                credentials: k.credentials,
                versions: k.versions,
                meta: k.meta,
                connections: k.connections,
                webhooks: k.webhooks,
            })
            .collect(),
    }))
}
