#![doc = include_str!("../README.md")]

mod config;
mod frame;
mod http;
mod tls;

use std::fmt;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde::Deserialize;
use vault_core::cipher::Plaintext;
use vault_core::key_manager::BoxFuture;
use vault_core::{KeyManager, KeyManagerError, WrappedKeyring};

pub use config::{TransitAuth, TransitConfig};

use crate::config::invalid;
use crate::http::Call;

/// [`KeyManager::kind`], as configured and stored.
const KIND: &str = "transit";

/// What [`KeyManager::check`] encrypts (and throws away).
const CHECK_PLAINTEXT: &[u8] = b"vault key manager check";

/// A [`KeyManager`] over a Transit key of OpenBao or HashiCorp Vault.
pub struct TransitKeyManager {
    config: TransitConfig,
    /// The address without its trailing `/`.
    base: String,
    client: reqwest::Client,
    /// The AppRole log-in's token, once logged in (never with token auth).
    approle_token: Mutex<Option<SecretString>>,
}

impl fmt::Debug for TransitKeyManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let logged_in = self
            .approle_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        f.debug_struct("TransitKeyManager")
            .field("config", &self.config)
            .field("approle_logged_in", &logged_in)
            .finish_non_exhaustive()
    }
}

impl TransitKeyManager {
    /// Checks the settings and reads `ca_file`; does not touch the network.
    ///
    /// # Errors
    /// [`KeyManagerError::Backend`] naming the setting that cannot work (an address that is
    /// not http(s), a key or mount name that is not a plain path, an unreadable `ca_file`).
    pub fn new(config: TransitConfig) -> Result<Self, KeyManagerError> {
        let url = config::validate(&config)?;
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let loopback =
            host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if url.scheme() == "http" && !loopback {
            tracing::warn!(
                address = %url,
                "the Transit address is plain http to another host: the token and the keyring \
                 cross the network unencrypted"
            );
        }
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls::client_config(config.ca_file.as_deref())?)
            // The token must not follow a redirect: reqwest strips only standard credential
            // headers across hosts, not X-Vault-Token. A standby that redirects is a setting
            // to fix (point `address` at the active node or its load balancer).
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|e| invalid("HTTP client", e))?;
        Ok(Self {
            base: url.as_str().trim_end_matches('/').to_owned(),
            config,
            client,
            approle_token: Mutex::new(None),
        })
    }

    fn describe_key(&self) -> String {
        let namespace = (self.config.namespace.as_deref())
            .map(|namespace| format!(", namespace {namespace}"))
            .unwrap_or_default();
        format!(
            "transit key {:?} at {} (mount {}{namespace})",
            self.config.key, self.base, self.config.mount
        )
    }

    #[tracing::instrument(skip_all, fields(key = %self.config.key))]
    async fn wrap_keyring(
        &self,
        keyring: &[u8],
        context: &str,
    ) -> Result<WrappedKeyring, KeyManagerError> {
        let framed = frame::seal(context, keyring)
            .map_err(|why| KeyManagerError::Backend(format!("{}: {why}", self.describe_key())))?;
        self.ensure_key().await?;
        let (version, ciphertext) = self.encrypt(&framed).await?;
        Ok(WrappedKeyring {
            manager: KIND.to_owned(),
            key: format!("transit key {} v{version}", self.config.key),
            bytes: ciphertext.into_bytes(),
        })
    }

    #[tracing::instrument(skip_all, fields(key = %self.config.key, wrapped = %wrapped.key))]
    async fn unwrap_keyring(
        &self,
        wrapped: &WrappedKeyring,
        context: &str,
    ) -> Result<Plaintext, KeyManagerError> {
        let refuse = |why: &str| {
            KeyManagerError::Unwrap(format!(
                "{}: {why} (the keyring names {})",
                self.describe_key(),
                wrapped.key
            ))
        };
        if wrapped.manager != KIND {
            return Err(refuse(&format!(
                "the keyring was wrapped by a {:?} key manager",
                wrapped.manager
            )));
        }
        let ciphertext = std::str::from_utf8(&wrapped.bytes)
            .ok()
            .filter(|c| frame::version(c).is_some())
            .ok_or_else(|| refuse("the wrapped bytes are not a Transit ciphertext"))?;
        let body = serde_json::to_vec(&serde_json::json!({ "ciphertext": ciphertext }))
            .map_err(|e| KeyManagerError::Backend(e.to_string()))?;
        let path = format!("{}/decrypt/{}", self.config.mount, self.config.key);
        let reply = self.send(Method::POST, &path, Some(&body)).await?;
        if !reply.status.is_success() {
            return Err(match self.failure(Call::Decrypt, &reply) {
                KeyManagerError::Unwrap(message) => KeyManagerError::Unwrap(format!(
                    "{message} (the keyring names {})",
                    wrapped.key
                )),
                other => other,
            });
        }
        #[derive(Deserialize)]
        struct Decrypted {
            plaintext: SecretString,
        }
        let decrypted: Decrypted = reply.data()?;
        let framed = frame::decode(&decrypted.plaintext)
            .map_err(|why| KeyManagerError::Backend(format!("{}: {why}", self.describe_key())))?;
        frame::open(context, framed).map_err(|why| refuse(&why))
    }

    #[tracing::instrument(skip_all, fields(key = %self.config.key))]
    async fn check_key(&self) -> Result<(), KeyManagerError> {
        self.ensure_key().await?;
        self.encrypt(CHECK_PLAINTEXT).await.map(drop)
    }

    /// Fails unless the key exists. Transit's encrypt creates a missing key ("upsert") when
    /// the token's policy grants `create` on the encrypt path: a typo in `key`, or a key
    /// deleted by mistake, would then silently become a fresh root key that no one backs
    /// up or rotates. So every wrap and check reads the key first (they are rare: this
    /// costs one request). A 403 on this read only means the policy does not grant `read`
    /// on `{mount}/keys/{key}`: then encrypt is trusted, and with the recommended policy
    /// (`update`, no `create`) it cannot create a key either.
    async fn ensure_key(&self) -> Result<(), KeyManagerError> {
        #[derive(Deserialize)]
        struct Key {
            #[serde(default = "yes")]
            supports_encryption: bool,
            #[serde(default)]
            soft_deleted: bool,
        }
        fn yes() -> bool {
            true
        }
        let (mount, key) = (&self.config.mount, &self.config.key);
        let reply = self
            .send(Method::GET, &format!("{mount}/keys/{key}"), None)
            .await?;
        let unusable =
            |why: &str| KeyManagerError::KeyUnusable(format!("{}: {why}", self.describe_key()));
        match reply.status {
            status if status.is_success() => {
                let found: Key = reply.data()?;
                if !found.supports_encryption {
                    return Err(unusable("its type does not support encryption"));
                }
                if found.soft_deleted {
                    return Err(unusable("it is soft-deleted"));
                }
                Ok(())
            }
            StatusCode::NOT_FOUND => Err(unusable(&format!(
                "the key does not exist (GET {mount}/keys/{key} answered 404); create it \
                 (`bao write -f {mount}/keys/{key}`): the vault never creates its root key"
            ))),
            StatusCode::FORBIDDEN => {
                tracing::warn!(
                    key = %key,
                    "the token may not read {mount}/keys/{key}: cannot confirm that the key \
                     exists before encrypting (grant `read` on that path)"
                );
                Ok(())
            }
            _ => Err(self.failure(Call::ReadKey, &reply)),
        }
    }

    /// Encrypts `plaintext`; the key version and the ciphertext (`vault:vN:...`).
    async fn encrypt(&self, plaintext: &[u8]) -> Result<(u32, String), KeyManagerError> {
        #[derive(Deserialize)]
        struct Encrypted {
            ciphertext: String,
        }
        let body = frame::encrypt_body(plaintext)
            .map_err(|why| KeyManagerError::Backend(format!("{}: {why}", self.describe_key())))?;
        let path = format!("{}/encrypt/{}", self.config.mount, self.config.key);
        let reply = self.send(Method::POST, &path, Some(&body)).await?;
        if !reply.status.is_success() {
            return Err(self.failure(Call::Encrypt, &reply));
        }
        let encrypted: Encrypted = reply.data()?;
        let version = frame::version(&encrypted.ciphertext).ok_or_else(|| {
            KeyManagerError::Backend(format!(
                "{}: the server returned a ciphertext without a vault:vN: prefix",
                self.describe_key()
            ))
        })?;
        Ok((version, encrypted.ciphertext))
    }
}

impl KeyManager for TransitKeyManager {
    fn kind(&self) -> &'static str {
        KIND
    }

    /// `transit key "vault-kek" at http://127.0.0.1:8200 (mount transit)`.
    fn describe(&self) -> String {
        self.describe_key()
    }

    fn wrap<'a>(
        &'a self,
        plaintext: &'a [u8],
        context: &'a str,
    ) -> BoxFuture<'a, Result<WrappedKeyring, KeyManagerError>> {
        Box::pin(self.wrap_keyring(plaintext, context))
    }

    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedKeyring,
        context: &'a str,
    ) -> BoxFuture<'a, Result<Plaintext, KeyManagerError>> {
        Box::pin(self.unwrap_keyring(wrapped, context))
    }

    fn check(&self) -> BoxFuture<'_, Result<(), KeyManagerError>> {
        Box::pin(self.check_key())
    }
}

#[cfg(test)]
mod tests;
