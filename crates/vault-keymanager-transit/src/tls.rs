//! The TLS configuration: rustls with the ring provider (aws-lc-rs, rustls's default, needs
//! a C/cmake build), and either the platform's verifier or only the roots of `ca_file`.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls_platform_verifier::BuilderVerifierExt as _;
use vault_core::KeyManagerError;

use crate::config::invalid;

pub(crate) fn client_config(
    ca_file: Option<&Path>,
) -> Result<rustls::ClientConfig, KeyManagerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("TLS configuration", e))?;
    let mut config = match ca_file {
        // Only the given roots: a private CA for the key server should not widen, or be
        // widened by, the machine's trust store.
        Some(path) => builder
            .with_root_certificates(roots(path)?)
            .with_no_client_auth(),
        None => builder
            .with_platform_verifier()
            .map_err(|e| invalid("TLS configuration", e))?
            .with_no_client_auth(),
    };
    // reqwest is built without HTTP/2 here; say so in ALPN rather than let a server pick h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn roots(path: &Path) -> Result<RootCertStore, KeyManagerError> {
    let setting = || format!("ca_file {}", path.display());
    let pem = std::fs::read(path).map_err(|e| invalid(&setting(), e))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| invalid(&setting(), e))?;
        roots.add(cert).map_err(|e| invalid(&setting(), e))?;
    }
    if roots.is_empty() {
        return Err(invalid(&setting(), "it holds no PEM certificate"));
    }
    Ok(roots)
}
