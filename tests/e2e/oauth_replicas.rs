//! A connected `oauth2` credential (the authorization-code grant) used through three
//! `vault-server` replicas on one PostgreSQL database, against the strict rotating token
//! server: under load the replicas share one refresh per expiry window (no refresh token
//! is ever presented twice, which the server would take for theft), and a replica killed
//! in the middle of a refresh leaves the connection working (another one takes over once
//! its lease lapses, within the provider's grace period).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::oauth_servers::{
    ClientAuth, OAuthClient, RefreshRecord, RotatingConfig, RotatingTokenServer,
};
use crate::helpers::postgres::TestDatabase;
use crate::helpers::{Api, Id as _, Reply, Server, replicas};

const CLIENT_ID: &str = "vault-replicas";
const CLIENT_SECRET: &str = "replicas-client-secret-0123456789";

/// Three replicas of one migrated, bootstrapped database, and the admin key of `acme`.
fn three_replicas(dir: &Path, database: &str, settings: &[(&str, &str)]) -> (Vec<Server>, String) {
    replicas(dir, database, 3, settings)
}

/// The rotating server, its one confidential client (HTTP Basic, the vault's default)
/// registered with every replica's callback URL.
async fn token_server(config: RotatingConfig, replicas: &[Server]) -> RotatingTokenServer {
    let callback = |server: &Server| format!("{}/oauth/callback", server.base);
    let mut client = OAuthClient::confidential(
        CLIENT_ID,
        CLIENT_SECRET,
        ClientAuth::Basic,
        &callback(&replicas[0]),
    );
    client.redirect_uris = replicas.iter().map(callback).collect();
    RotatingTokenServer::start(config.client(client)).await
}

/// Creates the credential through `api` and connects it there, the test acting as the
/// browser; returns its id.
async fn connected_credential(api: &Api, admin: &str, server: &RotatingTokenServer) -> String {
    let id = api
        .create_credential(
            admin,
            &json!({"name": "rotating", "type": "oauth2", "grant": "authorization_code",
                    "authorizationUrl": server.authorization_endpoint(),
                    "tokenUrl": server.token_endpoint(),
                    "revocationUrl": server.revocation_endpoint(),
                    "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                    "scopes": ["read"], "allowedHosts": [server.origin()]}),
        )
        .await
        .id();
    let path = format!("/credentials/{id}/connect");
    let started = api.call(Method::POST, &path, admin, None).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let started = started.json();
    let callback = format!("{}/oauth/callback", api.base);
    assert_eq!(started["redirectUri"], callback.as_str(), "{started}");
    let authorization_url = started["authorizationUrl"]
        .as_str()
        .expect("authorizationUrl");
    // The user consents at once: the provider sends the browser back to the vault.
    let consent = Reply::send(api.client.get(authorization_url)).await;
    assert_eq!(consent.status, StatusCode::FOUND, "{}", consent.body);
    let location = consent.header("location").to_owned();
    assert!(location.starts_with(&format!("{callback}?")), "{location}");
    let back = Reply::send(api.client.get(&location)).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert!(back.body.contains("Connected"), "{}", back.body);
    assert_eq!(connection_status(api, admin, &id).await, "connected");
    id
}

/// `connection.status` of the credential, as `GET /credentials/{id}` shows it.
async fn connection_status(api: &Api, admin: &str, id: &str) -> String {
    let credential = api.get_json(&format!("/credentials/{id}"), admin).await;
    credential["connection"]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("no connection status: {credential}"))
        .to_owned()
}

/// One use: `Ok` when the vault answered with the upstream's 200 (the rotating server's
/// `/resource` accepted the access token), else what happened instead.
async fn use_once(api: &Api, admin: &str, id: &str, call: &Value) -> Result<(), String> {
    let path = format!("/credentials/{id}/proxy");
    match api.try_call(Method::POST, &path, admin, Some(call)).await {
        Ok(reply) if reply.status == StatusCode::OK && reply.body.contains("\"client_id\"") => {
            Ok(())
        }
        Ok(reply) => Err(format!("{}: {} {}", api.base, reply.status, reply.body)),
        Err(error) => Err(format!("{}: no answer: {error}", api.base)),
    }
}

/// The last `lines` lines of each replica's stderr, for failure messages.
fn logs(replicas: &[&Server], lines: usize) -> String {
    replicas
        .iter()
        .map(|server| {
            let log = server.stderr.lock().expect("lock").clone();
            let all: Vec<&str> = log.lines().collect();
            let tail = all[all.len().saturating_sub(lines)..].join("\n");
            format!("--- {} ---\n{tail}", server.base)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a load of uses did, times since the instant the load was given: when each
/// success finished, and when each failure finished with what it was.
#[derive(Default)]
struct Outcome {
    ok_after: Vec<Duration>,
    failures: Vec<(Duration, String)>,
}

/// Uses of one credential, each through one of `apis` in turn.
#[derive(Clone)]
struct Uses {
    apis: Vec<Api>,
    admin: String,
    id: String,
    call: Value,
}

impl Uses {
    /// `workers` concurrent loops of uses until `stop` is set or `limit` has passed since
    /// `started`.
    async fn run(
        &self,
        workers: usize,
        started: Instant,
        limit: Duration,
        stop: Arc<AtomicBool>,
    ) -> Outcome {
        let tasks: Vec<_> = (0..workers)
            .map(|worker| {
                let (uses, stop) = (self.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut outcome = Outcome::default();
                    let mut next = worker;
                    while started.elapsed() < limit && !stop.load(Ordering::Relaxed) {
                        let api = &uses.apis[next % uses.apis.len()];
                        next += 1;
                        match use_once(api, &uses.admin, &uses.id, &uses.call).await {
                            Ok(()) => outcome.ok_after.push(started.elapsed()),
                            Err(failure) => outcome.failures.push((started.elapsed(), failure)),
                        }
                    }
                    outcome
                })
            })
            .collect();
        let mut all = Outcome::default();
        for task in tasks {
            let outcome = task.await.expect("a worker");
            all.ok_after.extend(outcome.ok_after);
            all.failures.extend(outcome.failures);
        }
        all.failures.sort_by_key(|(at, _)| *at);
        all.ok_after.sort();
        all
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_one_refresh_per_expiry_window() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (replicas, admin) = three_replicas(dir.path(), &db.url, &[]);
    let lifetime = Duration::from_secs(2);
    let server = token_server(RotatingConfig::new(lifetime), &replicas).await;
    let apis: Vec<Api> = replicas.iter().map(|r| Api::new(&r.base)).collect();
    let id = connected_credential(&apis[0], &admin, &server).await;
    let uses = Uses {
        apis: apis.clone(),
        admin: admin.clone(),
        id: id.clone(),
        call: json!({"method": "GET", "url": server.resource_url()}),
    };

    // 100 workers, each using the credential round-robin over the three replicas, 20 s.
    let window = Duration::from_secs(20);
    let started = Instant::now();
    let outcome = uses
        .run(100, started, window, Arc::new(AtomicBool::new(false)))
        .await;
    let ran = started.elapsed();
    let counters = server.counters();
    let refreshes: Vec<RefreshRecord> = server.refreshes();
    let gaps: Vec<Duration> = refreshes
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at))
        .collect();
    let shortest = gaps.iter().min().copied().unwrap_or(Duration::MAX);
    eprintln!(
        "three replicas, {:.1} s: {} uses, {} failed, {} refreshes (the closest two {shortest:?} \
         apart), {} resource 200s, {} 401s",
        ran.as_secs_f64(),
        outcome.ok_after.len(),
        outcome.failures.len(),
        refreshes.len(),
        counters.resource_ok,
        counters.resource_401s
    );
    let all: Vec<&Server> = replicas.iter().collect();
    assert!(
        outcome.failures.is_empty(),
        "{} of {} uses failed, the first: {:?}\n{}",
        outcome.failures.len(),
        outcome.ok_after.len() + outcome.failures.len(),
        &outcome.failures[..outcome.failures.len().min(5)],
        logs(&all, 30)
    );
    assert!(!outcome.ok_after.is_empty());
    assert_eq!(
        (
            counters.reuse_detections,
            counters.invalid_grants,
            counters.resource_401s
        ),
        (0, 0, 0),
        "{counters:?}\n{}",
        logs(&all, 30)
    );
    assert_eq!(counters.code_exchanges, 1);

    // Exactly one refresh per expiry window:
    // - every refresh presented the family's live refresh token: a token presented twice
    //   (two replicas refreshing one generation) is reuse at this server, which revokes
    //   the family; none was, none was refused, and none needed a grace period;
    // - none came early: the vault refreshes a 2 s token when half its lifetime is left,
    //   counted from when it sent the request that got it, so a refresh follows the one
    //   before it by about 1 s less half that request's round trip. The bound is half
    //   that, so a slow machine (the round trip far below 1 s) does not make it flaky,
    //   while two replicas refreshing one window (a few milliseconds apart) fail it;
    // - none was missing: every use succeeded, so some access token was always live, and
    //   each lives 2 s: over the load, at least one refresh per 2 s (less the one issued
    //   by the connect). Together: between ran/2 - 1 and ran/0.5 + 1.
    assert!(refreshes.iter().all(|r| !r.grace), "{refreshes:?}");
    assert!(
        refreshes.iter().all(|r| r.family == refreshes[0].family),
        "one token family: {refreshes:?}"
    );
    assert!(
        shortest >= Duration::from_millis(500),
        "two refreshes {shortest:?} apart: {gaps:?}"
    );
    let ran = ran.as_secs_f64();
    let (fewest, most) = (
        ((ran / 2.0).floor() as usize).saturating_sub(1),
        (ran / 0.5).floor() as usize + 1,
    );
    assert!(
        (fewest..=most).contains(&refreshes.len()),
        "{} refreshes in {ran:.1} s (between {fewest} and {most}): {gaps:?}",
        refreshes.len()
    );
    assert_eq!(counters.refreshes, refreshes.len());

    for api in &apis {
        assert_eq!(connection_status(api, &admin, &id).await, "connected");
    }
    for replica in replicas {
        replica.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_refresh_leaves_the_connection_working() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // A 2 s upstream timeout: a replica's refresh lease is 7 s, so a dead holder's lapses
    // soon.
    let (mut replicas, admin) =
        three_replicas(dir.path(), &db.url, &[("VAULT_PROXY_TIMEOUT_MS", "2000")]);
    let config = RotatingConfig::new(Duration::from_secs(2)).grace(Duration::from_secs(30));
    let server = token_server(config, &replicas).await;
    let apis: Vec<Api> = replicas.iter().map(|r| Api::new(&r.base)).collect();
    let id = connected_credential(&apis[0], &admin, &server).await;
    let on_a = Uses {
        apis: apis[..1].to_vec(),
        admin: admin.clone(),
        id: id.clone(),
        call: json!({"method": "GET", "url": server.resource_url()}),
    };
    let on_b_and_c = Uses {
        apis: apis[1..].to_vec(),
        ..on_a.clone()
    };

    // Uses through A only, until A's first refresh is at the server: the server rotates
    // the refresh token, then holds the answer; A is killed while it waits.
    server.stall_next_refresh(Duration::from_secs(20));
    let stop = Arc::new(AtomicBool::new(false));
    let through_a = {
        let stop = stop.clone();
        tokio::spawn(async move {
            on_a.run(4, Instant::now(), Duration::from_secs(15), stop)
                .await
        })
    };
    let waited = Instant::now();
    while server.stalled_refreshes() == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "A did not refresh in 10 s: {:?}\n{}",
            server.counters(),
            logs(&[&replicas[0]], 30)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let a = replicas.remove(0);
    a.kill();
    let killed = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let before = through_a.await.expect("the uses through A");
    assert!(
        !before.ok_after.is_empty(),
        "uses through A worked before the kill: {:?}",
        before.failures
    );
    assert_eq!(
        server.counters().refreshes,
        1,
        "A's refresh, its answer lost"
    );

    // Uses through B and C for 20 s after the kill, and the connection's status read
    // meanwhile.
    let limit = Duration::from_secs(20);
    let after = {
        let uses = on_b_and_c.clone();
        tokio::spawn(async move {
            uses.run(6, killed, limit, Arc::new(AtomicBool::new(false)))
                .await
        })
    };
    let mut statuses = Vec::new();
    while killed.elapsed() < limit {
        let api = &on_b_and_c.apis[statuses.len() % 2];
        statuses.push(connection_status(api, &admin, &id).await);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let after = after.await.expect("the uses through B and C");
    let counters = server.counters();
    let refreshes = server.refreshes();
    // The outage: the longest time without a use succeeding, from the kill on. (Uses that
    // waited for the takeover count when they finished.)
    let outage = std::iter::once(Duration::ZERO)
        .chain(after.ok_after.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or(limit);
    let last_failure = after.failures.last().map(|(at, _)| *at);
    let takeover = refreshes
        .get(1)
        .map(|r| r.at.duration_since(refreshes[0].at));
    eprintln!(
        "A killed mid-refresh: {} uses through B and C, {} failed (the last {last_failure:?} \
         after the kill), the longest time without a success {outage:?}; the takeover {takeover:?} \
         after A's refresh; {} refreshes, {} in grace; failures: {:?}",
        after.ok_after.len(),
        after.failures.len(),
        refreshes.len(),
        counters.grace_reuses,
        &after.failures[..after.failures.len().min(5)],
    );
    let survivors_logs = || logs(&replicas.iter().collect::<Vec<_>>(), 30);

    // B or C took over once A's lease lapsed, with the refresh token A had presented: the
    // provider's grace period accepted it once; nothing was taken for reuse.
    assert_eq!(
        (
            counters.grace_reuses,
            counters.reuse_detections,
            counters.invalid_grants
        ),
        (1, 0, 0),
        "{counters:?} {refreshes:?}\n{}",
        survivors_logs()
    );
    assert!(
        refreshes[1].grace && refreshes.iter().filter(|r| r.grace).count() == 1,
        "{refreshes:?}"
    );
    assert!(
        refreshes.iter().all(|r| r.family == refreshes[0].family),
        "{refreshes:?}"
    );
    // Not before A's lease (7 s from just before A's request) lapsed: no replica took a
    // lease that was still held. (0.5 s for A's request to reach the server.)
    let takeover = takeover.expect("a second refresh");
    assert!(
        takeover >= Duration::from_millis(6_500),
        "the lease was taken over {takeover:?} after A's refresh"
    );
    // Uses work again within 15 s of the kill, and on to the end (several refreshes later).
    assert!(
        outage < Duration::from_secs(15),
        "no use succeeded for {outage:?}: {:?}\n{}",
        &after.failures[after.failures.len().saturating_sub(5)..],
        survivors_logs()
    );
    assert!(
        last_failure.is_none_or(|at| at < Duration::from_secs(15)),
        "uses still failed {last_failure:?} after the kill: {:?}\n{}",
        &after.failures[after.failures.len().saturating_sub(5)..],
        survivors_logs()
    );
    assert!(
        after
            .ok_after
            .last()
            .is_some_and(|last| *last > limit - Duration::from_secs(3)),
        "uses stopped succeeding: the last at {:?}",
        after.ok_after.last()
    );
    assert!(
        refreshes.len() >= 4,
        "refreshes went on after the takeover: {refreshes:?}"
    );
    // The connection was never lost.
    assert!(
        statuses.iter().all(|s| s == "connected"),
        "{statuses:?}\n{}",
        survivors_logs()
    );
    for replica in replicas {
        replica.stop();
    }
}
