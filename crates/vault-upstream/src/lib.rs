#![doc = include_str!("../README.md")]

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use rustls_platform_verifier::BuilderVerifierExt as _;
use secrecy::{ExposeSecret as _, SecretString};
use url::{Host, Url};
use vault_core::egress::is_public_address;
use vault_core::store::BoxError;
use vault_core::upstream::{
    CertificateFacts, ClientIdentity, OutgoingRequest, TlsSettings, TlsSettingsError, Upstream,
    UpstreamError, UpstreamResponse,
};

mod pkcs12;
mod tls_settings;

/// How an [`HttpUpstream`] talks to the outside world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// Allow destinations that are, or resolve to, private, loopback, link-local or other
    /// non-public addresses (see [`is_public_address`]). Off by default: with it on, a
    /// credential can be sent to the vault's own network (cloud metadata, databases, admin
    /// ports). Turn it on only for tests and for gateways whose upstreams are internal.
    pub allow_private_networks: bool,
    /// The longest a connection may take to set up: DNS, TCP and TLS together.
    pub connect_timeout: Duration,
    /// The longest a whole exchange may take, from the first DNS query to the last byte
    /// of the response body, redirects included.
    pub total_timeout: Duration,
    /// The largest response body read, in bytes; a longer one fails with
    /// [`UpstreamError::ResponseTooLarge`].
    pub max_response_bytes: usize,
    /// How many same-origin redirects are followed before the redirect itself is returned.
    pub max_redirects: usize,
    /// A PEM file of CA certificates trusted beside the platform's roots (a private CA
    /// in front of upstreams or webhook receivers).
    pub extra_roots: Option<std::path::PathBuf>,
}

/// How long an idle upstream connection is kept for reuse.
const POOL_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(4);

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(30),
            max_response_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            extra_roots: None,
        }
    }
}

/// Why an [`HttpUpstream`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting is unusable (a zero timeout, say).
    #[error("invalid upstream configuration: {0}")]
    InvalidConfig(&'static str),
    /// The TLS set-up failed; usually no CA certificate could be loaded from the system.
    #[error(
        "could not set up TLS for upstream requests (are CA certificates installed? \
         SSL_CERT_FILE or SSL_CERT_DIR can point at a bundle)"
    )]
    Tls(#[source] BoxError),
    /// The HTTP client could not be built.
    #[error("could not build the upstream HTTP client")]
    Client(#[source] BoxError),
}

/// The [`Upstream`] port over one pooled `reqwest` client, with rustls (ring) for TLS and
/// the vault's network rules applied to every address it connects to.
///
/// Cloning is cheap and shares the connection pool: build one and clone it.
#[derive(Clone, Debug)]
pub struct HttpUpstream {
    client: reqwest::Client,
    config: Arc<UpstreamConfig>,
    /// A client per credential version with TLS settings of its own.
    tls_clients: Arc<tls_settings::SettingsClients>,
}

impl HttpUpstream {
    /// Builds the client: one connection pool for every request this value (and its
    /// clones) sends.
    ///
    /// # Errors
    /// When a timeout is zero, when the system's CA certificates cannot be loaded, or when
    /// the client cannot be built.
    pub fn new(config: UpstreamConfig) -> Result<Self, BuildError> {
        if config.connect_timeout.is_zero() {
            return Err(BuildError::InvalidConfig(
                "connect_timeout must be above zero",
            ));
        }
        if config.total_timeout.is_zero() {
            return Err(BuildError::InvalidConfig(
                "total_timeout must be above zero",
            ));
        }

        let tls = verifying(provider(), config.extra_roots.as_deref())?.with_no_client_auth();
        Ok(Self {
            client: build_client(&config, tls)?,
            config: Arc::new(config),
            tls_clients: Arc::default(),
        })
    }

    /// The configuration this upstream was built with.
    #[must_use]
    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    /// The client of a credential's TLS settings (built the first time), or the shared one.
    fn client_for(
        &self,
        tls: Option<&TlsSettings>,
        host: &str,
    ) -> Result<reqwest::Client, UpstreamError> {
        let Some(tls) = tls else {
            return Ok(self.client.clone());
        };
        self.tls_clients.get_or_build(tls, || {
            let failed = |reason: String| UpstreamError::Connect {
                host: host.to_owned(),
                source: Some(reason.into()),
            };
            let parts = tls_settings::parts(tls, &provider()).map_err(|e| failed(e.to_string()))?;
            let extra_roots = self.config.extra_roots.as_deref();
            let verifier = match parts.roots {
                Some(roots) => {
                    tls_settings::pinned(provider(), roots).map_err(|e| failed(e.to_string()))
                }
                None => verifying(provider(), extra_roots).map_err(|e| failed(e.to_string())),
            }?;
            let config = match parts.identity {
                Some((chain, key)) => verifier
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| failed(e.to_string()))?,
                None => verifier.with_no_client_auth(),
            };
            build_client(&self.config, config).map_err(|e| failed(e.to_string()))
        })
    }

    async fn exchange(
        &self,
        request: OutgoingRequest,
        host: &str,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let OutgoingRequest {
            method,
            url,
            headers,
            body,
            purpose: _,
            tls,
        } = request;
        let client = self.client_for(tls.as_deref(), host)?;
        let mut outgoing = reqwest::Request::new(method, url);
        *outgoing.headers_mut() = headers;
        *outgoing.body_mut() = Some(body.into());

        let mut response = client
            .execute(outgoing)
            .await
            .map_err(|e| map_error(e, host))?;

        let limit = self.config.max_response_bytes;
        let too_large = || UpstreamError::ResponseTooLarge {
            host: host.to_owned(),
            limit,
        };
        let announced = response.content_length();
        if announced.is_some_and(|len| len > limit as u64) {
            return Err(too_large());
        }
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        // Reserve what the server announced (within the limit) at once: growing by doubling
        // would copy the body on each step and leave up to twice its size reserved. An
        // announced length costs the server nothing, but what it makes us reserve is
        // bounded by the limit and by the calls in flight, and pages never written are
        // never resident.
        let capacity = announced
            .and_then(|len| usize::try_from(len).ok())
            .unwrap_or(INITIAL_CAPACITY)
            .min(limit);
        let mut body = Vec::with_capacity(capacity);
        while let Some(chunk) = response.chunk().await.map_err(|e| map_error(e, host))? {
            if chunk.len() > limit - body.len() {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(UpstreamResponse {
            status,
            headers,
            body,
        })
    }
}

/// Bytes reserved up front for a response body of unannounced length.
const INITIAL_CAPACITY: usize = 16 * 1024;

impl Upstream for HttpUpstream {
    #[tracing::instrument(level = "debug", skip_all, fields(method = %request.method, host = request.url.host_str()))]
    async fn send(&self, request: OutgoingRequest) -> Result<UpstreamResponse, UpstreamError> {
        let host = request.url.host_str().unwrap_or_default().to_owned();
        check_destination(&request.url, self.config.allow_private_networks)?;
        // reqwest's own timeout covers the same span; this one makes the bound hold whatever
        // part of the exchange is slow (including a getaddrinfo stuck in its thread).
        match tokio::time::timeout(self.config.total_timeout, self.exchange(request, &host)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(UpstreamError::Timeout { host }),
        }
    }

    fn check_destination(&self, url: &Url) -> Result<(), UpstreamError> {
        check_destination(url, self.config.allow_private_networks)
    }

    fn inspect_tls(&self, tls: &TlsSettings) -> Result<Option<CertificateFacts>, TlsSettingsError> {
        let parts = tls_settings::parts(tls, &provider())?;
        parts
            .identity
            .map(|(chain, _)| tls_settings::facts(&chain[0]))
            .transpose()
    }

    fn open_pkcs12(
        &self,
        archive: &[u8],
        password: &SecretString,
    ) -> Result<ClientIdentity, TlsSettingsError> {
        let mut opened = pkcs12::open_pkcs12(archive, password.expose_secret())?;
        Ok(ClientIdentity {
            certificate_chain: SecretString::from(opened.certificate_chain),
            private_key: SecretString::from(std::mem::take(&mut *opened.private_key)),
        })
    }
}

/// The TLS provider: ring, passed explicitly rather than installed as a process-wide
/// default (no globals).
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration up to its client certificate: ring, TLS 1.2 and 1.3, and the
/// platform's roots (and those of `extra_roots`).
fn verifying(
    provider: Arc<rustls::crypto::CryptoProvider>,
    extra_roots: Option<&std::path::Path>,
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>, BuildError>
{
    let tls = |e: rustls::Error| BuildError::Tls(Box::new(e));
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls)?;
    Ok(match extra_roots {
        None => builder.with_platform_verifier().map_err(tls)?,
        Some(path) => {
            let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
                read_certificates(path)?,
                provider,
            )
            .map_err(tls)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
        }
    })
}

/// A client over `tls` with the vault's rules for every request: the guarded resolver,
/// no proxy, same-origin redirects, the timeouts.
fn build_client(
    config: &UpstreamConfig,
    mut tls: rustls::ClientConfig,
) -> Result<reqwest::Client, BuildError> {
    let allow_private = config.allow_private_networks;
    // reqwest is built without HTTP/2 here; say so in ALPN rather than let a server pick h2.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        // Every name goes through the guarded resolver, and the addresses it returns
        // are the very ones the connector uses: no second lookup, no rebinding window.
        .dns_resolver(GuardedResolver { allow_private })
        // A proxy would resolve names itself, out of the resolver's sight; and no
        // HTTP(S)_PROXY variable should silently redirect credentials.
        .no_proxy()
        .redirect(redirect_policy(allow_private, config.max_redirects))
        // A Referer would repeat the previous URL, query (and credential) included.
        .referer(false)
        .connect_timeout(config.connect_timeout)
        .timeout(config.total_timeout)
        // Idle connections are dropped before common servers' keep-alive ends (5 s in
        // Node.js and actix-web): reusing one the server is closing at that moment
        // fails the request, which the proxy would answer 502.
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build()
        .map_err(|e| BuildError::Client(Box::new(e.without_url())))
}

/// The certificates of a PEM file: at least one.
fn read_certificates(
    path: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, BuildError> {
    use rustls::pki_types::pem::PemObject as _;
    let unusable = |reason: String| BuildError::Tls(format!("{}: {reason}", path.display()).into());
    let pem = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
    let certificates = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unusable(e.to_string()))?;
    if certificates.is_empty() {
        return Err(unusable("it holds no PEM certificate".to_owned()));
    }
    Ok(certificates)
}

/// Checks what can be checked on the URL alone: the scheme, and a literal IP host (the
/// connector skips the resolver for those, so the resolver's check never sees them).
fn check_destination(url: &Url, allow_private: bool) -> Result<(), UpstreamError> {
    let host = url.host_str().unwrap_or_default();
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UpstreamError::Other {
            host: host.to_owned(),
            source: Some(Box::new(Refusal::UnsupportedScheme)),
        });
    }
    match url.host() {
        Some(Host::Domain(_)) => Ok(()),
        Some(Host::Ipv4(ip)) => check_literal(IpAddr::V4(ip), host, allow_private),
        Some(Host::Ipv6(ip)) => check_literal(IpAddr::V6(ip), host, allow_private),
        None => Err(UpstreamError::Other {
            host: String::new(),
            source: Some(Box::new(Refusal::NoHost)),
        }),
    }
}

fn check_literal(ip: IpAddr, host: &str, allow_private: bool) -> Result<(), UpstreamError> {
    if allow_private || is_public_address(ip) {
        Ok(())
    } else {
        tracing::debug!(host, "refused: literal non-public address");
        Err(UpstreamError::ForbiddenAddress {
            host: host.to_owned(),
        })
    }
}

/// True when the URL's host is a literal address that the rules refuse.
fn is_forbidden_literal(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => !is_public_address(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => !is_public_address(IpAddr::V6(ip)),
        Some(Host::Domain(_)) | None => false,
    }
}

/// Same scheme, host and port (explicit or the scheme's default).
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Follows a redirect only to the origin of the first request, at most `max` times; any
/// other redirect is not an error but the response itself, for the caller to see.
fn redirect_policy(allow_private: bool, max: usize) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        // `previous` holds every URL requested so far, the original first: this attempt
        // would be redirect number `previous.len()`.
        let previous = attempt.previous();
        let Some(original) = previous.first() else {
            return attempt.stop();
        };
        if previous.len() > max || !same_origin(original, attempt.url()) {
            return attempt.stop();
        }
        // Same origin means the same literal as the original, which was checked before
        // sending; checked again here so the rule does not rest on that reasoning alone.
        if !allow_private && is_forbidden_literal(attempt.url()) {
            return attempt.error(Refusal::NonPublicAddress);
        }
        attempt.follow()
    })
}

/// Our own refusals, found again in reqwest's error chain to pick the right
/// [`UpstreamError`]. Their messages name no host or URL: the `UpstreamError` around them
/// names the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A literal, or one of the addresses a name resolved to, is not public.
    NonPublicAddress,
    /// The name did not resolve, or resolved to nothing.
    Unresolvable,
    /// Not http or https.
    UnsupportedScheme,
    /// The URL has no host.
    NoHost,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NonPublicAddress => "the destination is, or resolves to, a non-public address",
            Self::Unresolvable => "the host name did not resolve",
            Self::UnsupportedScheme => "only http and https URLs are sent",
            Self::NoHost => "the URL has no host",
        })
    }
}

impl StdError for Refusal {}

/// Resolves names with the system resolver (getaddrinfo, on tokio's blocking pool, like
/// reqwest's default) and refuses the whole name when ANY answer is non-public, unless
/// private networks are allowed.
///
/// Any, not all: dropping only the bad answers would still let an attacker who controls a
/// name's DNS mix a public decoy with `127.0.0.1` and have the request land on whichever the
/// connector tries; a host with an internal address among its answers is not one we call.
#[derive(Debug, Clone, Copy)]
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: the connector puts the URL's port (or the scheme's) in its place.
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Box::new(Refusal::Unresolvable) as BoxError)?
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(Refusal::Unresolvable) as BoxError);
            }
            if !allow_private && addrs.iter().any(|a| !is_public_address(a.ip())) {
                tracing::debug!(host, "refused: the name resolves to a non-public address");
                return Err(Box::new(Refusal::NonPublicAddress) as BoxError);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Translates a reqwest error, keeping no URL: ours are found in the source chain, timeouts
/// and connect failures by reqwest's own tests, and the cause is kept only without its URL.
fn map_error(error: reqwest::Error, host: &str) -> UpstreamError {
    let error = error.without_url();
    let host = host.to_owned();
    let refusal = chain(&error).find_map(|e| e.downcast_ref::<Refusal>().copied());
    match refusal {
        Some(Refusal::NonPublicAddress) => return UpstreamError::ForbiddenAddress { host },
        Some(Refusal::Unresolvable) => return UpstreamError::Resolve { host },
        Some(Refusal::UnsupportedScheme | Refusal::NoHost) | None => {}
    }
    if error.is_timeout() {
        return UpstreamError::Timeout { host };
    }
    // `without_url` strips only the outermost error; should a nested reqwest error carry a
    // URL (none of the paths we use make one, but that is reqwest's business), the cause is
    // dropped rather than risk printing a query.
    let nested_url = chain(&error).skip(1).any(|e| {
        e.downcast_ref::<reqwest::Error>()
            .is_some_and(|r| r.url().is_some())
    });
    let is_connect = error.is_connect();
    let source = (!nested_url).then(|| Box::new(error) as BoxError);
    if is_connect {
        UpstreamError::Connect { host, source }
    } else {
        UpstreamError::Other { host, source }
    }
}

/// An error and its sources, outermost first.
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e| e.source())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn origins_compare_scheme_host_and_effective_port() {
        assert!(same_origin(
            &url("https://a.com/x?q"),
            &url("https://A.com:443/y")
        ));
        assert!(same_origin(&url("http://a.com/"), &url("http://a.com:80/")));
        assert!(!same_origin(&url("http://a.com/"), &url("https://a.com/")));
        assert!(!same_origin(
            &url("https://a.com/"),
            &url("https://b.a.com/")
        ));
        assert!(!same_origin(
            &url("https://a.com/"),
            &url("https://a.com:8443/")
        ));
        assert!(!same_origin(
            &url("http://127.0.0.1:1/"),
            &url("http://localhost:1/")
        ));
    }

    #[test]
    fn literal_checks_see_every_spelling_of_an_address() {
        for forbidden in [
            "http://127.0.0.1/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://017700000001/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://0.0.0.0/",
            // IPv4-translated and local-use NAT64 spellings of 127.0.0.1 (issue 14).
            "http://[::ffff:0:7f00:1]/",
            "http://[64:ff9b:1::7f00:1]/",
            "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        ] {
            let u = url(forbidden);
            assert!(is_forbidden_literal(&u), "{forbidden}");
            assert!(
                matches!(
                    check_destination(&u, false),
                    Err(UpstreamError::ForbiddenAddress { .. })
                ),
                "{forbidden}"
            );
            assert!(check_destination(&u, true).is_ok(), "{forbidden}");
        }
        assert!(check_destination(&url("https://1.1.1.1/"), false).is_ok());
        assert!(check_destination(&url("https://example.com/"), false).is_ok());
        assert!(matches!(
            check_destination(&url("ftp://example.com/"), true),
            Err(UpstreamError::Other { .. })
        ));
        assert!(matches!(
            check_destination(&url("file:///etc/passwd"), true),
            Err(UpstreamError::Other { .. })
        ));
    }

    #[test]
    fn the_port_says_before_sending_what_send_would_refuse() {
        let strict = HttpUpstream::new(UpstreamConfig::default()).expect("client");
        let open = HttpUpstream::new(UpstreamConfig {
            allow_private_networks: true,
            ..UpstreamConfig::default()
        })
        .expect("client");
        let forbidden = url("http://[64:ff9b:1::7f00:1]:8080/x");
        assert!(matches!(
            Upstream::check_destination(&strict, &forbidden),
            Err(UpstreamError::ForbiddenAddress { .. })
        ));
        assert!(Upstream::check_destination(&open, &forbidden).is_ok());
        // A name is the resolver's business, at connect time.
        assert!(Upstream::check_destination(&strict, &url("https://localhost/")).is_ok());
    }

    #[test]
    fn default_config_is_the_documented_one() {
        let config = UpstreamConfig::default();
        assert!(!config.allow_private_networks);
        assert_eq!(config.connect_timeout, Duration::from_secs(5));
        assert_eq!(config.total_timeout, Duration::from_secs(30));
        assert_eq!(config.max_response_bytes, 10 * 1024 * 1024);
        assert_eq!(config.max_redirects, 5);
    }

    #[test]
    fn zero_timeouts_are_refused() {
        let config = UpstreamConfig {
            total_timeout: Duration::ZERO,
            ..UpstreamConfig::default()
        };
        assert!(matches!(
            HttpUpstream::new(config),
            Err(BuildError::InvalidConfig(_))
        ));
    }
}
