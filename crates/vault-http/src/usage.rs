//! Using credentials over HTTP: `POST /credentials/{id}/proxy`, and the logs it leaves,
//! `GET /request-logs` and `GET /audit-events`.

use std::collections::BTreeMap;

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;
use vault_core::logs::{AuditAction, AuditEvent, RequestLogEntry};
use vault_core::{
    AccessKeyId, CredentialId, LogListRequest, OrganizationId, ProxyRequest, Store, Vault,
};

use crate::ApiConfig;
use crate::audit_chain::ChainLinkView;
use crate::auth::authenticate;
use crate::body::{Fields, read_json_body, reject_unknown};
use crate::error::ApiError;
use crate::in_flight::{Busy, Permit};
use crate::params::{ListView, parse_id, parse_limit};

const PROXY_FIELDS: [&str; 5] = ["method", "url", "headers", "body", "bodyBase64"];

/// Pulls `{method, url, headers, body | bodyBase64}` out of a proxy body.
pub(crate) fn proxy_request(map: serde_json::Map<String, Value>) -> Result<ProxyRequest, ApiError> {
    reject_unknown(&map, &PROXY_FIELDS, "")?;
    let mut fields = Fields::new(map);
    let method = fields.string("method");
    let url = fields.string("url");
    let headers = fields.object("headers").map(|headers| {
        let mut out = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            match value {
                Value::String(v) => out.push((name, v)),
                _ => fields
                    .errors
                    .add("headers", "must be an object whose values are strings"),
            }
        }
        out
    });
    let text = fields.string("body");
    let binary = fields.string("bodyBase64");
    let body = match (text, binary) {
        (Some(_), Some(_)) => {
            fields
                .errors
                .add("bodyBase64", "give either body or bodyBase64, not both");
            Vec::new()
        }
        (Some(text), None) => text.into_bytes(),
        (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .unwrap_or_else(|_| {
                fields.errors.add("bodyBase64", "must be standard base64");
                Vec::new()
            }),
        (None, None) => Vec::new(),
    };
    let mut errors = std::mem::take(&mut fields.errors);
    if method.is_none() && !errors.errors().iter().any(|e| e.field == "method") {
        errors.add("method", "is required");
    }
    if url.is_none() && !errors.errors().iter().any(|e| e.field == "url") {
        errors.add("url", "is required");
    }
    errors
        .finish(|| ProxyRequest {
            method: method.unwrap_or_default(),
            url: url.unwrap_or_default(),
            headers: headers.unwrap_or_default(),
            body,
        })
        .map_err(ApiError::Invalid)
}

#[utoipa::path(
    post,
    path = "/credentials/{id}/proxy",
    operation_id = "proxyRequest",
    summary = "Send a request with a credential applied",
    tag = "usage",
    description = "Sends a request to one of the credential's allowed hosts with the credential applied, and answers with the upstream's status, headers and body. Needs `credentials:use-all`, or `credentials:use` and a grant of the credential whose methods and paths allow the request (403 `not-granted`, or 403 `request-not-granted` naming the rule); past the grant's budget, 429 `budget-exhausted`. An authorization-code `oauth2` credential that was never connected is a 409 `not-connected`, and one whose provider refused its refresh token a 409 `reconnect-required`. Nothing goes upstream on a refusal. Gateway errors (502, 504) and refusals are problem+json. The upstream's response comes back with `Content-Security-Policy: sandbox` and `X-Content-Type-Options: nosniff` in place of its own. Calls in flight are bounded per server (past it: 503 `proxy-busy`) and per caller (429 `too-many-in-flight`), both with Retry-After; the call is refused before its body is read.",
    params(("id" = String, Path, description = "The credential id (UUID)")),
    request_body(content = crate::openapi::ProxyRequestSchema, content_type = "application/json"),
    responses(
        (status = "default", description = "The upstream's response, passed through (any status and content type)"),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
        (status = 409, response = crate::openapi::ProblemResponse),
        (status = 413, response = crate::openapi::ProblemResponse),
        (status = 415, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
        (status = 429, response = crate::openapi::ProblemResponse),
        (status = 502, response = crate::openapi::ProblemResponse),
        (status = 504, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn proxy<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    payload: Payload,
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let id = parse_id(&id)?;
    // Before the body is read: a call past the bounds costs no memory.
    let permit = config
        .proxy_in_flight
        .try_enter(&who)
        .map_err(|busy| match busy {
            Busy::Server => ApiError::ProxyBusy,
            Busy::Caller => ApiError::ProxyCallerBusy,
        })?;
    let map = read_json_body(&req, payload, config.max_proxy_body_bytes).await?;
    let request = proxy_request(map)?;
    let response = vault.proxy(&who, id, request).await?;
    // actix-web speaks `http` 0.2, the core `http` 1: convert by value.
    let status = actix_web::http::StatusCode::from_u16(response.status.as_u16())
        .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
    let mut out = HttpResponse::build(status);
    for (name, value) in &response.headers {
        // The server frames the body itself.
        if name == http::header::CONTENT_LENGTH {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append_header((name, value));
        }
    }
    // The upstream's content is served from the vault's origin: it must not run script
    // there (sandbox: a unique origin, no scripts), nor be sniffed into something
    // runnable. These replace whatever the upstream sent for the two headers.
    out.insert_header((
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    ));
    out.insert_header((
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ));
    Ok(out.body(HeldBody::new(response.body, permit)))
}

/// A proxied response's body, written out in slices of one shared buffer (actix copies
/// each chunk into its write buffer: one 10 MB chunk would be a second 10 MB copy), with
/// the call's in-flight permit, released only once the body is written or dropped.
struct HeldBody {
    body: Bytes,
    size: u64,
    _permit: Permit,
}

/// The slice handed to the writer at a time, near its own buffer size.
const WRITE_SLICE: usize = 64 * 1024;

impl HeldBody {
    fn new(body: Vec<u8>, permit: Permit) -> Self {
        Self {
            size: body.len() as u64,
            body: Bytes::from(body),
            _permit: permit,
        }
    }
}

impl MessageBody for HeldBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if this.body.is_empty() {
            return Poll::Ready(None);
        }
        let n = this.body.len().min(WRITE_SLICE);
        Poll::Ready(Some(Ok(this.body.split_to(n))))
    }
}

pub(crate) fn log_request(
    query: Query<BTreeMap<String, String>>,
    filters: &[&str],
) -> Result<LogListRequest, ApiError> {
    let mut query = query.into_inner();
    let mut take = |name: &str| {
        if filters.contains(&name) {
            query.remove(name)
        } else {
            None
        }
    };
    let request = LogListRequest {
        limit: None,
        cursor: take("cursor"),
        credential_id: take("credentialId"),
        action: take("action"),
        target: take("target"),
    };
    let limit = parse_limit(query.remove("limit"))?;
    if let Some(unknown) = query.keys().next() {
        return Err(ApiError::UnknownField(unknown.clone()));
    }
    Ok(LogListRequest { limit, ..request })
}

/// A request-log entry as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestLogView<'a> {
    id: Uuid,
    credential_id: CredentialId,
    credential_name: &'a str,
    method: &'a str,
    host: &'a str,
    path: &'a str,
    status: Option<u16>,
    error: Option<&'a str>,
    latency_ms: f64,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    access_key_id: Option<AccessKeyId>,
    /// The identity provider's subject, when one of its tokens asked.
    actor_subject: Option<&'a str>,
    /// What allowed the use: `grant:<id>` or `credentials:use-all`.
    via: Option<&'a str>,
}

impl<'a> RequestLogView<'a> {
    pub(crate) fn new(e: &'a RequestLogEntry) -> Self {
        Self {
            id: e.id,
            credential_id: e.credential_id,
            credential_name: &e.credential_name,
            method: &e.method,
            host: &e.host,
            path: &e.path,
            status: e.status,
            error: e.error.as_deref(),
            #[expect(clippy::cast_precision_loss, reason = "a latency, shown in ms")]
            latency_ms: e.latency_micros as f64 / 1000.0,
            at: e.at,
            access_key_id: e.access_key_id,
            actor_subject: e.actor_subject.as_deref(),
            via: e.via.as_deref(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/request-logs",
    operation_id = "listRequestLogs",
    summary = "List proxied requests",
    tag = "usage",
    description = "Proxied requests, newest first. Needs `credentials:read`.",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
        ("credentialId" = Option<String>, Query, description = "Only this credential's entries"),
    ),
    responses(
        (status = 200, description = "A page", body = crate::openapi::RequestLogList),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn request_logs<S: Store>(
    req: HttpRequest,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let request = log_request(query, &["cursor", "credentialId"])?;
    let page = vault.list_request_logs(&who, &request).await?;
    Ok(HttpResponse::Ok().json(ListView {
        items: page.items.iter().map(RequestLogView::new).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `event` as `GET /audit-events` shows it: also what the audit sinks stream, so that a
/// receiver sees one shape wherever it reads the log.
#[must_use]
pub fn audit_event_json(event: &AuditEvent) -> Value {
    // A struct of strings, numbers and ids: serializing it cannot fail.
    serde_json::to_value(AuditEventView::new(event)).unwrap_or(Value::Null)
}

/// An audit event as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditEventView<'a> {
    id: Uuid,
    organization_id: Option<OrganizationId>,
    /// The access key that acted (`null`: the vault itself, or an unknown caller).
    actor_access_key_id: Option<AccessKeyId>,
    /// The identity provider's subject that acted, when one of its tokens authenticated.
    actor_subject: Option<&'a str>,
    action: &'static str,
    target_type: Option<&'static str>,
    target_id: Option<Uuid>,
    outcome: &'static str,
    reason: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// How many occurrences the event stands for (repeated failed authentications).
    count: u32,
    /// For a use: what allowed it (`grant:<id>` or `credentials:use-all`).
    via: Option<&'a str>,
    /// Where the event sits in its organization's audit chain (`null`: written before
    /// chains existed).
    chain: Option<ChainLinkView>,
}

impl<'a> AuditEventView<'a> {
    fn new(e: &'a AuditEvent) -> Self {
        let target_type = e.target.map(|_| match e.action {
            AuditAction::AccessKeyCreate
            | AuditAction::AccessKeyRevoke
            | AuditAction::AuthenticationFailure => "access_key",
            AuditAction::GrantCreate | AuditAction::GrantRevoke => "grant",
            AuditAction::WebhookCreate
            | AuditAction::WebhookUpdate
            | AuditAction::WebhookDelete
            | AuditAction::WebhookReplay => "webhook",
            _ => "credential",
        });
        Self {
            id: e.id,
            organization_id: e.organization_id,
            actor_access_key_id: e.actor,
            actor_subject: e.actor_subject.as_deref(),
            action: e.action.as_str(),
            target_type,
            target_id: e.target,
            outcome: e.outcome.as_str(),
            reason: e.reason.as_deref(),
            at: e.at,
            count: e.count,
            via: e.via.as_deref(),
            chain: e.chain.as_ref().map(ChainLinkView::new),
        }
    }
}

#[utoipa::path(
    get,
    path = "/audit-events",
    operation_id = "listAuditEvents",
    summary = "List audit events",
    tag = "usage",
    description = "The organization's audit log, newest first. Needs `audit:read`.",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 50)"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
        ("action" = Option<String>, Query, description = "Only this action (`credential.use`, ...)"),
        ("target" = Option<String>, Query, description = "Only events about this credential or access key id"),
    ),
    responses(
        (status = 200, description = "A page", body = crate::openapi::AuditEventList),
        (status = 400, response = crate::openapi::ProblemResponse),
        (status = 422, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn audit_events<S: Store>(
    req: HttpRequest,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let request = log_request(query, &["cursor", "action", "target"])?;
    let page = vault.list_audit_events(&who, &request).await?;
    Ok(HttpResponse::Ok().json(ListView {
        items: page.items.iter().map(AuditEventView::new).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<ProxyRequest, ApiError> {
        match body {
            Value::Object(map) => proxy_request(map),
            _ => unreachable!("test bodies are objects"),
        }
    }

    #[test]
    fn proxy_bodies_take_text_or_base64_not_both() {
        let text =
            parse(serde_json::json!({"method": "POST", "url": "https://x.com/", "body": "hi"}))
                .expect("text body");
        assert_eq!(text.body, b"hi");
        let binary = parse(
            serde_json::json!({"method": "POST", "url": "https://x.com/", "bodyBase64": "AAE="}),
        )
        .expect("binary body");
        assert_eq!(binary.body, [0, 1]);
        for bad in [
            serde_json::json!({"method": "POST", "url": "https://x.com/", "body": "a", "bodyBase64": "AA=="}),
            serde_json::json!({"method": "POST", "url": "https://x.com/", "bodyBase64": "%%%"}),
            serde_json::json!({"url": "https://x.com/"}),
            serde_json::json!({"method": "GET", "url": "https://x.com/", "headers": {"a": 1}}),
        ] {
            assert!(matches!(parse(bad), Err(ApiError::Invalid(_))));
        }
        assert!(matches!(
            parse(serde_json::json!({"method": "GET", "url": "https://x.com/", "timeout": 1})),
            Err(ApiError::UnknownField(_))
        ));
    }

    #[test]
    fn validation_errors_are_reported_together() {
        let Err(ApiError::Invalid(errors)) = parse(serde_json::json!({"method": 1, "url": 2}))
        else {
            panic!("expected a 422");
        };
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["method", "url"]);
    }
}
