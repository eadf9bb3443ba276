//! The syslog sink, against real TCP and UDP receivers on 127.0.0.1.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::timeout;
use vault_audit_sinks::{
    AuditSink, ConfigError, ENTERPRISE_SD_ID, Facility, SinkError, SyslogAddress, SyslogConfig,
    SyslogSink,
};

use crate::conformance::{self, Receiver};
use crate::support::{CONTENT_MARKER, ORG, event, event_of, events, parse};

const WAIT: Duration = Duration::from_secs(10);

/// A TCP syslog receiver: accepts a connection when it has none, and splits what arrives
/// by octet counting.
pub(crate) struct TcpReceiver {
    pub(crate) listener: TcpListener,
    connection: Option<TcpStream>,
    buffer: Vec<u8>,
    messages: VecDeque<String>,
    /// Connections accepted so far.
    pub(crate) accepted: usize,
}

impl TcpReceiver {
    pub(crate) async fn bind() -> Self {
        Self::on(TcpListener::bind("127.0.0.1:0").await.expect("bind")).await
    }

    async fn on(listener: TcpListener) -> Self {
        Self {
            listener,
            connection: None,
            buffer: Vec::new(),
            messages: VecDeque::new(),
            accepted: 0,
        }
    }

    pub(crate) fn address(&self) -> SyslogAddress {
        let port = self.listener.local_addr().expect("addr").port();
        format!("tcp://127.0.0.1:{port}").parse().expect("address")
    }

    /// The next `n` messages, unframed.
    pub(crate) async fn messages(&mut self, n: usize) -> Vec<String> {
        timeout(WAIT, async {
            while self.messages.len() < n {
                self.read_more().await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{n} messages did not arrive; {:?}", self.messages));
        self.messages.drain(..n).collect()
    }

    /// The raw bytes of the next `n` frames exactly as they arrived.
    async fn frames(&mut self, n: usize) -> Vec<u8> {
        self.messages(n)
            .await
            .into_iter()
            .flat_map(|m| format!("{} {m}", m.len()).into_bytes())
            .collect()
    }

    async fn read_more(&mut self) {
        if self.connection.is_none() {
            let (stream, _) = self.listener.accept().await.expect("accept");
            self.accepted += 1;
            self.connection = Some(stream);
        }
        let stream = self.connection.as_mut().expect("connected");
        let mut chunk = [0u8; 64 * 1024];
        let read = stream.read(&mut chunk).await.expect("read");
        if read == 0 {
            assert!(self.buffer.is_empty(), "a frame cut by the close");
            self.connection = None;
            return;
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        self.split_frames();
    }

    /// Takes the whole `LEN SP MSG` frames off the buffer. LEN is checked strictly: digits
    /// without a leading zero, then one space.
    fn split_frames(&mut self) {
        loop {
            let Some(space) = self.buffer.iter().position(|b| *b == b' ') else {
                assert!(
                    self.buffer.iter().all(u8::is_ascii_digit),
                    "a frame starts with LEN"
                );
                return;
            };
            let len = std::str::from_utf8(&self.buffer[..space]).expect("LEN is ASCII");
            assert!(
                !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) && !len.starts_with('0'),
                "bad LEN {len:?}"
            );
            let len: usize = len.parse().expect("LEN");
            if self.buffer.len() < space + 1 + len {
                return;
            }
            let frame: Vec<u8> = self.buffer.drain(..space + 1 + len).collect();
            let message = String::from_utf8(frame[space + 1..].to_vec()).expect("UTF-8");
            self.messages.push_back(message);
        }
    }

    /// Stops listening and closes the connection: the receiver is down.
    fn stop(self) -> u16 {
        self.listener.local_addr().expect("addr").port()
    }
}

impl Receiver for TcpReceiver {
    async fn next(&mut self, n: usize) -> Vec<Value> {
        self.messages(n)
            .await
            .iter()
            .map(|m| parse(m).json())
            .collect()
    }
}

/// A UDP syslog receiver: each datagram is one message.
struct UdpReceiver {
    socket: UdpSocket,
}

impl UdpReceiver {
    async fn bind() -> Self {
        Self {
            socket: UdpSocket::bind("127.0.0.1:0").await.expect("bind"),
        }
    }

    fn address(&self) -> SyslogAddress {
        let port = self.socket.local_addr().expect("addr").port();
        format!("udp://127.0.0.1:{port}").parse().expect("address")
    }

    async fn datagram(&self) -> Option<String> {
        let mut buffer = vec![0u8; 70_000];
        let len = timeout(Duration::from_millis(300), self.socket.recv(&mut buffer))
            .await
            .ok()?
            .expect("recv");
        Some(String::from_utf8(buffer[..len].to_vec()).expect("UTF-8"))
    }
}

impl Receiver for UdpReceiver {
    async fn next(&mut self, n: usize) -> Vec<Value> {
        let mut got = Vec::new();
        for _ in 0..n {
            let datagram = self.datagram().await.expect("a datagram");
            got.push(parse(&datagram).json());
        }
        got
    }
}

fn sink_to(address: SyslogAddress, hostname: Option<&str>) -> SyslogSink {
    SyslogSink::new(SyslogConfig::new(address, hostname.map(str::to_owned)))
}

fn no_content(error: &dyn std::error::Error) {
    let mut next = Some(error);
    while let Some(e) = next {
        assert!(!e.to_string().contains(CONTENT_MARKER), "{e}");
        next = e.source();
    }
}

#[tokio::test]
async fn tcp_sink_conforms() {
    let mut receiver = TcpReceiver::bind().await;
    let sink = sink_to(receiver.address(), Some("vault-1"));
    assert_eq!(sink.name(), "syslog");
    conformance::all(&sink, &mut receiver).await;
    assert_eq!(receiver.accepted, 1, "one connection, kept");
}

#[tokio::test]
async fn udp_sink_conforms() {
    let mut receiver = UdpReceiver::bind().await;
    let sink = sink_to(receiver.address(), Some("vault-1"));
    conformance::all(&sink, &mut receiver).await;
}

/// The exact bytes on the wire for a success and a failure: the framing, every header
/// field and the structured data, and MSG being the event's compact JSON.
#[tokio::test]
async fn tcp_messages_are_framed_rfc5424_exactly() {
    let mut receiver = TcpReceiver::bind().await;
    let sink = sink_to(receiver.address(), Some("vault-1.example.com"));
    let (success, failure) = (event(42), event_of(Some(ORG), 43, true));
    sink.deliver(&[success.clone(), failure.clone()])
        .await
        .expect("delivered");

    let expected = |pri: u16, e: &vault_audit_sinks::StreamedEvent| {
        format!(
            "<{pri}>1 2026-05-04T10:34:56.123456Z vault-1.example.com vault - credential.use \
             [vault@32473 org=\"0196a0c2-7d3e-7b41-9c55-0a1b2c3d4e5f\" seq=\"{}\" hash=\"{}\"] {}",
            e.sequence,
            e.hash_hex,
            serde_json::to_string(&e.json).expect("JSON")
        )
    };
    let (m1, m2) = (expected(37, &success), expected(36, &failure));
    let wire = format!("{} {m1}{} {m2}", m1.len(), m2.len());
    assert_eq!(receiver.frames(2).await, wire.into_bytes());
}

#[tokio::test]
async fn tcp_message_fields_parse_back() {
    let mut receiver = TcpReceiver::bind().await;
    let sink = sink_to(receiver.address(), Some("vault-1"));
    let batch = [event(42), event_of(Some(ORG), 43, true)];
    sink.deliver(&batch).await.expect("delivered");
    let messages = receiver.messages(2).await;
    for (message, (event, severity)) in messages.iter().zip([(&batch[0], 5), (&batch[1], 4)]) {
        let parsed = parse(message);
        assert_eq!(parsed.pri, 4 * 8 + severity, "facility auth");
        assert_eq!(parsed.version, 1);
        assert_eq!(parsed.timestamp, "2026-05-04T10:34:56.123456Z");
        assert_eq!(parsed.hostname, "vault-1");
        assert_eq!(parsed.app_name, "vault");
        assert_eq!(parsed.proc_id, "-");
        assert_eq!(parsed.msg_id, "credential.use");
        assert_eq!(parsed.sd_id, ENTERPRISE_SD_ID);
        let params: Vec<(&str, &str)> = parsed
            .params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let seq = event.sequence.to_string();
        assert_eq!(
            params,
            [
                ("org", ORG.to_string().as_str()),
                ("seq", seq.as_str()),
                ("hash", event.hash_hex.as_str())
            ]
        );
        assert_eq!(
            parsed.msg,
            serde_json::to_string(&event.json).expect("JSON")
        );
        assert_eq!(parsed.json(), event.json);
    }
}

/// The facility is configurable, and changes PRI only.
#[tokio::test]
async fn the_facility_sets_pri() {
    let mut receiver = TcpReceiver::bind().await;
    let mut config = SyslogConfig::new(receiver.address(), None);
    config.facility = "local4".parse().expect("facility");
    let sink = SyslogSink::new(config);
    sink.deliver(&[event(1), event_of(Some(ORG), 2, true)])
        .await
        .expect("delivered");
    let pris: Vec<u16> = receiver
        .messages(2)
        .await
        .iter()
        .map(|m| parse(m).pri)
        .collect();
    assert_eq!(pris, [20 * 8 + 5, 20 * 8 + 4]);
}

/// SD-PARAM values are escaped (`"`, `\`, `]`), the header fields are made printable
/// ASCII and cut to their limits, an unknown host is `-`, and the installation's chain
/// has no `org`.
#[tokio::test]
async fn values_are_escaped_and_header_fields_sanitized() {
    let mut receiver = TcpReceiver::bind().await;
    let sink = sink_to(receiver.address(), None);
    let mut odd = event_of(None, 7, false);
    odd.hash_hex = r#"ab"c\d]e[f"#.to_owned();
    odd.action = format!("odd action/é{}", "x".repeat(40));
    sink.deliver(&[odd.clone()]).await.expect("delivered");
    let message = receiver.messages(1).await.remove(0);
    assert!(
        message.contains(r#"[vault@32473 seq="7" hash="ab\"c\\d\]e[f"] "#),
        "{message}"
    );
    let parsed = parse(&message);
    assert_eq!(parsed.hostname, "-");
    assert_eq!(parsed.msg_id, format!("odd_action/_{}", "x".repeat(20)));
    assert_eq!(parsed.param("hash"), Some(odd.hash_hex.as_str()));
    assert_eq!(parsed.param("org"), None);
    assert_eq!(parsed.json(), odd.json);

    let mut receiver = TcpReceiver::bind().await;
    let sink = sink_to(receiver.address(), Some("my host\n"));
    sink.deliver(&[event(8)]).await.expect("delivered");
    assert_eq!(parse(&receiver.messages(1).await[0]).hostname, "my_host_");
}

/// A receiver that is down fails the batch as `Unreachable` (saying nothing of the
/// events); once it is back, the next batch goes out on a new connection.
#[tokio::test]
async fn a_receiver_down_then_back() {
    let mut receiver = TcpReceiver::bind().await;
    let sink = sink_to(receiver.address(), Some("vault-1"));
    sink.deliver(&events(1..=2)).await.expect("delivered");
    receiver.messages(2).await;
    let port = receiver.stop();

    let error = sink.deliver(&events(3..=4)).await.expect_err("down");
    assert!(matches!(error, SinkError::Unreachable { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(&format!("tcp://127.0.0.1:{port}")),
        "{error}"
    );
    no_content(&error);
    // Still down: still failing, never succeeding on the dead connection.
    let error = sink.deliver(&events(3..=4)).await.expect_err("down");
    assert!(matches!(error, SinkError::Unreachable { .. }), "{error:?}");

    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the same port again");
    let mut receiver = TcpReceiver::on(listener).await;
    let batch = events(3..=4);
    sink.deliver(&batch)
        .await
        .expect("delivered after the receiver came back");
    let got: Vec<Value> = receiver.next(2).await;
    assert_eq!(
        got,
        batch.iter().map(|e| e.json.clone()).collect::<Vec<_>>()
    );
    assert_eq!(receiver.accepted, 1, "a new connection");
}

/// Nothing ever listening: `Unreachable`, with the operating system's error as its source.
#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let port = TcpReceiver::bind().await.stop();
    let sink = sink_to(
        format!("tcp://127.0.0.1:{port}").parse().expect("address"),
        None,
    );
    let error = sink.deliver(&events(1..=1)).await.expect_err("refused");
    match &error {
        SinkError::Unreachable { source, .. } => {
            assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
        }
        other => panic!("{other:?}"),
    }
    no_content(&error);
}

/// A receiver that accepts but never reads: once the socket buffers are full, the write
/// times out, the batch fails, and the connection is dropped.
#[tokio::test]
async fn a_stalled_receiver_times_out() {
    // A small receive buffer (inherited by the accepted socket) turns its autotuning off.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let listener = socket.listen(1).expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let mut config = SyslogConfig::new(
        format!("tcp://127.0.0.1:{port}").parse().expect("address"),
        None,
    );
    config.write_timeout = Duration::from_millis(300);
    let sink = SyslogSink::new(config);
    let accept = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    });
    // 16 MiB: more than the socket buffers hold (4 MiB at most to send here).
    let mut big = event(1);
    big.json["actorSubject"] = json!("x".repeat(1 << 20));
    let batch = vec![big; 16];
    let started = std::time::Instant::now();
    let error = sink.deliver(&batch).await.expect_err("stalled");
    assert!(started.elapsed() < Duration::from_secs(5));
    match &error {
        SinkError::Unreachable { source, .. } => {
            assert_eq!(source.kind(), io::ErrorKind::TimedOut);
        }
        other => panic!("{other:?}"),
    }
    accept.abort();
}

/// A delivery dropped half-way through a write (the job cancelled) may leave part of a
/// frame on its connection: the next batch goes out on a new one, so the receiver never
/// reads a broken stream.
#[tokio::test]
async fn a_cancelled_delivery_never_leaves_a_broken_stream() {
    let listener = small_buffer_listener();
    let port = listener.local_addr().expect("addr").port();
    let mut config = SyslogConfig::new(
        format!("tcp://127.0.0.1:{port}").parse().expect("address"),
        None,
    );
    config.write_timeout = Duration::from_secs(30);
    let sink = SyslogSink::new(config);
    let mut big = event(1);
    big.json["actorSubject"] = json!("x".repeat(1 << 20));
    let batch = vec![big; 16];
    // The kernel completes the connection without an accept; nothing reads it, so the
    // write stalls and is cancelled part-way.
    let cancelled = timeout(Duration::from_millis(300), sink.deliver(&batch)).await;
    assert!(cancelled.is_err(), "the write should have stalled");
    let (_stalled, _) = listener.accept().await.expect("the first connection");

    let mut receiver = TcpReceiver::on(listener).await;
    let next = [event(2)];
    sink.deliver(&next).await.expect("delivered");
    assert_eq!(receiver.next(1).await, [next[0].json.clone()]);
    assert_eq!(receiver.accepted, 1, "on a connection of its own");
}

/// A listener whose accepted sockets have a small receive buffer (no autotuning), so that
/// a few MiB fill them.
fn small_buffer_listener() -> TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    socket.listen(8).expect("listen")
}

/// Over UDP, each message is one datagram, without octet counting.
#[tokio::test]
async fn udp_datagrams_are_one_message_each() {
    let receiver = UdpReceiver::bind().await;
    let sink = sink_to(receiver.address(), Some("vault-1"));
    let batch = events(1..=3);
    sink.deliver(&batch).await.expect("sent");
    for event in &batch {
        let datagram = receiver.datagram().await.expect("a datagram");
        assert!(datagram.starts_with("<37>1 "), "{datagram}");
        let parsed = parse(&datagram);
        assert_eq!(
            parsed.param("seq"),
            Some(event.sequence.to_string().as_str())
        );
        assert_eq!(parsed.json(), event.json);
    }
    assert_eq!(receiver.datagram().await, None, "nothing more");
}

/// A message too large for a datagram: the whole batch is refused before anything is
/// sent (retrying it cannot help).
#[tokio::test]
async fn udp_refuses_a_message_too_large_for_a_datagram() {
    let receiver = UdpReceiver::bind().await;
    let sink = sink_to(receiver.address(), None);
    let mut big = event(2);
    big.json["actorSubject"] = json!(format!("{CONTENT_MARKER}{}", "x".repeat(70_000)));
    let error = sink.deliver(&[event(1), big]).await.expect_err("too large");
    assert!(matches!(error, SinkError::Rejected { .. }), "{error:?}");
    no_content(&error);
    assert_eq!(receiver.datagram().await, None, "nothing sent");
}

#[test]
fn addresses_are_parsed_strictly() {
    let ok = |s: &str| s.parse::<SyslogAddress>().expect(s);
    assert_eq!(
        ok("tcp://127.0.0.1:6514"),
        SyslogAddress::Tcp("127.0.0.1:6514".to_owned())
    );
    assert_eq!(
        ok("UDP://localhost:514/"),
        SyslogAddress::Udp("localhost:514".to_owned())
    );
    assert_eq!(ok("tcp://[::1]:601").to_string(), "tcp://[::1]:601");
    let refused = |s: &str, why: &str| {
        let error = s.parse::<SyslogAddress>().expect_err(s);
        assert!(matches!(error, ConfigError::Address { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(why), "{s}: {message}");
    };
    refused("127.0.0.1:514", "no scheme");
    refused("http://127.0.0.1:514", "tcp:// or udp://, not \"http\"");
    refused("tls://127.0.0.1:6514", "TLS is not supported");
    refused("tcp://127.0.0.1", "port is missing");
    refused("tcp://127.0.0.1:0", "1 to 65535");
    refused("tcp://127.0.0.1:70000", "1 to 65535");
    refused("tcp://:514", "host is missing");
    refused("tcp://::1:514", "brackets");
    refused("tcp://[zz]:514", "not an IPv6");
    refused("tcp://127.0.0.1:514/path", "only HOST:PORT");
    refused("tcp://user:secret@127.0.0.1:514", "user information");
    let error = "tcp://user:secret@127.0.0.1:514"
        .parse::<SyslogAddress>()
        .expect_err("user info");
    assert!(!error.to_string().contains("secret"));
}

#[test]
fn facilities_by_name() {
    assert_eq!(Facility::default(), Facility::Auth);
    assert_eq!(Facility::Auth.code(), 4);
    assert_eq!("AUTHPRIV".parse::<Facility>().expect("authpriv").code(), 10);
    assert_eq!("local7".parse::<Facility>().expect("local7").code(), 23);
    for (code, facility) in Facility::ALL.into_iter().enumerate() {
        assert_eq!(usize::from(facility.code()), code);
        assert_eq!(facility.name().parse::<Facility>().expect("name"), facility);
    }
    let error = "security".parse::<Facility>().expect_err("not a name");
    assert!(error.to_string().contains("local0 to local7"), "{error}");
}
