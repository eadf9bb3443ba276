//! The REST API over HTTP: one request, its JSON answer (or, for the answers that are
//! not JSON, its bytes and headers) or its problem+json refusal.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_MATCH};
use reqwest::{Method, Url};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{CliError, Problem};

/// Parses and checks a server URL as given by `--server`, the environment or the config.
///
/// # Errors
/// When it is not an absolute http(s) URL, or carries credentials, a query or a fragment.
pub(crate) fn parse_server(raw: &str) -> Result<Url, CliError> {
    let bad = |why: &str| CliError::usage(format!("the server URL {raw:?} {why}"));
    let mut url = Url::parse(raw.trim())
        .map_err(|_| bad("is not an absolute URL such as https://vault.example.com"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad("must be an http:// or https:// URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // It would end up in error messages and the config file: the key is the only
        // credential, and it travels in a header.
        return Err(CliError::usage(
            "the server URL must not carry a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    // One spelling, so that the saved key's server compares equal to `--server`.
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// The URL as shown and saved: without the trailing slash `Url` keeps for an empty path.
pub(crate) fn display_server(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// True when a plain-http URL would send the key over the network unencrypted.
pub(crate) fn is_cleartext_remote(url: &Url) -> bool {
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    url.scheme() == "http" && !loopback
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The JSON body (`Null` for 204).
    pub(crate) body: Value,
    /// The `ETag` header, if any.
    pub(crate) etag: Option<String>,
}

/// A successful answer as it came, for the answers that are not JSON (an export bundle).
#[derive(Debug)]
pub(crate) struct RawReply {
    /// HTTP status (a success).
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) bytes: Vec<u8>,
}

impl RawReply {
    /// A header's value, when it is there and visible ASCII.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request body: its bytes hold secrets, so they are wiped once sent.
#[derive(Debug)]
pub(crate) struct JsonBody(Zeroizing<Vec<u8>>);

impl JsonBody {
    /// Serializes `value`, then wipes the strings of `value` (they may be secrets).
    pub(crate) fn from_value(mut value: Value) -> Result<Self, CliError> {
        let bytes = serde_json::to_vec(&value)
            .map_err(|_| CliError::local("cannot encode the request body"))?;
        crate::secrets::wipe(&mut value);
        Ok(Self(Zeroizing::new(bytes)))
    }
}

/// The server and the key every request carries.
#[derive(Debug)]
pub(crate) struct Api {
    http: reqwest::Client,
    server: Url,
    key: SecretString,
}

impl Api {
    pub(crate) fn new(server: Url, key: SecretString) -> Result<Self, CliError> {
        // reqwest is built with rustls and no built-in crypto provider: name ring, as the
        // server does (an error only means one is installed already).
        let _already = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("vault-cli/", env!("CARGO_PKG_VERSION")))
            // The API never redirects; following one could carry the key elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|error| CliError::local(format!("cannot set up HTTP: {error}")))?;
        Ok(Self { http, server, key })
    }

    /// The server's URL, for messages.
    pub(crate) fn server(&self) -> String {
        display_server(&self.server)
    }

    /// `server` + the path segments (each percent-encoded, so an id cannot change the
    /// path) + the query.
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Url, CliError> {
        let mut url = self.server.clone();
        url.path_segments_mut()
            .map_err(|()| CliError::usage("the server URL cannot take a path"))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        Ok(url)
    }

    /// Sends one request and reads its JSON answer.
    ///
    /// # Errors
    /// As [`Api::call_raw`]; and [`CliError::Refused`] for a successful answer that is not
    /// JSON.
    pub(crate) async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<JsonBody>,
        if_match: Option<&str>,
    ) -> Result<Reply, CliError> {
        let raw = self
            .call_raw(method, segments, query, body, if_match)
            .await?;
        let etag = raw.header(ETAG.as_str()).map(str::to_owned);
        if raw.bytes.is_empty() {
            return Ok(Reply {
                body: Value::Null,
                etag,
            });
        }
        let body = serde_json::from_slice(&raw.bytes)
            .map_err(|_| CliError::unexpected(raw.status, "not JSON"))?;
        Ok(Reply { body, etag })
    }

    /// Sends one request and returns its successful answer as it came: status, headers
    /// and bytes, whatever their type.
    ///
    /// # Errors
    /// [`CliError::Unreachable`] when no answer came, [`CliError::Refused`] for an error
    /// status (with the problem document's fields).
    pub(crate) async fn call_raw(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<JsonBody>,
        if_match: Option<&str>,
    ) -> Result<RawReply, CliError> {
        let url = self.url(segments, query)?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.key.expose_secret()))
            .map_err(|_| {
                CliError::usage("the access key has characters no HTTP header can carry")
            })?;
        auth.set_sensitive(true);
        let mut request = self.http.request(method, url).header(AUTHORIZATION, auth);
        if let Some(tag) = if_match {
            request = request.header(IF_MATCH, tag);
        }
        if let Some(JsonBody(mut bytes)) = body {
            // The bytes move to reqwest (no copy), which frees them once sent: the one
            // copy of the secrets this process cannot wipe.
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(std::mem::take(&mut *bytes));
        }
        let response = request
            .send()
            .await
            .map_err(|error| self.unreachable(error))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| self.unreachable(error))?;
        if status.is_success() {
            return Ok(RawReply {
                status: status.as_u16(),
                headers,
                bytes: Vec::from(bytes),
            });
        }
        let is_json = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|essence| {
                let essence = essence.trim();
                essence == "application/json" || essence.ends_with("+json")
            });
        let reason = status.canonical_reason().unwrap_or("error").to_owned();
        let document = if is_json {
            serde_json::from_slice::<Value>(&bytes).ok()
        } else {
            None
        };
        Err(CliError::Refused(Box::new(problem(
            status.as_u16(),
            reason,
            document.as_ref(),
        ))))
    }

    /// A list endpoint: one page, or every page when `all` (following `nextCursor`).
    /// Returns the page as the server sent it (every item gathered under `items` when
    /// `all`).
    pub(crate) async fn list(
        &self,
        segments: &[&str],
        mut query: Vec<(&str, String)>,
        page: &crate::cli::PageArgs,
    ) -> Result<Value, CliError> {
        if let Some(limit) = page.limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = &page.cursor {
            query.push(("cursor", cursor.clone()));
        }
        let first = self
            .call(Method::GET, segments, &query, None, None)
            .await?
            .body;
        if !page.all {
            return Ok(first);
        }
        let mut items = crate::output::items(&first).to_vec();
        let mut next = next_cursor(&first);
        while let Some(cursor) = next {
            let mut query = query.clone();
            query.push(("cursor", cursor));
            let body = self
                .call(Method::GET, segments, &query, None, None)
                .await?
                .body;
            items.extend_from_slice(crate::output::items(&body));
            next = next_cursor(&body);
        }
        Ok(serde_json::json!({ "items": items, "nextCursor": null }))
    }

    fn unreachable(&self, error: reqwest::Error) -> CliError {
        // The cause chain, without reqwest's copy of the URL: it is named once, by us (it
        // never holds the key, which travels in a header).
        let timed_out = error.is_timeout();
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            causes.push(inner.to_string());
            source = inner.source();
        }
        let mut cause = error.without_url().to_string();
        for inner in causes {
            cause.push_str(": ");
            cause.push_str(&inner);
        }
        if timed_out {
            cause.push_str(" (timed out)");
        }
        CliError::Unreachable {
            server: self.server(),
            cause,
        }
    }
}

/// The cursor of the next page, if there is one.
pub(crate) fn next_cursor(page: &Value) -> Option<String> {
    page.get("nextCursor")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

/// The fields of an RFC 9457 problem document, or the bare status.
fn problem(status: u16, reason: String, document: Option<&Value>) -> Problem {
    let text = |field: &str| {
        document
            .and_then(|d| d.get(field))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let errors = document
        .and_then(|d| d.get("errors"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|e| {
                    Some((
                        e.get("field")?.as_str()?.to_owned(),
                        e.get("message")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let code = text("code");
    let hint = match (status, code.as_deref()) {
        (401, _) => Some(
            "the access key was refused: run `vault login` again, or check \
             VAULT_CLI_ACCESS_KEY"
                .to_owned(),
        ),
        (403, Some("insufficient-scope")) => {
            Some("this access key lacks the scope this command needs".to_owned())
        }
        _ => None,
    };
    Problem {
        status,
        title: text("title").unwrap_or(reason),
        detail: text("detail"),
        code,
        request_id: text("requestId"),
        errors,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked_and_spelled_one_way() {
        let url = parse_server("https://vault.example.com/").expect("valid");
        assert_eq!(display_server(&url), "https://vault.example.com");
        assert_eq!(
            parse_server("https://vault.example.com").ok(),
            parse_server("https://vault.example.com/").ok()
        );
        let prefixed = parse_server("https://example.com/vault/").expect("valid");
        assert_eq!(display_server(&prefixed), "https://example.com/vault");
        for bad in [
            "vault.example.com",
            "ftp://example.com",
            "https://user:pw@example.com",
            "https://example.com/?a=1",
        ] {
            assert!(parse_server(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn plain_http_is_flagged_unless_on_this_machine() {
        for (url, flagged) in [
            ("http://127.0.0.1:8080", false),
            ("http://localhost:8080", false),
            ("http://[::1]:8080", false),
            ("https://vault.example.com", false),
            ("http://vault.example.com", true),
            ("http://10.0.0.5:8080", true),
        ] {
            let url = parse_server(url).expect("valid");
            assert_eq!(is_cleartext_remote(&url), flagged, "{url}");
        }
    }

    #[test]
    fn a_path_segment_cannot_climb_out_of_its_place() {
        let api = Api::new(
            parse_server("https://example.com/vault").expect("valid"),
            SecretString::from("k"),
        )
        .expect("client");
        let url = api
            .url(
                &["credentials", "../access-keys"],
                &[("type", "a b".to_owned())],
            )
            .expect("url");
        assert_eq!(
            url.as_str(),
            "https://example.com/vault/credentials/..%2Faccess-keys?type=a+b"
        );
    }

    #[test]
    fn a_problem_document_gives_its_fields_and_a_401_a_hint() {
        let document = serde_json::json!({
            "title": "Unauthorized", "status": 401, "code": "unauthorized",
            "detail": "A valid access key is required", "requestId": "r-1"
        });
        let problem = problem(401, "Unauthorized".to_owned(), Some(&document));
        assert_eq!(problem.code.as_deref(), Some("unauthorized"));
        assert_eq!(problem.request_id.as_deref(), Some("r-1"));
        assert!(problem.hint.is_some_and(|h| h.contains("vault login")));
        let bare = super::problem(502, "Bad Gateway".to_owned(), None);
        assert_eq!(bare.title, "Bad Gateway");
        assert!(bare.code.is_none());
    }
}
