//! A credential's own TLS settings (a client certificate, pinned roots): checking them
//! before they are stored, and a client per credential version that has them, built once
//! and kept (bounded), since rustls fixes the certificate a connection presents and the
//! roots it trusts in its configuration, and a pool must never hand one credential's
//! connection to another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::ExposeSecret as _;
use time::OffsetDateTime;
use vault_core::upstream::{CertificateFacts, TlsSettings, TlsSettingsError};

/// Most settings with a client of their own; the least recently built is dropped first
/// (its connections close, and its next use builds it again).
const MAX_SETTINGS_CLIENTS: usize = 64;

/// The key a client is kept under: [`TlsSettings::reuse_key`].
type ReuseKey = (uuid::Uuid, i64);

/// Settings' clients, by reuse key, and the keys in the order they were built.
#[derive(Default)]
struct Kept {
    clients: HashMap<ReuseKey, reqwest::Client>,
    order: Vec<ReuseKey>,
}

/// The clients of settings, bounded.
#[derive(Default)]
pub(crate) struct SettingsClients {
    kept: Mutex<Kept>,
}

impl std::fmt::Debug for SettingsClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SettingsClients")
    }
}

impl SettingsClients {
    /// The client of `tls`, built with `build` the first time.
    pub(crate) fn get_or_build<E>(
        &self,
        tls: &TlsSettings,
        build: impl FnOnce() -> Result<reqwest::Client, E>,
    ) -> Result<reqwest::Client, E> {
        let key = tls.reuse_key;
        if let Some(client) = self.lock().clients.get(&key) {
            return Ok(client.clone());
        }
        // Built outside the lock: loading keys is the slow part. Two first uses at once
        // build two; the second kept wins, and both work.
        let client = build()?;
        let mut kept = self.lock();
        if kept.clients.insert(key, client.clone()).is_none() {
            kept.order.push(key);
        }
        if kept.order.len() > MAX_SETTINGS_CLIENTS {
            let oldest = kept.order.remove(0);
            kept.clients.remove(&oldest);
        }
        Ok(client)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The parts of TLS settings rustls takes.
pub(crate) struct Parts {
    /// The client certificate chain and its key.
    pub(crate) identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    /// The only roots to trust.
    pub(crate) roots: Option<Vec<CertificateDer<'static>>>,
}

/// Parses `tls`, and checks a client key is its certificate's.
pub(crate) fn parts(
    tls: &TlsSettings,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<Parts, TlsSettingsError> {
    let identity = match &tls.client_identity {
        None => None,
        Some(identity) => {
            let chain = CertificateDer::pem_slice_iter(
                identity.certificate_chain.expose_secret().as_bytes(),
            )
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| TlsSettingsError::Certificate("must be PEM certificates"))?;
            if chain.is_empty() {
                return Err(TlsSettingsError::Certificate(
                    "must hold a PEM certificate (BEGIN CERTIFICATE)",
                ));
            }
            // Read before the key is matched to it: a key cannot be the key of no certificate.
            facts(&chain[0])?;
            let key =
                PrivateKeyDer::from_pem_slice(identity.private_key.expose_secret().as_bytes())
                    .map_err(|_| {
                        TlsSettingsError::Key("must be a PEM private key (PKCS#8, PKCS#1 or SEC1)")
                    })?;
            let signing = provider
                .key_provider
                .load_private_key(key.clone_key())
                .map_err(|_| TlsSettingsError::Key("is a kind of key TLS cannot sign with"))?;
            rustls::sign::CertifiedKey::new(chain.clone(), signing)
                .keys_match()
                .map_err(|_| TlsSettingsError::Mismatch)?;
            Some((chain, key))
        }
    };
    let roots = match &tls.server_roots {
        None => None,
        Some(bundle) => {
            let roots = CertificateDer::pem_slice_iter(bundle.as_str().as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| TlsSettingsError::CaBundle("must be PEM certificates"))?;
            if roots.is_empty() {
                return Err(TlsSettingsError::CaBundle("must hold a PEM certificate"));
            }
            // The root store refuses what it could never trust; said now, not at first use.
            let mut store = rustls::RootCertStore::empty();
            for root in &roots {
                store.add(root.clone()).map_err(|_| {
                    TlsSettingsError::CaBundle("holds a certificate that cannot be a root")
                })?;
            }
            Some(roots)
        }
    };
    Ok(Parts { identity, roots })
}

/// What the leaf certificate says of itself.
pub(crate) fn facts(leaf: &CertificateDer<'_>) -> Result<CertificateFacts, TlsSettingsError> {
    let unreadable =
        || TlsSettingsError::Certificate("is not an X.509 certificate that can be read");
    let (_, certificate) = x509_parser::parse_x509_certificate(leaf).map_err(|_| unreadable())?;
    let not_after =
        OffsetDateTime::from_unix_timestamp(certificate.validity().not_after.timestamp())
            .map_err(|_| unreadable())?;
    Ok(CertificateFacts {
        subject: certificate.subject().to_string(),
        issuer: certificate.issuer().to_string(),
        serial_number: certificate.raw_serial_as_string().replace(':', ""),
        not_after,
    })
}

/// The rustls configuration up to its client certificate, trusting only `roots` (a
/// credential's CA bundle pins its upstream's private PKI).
pub(crate) fn pinned(
    provider: Arc<rustls::crypto::CryptoProvider>,
    roots: Vec<CertificateDer<'static>>,
) -> Result<
    rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    rustls::Error,
> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root)?;
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store))
}
