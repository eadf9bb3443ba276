//! Probes for orchestrators, without an access key: `/healthz` says the process serves
//! HTTP, `/readyz` that it can do its job (the database answers and the encryption key
//! opens it), and how the key manager answered when last asked.

use std::sync::Mutex;

use actix_web::HttpResponse;
use actix_web::web::Data;
use vault_core::{NotReady, Store, Vault};

use crate::ApiConfig;

/// The key manager's reachability, as the server's periodic check last found it.
///
/// Reported by `/readyz` but never failing it: the keyring was unwrapped at start, so a
/// use needs nothing from the key manager, and an orchestrator that took every replica out
/// of service because the key manager blinked would turn its outage into the vault's.
/// Monitoring should alert on it instead: a restart would fail while it is unreachable.
#[derive(Debug)]
pub struct KeyManagerHealth {
    kind: &'static str,
    /// `None` until the first check.
    reachable: Mutex<Option<bool>>,
}

impl KeyManagerHealth {
    /// For the key manager of `kind` (`static`, `transit`, ...), not checked yet.
    #[must_use]
    pub const fn new(kind: &'static str) -> Self {
        Self {
            kind,
            reachable: Mutex::new(None),
        }
    }

    /// Records a check's result.
    pub fn record(&self, reachable: bool) {
        *self
            .reachable
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reachable);
    }

    fn reachable(&self) -> Option<bool> {
        *self
            .reachable
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `GET /healthz`: the process is alive. Deliberately checks nothing else, so a database
/// outage does not make an orchestrator restart every replica.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    summary = "Liveness",
    tag = "health",
    security(()),
    responses((status = 200, description = "The process serves requests", body = crate::openapi::Health))
)]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and the loaded key opens this database's
/// key-check value. 503 otherwise, naming which failed (never how: no URL, no key). The
/// key manager's reachability is reported beside, never failing it ([`KeyManagerHealth`]).
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    summary = "Readiness",
    tag = "health",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = crate::openapi::Readiness),
        (status = 503, description = "Not ready; the body says which check failed", body = crate::openapi::Readiness),
    )
)]
pub(crate) async fn readyz<S: Store>(
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> HttpResponse {
    let (database, key, key_id) = match vault.readiness().await {
        Ok(key_id) => ("ok", "ok", Some(key_id.as_str().to_owned())),
        Err(NotReady::Store(error)) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            ("unavailable", "unknown", None)
        }
        Err(error) => {
            tracing::error!(%error, "not ready");
            ("ok", "cannot-open-database", None)
        }
    };
    let ready = database == "ok" && key == "ok";
    let mut response = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
    response.json(serde_json::json!({
        "status": if ready { "ok" } else { "unavailable" },
        "database": database,
        "encryptionKey": key,
        "keyId": key_id,
        "keyManager": config.key_manager.as_ref().map(|health| serde_json::json!({
            "kind": health.kind,
            "reachable": health.reachable(),
        })),
    }))
}

/// `GET /metrics`: Prometheus (OpenMetrics) text. Labels are route patterns, methods,
/// statuses, operation names and error codes only: never a secret, key, credential name or
/// id. Unauthenticated like the probes, as scrapers expect; keep it on a private network.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    tag = "health",
    security(()),
    responses((status = 200, description = "Counters and histograms in the OpenMetrics text format", content_type = "application/openmetrics-text", body = String))
)]
pub(crate) async fn metrics(metrics: Data<vault_metrics::Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_TYPE,
            vault_metrics::CONTENT_TYPE,
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(metrics.encode())
}

/// `HEAD /healthz`, for load balancers that probe with HEAD: the status alone.
#[utoipa::path(
    head,
    path = "/healthz",
    operation_id = "healthzHead",
    summary = "Liveness, headers only",
    tag = "health",
    security(()),
    responses((status = 200, description = "The process serves requests"))
)]
pub(crate) async fn healthz_head() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// `HEAD /readyz`: the readiness status alone.
#[utoipa::path(
    head,
    path = "/readyz",
    operation_id = "readyzHead",
    summary = "Readiness, headers only",
    tag = "health",
    security(()),
    responses(
        (status = 200, description = "Ready to serve"),
        (status = 503, description = "Not ready"),
    )
)]
pub(crate) async fn readyz_head<S: Store>(
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> HttpResponse {
    // The HTTP layer sends no body for HEAD; the status says it all.
    readyz(vault, config).await
}
