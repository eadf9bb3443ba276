//! The metered upstream: proxied calls and token fetches, counted apart.

use std::sync::Arc;

use secrecy::SecretString;
use vault_core::oauth2::read_token_response;
use vault_core::upstream::{
    CertificateFacts, ClientIdentity, OutgoingRequest, RequestPurpose, TlsSettings,
    TlsSettingsError, Upstream, UpstreamError, UpstreamResponse,
};

use crate::Metrics;
use crate::registry::UpstreamStatus;

/// An upstream that forwards every request to `inner` and counts it by its
/// [`purpose`](OutgoingRequest::purpose):
///
/// - a proxied call in `vault_proxy_requests_total{upstream_status}`: the upstream's status
///   code (`200`, `503`), or the [`UpstreamError::code`] when there was no answer
///   (`upstream-timeout`, `forbidden-destination`, ...);
/// - a token request in `vault_oauth2_token_fetches_total{outcome}`: `ok` when the token
///   endpoint answered with a usable bearer token, its status class (`4xx`, `5xx`, or `2xx`
///   for a success status without a usable token response) when it did not, or the
///   [`UpstreamError::code`] when there was no answer.
///
/// Nothing of the URL, the headers or either body is recorded. (Reading the token response
/// to tell `ok` from `2xx` uses [`read_token_response`], the vault's own parser, whose
/// result is dropped at once.)
#[derive(Clone, Debug)]
pub struct MeteredUpstream<U> {
    inner: U,
    metrics: Arc<Metrics>,
}

impl<U> MeteredUpstream<U> {
    /// Wraps `inner`, counting into `metrics`.
    pub fn new(inner: U, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    /// The upstream requests are forwarded to.
    pub fn inner(&self) -> &U {
        &self.inner
    }
}

impl<U: Upstream> Upstream for MeteredUpstream<U> {
    async fn send(&self, request: OutgoingRequest) -> Result<UpstreamResponse, UpstreamError> {
        let purpose = request.purpose;
        let result = self.inner.send(request).await;
        match purpose {
            RequestPurpose::Proxy => self.metrics.count_proxy(match &result {
                Ok(response) => UpstreamStatus::Status(response.status.as_u16()),
                Err(error) => UpstreamStatus::Error(error.code()),
            }),
            RequestPurpose::TokenFetch => self.metrics.count_token_fetch(token_outcome(&result)),
            // A purpose added to the port later is not counted until it has a family.
            _ => {}
        }
        result
    }

    fn check_destination(&self, url: &url::Url) -> Result<(), UpstreamError> {
        self.inner.check_destination(url)
    }

    fn inspect_tls(&self, tls: &TlsSettings) -> Result<Option<CertificateFacts>, TlsSettingsError> {
        self.inner.inspect_tls(tls)
    }

    fn open_pkcs12(
        &self,
        archive: &[u8],
        password: &SecretString,
    ) -> Result<ClientIdentity, TlsSettingsError> {
        self.inner.open_pkcs12(archive, password)
    }
}

/// The `outcome` label of a token request.
fn token_outcome(result: &Result<UpstreamResponse, UpstreamError>) -> &'static str {
    match result {
        Err(error) => error.code(),
        Ok(response) if response.status.is_success() && read_token_response(response).is_ok() => {
            "ok"
        }
        Ok(response) => status_class(response.status),
    }
}

/// `1xx` .. `5xx`, or `other` for a code outside 100-599.
fn status_class(status: http::StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<UpstreamResponse, UpstreamError> {
        Ok(UpstreamResponse {
            status: http::StatusCode::from_u16(status).expect("a status"),
            headers: http::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn token_outcomes_tell_a_token_from_a_refusal_and_a_bad_answer() {
        let token = r#"{"access_token":"t0k3n","token_type":"Bearer","expires_in":60}"#;
        assert_eq!(token_outcome(&answer(200, token)), "ok");
        assert_eq!(token_outcome(&answer(200, "<html>")), "2xx");
        assert_eq!(
            token_outcome(&answer(401, r#"{"error":"invalid_client"}"#)),
            "4xx"
        );
        assert_eq!(token_outcome(&answer(503, "")), "5xx");
        assert_eq!(token_outcome(&answer(302, "")), "3xx");
        assert_eq!(token_outcome(&answer(999, "")), "other");
        let timeout = Err(UpstreamError::Timeout {
            host: "auth.example.com".to_owned(),
        });
        assert_eq!(token_outcome(&timeout), "upstream-timeout");
    }
}
