#![doc = include_str!("../README.md")]

mod access_keys;
mod audit_chain;
mod auth;
mod body;
mod bundles;
mod connections;
mod console;
pub mod context;
mod credential_types;
mod credential_usage;
mod credentials;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod grants;
mod health;
mod in_flight;
mod openapi;
mod params;
mod rate_limit;
mod source;
mod usage;
mod versions;
mod webhooks;

use actix_web::HttpResponse;
use actix_web::web::{self, Data, ServiceConfig};
use std::sync::Arc;

use vault_core::{Store, Vault};
pub use vault_metrics::Metrics;

pub use audit_chain::{CheckpointDocument, CheckpointKeyInfo};
pub use context::request_context;
pub use error::ApiError;
pub use health::KeyManagerHealth;
pub use in_flight::{InFlight, ProxyLimits};
pub use rate_limit::{FailureLimit, FailureLimiter, RateLimit, RateLimiter};
pub use source::{ForwardedHeader, SourceAddresses};
pub use usage::audit_event_json;

/// Settings of the HTTP front end.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Where request metrics are counted, and what `/metrics` serves. The server shares
    /// it with its metered store, cipher and upstream.
    pub metrics: Arc<Metrics>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest accepted proxy request body (the JSON envelope with the body to send).
    pub max_proxy_body_bytes: usize,
    /// Time for a whole request body to arrive (slow senders get a 408).
    pub body_timeout: std::time::Duration,
    /// Per-caller rate limit, shared by every worker.
    pub rate_limiter: Arc<RateLimiter>,
    /// Failed authentications per source address, shared by every worker.
    pub failure_limiter: Arc<FailureLimiter>,
    /// Proxied calls in flight, bounded per server and per caller; shared by every worker.
    pub proxy_in_flight: Arc<InFlight>,
    /// The vault's public base URL (`https://vault.example.com`), which OAuth2 redirect
    /// URIs are made from; `None`: the scheme and host each request came in on.
    pub public_url: Option<String>,
    /// The key manager's reachability as the server last checked it, which `/readyz`
    /// reports (without failing for it); `None`: not reported.
    pub key_manager: Option<Arc<KeyManagerHealth>>,
    /// The key that checks the audit log's checkpoints, published with them; `None`: no
    /// checkpoints are signed (a vault embedded without a signer).
    pub checkpoint_key: Option<CheckpointKeyInfo>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            metrics: Arc::new(Metrics::new()),
            max_body_bytes: 64 * 1024,
            max_proxy_body_bytes: 2 * 1024 * 1024,
            body_timeout: std::time::Duration::from_secs(10),
            rate_limiter: Arc::new(RateLimiter::new(RateLimit::default())),
            failure_limiter: Arc::new(FailureLimiter::new(
                FailureLimit::default(),
                SourceAddresses::default(),
            )),
            proxy_in_flight: Arc::new(InFlight::new(ProxyLimits::default())),
            public_url: None,
            key_manager: None,
            checkpoint_key: None,
        }
    }
}

/// The route table: each path with its methods and handlers. [`routes`] registers
/// exactly this, and [`ROUTES`] lists it, so a test can hold the OpenAPI document to it.
macro_rules! route_table {
    ($($path:literal => { $($method:ident => $handler:expr),+ $(,)? })+) => {
        /// Every registered route as (method, path pattern), for checking the OpenAPI
        /// document against what is really served.
        pub const ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path),)+)+];

        fn register<S: Store>(
            cfg: &mut ServiceConfig,
        ) {
            $(
                cfg.service(
                    web::resource($path)
                        // Read back by the metrics middleware: the pattern, never the path,
                        // labels a request, without running the router a second time.
                        .app_data(RoutePattern($path))
                        $(.route(web::$method().to($handler)))+
                        .default_service(web::to(method_not_allowed)),
                );
            )+
        }
    };
}

route_table! {
    // The web console: a page and its two assets, public (the page asks for a key).
    "/" => { get => console::index }
    "/console/app.js" => { get => console::script }
    "/console/app.css" => { get => console::styles }
    // HEAD too: some load balancers probe with it.
    "/healthz" => { get => health::healthz, head => health::healthz_head }
    "/readyz" => {
        get => health::readyz::<S>,
        head => health::readyz_head::<S>,
    }
    "/metrics" => { get => health::metrics }
    "/openapi.json" => { get => openapi::openapi_json }
    "/credential-types" => { get => credential_types::list::<S> }
    "/credentials" => {
        post => credentials::create::<S>,
        get => credentials::list::<S>,
    }
    // Before `/credentials/{id}`, which would take these names for ids.
    "/credentials/export" => { post => bundles::export::<S> }
    "/credentials/import" => { post => bundles::import::<S> }
    "/credentials/{id}" => {
        get => credentials::get::<S>,
        patch => credentials::update::<S>,
        delete => credentials::delete::<S>,
    }
    "/credentials/{id}/proxy" => { post => usage::proxy::<S> }
    "/credentials/{id}/usage" => { get => credential_usage::usage::<S> }
    "/credentials/{id}/connect" => { post => connections::connect::<S> }
    "/oauth/callback" => { get => connections::callback::<S> }
    "/credentials/{id}/versions" => { get => versions::list::<S> }
    "/credentials/{id}/versions/{number}/restore" => {
        post => versions::restore::<S>,
    }
    "/admin/keys" => { get => versions::key_status::<S> }
    "/request-logs" => { get => usage::request_logs::<S> }
    "/audit-events" => { get => usage::audit_events::<S> }
    "/audit-events/checkpoints" => { get => audit_chain::checkpoints::<S> }
    "/audit-events/chain" => { get => audit_chain::chain_status::<S> }
    "/access-keys" => {
        post => access_keys::create::<S>,
        get => access_keys::list::<S>,
    }
    "/access-keys/{id}" => { delete => access_keys::revoke::<S> }
    "/credentials/{id}/grants" => {
        post => grants::create::<S>,
        get => grants::list::<S>,
    }
    "/credentials/{id}/grants/{grantId}" => {
        get => grants::get::<S>,
        delete => grants::revoke::<S>,
    }
    "/grants" => { get => grants::of_principal::<S> }
    "/webhooks" => {
        post => webhooks::create::<S>,
        get => webhooks::list::<S>,
    }
    "/webhooks/{id}" => {
        get => webhooks::get::<S>,
        patch => webhooks::update::<S>,
        delete => webhooks::delete::<S>,
    }
    "/webhooks/{id}/rotate-secret" => { post => webhooks::rotate_secret::<S> }
    "/webhooks/{id}/deliveries" => { get => webhooks::deliveries::<S> }
    "/webhooks/{id}/deliveries/{deliveryId}/replay" => { post => webhooks::replay::<S> }
}

/// The route pattern a request matched (`/credentials/{id}`), set on each resource.
#[derive(Clone, Copy, Debug)]
pub struct RoutePattern(pub &'static str);

/// The OpenAPI 3.1 document of this API (also served at `/openapi.json`).
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    openapi::ApiDoc::openapi()
}

/// Registers every route on an actix `App`:
///
/// ```rust,ignore
/// let vault = web::Data::new(vault);
/// App::new()
///     .wrap(actix_web::middleware::from_fn(vault_http::request_context))
///     .configure(vault_http::routes(vault.clone(), ApiConfig::default()))
/// ```
pub fn routes<S: Store>(
    vault: Data<Vault<S>>,
    config: ApiConfig,
) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg: &mut ServiceConfig| {
        cfg.app_data(vault)
            .app_data(Data::from(config.metrics.clone()))
            .app_data(Data::from(config.rate_limiter.clone()))
            .app_data(Data::from(config.failure_limiter.clone()))
            .app_data(Data::new(config))
            .app_data(web::QueryConfig::default().error_handler(|_, _| {
                ApiError::Invalid(vault_core::ValidationErrors::single(
                    "query",
                    "is not a valid query string",
                ))
                .into()
            }));
        register::<S>(cfg);
        cfg.default_service(web::to(not_found));
    }
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn documented() -> BTreeSet<(String, String)> {
        let doc = serde_json::to_value(openapi()).expect("document");
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if method != "parameters" {
                    out.insert((method.clone(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn the_document_names_exactly_the_registered_routes() {
        let registered: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        let documented = documented();
        let undocumented: Vec<_> = registered.difference(&documented).collect();
        let phantom: Vec<_> = documented.difference(&registered).collect();
        assert!(
            undocumented.is_empty(),
            "registered but missing from the OpenAPI document: {undocumented:?}"
        );
        assert!(
            phantom.is_empty(),
            "in the OpenAPI document but not registered: {phantom:?}"
        );
    }

    fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    out.push(target.clone());
                }
                map.values().for_each(|v| collect_refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = serde_json::to_value(openapi()).expect("document");
        let mut seen = BTreeSet::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for operation in item.as_object().expect("item").values() {
                let id = operation["operationId"].as_str().expect("operationId");
                assert!(seen.insert(id.to_owned()), "operationId {id} twice");
            }
        }
    }

    #[test]
    fn every_reference_in_the_document_resolves() {
        let doc = serde_json::to_value(openapi()).expect("document");
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(!refs.is_empty());
        for target in refs {
            let pointer = target.strip_prefix('#').expect("local reference");
            assert!(doc.pointer(pointer).is_some(), "unresolved {target}");
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_and_every_operation_documents_its_errors() {
        let doc = serde_json::to_value(openapi()).expect("document");
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1"))
        );
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("item") {
                let responses = operation["responses"].as_object().expect("responses");
                assert!(responses.contains_key("500"), "{method} {path}: no 500");
                let public = operation["security"].as_array().is_some_and(|s| {
                    s.iter()
                        .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
                });
                if !public {
                    for status in ["401", "403", "429"] {
                        assert!(
                            responses.contains_key(status),
                            "{method} {path}: no {status}"
                        );
                    }
                }
            }
        }
    }
}
