//! The README, kept true: its shell examples marked ```` ```sh runnable ```` run in order,
//! as one bash script (so `ID`, `KEY_ID` and the rest carry from one block to the next),
//! against the real binary on a fresh SQLite database, with a local upstream in place of
//! the README's `http://127.0.0.1:9000`. An example that stops working fails `make test`.
//!
//! The examples run as a reader types them: the test rewrites only the two origins and
//! gives the script what a reader has after `make run` (`TOKEN`, and for `vault-server`
//! commands the server's `DATABASE_URL` and `ENCRYPTION_KEY`); anything else an example
//! needs (`ORG_ID`, `EXPORT_KEY`, `KEY_ID`, ...) the README itself must set.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::upstream::start_upstream;
use crate::helpers::{BIN, Backend, Installation, Server, new_key, tool_unavailable};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");

/// Fewer marked blocks than this means the marking was lost, not that examples went away.
const AT_LEAST: usize = 6;

/// The README's origins, and what the test puts in their place.
const SERVER_ORIGIN: &str = "http://127.0.0.1:8080";
const UPSTREAM_ORIGIN: &str = "http://127.0.0.1:9000";

/// The whole run's limit, far above its few seconds: a hung example fails, not stalls.
const TIMEOUT: Duration = Duration::from_secs(240);

/// One ```` ```sh runnable ```` block: the README line of its opening fence, and its text.
#[derive(Debug, PartialEq, Eq)]
struct Block {
    line: usize,
    text: String,
}

/// The runnable blocks of `markdown`, in order. Only a fence whose info string is exactly
/// `sh runnable` counts (indented fences too, as in a list); other blocks are prose.
fn runnable_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    let mut in_other = false;
    for (index, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (Some(_), Some(rest)) if rest.trim().is_empty() => {
                blocks.extend(open.take());
            }
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, Some(_)) if in_other => in_other = false,
            (None, Some(info)) => {
                let words: Vec<&str> = info.split_whitespace().collect();
                if words == ["sh", "runnable"] {
                    open = Some(Block {
                        line: index + 1,
                        text: String::new(),
                    });
                } else {
                    in_other = true;
                }
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a runnable block is never closed: {open:?}");
    blocks
}

/// The script: a prelude, then each block behind a marker line on stderr that names it,
/// with the README's origins replaced by the test's.
fn script(blocks: &[Block], server: &str, upstream: &str) -> String {
    // `-e` and `pipefail`: any failed command, in a pipeline or a `$(...)` assignment, ends
    // the run. `-u` too: an example that uses a variable no earlier example set (a `$KEY_ID`
    // the reader is never told how to get) is exactly what this test is for; no block
    // reads an optional variable, so nothing needs a default.
    // `curl` fails on any HTTP error status (4xx, 5xx), showing the problem's body, and
    // gives up rather than hang.
    let mut script = String::from(
        "set -euo pipefail\n\
         curl() { command curl --fail-with-body --silent --show-error --max-time 60 \"$@\"; }\n\
         trap 'echo \"### failed with status $?: $BASH_COMMAND\" >&2' ERR\n",
    );
    for (number, block) in blocks.iter().enumerate() {
        let text = block
            .text
            .replace(SERVER_ORIGIN, server)
            .replace(UPSTREAM_ORIGIN, upstream);
        script.push_str(&format!(
            "\nprintf '\\n### README block {} (line {})\\n' >&2\n{text}",
            number + 1,
            block.line
        ));
    }
    script.push_str("\nprintf '\\n### README done\\n' >&2\n");
    script
}

/// Whether `tool` is a file in one of `PATH`'s directories.
fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_examples_work_as_written() {
    // What the runnable blocks call besides the vault's own binaries.
    for tool in ["bash", "curl", "jq", "base64", "tee", "tr"] {
        if !on_path(tool) {
            tool_unavailable::<()>(
                &format!("the README's examples need `{tool}`"),
                "apt-get install curl jq coreutils",
            );
            return;
        }
    }
    // The `vault` client, where `cargo build --workspace --bins` puts it beside the server
    // (the `cli` tests explain why the test does not build it).
    let bins = Path::new(BIN).parent().expect("a directory").to_owned();
    assert!(
        bins.join("vault").is_file(),
        "build the workspace first: cargo build --workspace --bins ({} is missing)",
        bins.join("vault").display()
    );

    let markdown = std::fs::read_to_string(README).expect("the README");
    let blocks = runnable_blocks(&markdown);
    assert!(
        blocks.len() >= AT_LEAST,
        "the README has {} ```sh runnable blocks, fewer than {AT_LEAST}: was the marking lost?",
        blocks.len()
    );

    let key = new_key();
    let installation = Installation::new(Backend::Sqlite, &key).expect("SQLite needs nothing");
    let mut cmd = installation.command(&key);
    // The local proxy walk-through calls an upstream on 127.0.0.1, as its Terminal 2 allows.
    cmd.env("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true");
    let server = Server::start(cmd);
    let upstream = start_upstream().await;

    let work = tempfile::tempdir().expect("temp dir");
    let file = work.path().join("readme.sh");
    std::fs::write(&file, script(&blocks, &server.base, &upstream.origin())).expect("written");
    let path = std::env::join_paths(std::iter::once(bins).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("a PATH");
    // A clean environment: nothing of the developer's (a `VAULT_CLI_ACCESS_KEY`, an
    // `ENCRYPTION_KEY`, a home with a `vault` login) may help or hinder an example.
    // Pipes, not files: `tee /dev/stderr` reopens its stderr, and would truncate a file.
    let child = Command::new("bash")
        .arg(&file)
        .current_dir(work.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", work.path())
        .env("LANG", "C.UTF-8")
        .env("TOKEN", &installation.token)
        .env("DATABASE_URL", &installation.database_url)
        .env("ENCRYPTION_KEY", &key)
        .env("VAULT_CLI_CONFIG", work.path().join("cli/config.toml"))
        .stdin(Stdio::null())
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bash");
    let pid = child.id().to_string();
    let mut run = tokio::task::spawn_blocking(move || child.wait_with_output());
    let (output, finished) = match tokio::time::timeout(TIMEOUT, &mut run).await {
        Ok(output) => (output, true),
        Err(_) => {
            // Our own child's process group, by its id: whatever the script started holds
            // the pipes open, so it has to go too.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            (run.await, false)
        }
    };
    let output = output.expect("joined").expect("bash ran");
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    if output.status.success() && err.contains("### README done") {
        // The local walk-through's point: the upstream got the credential, not the caller.
        let authorized = upstream.requests().iter().any(|r| {
            r.header("authorization")
                .iter()
                .any(|v| v.starts_with("Bearer "))
        });
        assert!(
            authorized,
            "no example reached the upstream with a credential"
        );
        return;
    }
    let outcome = if finished {
        format!("exited with {}", output.status)
    } else {
        format!("did not finish within {TIMEOUT:?}")
    };
    let log = server.stderr.lock().expect("lock").clone();
    let tail: Vec<&str> = log.lines().rev().take(40).collect();
    panic!(
        "the README's examples {outcome}; {}\n\
         --- stdout ---\n{out}\n--- stderr ---\n{err}\n--- server log (last lines) ---\n{}",
        failed_block(&err, &blocks),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

/// The last block the script started, with its text, from the markers on its stderr.
fn failed_block(stderr: &str, blocks: &[Block]) -> String {
    // Found anywhere on a line: an example's output need not end with a newline.
    const MARKER: &str = "### README block ";
    let last = stderr.rfind(MARKER).and_then(|at| {
        stderr[at + MARKER.len()..]
            .split(' ')
            .next()?
            .parse::<usize>()
            .ok()
    });
    match last.and_then(|n| Some((n, blocks.get(n.checked_sub(1)?)?))) {
        Some((n, block)) => format!(
            "README block {n} (line {}) failed:\n{}",
            block.line, block.text
        ),
        None => "no block started".to_owned(),
    }
}

#[test]
fn only_blocks_marked_runnable_are_extracted() {
    let markdown = "intro\n```sh\nmake run\n```\n```sh runnable\necho one\n```\n\
                    ```json\n{\"a\": 1}\n```\n  ```sh runnable\n  echo two\n  ```\n\
                    ```sh runnable-not\necho no\n```\n";
    assert_eq!(
        runnable_blocks(markdown),
        [
            Block {
                line: 5,
                text: "echo one\n".to_owned()
            },
            Block {
                line: 11,
                text: "  echo two\n".to_owned()
            },
        ]
    );
}

#[test]
fn the_script_uses_the_test_origins_and_names_each_block() {
    let blocks = [Block {
        line: 7,
        text: "curl http://127.0.0.1:8080/x -d '[\"http://127.0.0.1:9000\"]'\n".to_owned(),
    }];
    let script = script(&blocks, "http://127.0.0.1:4000", "http://127.0.0.1:5000");
    assert!(script.contains("printf '\\n### README block 1 (line 7)\\n' >&2\n"));
    assert!(script.contains("curl http://127.0.0.1:4000/x -d '[\"http://127.0.0.1:5000\"]'"));
    assert!(!script.contains("8080") && !script.contains("9000"));
    assert_eq!(
        failed_block("x### README block 1 (line 7)\nboom\n", &blocks),
        format!("README block 1 (line 7) failed:\n{}", blocks[0].text)
    );
}
