//! The adapter's settings, their validation, and `Debug` output that never shows a secret.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret as _, SecretString};
use vault_core::KeyManagerError;

/// Where the Transit engine is, which key to use and how to authenticate.
#[derive(Clone)]
pub struct TransitConfig {
    /// The server's base address, `http://127.0.0.1:8200` or `https://bao.example:8200`
    /// (a path prefix, as behind a reverse proxy, is kept; `/v1/...` is appended).
    pub address: String,
    /// The Transit engine's mount path, usually `transit` (nested mounts such as
    /// `team/transit` are allowed).
    pub mount: String,
    /// The Transit key's name. It must exist: the adapter never creates it.
    pub key: String,
    /// How the vault authenticates to the server.
    pub auth: TransitAuth,
    /// The namespace (HashiCorp Vault Enterprise, OpenBao namespaces), sent as
    /// `X-Vault-Namespace` when set.
    pub namespace: Option<String>,
    /// A PEM bundle: when set, the only roots trusted for an `https` address (instead of
    /// the platform's verifier).
    pub ca_file: Option<PathBuf>,
    /// The limit on each HTTP request (connecting included).
    pub timeout: Duration,
}

/// The vault's credentials on the Transit server.
#[derive(Clone)]
pub enum TransitAuth {
    /// A token, sent as `X-Vault-Token`. Renewing it is the operator's business: use a
    /// periodic token, or AppRole.
    Token(SecretString),
    /// AppRole: the adapter logs in at `auth/{mount}/login`, keeps the token in memory,
    /// and logs in again when an operation is refused (the token may have expired).
    AppRole {
        /// The AppRole auth method's mount path, usually `approle`.
        mount: String,
        /// The role's id (an identifier, printed in messages).
        role_id: String,
        /// The role's secret id (never printed).
        secret_id: SecretString,
    },
}

impl fmt::Debug for TransitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransitConfig")
            .field("address", &self.address)
            .field("mount", &self.mount)
            .field("key", &self.key)
            .field("auth", &self.auth)
            .field("namespace", &self.namespace)
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl fmt::Debug for TransitAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token(<redacted>)"),
            Self::AppRole { mount, role_id, .. } => f
                .debug_struct("AppRole")
                .field("mount", mount)
                .field("role_id", role_id)
                .field("secret_id", &"<redacted>")
                .finish(),
        }
    }
}

/// A setting that cannot work, as a [`KeyManagerError::Backend`] naming the setting.
pub(crate) fn invalid(setting: &str, why: impl fmt::Display) -> KeyManagerError {
    KeyManagerError::Backend(format!("transit key manager: invalid {setting}: {why}"))
}

/// Checks every setting that can be checked without the network, and returns the parsed
/// address.
pub(crate) fn validate(config: &TransitConfig) -> Result<reqwest::Url, KeyManagerError> {
    let url = reqwest::Url::parse(&config.address).map_err(|e| invalid("address", e))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("address", "the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("address", "it names no host"));
    }
    // The address is printed in every message: credentials have no place in it.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("address", "it must not carry a user or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("address", "it must not have a query or fragment"));
    }
    path("mount", &config.mount, true)?;
    path("key", &config.key, false)?;
    if let Some(namespace) = &config.namespace {
        path("namespace", namespace, true)?;
    }
    match &config.auth {
        TransitAuth::Token(token) => {
            if token.expose_secret().is_empty()
                || HeaderValue::from_str(token.expose_secret()).is_err()
            {
                return Err(invalid("token", "it is empty or not a valid header value"));
            }
        }
        TransitAuth::AppRole { mount, role_id, .. } => {
            path("AppRole mount", mount, true)?;
            if role_id.is_empty() {
                return Err(invalid("AppRole role_id", "it is empty"));
            }
        }
    }
    if config.timeout.is_zero() {
        return Err(invalid("timeout", "it must be above zero"));
    }
    Ok(url)
}

/// Names go into URL paths as they are: one segment (or several separated by `/` where
/// `nested`) of letters, digits, `_`, `-` and `.` (Transit's own rule for key names), so
/// no name can escape its path with `..`, `?` or `%`.
fn path(setting: &str, value: &str, nested: bool) -> Result<(), KeyManagerError> {
    let segments: Vec<&str> = if nested {
        value.split('/').collect()
    } else {
        vec![value]
    };
    let ok = segments.iter().all(|segment| {
        !segment.is_empty()
            && *segment != "."
            && *segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            setting,
            format_args!(
                "{value:?}: use letters, digits, '_', '-' and '.'{}",
                if nested {
                    " (and '/' between parts)"
                } else {
                    ""
                }
            ),
        ))
    }
}
