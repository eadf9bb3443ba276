//! Chaos: what survives a crash, and what a full disk does.
//!
//! - **SIGKILL during a burst of writes**, on SQLite and on PostgreSQL: eight workers
//!   create, update (a new secret value, so a new version) and delete credentials of their
//!   own while the server is killed, three times on one database. After each restart every
//!   acknowledged create is there, its secret is the last acknowledged value (or the one
//!   write that was in flight at the kill, which may or may not have committed: nothing
//!   else) as the upstream sees it through a proxy use, every acknowledged delete is gone,
//!   nothing unknown appeared, and the server takes writes again.
//! - **SIGKILL during a rewrap**: credentials with old versions under an old key, the server
//!   restarted on a new key with the old one kept, `keys rewrap --batch 1` running beside
//!   live writes, and the server and the rewrap both killed half way. After a restart
//!   every acknowledged write is there and opens, the rewrap run again finishes with no
//!   row left under the old key, and with the old key dropped every credential and old
//!   version still opens.
//! - **A full disk** (SQLite on a 16 MiB tmpfs of the server's own, in a user and mount
//!   namespace): once the volume is full, creates, updates, deletes and credential uses
//!   fail with a clean 503 problem and change nothing, no use reaches the upstream
//!   unaudited, reads and health checks go on, the process stays up; when space comes back
//!   the same process takes writes again with everything from before intact.
//!
//! Stopping PostgreSQL under load is `faults`; killing only the rewrap process is
//! `rotation`; SIGKILL under proxy load is `chaos_proxy`. `make chaos` runs the four.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::upstream::{Upstream, start_upstream};
use crate::helpers::{
    Api, BIN, Backend, Id, Installation, Reply, Server, client_with_timeout, new_key, run_ok,
};

/// Concurrent writers in a burst, each with credentials of its own.
const WORKERS: usize = 8;
/// Acknowledged writes in a round before the server is killed.
const ACKS_BEFORE_KILL: usize = 500;
/// Kill-and-restart rounds on one database.
const ROUNDS: usize = 3;
/// How long any single wait in these tests may take before it fails.
const DEADLINE: Duration = Duration::from_secs(60);

/// Every request is bounded: a hang fails the test instead of stalling it.
fn bounded_api(server: &Server) -> Api {
    Api::with_client(&server.base, client_with_timeout(Duration::from_secs(15)))
}

/// A `vault-server` command on `installation` with `key` current and `previous` kept.
fn vault(installation: &Installation, key: &str, previous: Option<&str>) -> Command {
    let mut cmd = installation.command(key);
    cmd.env("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")
        // Eight unthrottled writers are the point here, not the rate limit.
        .env("VAULT_RATE_LIMIT_PER_SECOND", "0");
    if let Some(previous) = previous {
        cmd.env("ENCRYPTION_KEYS_PREVIOUS", previous);
    }
    cmd
}

/// A credential as its owner last had it acknowledged.
#[derive(Clone, Debug)]
struct Known {
    id: String,
    value: String,
    version: i64,
}

/// A write, as a worker sends it.
#[derive(Clone, Debug)]
enum Op {
    Create { name: String, value: String },
    Patch { name: String, value: String },
    Delete { name: String },
}

/// What one worker knows about its own credentials: no other worker touches them, so
/// every acknowledged write is the truth, and only the one write in flight when the server
/// died is uncertain.
#[derive(Debug, Default)]
struct Ledger {
    worker: usize,
    live: BTreeMap<String, Known>,
    deleted: BTreeMap<String, String>,
    in_flight: Option<Op>,
    /// Credentials a burst leaves alone (it neither updates nor deletes them).
    protected: BTreeSet<String>,
    next: u64,
    acked: usize,
    /// Anything but an acknowledgement while the server was meant to be up.
    unexpected: Vec<String>,
}

impl Ledger {
    fn new(worker: usize) -> Self {
        Self {
            worker,
            ..Self::default()
        }
    }

    /// A fresh name or secret value: never reused, so a value seen upstream names one write.
    fn fresh(&mut self, what: &str) -> String {
        self.next += 1;
        format!("{what}-w{}-{:06}", self.worker, self.next)
    }

    /// The next write: keep a few credentials, mostly update them, delete now and then
    /// (the oldest).
    fn next_op(&mut self) -> Op {
        let step = self.next;
        let targets: Vec<&String> = self
            .live
            .keys()
            .filter(|name| !self.protected.contains(*name))
            .collect();
        if targets.len() < 3 || step.is_multiple_of(5) {
            let name = self.fresh("chaos");
            let value = self.fresh("sk_chaos_secret");
            Op::Create { name, value }
        } else if step.is_multiple_of(7) {
            let name = targets[0].clone();
            self.next += 1;
            Op::Delete { name }
        } else {
            let index = usize::try_from(step).expect("small") % targets.len();
            let name = targets[index].clone();
            let value = self.fresh("sk_chaos_secret");
            Op::Patch { name, value }
        }
    }
}

/// What the workers of a burst share.
struct Burst {
    api: Api,
    token: String,
    origin: String,
    acks: AtomicUsize,
    stop: AtomicBool,
    /// Set just before the SIGKILL: from then on, a refused connection is expected.
    killed: AtomicBool,
}

impl Burst {
    fn new(api: &Api, token: &str, upstream: &Upstream) -> Self {
        Self {
            api: api.clone(),
            token: token.to_owned(),
            origin: upstream.origin(),
            acks: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            killed: AtomicBool::new(false),
        }
    }
}

/// Sends `op`; on a 2xx the ledger records it. `Ok(false)`: the server is gone (the op
/// stays in flight); `Err`: an answer that is neither.
async fn perform(burst: &Burst, ledger: &mut Ledger, op: Op) -> Result<bool, String> {
    let api = &burst.api;
    let request = match &op {
        Op::Create { name, value } => api
            .request(Method::POST, "/credentials")
            .json(&json!({"name": name, "type": "api_key", "value": value,
                    "allowedHosts": [burst.origin]})),
        Op::Patch { name, value } => {
            let id = &ledger.live[name].id;
            api.request(Method::PATCH, &format!("/credentials/{id}"))
                .json(&json!({"value": value}))
        }
        Op::Delete { name } => {
            let id = &ledger.live[name].id;
            api.request(Method::DELETE, &format!("/credentials/{id}"))
        }
    };
    ledger.in_flight = Some(op.clone());
    let response = match request.bearer_auth(&burst.token).send().await {
        Ok(response) => response,
        Err(_) if burst.killed.load(Ordering::SeqCst) => return Ok(false),
        Err(error) => return Err(format!("{op:?}: transport error before the kill: {error}")),
    };
    let status = response.status();
    let body: Value = if status == StatusCode::NO_CONTENT {
        Value::Null
    } else {
        match response.json().await {
            Ok(body) => body,
            // The status line arrived, the body did not: the server died in between.
            Err(_) if burst.killed.load(Ordering::SeqCst) && status.is_success() => {
                return Ok(false);
            }
            Err(error) => return Err(format!("{op:?}: {status} with an unreadable body: {error}")),
        }
    };
    if !status.is_success() {
        return Err(format!("{op:?}: {status} {body}"));
    }
    let version = || {
        body["revision"]
            .as_i64()
            .ok_or(format!("no version in {body}"))
    };
    match op {
        Op::Create { name, value } => {
            let id = body["id"].as_str().ok_or(format!("no id in {body}"))?;
            let known = Known {
                id: id.to_owned(),
                value,
                version: version()?,
            };
            ledger.live.insert(name, known);
        }
        Op::Patch { name, value } => {
            let version = version()?;
            let known = ledger.live.get_mut(&name).expect("owned");
            known.value = value;
            known.version = version;
        }
        Op::Delete { name } => {
            let known = ledger.live.remove(&name).expect("owned");
            ledger.deleted.insert(name, known.id);
        }
    }
    ledger.in_flight = None;
    ledger.acked += 1;
    burst.acks.fetch_add(1, Ordering::SeqCst);
    Ok(true)
}

/// A worker: writes until told to stop or the server is gone.
async fn work(burst: Arc<Burst>, mut ledger: Ledger) -> Ledger {
    while !burst.stop.load(Ordering::SeqCst) {
        let op = ledger.next_op();
        match perform(&burst, &mut ledger, op).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(why) => {
                ledger.unexpected.push(why);
                break;
            }
        }
    }
    ledger
}

fn start_burst(
    server: &Server,
    token: &str,
    upstream: &Upstream,
    ledgers: Vec<Ledger>,
) -> (Arc<Burst>, Vec<tokio::task::JoinHandle<Ledger>>) {
    let burst = Arc::new(Burst::new(&bounded_api(server), token, upstream));
    let workers = ledgers
        .into_iter()
        .map(|ledger| tokio::spawn(work(burst.clone(), ledger)))
        .collect();
    (burst, workers)
}

/// Waits for the workers (they stop at once once the server is gone) and checks that
/// nothing but acknowledgements came back before the kill.
async fn collect(workers: Vec<tokio::task::JoinHandle<Ledger>>) -> Vec<Ledger> {
    let mut ledgers = Vec::new();
    for worker in workers {
        let ledger = tokio::time::timeout(DEADLINE, worker)
            .await
            .expect("the worker ends")
            .expect("the worker ran");
        assert!(
            ledger.unexpected.is_empty(),
            "worker {}: {:?}",
            ledger.worker,
            ledger.unexpected
        );
        ledgers.push(ledger);
    }
    ledgers
}

/// Every credential of the organization, by name.
async fn list_all(api: &Api, token: &str) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for item in api.list_all("/credentials", token).await {
        let name = item["name"].as_str().expect("name").to_owned();
        assert!(
            all.insert(name.clone(), item).is_none(),
            "{name} listed twice"
        );
    }
    all
}

/// Uses credential `id` through the proxy and returns the `X-API-Key` the upstream got.
async fn use_credential(
    api: &Api,
    token: &str,
    upstream: &Upstream,
    id: &str,
) -> Result<String, String> {
    let path = format!("/record/use/{id}");
    let used = api
        .proxy(
            id,
            token,
            &json!({"method": "GET", "url": upstream.url(&path)}),
        )
        .await;
    if used.status != StatusCode::OK {
        return Err(format!("use of {id}: {} {}", used.status, used.body));
    }
    let got = upstream.last();
    if got.path != path {
        return Err(format!("the upstream's last request is {}", got.path));
    }
    match got.header("x-api-key").as_slice() {
        [value] => Ok((*value).to_owned()),
        other => Err(format!("use of {id}: X-API-Key {other:?}")),
    }
}

/// What [`reconcile`] found.
#[derive(Debug, Default)]
struct Reconciled {
    /// Credentials that opened with the expected secret.
    checked: usize,
    /// Writes in flight at the kill that had committed, and that had not.
    committed: usize,
    not_committed: usize,
}

/// After a crash: settles each worker's in-flight write by what the database says, then
/// checks that the database holds exactly what the ledgers say, every secret opening.
async fn reconcile(
    api: &Api,
    token: &str,
    upstream: &Upstream,
    ledgers: &mut [Ledger],
) -> Reconciled {
    let listed = list_all(api, token).await;
    let mut found = Reconciled::default();
    let mut expected = BTreeSet::new();
    for ledger in ledgers.iter_mut() {
        // Not acknowledged: it may have committed (then exactly as sent), or not.
        let in_flight = ledger.in_flight.is_some();
        let committed = match ledger.in_flight.take() {
            None => None,
            Some(Op::Create { name, value }) => listed.get(&name).map(|item| {
                let id = item.id();
                let version = item["revision"].as_i64().expect("version");
                ledger.live.insert(name, Known { id, value, version });
            }),
            Some(Op::Patch { name, value }) => {
                let known = ledger.live.get_mut(&name).expect("owned");
                let version = listed
                    .get(&name)
                    .and_then(|item| item["revision"].as_i64())
                    .unwrap_or_else(|| panic!("{name}: acknowledged, not listed"));
                if version == known.version + 1 {
                    known.value = value;
                    known.version = version;
                    Some(())
                } else {
                    assert_eq!(
                        version, known.version,
                        "{name}: the version is the acknowledged one or the one in flight"
                    );
                    None
                }
            }
            Some(Op::Delete { name }) => (!listed.contains_key(&name)).then(|| {
                let known = ledger.live.remove(&name).expect("owned");
                ledger.deleted.insert(name, known.id);
            }),
        };
        match (in_flight, committed) {
            (true, Some(())) => found.committed += 1,
            (true, None) => found.not_committed += 1,
            (false, _) => {}
        }
        expected.extend(ledger.live.keys().cloned());
    }
    let listed_names: BTreeSet<String> = listed.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&listed_names).collect();
    let unknown: Vec<_> = listed_names.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "acknowledged credentials lost: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "credentials nobody created (or whose delete was acknowledged): {unknown:?}"
    );

    for ledger in ledgers.iter() {
        for (name, known) in &ledger.live {
            let item = &listed[name];
            assert_eq!(item["id"].as_str(), Some(known.id.as_str()), "{name}");
            assert_eq!(item["revision"].as_i64(), Some(known.version), "{name}");
            let seen = use_credential(api, token, upstream, &known.id)
                .await
                .unwrap_or_else(|why| panic!("{name} does not open: {why}"));
            assert_eq!(
                seen, known.value,
                "{name}: the upstream got another secret than the last acknowledged one"
            );
            found.checked += 1;
        }
        for (name, id) in &ledger.deleted {
            let gone = api.get(&format!("/credentials/{id}"), token).await;
            assert_eq!(
                gone.status,
                StatusCode::NOT_FOUND,
                "{name} was deleted: {}",
                gone.body
            );
        }
    }
    found
}

/// One write of each kind, each acknowledged: the server takes writes.
async fn takes_writes(api: &Api, token: &str, upstream: &Upstream) {
    let burst = Burst::new(api, token, upstream);
    let mut ledger = Ledger::new(WORKERS + 1);
    let name = ledger.fresh("after");
    let value = ledger.fresh("sk_after_secret");
    let ops = [
        Op::Create {
            name: name.clone(),
            value,
        },
        Op::Patch {
            name: name.clone(),
            value: ledger.fresh("sk_after_secret"),
        },
    ];
    for op in ops {
        perform(&burst, &mut ledger, op)
            .await
            .expect("acknowledged");
    }
    let id = ledger.live[&name].id.clone();
    let seen = use_credential(api, token, upstream, &id)
        .await
        .expect("opens");
    assert_eq!(seen, ledger.live[&name].value);
    perform(&burst, &mut ledger, Op::Delete { name })
        .await
        .expect("acknowledged");
}

async fn kill_during_writes(backend: Backend) {
    let key = new_key();
    let Some(installation) = Installation::new(backend, &key) else {
        return;
    };
    let token = &installation.token;
    let upstream = start_upstream().await;
    let mut ledgers: Vec<Ledger> = (0..WORKERS).map(Ledger::new).collect();
    let mut server = Server::start(vault(&installation, &key, None));
    for round in 1..=ROUNDS {
        let started = Instant::now();
        let (burst, workers) = start_burst(&server, token, &upstream, ledgers);
        // Kill while the burst is in full swing, not at its start or end.
        while burst.acks.load(Ordering::SeqCst) < ACKS_BEFORE_KILL {
            assert!(
                started.elapsed() < DEADLINE,
                "only {} writes acknowledged",
                burst.acks.load(Ordering::SeqCst)
            );
            if workers.iter().any(tokio::task::JoinHandle::is_finished) {
                // Only an unexpected answer stops a worker now: `collect` shows which.
                burst.stop.store(true, Ordering::SeqCst);
                collect(workers).await;
                panic!("a worker stopped before the kill");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        burst.killed.store(true, Ordering::SeqCst);
        server.kill();
        burst.stop.store(true, Ordering::SeqCst);
        ledgers = collect(workers).await;
        let acked: usize = ledgers.iter().map(|l| l.acked).sum();
        let burst_time = started.elapsed();

        server = Server::start(vault(&installation, &key, None));
        let found = reconcile(&bounded_api(&server), token, &upstream, &mut ledgers).await;
        eprintln!(
            "chaos ({}): round {round}: killed after {} acknowledged writes in this round \
             ({acked} in all) in {burst_time:?}; of the writes in flight {} had committed, {} \
             had not; after the restart {} credentials open with their last acknowledged \
             secret (checked in {:?})",
            backend.name(),
            burst.acks.load(Ordering::SeqCst),
            found.committed,
            found.not_committed,
            found.checked,
            started.elapsed() - burst_time,
        );
    }
    takes_writes(&bounded_api(&server), token, &upstream).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_write_through_sigkills() {
    kill_during_writes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_acknowledged_write_through_sigkills() {
    kill_during_writes(Backend::Postgres).await;
}

/// `GET /admin/keys`'s `rowsUnderOldKeys`.
async fn rows_under_old_keys(api: &Api, token: &str) -> u64 {
    api.admin_keys(token).await["rowsUnderOldKeys"]
        .as_u64()
        .expect("a count")
}

async fn kill_during_rewrap(backend: Backend) {
    let (old, new) = (new_key(), new_key());
    let Some(installation) = Installation::new(backend, &old) else {
        return;
    };
    let token = &installation.token;
    let upstream = start_upstream().await;

    // Under the old key: 96 credentials, every other one with two more versions (those the
    // burst leaves alone, so that their old versions are still there to restore).
    let server = Server::start(vault(&installation, &old, None));
    let seeding = Burst::new(&bounded_api(&server), token, &upstream);
    let mut ledgers: Vec<Ledger> = (0..WORKERS).map(Ledger::new).collect();
    let mut with_versions = Vec::new();
    for i in 0..96 {
        let ledger = &mut ledgers[i % WORKERS];
        let name = ledger.fresh("seed");
        let first = ledger.fresh("sk_old_secret");
        let create = Op::Create {
            name: name.clone(),
            value: first.clone(),
        };
        perform(&seeding, ledger, create).await.expect("created");
        if i.is_multiple_of(2) {
            for _ in 0..2 {
                let value = ledger.fresh("sk_old_secret");
                let patch = Op::Patch {
                    name: name.clone(),
                    value,
                };
                perform(&seeding, ledger, patch).await.expect("updated");
            }
            with_versions.push((ledger.live[&name].id.clone(), first));
            ledger.protected.insert(name);
        }
    }
    server.stop();

    // The new key, the old one kept; writes go on while a slow rewrap runs; both die.
    let server = Server::start(vault(&installation, &new, Some(&old)));
    let api = bounded_api(&server);
    let under_old = rows_under_old_keys(&api, token).await;
    let started = Instant::now();
    let (burst, workers) = start_burst(&server, token, &upstream, ledgers);
    let mut rewrap = vault(&installation, &new, Some(&old));
    rewrap
        .args(["keys", "rewrap", "--batch", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut rewrap = rewrap.spawn().expect("the rewrap starts");
    let at_kill = loop {
        let remaining = rows_under_old_keys(&api, token).await;
        // Half way, with writes acknowledged meanwhile.
        if remaining <= under_old / 2 && burst.acks.load(Ordering::SeqCst) >= 20 {
            break remaining;
        }
        assert!(
            rewrap.try_wait().expect("poll").is_none(),
            "the rewrap finished before the kill ({remaining} of {under_old} rows left)"
        );
        assert!(
            started.elapsed() < DEADLINE,
            "no progress: {remaining} of {under_old}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // The rewrap first: it is what must be caught half way, and it runs fast.
    rewrap.kill().expect("SIGKILL the rewrap");
    burst.killed.store(true, Ordering::SeqCst);
    server.kill();
    rewrap.wait().expect("reaped");
    burst.stop.store(true, Ordering::SeqCst);
    let mut ledgers = collect(workers).await;
    let acked = burst.acks.load(Ordering::SeqCst);

    // Restarted half way: every acknowledged write there and opening, old rows still old.
    let server = Server::start(vault(&installation, &new, Some(&old)));
    let api = bounded_api(&server);
    let after_kill = rows_under_old_keys(&api, token).await;
    assert!(
        after_kill > 0 && after_kill <= at_kill,
        "killed half way: {after_kill} rows under the old key (of {under_old}, {at_kill} seen at the kill)"
    );
    let found = reconcile(&api, token, &upstream, &mut ledgers).await;

    // The rewrap run again finishes.
    let mut rerun = vault(&installation, &new, Some(&old));
    rerun.args(["keys", "rewrap", "--batch", "25"]);
    let report = run_ok(rerun);
    assert!(
        report.contains("0 rows remain under older keys"),
        "{report}"
    );
    assert_eq!(rows_under_old_keys(&api, token).await, 0);
    server.stop();

    // The old key dropped: every credential opens, and so do the old versions.
    let server = Server::start(vault(&installation, &new, None));
    let api = bounded_api(&server);
    let reopened = reconcile(&api, token, &upstream, &mut ledgers)
        .await
        .checked;
    let mut restored = 0;
    for (id, first) in &with_versions {
        let restore = api.restore_version(id, 1, token).await;
        assert_eq!(
            restore.status,
            StatusCode::OK,
            "version 1 of {id} opens: {}",
            restore.body
        );
        let seen = use_credential(&api, token, &upstream, id)
            .await
            .unwrap_or_else(|why| panic!("{id} restored does not open: {why}"));
        assert_eq!(&seen, first, "{id}: version 1 restored");
        restored += 1;
    }
    server.stop();
    eprintln!(
        "chaos ({}): rewrap killed with {at_kill} of {under_old} rows under the old key \
         ({after_kill} after the restart), {acked} writes acknowledged meanwhile (of those in \
         flight {} had committed, {} had not); {} credentials open after the restart, \
         {reopened} under the new key alone, {restored} old versions restored; {:?} in all",
        backend.name(),
        found.committed,
        found.not_committed,
        found.checked,
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rewrap_killed_with_the_server_finishes_when_rerun() {
    kill_during_rewrap(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rewrap_killed_with_the_server_finishes_when_rerun() {
    kill_during_rewrap(Backend::Postgres).await;
}

mod full_disk;
