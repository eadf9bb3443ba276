//! The `vault` command-line client against the real `vault-server` binary on a random port:
//! login and its config file, every credential type with secrets from stdin and files
//! (checked on the wire through the proxy), list/get/update/delete, access keys, and the
//! server's errors. No secret given to the client may appear in its argv, its output or
//! the server's.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::SystemTime;

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::upstream::start_upstream;
use crate::helpers::{Api, BIN, Id, Installation, Reply, Server, TestServer, canary};

mod audit;
mod bundles;
mod connect;
mod grants;
mod login;
mod signing;
mod surfaces;
mod tls;
mod webhooks;

/// The `vault` binary, built beside `vault-server`.
///
/// `cargo nextest run -p vault-server` builds only this package's binaries, and a
/// dev-dependency on the binary-only `vault-cli` would not build its binary either
/// (artifact dependencies are not stable). Running cargo from inside the test could wait
/// forever on the build lock that `cargo test` holds. So the simplest robust thing: find
/// the binary where the workspace build puts it, and refuse a missing or stale one with the
/// command that builds it (`make setup` and `cargo build --workspace` do).
fn vault_bin() -> PathBuf {
    let bin = Path::new(BIN).with_file_name("vault");
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "build the workspace first: cargo build -p vault-cli ({} is missing)",
                bin.display()
            )
        });
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault-cli");
    let newest_source =
        newest_mtime(&crate_dir.join("src")).max(newest_mtime(&crate_dir.join("Cargo.toml")));
    assert!(
        built >= newest_source,
        "{} is older than its sources: cargo build -p vault-cli",
        bin.display()
    );
    bin
}

fn newest_mtime(path: &Path) -> SystemTime {
    let here = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    match std::fs::read_dir(path) {
        Ok(entries) => entries
            .map_while(Result::ok)
            .map(|e| newest_mtime(&e.path()))
            .fold(here, SystemTime::max),
        Err(_) => here,
    }
}

/// One run of the client.
#[derive(Clone, Debug)]
struct Run {
    argv: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "vault {:?} failed: {}",
            self.argv, self.stderr
        );
        self
    }

    #[track_caller]
    fn failed(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "vault {:?}: stdout {} stderr {}",
            self.argv, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "vault {:?} printed no JSON ({e}): {}",
                self.argv, self.stdout
            )
        })
    }
}

/// A server with its first organization, and a home directory for the client.
struct Env {
    app: TestServer,
    /// The server's address.
    base: String,
    /// The organization's admin key.
    admin: String,
    home: PathBuf,
    runs: Mutex<Vec<Run>>,
}

impl Env {
    fn start(allow_private_networks: bool) -> Self {
        let allow = allow_private_networks.to_string();
        Self::around(TestServer::start(&[(
            "VAULT_PROXY_ALLOW_PRIVATE_NETWORKS",
            &allow,
        )]))
    }

    /// The client beside `server`, started by the test on an [`Installation`] of its own
    /// (whose key the test knows, for `vault-server` commands on its database).
    fn on(installation: &Installation, server: Server) -> Self {
        Self::around(TestServer {
            api: Api::new(&server.base),
            server,
            token: installation.token.clone(),
            dir: tempfile::tempdir().expect("temp dir"),
        })
    }

    fn around(app: TestServer) -> Self {
        let home = app.dir.path().join("home");
        std::fs::create_dir(&home).expect("home");
        Self {
            base: app.api.base.clone(),
            admin: app.token.clone(),
            app,
            home,
            runs: Mutex::new(Vec::new()),
        }
    }

    /// Where `vault` keeps its config under this HOME (no XDG_CONFIG_HOME).
    fn config_path(&self) -> PathBuf {
        self.home.join(".config/vault/config.toml")
    }

    /// Runs `vault` with `stdin` piped in (so never a terminal) and a clean environment,
    /// in which HashiCorp Vault's variables point elsewhere: they must be ignored.
    fn vault_with(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(vault_bin());
        cmd.args(args)
            .current_dir(self.app.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("VAULT_ADDR", "http://127.0.0.1:9")
            .env("VAULT_TOKEN", "hvs.hashicorp-token-must-not-leak")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            cmd.env(name, value);
        }
        let mut child = cmd.spawn().expect("run vault");
        let mut pipe = child.stdin.take().expect("stdin");
        let input = stdin.to_owned();
        let writer = std::thread::spawn(move || {
            // The client may exit without reading it all.
            let _ = pipe.write_all(input.as_bytes());
        });
        let output = child.wait_with_output().expect("vault ran");
        writer.join().expect("stdin written");
        let run = Run {
            argv: args.iter().map(|a| (*a).to_owned()).collect(),
            code: output.status.code().expect("exit code"),
            stdout: String::from_utf8(output.stdout).expect("utf8"),
            stderr: String::from_utf8(output.stderr).expect("utf8"),
        };
        self.runs.lock().expect("lock").push(run.clone());
        run
    }

    fn vault(&self, args: &[&str]) -> Run {
        self.vault_with(args, "", &[])
    }

    fn vault_in(&self, args: &[&str], stdin: &str) -> Run {
        self.vault_with(args, stdin, &[])
    }

    fn login(&self) {
        self.vault_in(
            &["login", "--server", &self.base, "--key-stdin"],
            &self.admin,
        )
        .ok();
    }

    /// `GET path` with the admin key.
    async fn get(&self, path: &str) -> Reply {
        self.app.api.get(path, &self.admin).await
    }

    /// A file in the test's directory.
    fn file(&self, name: &str, content: &str) -> String {
        let path = self.app.dir.path().join(name);
        std::fs::write(&path, content).expect("written");
        path.display().to_string()
    }

    /// Stops the server; asserts no canary is in any client argv or output, nor in the
    /// server's output.
    fn assert_never_shown(self, canaries: &[String]) {
        let runs = self.runs.into_inner().expect("lock");
        let (out, err) = self.app.stop();
        assert!(!runs.is_empty());
        for c in canaries {
            for run in runs.iter() {
                assert!(
                    !run.argv.join(" ").contains(c.as_str()),
                    "{c} in argv {:?}",
                    run.argv
                );
                assert!(
                    !run.stdout.contains(c.as_str()),
                    "{c} on stdout of {:?}: {}",
                    run.argv,
                    run.stdout
                );
                assert!(
                    !run.stderr.contains(c.as_str()),
                    "{c} on stderr of {:?}: {}",
                    run.argv,
                    run.stderr
                );
            }
            assert!(!out.contains(c.as_str()), "{c} in the server's stdout");
            assert!(!err.contains(c.as_str()), "{c} in the server's stderr");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_is_created_from_stdin_or_a_file_and_no_secret_is_ever_shown() {
    let env = Env::start(true);
    let upstream = start_upstream().await;
    env.login();
    let origin = upstream.origin();
    let mut canaries = Vec::new();
    let mut created = Vec::new();
    let mut create = |args: &[&str], stdin: &str| {
        let mut argv = vec!["credentials", "create", "--json", "--allowed-host", &origin];
        argv.extend_from_slice(args);
        let run = env.vault_in(&argv, stdin).ok();
        let body = run.json();
        created.push(body.clone());
        body.id()
    };

    let api_key = canary("apikey");
    let api_key_id = create(
        &[
            "--type",
            "api_key",
            "--name",
            "Stripe",
            "--placement-name",
            "X-Api-Key",
            "--secret-stdin",
        ],
        &format!("{api_key}\n"),
    );
    let bearer = canary("bearer");
    let bearer_file = env.file("bearer.txt", &format!("{bearer}\n"));
    let bearer_id = create(
        &[
            "--type",
            "bearer_token",
            "--name",
            "GitHub",
            "--expires-at",
            "2031-01-01T00:00:00Z",
            "--secret-file",
            &bearer_file,
        ],
        "",
    );
    let password = canary("password");
    let basic_id = create(
        &[
            "--type",
            "basic_auth",
            "--name",
            "Jenkins",
            "--username",
            "ci-bot",
            "--secret-stdin",
        ],
        &password,
    );
    let client_secret = canary("clientsecret");
    let token_url = upstream.url("/token");
    let oauth_id = create(
        &[
            "--type",
            "oauth2",
            "--name",
            "Auth0",
            "--client-id",
            "client-123",
            "--token-url",
            &token_url,
            "--scope",
            "read:users",
            "--scope",
            "write:users",
            "--client-auth",
            "body",
            "--audience",
            "https://api.example.com",
            "--secret-stdin",
        ],
        &client_secret,
    );
    let jwt_secret = canary("jwtsecret");
    let hs_id = create(
        &[
            "--type",
            "jwt",
            "--name",
            "Internal HS",
            "--algorithm",
            "HS256",
            "--issuer",
            "vault",
            "--subject",
            "svc-a",
            "--audience",
            "svc-b",
            "--claim",
            "tenant=t1",
            "--ttl",
            "120",
            "--secret-stdin",
        ],
        &jwt_secret,
    );
    let pem = std::fs::read_to_string(format!(
        "{}/../vault-jwt/tests/keys/ec-p256.pkcs8.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("test key");
    let pem_file = env.file("ec.pem", &pem);
    let es_id = create(
        &[
            "--type",
            "jwt",
            "--name",
            "Internal ES",
            "--algorithm",
            "ES256",
            "--secret-file",
            &pem_file,
        ],
        "",
    );
    let header = canary("header");
    let custom_id = create(
        &["--type", "custom", "--name", "Partner", "--secret-stdin"],
        &json!({"X-Partner-Key": header, "X-Partner-Id": "partner-42"}).to_string(),
    );
    canaries.extend([
        api_key.clone(),
        bearer.clone(),
        password.clone(),
        client_secret.clone(),
        jwt_secret,
        header.clone(),
    ]);
    // The key's base64 lines, each long enough to be unmistakable.
    canaries.extend(pem.lines().filter(|l| l.len() > 40).map(str::to_owned));

    // The public fields went where the API wants them.
    let types: Vec<&str> = created
        .iter()
        .map(|c| c["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        [
            "api_key",
            "bearer_token",
            "basic_auth",
            "oauth2",
            "jwt",
            "jwt",
            "custom"
        ]
    );
    let oauth = env.get(&format!("/credentials/{oauth_id}")).await.json();
    assert_eq!(oauth["scopes"], json!(["read:users", "write:users"]));
    assert_eq!(oauth["clientAuth"], "body");
    assert_eq!(oauth["audience"], "https://api.example.com");
    let hs = env.get(&format!("/credentials/{hs_id}")).await.json();
    assert_eq!(
        hs["claims"],
        json!({"iss": "vault", "sub": "svc-a", "aud": "svc-b", "tenant": "t1"})
    );
    assert_eq!(hs["ttlSeconds"], 120);
    let bearer_view = env.get(&format!("/credentials/{bearer_id}")).await.json();
    assert_eq!(bearer_view["expiresAt"], "2031-01-01T00:00:00Z");

    // On the wire, through the proxy: each secret is exactly what was given (the file's
    // and stdin's trailing newline dropped).
    let proxy = async |id: String| {
        let call = json!({"method": "GET", "url": upstream.url("/record")});
        let response = env.app.api.proxy(&id, &env.admin, &call).await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    };
    proxy(api_key_id).await;
    assert_eq!(upstream.last().header("x-api-key"), [api_key.as_str()]);
    proxy(bearer_id).await;
    assert_eq!(
        upstream.last().header("authorization"),
        [format!("Bearer {bearer}").as_str()]
    );
    proxy(basic_id).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ci-bot:{password}"));
    assert_eq!(
        upstream.last().header("authorization"),
        [format!("Basic {basic}").as_str()]
    );
    proxy(oauth_id).await;
    let token_request = upstream.state.token_requests.lock().expect("lock")[0].clone();
    let form = String::from_utf8(token_request.body).expect("form");
    assert!(
        form.contains(&format!("client_secret={client_secret}")),
        "{form}"
    );
    proxy(hs_id).await;
    proxy(es_id).await;
    assert!(upstream.last().header("authorization")[0].starts_with("Bearer ey"));
    proxy(custom_id).await;
    assert_eq!(upstream.last().header("x-partner-key"), [header.as_str()]);
    assert_eq!(upstream.last().header("x-partner-id"), ["partner-42"]);

    // The human table shows them all.
    let table = env.vault(&["credentials", "list"]).ok().stdout;
    for name in [
        "Stripe",
        "GitHub",
        "Jenkins",
        "Auth0",
        "Internal HS",
        "Internal ES",
        "Partner",
    ] {
        assert!(table.contains(name), "{name} missing: {table}");
    }
    env.assert_never_shown(&canaries);
}

#[tokio::test]
async fn list_get_update_and_delete() {
    let env = Env::start(false);
    env.login();
    let first_secret = canary("first");
    let id = env
        .vault_in(
            &[
                "credentials",
                "create",
                "--json",
                "--type",
                "bearer_token",
                "--name",
                "Deploy token",
                "--description",
                "for deploys",
                "--secret-stdin",
            ],
            &first_secret,
        )
        .ok()
        .json()
        .id();
    env.vault_in(
        &[
            "credentials",
            "create",
            "--type",
            "basic_auth",
            "--name",
            "Registry",
            "--username",
            "bot",
            "--secret-stdin",
        ],
        "pw-0123456789",
    )
    .ok();

    // list: a table with a header and both names; --json is the server's page.
    let table = env.vault(&["credentials", "list"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].contains("NAME") && lines[0].contains("TYPE"),
        "{table}"
    );
    assert!(
        table.contains("Deploy token") && table.contains("Registry"),
        "{table}"
    );
    // Oldest first, as the help says.
    assert!(
        lines[1].contains("Deploy token") && lines[2].contains("Registry"),
        "{table}"
    );
    let help = env.vault(&["credentials", "list", "--help"]).ok().stdout;
    assert!(help.contains("oldest first"), "{help}");
    let page = env.vault(&["credentials", "list", "--json"]).ok().json();
    assert_eq!(page["items"].as_array().expect("items").len(), 2);
    let one = env.vault(&["credentials", "list", "--limit", "1"]).ok();
    assert_eq!(one.stdout.lines().count(), 2, "{}", one.stdout);
    assert!(one.stderr.contains("--cursor"), "{}", one.stderr);
    let all = env
        .vault(&["credentials", "list", "--limit", "1", "--all", "--json"])
        .ok()
        .json();
    assert_eq!(all["items"].as_array().expect("items").len(), 2);
    let filtered = env
        .vault(&["credentials", "list", "--type", "basic_auth", "--json"])
        .ok()
        .json();
    assert_eq!(filtered["items"][0]["name"], "Registry");
    assert_eq!(filtered["items"].as_array().expect("items").len(), 1);

    // get: a field table, or the JSON.
    let shown = env.vault(&["credentials", "get", &id]).ok().stdout;
    assert!(
        shown.contains("Deploy token") && shown.contains("for deploys"),
        "{shown}"
    );
    assert_eq!(
        env.vault(&["credentials", "get", &id, "--json"])
            .ok()
            .json()["id"],
        id.as_str()
    );

    // update: rename and rotate the secret from a file; the server's version goes up.
    let before = env.get(&format!("/credentials/{id}")).await.json();
    let second_secret = canary("second");
    let file = env.file("new-secret", &second_secret);
    let run = env
        .vault(&[
            "credentials",
            "update",
            &id,
            "--name",
            "Deploy token v2",
            "--no-description",
            "--rotate-secret",
            "--secret-file",
            &file,
        ])
        .ok();
    assert!(run.stdout.contains("Deploy token v2"), "{}", run.stdout);
    let after = env.get(&format!("/credentials/{id}")).await.json();
    assert_eq!(after["name"], "Deploy token v2");
    assert_eq!(after["description"], Value::Null);
    assert_eq!(
        after["revision"],
        before["revision"].as_i64().expect("version") + 1
    );
    assert_ne!(
        after["secretHints"], before["secretHints"],
        "the secret changed"
    );
    let versions = env.get(&format!("/credentials/{id}/versions")).await.json();
    assert_eq!(versions["items"].as_array().expect("versions").len(), 2);
    // A rename alone makes no new secret version.
    env.vault(&["credentials", "update", &id, "--description", "again"])
        .ok();
    let renamed = env.get(&format!("/credentials/{id}")).await.json();
    assert_eq!(renamed["description"], "again");
    // Nothing to change is a usage error.
    env.vault(&["credentials", "update", &id]).failed(2);

    // delete: never without confirmation; stdin is no terminal here, so --yes is needed.
    let run = env
        .vault_in(&["credentials", "delete", &id], "y\n")
        .failed(2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(
        env.get(&format!("/credentials/{id}")).await.status,
        StatusCode::OK
    );
    env.vault(&["credentials", "delete", &id, "--yes"]).ok();
    assert_eq!(
        env.get(&format!("/credentials/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    env.assert_never_shown(&[first_secret, second_secret]);
}

#[tokio::test]
async fn access_keys_are_created_once_listed_and_revoked() {
    let env = Env::start(false);
    env.login();
    let run = env
        .vault(&[
            "access-keys",
            "create",
            "--name",
            "ci",
            "--scope",
            "credentials:read",
        ])
        .ok();
    // The key alone on stdout, once; the warning on stderr.
    let key = run.stdout.trim().to_owned();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(key.starts_with("vlt_") && key.len() == 50, "{key}");
    assert!(run.stderr.contains("shown this once"), "{}", run.stderr);
    assert!(!run.stderr.contains(&key));

    // It works, for what its scope allows.
    assert_eq!(
        env.app.api.get("/credentials", &key).await.status,
        StatusCode::OK
    );
    let as_ci = |args: &[&str]| env.vault_with(args, "", &[("VAULT_CLI_ACCESS_KEY", key.as_str())]);
    as_ci(&["credentials", "list"]).ok();

    // list: the table and the JSON; never the key.
    let table = env.vault(&["access-keys", "list"]).ok().stdout;
    assert!(table.contains("ci") && table.contains("active"), "{table}");
    assert!(!table.contains(&key));
    let page = env.vault(&["access-keys", "list", "--json"]).ok().json();
    let listed = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|k| k["name"] == "ci")
        .expect("the new key is listed")
        .clone();
    assert_eq!(listed["scopes"], json!(["credentials:read"]));
    assert!(!page.to_string().contains(&key));
    let id = listed["id"].as_str().expect("id");

    // revoke: the key stops working at once.
    env.vault(&["access-keys", "revoke", id]).ok();
    assert_eq!(
        env.app.api.get("/credentials", &key).await.status,
        StatusCode::UNAUTHORIZED
    );
    let run = as_ci(&["credentials", "list"]).failed(3);
    assert!(run.stderr.contains("unauthorized"), "{}", run.stderr);
    let table = env.vault(&["access-keys", "list"]).ok().stdout;
    assert!(table.contains("revoked"), "{table}");

    // --json create gives the whole answer, key included (for scripts).
    let created = env
        .vault(&[
            "access-keys",
            "create",
            "--json",
            "--name",
            "json",
            "--scope",
            "audit:read",
        ])
        .ok()
        .json();
    assert!(
        created["keySecret"]
            .as_str()
            .is_some_and(|k| k.starts_with("vlt_"))
    );
}

#[tokio::test]
async fn errors_show_the_problem_code_and_request_id_with_distinct_exit_codes() {
    let env = Env::start(false);
    env.login();

    // 422 from the server: code, status, field and request id on stderr; exit code 3.
    let run = env
        .vault_in(
            &[
                "credentials",
                "create",
                "--type",
                "bearer_token",
                "--name",
                "x",
                "--expires-at",
                "tomorrow",
                "--secret-stdin",
            ],
            "a-secret-value",
        )
        .failed(3);
    for part in ["invalid-field", "HTTP 422", "expiresAt", "request id: "] {
        assert!(run.stderr.contains(part), "{part} missing: {}", run.stderr);
    }
    assert!(run.stdout.is_empty());

    // 404.
    let missing = uuid::Uuid::now_v7().to_string();
    let run = env.vault(&["credentials", "get", &missing]).failed(3);
    assert!(
        run.stderr.contains("not-found") && run.stderr.contains("HTTP 404"),
        "{}",
        run.stderr
    );

    // 403: a read-only key cannot create.
    let ci = env
        .vault(&[
            "access-keys",
            "create",
            "--name",
            "ro",
            "--scope",
            "credentials:read",
        ])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let run = env
        .vault_with(
            &[
                "credentials",
                "create",
                "--type",
                "bearer_token",
                "--name",
                "x",
                "--secret-stdin",
            ],
            "a-secret-value",
            &[("VAULT_CLI_ACCESS_KEY", ci.as_str())],
        )
        .failed(3);
    assert!(run.stderr.contains("insufficient-scope"), "{}", run.stderr);

    // Usage errors (exit code 2): no way to read a secret, nothing to update.
    let run = env
        .vault(&[
            "credentials",
            "create",
            "--type",
            "bearer_token",
            "--name",
            "x",
        ])
        .failed(2);
    assert!(run.stderr.contains("--secret-stdin"), "{}", run.stderr);
    env.vault(&["credentials", "create", "--type", "nope", "--name", "x"])
        .failed(2);

    // No server there (exit code 4): the message names the URL, never the key.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let nowhere = format!("http://127.0.0.1:{port}");
    let run = env
        .vault_with(
            &["--server", &nowhere, "credentials", "list"],
            "",
            &[("VAULT_CLI_ACCESS_KEY", env.admin.as_str())],
        )
        .failed(4);
    assert!(run.stderr.contains(&nowhere), "{}", run.stderr);

    for run in env.runs.lock().expect("lock").iter() {
        assert!(
            !run.stderr.contains(&env.admin),
            "the key on stderr: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains(&ci),
            "the key on stderr: {}",
            run.stderr
        );
    }
}
