//! Web identity credentials: a token file (a Kubernetes service account token, say) traded
//! for temporary credentials with STS `AssumeRoleWithWebIdentity`, refreshed before they
//! expire. STS answers in XML, of which four leaf elements are read (no XML crate is in the
//! tree, and a leaf reader is enough for STS's fixed, attribute-free answer).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secrecy::SecretString;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Mutex;
use url::Url;
use vault_core::KeyManagerError;
use zeroize::Zeroizing;

use crate::client;
use crate::credentials::{Credentials, Env, var};
use crate::endpoint;
use crate::errors::{self, Failure};

/// Temporary credentials are refreshed when they have less than this left.
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// The web identity source of the chain.
pub(crate) struct WebIdentity {
    token_file: PathBuf,
    role_arn: String,
    session_name: String,
    endpoint: Url,
    /// The last credentials STS gave; one refresh at a time.
    cache: Mutex<Option<Arc<Credentials>>>,
}

impl fmt::Debug for WebIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentity")
            .field("token_file", &self.token_file)
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("endpoint", &self.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

impl WebIdentity {
    /// From `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and `AWS_ROLE_SESSION_NAME`;
    /// `None` when neither of the first two is set.
    pub(crate) fn from_env(env: Env<'_>, region: &str) -> Result<Option<Self>, KeyManagerError> {
        let token_file = var(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
        let role_arn = var(env, "AWS_ROLE_ARN");
        let (token_file, role_arn) = match (token_file, role_arn) {
            (Some(file), Some(role)) => (file, role),
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err(KeyManagerError::Denied(
                    "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not".to_owned(),
                ));
            }
            (None, Some(_)) => {
                return Err(KeyManagerError::Denied(
                    "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not".to_owned(),
                ));
            }
        };
        // What the AWS SDKs do too: a name that tells the vault's sessions apart in
        // CloudTrail (milliseconds since the epoch differ between replicas' starts).
        let session_name = var(env, "AWS_ROLE_SESSION_NAME").unwrap_or_else(|| {
            let millis = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            format!("vault-{millis}")
        });
        Ok(Some(Self {
            token_file: PathBuf::from(token_file),
            role_arn,
            session_name,
            endpoint: endpoint::resolve("sts", None, region, env)?,
            cache: Mutex::new(None),
        }))
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "web identity (role {}, token file {}, STS {})",
            self.role_arn,
            self.token_file.display(),
            self.endpoint
        )
    }

    /// The cached credentials while they have more than five minutes left, else new ones.
    pub(crate) async fn credentials(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<Arc<Credentials>, KeyManagerError> {
        let mut cache = self.cache.lock().await;
        if let Some(credentials) = cache.as_ref()
            && credentials.fresh_for(REFRESH_BEFORE, SystemTime::now())
        {
            return Ok(Arc::clone(credentials));
        }
        let credentials = Arc::new(self.assume(http, timeout).await?);
        tracing::info!(
            role_arn = %self.role_arn,
            access_key_id = %credentials.access_key_id,
            expires_at = ?credentials.expires_at,
            "assumed the role with the web identity token"
        );
        *cache = Some(Arc::clone(&credentials));
        Ok(credentials)
    }

    pub(crate) async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    #[tracing::instrument(skip_all, fields(role_arn = %self.role_arn, endpoint = %self.endpoint))]
    async fn assume(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<Credentials, KeyManagerError> {
        // Read at every refresh: Kubernetes rotates the projected token in place. A small
        // local file, read once an hour: a blocking read is fine here.
        let token = std::fs::read_to_string(&self.token_file)
            .map(Zeroizing::new)
            .map_err(|e| {
                KeyManagerError::Denied(format!(
                    "cannot read AWS_WEB_IDENTITY_TOKEN_FILE {}: {e}",
                    self.token_file.display()
                ))
            })?;
        let token = token.trim();
        if token.is_empty() {
            return Err(KeyManagerError::Denied(format!(
                "AWS_WEB_IDENTITY_TOKEN_FILE {} is empty",
                self.token_file.display()
            )));
        }
        // A body sized up front, so that growing it leaves no copy of the token behind.
        let mut body = Zeroizing::new(String::with_capacity(
            3 * (token.len() + self.role_arn.len() + self.session_name.len()) + 128,
        ));
        url::form_urlencoded::Serializer::new(&mut *body)
            .append_pair("Action", "AssumeRoleWithWebIdentity")
            .append_pair("Version", "2011-06-15")
            .append_pair("RoleArn", &self.role_arn)
            .append_pair("RoleSessionName", &self.session_name)
            .append_pair("WebIdentityToken", token)
            .finish();
        let context = format!(
            "STS AssumeRoleWithWebIdentity of role {} at {}",
            self.role_arn, self.endpoint
        );
        let response = client::with_retries(|| async {
            // Unsigned: the token is the credential.
            let response = http
                .post(self.endpoint.clone())
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded; charset=utf-8",
                )
                .body(body.as_bytes().to_vec())
                .send()
                .await
                .map_err(|e| errors::transport(&e, timeout))?;
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| errors::transport(&e, timeout))?;
            let bytes = Zeroizing::new(Vec::from(bytes));
            if status.is_success() {
                Ok(bytes)
            } else {
                Err(errors::api_failure(status, &headers, &bytes, None))
            }
        })
        .await
        .map_err(|failure| match failure {
            Failure::Transport(why) => KeyManagerError::Unreachable(format!("{context}: {why}")),
            Failure::Api {
                status,
                code,
                message,
            } if status >= 500 => {
                KeyManagerError::Unreachable(format!("{context}: HTTP {status} {code} {message}"))
            }
            // STS refusing the token or the role (InvalidIdentityToken, AccessDenied,
            // ExpiredTokenException, IDPRejectedClaim): the vault's identity is refused.
            Failure::Api { code, message, .. } => {
                KeyManagerError::Denied(format!("{context}: {code}: {message}"))
            }
            Failure::Credentials(error) => error,
            Failure::Other(why) => KeyManagerError::Backend(format!("{context}: {why}")),
        })?;
        let text = std::str::from_utf8(&response)
            .map_err(|_| KeyManagerError::Backend(format!("{context}: the answer is not UTF-8")))?;
        parse_credentials(text).map_err(|why| KeyManagerError::Backend(format!("{context}: {why}")))
    }
}

/// The credentials of an `AssumeRoleWithWebIdentityResponse`.
fn parse_credentials(xml: &str) -> Result<Credentials, String> {
    // Raw blocks hold the secrets' elements: wiped when dropped.
    let result = Zeroizing::new(
        raw_element(xml, "AssumeRoleWithWebIdentityResult")?
            .ok_or("the answer has no AssumeRoleWithWebIdentityResult")?,
    );
    let block = Zeroizing::new(
        raw_element(&result, "Credentials")?.ok_or("the answer has no Credentials")?,
    );
    let field = |name: &str| {
        xml_text(&block, name)?
            .map(Zeroizing::new)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| format!("the answer's Credentials have no {name}"))
    };
    let access_key_id = field("AccessKeyId")?.to_string();
    let secret_access_key = SecretString::from(field("SecretAccessKey")?.as_str());
    let session_token = SecretString::from(field("SessionToken")?.as_str());
    let expiration = field("Expiration")?;
    let expires_at = OffsetDateTime::parse(&expiration, &Rfc3339).map_err(|e| {
        format!(
            "the answer's Expiration {:?} is not RFC 3339: {e}",
            &*expiration
        )
    })?;
    Ok(Credentials {
        access_key_id,
        secret_access_key,
        session_token: Some(session_token),
        expires_at: Some(SystemTime::from(expires_at)),
    })
}

/// The raw content of the one `<name>` element in `xml` (markup inside kept), `None` when
/// there is none; an error when there are two, or it is not closed.
fn raw_element(xml: &str, name: &str) -> Result<Option<String>, String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let Some(start) = xml.find(&open).map(|at| at + open.len()) else {
        return Ok(None);
    };
    let end = xml[start..]
        .find(&close)
        .map(|at| start + at)
        .ok_or_else(|| format!("<{name}> is not closed"))?;
    if xml[end..].contains(&open) {
        return Err(format!("the answer has more than one <{name}>"));
    }
    Ok(Some(xml[start..end].to_owned()))
}

/// The text of the one leaf `<name>` element in `xml`, entities decoded and whitespace
/// trimmed; `None` when there is none; an error when there are two, it holds markup (CDATA
/// included), or an entity is unknown.
pub(crate) fn xml_text(xml: &str, name: &str) -> Result<Option<String>, String> {
    let Some(raw) = raw_element(xml, name)? else {
        return Ok(None);
    };
    let raw = Zeroizing::new(raw);
    if raw.contains('<') {
        return Err(format!("<{name}> holds markup, not text"));
    }
    let mut text = String::with_capacity(raw.len());
    let mut rest = raw.trim();
    while let Some(at) = rest.find('&') {
        text.push_str(&rest[..at]);
        let entity_end = rest[at..]
            .find(';')
            .ok_or_else(|| format!("<{name}> has an unterminated entity"))?;
        let entity = &rest[at + 1..at + entity_end];
        let decoded = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32)
                .ok_or_else(|| format!("<{name}> has an unknown entity"))?,
        };
        text.push(decoded);
        rest = &rest[at + entity_end + 1..];
    }
    text.push_str(rest);
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    const ANSWER: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:vault:vault &lt;SessionToken&gt;</SubjectFromWebIdentityToken>
    <Credentials>
      <SessionToken>FQoGZXIvYXdzEBYaD+3T/TO0R0yYb==</SessionToken>
      <SecretAccessKey>
        mDyfo7U5iejp3rcvw2i6&amp;GqmetAwkk6k6Kj50BoeC
      </SecretAccessKey>
      <Expiration>2026-12-07T10:25:03.625076Z</Expiration>
      <AccessKeyId>ASIARZPUZDIKNYBPVY6W</AccessKeyId>
    </Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/vault/vault-1</Arn></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>abc</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#;

    #[test]
    fn reads_the_four_fields() {
        let credentials = parse_credentials(ANSWER).expect("credentials");
        assert_eq!(credentials.access_key_id, "ASIARZPUZDIKNYBPVY6W");
        assert_eq!(
            credentials.secret_access_key.expose_secret(),
            "mDyfo7U5iejp3rcvw2i6&GqmetAwkk6k6Kj50BoeC"
        );
        assert_eq!(
            credentials
                .session_token
                .as_ref()
                .expect("token")
                .expose_secret(),
            "FQoGZXIvYXdzEBYaD+3T/TO0R0yYb=="
        );
        let expiry = OffsetDateTime::parse("2026-12-07T10:25:03.625076Z", &Rfc3339).expect("date");
        assert_eq!(credentials.expires_at, Some(SystemTime::from(expiry)));
    }

    #[test]
    fn refuses_missing_duplicated_or_odd_fields() {
        let without = ANSWER.replace("<AccessKeyId>ASIARZPUZDIKNYBPVY6W</AccessKeyId>", "");
        assert!(
            parse_credentials(&without)
                .expect_err("refused")
                .contains("AccessKeyId")
        );
        let twice = ANSWER.replace("<AccessKeyId>", "<AccessKeyId>X</AccessKeyId><AccessKeyId>");
        assert!(
            parse_credentials(&twice)
                .expect_err("refused")
                .contains("more than one")
        );
        let cdata = ANSWER.replace(
            "<AccessKeyId>ASIARZPUZDIKNYBPVY6W",
            "<AccessKeyId>x<![CDATA[ASIA]]>",
        );
        assert!(parse_credentials(&cdata).is_err());
        let only_cdata = ANSWER.replace(
            "<AccessKeyId>ASIARZPUZDIKNYBPVY6W",
            "<AccessKeyId><![CDATA[ASIA]]>",
        );
        assert!(
            parse_credentials(&only_cdata)
                .expect_err("refused")
                .contains("markup")
        );
        let date = ANSWER.replace("2026-12-07T10:25:03.625076Z", "tomorrow");
        assert!(
            parse_credentials(&date)
                .expect_err("refused")
                .contains("RFC 3339")
        );
        let error = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>\
            <Message>No OpenIDConnect provider found</Message></Error></ErrorResponse>";
        assert!(parse_credentials(error).is_err());
        assert_eq!(
            xml_text(error, "Code").expect("xml").as_deref(),
            Some("InvalidIdentityToken")
        );
    }

    #[test]
    fn decodes_entities() {
        let xml = "<M>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#65;&#x42;</M>";
        assert_eq!(
            xml_text(xml, "M").expect("xml").as_deref(),
            Some("a <b> & \"c\" 'd' AB")
        );
        assert!(xml_text("<M>&bogus;</M>", "M").is_err());
        assert!(xml_text("<M>&amp</M>", "M").is_err());
        assert!(xml_text("<M>open", "M").is_err());
        assert_eq!(xml_text("<N>x</N>", "M").expect("xml"), None);
    }

    #[test]
    fn debug_shows_no_cached_secret() {
        let env = |name: &str| match name {
            "AWS_WEB_IDENTITY_TOKEN_FILE" => Some("/var/run/token".to_owned()),
            "AWS_ROLE_ARN" => Some("arn:aws:iam::123456789012:role/vault".to_owned()),
            _ => None,
        };
        let web = WebIdentity::from_env(&env, "eu-west-1")
            .expect("configured")
            .expect("web identity");
        assert!(web.session_name.starts_with("vault-"));
        assert_eq!(
            web.endpoint.as_str(),
            "https://sts.eu-west-1.amazonaws.com/"
        );
        let text = format!("{web:?}");
        assert!(
            text.contains("arn:aws:iam::123456789012:role/vault"),
            "{text}"
        );
    }
}
