//! A whole vault through the decorators, with a canary in every name, path, host and
//! secret: the exposition counts what happened and contains none of them.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use secrecy::SecretString;
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::cipher::Purpose;
use vault_core::upstream::{
    OutgoingRequest, RequestPurpose, Upstream, UpstreamError, UpstreamResponse,
};
use vault_core::{
    Aad, Cipher as _, CredentialFields, CredentialId, CredentialType, Patch, ProxyRequest,
    SystemClock, Vault,
};
use vault_metrics::{MeteredCipher, MeteredStore, MeteredUpstream, Metrics};
use vault_testkit::memory::MemoryStore;

const CANARY: &str = "canary7f3e9b";
const API_SECRET: &str = "sk_live_apisecret5d1c0a";
const CLIENT_SECRET: &str = "clientsecret9a8b7c";
const ACCESS_TOKEN: &str = "accesstoken3e4f5a";
const RAW_KEY: [u8; 32] = [
    0x98, 0x5e, 0xf9, 0xff, 0xe6, 0x1e, 0x4b, 0xe8, 0xde, 0xad, 0x17, 0x8b, 0x23, 0xbf, 0x1f, 0x3c,
    0xed, 0x70, 0x96, 0xe1, 0xf2, 0x88, 0x81, 0xd7, 0x5d, 0xc8, 0x7c, 0x72, 0x25, 0x5f, 0xc2, 0x73,
];

/// Answers token requests with a token, times out for `down.example.com`, and answers
/// every other proxied request 200.
#[derive(Debug)]
struct FakeUpstream;

impl Upstream for FakeUpstream {
    async fn send(&self, request: OutgoingRequest) -> Result<UpstreamResponse, UpstreamError> {
        let host = request.url.host_str().unwrap_or_default().to_owned();
        let body = match request.purpose {
            RequestPurpose::TokenFetch => format!(
                r#"{{"access_token":"{ACCESS_TOKEN}","token_type":"Bearer","expires_in":3600}}"#
            ),
            _ if host == "down.example.com" => return Err(UpstreamError::Timeout { host }),
            _ => format!(r#"{{"echo":"{CANARY}"}}"#),
        };
        Ok(UpstreamResponse {
            status: http::StatusCode::OK,
            headers: http::HeaderMap::new(),
            body: body.into_bytes(),
        })
    }
}

fn key() -> KeyEncryptionKey {
    KeyEncryptionKey::parse(&STANDARD.encode(RAW_KEY)).expect("a key")
}

fn secret(value: &str) -> Option<SecretString> {
    Some(SecretString::from(value.to_owned()))
}

fn hosts() -> Patch<Vec<String>> {
    Patch::Value(vec![
        format!("{CANARY}.example.com"),
        "down.example.com".to_owned(),
        "auth.example.com".to_owned(),
    ])
}

#[tokio::test]
async fn labels_hold_no_name_secret_path_or_key() {
    let metrics = Arc::new(Metrics::new());
    let store = MeteredStore::new(MemoryStore::new(), Arc::clone(&metrics));
    let cipher = MeteredCipher::new(RingCipher::new(key(), vec![]), Arc::clone(&metrics));
    let vault = Vault::open(store, cipher, SystemClock)
        .await
        .expect("a vault")
        .with_upstream(MeteredUpstream::new(FakeUpstream, Arc::clone(&metrics)));

    let (_, admin) = vault
        .create_organization(&format!("org {CANARY}"))
        .await
        .expect("an organization");
    let who = vault
        .authenticate(admin.token.expose())
        .await
        .expect("authenticated");

    let api_key = vault
        .create_credential(
            &who,
            CredentialType::ApiKey,
            &CredentialFields {
                name: Some(format!("api {CANARY}")),
                description: Patch::Value(format!("description {CANARY}")),
                allowed_hosts: hosts(),
                ..CredentialFields::default()
            }
            .with("value", secret(API_SECRET)),
        )
        .await
        .expect("an api_key credential");
    let oauth2 = vault
        .create_credential(
            &who,
            CredentialType::OAuth2,
            &CredentialFields {
                name: Some(format!("oauth2 {CANARY}")),
                allowed_hosts: hosts(),
                ..CredentialFields::default()
            }
            .with("clientId", Some(format!("client-{CANARY}")))
            .with("clientSecret", secret(CLIENT_SECRET))
            .with(
                "tokenUrl",
                Some(format!("https://auth.example.com/{CANARY}/token")),
            ),
        )
        .await
        .expect("an oauth2 credential");

    vault
        .apply_credential(&who, api_key.id)
        .await
        .expect("applied");
    vault
        .apply_credential(&who, oauth2.id)
        .await
        .expect("a token fetched");
    let proxied = |host: &str| ProxyRequest {
        method: "POST".to_owned(),
        url: format!("https://{host}/v1/{CANARY}/items?q={CANARY}"),
        headers: vec![("X-Note".to_owned(), CANARY.to_owned())],
        body: CANARY.as_bytes().to_vec(),
    };
    let response = vault
        .proxy(&who, api_key.id, proxied(&format!("{CANARY}.example.com")))
        .await
        .expect("proxied");
    assert_eq!(response.status, http::StatusCode::OK);
    vault
        .proxy(&who, oauth2.id, proxied("down.example.com"))
        .await
        .expect_err("the upstream timed out");
    vault
        .get_credential(&who, CredentialId::new())
        .await
        .expect_err("not found");

    // A tampered blob, through a second handle on the same registry.
    let cipher = MeteredCipher::new(RingCipher::new(key(), vec![]), Arc::clone(&metrics));
    let aad = Aad::installation(Purpose::KeyCheck);
    let mut blob = cipher.seal(API_SECRET.as_bytes(), &aad).expect("sealed");
    let last = blob.bytes.len() - 1;
    blob.bytes[last] ^= 1;
    cipher.open(&blob, &aad).expect_err("tampered");

    let text = metrics.encode();

    // What happened is there, counted.
    for expected in [
        r#"vault_proxy_requests_total{upstream_status="200"} 1"#,
        r#"vault_proxy_requests_total{upstream_status="upstream-timeout"} 1"#,
        r#"vault_oauth2_token_fetches_total{outcome="ok"} 1"#,
        r#"vault_store_operation_duration_seconds_count{operation="get_credential",outcome="not_found"} 1"#,
        r#"vault_store_operation_duration_seconds_count{operation="insert_credential",outcome="ok"} 2"#,
        r#"vault_store_operation_duration_seconds_count{operation="insert_request_log",outcome="ok"} 2"#,
        r#"vault_store_operation_duration_seconds_count{operation="find_access_key",outcome="ok"}"#,
        r#"vault_cipher_operations_total{operation="open",outcome="tampered"} 1"#,
        r#"vault_cipher_operations_total{operation="seal",outcome="ok"}"#,
        r#"vault_cipher_operations_total{operation="open",outcome="ok"}"#,
        r#"vault_cipher_operations_total{operation="keyed_hash",outcome="ok"}"#,
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }

    // Nothing that names or opens anything is.
    let key_forms = [
        hex::encode(RAW_KEY),
        hex::encode_upper(RAW_KEY),
        STANDARD.encode(RAW_KEY),
        STANDARD_NO_PAD.encode(RAW_KEY),
        URL_SAFE.encode(RAW_KEY),
        URL_SAFE_NO_PAD.encode(RAW_KEY),
    ];
    let ids = [
        api_key.id.to_string(),
        oauth2.id.to_string(),
        who.organization_id.to_string(),
        admin.key.id.to_string(),
    ];
    let key_id = cipher.current_key_id();
    let forbidden = [
        CANARY,
        API_SECRET,
        CLIENT_SECRET,
        ACCESS_TOKEN,
        admin.token.expose(),
        "example.com",
        key_id.as_str(),
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(key_forms)
    .chain(ids);
    for needle in forbidden {
        assert!(
            !text.contains(&needle),
            "the exposition contains {needle:?}:\n{text}"
        );
    }
}
