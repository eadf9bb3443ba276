//! The client libraries in `clients/`, generated from the OpenAPI document
//! (`scripts/generate-clients.sh`, `make clients`): the checked-in ones are what the
//! generator makes of the current document, and the Python client runs the seed page's
//! flows against the real binary (`clients/tests/python_seed_flows.py`).

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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_client_runs_the_seed_flows_against_the_server() {
    let Some(python) = python() else {
        return;
    };
    let upstream = start_upstream().await;
    let app = TestServer::start(&[("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true")]);
    let script = root().join("clients/tests/python_seed_flows.py");
    let (base, token, origin) = (app.api.base.clone(), app.token.clone(), upstream.origin());
    let ran = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args([base, token, origin])
            .env("PYTHONPATH", root().join("clients/python"))
            .output()
            .expect("python runs")
    })
    .await
    .expect("joined");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(
        ran.status.success() && said.trim_end().ends_with("ok"),
        "{said}"
    );
    assert_eq!(
        upstream.requests().len(),
        1,
        "the proxied call reached the upstream"
    );
}
