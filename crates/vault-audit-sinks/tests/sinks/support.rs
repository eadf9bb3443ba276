//! Events as the streaming job makes them, and a small RFC 5424 reader for the tests'
//! receivers.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use uuid::Uuid;
use vault_audit_sinks::StreamedEvent;

/// The organization of most test events.
pub(crate) const ORG: Uuid = Uuid::from_u128(0x0196_a0c2_7d3e_7b41_9c55_0a1b_2c3d_4e5f);

/// A marker inside every event's JSON: no error message may contain it.
pub(crate) const CONTENT_MARKER: &str = "marker-7f3a";

/// When the test events happened: not UTC, with nanoseconds, so that the syslog
/// timestamp's conversion and rounding show.
pub(crate) const AT: OffsetDateTime = datetime!(2026-05-04 12:34:56.123_456_789 +02:00);

/// Event `seq` of `org`'s chain (`None`: the installation's), shaped as
/// `GET /audit-events` shows it.
pub(crate) fn event_of(org: Option<Uuid>, seq: u64, failure: bool) -> StreamedEvent {
    let hash = format!("{seq:064x}");
    let previous = format!("{:064x}", seq.saturating_sub(1));
    let at = AT.format(&Rfc3339).expect("formats");
    let json = json!({
        "id": Uuid::from_u128(u128::from(seq)),
        "organizationId": org,
        "actorAccessKeyId": Uuid::from_u128(7),
        "actorSubject": null,
        "action": "credential.use",
        "targetType": "credential",
        "targetId": Uuid::from_u128(9),
        "outcome": if failure { "failure" } else { "success" },
        "reason": if failure { Value::from("insufficient-scope") } else { Value::Null },
        "at": at,
        "count": 1,
        "via": CONTENT_MARKER,
        "chain": {
            "sequence": seq,
            "digest": format!("{:064x}", seq + 1000),
            "previousHash": previous,
            "hash": hash,
        },
    });
    StreamedEvent {
        json,
        at: AT,
        action: "credential.use".to_owned(),
        outcome_failure: failure,
        organization_id: org,
        sequence: seq,
        hash_hex: hash,
    }
}

/// Event `seq` of [`ORG`], a success.
pub(crate) fn event(seq: u64) -> StreamedEvent {
    event_of(Some(ORG), seq, false)
}

/// Events `seqs` of [`ORG`].
pub(crate) fn events(seqs: impl IntoIterator<Item = u64>) -> Vec<StreamedEvent> {
    seqs.into_iter().map(event).collect()
}

/// The JSON objects of `events`.
pub(crate) fn jsons(events: &[StreamedEvent]) -> Vec<Value> {
    events.iter().map(|e| e.json.clone()).collect()
}

/// One RFC 5424 message, read by the tests' own reader (the Python parser judges too, in
/// `rfc5424.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) pri: u16,
    pub(crate) version: u8,
    pub(crate) timestamp: String,
    pub(crate) hostname: String,
    pub(crate) app_name: String,
    pub(crate) proc_id: String,
    pub(crate) msg_id: String,
    /// The SD-ID of the single element.
    pub(crate) sd_id: String,
    /// Its parameters, unescaped, in order.
    pub(crate) params: Vec<(String, String)>,
    pub(crate) msg: String,
}

impl Parsed {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.msg).expect("MSG is JSON")
    }
}

/// Reads `message` strictly: `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID
/// SP MSGID SP [SD-ID PARAMS] SP MSG`, one SD element, escapes `\"`, `\\`, `\]` only.
pub(crate) fn parse(message: &str) -> Parsed {
    let rest = message.strip_prefix('<').expect("starts with <");
    let (pri, rest) = rest.split_once('>').expect("PRI ends with >");
    let (version, rest) = rest.split_once(' ').expect("VERSION");
    let mut fields = rest.splitn(6, ' ');
    let mut field = |what: &str| fields.next().expect(what).to_owned();
    let (timestamp, hostname, app_name, proc_id, msg_id) = (
        field("TIMESTAMP"),
        field("HOSTNAME"),
        field("APP-NAME"),
        field("PROCID"),
        field("MSGID"),
    );
    let rest = field("STRUCTURED-DATA");
    for header in [&hostname, &app_name, &proc_id, &msg_id] {
        assert!(
            header.chars().all(|c| c.is_ascii_graphic()),
            "header field {header:?}"
        );
    }
    let mut chars = rest.strip_prefix('[').expect("an SD element").chars();
    let sd_id: String = chars.by_ref().take_while(|c| *c != ' ').collect();
    let mut params = Vec::new();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "a quoted value for {name}");
        let mut value = String::new();
        loop {
            match chars.next().expect("the value ends") {
                '\\' => {
                    let escaped = chars.next().expect("an escaped character");
                    assert!(matches!(escaped, '"' | '\\' | ']'), "escape {escaped:?}");
                    value.push(escaped);
                }
                '"' => break,
                ']' => panic!("an unescaped ] in the value of {name}"),
                c => value.push(c),
            }
        }
        params.push((name, value));
        match chars.next() {
            Some(' ') => {}
            Some(']') => break,
            other => panic!("after a parameter: {other:?}"),
        }
    }
    let msg = chars.as_str().strip_prefix(' ').expect("SP MSG").to_owned();
    Parsed {
        pri: pri.parse().expect("PRI is a number"),
        version: version.parse().expect("VERSION is a number"),
        timestamp,
        hostname,
        app_name,
        proc_id,
        msg_id,
        sd_id,
        params,
        msg,
    }
}

/// Skips (loudly) or fails (under `CI=true`) a test that cannot get an outside tool, as
/// `vault-testkit`'s `tool_unavailable` does.
pub(crate) fn tool_unavailable(why: &str, install: &str) {
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "{why}, and CI=true requires it: run {install}"
    );
    eprintln!("\n*** SKIPPED: {why}; run {install} (under CI=true this is a failure) ***\n");
}
