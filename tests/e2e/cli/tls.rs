//! The `vault` client's `--ca-bundle` (every type): the PEM file's certificates pin the
//! credential's upstream, shown by the server as given; `--no-ca-bundle` clears them.

use super::Env;
use crate::helpers::{Id, canary};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_bundle_is_read_from_its_file_and_cleared() {
    let env = Env::start(true);
    env.login();
    let ca = rcgen::generate_simple_self_signed(vec!["private-ca.example".into()])
        .expect("a certificate")
        .cert
        .pem();
    let file = tempfile::NamedTempFile::new().expect("a file");
    std::fs::write(file.path(), &ca).expect("written");
    let bundle = file.path().to_str().expect("a UTF-8 path");
    let token = canary("pinned");
    let created = env
        .vault_in(
            &[
                "credentials",
                "create",
                "--json",
                "--type",
                "bearer_token",
                "--name",
                "private api",
                "--allowed-host",
                "api.internal.example",
                "--ca-bundle",
                bundle,
                "--secret-stdin",
            ],
            &format!("{token}\n"),
        )
        .ok();
    let shown = created.json();
    assert_eq!(shown["caBundle"], ca.trim(), "{shown}");
    let id = shown.id();
    let cleared = env
        .vault(&["credentials", "update", &id, "--json", "--no-ca-bundle"])
        .ok();
    assert!(cleared.json()["caBundle"].is_null(), "{}", cleared.stdout);
    let missing = env.vault(&[
        "credentials",
        "update",
        &id,
        "--ca-bundle",
        "/nonexistent/bundle.pem",
    ]);
    assert_ne!(missing.code, 0, "{}", missing.stdout);
    assert!(missing.stderr.contains("--ca-bundle"), "{}", missing.stderr);
}
