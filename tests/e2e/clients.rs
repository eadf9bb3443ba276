//! The client libraries in `clients/`, generated from the OpenAPI document
//! (`scripts/generate-clients.sh`, `make clients`): the checked-in ones are what the
//! generators make of the current document, and each runs the seed page's flows against
//! the real binary (`clients/tests/`), the TypeScript one type-checked by `tsc --strict`
//! against the generated schema first.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::upstream::start_upstream;
use crate::helpers::{BIN, TestServer};

const INSTALL: &str = "scripts/install-openapi-judges.sh";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The generators' venv Python, or `None` (after a loud skip) when they are not installed.
fn python() -> Option<PathBuf> {
    let python = root().join("target/openapi-judges/venv/bin/python");
    if python.exists() {
        Some(python)
    } else {
        vault_testkit::tool_unavailable("the client generators are not installed", INSTALL)
    }
}

/// Every file under `dir`, relative, with its bytes; caches left out.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("a directory") {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if matches!(name, "__pycache__" | ".ruff_cache") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("a file");
                out.push((path.strip_prefix(dir).expect("under").to_path_buf(), bytes));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_checked_in_clients_are_generated_from_the_current_document() {
    if python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let generated = Command::new(root().join("scripts/generate-clients.sh"))
        .arg(dir.path())
        .env("VAULT_SERVER", BIN)
        .output()
        .expect("the generator runs");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let fresh = files(&dir.path().join("python"));
    let checked_in = files(&root().join("clients/python"));
    let names =
        |files: &[(PathBuf, Vec<u8>)]| files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&checked_in),
        names(&fresh),
        "clients/python is stale: run make clients"
    );
    for ((path, ours), (_, theirs)) in checked_in.iter().zip(&fresh) {
        assert!(
            ours == theirs,
            "clients/python/{} is stale: run make clients",
            path.display()
        );
    }
    let schema = "typescript/src/schema.d.ts";
    let read = |dir: &Path| std::fs::read(dir.join(schema)).expect("the schema");
    assert!(
        read(&root().join("clients")) == read(dir.path()),
        "clients/{schema} is stale: run make clients"
    );
    // Versioned with the API: the Python package's version is generated from the
    // document's; the TypeScript package's is written by hand, and must follow it.
    let document = Command::new(BIN)
        .arg("openapi")
        .output()
        .expect("the document");
    let document: serde_json::Value = serde_json::from_slice(&document.stdout).expect("JSON");
    let package = std::fs::read(root().join("clients/typescript/package.json")).expect("package");
    let package: serde_json::Value = serde_json::from_slice(&package).expect("JSON");
    assert_eq!(
        package["version"], document["info"]["version"],
        "clients/typescript/package.json's version is not the API's"
    );
}

/// Runs `command` off the test's runtime; its output, which must be a success.
async fn run(mut command: Command, what: &'static str) -> String {
    let ran = tokio::task::spawn_blocking(move || command.output().expect(what))
        .await
        .expect("joined");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(ran.status.success(), "{what}: {said}");
    said
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_client_runs_the_seed_flows_against_the_server() {
    let Some(python) = python() else {
        return;
    };
    let upstream = start_upstream().await;
    let app = TestServer::start(&[("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")]);
    let mut flows = Command::new(python);
    flows
        .arg(root().join("clients/tests/python_seed_flows.py"))
        .args([&app.api.base, &app.token, &upstream.origin()])
        .env("PYTHONPATH", root().join("clients/python"));
    let said = run(flows, "python runs the flows").await;
    assert!(said.trim_end().ends_with("ok"), "{said}");
    assert_eq!(
        upstream.requests().len(),
        1,
        "the proxied call reached the upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_type_checks_and_runs_the_seed_flows_against_the_server() {
    let modules = root().join("target/openapi-judges/node_modules");
    if !modules.join(".bin/tsc").exists() {
        vault_testkit::tool_unavailable::<()>("TypeScript's compiler is not installed", INSTALL);
        return;
    }
    // The client's sources and the flows, compiled together with the pinned packages.
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    std::fs::create_dir(&src).expect("src");
    for name in ["index.ts", "schema.d.ts"] {
        std::fs::copy(
            root().join("clients/typescript/src").join(name),
            src.join(name),
        )
        .expect(name);
    }
    std::fs::copy(
        root().join("clients/tests/typescript_seed_flows.ts"),
        src.join("seed.ts"),
    )
    .expect("the flows");
    std::fs::copy(
        root().join("clients/typescript/tsconfig.json"),
        dir.path().join("tsconfig.json"),
    )
    .expect("tsconfig");
    std::fs::write(dir.path().join("package.json"), r#"{"type": "module"}"#).expect("package");
    std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).expect("node_modules");
    let mut tsc = Command::new(modules.join(".bin/tsc"));
    tsc.arg("-p").arg(dir.path());
    run(tsc, "tsc type-checks the client and the flows").await;

    let upstream = start_upstream().await;
    let app = TestServer::start(&[("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")]);
    let mut flows = Command::new("node");
    flows.arg(dir.path().join("dist/seed.js")).args([
        &app.api.base,
        &app.token,
        &upstream.origin(),
    ]);
    let said = run(flows, "node runs the flows").await;
    assert!(said.trim_end().ends_with("ok"), "{said}");
    assert_eq!(
        upstream.requests().len(),
        1,
        "the proxied call reached the upstream"
    );
}
