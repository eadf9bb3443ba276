//! Streaming the audit log through the real binary: to a JSON-lines file, and to a syslog
//! receiver over TCP that is down at first (uses go on, the backlog waits in the database
//! and shows in the metrics), comes up (every event arrives), and outlives a restart of
//! the server (which resumes from its cursor instead of sending everything again). No
//! secret ever reaches a sink.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};

use crate::helpers::{Api, Backend, Installation, Server, canary, eventually, new_key};

/// Every event of the organization's chain as the API lists it, by sequence.
async fn chain_of(api: &Api, token: &str) -> BTreeMap<u64, Value> {
    let listed = api.get_json("/audit-events?limit=100", token).await;
    listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| (e["chain"]["sequence"].as_u64().expect("chained"), e.clone()))
        .collect()
}

/// Creates `n` bearer-token credentials whose values are canaries; their values.
async fn create(api: &Api, token: &str, n: usize) -> Vec<String> {
    let mut secrets = Vec::new();
    for i in 0..n {
        let secret = canary("streamed");
        let body =
            json!({"name": format!("streamed {i}"), "type": "bearer_token", "value": secret});
        let created = api
            .call(Method::POST, "/credentials", token, Some(&body))
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.body);
        secrets.push(secret);
    }
    secrets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_streams_to_a_rotated_json_lines_file() {
    let key = new_key();
    let installation = Installation::new(Backend::Sqlite, &key).expect("SQLite");
    let file = installation.dir.path().join("audit.jsonl");
    let mut cmd = installation.command(&key);
    cmd.env("VAULT_AUDIT_SINK_FILE", &file)
        .env("VAULT_AUDIT_SINK_FILE_MAX_BYTES", "4096")
        .env("VAULT_AUDIT_SINK_FILE_KEEP", "50")
        .env("VAULT_AUDIT_SINK_INTERVAL_MS", "100");
    let server = Server::start(cmd);
    let api = Api::new(&server.base);
    let secrets = create(&api, &installation.token, 12).await;
    let chain = chain_of(&api, &installation.token).await;
    let head = *chain.keys().last().expect("events");

    // Every line of every file (rotated ones first, oldest first), in order.
    let read_all = || {
        let mut names: Vec<_> = std::fs::read_dir(installation.dir.path())
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("audit.jsonl"))
            .collect();
        // audit.jsonl.N is older the larger N is; audit.jsonl is the newest.
        names.sort_by_key(|n| {
            std::cmp::Reverse(
                n.rsplit('.')
                    .next()
                    .and_then(|x| x.parse::<u32>().ok())
                    .unwrap_or(0),
            )
        });
        names
            .iter()
            .map(|n| std::fs::read_to_string(installation.dir.path().join(n)).expect("read"))
            .collect::<Vec<_>>()
    };
    let files = eventually(
        Duration::from_secs(30),
        "every event in the file",
        async || {
            let files = read_all();
            let lines = files.iter().flat_map(|f| f.lines()).count();
            (lines as u64 >= head).then_some(files)
        },
    )
    .await;
    assert!(
        files.len() > 1,
        "4 KiB files were not rotated: {} file(s)",
        files.len()
    );
    let streamed: Vec<Value> = files
        .iter()
        .flat_map(|f| f.lines())
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect();
    let ours: Vec<&Value> = streamed
        .iter()
        .filter(|e| e["organizationId"] == chain[&1]["organizationId"])
        .collect();
    let sequences: Vec<u64> = ours
        .iter()
        .map(|e| e["chain"]["sequence"].as_u64().expect("a sequence"))
        .collect();
    assert_eq!(
        sequences,
        (1..=head).collect::<Vec<_>>(),
        "in order, each once"
    );
    for event in ours {
        let sequence = event["chain"]["sequence"].as_u64().expect("a sequence");
        assert_eq!(
            *event, chain[&sequence],
            "a streamed event differs from the API's"
        );
    }
    let everything = files.concat();
    for secret in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret reached the file"
        );
    }
    server.stop();
}

/// A syslog receiver on 127.0.0.1: every message's MSG (the event's JSON), as received.
struct Receiver {
    messages: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the receiver's port");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let sink = sink.clone();
                tokio::spawn(async move {
                    let mut reader = BufReader::new(stream);
                    loop {
                        // RFC 6587 octet counting: "LEN SP MSG".
                        let mut length = Vec::new();
                        if reader.read_until(b' ', &mut length).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let length: usize = std::str::from_utf8(&length[..length.len() - 1])
                            .expect("ascii")
                            .parse()
                            .expect("an octet count");
                        let mut message = vec![0; length];
                        if reader.read_exact(&mut message).await.is_err() {
                            return;
                        }
                        sink.lock()
                            .expect("lock")
                            .push(String::from_utf8(message).expect("UTF-8"));
                    }
                });
            }
        });
        Self { messages, task }
    }

    /// The sequences of `organization`'s events received, with repeats.
    fn sequences(&self, organization: &Value) -> Vec<u64> {
        self.messages
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|m| {
                let json: Value = serde_json::from_str(&m[m.find('{')?..]).ok()?;
                (json["organizationId"] == *organization)
                    .then(|| json["chain"]["sequence"].as_u64())?
            })
            .collect()
    }
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syslog_outage_keeps_the_backlog_and_a_restart_resumes_from_the_cursor() {
    let key = new_key();
    let installation = Installation::new(Backend::Sqlite, &key).expect("SQLite");
    // A port with nobody listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("address")
        .port();
    let command = || {
        let mut cmd = installation.command(&key);
        cmd.env("VAULT_AUDIT_SINK_SYSLOG", format!("tcp://127.0.0.1:{port}"))
            .env("VAULT_AUDIT_SINK_INTERVAL_MS", "100");
        cmd
    };
    let server = Server::start(command());
    let api = Api::new(&server.base);
    let token = installation.token.clone();

    // The receiver is down: uses go on, and the backlog shows.
    let mut secrets = create(&api, &token, 5).await;
    let chain = chain_of(&api, &token).await;
    let organization = chain[&1]["organizationId"].clone();
    let head = *chain.keys().last().expect("events");
    eventually(
        Duration::from_secs(30),
        "a failure and a backlog in the metrics",
        async || {
            let text = api.call_without_key(Method::GET, "/metrics").await.body;
            let failed = metric(&text, "vault_audit_sink_failures_total{sink=\"syslog\"}")?;
            let lag = metric(&text, "vault_audit_sink_lag_events{sink=\"syslog\"}")?;
            (failed >= 1.0 && lag >= head as f64).then_some(())
        },
    )
    .await;

    // It comes up: every event arrives (repeats allowed, none lost).
    let receiver = Receiver::start(port).await;
    eventually(
        Duration::from_secs(60),
        "every event delivered after the outage",
        async || {
            let got: std::collections::BTreeSet<u64> =
                receiver.sequences(&organization).into_iter().collect();
            (got == (1..=head).collect()).then_some(())
        },
    )
    .await;
    eventually(Duration::from_secs(30), "no backlog left", async || {
        let text = api.call_without_key(Method::GET, "/metrics").await.body;
        (metric(&text, "vault_audit_sink_lag_events{sink=\"syslog\"}")? == 0.0).then_some(())
    })
    .await;
    server.stop();
    let before_restart = receiver.sequences(&organization).len();

    // A restart resumes from the cursor: only the new events come, nothing is sent twice.
    let server = Server::start(command());
    let api = Api::new(&server.base);
    secrets.extend(create(&api, &token, 3).await);
    let head = *chain_of(&api, &token).await.keys().last().expect("events");
    let all = eventually(
        Duration::from_secs(60),
        "the new events delivered",
        async || {
            let all = receiver.sequences(&organization);
            (all.iter().max() == Some(&head)).then_some(all)
        },
    )
    .await;
    assert_eq!(
        all[before_restart..],
        ((head - 2)..=head).collect::<Vec<_>>(),
        "after a restart the sink got more than the new events"
    );
    let received = receiver.messages.lock().expect("lock").concat();
    for secret in &secrets {
        assert!(
            !received.contains(secret.as_str()),
            "a secret reached syslog"
        );
    }
    server.stop();
    receiver.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_posted_in_batches_to_an_https_collector_that_may_fail() {
    let Some(collector) = crate::helpers::webhooks::WebhookReceiver::start().await else {
        return;
    };
    let key = new_key();
    let installation = Installation::new(Backend::Sqlite, &key).expect("SQLite");
    let token_header = format!("Splunk {}", canary("collector-token"));
    let mut cmd = installation.command(&key);
    cmd.env(
        "VAULT_AUDIT_SINK_HTTPS",
        collector.url("/services/collector"),
    )
    .env(
        "VAULT_AUDIT_SINK_HTTPS_HEADER",
        format!("Authorization: {token_header}"),
    )
    .env("VAULT_PROXY_CA_FILE", collector.ca_file())
    .env("VAULT_AUDIT_SINK_INTERVAL_MS", "100");
    // Down at first: the batch is retried (backoff from one second) until it is taken.
    collector.set_status("/services/collector", 503).await;
    let server = Server::start(cmd);
    let api = Api::new(&server.base);
    let secrets = create(&api, &installation.token, 4).await;
    let chain = chain_of(&api, &installation.token).await;
    let organization = chain[&1]["organizationId"].clone();
    let head = *chain.keys().last().expect("events");
    collector
        .eventually_received(1, Duration::from_secs(30))
        .await;
    collector.set_status("/services/collector", 200).await;

    let taken = eventually(Duration::from_secs(30), "every event taken", async || {
        let taken: Vec<Value> = collector
            .received()
            .await
            .iter()
            .filter(|r| r.status == 200)
            .flat_map(|r| r.json().as_array().expect("a JSON array").clone())
            .filter(|e| e["organizationId"] == organization)
            .collect();
        (taken.len() as u64 >= head).then_some(taken)
    })
    .await;
    let sequences: Vec<u64> = taken
        .iter()
        .map(|e| e["chain"]["sequence"].as_u64().expect("a sequence"))
        .collect();
    assert_eq!(
        sequences,
        (1..=head).collect::<Vec<_>>(),
        "in order, each once"
    );
    for event in &taken {
        let sequence = event["chain"]["sequence"].as_u64().expect("a sequence");
        assert_eq!(*event, chain[&sequence]);
    }
    let received = collector.received().await;
    assert!(
        received
            .iter()
            .all(|r| r.headers["authorization"] == token_header)
    );
    let everything = format!("{received:?}");
    for secret in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret reached the collector"
        );
    }
    let (_, log) = server.stop();
    assert!(
        !log.contains(&token_header),
        "the collector's token was logged"
    );
}
