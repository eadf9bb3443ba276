//! The OAuth2 client-credentials grant (RFC 6749 §4.4) on the wire: the token request the
//! vault sends through its [`Upstream`](crate::upstream::Upstream) port, and the reading
//! of the token endpoint's answer.

use std::fmt;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::Duration;
use url::form_urlencoded;

use crate::credential::{OAuth2ClientAuth, OAuth2Config};
use crate::upstream::{OutgoingRequest, RequestPurpose, UpstreamResponse};

/// Lifetime assumed when a token endpoint gives no `expires_in` (RFC 6749 makes it
/// optional). Short, so an unannounced expiry costs little.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::minutes(5);
/// The largest token the vault accepts.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why a token endpoint gave no usable token. Carries the upstream's status and its
/// RFC 6749 `error` code (a short ASCII word), never the response body, which could echo
/// the client secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TokenEndpointError {
    /// The endpoint's HTTP status, when it answered.
    pub status: Option<u16>,
    /// The OAuth2 `error` code, when it gave a well-formed one.
    pub error: Option<String>,
    /// What went wrong, in fixed words.
    pub problem: &'static str,
}

impl fmt::Display for TokenEndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the OAuth2 token endpoint ")?;
        if let Some(status) = self.status {
            write!(f, "answered {status}: ")?;
        }
        f.write_str(self.problem)?;
        if let Some(error) = &self.error {
            write!(f, " (error: {error})")?;
        }
        Ok(())
    }
}

impl TokenEndpointError {
    fn answered(status: u16, problem: &'static str) -> Self {
        Self {
            status: Some(status),
            error: None,
            problem,
        }
    }
}

/// Builds the token request. The client secret goes in the `Authorization` header
/// (`client_secret_basic`, marked sensitive) or in the form body (`client_secret_post`).
///
/// # Errors
/// When the stored token URL does not parse (it was validated when stored).
pub fn token_request(
    config: &OAuth2Config,
    client_secret: &SecretString,
) -> Result<OutgoingRequest, url::ParseError> {
    let url = url::Url::parse(&config.token_url)?;
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if !config.scopes.is_empty() {
        form.append_pair("scope", &config.scopes.join(" "));
    }
    if let Some(audience) = &config.audience {
        form.append_pair("audience", audience);
    }
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    headers.insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("application/json"),
    );
    match config.client_auth {
        OAuth2ClientAuth::Basic => {
            // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
            let encode =
                |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = zeroize::Zeroizing::new(format!(
                "{}:{}",
                encode(&config.client_id),
                encode(client_secret.expose_secret())
            ));
            let value = zeroize::Zeroizing::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
            ));
            if let Ok(mut value) = http::HeaderValue::from_str(&value) {
                value.set_sensitive(true);
                headers.insert(http::header::AUTHORIZATION, value);
            }
        }
        OAuth2ClientAuth::Body => {
            form.append_pair("client_id", &config.client_id);
            form.append_pair("client_secret", client_secret.expose_secret());
        }
    }
    Ok(OutgoingRequest {
        method: http::Method::POST,
        url,
        headers,
        body: form.finish().into_bytes(),
        purpose: RequestPurpose::TokenFetch,
    })
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<SecretString>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: Option<String>,
}

/// Reads a token endpoint's answer: the access token and how long it lives.
///
/// # Errors
/// A non-2xx status (with the OAuth2 `error` code when well formed), a body that is not a
/// token response, or a token type other than bearer.
pub fn read_token_response(
    response: &UpstreamResponse,
) -> Result<(SecretString, Duration), TokenEndpointError> {
    let status = response.status.as_u16();
    if !response.status.is_success() {
        let error = serde_json::from_slice::<ErrorResponse>(&response.body)
            .ok()
            .and_then(|e| e.error)
            .filter(|e| is_error_code(e));
        return Err(TokenEndpointError {
            status: Some(status),
            error,
            problem: "refused the token request",
        });
    }
    let parsed: TokenResponse = serde_json::from_slice(&response.body).map_err(|_| {
        TokenEndpointError::answered(status, "did not answer with a JSON token response")
    })?;
    let token = parsed
        .access_token
        .ok_or_else(|| TokenEndpointError::answered(status, "gave no access_token"))?;
    let usable = {
        let t = token.expose_secret();
        !t.is_empty() && t.len() <= MAX_TOKEN_BYTES && http::HeaderValue::from_str(t).is_ok()
    };
    if !usable {
        return Err(TokenEndpointError::answered(
            status,
            "gave an access_token that cannot be sent in a header",
        ));
    }
    // RFC 6749 §5.1 makes token_type required; some servers leave it out. Anything but
    // bearer (DPoP, MAC) would need more than a header, so it is refused.
    if parsed
        .token_type
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(TokenEndpointError::answered(
            status,
            "gave a token_type other than bearer",
        ));
    }
    // Some servers send expires_in as a string; accept both.
    let lifetime = match parsed.expires_in {
        None | Some(serde_json::Value::Null) => DEFAULT_TOKEN_LIFETIME,
        Some(serde_json::Value::Number(n)) => {
            n.as_i64().map(Duration::seconds).ok_or_else(|| {
                TokenEndpointError::answered(status, "gave an expires_in that is not whole seconds")
            })?
        }
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Duration::seconds)
            .map_err(|_| {
                TokenEndpointError::answered(status, "gave an expires_in that is not whole seconds")
            })?,
        Some(_) => {
            return Err(TokenEndpointError::answered(
                status,
                "gave an expires_in that is not whole seconds",
            ));
        }
    };
    Ok((token, lifetime))
}

/// RFC 6749 §5.2: `error` is 1*( %x20-21 / %x23-5B / %x5D-7E ); the vault also keeps it
/// short and to the characters real codes use, as it is shown to API callers.
fn is_error_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(client_auth: OAuth2ClientAuth) -> OAuth2Config {
        OAuth2Config {
            client_id: "client:1".to_owned(),
            token_url: "https://auth.example.com/oauth/token".to_owned(),
            scopes: vec!["read".to_owned(), "write".to_owned()],
            client_auth,
            audience: Some("https://api.example.com".to_owned()),
        }
    }

    fn response(status: u16, body: &str) -> UpstreamResponse {
        UpstreamResponse {
            status: http::StatusCode::from_u16(status).expect("status"),
            headers: http::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn basic_auth_puts_the_secret_in_a_sensitive_header() {
        let secret = SecretString::from("s3cret/+=");
        let request = token_request(&config(OAuth2ClientAuth::Basic), &secret).expect("request");
        assert_eq!(request.purpose, crate::upstream::RequestPurpose::TokenFetch);
        let body = String::from_utf8(request.body).expect("utf-8");
        assert_eq!(
            body,
            "grant_type=client_credentials&scope=read+write&audience=https%3A%2F%2Fapi.example.com"
        );
        let auth = request.headers.get("authorization").expect("authorization");
        assert!(auth.is_sensitive());
        let encoded = auth
            .to_str()
            .expect("ascii")
            .strip_prefix("Basic ")
            .expect("basic");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        assert_eq!(decoded, b"client%3A1:s3cret%2F%2B%3D");
    }

    #[test]
    fn body_auth_puts_id_and_secret_in_the_form() {
        let secret = SecretString::from("s3cret");
        let request = token_request(&config(OAuth2ClientAuth::Body), &secret).expect("request");
        assert!(request.headers.get("authorization").is_none());
        let body = String::from_utf8(request.body).expect("utf-8");
        assert!(
            body.ends_with("&client_id=client%3A1&client_secret=s3cret"),
            "{body}"
        );
        assert!(
            !format!(
                "{:?}",
                token_request(&config(OAuth2ClientAuth::Body), &secret)
            )
            .contains("s3cret")
        );
    }

    #[test]
    fn token_responses_are_read_strictly() {
        let (token, lifetime) = read_token_response(&response(
            200,
            r#"{"access_token":"abc","token_type":"Bearer","expires_in":3600}"#,
        ))
        .expect("token");
        assert_eq!(
            (token.expose_secret(), lifetime),
            ("abc", Duration::hours(1))
        );
        let (_, lifetime) = read_token_response(&response(
            200,
            r#"{"access_token":"abc","expires_in":"60"}"#,
        ))
        .expect("token");
        assert_eq!(lifetime, Duration::minutes(1));
        let (_, lifetime) =
            read_token_response(&response(200, r#"{"access_token":"abc"}"#)).expect("token");
        assert_eq!(lifetime, DEFAULT_TOKEN_LIFETIME);

        for bad in [
            r#"{"token_type":"bearer"}"#,
            r#"{"access_token":"abc","token_type":"DPoP"}"#,
            r#"{"access_token":"a\nb"}"#,
            r#"{"access_token":"abc","expires_in":"soon"}"#,
            "not json",
        ] {
            let error = read_token_response(&response(200, bad)).expect_err(bad);
            assert_eq!(error.status, Some(200));
        }
    }

    #[test]
    fn refusals_keep_the_status_and_a_clean_error_code_only() {
        let error = read_token_response(&response(
            401,
            r#"{"error":"invalid_client","error_description":"bad secret s3cret"}"#,
        ))
        .expect_err("refused");
        assert_eq!(error.status, Some(401));
        assert_eq!(error.error.as_deref(), Some("invalid_client"));
        let shown = error.to_string();
        assert!(
            shown.contains("401") && shown.contains("invalid_client"),
            "{shown}"
        );
        assert!(!shown.contains("s3cret"));
        let odd = read_token_response(&response(400, r#"{"error":"<script>s3cret</script>"}"#))
            .expect_err("refused");
        assert_eq!(odd.error, None);
    }
}
