//! `Authorization: Bearer <access key>` on every route but health.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::Data;
use vault_core::{Cipher, Clock, JwtSigner, Principal, Store, Upstream, Vault, VaultError};

use crate::error::ApiError;
use crate::rate_limit::RateLimiter;

/// Authenticates the request's bearer access key.
///
/// # Errors
/// 401 for a missing, malformed, unknown, expired or revoked key.
pub(crate) async fn authenticate<S: Store, C: Cipher, K: Clock, U: Upstream, J: JwtSigner>(
    req: &HttpRequest,
    vault: &Data<Vault<S, C, K, U, J>>,
) -> Result<Principal, ApiError> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or(ApiError::Vault(VaultError::Unauthenticated))?;
    let principal = vault.authenticate(presented).await.inspect_err(|e| {
        if matches!(e, VaultError::Unauthenticated) {
            tracing::info!("authentication failed");
        }
    })?;
    if let Some(limiter) = req.app_data::<Data<RateLimiter>>() {
        limiter.check(&principal).map_err(ApiError::RateLimited)?;
    }
    Ok(principal)
}
