//! `GET /credentials/{id}/usage`: a credential's uses per hour and status class over the
//! last days, and its last use: what the console draws as its usage chart.

use std::collections::BTreeMap;

use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use time::OffsetDateTime;
use vault_core::logs::UsageBucket;
use vault_core::{CredentialId, FieldError, Store, Vault};

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::params::parse_id;
use crate::usage::RequestLogView;

/// Days counted when the caller names none.
const DEFAULT_DAYS: u32 = 7;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageView<'a> {
    credential_id: CredentialId,
    #[serde(with = "time::serde::rfc3339")]
    since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    until: OffsetDateTime,
    /// The hours with uses, oldest first; hours without are absent.
    buckets: Vec<BucketView>,
    last_use: Option<RequestLogView<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BucketView {
    #[serde(with = "time::serde::rfc3339")]
    hour: OffsetDateTime,
    /// `1xx` to `5xx`, or `none` (the upstream never answered).
    status_class: &'static str,
    count: u64,
}

impl BucketView {
    fn new(bucket: &UsageBucket) -> Self {
        Self {
            hour: bucket.hour,
            status_class: match bucket.status_class {
                1 => "1xx",
                2 => "2xx",
                3 => "3xx",
                4 => "4xx",
                5 => "5xx",
                _ => "none",
            },
            count: bucket.count,
        }
    }
}

#[utoipa::path(
    get,
    path = "/credentials/{id}/usage",
    operation_id = "getCredentialUsage",
    tag = "usage",
    summary = "Count a credential's uses",
    description = "The credential's uses over the last `days` (default 7), per hour and \
        class of the upstream's status (`none`: no answer), from the request log, and its \
        last use. Needs `credentials:read`.",
    params(
        ("id" = String, Path, format = Uuid, description = "The credential"),
        ("days" = Option<u32>, Query, minimum = 1, maximum = 31, description = "Days counted (default 7)"),
    ),
    responses(
        (status = 200, description = "The counts", body = crate::openapi::CredentialUsage),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn usage<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let id = parse_id(&id)?;
    let mut query = query.into_inner();
    let days = query.remove("days");
    if let Some(unknown) = query.keys().next() {
        return Err(ApiError::UnknownField(unknown.clone()));
    }
    let days = match days {
        None => DEFAULT_DAYS,
        Some(raw) => raw.parse().map_err(|_| {
            ApiError::from(FieldError::new(
                "days",
                "must be a whole number from 1 to 31",
            ))
        })?,
    };
    let usage = vault.credential_usage(&who, id, days).await?;
    Ok(HttpResponse::Ok().json(UsageView {
        credential_id: id,
        since: usage.since,
        until: usage.until,
        buckets: usage.buckets.iter().map(BucketView::new).collect(),
        last_use: usage.last_use.as_ref().map(RequestLogView::new),
    }))
}
