//! npm's oauth2-mock-server, and the vault's client-credentials credential against it.

use super::*;

/// The claims of `jwt`, after checking its RS256 signature with the key the mock server
/// publishes and its issuer.
async fn verified_claims(http: &Client, mock: &MockOAuthServer, jwt: &str) -> Value {
    let keys = Reply::send(http.get(mock.jwks_uri())).await;
    let keys: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&keys.body).expect("a JWK set");
    let header = jsonwebtoken::decode_header(jwt).expect("a JWT");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let kid = header.kid.expect("a key id");
    let key = jsonwebtoken::DecodingKey::from_jwk(keys.find(&kid).expect("a published key"))
        .expect("an RSA key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[mock.issuer()]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .expect("the token verifies")
        .claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_server_publishes_discovery_and_issues_client_credentials_tokens() {
    let Some(mock) = MockOAuthServer::start() else {
        return;
    };
    let http = http();
    assert!(mock.base_url().starts_with("http://127.0.0.1:"));
    let discovery = Reply::send(http.get(mock.discovery_url())).await;
    assert_eq!(discovery.status, StatusCode::OK, "{}", mock.output());
    let discovery = discovery.json();
    assert_eq!(discovery["issuer"], mock.issuer());
    assert_eq!(discovery["token_endpoint"], mock.token_endpoint());
    assert_eq!(
        discovery["authorization_endpoint"],
        mock.authorization_endpoint()
    );
    assert_eq!(discovery["jwks_uri"], mock.jwks_uri());
    assert!(
        discovery["code_challenge_methods_supported"]
            .as_array()
            .is_some_and(|methods| methods.contains(&json!("S256"))),
        "{discovery}"
    );

    let reply = post_form(
        &http,
        &mock.token_endpoint(),
        As::Basic("m2m", "secret"),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "read write"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0));
    let jwt = body["access_token"].as_str().expect("an access token");
    let claims = verified_claims(&http, &mock, jwt).await;
    assert_eq!(claims["iss"], mock.issuer());
    assert_eq!(claims["scope"], "read write");

    // A token altered after signing does not verify.
    let (head, _) = jwt.rsplit_once('.').expect("three parts");
    let forged = format!("{head}.{}", "A".repeat(342));
    let keys = Reply::send(http.get(mock.jwks_uri())).await;
    let keys: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&keys.body).expect("a JWK set");
    let key = jsonwebtoken::DecodingKey::from_jwk(&keys.keys[0]).expect("an RSA key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    assert!(jsonwebtoken::decode::<Value>(&forged, &key, &validation).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_server_runs_the_authorization_code_flow_with_pkce_and_refresh() {
    let Some(mock) = MockOAuthServer::start() else {
        return;
    };
    let http = http();
    let token_url = mock.token_endpoint();
    let who = As::Public("web-app");

    let (code, verifier) = authorize(
        &http,
        &mock.authorization_endpoint(),
        "web-app",
        "openid read",
    )
    .await;
    let reply = exchange(&http, &token_url, who, &code, &verifier).await;
    let (at, rt) = tokens(&reply);
    // (The mock takes the token's scope from the token request, not the authorization.)
    let claims = verified_claims(&http, &mock, &at).await;
    assert_eq!(claims["sub"], "johndoe");
    let id_token = reply.json()["id_token"]
        .as_str()
        .expect("an id token")
        .to_owned();
    assert_eq!(
        verified_claims(&http, &mock, &id_token).await["aud"],
        "web-app"
    );

    // The mock checks the verifier against the challenge too.
    let (code, _) = authorize(&http, &mock.authorization_endpoint(), "web-app", "read").await;
    let wrong = exchange(&http, &token_url, who, &code, &pkce_verifier()).await;
    assert_oauth_error(&wrong, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        wrong.json()["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("code_verifier"))
    );

    // A refresh: a verifiable access token and a new refresh token. (Within the same
    // second the access token may be the same: RS256 signatures are deterministic.)
    let (fresh, next) = tokens(&refresh(&http, &token_url, who, &rt).await);
    assert_ne!(next, rt);
    assert_eq!(
        verified_claims(&http, &mock, &fresh).await["iss"],
        mock.issuer()
    );
}

// ---------------------------------------------------------------------------------------
// The vault's existing client-credentials credential against oauth2-mock-server
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vaults_oauth2_client_credentials_credential_uses_a_token_from_oauth2_mock_server() {
    let Some(mock) = MockOAuthServer::start() else {
        return;
    };
    let http = http();
    let upstream = start_upstream().await;
    let vault = TestServer::start(&[("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")]);
    let secret = canary("mock-client-secret");
    let created = vault
        .api
        .create_credential(
            &vault.token,
            &json!({"name": "mock-m2m", "type": "oauth2", "clientId": "vault-client",
                    "clientSecret": secret, "tokenUrl": mock.token_endpoint(),
                    "scopes": ["read", "write"],
                    "allowedHosts": [upstream.origin(), mock.base_url()]}),
        )
        .await;
    let id = created.id();
    let call = json!({"method": "GET", "url": upstream.url("/record/mock")});

    let mut sent = Vec::new();
    for _ in 0..2 {
        let reply = vault.api.proxy(&id, &vault.token, &call).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, "upstream-ok"),
            "{}",
            mock.output()
        );
        reply.reveals_none(&[&secret]);
        let auth = upstream.last().header("authorization").join(",");
        sent.push(auth);
    }
    let jwt = sent[0].strip_prefix("Bearer ").expect("a bearer token");
    let claims = verified_claims(&http, &mock, jwt).await;
    assert_eq!(claims["iss"], mock.issuer());
    assert_eq!(claims["scope"], "read write");
    assert_eq!(sent[0], sent[1], "the token is cached between uses");

    let (stdout, stderr) = vault.stop();
    for output in [&stdout, &stderr] {
        assert!(!output.contains(&secret), "the client secret in the output");
        assert!(!output.contains(jwt), "the access token in the output");
    }
}
