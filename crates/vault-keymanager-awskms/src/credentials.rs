//! The standard AWS credential chain, in the order the AWS SDKs (and EKS's IRSA) use:
//! environment variables, then web identity (STS `AssumeRoleWithWebIdentity`), then a
//! profile of the shared credentials file. The first source that is configured wins.
//!
//! Instance metadata (IMDS), `credential_process`, SSO and `role_arn`/`source_profile`
//! profiles are not consulted.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret as _, SecretString};
use vault_core::KeyManagerError;
use zeroize::Zeroizing;

use crate::profile;
use crate::sts::WebIdentity;

/// How an [`crate::AwsKmsKeyManager`] reads environment variables.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A set of AWS credentials: an access key id (not secret: it names the key), the secret
/// access key, and the session token of temporary credentials.
pub(crate) struct Credentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: SecretString,
    pub(crate) session_token: Option<SecretString>,
    /// When temporary credentials stop working; `None` for long-term keys.
    pub(crate) expires_at: Option<SystemTime>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Credentials {
    /// What aws-sigv4 signs with (as its `Identity`). One of the two places secrets are
    /// exposed (the other is [`Self::redact`]); the copy lives for one signature.
    pub(crate) fn to_sigv4(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            &self.access_key_id,
            self.secret_access_key.expose_secret(),
            self.session_token
                .as_ref()
                .map(|token| token.expose_secret().to_owned()),
            self.expires_at,
            "vault",
        )
    }

    /// `message` with any occurrence of the secret access key or session token replaced:
    /// defence in depth for error messages quoted from AWS.
    pub(crate) fn redact(&self, message: &str) -> String {
        let mut text = message.to_owned();
        let secrets = std::iter::once(&self.secret_access_key).chain(self.session_token.as_ref());
        for secret in secrets {
            let secret = secret.expose_secret();
            if !secret.is_empty() && text.contains(secret) {
                text = text.replace(secret, "<redacted>");
            }
        }
        text
    }

    /// Usable for at least `margin` more at `now`.
    pub(crate) fn fresh_for(&self, margin: Duration, now: SystemTime) -> bool {
        self.expires_at
            .is_none_or(|expiry| now.checked_add(margin).is_some_and(|later| later < expiry))
    }

    #[cfg(test)]
    pub(crate) fn for_tests(id: &str, secret: &str, token: Option<&str>) -> Self {
        Self {
            access_key_id: id.to_owned(),
            secret_access_key: SecretString::from(secret),
            session_token: token.map(SecretString::from),
            expires_at: None,
        }
    }
}

/// Where the credentials come from: the first configured source of the chain.
pub(crate) enum CredentialSource {
    Environment(Arc<Credentials>),
    Profile {
        name: String,
        file: PathBuf,
        credentials: Arc<Credentials>,
    },
    WebIdentity(WebIdentity),
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment(credentials) => {
                f.debug_tuple("Environment").field(credentials).finish()
            }
            Self::Profile {
                name,
                file,
                credentials,
            } => f
                .debug_struct("Profile")
                .field("name", name)
                .field("file", file)
                .field("credentials", credentials)
                .finish(),
            Self::WebIdentity(web) => f.debug_tuple("WebIdentity").field(web).finish(),
        }
    }
}

/// An environment variable, `None` when unset or blank.
pub(crate) fn var(env: Env<'_>, name: &str) -> Option<String> {
    env(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

impl CredentialSource {
    /// Walks the chain and returns the first source that is configured; `Denied` when one
    /// is half configured (an access key id without its secret) or none is.
    #[tracing::instrument(skip_all)]
    pub(crate) fn resolve(env: Env<'_>, region: &str) -> Result<Self, KeyManagerError> {
        let source = if let Some(source) = Self::environment(env)? {
            source
        } else if let Some(web) = WebIdentity::from_env(env, region)? {
            Self::WebIdentity(web)
        } else {
            Self::profile(env)?
        };
        tracing::info!(credentials = %source.describe(), "AWS credential source");
        Ok(source)
    }

    fn environment(env: Env<'_>) -> Result<Option<Self>, KeyManagerError> {
        let id = var(env, "AWS_ACCESS_KEY_ID");
        let secret = var(env, "AWS_SECRET_ACCESS_KEY").map(SecretString::from);
        match (id, secret) {
            (Some(access_key_id), Some(secret_access_key)) => {
                Ok(Some(Self::Environment(Arc::new(Credentials {
                    access_key_id,
                    secret_access_key,
                    session_token: var(env, "AWS_SESSION_TOKEN").map(SecretString::from),
                    expires_at: None,
                }))))
            }
            (Some(_), None) => Err(KeyManagerError::Denied(
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".to_owned(),
            )),
            (None, Some(_)) => Err(KeyManagerError::Denied(
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".to_owned(),
            )),
            (None, None) => Ok(None),
        }
    }

    fn profile(env: Env<'_>) -> Result<Self, KeyManagerError> {
        let explicit_profile = var(env, "AWS_PROFILE");
        let name = explicit_profile
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let home = var(env, "HOME");
        let file = match var(env, "AWS_SHARED_CREDENTIALS_FILE") {
            Some(path) => Some(match (path.strip_prefix("~/"), &home) {
                (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
                _ => PathBuf::from(path),
            }),
            None => home.map(|home| PathBuf::from(home).join(".aws/credentials")),
        };
        let nothing = |why: String| {
            KeyManagerError::Denied(format!(
                "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, \
                 AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not set, and {why} \
                 (instance metadata is not consulted)"
            ))
        };
        let Some(file) = file else {
            return Err(nothing(
                "there is no credentials file (neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set)"
                    .to_owned(),
            ));
        };
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(nothing(format!(
                    "the credentials file {} does not exist",
                    file.display()
                )));
            }
            Err(e) => {
                return Err(KeyManagerError::Denied(format!(
                    "cannot read the AWS credentials file {}: {e}",
                    file.display()
                )));
            }
        };
        let Some(found) = profile::find(&text, &name) else {
            let why = format!("profile {name} is not in {}", file.display());
            return Err(if explicit_profile.is_some() {
                KeyManagerError::Denied(format!("AWS_PROFILE names a missing profile: {why}"))
            } else {
                nothing(why)
            });
        };
        let (Some(access_key_id), Some(secret_access_key)) =
            (found.access_key_id, found.secret_access_key)
        else {
            return Err(KeyManagerError::Denied(format!(
                "profile {name} in {} has no aws_access_key_id and aws_secret_access_key \
                 (role_arn, SSO and credential_process profiles are not supported)",
                file.display()
            )));
        };
        Ok(Self::Profile {
            name,
            file,
            credentials: Arc::new(Credentials {
                access_key_id,
                secret_access_key,
                session_token: found.session_token,
                expires_at: None,
            }),
        })
    }

    /// Which source, for logs and [`crate::AwsKmsKeyManager`]'s description; no secret.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Environment(_) => "environment (AWS_ACCESS_KEY_ID)".to_owned(),
            Self::Profile { name, file, .. } => format!("profile {name} in {}", file.display()),
            Self::WebIdentity(web) => web.describe(),
        }
    }

    /// The credentials to sign with now; web identity's are fetched or refreshed from STS.
    pub(crate) async fn get(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<Arc<Credentials>, KeyManagerError> {
        match self {
            Self::Environment(credentials) | Self::Profile { credentials, .. } => {
                Ok(Arc::clone(credentials))
            }
            Self::WebIdentity(web) => web.credentials(http, timeout).await,
        }
    }

    /// Whether [`Self::invalidate`] can get other credentials.
    pub(crate) fn is_refreshable(&self) -> bool {
        matches!(self, Self::WebIdentity(_))
    }

    /// Forgets cached temporary credentials, so the next call fetches new ones.
    pub(crate) async fn invalidate(&self) {
        if let Self::WebIdentity(web) = self {
            web.invalidate().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn resolve(vars: &[(&str, &str)]) -> Result<CredentialSource, KeyManagerError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        CredentialSource::resolve(&move |name| map.get(name).cloned(), "us-east-1")
    }

    fn denied(result: Result<CredentialSource, KeyManagerError>) -> String {
        match result {
            Err(KeyManagerError::Denied(message)) => message,
            other => panic!("expected Denied, got {other:?}"),
        }
    }

    #[test]
    fn debug_never_prints_secrets() {
        let credentials =
            Credentials::for_tests("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", Some("FQoGZXIvYXdz"));
        let text = format!("{:?}", CredentialSource::Environment(Arc::new(credentials)));
        assert!(text.contains("AKIDEXAMPLE"), "{text}");
        assert!(
            !text.contains("wJalrXUtnFEMI") && !text.contains("FQoGZXIvYXdz"),
            "{text}"
        );
        let identity = format!(
            "{:?}",
            Credentials::for_tests("AKID", "wJalrXUtnFEMI", Some("FQoGZXIvYXdz")).to_sigv4()
        );
        assert!(!identity.contains("wJalrXUtnFEMI") && !identity.contains("FQoGZXIvYXdz"));
    }

    #[test]
    fn the_environment_comes_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("credentials");
        std::fs::write(
            &file,
            "[default]\naws_access_key_id = P\naws_secret_access_key = Q\n",
        )
        .expect("write");
        let file = file.to_str().expect("utf-8");
        let all = [
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/token"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/vault"),
            ("AWS_SHARED_CREDENTIALS_FILE", file),
        ];
        assert!(matches!(
            resolve(&all),
            Ok(CredentialSource::Environment(_))
        ));
        assert!(matches!(
            resolve(&all[2..]),
            Ok(CredentialSource::WebIdentity(_))
        ));
        assert!(matches!(
            resolve(&all[4..]),
            Ok(CredentialSource::Profile { .. })
        ));
    }

    #[test]
    fn half_configured_sources_are_refused() {
        let message = denied(resolve(&[("AWS_ACCESS_KEY_ID", "AKID")]));
        assert!(
            message.contains("AWS_SECRET_ACCESS_KEY is not"),
            "{message}"
        );
        let message = denied(resolve(&[("AWS_SECRET_ACCESS_KEY", "s3cr3t")]));
        assert!(!message.contains("s3cr3t"), "{message}");
        let message = denied(resolve(&[("AWS_WEB_IDENTITY_TOKEN_FILE", "/t")]));
        assert!(message.contains("AWS_ROLE_ARN"), "{message}");
    }

    #[test]
    fn nothing_configured_says_what_was_looked_for() {
        let message = denied(resolve(&[("HOME", "/nonexistent-home")]));
        for looked_for in [
            "AWS_ACCESS_KEY_ID",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "/nonexistent-home/.aws/credentials",
        ] {
            assert!(message.contains(looked_for), "{message}");
        }
        let message = denied(resolve(&[]));
        assert!(
            message.contains("neither AWS_SHARED_CREDENTIALS_FILE nor HOME"),
            "{message}"
        );
    }

    #[test]
    fn a_named_profile_must_exist_and_hold_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("credentials");
        std::fs::write(
            &file,
            "[default]\naws_access_key_id = A\naws_secret_access_key = B\n\
             [assumer]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n",
        )
        .expect("write");
        let file = file.to_str().expect("utf-8");
        let message = denied(resolve(&[
            ("AWS_SHARED_CREDENTIALS_FILE", file),
            ("AWS_PROFILE", "missing"),
        ]));
        assert!(message.contains("profile missing is not in"), "{message}");
        let message = denied(resolve(&[
            ("AWS_SHARED_CREDENTIALS_FILE", file),
            ("AWS_PROFILE", "assumer"),
        ]));
        assert!(message.contains("role_arn"), "{message}");
        let source = resolve(&[("AWS_SHARED_CREDENTIALS_FILE", file)]).expect("default profile");
        assert!(
            source.describe().starts_with("profile default in "),
            "{}",
            source.describe()
        );
    }

    #[test]
    fn freshness_keeps_a_margin() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut credentials = Credentials::for_tests("A", "B", Some("C"));
        assert!(credentials.fresh_for(Duration::from_secs(300), now));
        credentials.expires_at = Some(now + Duration::from_secs(299));
        assert!(!credentials.fresh_for(Duration::from_secs(300), now));
        credentials.expires_at = Some(now + Duration::from_secs(301));
        assert!(credentials.fresh_for(Duration::from_secs(300), now));
    }
}
