//! The HTTPS sink: each batch POSTed as one JSON array to a collector (a SIEM's HTTP
//! intake, a log pipeline), through the vault's own outbound client.

use http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use url::Url;
use vault_core::upstream::{OutgoingRequest, RequestPurpose, Upstream};

use crate::{AuditSink, ConfigError, Delivery, SinkError, StreamedEvent};

/// Events per request at most: a batch larger is sent as several requests, in order.
pub const MAX_EVENTS_PER_REQUEST: usize = 100;

/// Where the HTTPS sink posts, and the one header that authenticates it there.
#[derive(Clone)]
pub struct HttpsConfig {
    url: Url,
    /// `Authorization: Splunk <token>`, `DD-API-KEY: <key>`...: a secret, never shown.
    auth: Option<(HeaderName, HeaderValue)>,
}

impl std::fmt::Debug for HttpsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsConfig")
            .field("host", &self.url.host_str())
            .field("auth", &self.auth.as_ref().map(|(name, _)| name))
            .finish()
    }
}

impl HttpsConfig {
    /// Posts to `url` (`https` only, without user information), with `auth`, a header
    /// given as `Name: value`, when there is one.
    ///
    /// # Errors
    /// [`ConfigError::Https`] for a URL that is not such, or a header that does not parse.
    /// Neither message repeats the value.
    pub fn new(url: &str, auth: Option<&str>) -> Result<Self, ConfigError> {
        let refuse = |reason: &str| ConfigError::Https {
            reason: reason.to_owned(),
        };
        let url = Url::parse(url).map_err(|_| refuse("the URL does not parse"))?;
        if url.scheme() != "https" {
            return Err(refuse(
                "the URL must be https: the audit log is not sent in clear",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse(
                "the URL must not carry user information; use the header setting",
            ));
        }
        let auth = auth
            .filter(|a| !a.trim().is_empty())
            .map(|raw| {
                let (name, value) = raw
                    .split_once(':')
                    .ok_or_else(|| refuse("the header must be `Name: value`"))?;
                let name = HeaderName::try_from(name.trim())
                    .map_err(|_| refuse("the header name is not valid"))?;
                let mut value = HeaderValue::try_from(value.trim())
                    .map_err(|_| refuse("the header value is not valid"))?;
                value.set_sensitive(true);
                Ok((name, value))
            })
            .transpose()?;
        Ok(Self { url, auth })
    }
}

/// POSTs each batch (in requests of at most [`MAX_EVENTS_PER_REQUEST`]) as a JSON array
/// of the events' objects; a 2xx answer is delivery. Anything else, or no answer, is a
/// failure: the streaming job retries the batch, so a collector may see a request again
/// (it dedupes by organization and sequence, each event carries both).
pub struct HttpsSink<U> {
    config: HttpsConfig,
    upstream: U,
    /// One batch at a time, so batches never interleave at the collector.
    turn: tokio::sync::Mutex<()>,
}

impl<U> std::fmt::Debug for HttpsSink<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsSink")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<U: Upstream> HttpsSink<U> {
    /// A sink sending through `upstream` (the vault's client: its timeouts, TLS roots and
    /// address rules).
    pub fn new(config: HttpsConfig, upstream: U) -> Self {
        Self {
            config,
            upstream,
            turn: tokio::sync::Mutex::new(()),
        }
    }

    async fn post(&self, events: &[StreamedEvent]) -> Result<(), SinkError> {
        let body: Vec<&serde_json::Value> = events.iter().map(|e| &e.json).collect();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static("vault-audit/1"),
        );
        if let Some((name, value)) = &self.config.auth {
            headers.insert(name.clone(), value.clone());
        }
        let request = OutgoingRequest {
            method: Method::POST,
            url: self.config.url.clone(),
            headers,
            body: serde_json::to_vec(&body).unwrap_or_default(),
            purpose: RequestPurpose::AuditSink,
            tls: None,
        };
        let target = self.target();
        let response =
            self.upstream
                .send(request)
                .await
                .map_err(|error| SinkError::Unreachable {
                    target: target.clone(),
                    source: std::io::Error::other(error),
                })?;
        if response.status.is_success() {
            Ok(())
        } else {
            Err(SinkError::Rejected {
                reason: format!("{target} answered {}", response.status.as_u16()),
            })
        }
    }

    /// Where it posts, for messages: scheme, host and port (never the path or query,
    /// which may hold a token).
    fn target(&self) -> String {
        let url = &self.config.url;
        match url.port() {
            Some(port) => format!("https://{}:{port}", url.host_str().unwrap_or_default()),
            None => format!("https://{}", url.host_str().unwrap_or_default()),
        }
    }
}

impl<U: Upstream> AuditSink for HttpsSink<U> {
    fn name(&self) -> &str {
        "https"
    }

    fn deliver<'a>(&'a self, events: &'a [StreamedEvent]) -> Delivery<'a> {
        Box::pin(async move {
            let _turn = self.turn.lock().await;
            for chunk in events.chunks(MAX_EVENTS_PER_REQUEST) {
                self.post(chunk).await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_https_url_without_user_information_and_a_well_formed_header_are_taken() {
        let config = HttpsConfig::new(
            "https://siem.example.com/collector?channel=1",
            Some("Authorization: Splunk token-that-is-secret"),
        )
        .expect("valid");
        let shown = format!("{config:?}");
        assert!(!shown.contains("token-that-is-secret"), "{shown}");
        assert!(!shown.contains("channel"), "{shown}");
        assert!(HttpsConfig::new("https://siem.example.com/", None).is_ok());
        for (url, header) in [
            ("http://siem.example.com/", None),
            ("https://user:pw@siem.example.com/", None),
            ("not a url", None),
            ("https://siem.example.com/", Some("no colon here")),
            ("https://siem.example.com/", Some("Bad Name: x")),
            ("https://siem.example.com/", Some("X-Key: line\nbreak")),
        ] {
            let refused = HttpsConfig::new(url, header).expect_err(url);
            let message = refused.to_string();
            assert!(
                !message.contains("pw@") && !message.contains("line"),
                "{message}"
            );
        }
    }
}
