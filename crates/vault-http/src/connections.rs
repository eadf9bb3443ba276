//! OAuth2 connections: `POST /credentials/{id}/connect` starts the authorization-code flow,
//! and `GET /oauth/callback` is where the provider sends the user back. The callback is
//! public (a browser follows it): its single-use `state` is what authenticates it.

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use time::OffsetDateTime;
use vault_core::vault::CallbackParams;
use vault_core::{Store, Vault, VaultError};

use crate::ApiConfig;
use crate::auth::authenticate;
use crate::error::{ApiError, describe_vault};
use crate::params::parse_id;
use crate::rate_limit::FailureLimiter;

/// Where providers send users back, under the vault's public URL.
pub(crate) const CALLBACK_PATH: &str = "/oauth/callback";

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConnectStarted {
    /// Send the user here: the provider's authorization page, with `state` and a PKCE
    /// S256 challenge. Treat it as a secret until used.
    authorization_url: String,
    /// The redirect URI it names: it must be registered with the provider as it is.
    redirect_uri: String,
    /// When the link stops working (10 minutes).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: OffsetDateTime,
}

#[utoipa::path(
    post,
    path = "/credentials/{id}/connect",
    operation_id = "connectCredential",
    tag = "credentials",
    summary = "Start connecting an OAuth2 credential",
    description = "Starts the authorization-code flow (PKCE S256) of an `oauth2` credential with `grant` `authorization_code`. Needs `credentials:write`. Send the user to `authorizationUrl`: the provider sends them back to `redirectUri` (`/oauth/callback`), where the vault exchanges the code and seals the tokens. The link is single use, bound to this credential and to the caller, and expires in 10 minutes.",
    params(("id" = String, Path, description = "The credential id (UUID)")),
    responses(
        (status = 200, description = "Where to send the user", body = ConnectStarted,
            headers(("Cache-Control" = String, description = "`no-store`: the link is single use"))),
        (status = 403, response = crate::openapi::ProblemResponse),
        (status = 404, response = crate::openapi::ProblemResponse),
        (status = 409, response = crate::openapi::ProblemResponse),
    )
)]
pub(crate) async fn connect<S: Store>(
    req: HttpRequest,
    id: Path<String>,
    vault: Data<Vault<S>>,
    config: Data<ApiConfig>,
) -> Result<HttpResponse, ApiError> {
    let who = authenticate(&req, &vault).await?;
    let id = parse_id(&id)?;
    let redirect_uri = redirect_uri(&req, &config);
    let started = vault.start_connect(&who, id, &redirect_uri).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ConnectStarted {
            authorization_url: started.authorization_url,
            redirect_uri,
            expires_at: started.expires_at,
        }))
}

#[utoipa::path(
    get,
    path = "/oauth/callback",
    operation_id = "oauthCallback",
    tag = "credentials",
    summary = "Finish connecting an OAuth2 credential",
    description = "Where the provider sends the user back after `POST /credentials/{id}/connect`. Public: the single-use `state` authenticates it. Exchanges the code (with the PKCE verifier) and seals the tokens, then shows a small page saying connected, or why not. Every outcome is audited as `connection.connect`; a failure leaves the credential as it was.",
    params(
        ("state" = Option<String>, Query, description = "The state of the authorization request"),
        ("code" = Option<String>, Query, description = "The authorization code"),
        ("error" = Option<String>, Query, description = "The provider's OAuth2 error (`access_denied`)"),
    ),
    responses(
        (status = 200, description = "Connected", content_type = "text/html", body = String),
        (status = 400, description = "The link is invalid, used or expired, or the provider refused", content_type = "text/html", body = String),
        (status = 404, description = "The credential was deleted meanwhile", content_type = "text/html", body = String),
        (status = 429, description = "This address sent too many invalid links; try again later", content_type = "text/html", body = String),
        (status = 502, description = "The token endpoint refused the code or failed", content_type = "text/html", body = String),
    ),
    security(())
)]
pub(crate) async fn callback<S: Store>(
    req: HttpRequest,
    query: Query<BTreeMap<String, String>>,
    vault: Data<Vault<S>>,
) -> HttpResponse {
    // A guessed state is a guessed key: it spends the source's failed authentications,
    // and a source that has spent them is refused before the store is asked.
    let failures = req.app_data::<Data<FailureLimiter>>();
    let source = failures.and_then(|limiter| limiter.source_of(&req));
    if let (Some(limiter), Some(source)) = (failures, source)
        && limiter.check(source).is_err()
    {
        return html(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts",
            "This address has sent too many invalid connect links; try again in a minute.",
        );
    }
    let mut query = query.into_inner();
    let params = CallbackParams {
        state: query.remove("state"),
        code: query.remove("code"),
        error: query.remove("error"),
    };
    let outcome = vault.complete_connect(&params).await;
    if let (Err(VaultError::InvalidConnectState), Some(limiter), Some(source)) =
        (&outcome, failures, source)
    {
        limiter.failed(source);
    }
    let (status, heading, detail) = match outcome {
        Ok(connected) => (
            StatusCode::OK,
            "Connected",
            format!(
                "The credential “{}” ({}) is connected. You can close this page.",
                connected.name, connected.credential_id
            ),
        ),
        Err(error) => {
            let (status, _, title, detail) = describe_vault(&error);
            if status.is_server_error() {
                tracing::error!(error = %error, "connect callback failed");
            }
            (status, title, detail)
        }
    };
    html(status, heading, &detail)
}

/// The callback's page, with headers that keep it inert.
fn html(status: StatusCode, heading: &str, detail: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // The page runs nothing and loads nothing; and the URL it was reached by carried
        // the code, which must not leak in a Referer.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(page(heading, detail))
}

/// The vault's callback URL: `public_url` when configured, else the scheme and host this
/// request came in on.
fn redirect_uri(req: &HttpRequest, config: &ApiConfig) -> String {
    let base = config.public_url.clone().unwrap_or_else(|| {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    });
    format!("{}{CALLBACK_PATH}", base.trim_end_matches('/'))
}

fn page(heading: &str, detail: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{h}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}}</style>\
         </head><body><h1>{h}</h1><p>{d}</p></body></html>",
        h = escape(heading),
        d = escape(detail),
    )
}

/// HTML-escapes text (a credential's name is the user's own text).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_it_shows() {
        let shown = page("Connected", "<script>alert('x')</script> & \"q\"");
        assert!(!shown.contains("<script>"), "{shown}");
        assert!(
            shown.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
        );
    }
}
