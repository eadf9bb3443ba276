//! Per-request context: the request id (taken from `X-Request-Id` or generated), a tracing
//! span around the request, a log line when it ends, and the headers every response carries
//! (`X-Content-Type-Options: nosniff`).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use tracing::Instrument;
use vault_metrics::Metrics;

use crate::RoutePattern;

/// The request-id header, read and echoed.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The current request's id, for error bodies (empty outside a request).
pub(crate) fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Accepts a caller's id only if it is short and plain, so it cannot inject log content.
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Middleware: assigns the request id, runs the request inside a span carrying it, echoes
/// it in the response, and logs method, path, status and latency. Query strings
/// and bodies are never logged.
///
/// # Errors
/// Passes on the inner service's error.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        // The path, not the route pattern: finding the pattern runs the router's regexes a
        // second time (a tenth of a cheap request's cost). Paths hold ids, never secrets.
        path = %req.path(),
    );
    let started = Instant::now();
    let result = REQUEST_ID
        .scope(id.clone(), next.call(req))
        .instrument(span.clone())
        .await;
    let mut response = result?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    // Every answer is what its Content-Type says: no browser may sniff a JSON body (which
    // can echo caller text) into HTML or script.
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let request = response.request();
    if let Some(metrics) = request.app_data::<Data<Metrics>>() {
        // The resource's pattern, set on it at registration; `unmatched` for the
        // not-found fallback, so no raw path (ids, probes of random URLs) becomes a label.
        let route = request
            .app_data::<RoutePattern>()
            .map_or("unmatched", |p| p.0);
        metrics.observe_http(request.method().as_str(), route, status, elapsed);
    }
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| tracing::info!(status, latency_us = micros, "request finished"));
    Ok(response)
}
