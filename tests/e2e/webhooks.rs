//! Webhook deliveries through the real binary to an HTTPS receiver on 127.0.0.1 whose
//! every signature PyPI's `standardwebhooks` checks: expiry reminders, an upstream that
//! keeps refusing a credential, a key rotation; an outage of the receiver that loses
//! nothing; a replay; two replicas sending each reminder once. No secret reaches a
//! receiver.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::postgres::TestDatabase;
use crate::helpers::upstream::start_upstream;
use crate::helpers::webhooks::{Received, WebhookReceiver};
use crate::helpers::{
    Api, Backend, Installation, Server, TestServer, canary, eventually, new_key, replicas, run_ok,
};

fn settings(receiver: &WebhookReceiver) -> Vec<(&'static str, String)> {
    receiver.server_settings()
}

fn as_refs<'s>(settings: &'s [(&'static str, String)]) -> Vec<(&'static str, &'s str)> {
    settings.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn in_from_now(duration: time::Duration) -> String {
    (OffsetDateTime::now_utc() + duration)
        .format(&Rfc3339)
        .expect("a time")
}

/// The deliveries `received` to `path`, by event type.
fn by_type<'r>(received: &'r [Received], path: &str) -> BTreeMap<String, Vec<&'r Received>> {
    let mut out: BTreeMap<String, Vec<&Received>> = BTreeMap::new();
    for delivery in received.iter().filter(|r| r.path == path) {
        let kind = delivery.json()["type"].as_str().expect("a type").to_owned();
        out.entry(kind).or_default().push(delivery);
    }
    out
}

/// Every delivery's signature checked out with the outside verifier.
fn all_verified(received: &[Received]) {
    for delivery in received {
        assert_eq!(
            delivery.verified,
            Some(true),
            "{:?}: {:?}",
            delivery.error,
            delivery.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_and_refusals_arrive_signed_through_an_outage_and_can_be_replayed() {
    let Some(receiver) = WebhookReceiver::start().await else {
        return;
    };
    let settings = settings(&receiver);
    let vault = TestServer::start(&as_refs(&settings));
    let (api, admin) = (&vault.api, vault.token.as_str());
    let webhook = receiver
        .subscribe(
            api,
            admin,
            "/hooks/ops",
            &[
                "credential.expiring",
                "credential.expired",
                "credential.use_failed",
            ],
            json!({"daysAhead": [7, 1]}),
        )
        .await;
    let webhook_id = webhook["id"].as_str().expect("an id");
    // The receiver is down (503) until the test says otherwise.
    receiver.set_status("/hooks/ops", 503).await;

    let upstream = start_upstream().await;
    let mut secrets = Vec::new();
    let mut create = async |name: &str, expires_at: Option<String>| {
        let secret = canary("webhook");
        let mut body = json!({"name": name, "type": "bearer_token", "value": secret,
                              "allowedHosts": [upstream.origin()]});
        if let Some(at) = expires_at {
            body["expiresAt"] = json!(at);
        }
        secrets.push(secret);
        api.create_credential(admin, &body).await["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    };
    let in_three_days = create("in three days", Some(in_from_now(time::Duration::days(3)))).await;
    let in_an_hour = create("in an hour", Some(in_from_now(time::Duration::hours(1)))).await;
    let soon = create(
        "in three seconds",
        Some(in_from_now(time::Duration::seconds(3))),
    )
    .await;
    let refused = create("refused upstream", None).await;
    let far = create("next year", Some(in_from_now(time::Duration::days(300)))).await;
    for _ in 0..3 {
        let call = json!({"method": "GET", "url": upstream.url("/status/401")});
        let used = api.proxy(&refused, admin, &call).await;
        assert_eq!(used.status.as_u16(), 401, "{}", used.body);
    }

    // Expiring in 3 days: the 7-day reminder; in an hour: the 1-day one (only the
    // nearest); in 3 seconds: the 1-day one, then expired; 3 refusals: use_failed.
    let expected = 5;
    let first_tries = receiver
        .eventually_received(expected, Duration::from_secs(30))
        .await;
    assert!(first_tries.iter().all(|r| r.status == 503));
    receiver.set_status("/hooks/ops", 200).await;
    // The first retry comes 5 s after each failure: all arrive once the receiver is back.
    let received = eventually(Duration::from_secs(40), "every event taken", async || {
        let received = receiver.received().await;
        let taken: BTreeSet<String> = received
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.headers["webhook-id"].clone())
            .collect();
        (taken.len() >= expected).then_some(received)
    })
    .await;
    all_verified(&received);
    let taken: Vec<Received> = received.into_iter().filter(|r| r.status == 200).collect();
    let kinds = by_type(&taken, "/hooks/ops");
    let subjects = |kind: &str| -> BTreeMap<String, Value> {
        kinds
            .get(kind)
            .map(|list| {
                list.iter()
                    .map(|r| {
                        let data = r.json()["data"].clone();
                        (
                            data["credentialId"].as_str().expect("an id").to_owned(),
                            data,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let expiring = subjects("credential.expiring");
    assert_eq!(expiring[&in_three_days]["daysAhead"], 7);
    assert_eq!(expiring[&in_an_hour]["daysAhead"], 1);
    assert_eq!(expiring[&soon]["daysAhead"], 1);
    assert_eq!(expiring[&in_an_hour]["name"], "in an hour");
    assert!(!expiring.contains_key(&far), "beyond every threshold");
    assert_eq!(
        subjects("credential.expired").keys().collect::<Vec<_>>(),
        [&soon]
    );
    let failed = subjects("credential.use_failed");
    assert_eq!(failed[&refused]["status"], 401);
    assert_eq!(failed.len(), 1);
    // A message keeps its id across attempts: the 503'd one and the one taken.
    let first_ids: BTreeSet<&str> = first_tries
        .iter()
        .map(|r| r.headers["webhook-id"].as_str())
        .collect();
    assert!(
        taken
            .iter()
            .any(|r| first_ids.contains(r.headers["webhook-id"].as_str()))
    );

    // The delivery log: each succeeded, after a failed attempt for the early ones.
    let path = format!("/webhooks/{webhook_id}/deliveries?limit=100");
    let deliveries = api.get_json(&path, admin).await["items"]
        .as_array()
        .expect("items")
        .clone();
    assert!(deliveries.len() >= expected, "{deliveries:?}");
    let retried = deliveries
        .iter()
        .find(|d| d["attempts"] == 2 && d["status"] == "succeeded")
        .expect("a delivery that took two attempts");
    assert_eq!(retried["responseStatus"], 200);

    // A replay: the same message again, as a new delivery.
    let replay_path = format!(
        "/webhooks/{webhook_id}/deliveries/{}/replay",
        retried["id"].as_str().expect("an id")
    );
    let replay = api.call(Method::POST, &replay_path, admin, None).await;
    assert_eq!(replay.status.as_u16(), 202, "{}", replay.body);
    assert_eq!(replay.json()["replayOf"], retried["id"]);
    let message = retried["messageId"].as_str().expect("a message id");
    eventually(Duration::from_secs(20), "the replay", async || {
        let received = receiver.received().await;
        let copies = received
            .iter()
            .filter(|r| r.status == 200 && r.headers["webhook-id"] == message)
            .count();
        (copies == 2).then_some(())
    })
    .await;

    // Nothing a receiver or the delivery log saw holds a credential's secret.
    let everything = format!(
        "{:?}{}{}",
        receiver.received().await,
        json!(deliveries),
        vault.log()
    );
    for secret in &secrets {
        assert!(!everything.contains(secret.as_str()), "a secret leaked");
    }
    let webhook_secret = webhook["secret"].as_str().expect("secret");
    assert!(
        !vault.log().contains(webhook_secret),
        "the webhook secret leaked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_is_announced_to_every_organization() {
    let Some(receiver) = WebhookReceiver::start().await else {
        return;
    };
    let key = new_key();
    let installation = Installation::new(Backend::Sqlite, &key).expect("SQLite");
    let mut cmd = installation.command(&key);
    for (name, value) in settings(&receiver) {
        cmd.env(name, value);
    }
    let server = Server::start(cmd);
    let api = Api::new(&server.base);
    receiver
        .subscribe(
            &api,
            &installation.token,
            "/hooks/keys",
            &["key.rotated"],
            json!({}),
        )
        .await;
    let mut rotate = installation.command(&key);
    rotate.args(["keys", "rotate"]);
    run_ok(rotate);
    let received = receiver
        .eventually_received(1, Duration::from_secs(30))
        .await;
    all_verified(&received);
    assert_eq!(received[0].json()["type"], "key.rotated");
    assert_eq!(received[0].path, "/hooks/keys");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_send_each_reminder_once() {
    let Some(receiver) = WebhookReceiver::start().await else {
        return;
    };
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = settings(&receiver);
    let (servers, admin) = replicas(dir.path(), &db.url, 2, &as_refs(&settings));
    let (a, b) = (Api::new(&servers[0].base), Api::new(&servers[1].base));
    receiver
        .subscribe(
            &a,
            &admin,
            "/hooks/reminders",
            &["credential.expiring"],
            json!({"daysAhead": [30, 7]}),
        )
        .await;
    let mut ids = BTreeSet::new();
    for n in 0..6 {
        let api = if n % 2 == 0 { &a } else { &b };
        let body = json!({"name": format!("expiring {n}"), "type": "bearer_token",
                          "value": canary("replicas"),
                          "expiresAt": in_from_now(time::Duration::days(2 + n))});
        ids.insert(
            api.create_credential(&admin, &body).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let received = receiver
        .eventually_received(ids.len(), Duration::from_secs(30))
        .await;
    // Both replicas compute reminders every second: give them several more rounds.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let received_after = receiver.received().await;
    assert_eq!(
        received_after.len(),
        received.len(),
        "no second copy: {received_after:#?}"
    );
    all_verified(&received_after);
    let reminded: Vec<String> = received_after
        .iter()
        .map(|r| {
            r.json()["data"]["credentialId"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    assert_eq!(reminded.len(), ids.len());
    assert_eq!(reminded.into_iter().collect::<BTreeSet<_>>(), ids);
    for server in servers {
        server.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_on_a_private_address_is_refused_at_once() {
    // The default: private networks are off limits, for webhooks as for credentials.
    let vault = TestServer::start(&[]);
    let (api, admin) = (&vault.api, vault.token.as_str());
    for url in [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
    ] {
        let body = json!({"url": url, "events": ["key.rotated"]});
        let reply = api
            .call(Method::POST, "/webhooks", admin, Some(&body))
            .await;
        let problem = reply.json();
        assert_eq!(reply.status.as_u16(), 422, "{url}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "url", "{problem}");
    }
    let public = json!({"url": "https://hooks.example.com/vault", "events": ["key.rotated"]});
    let created = api
        .call(Method::POST, "/webhooks", admin, Some(&public))
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = created.json()["id"].as_str().expect("an id").to_owned();
    let moved = json!({"url": "https://192.168.0.10/hook"});
    let reply = api
        .call(
            Method::PATCH,
            &format!("/webhooks/{id}"),
            admin,
            Some(&moved),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.body);
    assert_eq!(
        api.get_json("/webhooks", admin).await["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        api.get_json(&format!("/webhooks/{id}"), admin).await["url"],
        "https://hooks.example.com/vault"
    );
}
