//! OAuth2 connections through the real binary: an `oauth2` credential with the
//! authorization-code grant is connected by a user (the test plays the browser), used
//! through the proxy, refreshed before its access token expires, moved to
//! `needs-reconnect` when the provider refuses the refresh token, connected again, and
//! revoked at the provider when deleted; against the strict rotating server written for
//! the tests and against npm's oauth2-mock-server. Nothing the provider issued, nor the
//! state or the code, shows in any response, log or audit event.

mod expiry;
mod failures;
mod flow;
mod webhooks;

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::oauth_servers::{ClientAuth, OAuthClient, RotatingConfig, RotatingTokenServer};
use crate::helpers::{Api, Reply, TestServer, client_with_timeout};

/// The client id and secret the rotating server knows the vault by.
const CLIENT_ID: &str = "vault-app";
const CLIENT_SECRET: &str = "client-secret-9f2c41d7a0";

fn browser() -> Client {
    client_with_timeout(Duration::from_secs(20))
}

/// A vault that may call the token servers on 127.0.0.1.
fn vault() -> TestServer {
    TestServer::start(&[("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")])
}

/// The vault's callback URL, which the provider must know.
fn callback(vault: &TestServer) -> String {
    format!("{}/oauth/callback", vault.api.base)
}

/// The strict rotating server with the vault registered as a confidential client.
async fn rotating(vault: &TestServer, config: RotatingConfig) -> RotatingTokenServer {
    RotatingTokenServer::start(config.client(OAuthClient::confidential(
        CLIENT_ID,
        CLIENT_SECRET,
        ClientAuth::Basic,
        &callback(vault),
    )))
    .await
}

/// The create body of an authorization-code credential for `server`.
fn credential_body(server: &RotatingTokenServer) -> Value {
    json!({
        "name": "crm on behalf of ada",
        "type": "oauth2",
        "grant": "authorization_code",
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        "authorizationUrl": server.authorization_endpoint(),
        "tokenUrl": server.token_endpoint(),
        "revocationUrl": server.revocation_endpoint(),
        "scopes": ["read", "write"],
        "authorizationParams": {"access_type": "offline", "prompt": "consent"},
        "allowedHosts": [server.origin()],
    })
}

/// Creates the credential of [`credential_body`]; its id.
async fn create(api: &Api, key: &str, server: &RotatingTokenServer) -> String {
    api.create_credential(key, &credential_body(server)).await["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// `POST /credentials/{id}/connect`, which must answer 200.
async fn start_connect(api: &Api, id: &str, key: &str) -> Value {
    let reply = api
        .call(
            Method::POST,
            &format!("/credentials/{id}/connect"),
            key,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), "no-store");
    reply.json()
}

/// The browser's part: opens the authorization URL, and returns where the provider sends
/// it back (the vault's callback with `code` and `state`, or `error`).
async fn approve(authorization_url: &str) -> String {
    let reply = Reply::send(browser().get(authorization_url)).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    reply.header("location").to_owned()
}

/// Follows the provider's redirect to the vault's callback page.
async fn land(callback_url: &str) -> Reply {
    let reply = Reply::send(browser().get(callback_url)).await;
    assert!(
        reply.header("content-type").starts_with("text/html"),
        "{}",
        reply.body
    );
    assert_eq!(reply.header("cache-control"), "no-store");
    reply
}

/// Connects credential `id` the whole way; the callback URL the browser was sent to.
async fn connect(api: &Api, id: &str, key: &str) -> String {
    let started = start_connect(api, id, key).await;
    let back = approve(started["authorizationUrl"].as_str().expect("a URL")).await;
    let page = land(&back).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Connected"), "{}", page.body);
    back
}

/// The credential's connection status.
async fn status(api: &Api, id: &str, key: &str) -> Value {
    api.get_json(&format!("/credentials/{id}"), key).await["connection"].clone()
}

/// One use: GET the rotating server's resource through the proxy.
async fn use_once(api: &Api, id: &str, key: &str, server: &RotatingTokenServer) -> Reply {
    api.proxy(
        id,
        key,
        &json!({"method": "GET", "url": server.resource_url()}),
    )
    .await
}

/// The audit events of `action`, oldest first.
async fn audited(api: &Api, key: &str, action: &str) -> Vec<Value> {
    let mut events = api
        .list_all(&format!("/audit-events?action={action}"), key)
        .await;
    events.reverse();
    events
}

/// Presents every refresh token the server ever issued to it directly, twice, as a thief
/// would: a token presented again after its rotation is reuse, and the server revokes the
/// whole family, the vault's tokens included.
pub(super) async fn steal_and_replay(server: &RotatingTokenServer) {
    for _ in 0..2 {
        replay_all(server).await;
    }
}

async fn replay_all(server: &RotatingTokenServer) {
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    for token in server.issued_secrets() {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", &token)
            .finish();
        Reply::send(
            browser()
                .post(server.token_endpoint())
                .header("authorization", format!("Basic {basic}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form),
        )
        .await;
    }
}
