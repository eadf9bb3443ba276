#![doc = include_str!("../README.md")]

mod client;
mod credentials;
mod endpoint;
mod errors;
mod profile;
mod sts;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls_platform_verifier::BuilderVerifierExt as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vault_core::cipher::Plaintext;
use vault_core::key_manager::BoxFuture;
use vault_core::{KeyManager, KeyManagerError, WrappedKeyring};
use zeroize::Zeroizing;

use crate::client::{Kms, Op};
use crate::credentials::CredentialSource;
use crate::wire::{
    DecryptRequest, DecryptResponse, DescribeKeyRequest, DescribeKeyResponse, EncryptRequest,
    EncryptResponse, VaultContext, json_body, malformed, parse,
};

/// What [`KeyManager::kind`] returns, and what [`WrappedKeyring::manager`] holds.
pub const KIND: &str = "awskms";

/// The default [`KmsConfig::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most KMS `Encrypt` takes.
const MAX_PLAINTEXT: usize = 4096;

/// Which KMS key, where, and how long to wait for an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsConfig {
    /// The AWS region: `us-east-1`.
    pub region: String,
    /// The key: a key id, key ARN, alias name (`alias/vault`) or alias ARN. New keyrings
    /// are wrapped under it; a keyring is unwrapped with the key ARN it records.
    pub key_id: String,
    /// The KMS endpoint. `None`: `AWS_ENDPOINT_URL_KMS` or `AWS_ENDPOINT_URL` from the
    /// environment, else `https://kms.{region}.amazonaws.com`. Plain `http` only to a
    /// loopback address.
    pub endpoint: Option<String>,
    /// The longest one HTTP exchange may take (each of up to three attempts).
    pub timeout: Duration,
}

impl KmsConfig {
    /// A configuration with the default endpoint and [`DEFAULT_TIMEOUT`].
    pub fn new(region: impl Into<String>, key_id: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            key_id: key_id.into(),
            endpoint: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A [`KeyManager`] over AWS KMS: `Encrypt`, `Decrypt` and `DescribeKey` of the JSON API,
/// signed with SigV4, with credentials from the standard AWS chain.
pub struct AwsKmsKeyManager {
    key_id: String,
    region: String,
    kms: Kms,
}

impl fmt::Debug for AwsKmsKeyManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsKeyManager")
            .field("key_id", &self.key_id)
            .field("region", &self.region)
            .field("kms", &self.kms)
            .finish()
    }
}

impl AwsKmsKeyManager {
    /// Checks the configuration and finds the credentials (environment, web identity,
    /// profile: the first configured wins; web identity's are fetched at the first call).
    ///
    /// `env` is how the credential chain and endpoint resolution read environment
    /// variables: the server passes `|name| std::env::var(name).ok()`, tests a map.
    ///
    /// # Errors
    /// [`KeyManagerError::Denied`] when no credential source is configured, or one is half
    /// configured; [`KeyManagerError::Backend`] for an invalid region, key id, endpoint or
    /// timeout, or when the HTTP client cannot be built.
    pub fn new(
        config: KmsConfig,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Self, KeyManagerError> {
        let invalid = |why: String| KeyManagerError::Backend(format!("AWS KMS: {why}"));
        let region = config.region.trim().to_owned();
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(format!("{region:?} is not an AWS region name")));
        }
        let key_id = config.key_id.trim().to_owned();
        if key_id.is_empty()
            || key_id.len() > 2048
            || key_id.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(format!("{key_id:?} is not a KMS key id")));
        }
        if config.timeout.is_zero() {
            return Err(invalid("the timeout must be above zero".to_owned()));
        }
        let endpoint = endpoint::resolve("kms", config.endpoint.as_deref(), &region, &env)?;
        let credentials = CredentialSource::resolve(&env, &region)?;
        Ok(Self {
            key_id,
            kms: Kms {
                http: http_client(config.timeout)?,
                endpoint,
                region: region.clone(),
                timeout: config.timeout,
                credentials,
            },
            region,
        })
    }

    #[tracing::instrument(skip_all, fields(key_id = %self.key_id))]
    async fn wrap_keyring(
        &self,
        plaintext: &[u8],
        context: &str,
    ) -> Result<WrappedKeyring, KeyManagerError> {
        if plaintext.len() > MAX_PLAINTEXT {
            return Err(KeyManagerError::Backend(format!(
                "a keyring of {} bytes is more than KMS Encrypt takes ({MAX_PLAINTEXT})",
                plaintext.len()
            )));
        }
        let encoded = Zeroizing::new(STANDARD.encode(plaintext));
        let request = EncryptRequest {
            key_id: &self.key_id,
            plaintext: &encoded,
            encryption_context: VaultContext { vault: context },
        };
        let body = json_body(
            &request,
            encoded.len() + 6 * (self.key_id.len() + context.len()),
        )?;
        let response = self.kms.call(Op::Encrypt, &self.key_id, &body).await?;
        let response: EncryptResponse = parse(Op::Encrypt, &self.key_id, &response)?;
        let bytes = STANDARD
            .decode(&response.ciphertext_blob)
            .map_err(|_| malformed(Op::Encrypt, &self.key_id, "CiphertextBlob is not base64"))?;
        if response.key_id.is_empty() || bytes.is_empty() {
            return Err(malformed(
                Op::Encrypt,
                &self.key_id,
                "no KeyId or CiphertextBlob",
            ));
        }
        Ok(WrappedKeyring {
            manager: KIND.to_owned(),
            key: response.key_id,
            bytes,
        })
    }

    #[tracing::instrument(skip_all, fields(key = %wrapped.key))]
    async fn unwrap_keyring(
        &self,
        wrapped: &WrappedKeyring,
        context: &str,
    ) -> Result<Plaintext, KeyManagerError> {
        if wrapped.manager != KIND {
            return Err(KeyManagerError::Unwrap(format!(
                "the keyring was wrapped by a {:?} key manager, not {KIND}",
                wrapped.manager
            )));
        }
        if wrapped.key.is_empty() {
            return Err(KeyManagerError::Unwrap(
                "the wrapped keyring names no KMS key".to_owned(),
            ));
        }
        // KMS refuses Decrypt under a disabled or pending-deletion key (DisabledException,
        // KMSInvalidStateException), but moto, the test server, decrypts anyway. Checking
        // the state first makes both refuse start alike, with the same message as
        // `check`; one more call, made at start only.
        self.usable_key(&wrapped.key).await?;
        let blob = STANDARD.encode(&wrapped.bytes);
        let request = DecryptRequest {
            ciphertext_blob: &blob,
            // The key that wrapped it (an ARN), not the configured one: a keyring wrapped
            // before the configuration moved to another key still opens.
            key_id: &wrapped.key,
            encryption_context: VaultContext { vault: context },
        };
        let body = json_body(
            &request,
            blob.len() + 6 * (wrapped.key.len() + context.len()),
        )?;
        let response = self.kms.call(Op::Decrypt, &wrapped.key, &body).await?;
        let response: DecryptResponse = parse(Op::Decrypt, &wrapped.key, &response)?;
        let encoded = Zeroizing::new(response.plaintext);
        if response.key_id != wrapped.key {
            return Err(KeyManagerError::Unwrap(format!(
                "KMS Decrypt used key {}, but the keyring was wrapped under {}",
                response.key_id, wrapped.key
            )));
        }
        // Sized up front so that decoding never reallocates and leaves a copy behind.
        let mut plaintext = Zeroizing::new(Vec::with_capacity(encoded.len() / 4 * 3 + 3));
        STANDARD
            .decode_vec(encoded.as_bytes(), &mut plaintext)
            .map_err(|_| malformed(Op::Decrypt, &wrapped.key, "Plaintext is not base64"))?;
        Ok(plaintext)
    }

    /// `DescribeKey`: the key's ARN when it is an enabled symmetric encryption key,
    /// `KeyUnusable` naming its state, usage or spec otherwise.
    #[tracing::instrument(skip(self))]
    async fn usable_key(&self, key_id: &str) -> Result<String, KeyManagerError> {
        let body = json_body(&DescribeKeyRequest { key_id }, key_id.len() + 16)?;
        let response = self.kms.call(Op::DescribeKey, key_id, &body).await?;
        let response: DescribeKeyResponse = parse(Op::DescribeKey, key_id, &response)?;
        let key = response.key_metadata;
        let unusable =
            |why: String| KeyManagerError::KeyUnusable(format!("KMS key {} {why}", key.arn));
        match key.key_state.as_deref() {
            Some("Enabled") => {}
            Some("PendingDeletion") => {
                let when = key
                    .deletion_date
                    .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs as i64).ok())
                    .and_then(|date| date.format(&Rfc3339).ok())
                    .map_or_else(String::new, |date| format!(" (deletion on {date})"));
                return Err(unusable(format!("is PendingDeletion{when}")));
            }
            Some(state) => return Err(unusable(format!("is {state}"))),
            None => return Err(malformed(Op::DescribeKey, key_id, "no KeyState")),
        }
        match key.key_usage.as_deref() {
            Some("ENCRYPT_DECRYPT") | None => {}
            Some(usage) => return Err(unusable(format!("is for {usage}, not ENCRYPT_DECRYPT"))),
        }
        match key.key_spec.or(key.customer_master_key_spec).as_deref() {
            Some("SYMMETRIC_DEFAULT") | None => {}
            Some(spec) => return Err(unusable(format!("is {spec}, not SYMMETRIC_DEFAULT"))),
        }
        Ok(key.arn)
    }
}

impl KeyManager for AwsKmsKeyManager {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn describe(&self) -> String {
        format!(
            "AWS KMS key {} in {} (endpoint {}; credentials from {})",
            self.key_id,
            self.region,
            self.kms.endpoint.as_str().trim_end_matches('/'),
            self.kms.credentials.describe()
        )
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
        Box::pin(async move { self.usable_key(&self.key_id).await.map(|_| ()) })
    }
}

/// reqwest with rustls and the ring provider passed explicitly (no process-wide default),
/// the platform's roots, no proxy from the environment and no redirects (a signed request
/// is for one host).
fn http_client(timeout: Duration) -> Result<reqwest::Client, KeyManagerError> {
    let tls_error = |e: rustls::Error| KeyManagerError::Backend(format!("AWS KMS: TLS setup: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_platform_verifier()
        .map_err(tls_error)?
        .with_no_client_auth();
    // reqwest is built without HTTP/2 here; say so in ALPN rather than let a server pick h2.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .user_agent(concat!(
            "vault-keymanager-awskms/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(|e| KeyManagerError::Backend(format!("AWS KMS: HTTP client: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(
        vars: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "FQoGZXIvYXdzEBYaDEXAMPLETOKEN";
    const VARS: &[(&str, &str)] = &[
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_SESSION_TOKEN", TOKEN),
    ];

    #[test]
    fn debug_and_describe_print_no_secret() {
        let mut config = KmsConfig::new("us-east-1", "alias/vault");
        config.endpoint = Some("http://127.0.0.1:5000".to_owned());
        let manager = AwsKmsKeyManager::new(config, env(VARS)).expect("manager");
        assert_eq!(
            manager.describe(),
            "AWS KMS key alias/vault in us-east-1 (endpoint http://127.0.0.1:5000; \
             credentials from environment (AWS_ACCESS_KEY_ID))"
        );
        let debug = format!("{manager:?}");
        assert!(
            debug.contains("AKIDEXAMPLE") && debug.contains("alias/vault"),
            "{debug}"
        );
        for text in [debug, manager.describe()] {
            assert!(!text.contains(SECRET) && !text.contains(TOKEN), "{text}");
        }
    }

    #[test]
    fn invalid_configuration_is_refused() {
        let cases = [
            KmsConfig::new("", "alias/vault"),
            KmsConfig::new("us east 1", "alias/vault"),
            KmsConfig::new("us-east-1", " "),
            KmsConfig::new("us-east-1", "alias/has space"),
            KmsConfig {
                timeout: Duration::ZERO,
                ..KmsConfig::new("us-east-1", "alias/vault")
            },
            KmsConfig {
                endpoint: Some("http://kms.internal:4566".to_owned()),
                ..KmsConfig::new("us-east-1", "alias/vault")
            },
        ];
        for config in cases {
            let shown = format!("{config:?}");
            assert!(
                matches!(
                    AwsKmsKeyManager::new(config, env(VARS)),
                    Err(KeyManagerError::Backend(_))
                ),
                "{shown}"
            );
        }
    }

    #[test]
    fn the_default_endpoint_is_regional() {
        let manager = AwsKmsKeyManager::new(KmsConfig::new("eu-west-3", "alias/vault"), env(VARS))
            .expect("manager");
        assert!(
            manager
                .describe()
                .contains("(endpoint https://kms.eu-west-3.amazonaws.com;"),
            "{}",
            manager.describe()
        );
    }
}
