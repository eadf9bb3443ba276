//! PostgreSQL going away under load: requests fail fast with 503 problem+json and
//! `Retry-After`, the server stays up, and once the database is back the same process
//! serves again with everything written before the outage intact, and every secret value
//! acknowledged during the load there and opening.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::postgres::TempCluster;
use crate::helpers::upstream::start_upstream;
use crate::helpers::{Api, Id, Installation, Reply, Server, client_with_timeout, new_key};

/// Sorts one answer under load: `true` for a 2xx. A 503 problem with `Retry-After` and
/// the code `store-unavailable` is counted as `unavailable`; anything else is `unexpected`.
async fn sort_answer(
    sent: reqwest::Result<reqwest::Response>,
    unavailable: &AtomicUsize,
    unexpected: &Mutex<Vec<String>>,
) -> bool {
    let odd = match sent {
        Ok(r) if r.status().is_success() => return true,
        Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => {
            let retry_after = r.headers().get("retry-after").is_some();
            let body: Value = r.json().await.unwrap_or_default();
            if retry_after && body["code"] == "store-unavailable" {
                unavailable.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            format!("503 without Retry-After or code: {body}")
        }
        Ok(r) => format!("status {}", r.status()),
        Err(e) => format!("transport: {e}"),
    };
    unexpected.lock().expect("lock").push(odd);
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rides_out_a_database_outage() {
    let Some(cluster) = TempCluster::start() else {
        return;
    };
    let key = new_key();
    let installation = Installation::on(&cluster.url, &key);
    let token = installation.token.clone();
    let mut serve = installation.command(&key);
    serve
        .env("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")
        .env("VAULT_DATABASE_ACQUIRE_TIMEOUT_MS", "1000");
    let server = Server::start(serve);
    // Every request is bounded: a hang would fail the test rather than stall it.
    let api = Api::with_client(&server.base, client_with_timeout(Duration::from_secs(15)));

    let mut before = Vec::new();
    for i in 0..20 {
        let body = json!({"name": format!("before-{i}"), "type": "api_key",
                          "value": format!("sk_before_{i}_0123456789")});
        before.push(api.create_credential(&token, &body).await);
    }
    // Credentials whose secret value the load keeps changing, one per value writer.
    let upstream = start_upstream().await;
    let mut written = Vec::new();
    for w in 0..4 {
        let value = format!("sk_load_{w}_000000");
        let body = json!({"name": format!("written-{w}"), "type": "api_key",
                          "value": value, "allowedHosts": [upstream.origin()]});
        written.push((api.create_credential(&token, &body).await.id(), value));
    }

    // Load: readers and writers in a loop until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let unexpected = Arc::new(Mutex::new(Vec::<String>::new()));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (api, token) = (api.clone(), token.clone());
            let path = format!("/credentials/{}", before[w % before.len()].id());
            let (stop, unavailable, unexpected) =
                (stop.clone(), unavailable.clone(), unexpected.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let request = if w % 2 == 0 {
                        api.request(Method::GET, &path)
                    } else {
                        api.request(Method::PATCH, &path)
                            .json(&json!({"description": format!("load {n}")}))
                    };
                    let sent = request.bearer_auth(&token).send().await;
                    sort_answer(sent, &unavailable, &unexpected).await;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    // Value writers: each keeps the last value acknowledged (2xx) and those tried since
    // (a 503 or a cut connection does not say whether the commit happened).
    let value_acks = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = written
        .iter()
        .cloned()
        .enumerate()
        .map(|(w, (id, first))| {
            let (api, token) = (api.clone(), token.clone());
            let (stop, unavailable, unexpected, value_acks) = (
                stop.clone(),
                unavailable.clone(),
                unexpected.clone(),
                value_acks.clone(),
            );
            tokio::spawn(async move {
                let (mut acknowledged, mut unsure) = (first, Vec::new());
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let value = format!("sk_load_{w}_{n:06}");
                    let sent = api
                        .request(Method::PATCH, &format!("/credentials/{id}"))
                        .bearer_auth(&token)
                        .json(&json!({"value": value}))
                        .send()
                        .await;
                    if sort_answer(sent, &unavailable, &unexpected).await {
                        acknowledged = value;
                        unsure.clear();
                        value_acks.fetch_add(1, Ordering::Relaxed);
                    } else {
                        unsure.push(value);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (id, acknowledged, unsure)
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let acknowledged_before_the_outage = value_acks.load(Ordering::Relaxed);
    cluster.halt();

    // During the outage: 503 problem+json with Retry-After, and the process stays up.
    let deadline = Instant::now() + Duration::from_secs(20);
    while unavailable.load(Ordering::Relaxed) < 20 {
        assert!(Instant::now() < deadline, "no 503s during the outage");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let during = api.get("/credentials", &token).await;
    assert_eq!(during.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(during.headers.contains_key("retry-after"));
    assert_eq!(during.header("content-type"), "application/problem+json");
    let health = Reply::send(api.request(Method::GET, "/healthz")).await;
    assert_eq!(health.status, StatusCode::OK, "the server stays up");

    // The database comes back: the same process serves again, by itself.
    cluster.resume();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = api.get("/credentials?limit=100", &token).await;
        if r.status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover: {}", r.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }
    let mut outcomes = Vec::new();
    for writer in writers {
        outcomes.push(writer.await.expect("writer"));
    }
    let unexpected = unexpected.lock().expect("lock").clone();
    assert!(
        unexpected.is_empty(),
        "only successes and 503s: {unexpected:?}"
    );

    // Everything written before the outage is intact (descriptions may carry load writes).
    for created in &before {
        let path = format!("/credentials/{}", created.id());
        let now = api.get(&path, &token).await.json();
        assert_eq!(now["name"], created["name"]);
        assert_eq!(now["secretHints"], created["secretHints"]);
        assert_eq!(now["createdAt"], created["createdAt"]);
    }

    // Every value acknowledged during the load is there and opens: the upstream gets the
    // last acknowledged one, or one tried after it whose outcome the writer never learnt.
    for (id, acknowledged, unsure) in &outcomes {
        let call = json!({"method": "GET", "url": upstream.url(&format!("/record/{id}"))});
        let used = api.proxy(id, &token, &call).await;
        assert_eq!(used.status, StatusCode::OK, "{id} opens");
        let got = upstream.last();
        assert_eq!(got.path, format!("/record/{id}"));
        let seen = got.header("x-api-key").concat();
        assert!(
            seen == *acknowledged || unsure.contains(&seen),
            "{id}: the upstream got {seen}, not the last acknowledged {acknowledged} nor one \
             tried after it ({} of those)",
            unsure.len()
        );
    }
    eprintln!(
        "faults: {} secret values acknowledged ({acknowledged_before_the_outage} before the \
         outage), {} requests answered 503 during it",
        value_acks.load(Ordering::Relaxed),
        unavailable.load(Ordering::Relaxed)
    );
    api.create_credential(
        &token,
        &json!({"name": "after", "type": "bearer_token", "value": "token-after-the-outage"}),
    )
    .await;
    server.stop();
}
