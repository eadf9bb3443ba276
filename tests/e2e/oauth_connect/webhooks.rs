//! `oauth.reconnect_required` and `oauth.reconnected` reach a subscriber, signed, when
//! the provider refuses a connection's refresh token and when a user connects it again;
//! nothing the provider issued is in them.

use super::*;
use crate::helpers::webhooks::WebhookReceiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_and_restored_connection_is_announced() {
    let Some(receiver) = WebhookReceiver::start().await else {
        return;
    };
    let settings = receiver.server_settings();
    let refs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let vault = TestServer::start(&refs);
    let (api, admin) = (&vault.api, vault.token.as_str());
    receiver
        .subscribe(
            api,
            admin,
            "/hooks/oauth",
            &["oauth.reconnect_required", "oauth.reconnected"],
            json!({}),
        )
        .await;
    let server = rotating(&vault, RotatingConfig::new(Duration::from_secs(2))).await;
    let id = create(api, admin, &server).await;
    // A first connect is not a reconnect: nothing is sent for it.
    connect(api, &id, admin).await;
    assert_eq!(
        use_once(api, &id, admin, &server).await.status,
        StatusCode::OK
    );

    steal_and_replay(&server).await;
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    use_once(api, &id, admin, &server)
        .await
        .assert_problem(StatusCode::CONFLICT, "reconnect-required");
    let lost = receiver
        .eventually_received(1, Duration::from_secs(30))
        .await;
    connect(api, &id, admin).await;
    let received = receiver
        .eventually_received(2, Duration::from_secs(30))
        .await;
    assert_eq!(received.len(), 2, "{received:#?}");
    assert_eq!(lost[0].json()["type"], "oauth.reconnect_required");
    assert_eq!(lost[0].json()["data"]["credentialId"], id.as_str());
    assert_eq!(lost[0].json()["data"]["reason"], "invalid_grant");
    assert_eq!(received[1].json()["type"], "oauth.reconnected");
    assert_eq!(received[1].json()["data"]["credentialId"], id.as_str());
    for delivery in &received {
        assert_eq!(delivery.verified, Some(true), "{:?}", delivery.error);
        for issued in server.issued_secrets() {
            assert!(!delivery.body.contains(&issued), "a token leaked");
        }
        assert!(!delivery.body.contains(CLIENT_SECRET));
    }
}
