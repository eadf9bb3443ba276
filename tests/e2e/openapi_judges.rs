//! The served `/openapi.json` before outside judges, none written here (installed by
//! `scripts/install-openapi-judges.sh` into `target/openapi-judges/`): Redocly CLI's
//! recommended ruleset (with `redocly.yaml`) finds no error and no warning,
//! openapi-spec-validator accepts it, and openapi-python-client (with
//! `clients/openapi-python-client.yaml`) and openapi-typescript generate every operation
//! without a warning.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reqwest::{Method, StatusCode};

use crate::helpers::spawn_app;

const INSTALL: &str = "scripts/install-openapi-judges.sh";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A judge's command, or `None` (after a loud skip) when it is not installed.
fn judge(relative: &str) -> Option<Command> {
    let path = root().join("target/openapi-judges").join(relative);
    if !path.exists() {
        return vault_testkit::tool_unavailable(
            &format!("{} is not installed", path.display()),
            INSTALL,
        );
    }
    let mut command = Command::new(path);
    // openapi-python-client formats what it writes with the ruff of its own venv.
    let venv = root().join("target/openapi-judges/venv/bin");
    let path_var = std::env::var("PATH").unwrap_or_default();
    command.env("PATH", format!("{}:{path_var}", venv.display()));
    Some(command)
}

/// Runs `command`; its output, which must be a success.
fn judged(mut command: Command, what: &str) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    assert!(status.success(), "{what} failed: {text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_passes_linters_and_generators_without_a_warning() {
    let app = spawn_app().await;
    let served = app.api.call_without_key(Method::GET, "/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    let dir = tempfile::tempdir().expect("temp dir");
    let document = dir.path().join("openapi.json");
    std::fs::write(&document, &served.body).expect("the document");

    let Some(mut redocly) = judge("node_modules/.bin/redocly") else {
        return;
    };
    redocly
        .arg("lint")
        .arg(&document)
        .arg("--config")
        .arg(root().join("redocly.yaml"))
        .args(["--format", "json"]);
    let report = judged(redocly, "redocly lint");
    let json = &report[report.find('{').expect("a JSON report")..];
    let totals: serde_json::Value = serde_json::Deserializer::from_str(json)
        .into_iter()
        .next()
        .expect("one report")
        .expect("JSON");
    assert_eq!(totals["totals"]["errors"], 0, "{report}");
    assert_eq!(totals["totals"]["warnings"], 0, "{report}");

    let Some(mut validator) = judge("venv/bin/openapi-spec-validator") else {
        return;
    };
    validator.arg(&document);
    judged(validator, "openapi-spec-validator");

    let Some(mut python) = judge("venv/bin/openapi-python-client") else {
        return;
    };
    python
        .args(["generate", "--meta", "none", "--path"])
        .arg(&document)
        .arg("--output-path")
        .arg(dir.path().join("python"))
        .arg("--config")
        .arg(root().join("clients/openapi-python-client.yaml"));
    let said = judged(python, "openapi-python-client");
    assert!(!said.to_lowercase().contains("warning"), "{said}");
    assert!(!said.contains("ruff is not in PATH"), "{said}");

    let Some(mut typescript) = judge("node_modules/.bin/openapi-typescript") else {
        return;
    };
    typescript
        .arg(&document)
        .arg("-o")
        .arg(dir.path().join("api.d.ts"));
    let said = judged(typescript, "openapi-typescript");
    assert!(!said.to_lowercase().contains("warn"), "{said}");
    let types = std::fs::read_to_string(dir.path().join("api.d.ts")).expect("the types");
    assert!(
        types.contains("createCredential"),
        "every operation is typed"
    );
}
