//! The OAuth2 token servers that the OAuth2 tests run against ([`crate::helpers::oauth_servers`]),
//! checked with plain HTTP calls before anything relies on them:
//!
//! - the strict rotating server: authorization code with PKCE, rotation on every refresh,
//!   reuse detection revoking the token family, the grace period, access-token expiry,
//!   client authentication (basic, post, none), RFC 7009 revocation, and its counters;
//! - npm's oauth2-mock-server: discovery, client credentials, and the authorization code
//!   with PKCE and a refresh, its tokens verified against its published keys;
//! - the vault's existing `oauth2` client-credentials credential, through the real server's
//!   proxy, with its token from oauth2-mock-server.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::oauth_servers::{
    ClientAuth, Counters, MockOAuthServer, OAuthClient, RotatingConfig, RotatingTokenServer,
    TokenKind, pkce_challenge, pkce_verifier, sha256,
};
use crate::helpers::upstream::start_upstream;
use crate::helpers::{Id as _, Reply, TestServer, canary, client_with_timeout};

// ---------------------------------------------------------------------------------------
// A plain OAuth2 client for the checks
// ---------------------------------------------------------------------------------------

/// Where the servers send the user back. Nothing listens there: redirects are read, not
/// followed.
const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn http() -> Client {
    client_with_timeout(Duration::from_secs(20))
}

/// How a request authenticates the client.
#[derive(Clone, Copy, Debug)]
enum As<'a> {
    /// `client_secret_basic`, id and secret form-encoded first (RFC 6749 §2.3.1).
    Basic(&'a str, &'a str),
    /// `client_secret_post`.
    Post(&'a str, &'a str),
    /// A public client: only its id.
    Public(&'a str),
}

fn form_encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// POSTs `params`, form-encoded, to `url` as `who`.
async fn post_form(http: &Client, url: &str, who: As<'_>, params: &[(&str, &str)]) -> Reply {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    let mut request = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded");
    match who {
        As::Basic(id, secret) => {
            let pair = format!("{}:{}", form_encoded(id), form_encoded(secret));
            request = request.header("authorization", format!("Basic {}", STANDARD.encode(pair)));
        }
        As::Post(id, secret) => {
            form.append_pair("client_id", id);
            form.append_pair("client_secret", secret);
        }
        As::Public(id) => {
            form.append_pair("client_id", id);
        }
    }
    form.extend_pairs(params);
    Reply::send(request.body(form.finish())).await
}

/// GETs `endpoint` with `query`, which must answer 302 to [`REDIRECT`]; returns the
/// redirect's query.
async fn redirected(
    http: &Client,
    endpoint: &str,
    query: &[(&str, &str)],
) -> HashMap<String, String> {
    let mut url = url::Url::parse(endpoint).expect("an endpoint URL");
    url.query_pairs_mut().extend_pairs(query);
    let reply = Reply::send(http.get(url.as_str())).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{query:?}: {}", reply.body);
    let location = url::Url::parse(reply.header("location")).expect("an absolute location");
    assert_eq!(
        format!(
            "{}{}",
            location.origin().ascii_serialization(),
            location.path()
        ),
        REDIRECT
    );
    location.query_pairs().into_owned().collect()
}

/// The authorization request of a client using PKCE S256 and `state`.
fn authorization_query<'a>(
    client_id: &'a str,
    scope: &'a str,
    state: &'a str,
    challenge: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// Authorizes `client_id` at `endpoint` (the user consents at once): the code and the
/// verifier of its challenge. The state comes back unchanged.
async fn authorize(
    http: &Client,
    endpoint: &str,
    client_id: &str,
    scope: &str,
) -> (String, String) {
    let verifier = pkce_verifier();
    let state = uuid::Uuid::new_v4().to_string();
    let challenge = pkce_challenge(&verifier);
    let back = redirected(
        http,
        endpoint,
        &authorization_query(client_id, scope, &state, &challenge),
    )
    .await;
    assert_eq!(back.get("state"), Some(&state), "{back:?}");
    let code = back
        .get("code")
        .unwrap_or_else(|| panic!("a code: {back:?}"));
    (code.clone(), verifier)
}

async fn exchange(
    http: &Client,
    token_url: &str,
    who: As<'_>,
    code: &str,
    verifier: &str,
) -> Reply {
    post_form(
        http,
        token_url,
        who,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(http: &Client, token_url: &str, who: As<'_>, refresh_token: &str) -> Reply {
    post_form(
        http,
        token_url,
        who,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// A successful token response: (access token, refresh token), checked to be one.
fn tokens(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), "no-store");
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer", "{body}");
    let field = |name: &str| {
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {body}"))
            .to_owned()
    };
    (field("access_token"), field("refresh_token"))
}

/// An OAuth2 error answer with `status` and `error`.
fn assert_oauth_error(reply: &Reply, status: StatusCode, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.json()["error"], error, "{}", reply.body);
}

/// `/resource` with `access_token`: its status.
async fn resource(http: &Client, server: &RotatingTokenServer, access_token: &str) -> StatusCode {
    let reply = Reply::send(http.get(server.resource_url()).bearer_auth(access_token)).await;
    if reply.status == StatusCode::UNAUTHORIZED {
        assert!(
            reply.header("www-authenticate").contains("invalid_token"),
            "RFC 6750 §3.1"
        );
    }
    reply.status
}

const SECRET: &str = "rotating-client-secret";

/// A rotating server with one `client_secret_basic` client, `app`.
async fn rotating(config: RotatingConfig) -> RotatingTokenServer {
    RotatingTokenServer::start(config.client(OAuthClient::confidential(
        "app",
        SECRET,
        ClientAuth::Basic,
        REDIRECT,
    )))
    .await
}

const APP: As<'static> = As::Basic("app", SECRET);

/// Authorizes `app` and exchanges the code: a new token family.
async fn new_family(http: &Client, server: &RotatingTokenServer) -> (String, String) {
    let (code, verifier) = authorize(http, &server.authorization_endpoint(), "app", "read").await;
    tokens(&exchange(http, &server.token_endpoint(), APP, &code, &verifier).await)
}

// ---------------------------------------------------------------------------------------
// PKCE
// ---------------------------------------------------------------------------------------

#[test]
fn pkce_s256_matches_rfc_7636_appendix_b() {
    // FIPS 180-2's "abc" vector, then RFC 7636's own example.
    let abc: String = sha256(b"abc").iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        abc,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let verifier = pkce_verifier();
    assert!(verifier.len() >= 43 && verifier.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_ne!(verifier, pkce_verifier());
}

mod mock;
mod rotating;
