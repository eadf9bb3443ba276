//! `Authorization: Bearer <access key>` on every route but health.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::Data;
use vault_core::{Principal, Store, Vault, VaultError};

use crate::error::ApiError;
use crate::rate_limit::{FailureLimiter, RateLimiter};

/// Authenticates the request's bearer access key.
///
/// # Errors
/// 401 for a missing, malformed, unknown, expired or revoked key; 429 once the request's
/// source has spent its failed authentications (before the key is looked up), or the
/// caller its rate limit.
pub(crate) async fn authenticate<S: Store>(
    req: &HttpRequest,
    vault: &Data<Vault<S>>,
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
    // A source that has spent its failures is refused before its key is looked up: a
    // flood of bad keys costs no store read and no audit row.
    let failures = req.app_data::<Data<FailureLimiter>>();
    let source = failures.and_then(|limiter| limiter.source_of(req));
    if let (Some(limiter), Some(source)) = (failures, source) {
        // No log line of its own: the request's line (status 429) says it, once.
        limiter.check(source).map_err(ApiError::RateLimited)?;
    }
    let principal = vault.authenticate(presented).await.inspect_err(|e| {
        if matches!(e, VaultError::Unauthenticated) {
            tracing::info!("authentication failed");
            if let (Some(limiter), Some(source)) = (failures, source) {
                limiter.failed(source);
            }
        }
    })?;
    if let Some(limiter) = req.app_data::<Data<RateLimiter>>() {
        limiter.check(&principal).map_err(ApiError::RateLimited)?;
    }
    Ok(principal)
}
