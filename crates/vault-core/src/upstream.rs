//! The outbound HTTP port: how the vault sends a request carrying a credential (a proxied
//! call, an OAuth2 token request). One port for both, so there is exactly one way out of
//! the vault and one place where the network rules are enforced.

use futures::future::BoxFuture;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use secrecy::SecretString;
use time::OffsetDateTime;

use crate::ca_bundle::CaBundle;
use crate::store::BoxError;

/// A request about to leave the vault. It may carry secrets (injected headers are marked
/// sensitive; a query-placed key sits in the URL), so its `Debug` shows only the method,
/// scheme, host, path, body length and purpose.
#[derive(Clone)]
pub struct OutgoingRequest {
    /// The method.
    pub method: http::Method,
    /// The absolute http(s) URL.
    pub url: url::Url,
    /// Headers, the injected credential among them.
    pub headers: http::HeaderMap,
    /// The body (may be empty).
    pub body: Vec<u8>,
    /// Why the vault sends it, so an adapter (a metrics decorator, a log) can tell a
    /// proxied call from a token fetch without looking at the URL.
    pub purpose: RequestPurpose,
    /// How this request's TLS differs from the vault's default (a client certificate,
    /// pinned roots), if it does.
    pub tls: Option<Arc<TlsSettings>>,
}

/// A credential's own TLS settings: the client certificate it presents, the roots it
/// trusts. `Debug` shows the reuse key and which parts are set.
#[derive(Clone)]
pub struct TlsSettings {
    /// Names these settings for reuse (of connections, of a client built for them): the
    /// same key always comes with the same settings. The credential's id and version.
    pub reuse_key: (uuid::Uuid, i64),
    /// The client certificate and key to present (an `mtls` credential), if any.
    pub client_identity: Option<ClientIdentity>,
    /// The only roots the server's certificate may chain to, when the credential pins them.
    pub server_roots: Option<CaBundle>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("reuse_key", &self.reuse_key)
            .field("client_identity", &self.client_identity.is_some())
            .field("server_roots", &self.server_roots)
            .finish()
    }
}

/// A TLS client certificate and its key, presented in the handshake. `Debug` shows
/// nothing of them.
#[derive(Clone)]
pub struct ClientIdentity {
    /// The certificate chain, PEM, leaf first.
    pub certificate_chain: SecretString,
    /// The private key, PEM.
    pub private_key: SecretString,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity").finish_non_exhaustive()
    }
}

/// What a client certificate says of itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The subject's distinguished name (RFC 4514).
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// The serial number, hex.
    pub serial_number: String,
    /// The end of its validity.
    pub not_after: OffsetDateTime,
}

/// Why a credential's TLS settings cannot be used (a client certificate and key that
/// cannot be presented, roots that do not parse). Fixed words: never key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSettingsError {
    /// The certificate chain is not PEM certificates that parse.
    #[error("certificate: {0}")]
    Certificate(&'static str),
    /// The key is not a PEM private key this client can use.
    #[error("privateKey: {0}")]
    Key(&'static str),
    /// The key is not the certificate's.
    #[error("privateKey: is not the key of the certificate")]
    Mismatch,
    /// The CA bundle is not PEM certificates.
    #[error("caBundle: {0}")]
    CaBundle(&'static str),
    /// The PKCS#12 archive cannot be read, or holds no single key with its certificate.
    #[error("pkcs12: {0}")]
    Pkcs12(&'static str),
    /// The PKCS#12 archive's password is not this one.
    #[error("pkcs12Password: is not the archive's password")]
    Pkcs12Password,
    /// This vault's upstream cannot apply what the field (named) asks for.
    #[error("{0}: this vault's upstream cannot apply TLS settings")]
    Unsupported(&'static str),
}

impl TlsSettingsError {
    /// The API field the refusal is about.
    #[must_use]
    pub const fn field(&self) -> &'static str {
        match self {
            Self::Certificate(_) => "certificate",
            Self::Key(_) | Self::Mismatch => "privateKey",
            Self::CaBundle(_) => "caBundle",
            Self::Pkcs12(_) => "pkcs12",
            Self::Pkcs12Password => "pkcs12Password",
            Self::Unsupported(field) => field,
        }
    }

    /// The refusal without its field.
    #[must_use]
    pub fn reason(&self) -> String {
        let text = self.to_string();
        text.split_once(": ")
            .map_or(text.clone(), |(_, reason)| reason.to_owned())
    }
}

/// Why a request leaves the vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestPurpose {
    /// A caller's request, proxied with a credential applied.
    Proxy,
    /// An OAuth2 token request to a credential's token endpoint (any grant).
    TokenFetch,
    /// An RFC 7009 token revocation, when a connected credential is deleted.
    Revocation,
    /// A webhook delivery to a subscriber.
    Webhook,
    /// A batch of the audit log, to the operator's collector.
    AuditSink,
}

impl RequestPurpose {
    /// A stable lower-case name, for logs and metric labels.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Proxy => "proxy",
            Self::TokenFetch => "token_fetch",
            Self::Revocation => "revocation",
            Self::Webhook => "webhook",
            Self::AuditSink => "audit_sink",
        }
    }
}

impl fmt::Debug for OutgoingRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingRequest")
            .field("method", &self.method)
            .field("scheme", &self.url.scheme())
            .field("host", &self.url.host_str())
            .field("path", &self.url.path())
            .field("body_bytes", &self.body.len())
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// What the upstream answered.
#[derive(Clone, Debug)]
pub struct UpstreamResponse {
    /// The status.
    pub status: http::StatusCode,
    /// The headers, as received.
    pub headers: http::HeaderMap,
    /// The body, complete (within the adapter's size limit).
    pub body: Vec<u8>,
}

/// Why an outgoing request got no response. Messages name at most a host, never a URL: a
/// URL can carry a credential in its query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The destination is, or resolves to, a private, loopback, link-local or otherwise
    /// non-public address, and the vault does not allow those.
    #[error("{host} is, or resolves to, a non-public address, which this vault does not call")]
    ForbiddenAddress {
        /// The host as the URL named it.
        host: String,
    },
    /// The host name did not resolve.
    #[error("{host} did not resolve")]
    Resolve {
        /// The host as the URL named it.
        host: String,
    },
    /// No connection could be made (refused, reset, TLS failure).
    #[error("could not connect to {host}")]
    Connect {
        /// The host.
        host: String,
        /// The cause, with any URL stripped.
        #[source]
        source: Option<BoxError>,
    },
    /// The connect or total timeout elapsed.
    #[error("{host} did not answer in time")]
    Timeout {
        /// The host.
        host: String,
    },
    /// The response body exceeded the size limit.
    #[error("the response of {host} is larger than {limit} bytes")]
    ResponseTooLarge {
        /// The host.
        host: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// This vault was built without an upstream client.
    #[error("this vault has no upstream client; build it with Vault::with_upstream")]
    Disabled,
    /// Any other failure of the HTTP client.
    #[error("the request to {host} failed")]
    Other {
        /// The host.
        host: String,
        /// The cause, with any URL stripped.
        #[source]
        source: Option<BoxError>,
    },
}

impl UpstreamError {
    /// A stable machine code for problem responses and logs.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::ForbiddenAddress { .. } => "forbidden-destination",
            Self::Resolve { .. } => "upstream-unresolvable",
            Self::Connect { .. } => "upstream-unreachable",
            Self::Timeout { .. } => "upstream-timeout",
            Self::ResponseTooLarge { .. } => "upstream-response-too-large",
            Self::Other { .. } => "upstream-failed",
            Self::Disabled => "upstream-disabled",
        }
    }
}

/// Sends requests to upstream services.
///
/// # Errors
/// An implementation MUST:
/// - refuse, with [`UpstreamError::ForbiddenAddress`], any destination that is or resolves
///   to an address [`is_public_address`](crate::egress::is_public_address) rejects, unless
///   it was configured to allow private networks; the check MUST apply to the very
///   addresses it connects to (no second resolution after the check);
/// - not follow a redirect to another scheme, host or port (it returns the redirect);
/// - bound the connect time, the total time and the response size;
/// - never put the URL (its query may hold a credential) or a header value in an error.
pub trait Upstream: Send + Sync + 'static {
    /// Sends one request and reads the whole response.
    fn send(
        &self,
        request: OutgoingRequest,
    ) -> impl Future<Output = Result<UpstreamResponse, UpstreamError>> + Send;

    /// What [`send`](Self::send) would refuse from the URL alone (a literal non-public
    /// address, say), said before anything is sent, so the vault can audit the refusal as
    /// one. Advisory: `send` MUST still apply every rule itself. The default checks
    /// nothing; a decorator MUST forward it.
    ///
    /// # Errors
    /// The error `send` would fail with.
    fn check_destination(&self, url: &url::Url) -> Result<(), UpstreamError> {
        let _ = url;
        Ok(())
    }

    /// Checks that `tls` can be used (the CA bundle parses; the client certificate chain
    /// parses and the key is its own), and reads what the leaf certificate says, if there
    /// is one. The default can use none; a decorator MUST forward it.
    ///
    /// # Errors
    /// [`TlsSettingsError`] naming what is wrong.
    fn inspect_tls(&self, tls: &TlsSettings) -> Result<Option<CertificateFacts>, TlsSettingsError> {
        Err(TlsSettingsError::Unsupported(
            if tls.client_identity.is_some() {
                "certificate"
            } else {
                "caBundle"
            },
        ))
    }

    /// Reads a client certificate chain and its key out of a PKCS#12 archive (`.p12`,
    /// `.pfx`), as the PEM the vault stores. The default reads none; a decorator MUST
    /// forward it.
    ///
    /// # Errors
    /// [`TlsSettingsError`] naming what is wrong (never the password or key material).
    fn open_pkcs12(
        &self,
        archive: &[u8],
        password: &SecretString,
    ) -> Result<ClientIdentity, TlsSettingsError> {
        let _ = (archive, password);
        Err(TlsSettingsError::Unsupported("pkcs12"))
    }
}

/// [`Upstream`] as a trait object: the vault holds whichever upstream the deployment
/// chose behind one pointer. Implement [`Upstream`]; this follows by a blanket impl.
pub(crate) trait SharedUpstream: Send + Sync + 'static {
    /// [`Upstream::send`], its future boxed (one allocation per request sent).
    fn send(
        &self,
        request: OutgoingRequest,
    ) -> BoxFuture<'_, Result<UpstreamResponse, UpstreamError>>;

    /// [`Upstream::check_destination`].
    fn check_destination(&self, url: &url::Url) -> Result<(), UpstreamError>;

    /// [`Upstream::inspect_tls`].
    fn inspect_tls(&self, tls: &TlsSettings) -> Result<Option<CertificateFacts>, TlsSettingsError>;

    /// [`Upstream::open_pkcs12`].
    fn open_pkcs12(
        &self,
        archive: &[u8],
        password: &SecretString,
    ) -> Result<ClientIdentity, TlsSettingsError>;
}

impl<U: Upstream> SharedUpstream for U {
    fn send(
        &self,
        request: OutgoingRequest,
    ) -> BoxFuture<'_, Result<UpstreamResponse, UpstreamError>> {
        Box::pin(Upstream::send(self, request))
    }

    fn check_destination(&self, url: &url::Url) -> Result<(), UpstreamError> {
        Upstream::check_destination(self, url)
    }

    fn inspect_tls(&self, tls: &TlsSettings) -> Result<Option<CertificateFacts>, TlsSettingsError> {
        Upstream::inspect_tls(self, tls)
    }

    fn open_pkcs12(
        &self,
        archive: &[u8],
        password: &SecretString,
    ) -> Result<ClientIdentity, TlsSettingsError> {
        Upstream::open_pkcs12(self, archive, password)
    }
}

/// The upstream of a vault built without one: refuses every request.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoUpstream;

impl Upstream for NoUpstream {
    async fn send(&self, _request: OutgoingRequest) -> Result<UpstreamResponse, UpstreamError> {
        Err(UpstreamError::Disabled)
    }
}
