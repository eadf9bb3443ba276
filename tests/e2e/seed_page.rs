//! The product page the vault was specified from (`shared/seed/credentials-page.txt`): its
//! request bodies as written, and a body of each row of its type table with exactly the
//! fields the row names (and nothing the page does not mention, such as `allowedHosts`),
//! create and change credentials.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Id, spawn_app};

/// The page's curl bodies, verbatim, and one body per row of its type table.
fn bodies() -> Vec<Value> {
    vec![
        // "Create a credential".
        json!({ "name": "Stripe API Key", "type": "api_key", "value": "sk_live_...", "description": "Production Stripe key" }),
        json!({"name": "Twilio", "type": "api_key", "value": "tw_live_..."}),
        json!({"name": "GitHub", "type": "bearer_token", "value": "ghp_..."}),
        json!({"name": "Jenkins", "type": "basic_auth", "username": "ci", "password": "..."}),
        json!({"name": "Auth0 M2M", "type": "oauth2", "clientId": "client-123",
               "clientSecret": "s3cret...", "tokenUrl": "https://auth.example.com/oauth/token",
               "scopes": ["read:users", "write:users"]}),
        json!({"name": "Internal JWT", "type": "jwt", "secret": "a-secret-of-32-bytes-or-more....",
               "algorithm": "HS256"}),
        json!({"name": "Partner JWT", "type": "jwt", "algorithm": "RS256",
               "privateKey": std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"),
                   "/../vault-jwt/tests/keys/rsa2048.pkcs8.pem")).expect("a test key")}),
        json!({"name": "Legacy partner", "type": "custom",
               "headers": {"X-Partner-Key": "...", "X-Partner-Id": "42"}}),
        // "Configuration reference": `expiresAt`, an ISO 8601 date.
        json!({"name": "Expiring", "type": "bearer_token", "value": "tok_...",
               "expiresAt": "2031-01-31T00:00:00Z"}),
    ]
}

#[tokio::test]
async fn every_body_of_the_seed_page_creates_as_written() {
    let app = spawn_app().await;
    for body in bodies() {
        let created = app
            .api
            .call(Method::POST, "/credentials", &app.token, Some(&body))
            .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{body}: {}",
            created.body
        );
        assert_eq!(created.json()["name"], body["name"], "{}", created.body);
    }
    // "Update a credential", verbatim, on the page's Stripe key.
    let listed = app.api.get_json("/credentials?limit=100", &app.token).await;
    let stripe = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["name"] == "Stripe API Key")
        .expect("the Stripe key")
        .id();
    let patch = json!({ "value": "sk_live_new_..." });
    let updated = app
        .api
        .call(
            Method::PATCH,
            &format!("/credentials/{stripe}"),
            &app.token,
            Some(&patch),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.json()["revision"], 2, "{}", updated.body);
    // "Delete a credential".
    let deleted = app
        .api
        .call(
            Method::DELETE,
            &format!("/credentials/{stripe}"),
            &app.token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
}
