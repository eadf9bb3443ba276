//! Talking to the server: requests with the vault's token, AppRole log-in (and log-in again
//! once when a cached token is refused), and the translation of answers into
//! [`KeyManagerError`]s.

use std::error::Error as StdError;
use std::sync::PoisonError;

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use vault_core::KeyManagerError;
use zeroize::Zeroizing;

use crate::TransitKeyManager;
use crate::config::TransitAuth;

/// An answer with any status. The body is kept in zeroizing memory: a decrypt's holds the
/// keyring (hyper's own buffers are out of reach).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    body: Zeroizing<Vec<u8>>,
}

impl Reply {
    /// The `data` member of a successful answer.
    pub(crate) fn data<T: DeserializeOwned>(&self) -> Result<T, KeyManagerError> {
        #[derive(Deserialize)]
        struct Envelope<T> {
            data: T,
        }
        serde_json::from_slice::<Envelope<T>>(&self.body)
            .map(|envelope| envelope.data)
            .map_err(|e| {
                KeyManagerError::Backend(format!("unexpected answer from the server: {e}"))
            })
    }

    /// The server's `errors` strings on one line (they name causes, never secrets), or ""
    /// when the body has none.
    fn errors(&self) -> String {
        #[derive(Deserialize)]
        struct Errors {
            errors: Vec<String>,
        }
        let joined = serde_json::from_slice::<Errors>(&self.body)
            .map(|e| e.errors.join("; "))
            .unwrap_or_default();
        // OpenBao wraps some in "1 error occurred:\n\t* permission denied\n\n".
        let line = joined.split_whitespace().collect::<Vec<_>>().join(" ");
        line.chars().take(300).collect()
    }
}

/// Which operation an answer belongs to, for its translation into an error.
#[derive(Clone, Copy)]
pub(crate) enum Call {
    ReadKey,
    Encrypt,
    Decrypt,
}

impl TransitKeyManager {
    /// Sends `method /v1/{path}` with the vault's token. With AppRole, a 403 on a cached
    /// token logs in again and sends once more: tokens expire and are revoked, and the
    /// secret id is what the operator configured to last.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Reply, KeyManagerError> {
        let (token, cached) = self.token(false).await?;
        let reply = self.send_once(&method, path, body, Some(&token)).await?;
        if reply.status != StatusCode::FORBIDDEN || !cached {
            return Ok(reply);
        }
        tracing::debug!(
            path,
            "the cached AppRole token was refused; logging in again"
        );
        let (token, _) = self.token(true).await?;
        self.send_once(&method, path, body, Some(&token)).await
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        body: Option<&[u8]>,
        token: Option<&SecretString>,
    ) -> Result<Reply, KeyManagerError> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}/v1/{path}", self.base));
        if let Some(token) = token {
            let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
                KeyManagerError::Backend(format!(
                    "{}: the token is not a valid header",
                    self.describe_key()
                ))
            })?;
            // Kept out of reqwest's and hyper's Debug output.
            value.set_sensitive(true);
            request = request.header("X-Vault-Token", value);
        }
        if let Some(namespace) = &self.config.namespace {
            request = request.header("X-Vault-Namespace", namespace.as_str());
        }
        if let Some(body) = body {
            // reqwest must own the body: this one copy (freed, not wiped, once sent) is the
            // price of not writing a custom body type; callers keep theirs zeroizing.
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let unreachable = |e: reqwest::Error| {
            KeyManagerError::Unreachable(format!(
                "{}: {method} {path}: {}",
                self.describe_key(),
                cause_chain(&e.without_url())
            ))
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let body = response.bytes().await.map_err(unreachable)?;
        Ok(Reply {
            status,
            body: Zeroizing::new(body.to_vec()),
        })
    }

    /// The token to send, and whether it came from the AppRole cache (so that a refusal
    /// is worth a new log-in). `fresh` logs in even when a token is cached.
    async fn token(&self, fresh: bool) -> Result<(SecretString, bool), KeyManagerError> {
        let (mount, role_id, secret_id) = match &self.config.auth {
            TransitAuth::Token(token) => return Ok((token.clone(), false)),
            TransitAuth::AppRole {
                mount,
                role_id,
                secret_id,
            } => (mount, role_id, secret_id),
        };
        if !fresh {
            let cached = self
                .approle_token
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if let Some(token) = cached {
                return Ok((token, true));
            }
        }
        let token = self.login(mount, role_id, secret_id).await?;
        *self
            .approle_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
        Ok((token, false))
    }

    #[tracing::instrument(skip(self, secret_id), fields(key = %self.config.key))]
    async fn login(
        &self,
        mount: &str,
        role_id: &str,
        secret_id: &SecretString,
    ) -> Result<SecretString, KeyManagerError> {
        #[derive(serde::Serialize)]
        struct Login<'a> {
            role_id: &'a str,
            secret_id: &'a str,
        }
        #[derive(Deserialize)]
        struct Answer {
            auth: Auth,
        }
        #[derive(Deserialize)]
        struct Auth {
            client_token: SecretString,
        }
        let secret = secret_id.expose_secret();
        // Room for JSON's worst escaping up front: no reallocation leaves a copy behind.
        let mut body = Zeroizing::new(Vec::with_capacity(64 + 6 * (role_id.len() + secret.len())));
        serde_json::to_writer(
            &mut *body,
            &Login {
                role_id,
                secret_id: secret,
            },
        )
        .map_err(|e| KeyManagerError::Backend(e.to_string()))?;
        let path = format!("auth/{mount}/login");
        let reply = self
            .send_once(&Method::POST, &path, Some(&body), None)
            .await?;
        let status = reply.status;
        let refused = format!(
            "{}: AppRole login at auth/{mount} for role_id {role_id:?} answered HTTP {}{}",
            self.describe_key(),
            status.as_u16(),
            suffix(&reply.errors())
        );
        match status.as_u16() {
            200..=299 => serde_json::from_slice::<Answer>(&reply.body)
                .map(|answer| answer.auth.client_token)
                .map_err(|e| KeyManagerError::Backend(format!("{refused}, unexpected: {e}"))),
            429 | 500..=599 => Err(KeyManagerError::Unreachable(refused)),
            400..=499 => Err(KeyManagerError::Denied(refused)),
            _ => Err(KeyManagerError::Backend(refused)),
        }
    }

    /// Translates an unsuccessful answer to `call`.
    pub(crate) fn failure(&self, call: Call, reply: &Reply) -> KeyManagerError {
        let (mount, key) = (&self.config.mount, &self.config.key);
        let what = match call {
            Call::ReadKey => format!("GET {mount}/keys/{key}"),
            Call::Encrypt => format!("POST {mount}/encrypt/{key}"),
            Call::Decrypt => format!("POST {mount}/decrypt/{key}"),
        };
        let errors = reply.errors();
        let message = format!(
            "{}: {what} answered HTTP {}{}",
            self.describe_key(),
            reply.status.as_u16(),
            suffix(&errors)
        );
        match reply.status.as_u16() {
            403 => KeyManagerError::Denied(format!(
                "{message} (a bad, expired or revoked token, or a policy without update on \
                 {mount}/encrypt/{key} and {mount}/decrypt/{key})"
            )),
            429 | 500..=599 => KeyManagerError::Unreachable(message),
            // No such key, or no such mount ("no handler for route").
            404 => KeyManagerError::KeyUnusable(message),
            // Transit answers 400 for what is wrong with the request: on encrypt that can
            // only be the key (our plaintext is always valid base64); on decrypt it is the
            // ciphertext, unless the key or the ciphertext's version is gone.
            400 => match call {
                Call::Decrypt if !key_gone(&errors) => KeyManagerError::Unwrap(message),
                _ => KeyManagerError::KeyUnusable(message),
            },
            _ => KeyManagerError::Backend(message),
        }
    }
}

/// Whether a decrypt's 400 says the key (or the version the ciphertext names) cannot be
/// used, rather than that the ciphertext is bad: "encryption key not found", "ciphertext or
/// signature version is disallowed by policy (too old)" (below `min_decryption_version`).
fn key_gone(errors: &str) -> bool {
    [
        "key not found",
        "disallowed by policy",
        "soft deleted",
        "soft-deleted",
    ]
    .iter()
    .any(|needle| errors.contains(needle))
}

fn suffix(errors: &str) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {errors}")
    }
}

/// An error and its causes on one line ("error sending request: client error (Connect):
/// tcp connect error: Connection refused").
fn cause_chain(error: &dyn StdError) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}
