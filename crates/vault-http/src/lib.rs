#![doc = include_str!("../README.md")]

mod access_keys;
mod auth;
mod body;
pub mod context;
mod credentials;
mod error;
mod usage;
mod versions;

use actix_web::HttpResponse;
use actix_web::web::{self, Data, ServiceConfig};
use vault_core::{Cipher, Clock, JwtSigner, Store, Upstream, Vault};

pub use context::request_context;
pub use error::ApiError;

/// Settings of the HTTP front end.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest accepted proxy request body (the JSON envelope with the body to send).
    pub max_proxy_body_bytes: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_proxy_body_bytes: 2 * 1024 * 1024,
        }
    }
}

/// Registers every route on an actix `App`:
///
/// ```rust,ignore
/// let vault = web::Data::new(vault);
/// App::new()
///     .wrap(actix_web::middleware::from_fn(vault_http::request_context))
///     .configure(vault_http::routes(vault.clone(), ApiConfig::default()))
/// ```
pub fn routes<S: Store, C: Cipher, K: Clock, U: Upstream, J: JwtSigner>(
    vault: Data<Vault<S, C, K, U, J>>,
    config: ApiConfig,
) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg: &mut ServiceConfig| {
        cfg.app_data(vault)
            .app_data(Data::new(config))
            .app_data(web::QueryConfig::default().error_handler(|_, _| {
                ApiError::Invalid(vault_core::ValidationErrors::single(
                    "query",
                    "is not a valid query string",
                ))
                .into()
            }))
            .route("/healthz", web::get().to(healthz))
            .service(
                web::resource("/credentials")
                    .route(web::post().to(credentials::create::<S, C, K, U, J>))
                    .route(web::get().to(credentials::list::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/credentials/{id}")
                    .route(web::get().to(credentials::get::<S, C, K, U, J>))
                    .route(web::patch().to(credentials::update::<S, C, K, U, J>))
                    .route(web::delete().to(credentials::delete::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/credentials/{id}/proxy")
                    .route(web::post().to(usage::proxy::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/credentials/{id}/versions")
                    .route(web::get().to(versions::list::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/credentials/{id}/versions/{number}/restore")
                    .route(web::post().to(versions::restore::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/admin/keys")
                    .route(web::get().to(versions::key_status::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/request-logs")
                    .route(web::get().to(usage::request_logs::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/audit-events")
                    .route(web::get().to(usage::audit_events::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/access-keys")
                    .route(web::post().to(access_keys::create::<S, C, K, U, J>))
                    .route(web::get().to(access_keys::list::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/access-keys/{id}")
                    .route(web::delete().to(access_keys::revoke::<S, C, K, U, J>))
                    .default_service(web::to(method_not_allowed)),
            )
            .default_service(web::to(not_found));
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}
