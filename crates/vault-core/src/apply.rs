//! What a credential adds to an outgoing request, and the proxy's request and response
//! rules (which headers a caller may set, which upstream headers go back).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::credential::{Credential, Placement, PlacementLocation};
use crate::signing::{NoRequestSigner, RequestSigner, SigningError};
use crate::upstream::{ClientIdentity, OutgoingRequest, RequestPurpose, TlsSettings};
use crate::validation::{FieldError, ValidationErrors};

/// The largest proxied request body.
pub const MAX_PROXY_BODY_BYTES: usize = 10 * 1024 * 1024;
/// The longest proxied URL.
pub const MAX_PROXY_URL_BYTES: usize = 8 * 1024;

/// What to attach to an outgoing request: headers and/or query parameters, and for the
/// types that sign each request, the signature over the request as it will be sent. Never
/// empty: a credential that cannot produce its authentication is an error, not an empty
/// result. `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct AppliedCredential {
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    query: Vec<(String, SecretString)>,
    signature: Option<Signature>,
    tls: Option<Arc<TlsSettings>>,
}

/// A signature a credential puts on each request (a type module's), over the request as
/// the caller and the credential's fixed values left it.
pub(crate) trait SignsRequests: Send + Sync {
    /// The scheme's name, for `Debug`.
    fn scheme(&self) -> &'static str;

    /// The headers the signature adds to `request`, signed at `at`, replacing any of the
    /// same names.
    fn sign(
        &self,
        request: &OutgoingRequest,
        signer: &dyn RequestSigner,
        at: SystemTime,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, SigningError>;
}

/// A type's signature, with the signer and the time the vault signs it with.
#[derive(Clone)]
struct Signature {
    signs: Arc<dyn SignsRequests>,
    signer: Arc<dyn RequestSigner>,
    at: SystemTime,
}

impl fmt::Debug for AppliedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppliedCredential")
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .field(
                "query",
                &self
                    .query
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .field(
                "signature",
                &self.signature.as_ref().map(|s| s.signs.scheme()),
            )
            .field("tls", &self.tls)
            .finish()
    }
}

/// A secret that cannot be put in a header (a control character, say). Stored values are
/// validated on the way in, so this means a row that no longer fits today's rules.
#[derive(Debug, thiserror::Error)]
#[error("a stored value of this credential cannot be sent in a header")]
pub struct UnsendableValue;

impl AppliedCredential {
    /// The headers to set, values marked sensitive (so `http`'s `Debug` hides them).
    #[must_use]
    pub fn headers(&self) -> &[(http::HeaderName, http::HeaderValue)] {
        &self.headers
    }

    /// The query parameters to set.
    #[must_use]
    pub fn query(&self) -> &[(String, SecretString)] {
        &self.query
    }

    /// True when there is nothing to attach (never the case for a returned value).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
            && self.query.is_empty()
            && self.signature.is_none()
            && self.tls.is_none()
    }

    /// A credential that presents a TLS client certificate (and attaches nothing else).
    pub(crate) fn presenting(identity: ClientIdentity) -> Self {
        Self {
            tls: Some(Arc::new(TlsSettings {
                reuse_key: (uuid::Uuid::nil(), 0),
                client_identity: Some(identity),
                server_roots: None,
            })),
            ..Self::default()
        }
    }

    /// A credential that signs each request with `signs` (and attaches nothing else).
    pub(crate) fn signed(signs: impl SignsRequests + 'static) -> Self {
        Self {
            signature: Some(Signature {
                signs: Arc::new(signs),
                signer: Arc::new(NoRequestSigner),
                at: SystemTime::UNIX_EPOCH,
            }),
            ..Self::default()
        }
    }

    /// Binds what the vault holds: the signer and the time it signs with (`at`, the
    /// vault's clock), and from `credential` the roots it pins and the reuse key of its
    /// TLS settings (its id and version).
    pub(crate) fn bind(
        mut self,
        signer: &Arc<dyn RequestSigner>,
        at: SystemTime,
        credential: &Credential,
    ) -> Self {
        if let Some(signature) = &mut self.signature {
            signature.signer = Arc::clone(signer);
            signature.at = at;
        }
        let reuse_key = (*credential.id.as_uuid(), credential.version);
        match &mut self.tls {
            Some(tls) => {
                let tls = Arc::make_mut(tls);
                tls.reuse_key = reuse_key;
                tls.server_roots.clone_from(&credential.ca_bundle);
            }
            None => {
                self.tls = credential.ca_bundle.clone().map(|roots| {
                    Arc::new(TlsSettings {
                        reuse_key,
                        client_identity: None,
                        server_roots: Some(roots),
                    })
                });
            }
        }
        self
    }

    pub(crate) fn header(&mut self, name: &str, value: &str) -> Result<(), UnsendableValue> {
        let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| UnsendableValue)?;
        // `http` would pass bytes above 0x7f through raw; a stored value from before that
        // rule (or an api_key moved from query to header) is refused, not sent mangled.
        if !is_visible_ascii(value) {
            return Err(UnsendableValue);
        }
        let mut value = http::HeaderValue::from_str(value).map_err(|_| UnsendableValue)?;
        value.set_sensitive(true);
        self.headers.push((name, value));
        Ok(())
    }

    pub(crate) fn bearer(value: &SecretString) -> Result<Self, UnsendableValue> {
        let mut applied = Self::default();
        let header = Zeroizing::new(format!("Bearer {}", value.expose_secret()));
        applied.header("authorization", &header)?;
        Ok(applied)
    }

    pub(crate) fn basic(username: &str, password: &SecretString) -> Result<Self, UnsendableValue> {
        let pair = Zeroizing::new(format!("{username}:{}", password.expose_secret()));
        let header = Zeroizing::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
        ));
        let mut applied = Self::default();
        applied.header("authorization", &header)?;
        Ok(applied)
    }

    pub(crate) fn placed(
        placement: &Placement,
        value: &SecretString,
    ) -> Result<Self, UnsendableValue> {
        let full = Zeroizing::new(format!(
            "{}{}",
            placement.prefix.as_deref().unwrap_or(""),
            value.expose_secret()
        ));
        let mut applied = Self::default();
        match placement.location {
            PlacementLocation::Header => applied.header(&placement.name, &full)?,
            PlacementLocation::Query => applied
                .query
                .push((placement.name.clone(), SecretString::from(full.to_string()))),
        }
        Ok(applied)
    }

    /// Puts the credential on `request`, replacing any header or query parameter of the
    /// same name the caller set: a caller can never override (or pre-empt) the injected
    /// authentication. A signature is made last, over the request as it then is: apply
    /// it to the request as it will be sent, and send it at once.
    ///
    /// # Errors
    /// The signature could not be made (a header the scheme signs is not text, say).
    pub fn apply_to(&self, request: &mut OutgoingRequest) -> Result<(), SigningError> {
        for (name, value) in &self.headers {
            request.headers.insert(name.clone(), value.clone());
        }
        if !self.query.is_empty() {
            let kept: Vec<(String, String)> = request
                .url
                .query_pairs()
                .filter(|(k, _)| !self.query.iter().any(|(name, _)| name == k))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let mut pairs = request.url.query_pairs_mut();
            pairs.clear();
            for (k, v) in &kept {
                pairs.append_pair(k, v);
            }
            for (name, value) in &self.query {
                pairs.append_pair(name, value.expose_secret());
            }
        }
        if let Some(tls) = &self.tls {
            request.tls = Some(Arc::clone(tls));
        }
        if let Some(signature) = &self.signature {
            let added = signature
                .signs
                .sign(request, &*signature.signer, signature.at)?;
            for (name, value) in added {
                request.headers.insert(name, value);
            }
        }
        Ok(())
    }
}

/// A request to send through the proxy, as the caller gives it.
#[derive(Clone, Default)]
pub struct ProxyRequest {
    /// The HTTP method.
    pub method: String,
    /// The absolute http(s) URL.
    pub url: String,
    /// Headers to send (the credential's own are added, replacing same-named ones).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl fmt::Debug for ProxyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Callers may put their own secrets in headers or the query: show neither.
        f.debug_struct("ProxyRequest")
            .field("method", &self.method)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// True when `value` can go in a header as it is: visible ASCII, spaces and tabs. `http`
/// accepts bytes above 0x7f too (obs-text), which each upstream would read its own way.
#[must_use]
pub fn is_visible_ascii(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// The methods sent in upper case however the caller spells them: methods are
/// case-sensitive (RFC 9110 §9.1), and `get` is not GET to every upstream.
const STANDARD_METHODS: [http::Method; 7] = [
    http::Method::GET,
    http::Method::HEAD,
    http::Method::POST,
    http::Method::PUT,
    http::Method::DELETE,
    http::Method::OPTIONS,
    http::Method::PATCH,
];

/// The method to send: a standard one in upper case, another token as given; CONNECT and
/// TRACE (in any case) are refused.
fn proxy_method(raw: &str) -> Result<http::Method, FieldError> {
    if raw.eq_ignore_ascii_case("CONNECT") || raw.eq_ignore_ascii_case("TRACE") {
        return Err(FieldError::new(
            "method",
            "CONNECT and TRACE are not proxied",
        ));
    }
    if let Some(standard) = STANDARD_METHODS
        .iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(raw))
    {
        return Ok(standard.clone());
    }
    // `Method::from_bytes` takes exactly the RFC 9110 token characters.
    http::Method::from_bytes(raw.as_bytes())
        .map_err(|_| FieldError::new("method", "must be an HTTP method such as GET or POST"))
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), and so are
/// neither taken from a caller nor passed back from an upstream.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers the vault sets itself from the URL and body.
const VAULT_OWNED: [&str; 2] = ["host", "content-length"];

impl ProxyRequest {
    /// Checks the request and turns it into an outgoing one (without the credential). It
    /// takes the request by value: the body moves into the outgoing request, uncopied.
    ///
    /// # Errors
    /// Every invalid part, named: `method`, `url`, `headers.<name>`, `body`.
    pub fn validate(self) -> Result<OutgoingRequest, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let method = errors.take(proxy_method(&self.method));
        let url = errors.take(proxy_url(&self.url));
        let mut headers = http::HeaderMap::new();
        for (name, value) in &self.headers {
            let field = format!("headers.{name}");
            let Ok(header) = http::HeaderName::from_bytes(name.as_bytes()) else {
                errors.add("headers", "every header name must be a valid HTTP token");
                continue;
            };
            if HOP_BY_HOP.contains(&header.as_str()) || VAULT_OWNED.contains(&header.as_str()) {
                errors.add(field, "is set by the vault and cannot be given");
                continue;
            }
            match http::HeaderValue::from_str(value) {
                Ok(parsed) if is_visible_ascii(value) => {
                    headers.append(header, parsed);
                }
                _ => errors.add(field, "must be visible ASCII text without line breaks"),
            }
        }
        if self.body.len() > MAX_PROXY_BODY_BYTES {
            errors.add(
                "body",
                format!("must be at most {MAX_PROXY_BODY_BYTES} bytes"),
            );
        }
        match (method, url) {
            (Some(method), Some(url)) if errors.is_empty() => Ok(OutgoingRequest {
                method,
                url,
                headers,
                body: self.body,
                purpose: RequestPurpose::Proxy,
                tls: None,
            }),
            _ => Err(errors),
        }
    }
}

fn proxy_url(raw: &str) -> Result<url::Url, FieldError> {
    let bad = || FieldError::new("url", "must be an absolute http or https URL");
    // The URL parser drops tabs and line breaks anywhere: a URL must mean what it shows.
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new(
            "url",
            "must not contain control characters (CR, LF, tab)",
        ));
    }
    if raw.len() > MAX_PROXY_URL_BYTES {
        return Err(FieldError::new(
            "url",
            format!("must be at most {MAX_PROXY_URL_BYTES} bytes"),
        ));
    }
    let url = url::Url::parse(raw).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            "url",
            "must not carry credentials: the vault adds the authentication",
        ));
    }
    if url.fragment().is_some() {
        return Err(FieldError::new("url", "must not have a fragment"));
    }
    Ok(url)
}

/// Removes the hop-by-hop headers of an upstream response, and any header its `Connection`
/// header names, before the response is passed back.
pub fn strip_hop_by_hop(headers: &mut http::HeaderMap) {
    let named: Vec<http::HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| http::HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str, headers: &[(&str, &str)]) -> ProxyRequest {
        ProxyRequest {
            method: "POST".to_owned(),
            url: url.to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: b"{}".to_vec(),
        }
    }

    #[test]
    fn injected_auth_replaces_what_the_caller_set() {
        let mut outgoing = request(
            "https://api.example.com/v1?api_key=caller&x=1",
            &[("Authorization", "Bearer caller"), ("X-Other", "kept")],
        )
        .validate()
        .expect("valid");
        assert_eq!(outgoing.purpose, RequestPurpose::Proxy);
        let mut applied = AppliedCredential::bearer(&SecretString::from("vault")).expect("bearer");
        applied
            .query
            .push(("api_key".to_owned(), SecretString::from("vault-key")));
        applied.apply_to(&mut outgoing).expect("nothing to sign");
        assert_eq!(outgoing.headers.get_all("authorization").iter().count(), 1);
        assert_eq!(outgoing.headers["authorization"], "Bearer vault");
        assert_eq!(outgoing.headers["x-other"], "kept");
        assert_eq!(outgoing.url.query(), Some("x=1&api_key=vault-key"));
        let shown = format!("{applied:?} {outgoing:?}");
        assert!(
            !shown.contains("vault-key") && !shown.contains("Bearer vault"),
            "{shown}"
        );
    }

    #[test]
    fn basic_auth_is_base64_of_user_and_password() {
        let applied =
            AppliedCredential::basic("aladdin", &SecretString::from("opensesame")).expect("basic");
        assert_eq!(applied.headers()[0].1, "Basic YWxhZGRpbjpvcGVuc2VzYW1l");
        assert!(applied.headers()[0].1.is_sensitive());
    }

    #[test]
    fn invalid_requests_name_each_field() {
        let bad = ProxyRequest {
            method: "GET POST".to_owned(),
            url: "ftp://x".to_owned(),
            headers: vec![
                ("Host".to_owned(), "evil".to_owned()),
                ("Transfer-Encoding".to_owned(), "chunked".to_owned()),
                ("X-Ok".to_owned(), "line\nbreak".to_owned()),
            ],
            body: vec![],
        };
        let errors = bad.validate().expect_err("invalid");
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "method",
                "url",
                "headers.Host",
                "headers.Transfer-Encoding",
                "headers.X-Ok"
            ]
        );
        for (url, ok) in [
            ("https://u:p@x.com/", false),
            ("https://x.com/#frag", false),
            ("http://x.com/a?b=c", true),
            ("/relative", false),
        ] {
            assert_eq!(request(url, &[]).validate().is_ok(), ok, "{url}");
        }
    }

    #[test]
    fn methods_are_sent_in_upper_case_and_must_be_tokens() {
        let method = |raw: &str| {
            ProxyRequest {
                method: raw.to_owned(),
                ..request("https://x.com/", &[])
            }
            .validate()
            .map(|o| o.method.to_string())
        };
        for (raw, sent) in [
            ("get", "GET"),
            ("Post", "POST"),
            ("pAtCh", "PATCH"),
            ("delete", "DELETE"),
            ("head", "HEAD"),
            ("options", "OPTIONS"),
            ("put", "PUT"),
            ("PROPFIND", "PROPFIND"),
        ] {
            assert_eq!(method(raw).expect(raw), sent, "{raw}");
        }
        for bad in [
            "connect", "Trace", "CONNECT", "GE T", "GET\r\n", "G(ET", "GÉT", "", "GET/1", " GET",
        ] {
            assert!(method(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn header_values_must_be_visible_ascii() {
        for bad in ["caf\u{e9}", "\u{263a}", "a\u{80}b", "x\u{7f}"] {
            let errors = request("https://x.com/", &[("X-Name", bad)])
                .validate()
                .expect_err(bad);
            assert_eq!(errors.errors()[0].field, "headers.X-Name", "{bad:?}");
        }
        assert!(
            request("https://x.com/", &[("X-Name", "a b\tc ~!")])
                .validate()
                .is_ok()
        );
        let mut applied = AppliedCredential::default();
        assert!(applied.header("x-key", "caf\u{e9}").is_err());
        assert!(applied.header("x-key", "plain").is_ok());
    }

    #[test]
    fn urls_with_control_characters_are_refused() {
        for bad in [
            "https://exa\nmple.com/",
            "https://x.com/a\tb",
            "https://x.com/\r\n",
        ] {
            let errors = request(bad, &[]).validate().expect_err(bad);
            assert_eq!(errors.errors()[0].field, "url");
        }
    }

    #[test]
    fn hop_by_hop_headers_do_not_come_back() {
        let mut headers = http::HeaderMap::new();
        for (n, v) in [
            ("connection", "close, x-private"),
            ("x-private", "1"),
            ("transfer-encoding", "chunked"),
            ("content-type", "text/plain"),
            ("set-cookie", "a=b"),
        ] {
            headers.append(n, http::HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut headers);
        let left: Vec<&str> = headers.keys().map(http::HeaderName::as_str).collect();
        assert_eq!(left, ["content-type", "set-cookie"]);
    }
}
