//! Reading a token endpoint's answer (RFC 6749 §5.1 and §5.2), strictly: what a caller
//! gets is a sendable bearer token, its lifetime and, from the authorization-code grant, the
//! refresh token; an error keeps only the status and a clean `error` code.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::Duration;

use super::{DEFAULT_TOKEN_LIFETIME, TokenEndpointError};
use crate::upstream::UpstreamResponse;

/// The largest token the vault accepts.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A usable answer of a token endpoint.
#[derive(Debug)]
pub struct IssuedTokens {
    /// The access token, sendable in a header.
    pub access_token: SecretString,
    /// How long it lives (`expires_in`, or [`DEFAULT_TOKEN_LIFETIME`]).
    pub lifetime: Duration,
    /// A refresh token, when one was issued (a rotating server issues a new one with every
    /// refresh).
    pub refresh_token: Option<SecretString>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<SecretString>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<SecretString>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: Option<String>,
}

/// Reads a token endpoint's answer.
///
/// # Errors
/// A non-2xx status (with the OAuth2 `error` code when well formed), a body that is not a
/// token response, a token that cannot be sent in a header, or a token type other than
/// bearer.
pub fn read_token_response(
    response: &UpstreamResponse,
) -> Result<IssuedTokens, TokenEndpointError> {
    let status = response.status.as_u16();
    if !response.status.is_success() {
        return Err(refusal(response, "refused the token request"));
    }
    let parsed: TokenResponse = serde_json::from_slice(&response.body).map_err(|_| {
        TokenEndpointError::answered(status, "did not answer with a JSON token response")
    })?;
    let token = parsed
        .access_token
        .ok_or_else(|| TokenEndpointError::answered(status, "gave no access_token"))?;
    if !sendable(&token) {
        return Err(TokenEndpointError::answered(
            status,
            "gave an access_token that cannot be sent in a header",
        ));
    }
    // A refresh token goes back in a form body only, but is held to the same bounds.
    let refresh_token = match parsed.refresh_token {
        Some(refresh) if !sendable(&refresh) => {
            return Err(TokenEndpointError::answered(
                status,
                "gave a malformed refresh_token",
            ));
        }
        refresh => refresh,
    };
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
    let not_seconds =
        || TokenEndpointError::answered(status, "gave an expires_in that is not whole seconds");
    // Some servers send expires_in as a string; accept both.
    let lifetime = match parsed.expires_in {
        None | Some(serde_json::Value::Null) => DEFAULT_TOKEN_LIFETIME,
        Some(serde_json::Value::Number(n)) => {
            n.as_i64().map(Duration::seconds).ok_or_else(not_seconds)?
        }
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Duration::seconds)
            .map_err(|_| not_seconds())?,
        Some(_) => return Err(not_seconds()),
    };
    Ok(IssuedTokens {
        access_token: token,
        lifetime,
        refresh_token,
    })
}

/// An endpoint's refusal, keeping only its status and a clean `error` code: the body could
/// echo a secret.
pub(crate) fn refusal(response: &UpstreamResponse, problem: &'static str) -> TokenEndpointError {
    let error = serde_json::from_slice::<ErrorResponse>(&response.body)
        .ok()
        .and_then(|e| e.error)
        .filter(|e| is_error_code(e));
    TokenEndpointError {
        status: Some(response.status.as_u16()),
        error,
        problem,
    }
}

fn sendable(token: &SecretString) -> bool {
    let t = token.expose_secret();
    !t.is_empty() && t.len() <= MAX_TOKEN_BYTES && http::HeaderValue::from_str(t).is_ok()
}

/// RFC 6749 §5.2: `error` is 1*( %x20-21 / %x23-5B / %x5D-7E ); the vault also keeps it
/// short and to the characters real codes use, as it is shown to API callers.
pub(crate) fn is_error_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> UpstreamResponse {
        UpstreamResponse {
            status: http::StatusCode::from_u16(status).expect("status"),
            headers: http::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn token_responses_are_read_strictly() {
        let issued = read_token_response(&response(
            200,
            r#"{"access_token":"abc","token_type":"Bearer","expires_in":3600,"refresh_token":"r1"}"#,
        ))
        .expect("token");
        assert_eq!(
            (issued.access_token.expose_secret(), issued.lifetime),
            ("abc", Duration::hours(1))
        );
        assert_eq!(
            issued
                .refresh_token
                .as_ref()
                .map(ExposeSecret::expose_secret),
            Some("r1")
        );
        let issued = read_token_response(&response(
            200,
            r#"{"access_token":"abc","expires_in":"60"}"#,
        ))
        .expect("token");
        assert_eq!(issued.lifetime, Duration::minutes(1));
        assert!(issued.refresh_token.is_none());
        let issued =
            read_token_response(&response(200, r#"{"access_token":"abc"}"#)).expect("token");
        assert_eq!(issued.lifetime, DEFAULT_TOKEN_LIFETIME);

        for bad in [
            r#"{"token_type":"bearer"}"#,
            r#"{"access_token":"abc","token_type":"DPoP"}"#,
            r#"{"access_token":"a\nb"}"#,
            r#"{"access_token":"abc","refresh_token":""}"#,
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
