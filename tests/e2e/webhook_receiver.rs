//! The webhook receiver's own tests ([`helpers::webhooks`](crate::helpers::webhooks)): its
//! verifier says yes to a delivery signed as the Standard Webhooks spec says, and no to a
//! wrong signature or a tampered body; it answers with the status a test sets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::helpers::webhooks::{Received, WebhookReceiver};

/// The spec's example secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the secret's base64
/// part, as the spec signs.
fn sign(secret: &str, id: &str, timestamp: u64, body: &str) -> String {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("whsec_"))
        .expect("base64");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let tag = ring::hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", BASE64.encode(tag.as_ref()))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// POSTs `body` to `path` with the Standard Webhooks headers (id `msg_1`); the status
/// answered.
async fn deliver(
    receiver: &WebhookReceiver,
    path: &str,
    (timestamp, signature): (u64, &str),
    body: &str,
) -> u16 {
    let ca = std::fs::read(receiver.ca_file()).expect("the CA");
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("a PEM")])
        .build()
        .expect("client");
    client
        .post(receiver.url(path))
        .header("webhook-id", "msg_1")
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the receiver answers")
        .status()
        .as_u16()
}

async fn the_one(receiver: &WebhookReceiver) -> Received {
    let mut received = receiver
        .eventually_received(1, Duration::from_secs(5))
        .await;
    assert_eq!(received.len(), 1, "{received:#?}");
    received.remove(0)
}

#[test]
fn the_signer_matches_the_spec_example() {
    // standard-webhooks' own test vector: the tests below sign as the spec does.
    assert_eq!(
        sign(
            SECRET,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[tokio::test]
async fn a_correct_signature_is_verified() {
    let Some(receiver) = WebhookReceiver::start().await else {
        return;
    };
    receiver.set_secret("/hooks/a", SECRET).await;
    let body = r#"{"type":"credential.rotated"}"#;

    let at = now();
    let status = deliver(
        &receiver,
        "/hooks/a",
        (at, &sign(SECRET, "msg_1", at, body)),
        body,
    )
    .await;

    assert_eq!(status, 200);
    let got = the_one(&receiver).await;
    assert_eq!(got.verified, Some(true), "{got:#?}");
    assert_eq!(got.error, None);
    assert_eq!((got.path.as_str(), got.status), ("/hooks/a", 200));
    assert_eq!(got.headers["webhook-id"], "msg_1");
    assert_eq!(got.json()["type"], "credential.rotated");
}

#[tokio::test]
async fn a_wrong_signature_is_refused() {
    let Some(receiver) = WebhookReceiver::start().await else {
        return;
    };
    receiver.set_secret("/hooks/a", SECRET).await;
    let body = r#"{"type":"credential.rotated"}"#;
    let other = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    let at = now();
    let status = deliver(
        &receiver,
        "/hooks/a",
        (at, &sign(other, "msg_1", at, body)),
        body,
    )
    .await;

    // Still answered with the configured status: the test reads `verified`.
    assert_eq!(status, 200);
    let got = the_one(&receiver).await;
    assert_eq!(got.verified, Some(false), "{got:#?}");
    assert!(
        got.error
            .as_deref()
            .is_some_and(|e| e.contains("No matching signature")),
        "{got:#?}"
    );
}

#[tokio::test]
async fn a_tampered_body_is_refused() {
    let Some(receiver) = WebhookReceiver::start().await else {
        return;
    };
    receiver.set_secret("/hooks/a", SECRET).await;
    let at = now();
    let signature = sign(SECRET, "msg_1", at, r#"{"amount":1}"#);

    deliver(
        &receiver,
        "/hooks/a",
        (at, &signature),
        r#"{"amount":1000}"#,
    )
    .await;

    let got = the_one(&receiver).await;
    assert_eq!(got.verified, Some(false), "{got:#?}");
    assert_eq!(got.body, r#"{"amount":1000}"#);
}

#[tokio::test]
async fn the_status_set_is_answered_and_recorded() {
    let Some(receiver) = WebhookReceiver::start().await else {
        return;
    };
    receiver.set_status("/x", 503).await;

    let status = deliver(&receiver, "/x", (now(), "v1,unsigned"), "{}").await;

    assert_eq!(status, 503);
    let got = the_one(&receiver).await;
    assert_eq!((got.status, got.verified), (503, None), "{got:#?}");
}
