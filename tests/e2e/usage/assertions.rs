//! OAuth2 with signed assertions (RFC 7523) through the binary: `private_key_jwt` client
//! authentication and the `jwt_bearer` grant, against a token endpoint on 127.0.0.1 that
//! verifies every assertion with PyPI's PyJWT (`helpers/assertion_token_endpoint.py`): the
//! signature with the public key, the algorithm pinned, `iss`, `sub`, `aud`, the lifetime,
//! and `jti` never seen before.

use super::*;
use crate::helpers::assertions::AssertionEndpoint;

fn key_file(name: &str) -> String {
    let path = format!(
        "{}/../vault-jwt/tests/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_assertions_verify_with_pyjwt_and_are_never_replayed() {
    let client_id = "client-8f2c";
    // Tokens live a second: each use after the first fetches anew, with a new assertion.
    let Some(endpoint) =
        AssertionEndpoint::start(&key_file("rsa2048.pub.pem"), "RS256", client_id, 1)
    else {
        return;
    };
    let upstream = start_upstream().await;
    let mut vault = Vault::start(true);
    let key = key_file("rsa2048.pkcs8.pem");
    vault.canaries.extend(key_lines(&key));
    let id = vault
        .create(
            &json!({"name": "fapi", "type": "oauth2", "clientId": client_id,
                        "clientAuth": "private_key_jwt", "privateKey": key,
                        "assertionKeyId": "fapi-2026",
                        "tokenUrl": endpoint.token_url(), "scopes": ["payments"],
                        "allowedHosts": [endpoint.origin(), upstream.origin()]}),
        )
        .await;
    let shown = vault.get_json(&format!("/credentials/{id}")).await;
    assert_eq!(shown["assertionAlgorithm"], "RS256", "the default: {shown}");
    let call = json!({"method": "GET", "url": upstream.url("/v1/accounts")});
    for _ in 0..3 {
        let reply = vault.proxy(&id, &call).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let received = endpoint.received().await;
    assert!(
        received.len() >= 3,
        "a token request per use: {received:#?}"
    );
    let mut jtis = std::collections::BTreeSet::new();
    for record in &received {
        assert_eq!(record["kind"], "client_assertion", "{record}");
        assert_eq!(record["ok"], true, "PyJWT accepted it: {record}");
        assert_eq!(record["header"]["alg"], "RS256", "{record}");
        assert_eq!(record["header"]["kid"], "fapi-2026", "{record}");
        assert_eq!(record["claims"]["iss"], client_id, "{record}");
        assert_eq!(record["claims"]["sub"], client_id, "{record}");
        assert_eq!(
            record["claims"]["aud"],
            endpoint.token_url().as_str(),
            "{record}"
        );
        assert_eq!(
            record["form"]["grant_type"], "client_credentials",
            "{record}"
        );
        assert!(
            jtis.insert(record["claims"]["jti"].to_string()),
            "a fresh jti: {record}"
        );
    }
    // The token the endpoint issued is the one the upstream saw.
    let issued = received.last().expect("one")["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_eq!(
        upstream.last().header("authorization"),
        [format!("Bearer {issued}").as_str()]
    );

    // Another key under the same client: the endpoint refuses its assertion, and the use
    // fails without reaching the upstream.
    let other = key_file("rsa4096.pkcs8.pem");
    vault.canaries.extend(key_lines(&other));
    let sent = upstream.requests().len();
    let wrong = vault
        .create(
            &json!({"name": "wrong key", "type": "oauth2", "clientId": client_id,
                        "clientAuth": "private_key_jwt", "privateKey": other,
                        "tokenUrl": endpoint.token_url(),
                        "allowedHosts": [endpoint.origin(), upstream.origin()]}),
        )
        .await;
    let reply = vault.proxy(&wrong, &call).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
    assert_eq!(upstream.requests().len(), sent, "nothing sent upstream");
    let refused = endpoint.received().await;
    let last = refused.last().expect("the refused one");
    assert_eq!(last["ok"], false, "{last}");
    assert!(
        last["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("signature")),
        "{last}"
    );

    // A key that cannot sign with the algorithm is refused when stored.
    let refused = vault
        .call(
            Method::POST,
            "/credentials",
            Some(&json!({
            "name": "ec for rs", "type": "oauth2", "clientId": client_id,
            "clientAuth": "private_key_jwt", "privateKey": key_file("ec-p256.pkcs8.pem"),
            "tokenUrl": endpoint.token_url(), "allowedHosts": [endpoint.origin()]})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["field"], "privateKey", "{}", refused.body);
    vault.stop_and_check_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwt_bearer_grant_asks_as_a_google_service_account_does() {
    let client_id = "vault@project-7.iam.gserviceaccount.com";
    let Some(endpoint) =
        AssertionEndpoint::start(&key_file("ec-p256.pub.pem"), "ES256", client_id, 3600)
    else {
        return;
    };
    let upstream = start_upstream().await;
    let mut vault = Vault::start(true);
    let key = key_file("ec-p256.pkcs8.pem");
    vault.canaries.extend(key_lines(&key));
    let id = vault
        .create(
            &json!({"name": "google sa", "type": "oauth2", "grant": "jwt_bearer",
                        "clientId": client_id, "privateKey": key,
                        "assertionAlgorithm": "ES256", "assertionSubject": "admin@example.com",
                        "scopes": ["https://www.googleapis.com/auth/drive.readonly", "openid"],
                        "tokenUrl": endpoint.token_url(),
                        "allowedHosts": [endpoint.origin(), upstream.origin()]}),
        )
        .await;
    let shown = vault.get_json(&format!("/credentials/{id}")).await;
    assert_eq!(
        shown["clientAuth"], "private_key_jwt",
        "the key proves the client: {shown}"
    );
    let call = json!({"method": "GET", "url": upstream.url("/drive/v3/files")});
    // Concurrent first uses share one token request (single flight), then the cache.
    let uses = (0..8).map(|_| vault.proxy(&id, &call));
    for reply in futures::future::join_all(uses).await {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let received = endpoint.received().await;
    assert_eq!(
        received.len(),
        1,
        "one token request for 8 uses: {received:#?}"
    );
    let record = &received[0];
    assert_eq!(record["kind"], "jwt_bearer", "{record}");
    assert_eq!(record["ok"], true, "PyJWT accepted it: {record}");
    assert_eq!(record["claims"]["iss"], client_id, "{record}");
    assert_eq!(record["claims"]["sub"], "admin@example.com", "{record}");
    assert_eq!(
        record["claims"]["scope"], "https://www.googleapis.com/auth/drive.readonly openid",
        "{record}"
    );
    assert_eq!(
        record["claims"]["aud"],
        endpoint.token_url().as_str(),
        "{record}"
    );
    let issued = record["access_token"].as_str().expect("a token");
    assert_eq!(
        upstream.last().header("authorization"),
        [format!("Bearer {issued}").as_str()]
    );

    // The grant's own rules, at create.
    for (extra, field) in [
        (
            json!({"clientAuth": "basic", "clientSecret": "s"}),
            "clientAuth",
        ),
        (json!({"assertionAlgorithm": "HS256"}), "assertionAlgorithm"),
    ] {
        let mut body = json!({"name": "bad", "type": "oauth2", "grant": "jwt_bearer",
                              "clientId": client_id, "privateKey": key_file("ec-p256.pkcs8.pem"),
                              "tokenUrl": endpoint.token_url(), "allowedHosts": [endpoint.origin()]});
        body.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        let reply = vault.call(Method::POST, "/credentials", Some(&body)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            reply.body
        );
        let named = reply.json()["errors"]
            .as_array()
            .is_some_and(|errors| errors.iter().any(|e| e["field"] == field));
        assert!(named, "{field}: {}", reply.body);
    }
    vault.stop_and_check_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_authenticates_the_code_exchange_the_refresh_and_the_revocation() {
    let client_id = "crm-app";
    // Tokens live a second: the use after the first refreshes.
    let Some(endpoint) =
        AssertionEndpoint::start(&key_file("rsa2048.pub.pem"), "RS256", client_id, 1)
    else {
        return;
    };
    let mut vault = Vault::start(true);
    let key = key_file("rsa2048.pkcs8.pem");
    vault.canaries.extend(key_lines(&key));
    let origin = endpoint.origin();
    let id = vault
        .create(
            &json!({"name": "crm", "type": "oauth2", "grant": "authorization_code",
                        "clientId": client_id, "clientAuth": "private_key_jwt",
                        "privateKey": key, "authorizationUrl": format!("{origin}/authorize"),
                        "tokenUrl": endpoint.token_url(),
                        "revocationUrl": format!("{origin}/revoke"), "scopes": ["read"],
                        "allowedHosts": [origin]}),
        )
        .await;

    // A user connects it: the provider approves at once and sends the browser back.
    let started = vault
        .call(Method::POST, &format!("/credentials/{id}/connect"), None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let browser = crate::helpers::client_with_timeout(Duration::from_secs(20));
    let authorize = started.json()["authorizationUrl"]
        .as_str()
        .expect("a URL")
        .to_owned();
    let approved = crate::helpers::Reply::send(browser.get(&authorize)).await;
    assert_eq!(approved.status, StatusCode::FOUND, "{}", approved.body);
    let landed = crate::helpers::Reply::send(browser.get(approved.header("location"))).await;
    assert!(landed.body.contains("Connected"), "{}", landed.body);

    let call = json!({"method": "GET", "url": format!("{origin}/resource")});
    for _ in 0..2 {
        let used = vault.proxy(&id, &call).await;
        assert_eq!(used.status, StatusCode::OK, "{}", used.body);
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let deleted = vault
        .call(Method::DELETE, &format!("/credentials/{id}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);

    // Each request to the provider carried its own assertion, which PyJWT accepted.
    let mut received = endpoint.received().await;
    for _ in 0..50 {
        if received.iter().any(|r| r["kind"] == "revocation") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        received = endpoint.received().await;
    }
    let grants: Vec<&str> = received
        .iter()
        .map(|r| r["form"]["grant_type"].as_str().unwrap_or("revocation"))
        .collect();
    for expected in ["authorization_code", "refresh_token", "revocation"] {
        assert!(grants.contains(&expected), "{expected}: {received:#?}");
    }
    let mut jtis = std::collections::BTreeSet::new();
    for record in &received {
        assert_eq!(record["ok"], true, "PyJWT accepted it: {record}");
        assert_eq!(record["claims"]["sub"], client_id, "{record}");
        assert_eq!(
            record["form"]["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "{record}"
        );
        assert!(
            jtis.insert(record["claims"]["jti"].to_string()),
            "a fresh jti: {record}"
        );
    }
    vault.stop_and_check_logs(&[]);
}
