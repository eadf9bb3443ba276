//! An outside judge of the syslog format: PyPI's `syslog-rfc5424-parser` (installed by
//! `scripts/install-syslog-parser.sh` into `target/py-syslog/`) parses what a TCP
//! receiver got from the sink. Without it the test skips loudly, or fails under `CI=true`.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{ORG, event, event_of, tool_unavailable};
use crate::syslog::TcpReceiver;
use vault_audit_sinks::{AuditSink, SyslogConfig, SyslogSink};

const INSTALL: &str = "scripts/install-syslog-parser.sh";

#[tokio::test]
async fn an_outside_parser_reads_the_messages() {
    let packages = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-syslog");
    if !packages.join("syslog_rfc5424_parser").is_dir() {
        return tool_unavailable(
            &format!(
                "syslog-rfc5424-parser is not installed in {}",
                packages.display()
            ),
            INSTALL,
        );
    }

    let mut receiver = TcpReceiver::bind().await;
    let mut config = SyslogConfig::new(receiver.address(), Some("vault-1".to_owned()));
    config.facility = "local4".parse().expect("facility");
    let sink = SyslogSink::new(config);
    let mut odd = event_of(None, 3, true);
    odd.hash_hex = r#"ab"c\d]e"#.to_owned();
    odd.json["actorSubject"] = json!("é🔑 \"quoted\" ] [x]\nnext line");
    let batch = [event(1), event_of(Some(ORG), 2, true), odd];
    sink.deliver(&batch).await.expect("delivered");
    let messages = receiver.messages(batch.len()).await;

    let mut python = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sinks/rfc5424_check.py"))
        .env("PYTHONPATH", &packages)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    python
        .stdin
        .take()
        .expect("stdin")
        .write_all(&serde_json::to_vec(&messages).expect("JSON"))
        .expect("write");
    let output = python.wait_with_output().expect("python3 ends");
    assert!(
        output.status.success(),
        "the parser failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: Vec<Value> = serde_json::from_slice(&output.stdout).expect("its JSON");
    assert_eq!(parsed.len(), batch.len());

    for (got, (event, severity)) in parsed.iter().zip(batch.iter().map(|e| {
        (
            e,
            if e.outcome_failure {
                "warning"
            } else {
                "notice"
            },
        )
    })) {
        let mut params = serde_json::Map::new();
        if let Some(org) = event.organization_id {
            params.insert("org".to_owned(), json!(org.to_string()));
        }
        params.insert("seq".to_owned(), json!(event.sequence.to_string()));
        // As written on the wire: the parser does not undo the escapes.
        params.insert(
            "hash".to_owned(),
            json!(
                event
                    .hash_hex
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace(']', "\\]")
            ),
        );
        let expected = json!({
            "facility": "local4",
            "severity": severity,
            "version": 1,
            "timestamp": "2026-05-04T10:34:56.123456Z",
            "hostname": "vault-1",
            "appname": "vault",
            "procid": null,
            "msgid": "credential.use",
            "sd": { "vault@32473": params },
            "msg": serde_json::to_string(&event.json).expect("JSON"),
        });
        assert_eq!(got, &expected);
        let msg = got["msg"].as_str().expect("msg");
        assert_eq!(
            serde_json::from_str::<Value>(msg).expect("MSG is JSON"),
            event.json
        );
    }
}
