//! JWT credentials: a token of every algorithm verifies with the public key, and keys that
//! cannot sign are refused when stored, not when used.

use super::*;

fn key_file(name: &str) -> String {
    let path = format!(
        "{}/../vault-jwt/tests/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwts_of_every_algorithm_verify_with_the_public_key() {
    use jsonwebtoken::{Algorithm, DecodingKey};
    let upstream = start_upstream().await;
    let mut vault = Vault::start(true);
    let hmac = format!("{}-{}", vault.secret("hmac"), "x".repeat(40));
    vault.canaries.push(hmac.clone());
    let rsa = || {
        (
            key_file("rsa2048.pkcs8.pem"),
            DecodingKey::from_rsa_pem(key_file("rsa2048.pub.pem").as_bytes()).expect("rsa public"),
        )
    };
    let cases: Vec<(&str, Algorithm, String, DecodingKey)> = vec![
        (
            "HS256",
            Algorithm::HS256,
            hmac.clone(),
            DecodingKey::from_secret(hmac.as_bytes()),
        ),
        (
            "HS384",
            Algorithm::HS384,
            hmac.clone(),
            DecodingKey::from_secret(hmac.as_bytes()),
        ),
        (
            "HS512",
            Algorithm::HS512,
            format!("{hmac}{}", "y".repeat(20)),
            DecodingKey::from_secret(format!("{hmac}{}", "y".repeat(20)).as_bytes()),
        ),
        ("RS256", Algorithm::RS256, rsa().0, rsa().1),
        ("RS384", Algorithm::RS384, rsa().0, rsa().1),
        ("RS512", Algorithm::RS512, rsa().0, rsa().1),
        ("PS256", Algorithm::PS256, rsa().0, rsa().1),
        ("PS384", Algorithm::PS384, rsa().0, rsa().1),
        ("PS512", Algorithm::PS512, rsa().0, rsa().1),
        (
            "ES256",
            Algorithm::ES256,
            key_file("ec-p256.pkcs8.pem"),
            DecodingKey::from_ec_pem(key_file("ec-p256.pub.pem").as_bytes()).expect("p256 public"),
        ),
        (
            "ES384",
            Algorithm::ES384,
            key_file("ec-p384.pkcs8.pem"),
            DecodingKey::from_ec_pem(key_file("ec-p384.pub.pem").as_bytes()).expect("p384 public"),
        ),
        (
            "EdDSA",
            Algorithm::EdDSA,
            key_file("ed25519.pkcs8.pem"),
            DecodingKey::from_ed_pem(key_file("ed25519.pub.pem").as_bytes())
                .expect("ed25519 public"),
        ),
    ];
    // Key bodies are secrets too: no line of them may come back or be logged.
    let key_lines: Vec<String> = cases
        .iter()
        .filter(|(_, alg, ..)| {
            !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
        })
        .flat_map(|(_, _, key, _)| {
            key.lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    vault.canaries.extend(key_lines);
    for (name, algorithm, key, decoding) in &cases {
        let key_field = if name.starts_with("HS") {
            "secret"
        } else {
            "privateKey"
        };
        let id = vault
            .create(&json!({"name": name, "type": "jwt", "algorithm": name, key_field: key,
                            "claims": {"iss": "vault-test", "sub": "svc-a", "aud": "upstream", "tenant": "t1"},
                            "ttlSeconds": 600, "keyId": format!("{name}-key"),
                            "allowedHosts": [upstream.origin()]}))
            .await;
        let call = json!({"method": "GET", "url": upstream.url("/record/jwt")});
        let mut tokens = Vec::new();
        for _ in 0..2 {
            let status = vault.proxy(&id, &call).await.status;
            assert_eq!(status, StatusCode::OK, "{name}");
            let auth = upstream.last().header("authorization")[0].to_owned();
            tokens.push(auth.strip_prefix("Bearer ").expect("bearer").to_owned());
        }
        assert_eq!(tokens[0], tokens[1], "{name}: the signed token is cached");
        let mut validation = jsonwebtoken::Validation::new(*algorithm);
        validation.set_audience(&["upstream"]);
        validation.set_issuer(&["vault-test"]);
        let data =
            jsonwebtoken::decode::<Value>(&tokens[0], decoding, &validation).unwrap_or_else(|e| {
                panic!("{name}: the token does not verify with the public key: {e}")
            });
        assert_eq!(data.header.alg, *algorithm);
        assert_eq!(
            data.header.kid,
            Some(format!("{name}-key")),
            "the key is named"
        );
        let claims = data.claims;
        assert_eq!(
            (claims["sub"].as_str(), claims["tenant"].as_str()),
            (Some("svc-a"), Some("t1")),
            "{name}"
        );
        assert_eq!(
            claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
            600
        );
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));

        // A new claims template drops the cached token.
        let status = vault
            .patch(
                &id,
                &json!({"claims": {"iss": "vault-test", "sub": "svc-b", "aud": "upstream"}}),
            )
            .await
            .status;
        assert_eq!(status, StatusCode::OK);
        vault.proxy(&id, &call).await;
        let fresh = upstream.last().header("authorization")[0]
            .strip_prefix("Bearer ")
            .expect("bearer")
            .to_owned();
        assert_ne!(fresh, tokens[0]);
        let data = jsonwebtoken::decode::<Value>(&fresh, decoding, &validation).expect("verifies");
        assert_eq!(data.claims["sub"], "svc-b");
    }
    vault.stop_and_check_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_jwt_keys_are_refused_when_stored_not_when_used() {
    let vault = Vault::start(true);
    let ec256 = key_file("ec-p256.pkcs8.pem");
    let refusals = [
        (
            json!({"algorithm": "RS256", "privateKey": ec256}),
            "privateKey",
        ),
        (
            json!({"algorithm": "ES384", "privateKey": ec256}),
            "privateKey",
        ),
        (
            json!({"algorithm": "EdDSA", "privateKey": key_file("rsa2048.pkcs8.pem")}),
            "privateKey",
        ),
        (
            json!({"algorithm": "RS256", "privateKey": key_file("rsa1024.pkcs8.pem")}),
            "privateKey",
        ),
        (
            json!({"algorithm": "RS256", "privateKey": key_file("rsa2048.pub.pem")}),
            "privateKey",
        ),
        (
            json!({"algorithm": "ES256", "privateKey": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}),
            "privateKey",
        ),
        (
            json!({"algorithm": "HS256", "secret": "too-short"}),
            "secret",
        ),
    ];
    for (fields, field) in refusals {
        let mut body = json!({"name": "k", "type": "jwt"});
        body.as_object_mut()
            .expect("object")
            .extend(fields.as_object().expect("object").clone());
        let response = vault.call(Method::POST, "/credentials", Some(&body)).await;
        let (status, problem) = (response.status, response.json());
        assert_eq!(
            (status, problem["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{problem}"
        );
    }
    assert_eq!(
        vault.get_json("/credentials").await["items"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    // An algorithm change must still fit the stored key, or bring a new one.
    let id = vault
        .create(&json!({"name": "rsa", "type": "jwt", "algorithm": "RS256", "privateKey": key_file("rsa2048.pkcs1.pem")}))
        .await;
    let patched = vault.patch(&id, &json!({"algorithm": "ES256"})).await;
    let (status, problem) = (patched.status, patched.json());
    assert_eq!(
        (status, problem["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("privateKey"))
    );
    let patched = vault.patch(&id, &json!({"algorithm": "PS384"})).await;
    let (status, updated) = (patched.status, patched.json());
    assert_eq!(
        (status, updated["revision"].as_i64()),
        (StatusCode::OK, Some(2))
    );
    let patched = vault
        .patch(&id, &json!({"algorithm": "ES256", "privateKey": ec256}))
        .await;
    let (status, updated) = (patched.status, patched.json());
    assert_eq!(
        (status, updated["algorithm"].as_str()),
        (StatusCode::OK, Some("ES256"))
    );
}
