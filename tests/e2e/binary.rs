//! The real `vault-server` binary, as a newcomer and an operator run it: the zero-config
//! development run, `bootstrap`, `keys generate`, refusals at start-up, graceful shutdown,
//! and no secret in the logs even at debug level.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::server::succeeded;
use crate::helpers::upstream::start_upstream;
use crate::helpers::{
    Api, BIN, Id, Reply, Server, TestServer, canary, command, http_client, run_ok,
};

/// A command in development mode, as `make run` starts the server.
fn dev_command(dir: &std::path::Path) -> Command {
    let mut cmd = command(dir);
    cmd.env("VAULT_DEV_MODE", "true");
    cmd
}

fn admin_key_from_banner(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("vlt_") && w.len() == 50)
        .unwrap_or_else(|| panic!("no access key in: {stdout}"))
        .to_owned()
}

fn wait_for(stdout: &Arc<Mutex<String>>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = stdout.lock().expect("lock").clone();
        if out.contains(needle) {
            return out;
        }
        assert!(Instant::now() < deadline, "never saw {needle:?} in {out}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn the_zero_config_run_creates_everything_and_prints_the_key_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dev_command(dir.path()));
    let stdout = wait_for(&server.stdout, "export TOKEN=");
    let token = admin_key_from_banner(&stdout);

    // Data directory, database and a 0600 development key beside it.
    let key_file = dir.path().join("data/encryption.key");
    assert!(dir.path().join("data/vault.db").exists());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file)
            .expect("key file")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        server
            .stderr
            .lock()
            .expect("lock")
            .contains("PRODUCTION MUST SET ITS OWN ENCRYPTION_KEY")
    );

    // The seed's calls with that key.
    let created = Api::new(&server.base)
        .create_credential(
            &token,
            &json!({"name": "Stripe API Key", "type": "api_key", "value": "sk_live_0123456789",
                    "description": "Production Stripe key"}),
        )
        .await;
    let (out, _) = server.stop();
    assert_eq!(
        out.matches("vlt_").count(),
        2,
        "the key is printed in the banner and its export line only"
    );

    // Second run: same key file, same data, no new organization, no key printed.
    let server = Server::start(dev_command(dir.path()));
    let list = Api::new(&server.base)
        .get("/credentials", &token)
        .await
        .json();
    assert_eq!(list["items"][0]["id"], created["id"]);
    let (out, _) = server.stop();
    assert!(
        !out.contains("vlt_"),
        "the admin key is printed once only: {out}"
    );
}

#[tokio::test]
async fn debug_logs_never_contain_a_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = String::from_utf8(
        command(dir.path())
            .args(["keys", "generate"])
            .output()
            .expect("run")
            .stdout,
    )
    .expect("utf8");
    let with_key = || {
        let mut cmd = command(dir.path());
        cmd.env("ENCRYPTION_KEY", key.trim())
            .env("RUST_LOG", "debug")
            .env("VAULT_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1");
        cmd
    };
    let output = with_key()
        .args(["bootstrap", "--org", "acme"])
        .output()
        .expect("bootstrap");
    assert!(output.status.success());
    let token = String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_owned();

    let server = Server::start(with_key());
    let api = Api::new(&server.base);
    let mut canaries = Vec::new();
    let bodies = [
        json!({"name": "a", "type": "api_key", "value": canary("a")}),
        json!({"name": "b", "type": "bearer_token", "value": canary("b")}),
        json!({"name": "c", "type": "basic_auth", "username": "u", "password": canary("c")}),
        json!({"name": "d", "type": "oauth2", "clientId": "id", "clientSecret": canary("d"), "tokenUrl": "https://idp.example.com/token", "allowedHosts": ["idp.example.com"]}),
        json!({"name": "e", "type": "jwt", "algorithm": "HS256", "secret": canary("e")}),
        json!({"name": "f", "type": "custom", "headers": {"X-Key": canary("f")}}),
        // Error paths with secrets in them.
        json!({"name": "g", "type": "jwt", "algorithm": "RS256", "secret": canary("g")}),
        json!({"name": "h", "type": "bearer_token", "value": canary("h"), "bogus": canary("h2")}),
        json!({"name": "i", "type": "bearer_token", "value": format!("{}\r\nX: y", canary("i"))}),
        json!({"name": "j", "type": "api_key", "value": canary("j"), "placement": {"in": canary("j2")}}),
    ];
    for body in &bodies {
        for value in body.as_object().expect("object").values() {
            collect_canaries(value, &mut canaries);
        }
        let response = api
            .call(Method::POST, "/credentials", &token, Some(body))
            .await;
        if response.status == StatusCode::CREATED {
            let created = response.json();
            let id = created.id();
            let _ = api.get(&format!("/credentials/{id}"), &token).await;
            if matches!(created["type"].as_str(), Some("api_key" | "bearer_token")) {
                let rotated = canary("rotated");
                canaries.push(rotated.clone());
                let response = api
                    .update_credential(&id, &token, &json!({"value": rotated}))
                    .await;
                assert_eq!(response.status, StatusCode::OK);
            }
        }
    }
    let raw = canary("raw");
    canaries.push(raw.clone());
    let _ = Reply::send(
        api.request(Method::POST, "/credentials")
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(format!("{{\"value\": \"{raw}\"")),
    )
    .await;
    let _ = api.get("/credentials", &format!("{raw}x")).await;
    // The audit chain's own outputs: the events with their links, the signed checkpoints
    // (once the server has made one), and what `audit verify` prints.
    let mut chain_outputs = vec![api.get("/audit-events?limit=100", &token).await.body];
    let checkpoints = crate::helpers::eventually(
        std::time::Duration::from_secs(30),
        "a checkpoint",
        async || {
            let page = api.get("/audit-events/checkpoints", &token).await.body;
            page.contains("\"sequence\"").then_some(page)
        },
    )
    .await;
    chain_outputs.push(checkpoints);
    let (stdout, stderr) = server.stop();
    let verified = with_key()
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(verified.status.success(), "{verified:?}");
    chain_outputs.push(String::from_utf8_lossy(&verified.stdout).into_owned());
    chain_outputs.push(String::from_utf8_lossy(&verified.stderr).into_owned());
    for c in &canaries {
        assert!(
            chain_outputs.iter().all(|out| !out.contains(c.as_str())),
            "secret {c} in the audit chain's outputs"
        );
    }
    assert!(
        stderr.contains("DEBUG") || stderr.contains("debug"),
        "debug logging was on"
    );
    for c in &canaries {
        assert!(
            !stdout.contains(c.as_str()) && !stderr.contains(c.as_str()),
            "secret {c} in the logs"
        );
    }
    assert!(!stderr.contains(&token), "the access key is not logged");
}

fn collect_canaries(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.contains("CANARY-") => {
            out.extend(
                s.split(['\r', '\n'])
                    .filter(|p| p.starts_with("CANARY-"))
                    .map(str::to_owned),
            );
        }
        Value::Object(map) => map.values().for_each(|v| collect_canaries(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_canaries(v, out)),
        _ => {}
    }
}

#[test]
fn bootstrap_prints_only_the_key_on_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = succeeded(
        dev_command(dir.path()).args(["bootstrap", "--org", "acme"]),
        "",
    );
    let stdout = String::from_utf8(output.stdout).expect("utf8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("vlt_") && lines[0].len() == 50);
    let again = dev_command(dir.path())
        .args(["bootstrap", "--org", "other"])
        .output()
        .expect("run");
    assert!(again.status.success());
    assert_ne!(String::from_utf8(again.stdout).expect("utf8"), stdout);
    // A second organization of a name is refused, saying how to get a key for the first.
    let twice = dev_command(dir.path())
        .args(["bootstrap", "--org", " acme "])
        .output()
        .expect("run");
    assert!(!twice.status.success(), "acme made twice");
    assert!(
        twice.stdout.is_empty(),
        "a key printed for a refused bootstrap"
    );
    let said = String::from_utf8_lossy(&twice.stderr);
    assert!(
        said.contains("exists already") && said.contains("vault-server access-keys create --org"),
        "{said}"
    );
}

#[test]
fn keys_generate_prints_a_fresh_32_byte_key() {
    let run = || {
        let output = Command::new(BIN)
            .args(["keys", "generate"])
            .output()
            .expect("run");
        assert!(output.status.success());
        String::from_utf8(output.stdout)
            .expect("utf8")
            .trim()
            .to_owned()
    };
    let (a, b) = (run(), run());
    assert_ne!(a, b);
    assert_eq!(a.len(), 44, "{a}");
    assert!(vault_cipher_ring::KeyEncryptionKey::parse(&a).is_ok());
}

fn refusal(cmd: &mut Command) -> String {
    let output = cmd.output().expect("run");
    assert!(!output.status.success(), "should refuse to start");
    let stderr = String::from_utf8(output.stderr).expect("utf8");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    stderr
}

#[test]
fn a_wrong_or_malformed_key_is_refused_at_start_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_a = "mF75/+YeS+jerReLI78fPO1wluHyiIHXXch8ciVfwnM=";
    let key_b = "7kUqB2s0xvY1QbFh9rN3JmZc8pWdLtE4aGoXiCy5HgA=";
    let ok = command(dir.path())
        .env("ENCRYPTION_KEY", key_a)
        .args(["bootstrap", "--org", "acme"])
        .output()
        .expect("run");
    assert!(ok.status.success());

    let stderr = refusal(command(dir.path()).env("ENCRYPTION_KEY", key_b));
    assert!(
        stderr.contains("ENCRYPTION_KEY does not match this database"),
        "{stderr}"
    );

    let stderr = refusal(command(dir.path()).env("ENCRYPTION_KEY", "too-short"));
    assert!(stderr.contains("keys generate"), "{stderr}");
    assert!(
        !stderr.contains("too-short"),
        "the key is not echoed: {stderr}"
    );

    // The right key as a previous key still opens the database.
    succeeded(
        command(dir.path())
            .env("ENCRYPTION_KEY", key_b)
            .env("ENCRYPTION_KEYS_PREVIOUS", key_a)
            .args(["bootstrap", "--org", "after-rotation"]),
        "",
    );

    let stderr = refusal(command(dir.path()).env("DATABASE_URL", "mysql://nope"));
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");

    let stderr = refusal(
        command(dir.path())
            .env("ENCRYPTION_KEY", key_a)
            .env("VAULT_BIND", "not-an-address"),
    );
    assert!(stderr.contains("VAULT_BIND"), "{stderr}");
}

#[test]
fn json_logs_and_a_config_file_are_honoured_and_foreign_vault_variables_ignored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("vault.toml");
    std::fs::write(
        &config,
        "dev_organization = \"from-file\"\nlog_format = \"json\"\n",
    )
    .expect("write");
    let mut cmd = dev_command(dir.path());
    cmd.args(["--config", config.to_str().expect("utf8")])
        // HashiCorp Vault's client variables must not disturb this server.
        .env("VAULT_ADDR", "https://vault.example.com")
        .env("VAULT_TOKEN", "hvs.something");
    let server = Server::start(cmd);
    let stdout = wait_for(&server.stdout, "export TOKEN=");
    assert!(stdout.contains("\"from-file\""), "{stdout}");
    let (_, stderr) = server.stop();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(parsed.get("level").is_some(), "{line}");
    }

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "bnid = \"typo\"\n").expect("write");
    let stderr = refusal(command(dir.path()).args(["--config", broken.to_str().expect("utf8")]));
    assert!(stderr.contains("bnid"), "{stderr}");
}

#[test]
fn a_sigterm_right_after_listening_stops_gracefully() {
    use std::io::{BufRead as _, BufReader, Read as _};
    use std::process::Stdio;

    // A supervisor may stop the server the moment it reports ready; the signal handlers
    // must already be in place then. Sent with no delay, several times, to hit the window.
    let dir = tempfile::tempdir().expect("temp dir");
    for round in 0..5 {
        let mut child = dev_command(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn vault-server");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut log = String::new();
        loop {
            let mut line = String::new();
            let read = stderr.read_line(&mut line).expect("read stderr");
            assert!(read > 0, "round {round}: exited before listening: {log}");
            log.push_str(&line);
            if line.contains("vault listening on") {
                break;
            }
        }
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("kill");
        assert!(sent.success());
        stderr.read_to_string(&mut log).expect("read stderr");
        let exit = child.wait().expect("wait");
        assert!(exit.success(), "round {round}: exited with {exit}: {log}");
        assert!(log.contains("SIGTERM: stopping"), "round {round}: {log}");
        assert!(log.contains("vault stopped"), "round {round}: {log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigterm_lets_requests_in_flight_finish_and_takes_no_new_ones() {
    let upstream = start_upstream().await;
    let app = TestServer::start(&[("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")]);
    let (api, admin) = (app.api.clone(), app.token.clone());
    let base = api.base.clone();
    let created = api
        .create_credential(
            &admin,
            &json!({"name": "slow", "type": "bearer_token", "value": "tok-graceful-1",
                      "allowedHosts": [upstream.origin()]}),
        )
        .await;
    let id = created.id();

    // A use whose upstream takes 5 s, in flight when the signal comes.
    let in_flight = tokio::spawn({
        let (api, admin) = (api.clone(), admin.clone());
        let url = upstream.url("/slow");
        async move {
            let answer = api
                .proxy(&id, &admin, &json!({"method": "GET", "url": url}))
                .await;
            (answer.status, answer.body)
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !upstream.requests().iter().any(|r| r.path == "/slow") {
        assert!(
            Instant::now() < deadline,
            "the use never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stopped = tokio::task::spawn_blocking(move || app.stop());

    // Once stopping, the server takes no new connection, while the use is still upstream.
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let fresh = http_client().build().expect("an HTTP client");
        if fresh.get(format!("{base}/healthz")).send().await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still taking connections");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!in_flight.is_finished(), "the use ended before the check");

    let (status, body) = in_flight.await.expect("the use's task");
    assert_eq!((status.as_u16(), body.as_str()), (200, "slow-ok"));
    // `stop` asserts the exit status: 0.
    let (_, stderr) = stopped.await.expect("stop");
    assert!(stderr.contains("SIGTERM: stopping"), "{stderr}");
    assert!(upstream.requests()[0].header("authorization") == ["Bearer tok-graceful-1"]);
}

// ---------------------------------------------------------------------------------------
// Issue 14: key material read as text, weak keys, planted key files, admin commands
// ---------------------------------------------------------------------------------------

/// Runs `cmd`, which must fail; its stderr must name `needle` and contain none of `hidden`.
fn refused_without(cmd: &mut Command, needle: &str, hidden: &[&str]) -> String {
    let stderr = refusal(cmd);
    assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    for value in hidden {
        assert!(
            !stderr.contains(value),
            "the value {value} is echoed: {stderr}"
        );
    }
    stderr
}

/// 32 random bytes whose hex is only digits (each nibble 0-9), random enough to be a key.
fn digit_only_hex_key() -> String {
    loop {
        let bytes: Vec<u8> = (0..32)
            .map(|_| fastrand::u8(0..10) << 4 | fastrand::u8(0..10))
            .collect();
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let key = vault_cipher_ring::KeyEncryptionKey::parse(&text).expect("64 hex digits");
        if key.check_random().is_ok() {
            assert!(text.bytes().all(|b| b.is_ascii_digit()));
            return text;
        }
    }
}

#[test]
fn key_material_is_read_as_text_and_never_echoed() {
    // A valid hex key made only of digits: the config layer once read it as a number.
    let dir = tempfile::tempdir().expect("temp dir");
    let digits = digit_only_hex_key();
    for name in ["ENCRYPTION_KEY", "VAULT_ENCRYPTION_KEY"] {
        succeeded(
            command(dir.path())
                .env(name, &digits)
                .args(["bootstrap", "--org", name]),
            name,
        );
    }
    // ... and as a previous key, after a rotation.
    succeeded(
        command(dir.path())
            .env(
                "ENCRYPTION_KEY",
                "7kUqB2s0xvY1QbFh9rN3JmZc8pWdLtE4aGoXiCy5HgA=",
            )
            .env("ENCRYPTION_KEYS_PREVIOUS", &digits)
            .args(["bootstrap", "--org", "rotated"]),
        "",
    );

    // Values that fit a number (or a boolean) are refused as keys, and never shown.
    let fresh = tempfile::tempdir().expect("temp dir");
    for value in [
        "1234567890123456789",
        "98765432109876",
        "true",
        "-42",
        "3.25",
    ] {
        refused_without(
            command(fresh.path())
                .env("ENCRYPTION_KEY", value)
                .args(["keys", "status"]),
            "keys generate",
            &[value],
        );
        refused_without(
            command(fresh.path())
                .env("ENCRYPTION_KEY", &digits)
                .env("ENCRYPTION_KEYS_PREVIOUS", value)
                .args(["keys", "status"]),
            "ENCRYPTION_KEYS_PREVIOUS",
            &[value],
        );
    }
    // 64 hex digits with leading zeros fit a number: once refused with the number echoed,
    // now refused as what it is (not random), echoing nothing.
    let zeros = format!("{}1234567890123456", "0".repeat(48));
    let stderr = refused_without(
        command(fresh.path())
            .env("ENCRYPTION_KEY", &zeros)
            .args(["keys", "status"]),
        "not random",
        &["1234567890123456"],
    );
    assert!(stderr.contains("keys generate"), "{stderr}");

    // An identity-provider secret: the wrong type in the environment is not echoed.
    let secret = "12345678901234567890";
    let output = command(fresh.path())
        .env("ENCRYPTION_KEY", &digits)
        .env("VAULT_IDP_HS256_SECRETS", secret)
        .env("VAULT_IDP_ISSUER", "https://login.example.com/")
        .env("VAULT_IDP_AUDIENCE", "vault")
        .args(["bootstrap", "--org", "idp"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains(secret), "{stderr}");

    // Unquoted numbers in a config file: refused for the setting, the value not shown.
    for (setting, value) in [
        ("encryption_key", "1234567890123456789"),
        ("encryption_keys_previous", "987654321987654321"),
        ("idp_hs256_secrets", "123456789123456789"),
    ] {
        let file = fresh.path().join(format!("{setting}.toml"));
        std::fs::write(&file, format!("{setting} = {value}\n")).expect("write");
        refused_without(
            command(fresh.path()).args([
                "--config",
                file.to_str().expect("utf8"),
                "keys",
                "status",
            ]),
            setting,
            &[value],
        );
    }
}

#[test]
fn keys_that_are_plainly_not_random_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let weak = [
        (
            "32 zero bytes, base64",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
        ),
        ("32 zero bytes, hex", "0".repeat(64)),
        ("one byte repeated", "41".repeat(32)),
        ("a short pattern", "deadbeef".repeat(8)),
        (
            "a counting sequence",
            (0u8..32).map(|b| format!("{b:02x}")).collect::<String>(),
        ),
        ("a password", hex_of(b"correct horse battery staple!!!!")),
    ];
    for (what, key) in &weak {
        let stderr = refused_without(
            command(dir.path())
                .env("ENCRYPTION_KEY", key)
                .args(["bootstrap", "--org", "acme"]),
            "vault-server keys generate",
            &[key],
        );
        assert!(stderr.contains("not random"), "{what}: {stderr}");
    }
    // As a previous key it still opens what it sealed (refusing it would lock those rows
    // away), with a warning.
    let output = command(dir.path())
        .env(
            "ENCRYPTION_KEY",
            "7kUqB2s0xvY1QbFh9rN3JmZc8pWdLtE4aGoXiCy5HgA=",
        )
        .env("ENCRYPTION_KEYS_PREVIOUS", &weak[0].1)
        .args(["bootstrap", "--org", "acme"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("not a random key"), "{stderr}");
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mode_of(path: &std::path::Path) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(path).expect("metadata").permissions(),
    ) & 0o777
}

#[test]
fn development_mode_keeps_its_files_private_and_refuses_a_planted_key_file() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().expect("temp dir");
    let mut bootstrap = dev_command(dir.path());
    bootstrap.args(["bootstrap", "--org", "acme"]);
    run_ok(bootstrap);
    let data = dir.path().join("data");
    assert_eq!(mode_of(&data), 0o700, "the data directory");
    assert_eq!(mode_of(&data.join("vault.db")), 0o600, "the database");
    assert_eq!(mode_of(&data.join("encryption.key")), 0o600, "the key file");

    // A key someone else knows, in a file anyone can read, linked in place of the key.
    let planted_dir = tempfile::tempdir().expect("temp dir");
    let known = "7kUqB2s0xvY1QbFh9rN3JmZc8pWdLtE4aGoXiCy5HgA=";
    let planted = planted_dir.path().join("known.key");
    std::fs::write(&planted, known).expect("write");
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let fresh = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(fresh.path().join("data")).expect("mkdir");
    let key_file = fresh.path().join("data/encryption.key");
    std::os::unix::fs::symlink(&planted, &key_file).expect("symlink");
    refused_without(
        dev_command(fresh.path()).args(["bootstrap", "--org", "acme"]),
        "symbolic link",
        &[known],
    );
    // Even a link to a private file of ours: the key file must be the file itself.
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    refused_without(
        dev_command(fresh.path()).args(["bootstrap", "--org", "acme"]),
        "symbolic link",
        &[known],
    );

    // The file itself, readable (or writable) by group or others.
    std::fs::remove_file(&key_file).expect("unlink");
    std::fs::copy(&planted, &key_file).expect("copy");
    for mode in [0o644, 0o640, 0o604, 0o620, 0o602] {
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(mode)).expect("chmod");
        refused_without(
            dev_command(fresh.path()).args(["bootstrap", "--org", "acme"]),
            &format!("mode {mode:o}"),
            &[known],
        );
    }
    // A file of another user (only root can make one here).
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    if std::os::unix::fs::chown(&key_file, Some(65534), Some(65534)).is_ok() {
        refused_without(
            dev_command(fresh.path()).args(["bootstrap", "--org", "acme"]),
            "belongs to user id 65534",
            &[known],
        );
        std::os::unix::fs::chown(&key_file, Some(my_uid()), None).expect("chown back");
    }
    // Ours, private: used.
    succeeded(
        dev_command(fresh.path()).args(["bootstrap", "--org", "acme"]),
        "",
    );
}

/// The test process's effective user id, as the owner of a file it just made.
fn my_uid() -> u32 {
    let probe = tempfile::NamedTempFile::new().expect("temp file");
    std::os::unix::fs::MetadataExt::uid(&probe.as_file().metadata().expect("metadata"))
}

#[test]
fn admin_commands_never_fall_back_to_the_development_key_silently() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A development database, then a rotation to a real key (the dev key kept as previous).
    let mut bootstrap = dev_command(dir.path());
    bootstrap.args(["bootstrap", "--org", "acme"]);
    run_ok(bootstrap);
    let dev_key = std::fs::read_to_string(dir.path().join("data/encryption.key")).expect("key");
    let new_key = "7kUqB2s0xvY1QbFh9rN3JmZc8pWdLtE4aGoXiCy5HgA=";
    succeeded(
        command(dir.path())
            .env("ENCRYPTION_KEY", new_key)
            .env("ENCRYPTION_KEYS_PREVIOUS", dev_key.trim())
            .args(["bootstrap", "--org", "after-rotation"]),
        "",
    );

    // Run bare, as the README shows them: every admin command (and the server) refuses.
    for args in [
        &["keys", "status"][..],
        &["keys", "rewrap"],
        &["bootstrap", "--org", "x"],
        &["migrate"],
        &["serve"],
        &[],
    ] {
        let stderr = refused_without(
            command(dir.path()).args(args),
            "ENCRYPTION_KEY is not set",
            &[dev_key.trim(), new_key],
        );
        assert!(
            stderr.contains("vault-server keys generate"),
            "{args:?}: {stderr}"
        );
    }

    // In development mode, a command that uses the key file says so, and `keys status`
    // gives no advice to drop keys on the strength of it.
    let output = dev_command(dir.path())
        .args(["keys", "status"])
        .output()
        .expect("run");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("this command uses the development key file"),
        "{stderr}"
    );
    assert!(stdout.contains("DEVELOPMENT key file"), "{stdout}");
    assert!(!stdout.contains("can be removed"), "{stdout}");
    assert!(!stdout.contains(dev_key.trim()) && !stderr.contains(dev_key.trim()));

    // With the servers' keys, the advice is given as before.
    succeeded(
        command(dir.path())
            .env("ENCRYPTION_KEY", new_key)
            .env("ENCRYPTION_KEYS_PREVIOUS", dev_key.trim())
            .args(["keys", "rewrap"]),
        "",
    );
    let output = command(dir.path())
        .env("ENCRYPTION_KEY", new_key)
        .env("ENCRYPTION_KEYS_PREVIOUS", dev_key.trim())
        .args(["keys", "status"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("can be removed"), "{stdout}");
}

#[test]
fn make_run_turns_development_mode_on() {
    // The zero-configuration `make run` of the README needs development mode, which is
    // off by default.
    let makefile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Makefile"))
        .expect("Makefile");
    let run = makefile
        .split("\nrun:\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect("a run target");
    assert!(
        run.contains("VAULT_DEV_MODE=true") && run.contains("vault-server"),
        "{run}"
    );
}

#[test]
fn an_empty_database_outside_development_mode_says_how_to_make_the_first_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = run_ok({
        let mut cmd = command(dir.path());
        cmd.args(["keys", "generate"]);
        cmd
    });
    let with_key = || {
        let mut cmd = command(dir.path());
        cmd.env("ENCRYPTION_KEY", key.trim())
            .env("VAULT_MIGRATE_ON_START", "true");
        cmd
    };
    let hint = "vault-server bootstrap --org <name>";
    let (_, stderr) = Server::start(with_key()).stop();
    assert!(stderr.contains(hint), "{stderr}");
    run_ok({
        let mut cmd = with_key();
        cmd.args(["bootstrap", "--org", "acme"]);
        cmd
    });
    let (_, stderr) = Server::start(with_key()).stop();
    assert!(!stderr.contains(hint), "an organization exists: {stderr}");
}
