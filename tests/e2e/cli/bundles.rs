//! `vault export` and `vault import` between two real servers, each on its own SQLite file
//! under its own encryption key: a bundle sealed to a passphrase, and one sealed to an age
//! X25519 key made by Debian's `age-keygen`, carry an organization's credentials, secret
//! values included, from one to the other. A wrong passphrase imports nothing, importing
//! again changes nothing, the file is written whole with mode 0600 and never over another
//! unasked, and no secret shows in the client's output, the bundle or either server's log.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::Env;
use crate::helpers::{Backend, Id, Installation, Server, canary, new_key, run_ok};

/// The exporting side: a server on an installation whose encryption key the test knows
/// (a [`TestServer`] keeps its own to itself), so that the operator's `vault-server
/// access-keys create` runs on its database; three credentials made through the API; and
/// the client logged in with a key that may export, which only the operator can issue.
struct Source {
    env: Env,
    /// The organization's id.
    org: String,
    /// The credentials, as the API made them.
    credentials: Vec<Value>,
    /// Their secret values.
    canaries: Vec<String>,
    /// The database (removed with it).
    _installation: Installation,
}

impl Source {
    async fn start() -> Self {
        let key = new_key();
        let installation = Installation::new(Backend::Sqlite, &key).expect("SQLite");
        let env = Env::on(&installation, Server::start(installation.command(&key)));

        let api_key = canary("apikey");
        let password = canary("password");
        let partner_key = canary("partnerkey");
        let partner_secret = canary("partnersecret");
        let mut credentials = Vec::new();
        for body in [
            json!({"name": "Stripe", "type": "api_key", "value": api_key}),
            json!({"name": "Jenkins", "type": "basic_auth", "username": "ci-bot",
                   "password": password}),
            json!({"name": "Partner", "type": "custom",
                   "headers": {"X-Partner-Key": partner_key, "X-Partner-Secret": partner_secret}}),
        ] {
            credentials.push(env.app.api.create_credential(&env.admin, &body).await);
        }

        // The organization's id, as its audit log names it.
        let events = env.get("/audit-events?limit=1").await.json();
        let org = events["items"][0]["organizationId"]
            .as_str()
            .unwrap_or_else(|| panic!("no organization id in {events}"))
            .to_owned();
        // No key has credentials:export unless the operator issues it by name.
        let mut issue = installation.command(&key);
        issue.args([
            "access-keys",
            "create",
            "--org",
            &org,
            "--name",
            "exporter",
            "--scope",
            "credentials:export",
        ]);
        let exporter = run_ok(issue);
        assert!(exporter.starts_with("vlt_"), "not a key: {exporter}");
        env.vault_in(&["login", "--server", &env.base, "--key-stdin"], &exporter)
            .ok();
        Self {
            env,
            org,
            credentials,
            canaries: vec![api_key, password, partner_key, partner_secret],
            _installation: installation,
        }
    }

    /// The ids of the credentials exported.
    fn ids(&self) -> Vec<String> {
        self.credentials.iter().map(Id::id).collect()
    }
}

/// The importing side: another installation (its own SQLite file and encryption key), the
/// client logged in with its admin key under a HOME, and so a config file, of its own.
fn target() -> Env {
    let env = Env::start(false);
    env.login();
    env
}

/// `path` as an argument.
fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The file names in `dir`: no temporary file may be left behind.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("listed")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf8")
        })
        .collect();
    names.sort_unstable();
    names
}

/// Reads a bundle the client wrote: mode 0600, an age file whose first stanza is
/// `stanza`, and none of `canaries` in it.
fn sealed_bundle(path: &Path, stanza: &str, canaries: &[String]) -> Vec<u8> {
    let mode = std::fs::metadata(path)
        .expect("written")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    let bytes = std::fs::read(path).expect("read");
    let start = format!("age-encryption.org/v1\n-> {stanza} ");
    assert!(
        bytes.starts_with(start.as_bytes()),
        "{}: {:?}",
        path.display(),
        String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
    );
    let text = String::from_utf8_lossy(&bytes);
    for c in canaries {
        assert!(!text.contains(c.as_str()), "{c} in the bundle in the clear");
    }
    bytes
}

/// The credentials of `env`'s organization, by id.
async fn listed(env: &Env) -> Vec<Value> {
    env.app.api.list_all("/credentials", &env.admin).await
}

/// An age X25519 key pair made by Debian's `age-keygen`: the identity file, the public
/// key, and the secret key (never to be shown).
fn age_key_pair(dir: &Path) -> (PathBuf, String, String) {
    let identity = dir.join("age-identity.txt");
    let keygen = |args: &[&str]| {
        let out = Command::new("age-keygen")
            .args(args)
            .output()
            .unwrap_or_else(|error| {
                panic!(
                    "age-keygen cannot run ({error}): install Debian's age package \
                     (apt-get install age; scripts/install-age-tools.sh, which make test runs)"
                )
            });
        assert!(
            out.status.success(),
            "age-keygen {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8")
    };
    keygen(&["-o", arg(&identity)]);
    let public = keygen(&["-y", arg(&identity)]).trim().to_owned();
    assert!(public.starts_with("age1"), "not a public key: {public}");
    let secret = std::fs::read_to_string(&identity)
        .expect("identity")
        .lines()
        .find(|line| line.starts_with("AGE-SECRET-KEY-1"))
        .expect("a secret key in the identity file")
        .to_owned();
    (identity, public, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_bundle_moves_the_credentials_to_another_installation_once() {
    let source = Source::start().await;
    let target = target();
    let work = tempfile::tempdir().expect("temp dir");
    let bundle = work.path().join("bundle.age");
    let passphrase = canary("passphrase");
    let wrong = canary("wrong-passphrase");

    // Export, the passphrase on stdin: the file is written, 0600, sealed to it.
    let export = ["export", "--out", arg(&bundle), "--org", &source.org];
    let run = source
        .env
        .vault_in(
            &[&export[..], &["--passphrase-stdin"][..]].concat(),
            &format!("{passphrase}\n"),
        )
        .ok();
    assert!(
        run.stderr
            .contains(&format!("Exported 3 credentials to {}.", arg(&bundle))),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let sealed = sealed_bundle(&bundle, "scrypt", &source.canaries);

    // Again to the same file without --force: refused, the file as it was.
    let run = source
        .env
        .vault_in(
            &[&export[..], &["--passphrase-stdin"][..]].concat(),
            &format!("{passphrase}\n"),
        )
        .failed(2);
    assert!(
        run.stderr.contains("exists") && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&bundle).expect("read"), sealed);

    // With --force: replaced, whole (a new salt), still 0600, no temporary file left.
    source
        .env
        .vault_in(
            &[&export[..], &["--force", "--passphrase-stdin"][..]].concat(),
            &format!("{passphrase}\n"),
        )
        .ok();
    let resealed = sealed_bundle(&bundle, "scrypt", &source.canaries);
    assert_ne!(resealed, sealed, "the file was replaced");
    assert_eq!(names_in(work.path()), ["bundle.age"]);

    // A passphrase too short for the vault: refused by it, naming the field; no file.
    let short = work.path().join("short.age");
    let run = source
        .env
        .vault_in(
            &["export", "--out", arg(&short), "--passphrase-stdin"],
            "too-short\n",
        )
        .failed(3);
    assert!(run.stderr.contains("passphrase"), "{}", run.stderr);
    assert_eq!(
        names_in(work.path()),
        ["bundle.age"],
        "nothing half-written"
    );

    // Public keys and a passphrase at once: a usage error.
    let run = source
        .env
        .vault_in(
            &[
                "export",
                "--out",
                arg(&work.path().join("both.age")),
                "--recipient",
                "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
                "--passphrase-stdin",
            ],
            &passphrase,
        )
        .failed(2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);

    // A wrong passphrase: refused, saying so; nothing imported.
    let run = target
        .vault_in(&["import", arg(&bundle), "--passphrase-stdin"], &wrong)
        .failed(3);
    assert!(
        run.stderr.contains("bundle-not-opened") && run.stderr.contains("passphrase"),
        "{}",
        run.stderr
    );
    assert_eq!(listed(&target).await, Vec::<Value>::new());

    // A passphrase bundle with an identity file: a usage error.
    let run = target
        .vault_in(
            &[
                "import",
                arg(&bundle),
                "--identity",
                arg(&work.path().join("no-such-identity.txt")),
            ],
            &passphrase,
        )
        .failed(2);
    assert!(
        run.stderr.contains("passphrase") && run.stderr.contains("--identity"),
        "{}",
        run.stderr
    );

    // The right one: every credential created, under its id, its secrets with it.
    let run = target
        .vault_in(
            &["import", arg(&bundle), "--passphrase-stdin"],
            &format!("{passphrase}\n"),
        )
        .ok();
    for credential in &source.credentials {
        let name = credential["name"].as_str().expect("name");
        let row = run
            .stdout
            .lines()
            .find(|line| line.contains(name))
            .unwrap_or_else(|| panic!("{name} missing: {}", run.stdout));
        assert!(
            row.starts_with("created") && row.contains(&credential.id()),
            "{row}"
        );
    }
    assert!(
        run.stderr
            .contains("Created 3, already here 0, id taken 0."),
        "{}",
        run.stderr
    );
    let imported = listed(&target).await;
    assert_eq!(imported.len(), 3, "{imported:?}");
    for credential in &source.credentials {
        let copy = imported
            .iter()
            .find(|c| c["id"] == credential["id"])
            .unwrap_or_else(|| panic!("{} not imported", credential["id"]));
        for field in ["name", "type", "secretHints"] {
            assert_eq!(copy[field], credential[field], "{field}");
        }
    }

    // Again: every one already here, nothing new.
    let run = target
        .vault_in(
            &["import", arg(&bundle), "--passphrase-stdin"],
            &format!("{passphrase}\n"),
        )
        .ok();
    let rows: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    assert!(
        rows.iter().all(|row| row.starts_with("already here")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("Created 0, already here 3, id taken 0."),
        "{}",
        run.stderr
    );
    assert_eq!(listed(&target).await.len(), 3);

    // Not an age file: refused by the client.
    let notes = target.file("notes.txt", "just some notes\n");
    let run = target
        .vault_in(&["import", &notes, "--passphrase-stdin"], &passphrase)
        .failed(2);
    assert!(run.stderr.contains("not an age file"), "{}", run.stderr);

    let mut canaries = source.canaries.clone();
    canaries.extend([passphrase, wrong]);
    assert_logs_never_show(&source.env, &target, &canaries);
    source.env.assert_never_shown(&canaries);
    target.assert_never_shown(&canaries);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_sealed_to_an_age_key_opens_with_its_identity_file_under_new_ids() {
    let source = Source::start().await;
    let target = target();
    let work = tempfile::tempdir().expect("temp dir");
    let (identity, public, secret) = age_key_pair(work.path());
    let bundle = work.path().join("x25519.age");

    // Sealed to the public key: no passphrase read; --json says what was written.
    let run = source
        .env
        .vault(&[
            "export",
            "--json",
            "--versions",
            "--out",
            arg(&bundle),
            "--recipient",
            &public,
        ])
        .ok();
    assert_eq!(
        run.json(),
        json!({"credentials": 3, "path": arg(&bundle)}),
        "{}",
        run.stdout
    );
    sealed_bundle(&bundle, "X25519", &source.canaries);

    // To stdout, a pipe: the bundle alone there, even with --json; the count on stderr.
    let (bytes, stderr) = export_to_stdout(
        &source.env,
        &["export", "--json", "--out", "-", "--recipient", &public],
    );
    assert!(
        bytes.starts_with(b"age-encryption.org/v1\n-> X25519 "),
        "{:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
    );
    assert!(
        stderr.contains("Exported 3 credentials to stdout."),
        "{stderr}"
    );
    let text = String::from_utf8_lossy(&bytes);
    for c in &source.canaries {
        assert!(
            !text.contains(c.as_str()) && !stderr.contains(c.as_str()),
            "{c}"
        );
    }

    // It takes the identity, and nothing else.
    let run = target
        .vault_in(
            &["import", arg(&bundle), "--passphrase-stdin"],
            "a passphrase it was never sealed to",
        )
        .failed(2);
    assert!(run.stderr.contains("--identity"), "{}", run.stderr);
    let run = target.vault(&["import", arg(&bundle)]).failed(2);
    assert!(run.stderr.contains("--identity"), "{}", run.stderr);
    assert_eq!(listed(&target).await, Vec::<Value>::new());

    // With new ids: each credential gets one of its own, derived from the exported one.
    let import = [
        "import",
        arg(&bundle),
        "--ids",
        "new",
        "--identity",
        arg(&identity),
    ];
    let first = target
        .vault(&[&import[..], &["--json"][..]].concat())
        .ok()
        .json();
    assert_eq!(
        (&first["created"], &first["existing"], &first["idTaken"]),
        (&json!(3), &json!(0), &json!(0)),
        "{first}"
    );
    let items = first["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 3, "{first}");
    let mut sources: Vec<String> = items
        .iter()
        .map(|i| i["sourceId"].as_str().expect("sourceId").to_owned())
        .collect();
    sources.sort_unstable();
    let mut exported = source.ids();
    exported.sort_unstable();
    assert_eq!(sources, exported);
    for item in &items {
        assert_eq!(item["outcome"], "created", "{item}");
        assert_ne!(item["id"], item["sourceId"], "{item}");
    }

    // The same again: every one already here, under the same new id.
    let again = target
        .vault(&[&import[..], &["--json"][..]].concat())
        .ok()
        .json();
    assert_eq!(
        (&again["created"], &again["existing"]),
        (&json!(0), &json!(3)),
        "{again}"
    );
    for item in again["items"].as_array().expect("items") {
        assert_eq!(item["outcome"], "exists", "{item}");
        let before = items
            .iter()
            .find(|i| i["sourceId"] == item["sourceId"])
            .expect("the same credential");
        assert_eq!(item["id"], before["id"], "{item}");
    }

    // The table names both ids.
    let run = target.vault(&import).ok();
    assert!(run.stdout.contains("SOURCE ID"), "{}", run.stdout);
    for item in &items {
        let (id, source_id) = (item.id(), item["sourceId"].as_str().expect("sourceId"));
        let row = run
            .stdout
            .lines()
            .find(|line| line.contains(&id))
            .unwrap_or_else(|| panic!("{id} missing: {}", run.stdout));
        assert!(
            row.starts_with("already here") && row.contains(source_id),
            "{row}"
        );
    }
    let mut here: Vec<String> = listed(&target).await.iter().map(Id::id).collect();
    here.sort_unstable();
    let mut new_ids: Vec<String> = items.iter().map(Id::id).collect();
    new_ids.sort_unstable();
    assert_eq!(here, new_ids);

    let mut canaries = source.canaries.clone();
    canaries.push(secret);
    assert_logs_never_show(&source.env, &target, &canaries);
    source.env.assert_never_shown(&canaries);
    target.assert_never_shown(&canaries);
}

/// Runs `vault export --out -` with stdout into a pipe (which [`Env::vault_with`] reads as
/// text): the bytes written to stdout, and stderr.
fn export_to_stdout(env: &Env, args: &[&str]) -> (Vec<u8>, String) {
    let out = Command::new(super::vault_bin())
        .args(args)
        .current_dir(env.app.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .stdin(Stdio::null())
        .output()
        .expect("vault ran");
    let stderr = String::from_utf8(out.stderr).expect("utf8");
    assert!(out.status.success(), "vault {args:?}: {stderr}");
    (out.stdout, stderr)
}

/// Neither server's log, as it stands while they run, shows any of `canaries`.
fn assert_logs_never_show(source: &Env, target: &Env, canaries: &[String]) {
    for (side, log) in [("source", source.app.log()), ("target", target.app.log())] {
        assert!(!log.is_empty(), "the {side} server logged nothing");
        for c in canaries {
            assert!(!log.contains(c.as_str()), "{c} in the {side} server's log");
        }
    }
}
