//! Identity-provider tokens through the real `vault-server` binary, on a real SQLite file:
//! the tests play the identity provider, signing tokens with the fixture keys of
//! `tests/fixtures/idp`. HS256, RS256 (PEM file) and ES256 (JWKS file) tokens authenticate
//! beside access keys and hold only their scopes; expired, early, foreign, forged,
//! `alg: none`, algorithm-confused, unknown-kid and unknown-organization tokens get a 401
//! problem and change nothing; the logs name the subject that acted and the reasons of
//! failures; a bad configuration stops the server; the HS256 secret never reaches output.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::upstream::start_upstream;
use crate::helpers::{Id, TestServer, command, new_key};

const ISSUER: &str = "https://login.example.com/";
const AUDIENCE: &str = "vault-api";
/// The HS256 secret: a canary that must never appear in the server's output.
const SECRET: &str = "IDP-HS256-CANARY-7f3c9a1e5b2d4f6a8c0e-never-printed";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/idp")
        .join(name)
}

fn now() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(seconds).expect("a plausible time")
}

/// The identity provider, configured through the environment as an operator would.
fn idp_settings() -> [(&'static str, String); 5] {
    [
        ("VAULT_IDP_ISSUER", ISSUER.to_owned()),
        ("VAULT_IDP_AUDIENCE", AUDIENCE.to_owned()),
        ("VAULT_IDP_HS256_SECRETS", SECRET.to_owned()),
        (
            "VAULT_IDP_PUBLIC_KEY_FILES",
            fixture("rsa.pub.pem").display().to_string(),
        ),
        (
            "VAULT_IDP_JWKS_FILE",
            fixture("jwks.json").display().to_string(),
        ),
    ]
}

struct TestIdp {
    /// The server, its admin key the bootstrap's.
    app: TestServer,
    /// The organization's id.
    org: String,
}

/// A bootstrapped server with the identity provider configured, and `extra_env`.
async fn start(extra_env: &[(&str, &str)]) -> TestIdp {
    let idp = idp_settings();
    let settings: Vec<(&str, &str)> = idp
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .chain(extra_env.iter().copied())
        .collect();
    let app = TestServer::start(&settings);
    let events = app
        .api
        .get("/audit-events?action=access_key.create", &app.token)
        .await
        .json();
    let org = events["items"][0]["organizationId"]
        .as_str()
        .expect("the bootstrap key's event names the organization")
        .to_owned();
    TestIdp { app, org }
}

impl TestIdp {
    /// Claims of a valid token of this organization.
    fn claims(&self, subject: &str, scope: &str) -> Value {
        json!({
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "org": self.org,
            "scope": scope,
            "iat": now(),
            "exp": now() + 300,
        })
    }

    async fn credential_count(&self) -> usize {
        let list = self.app.api.get_json("/credentials", &self.app.token).await;
        list["items"].as_array().expect("items").len()
    }
}

/// Signs as the identity provider: `key` is an HMAC secret for HS256, else a fixture.
fn sign(algorithm: Algorithm, key: &str, kid: Option<&str>, claims: &Value) -> String {
    let key = match algorithm {
        Algorithm::HS256 => EncodingKey::from_secret(key.as_bytes()),
        Algorithm::ES256 => {
            EncodingKey::from_ec_pem(&std::fs::read(fixture(key)).expect("fixture"))
                .expect("an EC key")
        }
        _ => EncodingKey::from_rsa_pem(&std::fs::read(fixture(key)).expect("fixture"))
            .expect("an RSA key"),
    };
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).expect("signed")
}

fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, SECRET, None, claims)
}

fn with(claims: &Value, changes: &Value) -> Value {
    let mut claims = claims.clone();
    if let (Some(claims), Some(changes)) = (claims.as_object_mut(), changes.as_object()) {
        for (name, value) in changes {
            if value.is_null() {
                claims.remove(name);
            } else {
                claims.insert(name.clone(), value.clone());
            }
        }
    }
    claims
}

fn bearer_credential() -> Value {
    json!({"name": "GitHub", "type": "bearer_token", "value": "ghp_0123456789abcdefghij"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_each_key_kind_authenticate_and_hold_only_their_scopes() {
    let idp = start(&[("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")]).await;
    let upstream = start_upstream().await;

    // HS256 (a shared secret), with the scopes to write.
    let writer = hs256(&idp.claims(
        "alice@example.com",
        "openid credentials:read credentials:write credentials:use-all access-keys:manage",
    ));
    let mut body = bearer_credential();
    body["allowedHosts"] = json!([upstream.origin()]);
    let id = idp.app.api.create_credential(&writer, &body).await.id();

    // RS256 (a PEM file), reading only: it lists, and a create is a 403.
    let reader = sign(
        Algorithm::RS256,
        "rsa.pem",
        None,
        &idp.claims("bob@example.com", "credentials:read"),
    );
    let list = idp.app.api.get_json("/credentials", &reader).await;
    assert_eq!(list["items"][0]["id"], json!(id));
    let refused = idp
        .app
        .api
        .call(
            Method::POST,
            "/credentials",
            &reader,
            Some(&bearer_credential()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["code"], "insufficient-scope");
    assert_eq!(refused.header("content-type"), "application/problem+json");

    // A token with no vault scope authenticates, and may do nothing.
    let nothing = hs256(&idp.claims("carol@example.com", "openid profile"));
    let refused = idp.app.api.get("/credentials", &nothing).await;
    assert_eq!(
        refused.problem(),
        (StatusCode::FORBIDDEN, "insufficient-scope".to_owned())
    );

    // Within the leeway (30 s by default): expired 10 s ago still passes.
    let late = hs256(&with(
        &idp.claims("bob@example.com", "credentials:read"),
        &json!({"exp": now() - 10}),
    ));
    assert_eq!(
        idp.app.api.get("/credentials", &late).await.status,
        StatusCode::OK
    );

    // Keys made by a token: no more scopes than the token has.
    let created = idp
        .app
        .api
        .create_access_key(
            &writer,
            &json!({"name": "ci", "scopes": ["credentials:read"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let key = created.json();
    assert_eq!(key["createdBy"], Value::Null, "no access key made it");
    let refused = idp
        .app
        .api
        .create_access_key(
            &writer,
            &json!({"name": "root", "scopes": ["credentials:read", "audit:read"]}),
        )
        .await;
    assert_eq!(
        refused.problem(),
        (StatusCode::FORBIDDEN, "scope-escalation".to_owned())
    );
    let new_key = key["keySecret"].as_str().expect("the key, once");
    assert_eq!(
        idp.app.api.get("/credentials", new_key).await.status,
        StatusCode::OK
    );

    // A use through the proxy, logged as the subject's.
    let answer = idp
        .app
        .api
        .proxy(
            &id,
            &writer,
            &json!({"method": "GET", "url": upstream.url("/record/x")}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    // ES256 (a JWKS key, by kid), with audit:read: the logs name who acted.
    let auditor = sign(
        Algorithm::ES256,
        "ec.pem",
        Some("ec-1"),
        &idp.claims("dave@example.com", "audit:read credentials:read"),
    );
    let events = idp.app.api.get_json("/audit-events", &auditor).await;
    let by_alice: Vec<(&str, &str, &Value)> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["actorSubject"] == "alice@example.com")
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["outcome"].as_str().unwrap_or_default(),
                &e["actorAccessKeyId"],
            )
        })
        .collect();
    assert_eq!(
        by_alice,
        [
            ("credential.use", "success", &Value::Null),
            ("access_key.create", "failure", &Value::Null),
            ("access_key.create", "success", &Value::Null),
            ("credential.create", "success", &Value::Null),
        ]
    );
    let logs = idp.app.api.get_json("/request-logs", &auditor).await;
    assert_eq!(logs["items"][0]["actorSubject"], "alice@example.com");
    assert_eq!(logs["items"][0]["accessKeyId"], Value::Null);

    // Access keys keep working, and their events name no subject.
    let events = idp
        .app
        .api
        .get_json("/audit-events?action=access_key.create", &idp.app.token)
        .await;
    let bootstrap = events["items"]
        .as_array()
        .expect("items")
        .last()
        .expect("one");
    assert_eq!(bootstrap["actorSubject"], Value::Null);
    idp.app.stop();
}

/// Grants to a subject and to a group in the token's groups claim: each lets a token with
/// only `credentials:use` through, and the logs say which grant did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_to_subjects_and_groups_let_their_tokens_use_a_credential() {
    let idp = start(&[("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")]).await;
    let upstream = start_upstream().await;
    let mut body = bearer_credential();
    body["allowedHosts"] = json!([upstream.origin()]);
    let api = &idp.app.api;
    let id = api.create_credential(&idp.app.token, &body).await.id();
    let token = |subject: &str, groups: Value| {
        hs256(&with(
            &idp.claims(subject, "credentials:use"),
            &json!({"groups": groups}),
        ))
    };
    let call = json!({"method": "GET", "url": upstream.url("/record/g")});
    let carol = token("carol@example.com", json!(["payments"]));
    let dave = token("dave@example.com", json!("support"));
    for who in [&carol, &dave] {
        let refused = api.proxy(&id, who, &call).await;
        assert_eq!(refused.problem().1, "not-granted", "{}", refused.body);
    }

    let by_group = api
        .grant(&id, &idp.app.token, &json!({"principal": "group:payments"}))
        .await;
    let by_subject = api
        .grant(
            &id,
            &idp.app.token,
            &json!({"principal": "subject:dave@example.com", "methods": ["GET"]}),
        )
        .await;
    for who in [&carol, &dave] {
        let used = api.proxy(&id, who, &call).await;
        assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    }
    // Another member of no granted group, with the same scopes, is still refused.
    let eve = token("eve@example.com", json!(["support"]));
    assert_eq!(api.proxy(&id, &eve, &call).await.problem().1, "not-granted");

    let logs = api
        .get_json(&format!("/request-logs?credentialId={id}"), &idp.app.token)
        .await;
    let via: Vec<(&str, &str)> = logs["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["actorSubject"].as_str().expect("a subject"),
                e["via"].as_str().expect("via"),
            )
        })
        .collect();
    let (group_via, subject_via) = (format!("grant:{by_group}"), format!("grant:{by_subject}"));
    assert_eq!(
        via,
        [
            ("dave@example.com", subject_via.as_str()),
            ("carol@example.com", group_via.as_str()),
        ]
    );
    // What a token may use: its own grants, by subject and by group.
    let mine = api.get_json("/grants", &carol).await;
    assert_eq!(mine["items"][0]["id"], json!(by_group), "{mine}");
    idp.app.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_get_a_401_problem_change_nothing_and_are_audited() {
    let idp = start(&[("RUST_LOG", "debug")]).await;
    let valid = |subject: &str| idp.claims(subject, "credentials:read credentials:write");
    let rsa_public = std::fs::read_to_string(fixture("rsa.pub.pem")).expect("fixture");
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            hs256(&with(
                &valid("expired@example.com"),
                &json!({"exp": now() - 3600}),
            )),
        ),
        (
            "not yet valid (beyond the leeway)",
            hs256(&with(
                &valid("early@example.com"),
                &json!({"nbf": now() + 3600}),
            )),
        ),
        (
            "wrong issuer",
            hs256(&with(
                &valid("x@example.com"),
                &json!({"iss": "https://evil.example.com/"}),
            )),
        ),
        (
            "wrong audience",
            hs256(&with(
                &valid("x@example.com"),
                &json!({"aud": "another-api"}),
            )),
        ),
        (
            "wrong key (HS256)",
            sign(
                Algorithm::HS256,
                "another secret of at least thirty-two bytes",
                None,
                &valid("x"),
            ),
        ),
        (
            "wrong key (RS256)",
            sign(Algorithm::RS256, "other-rsa.pem", None, &valid("x")),
        ),
        (
            "wrong key (ES256, a configured kid)",
            sign(Algorithm::ES256, "other-ec.pem", Some("ec-1"), &valid("x")),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                part(&json!({"alg": "none", "typ": "JWT"})),
                part(&valid("x"))
            ),
        ),
        (
            "HS256 signed with the RSA public key as secret",
            sign(Algorithm::HS256, &rsa_public, None, &valid("x")),
        ),
        (
            "HS256 naming an RSA key of the JWKS",
            sign(Algorithm::HS256, &rsa_public, Some("rsa-1"), &valid("x")),
        ),
        (
            "unknown kid",
            sign(Algorithm::ES256, "ec.pem", Some("ec-9"), &valid("x")),
        ),
        (
            "unknown organization",
            hs256(&with(
                &valid("stranger@example.com"),
                &json!({"org": uuid::Uuid::now_v7().to_string()}),
            )),
        ),
        (
            "missing organization claim",
            hs256(&with(&valid("x"), &json!({"org": null}))),
        ),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (what, token) in &cases {
        let refused = idp
            .app
            .api
            .call(
                Method::POST,
                "/credentials",
                token,
                Some(&bearer_credential()),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            refused.body
        );
        assert_eq!(
            refused.header("content-type"),
            "application/problem+json",
            "{what}"
        );
        assert_eq!(
            refused.header("www-authenticate"),
            "Bearer realm=\"vault\"",
            "{what}"
        );
        let problem = refused.json();
        assert_eq!(problem["code"], "unauthorized", "{what}");
        assert_eq!(problem["status"], 401, "{what}");
    }
    assert_eq!(
        idp.credential_count().await,
        0,
        "a refused token changed something"
    );

    // Signed, meant for us and of a known organization: audited there, with the subject
    // and the reason. The others have no organization to be audited in.
    let events = idp
        .app
        .api
        .get_json(
            "/audit-events?action=authentication.failure",
            &idp.app.token,
        )
        .await;
    let failures: Vec<(&str, &str)> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or_default(),
                e["actorSubject"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        [
            ("token-not-yet-valid", "early@example.com"),
            ("expired-token", "expired@example.com"),
        ]
    );

    let (out, err) = idp.app.stop();
    let output = format!("{out}{err}");
    assert!(!output.contains(SECRET), "the HS256 secret was printed");
    assert!(
        output.contains("identity-provider tokens are accepted"),
        "the start-up line names the keys"
    );
    for (what, token) in &cases {
        if let Some(signature) = token.rsplit('.').next().filter(|s| s.len() > 8) {
            assert!(!output.contains(signature), "{what}: the token was logged");
        }
    }
    for reason in [
        "expired-token",
        "bad-signature",
        "disallowed-algorithm",
        "unknown-key",
        "unknown-organization",
        "missing-claim",
        "wrong-issuer",
        "wrong-audience",
    ] {
        assert!(output.contains(reason), "the log names the reason {reason}");
    }
}

#[test]
fn a_bad_identity_provider_configuration_stops_the_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = new_key();
    let refused = |changes: &[(&str, Option<&str>)]| {
        let mut cmd = command(dir.path());
        cmd.env("ENCRYPTION_KEY", &key).envs(idp_settings());
        for (name, value) in changes {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        let output = cmd.output().expect("run vault-server");
        assert!(!output.status.success(), "started with {changes:?}");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains(SECRET), "{stderr}");
        stderr
    };
    let private_key = fixture("rsa.pem").display().to_string();
    let short = "IDP-SHORT-CANARY";
    for (changes, expected) in [
        (vec![("VAULT_IDP_AUDIENCE", None)], "idp_audience"),
        (
            vec![
                ("VAULT_IDP_HS256_SECRETS", None),
                ("VAULT_IDP_PUBLIC_KEY_FILES", None),
                ("VAULT_IDP_JWKS_FILE", None),
            ],
            "no key verifies",
        ),
        (
            vec![("VAULT_IDP_HS256_SECRETS", Some(short))],
            "shorter than 32 bytes",
        ),
        (
            vec![("VAULT_IDP_PUBLIC_KEY_FILES", Some(private_key.as_str()))],
            "private key",
        ),
        (
            vec![("VAULT_IDP_PUBLIC_KEY_FILES", Some("/nonexistent/idp.pem"))],
            "cannot read /nonexistent/idp.pem",
        ),
        (vec![("VAULT_IDP_ISSUER", None)], "idp_issuer is not"),
    ] {
        let stderr = refused(&changes);
        assert!(stderr.contains(expected), "{changes:?}: {stderr}");
        assert!(!stderr.contains(short), "{stderr}");
        assert!(!stderr.contains("MII"), "a key was printed: {stderr}");
    }
}
