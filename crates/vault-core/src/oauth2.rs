//! OAuth2 on the wire: the token requests of the client-credentials grant (RFC 6749 §4.4),
//! the authorization-code grant with PKCE (§4.1, RFC 7636) and refresh (§6), the
//! authorization request a user's browser is sent with, and token revocation (RFC 7009).
//! The vault sends them through its [`Upstream`](crate::upstream::Upstream) port.

mod response;

pub use response::{IssuedTokens, read_token_response};
pub(crate) use response::{is_error_code, refusal as response_refusal};

use std::fmt;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use time::Duration;
use url::form_urlencoded;

use crate::credential::{OAuth2ClientAuth, OAuth2Config};
use crate::upstream::{OutgoingRequest, RequestPurpose};

/// Lifetime assumed when a token endpoint gives no `expires_in` (RFC 6749 makes it
/// optional). Short, so an unannounced expiry costs little.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::minutes(5);

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
    pub(crate) fn answered(status: u16, problem: &'static str) -> Self {
        Self {
            status: Some(status),
            error: None,
            problem,
        }
    }
}

/// What a token request asks for.
#[derive(Clone, Copy)]
pub enum TokenGrant<'a> {
    /// A token for the client itself.
    ClientCredentials,
    /// The exchange of an authorization code, with its PKCE verifier and the redirect URI
    /// the authorization request named.
    AuthorizationCode {
        /// The code from the callback.
        code: &'a str,
        /// The PKCE code verifier.
        verifier: &'a SecretString,
        /// The redirect URI, exactly as sent in the authorization request.
        redirect_uri: &'a str,
    },
    /// A fresh access token for a refresh token.
    Refresh(&'a SecretString),
    /// RFC 7523 §2.1: a token for a JWT the vault signed.
    JwtBearer(&'a SecretString),
}

/// How the client proves itself at its endpoints. `Debug` shows the kind only.
pub enum ClientProof {
    /// The client secret (`client_secret_basic` or `client_secret_post`, by the credential).
    Secret(SecretString),
    /// A client assertion signed for this request (`private_key_jwt`).
    Assertion(SecretString),
    /// None: a public client, or a grant whose assertion authenticates.
    None,
}

impl fmt::Debug for ClientProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Secret(_) => "Secret(..)",
            Self::Assertion(_) => "Assertion(..)",
            Self::None => "None",
        })
    }
}

/// RFC 7523 §2.2's `client_assertion_type`.
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// RFC 7523 §2.1's `grant_type`.
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

impl fmt::Debug for TokenGrant<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The code, verifier and refresh token are all secrets.
        f.write_str(match self {
            Self::ClientCredentials => "ClientCredentials",
            Self::AuthorizationCode { .. } => "AuthorizationCode(..)",
            Self::Refresh(_) => "Refresh(..)",
            Self::JwtBearer(_) => "JwtBearer(..)",
        })
    }
}

/// Builds a token request. The client secret goes in the `Authorization` header
/// (`client_secret_basic`, marked sensitive) or in the form body (`client_secret_post`); a
/// public client sends its id only.
///
/// # Errors
/// When the stored token URL does not parse (it was validated when stored).
pub fn token_request(
    config: &OAuth2Config,
    proof: &ClientProof,
    grant: TokenGrant<'_>,
) -> Result<OutgoingRequest, url::ParseError> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    match grant {
        TokenGrant::ClientCredentials => {
            form.append_pair("grant_type", "client_credentials");
            if !config.scopes.is_empty() {
                form.append_pair("scope", &config.scopes.join(" "));
            }
            if let Some(audience) = &config.audience {
                form.append_pair("audience", audience);
            }
        }
        TokenGrant::AuthorizationCode {
            code,
            verifier,
            redirect_uri,
        } => {
            form.append_pair("grant_type", "authorization_code");
            form.append_pair("code", code);
            form.append_pair("redirect_uri", redirect_uri);
            form.append_pair("code_verifier", verifier.expose_secret());
        }
        TokenGrant::Refresh(refresh_token) => {
            form.append_pair("grant_type", "refresh_token");
            form.append_pair("refresh_token", refresh_token.expose_secret());
        }
        TokenGrant::JwtBearer(assertion) => {
            form.append_pair("grant_type", JWT_BEARER_GRANT);
            form.append_pair("assertion", assertion.expose_secret());
            if !config.scopes.is_empty() {
                form.append_pair("scope", &config.scopes.join(" "));
            }
        }
    }
    client_request(
        config,
        &config.token_url,
        proof,
        form,
        RequestPurpose::TokenFetch,
    )
}

/// Builds an RFC 7009 revocation request for `token` (a refresh token: revoking it ends
/// the whole grant at most providers), authenticated as token requests are.
///
/// # Errors
/// When the credential has no revocation endpoint, or it does not parse.
pub fn revocation_request(
    config: &OAuth2Config,
    proof: &ClientProof,
    token: &SecretString,
) -> Result<OutgoingRequest, url::ParseError> {
    let url = config
        .revocation_url
        .as_deref()
        .ok_or(url::ParseError::EmptyHost)?;
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token.expose_secret());
    form.append_pair("token_type_hint", "refresh_token");
    client_request(config, url, proof, form, RequestPurpose::Revocation)
}

/// The authorization request a user's browser is sent with (RFC 6749 §4.1.1, RFC 7636
/// §4.3): the endpoint's own query kept, then the vault's parameters, then the
/// credential's extra ones.
///
/// # Errors
/// When the credential has no authorization endpoint, or it does not parse.
pub fn authorization_url(
    config: &OAuth2Config,
    redirect_uri: &str,
    state: &str,
    code_challenge: &str,
) -> Result<url::Url, url::ParseError> {
    let mut url = url::Url::parse(
        config
            .authorization_url
            .as_deref()
            .ok_or(url::ParseError::EmptyHost)?,
    )?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("response_type", "code");
        query.append_pair("client_id", &config.client_id);
        query.append_pair("redirect_uri", redirect_uri);
        if !config.scopes.is_empty() {
            query.append_pair("scope", &config.scopes.join(" "));
        }
        query.append_pair("state", state);
        query.append_pair("code_challenge", code_challenge);
        query.append_pair("code_challenge_method", "S256");
        if let Some(audience) = &config.audience
            && !config.authorization_params.contains_key("audience")
        {
            query.append_pair("audience", audience);
        }
        for (name, value) in &config.authorization_params {
            query.append_pair(name, value);
        }
    }
    Ok(url)
}

/// A form POST to one of the client's endpoints, with the client's authentication.
fn client_request(
    config: &OAuth2Config,
    endpoint: &str,
    proof: &ClientProof,
    mut form: form_urlencoded::Serializer<'_, String>,
    purpose: RequestPurpose,
) -> Result<OutgoingRequest, url::ParseError> {
    let url = url::Url::parse(endpoint)?;
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    headers.insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("application/json"),
    );
    match (config.client_auth, proof) {
        (OAuth2ClientAuth::Basic, ClientProof::Secret(client_secret)) => {
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
        (OAuth2ClientAuth::Body, ClientProof::Secret(client_secret)) => {
            form.append_pair("client_id", &config.client_id);
            form.append_pair("client_secret", client_secret.expose_secret());
        }
        (OAuth2ClientAuth::PrivateKeyJwt, ClientProof::Assertion(assertion)) => {
            form.append_pair("client_id", &config.client_id);
            form.append_pair("client_assertion_type", CLIENT_ASSERTION_TYPE);
            form.append_pair("client_assertion", assertion.expose_secret());
        }
        // A public client (RFC 6749 §3.2.1): it identifies itself, and PKCE does the rest.
        _ => {
            form.append_pair("client_id", &config.client_id);
        }
    }
    Ok(OutgoingRequest {
        method: http::Method::POST,
        url,
        headers,
        body: form.finish().into_bytes(),
        purpose,
        tls: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(client_auth: OAuth2ClientAuth) -> OAuth2Config {
        OAuth2Config {
            grant: crate::credential::OAuth2Grant::ClientCredentials,
            client_id: "client:1".to_owned(),
            token_url: "https://auth.example.com/oauth/token".to_owned(),
            authorization_url: Some("https://auth.example.com/authorize?tenant=t1".to_owned()),
            revocation_url: Some("https://auth.example.com/revoke".to_owned()),
            scopes: vec!["read".to_owned(), "write".to_owned()],
            client_auth,
            audience: Some("https://api.example.com".to_owned()),
            authorization_params: [("access_type".to_owned(), "offline".to_owned())].into(),
            assertion_algorithm: None,
            assertion_key_id: None,
            assertion_subject: None,
        }
    }

    /// The value of form parameter `name`.
    fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn form(request: &OutgoingRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(&request.body).into_owned().collect()
    }

    #[test]
    fn the_code_exchange_carries_the_verifier_and_the_redirect() {
        let verifier = SecretString::from("v".repeat(43));
        let grant = TokenGrant::AuthorizationCode {
            code: "c0de",
            verifier: &verifier,
            redirect_uri: "https://vault.example/oauth/callback",
        };
        let request = token_request(&config(OAuth2ClientAuth::None), &ClientProof::None, grant)
            .expect("request");
        assert!(request.headers.get("authorization").is_none());
        let expected: Vec<(String, String)> = [
            ("grant_type", "authorization_code"),
            ("code", "c0de"),
            ("redirect_uri", "https://vault.example/oauth/callback"),
            ("code_verifier", verifier.expose_secret()),
            ("client_id", "client:1"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(form(&request), expected);
        assert!(!format!("{request:?}").contains(verifier.expose_secret()));
    }

    #[test]
    fn refresh_and_revocation_send_the_refresh_token_with_the_client_authentication() {
        let secret = SecretString::from("s3cret");
        let refresh = SecretString::from("r-token");
        let config = config(OAuth2ClientAuth::Body);
        let request = token_request(
            &config,
            &ClientProof::Secret(secret.clone()),
            TokenGrant::Refresh(&refresh),
        )
        .expect("request");
        let fields = form(&request);
        assert_eq!(
            fields[0],
            ("grant_type".to_owned(), "refresh_token".to_owned())
        );
        assert_eq!(
            fields[1],
            ("refresh_token".to_owned(), "r-token".to_owned())
        );
        assert!(fields.contains(&("client_secret".to_owned(), "s3cret".to_owned())));
        let revoke = revocation_request(&config, &ClientProof::Secret(secret.clone()), &refresh)
            .expect("request");
        assert_eq!(revoke.purpose, RequestPurpose::Revocation);
        assert_eq!(revoke.url.as_str(), "https://auth.example.com/revoke");
        assert_eq!(form(&revoke)[0], ("token".to_owned(), "r-token".to_owned()));
    }

    #[test]
    fn the_authorization_url_keeps_its_query_and_adds_pkce_state_and_extras() {
        let url = authorization_url(
            &config(OAuth2ClientAuth::Basic),
            "https://vault.example/oauth/callback",
            "st&te",
            "chal",
        )
        .expect("url");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("tenant"), Some("t1"));
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("state"), Some("st&te"));
        assert_eq!(get("code_challenge"), Some("chal"));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("scope"), Some("read write"));
        assert_eq!(get("access_type"), Some("offline"));
        assert_eq!(get("audience"), Some("https://api.example.com"));
    }

    #[test]
    fn basic_auth_puts_the_secret_in_a_sensitive_header() {
        let secret = SecretString::from("s3cret/+=");
        let request = token_request(
            &config(OAuth2ClientAuth::Basic),
            &ClientProof::Secret(secret.clone()),
            TokenGrant::ClientCredentials,
        )
        .expect("request");
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
    fn assertions_go_in_the_form_as_rfc_7523_says() {
        let assertion = SecretString::from("eyJ.signed.jwt");
        let request = token_request(
            &config(OAuth2ClientAuth::PrivateKeyJwt),
            &ClientProof::Assertion(assertion.clone()),
            TokenGrant::ClientCredentials,
        )
        .expect("request");
        assert!(request.headers.get("authorization").is_none());
        let pairs = form(&request);
        let get = |name: &str| param(&pairs, name);
        assert_eq!(get("client_id"), Some("client:1"));
        assert_eq!(get("client_assertion_type"), Some(CLIENT_ASSERTION_TYPE));
        assert_eq!(get("client_assertion"), Some("eyJ.signed.jwt"));
        assert_eq!(get("client_secret"), None);

        let request = token_request(
            &config(OAuth2ClientAuth::None),
            &ClientProof::None,
            TokenGrant::JwtBearer(&assertion),
        )
        .expect("request");
        let pairs = form(&request);
        let get = |name: &str| param(&pairs, name);
        assert_eq!(get("grant_type"), Some(JWT_BEARER_GRANT));
        assert_eq!(get("assertion"), Some("eyJ.signed.jwt"));
        assert_eq!(get("scope"), Some("read write"));
        assert_eq!(
            format!("{:?}", TokenGrant::JwtBearer(&assertion)),
            "JwtBearer(..)"
        );
    }

    #[test]
    fn body_auth_puts_id_and_secret_in_the_form() {
        let secret = SecretString::from("s3cret");
        let request = token_request(
            &config(OAuth2ClientAuth::Body),
            &ClientProof::Secret(secret.clone()),
            TokenGrant::ClientCredentials,
        )
        .expect("request");
        assert!(request.headers.get("authorization").is_none());
        let body = String::from_utf8(request.body).expect("utf-8");
        assert!(
            body.ends_with("&client_id=client%3A1&client_secret=s3cret"),
            "{body}"
        );
        assert!(
            !format!(
                "{:?}",
                token_request(
                    &config(OAuth2ClientAuth::Body),
                    &ClientProof::Secret(secret.clone()),
                    TokenGrant::ClientCredentials
                )
            )
            .contains("s3cret")
        );
    }
}
