//! `/access-keys`: create (the token is in this response and nowhere else, ever), list,
//! revoke.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use time::OffsetDateTime;
use vault_core::{AccessKey, AccessKeyId, AccessKeyRequest, Scope, Store, Vault};

use crate::ApiConfig;
use crate::auth::authenticate;
use crate::body::{Fields, read_json_body, reject_unknown};
use crate::error::ApiError;
use crate::params::parse_limit;

/// An access key as listed: never the token or its hash.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessKeyView<'a> {
    id: AccessKeyId,
    name: &'a str,
    scopes: Vec<Scope>,
    created_by: Option<AccessKeyId>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    active: bool,
}

impl<'a> AccessKeyView<'a> {
    pub(crate) fn new(key: &'a AccessKey, now: OffsetDateTime) -> Self {
        Self {
            id: key.id,
            name: key.name.as_str(),
            scopes: key.scopes.iter().copied().collect(),
            created_by: key.created_by,
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
            active: key.is_active(now),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedView<'a> {
    #[serde(flatten)]
    key: AccessKeyView<'a>,
    /// The token, shown exactly once.
    key_secret: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListView<'a> {
    items: Vec<AccessKeyView<'a>>,
    next_cursor: Option<String>,
}

#[utoipa::path(
    post,
    path = "/access-keys",
    operation_id = "createAccessKey",
    summary = "Create an access key",
    tag = "access-keys",
    description = "Creates an access key, returned this once in `keySecret`. Needs `access-keys:manage`; a key never grants a scope its creator lacks, and never outlives its creator: without `expiresAt` it gets the creator's expiry (the access key's, or the identity-provider token's `exp`), and an `expiresAt` later than that is a 422 naming `expiresAt`.",
    request_body(content = crate::openapi::AccessKeyCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; store `keySecret` now", body = crate::openapi::AccessKeyCreated,
            headers(("Location" = String, description = "The key's URL"))),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 413, response = crate::openapi::ProblemResponse),
        (status = 415, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn create<S: Store>(
    req: HttpRequest,
    payload: Payload,
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let map = read_json_body(&req, payload, config.max_body_bytes).await?;
    reject_unknown(&map, &["name", "scopes", "expiresAt"], "")?;
    let mut fields = Fields::new(map);
    let request = AccessKeyRequest {
        name: fields.string("name"),
        scopes: fields.string_array("scopes"),
        expires_at: fields.string("expiresAt"),
    };
    if !fields.errors.is_empty() {
        return Err(ApiError::Invalid(fields.errors));
    }
    let issued = vault.create_access_key(&who, &request).await?;
    let now = vault.now();
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/access-keys/{}", issued.key.id)))
        // The token must not linger in caches or proxies.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedView {
            key: AccessKeyView::new(&issued.key, now),
            key_secret: issued.token.expose(),
        }))
}

#[utoipa::path(
    get,
    path = "/access-keys",
    operation_id = "listAccessKeys",
    summary = "List access keys",
    tag = "access-keys",
    description = "Lists the organization's access keys (never the keys themselves). Needs `access-keys:manage`.",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page", body = crate::openapi::AccessKeyList),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn list<S: Store>(
    req: HttpRequest,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let mut query = query.into_inner();
    let limit = parse_limit(query.remove("limit"))?;
    let cursor = query.remove("cursor");
    if let Some(unknown) = query.keys().next() {
        return Err(ApiError::UnknownField(unknown.clone()));
    }
    let page = vault
        .list_access_keys(&who, limit, cursor.as_deref())
        .await?;
    let now = vault.now();
    Ok(HttpResponse::Ok().json(ListView {
        items: page
            .items
            .iter()
            .map(|k| AccessKeyView::new(k, now))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(
    delete,
    path = "/access-keys/{id}",
    operation_id = "revokeAccessKey",
    summary = "Revoke an access key",
    tag = "access-keys",
    description = "Revokes an access key at once. Needs `access-keys:manage`, and every scope the key holds: a key cannot revoke a stronger one (403 `scope-escalation`, audited). With `cascade=true`, also revokes every key it created, transitively; each of those revocations is audited with the reason `cascade:<id>`. Without it (the default), the keys it created keep working until they expire or are revoked: revoking the bootstrap admin key does not silently revoke every key made from it.",
    params(
        ("id" = String, Path, description = "The access key id (UUID)"),
        ("cascade" = Option<bool>, Query, description = "Also revoke every key this one created, transitively (default false)"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn revoke<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let mut query = query.into_inner();
    let cascade = match query.remove("cascade").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::Invalid(vault_core::ValidationErrors::single(
                "cascade",
                "must be true or false",
            )));
        }
    };
    if let Some(unknown) = query.keys().next() {
        return Err(ApiError::UnknownField(unknown.clone()));
    }
    let id: AccessKeyId = id.parse().map_err(|_| ApiError::NotFound)?;
    if cascade {
        vault.revoke_access_key_cascade(&who, id).await?;
    } else {
        vault.revoke_access_key(&who, id).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
