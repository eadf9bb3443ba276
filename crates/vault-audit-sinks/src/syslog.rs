//! The syslog sink: RFC 5424 messages over TCP (RFC 6587 octet counting) or UDP (RFC 5426,
//! one message per datagram).

use std::fmt::{self, Write as _};
use std::io::{self, Read as _};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Mutex;

use crate::{AuditSink, ConfigError, Delivery, SinkError, StreamedEvent};

/// The structured-data ID of the vault's element in every message. 32473 is the private
/// enterprise number RFC 5424 (and RFC 5612) reserves for documentation; the vault has no
/// number of its own, so operators see `vault@32473` in their collectors.
pub const ENTERPRISE_SD_ID: &str = "vault@32473";

/// The APP-NAME of every message.
const APP_NAME: &str = "vault";

/// The largest UDP payload over IPv4 (65,535 less the IP and UDP headers).
const MAX_DATAGRAM: usize = 65_507;

/// A syslog facility: the "who" part of a message's priority (RFC 5424 §6.2.1, table 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Facility {
    /// `kern` (0): kernel messages.
    Kern,
    /// `user` (1): user-level messages.
    User,
    /// `mail` (2): the mail system.
    Mail,
    /// `daemon` (3): system daemons.
    Daemon,
    /// `auth` (4): security/authorization messages: the default.
    #[default]
    Auth,
    /// `syslog` (5): messages of syslogd itself.
    Syslog,
    /// `lpr` (6): the line printer subsystem.
    Lpr,
    /// `news` (7): network news.
    News,
    /// `uucp` (8): UUCP.
    Uucp,
    /// `cron` (9): the clock daemon (cron).
    Cron,
    /// `authpriv` (10): security/authorization messages (private).
    Authpriv,
    /// `ftp` (11): the FTP daemon.
    Ftp,
    /// `ntp` (12): NTP.
    Ntp,
    /// `audit` (13): log audit.
    Audit,
    /// `alert` (14): log alert.
    Alert,
    /// `clock` (15): the clock daemon.
    Clock,
    /// `local0` (16): local use.
    Local0,
    /// `local1` (17): local use.
    Local1,
    /// `local2` (18): local use.
    Local2,
    /// `local3` (19): local use.
    Local3,
    /// `local4` (20): local use.
    Local4,
    /// `local5` (21): local use.
    Local5,
    /// `local6` (22): local use.
    Local6,
    /// `local7` (23): local use.
    Local7,
}

impl Facility {
    /// Every facility, by code.
    pub const ALL: [Self; 24] = [
        Self::Kern,
        Self::User,
        Self::Mail,
        Self::Daemon,
        Self::Auth,
        Self::Syslog,
        Self::Lpr,
        Self::News,
        Self::Uucp,
        Self::Cron,
        Self::Authpriv,
        Self::Ftp,
        Self::Ntp,
        Self::Audit,
        Self::Alert,
        Self::Clock,
        Self::Local0,
        Self::Local1,
        Self::Local2,
        Self::Local3,
        Self::Local4,
        Self::Local5,
        Self::Local6,
        Self::Local7,
    ];

    /// Its numerical code (RFC 5424 table 1): 0 (`kern`) to 23 (`local7`).
    #[must_use]
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// Its name, as [`FromStr`] reads it (`auth`, `local4`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Kern => "kern",
            Self::User => "user",
            Self::Mail => "mail",
            Self::Daemon => "daemon",
            Self::Auth => "auth",
            Self::Syslog => "syslog",
            Self::Lpr => "lpr",
            Self::News => "news",
            Self::Uucp => "uucp",
            Self::Cron => "cron",
            Self::Authpriv => "authpriv",
            Self::Ftp => "ftp",
            Self::Ntp => "ntp",
            Self::Audit => "audit",
            Self::Alert => "alert",
            Self::Clock => "clock",
            Self::Local0 => "local0",
            Self::Local1 => "local1",
            Self::Local2 => "local2",
            Self::Local3 => "local3",
            Self::Local4 => "local4",
            Self::Local5 => "local5",
            Self::Local6 => "local6",
            Self::Local7 => "local7",
        }
    }
}

impl fmt::Display for Facility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Facility {
    type Err = ConfigError;

    /// A facility by name, case-insensitively (`auth`, `LOCAL4`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ConfigError::Facility(s.to_owned()))
    }
}

/// Where a syslog sink sends: `tcp://HOST:PORT` or `udp://HOST:PORT` (HOST a name, an
/// IPv4 address, or an IPv6 address in brackets). The port is required: there is no
/// usual one to assume (514 for UDP, 601 for plain TCP, 6514 is for TLS, which this sink
/// does not speak).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyslogAddress {
    /// TCP, `HOST:PORT`.
    Tcp(String),
    /// UDP, `HOST:PORT`.
    Udp(String),
}

impl SyslogAddress {
    /// `HOST:PORT`.
    #[must_use]
    pub fn authority(&self) -> &str {
        match self {
            Self::Tcp(authority) | Self::Udp(authority) => authority,
        }
    }
}

impl fmt::Display for SyslogAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(authority) => write!(f, "tcp://{authority}"),
            Self::Udp(authority) => write!(f, "udp://{authority}"),
        }
    }
}

impl FromStr for SyslogAddress {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| ConfigError::Address {
            reason: reason.to_owned(),
        };
        let Some((scheme, rest)) = s.trim().split_once("://") else {
            return Err(invalid(
                "expected tcp://HOST:PORT or udp://HOST:PORT (no scheme given)",
            ));
        };
        let tcp = match scheme.to_ascii_lowercase().as_str() {
            "tcp" => true,
            "udp" => false,
            "tls" | "syslog-tls" | "tcp+tls" => {
                return Err(invalid(
                    "TLS is not supported: send to a local agent (rsyslog, syslog-ng, \
                     Vector) over tcp:// or udp:// and let it forward over TLS",
                ));
            }
            other => {
                return Err(ConfigError::Address {
                    reason: format!(
                        "the scheme must be tcp:// or udp://, not {:?}",
                        other.chars().take(16).collect::<String>()
                    ),
                });
            }
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('@') {
            return Err(invalid("user information (user@) is not supported"));
        }
        if authority.contains(['/', '?', '#']) {
            return Err(invalid("expected only HOST:PORT after the scheme"));
        }
        let Some((host, port)) = authority.rsplit_once(':') else {
            return Err(invalid("the port is missing (HOST:PORT)"));
        };
        if host.is_empty() {
            return Err(invalid("the host is missing (HOST:PORT)"));
        }
        match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(v6) if v6.parse::<Ipv6Addr>().is_err() => {
                return Err(invalid("the address in brackets is not an IPv6 address"));
            }
            None if host.contains(['[', ']', ':']) => {
                return Err(invalid("an IPv6 address must be in brackets: [::1]:514"));
            }
            _ => {}
        }
        match port.parse::<u16>() {
            Ok(0) | Err(_) => Err(invalid("the port must be a number from 1 to 65535")),
            Ok(_) if tcp => Ok(Self::Tcp(authority.to_owned())),
            Ok(_) => Ok(Self::Udp(authority.to_owned())),
        }
    }
}

/// How a [`SyslogSink`] sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyslogConfig {
    /// Where to.
    pub address: SyslogAddress,
    /// The HOSTNAME field: the machine's name as the caller knows it, `None` for the nil
    /// value `-`. Characters outside printable ASCII become `_`, and it is cut to 255.
    pub hostname: Option<String>,
    /// The facility of every message (default `auth`).
    pub facility: Facility,
    /// How long connecting (TCP) may take.
    pub connect_timeout: Duration,
    /// How long writing one batch may take.
    pub write_timeout: Duration,
}

impl SyslogConfig {
    /// Sending to `address`, as `hostname`: facility `auth`, 5 s to connect, 5 s to write
    /// a batch.
    #[must_use]
    pub fn new(address: SyslogAddress, hostname: Option<String>) -> Self {
        Self {
            address,
            hostname,
            facility: Facility::default(),
            connect_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
        }
    }
}

/// Sends each event as one RFC 5424 message:
///
/// ```text
/// <PRI>1 TIMESTAMP HOSTNAME vault - MSGID [vault@32473 org="…" seq="…" hash="…"] MSG
/// ```
///
/// PRI is the facility × 8 + severity: notice (5) for a success, warning (4) for a
/// failure. TIMESTAMP is the event's time in UTC, with microseconds. MSGID is the action
/// (printable ASCII, at most 32 characters). `org` is left out for the installation's own
/// chain. MSG is the event's compact JSON, UTF-8 without a byte-order mark (so RFC 5424
/// calls it MSG-ANY; collectors read it as UTF-8).
///
/// Over TCP, messages are framed by octet counting (RFC 6587 §3.4.1, `LEN SP MSG`) and one
/// connection is kept and reused: a connection the receiver closed is noticed before a
/// batch and replaced; a failed write drops it and fails the batch, and the next batch
/// connects again. TCP syslog has no acknowledgement: `Ok` means written to the socket, so
/// a receiver that dies with messages in flight loses them.
///
/// Over UDP each message is one datagram. UDP loses messages silently (a receiver down,
/// a full buffer): use it only towards an agent on the same machine.
///
/// Neither transport is encrypted: across a network, send to a local agent that forwards
/// over TLS.
#[derive(Debug)]
pub struct SyslogSink {
    address: SyslogAddress,
    target: String,
    hostname: String,
    facility: Facility,
    connect_timeout: Duration,
    write_timeout: Duration,
    link: Link,
}

/// The kept connection (TCP) or socket (UDP). A delivery takes it out of its slot and puts
/// it back only after a whole batch went out: one that fails, or that is dropped half-way
/// (a cancelled future may have left part of a frame in the stream, after which the
/// receiver would misread everything that follows), drops it with itself, and the next
/// batch starts afresh. The mutex also keeps batches from interleaving.
#[derive(Debug)]
enum Link {
    Tcp(Mutex<Option<TcpConnection>>),
    Udp(Mutex<Option<UdpSocket>>),
}

#[derive(Debug)]
struct TcpConnection {
    stream: TcpStream,
    /// A duplicate of the stream's descriptor, to look for the receiver's close with a
    /// plain non-blocking read (tokio's readiness is only as fresh as its last poll).
    probe: std::net::TcpStream,
}

impl SyslogSink {
    /// A sink sending by `config`. It connects on the first batch.
    #[must_use]
    pub fn new(config: SyslogConfig) -> Self {
        let hostname = config
            .hostname
            .as_deref()
            .map_or_else(|| "-".to_owned(), |h| printable(h, 255));
        Self {
            target: config.address.to_string(),
            address: config.address.clone(),
            hostname,
            facility: config.facility,
            connect_timeout: config.connect_timeout,
            write_timeout: config.write_timeout,
            link: match config.address {
                SyslogAddress::Tcp(_) => Link::Tcp(Mutex::default()),
                SyslogAddress::Udp(_) => Link::Udp(Mutex::default()),
            },
        }
    }

    /// `event` as an RFC 5424 message (without framing).
    fn message(&self, event: &StreamedEvent) -> Result<String, SinkError> {
        let severity = if event.outcome_failure { 4 } else { 5 };
        let pri = u16::from(self.facility.code()) * 8 + severity;
        let msg = serde_json::to_string(&event.json).map_err(|_| SinkError::Rejected {
            reason: "an event could not be written as JSON".to_owned(),
        })?;
        let mut out = String::with_capacity(msg.len() + 200);
        let _ = write!(
            out,
            "<{pri}>1 {} {} {APP_NAME} - {} [{ENTERPRISE_SD_ID}",
            timestamp(event.at),
            self.hostname,
            printable(&event.action, 32),
        );
        if let Some(org) = event.organization_id {
            out.push_str(" org=\"");
            escape_param(&mut out, &org.to_string());
            out.push('"');
        }
        let _ = write!(out, " seq=\"{}\" hash=\"", event.sequence);
        escape_param(&mut out, &event.hash_hex);
        out.push_str("\"] ");
        out.push_str(&msg);
        Ok(out)
    }

    fn unreachable(&self, source: io::Error) -> SinkError {
        SinkError::Unreachable {
            target: self.target.clone(),
            source,
        }
    }

    async fn deliver_tcp(
        &self,
        slot: &mut Option<TcpConnection>,
        messages: &[String],
    ) -> Result<(), SinkError> {
        let mut frames = Vec::with_capacity(messages.iter().map(|m| m.len() + 8).sum());
        for message in messages {
            frames.extend_from_slice(message.len().to_string().as_bytes());
            frames.push(b' ');
            frames.extend_from_slice(message.as_bytes());
        }
        let kept = slot.take().filter(|connection| {
            let open = still_open(&connection.probe);
            if !open {
                tracing::debug!(target = %self.target, "the syslog receiver closed the connection");
            }
            open
        });
        let mut connection = match kept {
            Some(connection) => connection,
            None => self.connect().await.map_err(|e| self.unreachable(e))?,
        };
        let write = async {
            connection.stream.write_all(&frames).await?;
            connection.stream.flush().await
        };
        match tokio::time::timeout(self.write_timeout, write).await {
            Ok(Ok(())) => {
                *slot = Some(connection);
                Ok(())
            }
            // Part of the batch may be in the stream: it is dropped, never written after.
            Ok(Err(e)) => Err(self.unreachable(e)),
            Err(_) => Err(self.unreachable(timed_out("writing"))),
        }
    }

    async fn connect(&self) -> io::Result<TcpConnection> {
        let connect = TcpStream::connect(self.address.authority());
        let stream = tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| timed_out("connecting"))??;
        // Messages go out as soon as a batch is written: no waiting to fill segments.
        stream.set_nodelay(true)?;
        let probe = duplicate(&stream)?;
        tracing::debug!(target = %self.target, "connected to the syslog receiver");
        Ok(TcpConnection { stream, probe })
    }

    async fn deliver_udp(
        &self,
        slot: &mut Option<UdpSocket>,
        messages: &[String],
    ) -> Result<(), SinkError> {
        if let Some(too_long) = messages.iter().find(|m| m.len() > MAX_DATAGRAM) {
            return Err(SinkError::Rejected {
                reason: format!(
                    "a message of {} bytes does not fit in a UDP datagram ({MAX_DATAGRAM} at \
                     most): use tcp://",
                    too_long.len()
                ),
            });
        }
        let socket = match slot.take() {
            Some(socket) => socket,
            None => self.udp_socket().await.map_err(|e| self.unreachable(e))?,
        };
        let send = async {
            for message in messages {
                let sent = socket.send(message.as_bytes()).await?;
                if sent != message.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "a datagram was sent short",
                    ));
                }
            }
            Ok(())
        };
        match tokio::time::timeout(self.write_timeout, send).await {
            Ok(Ok(())) => {
                *slot = Some(socket);
                Ok(())
            }
            // A refused send (the ICMP answer to an earlier datagram) is reported once per
            // socket: the next batch starts on a new one.
            Ok(Err(e)) => Err(self.unreachable(e)),
            Err(_) => Err(self.unreachable(timed_out("sending"))),
        }
    }

    /// A UDP socket connected to the receiver (its first address), bound to any local
    /// address of the same family.
    async fn udp_socket(&self) -> io::Result<UdpSocket> {
        let resolve = tokio::net::lookup_host(self.address.authority());
        let remote = match tokio::time::timeout(self.connect_timeout, resolve).await {
            Ok(addresses) => addresses?.next().ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, "the host has no address")
            })?,
            Err(_) => return Err(timed_out("resolving")),
        };
        let local: SocketAddr = if remote.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(remote).await?;
        Ok(socket)
    }
}

impl AuditSink for SyslogSink {
    fn name(&self) -> &str {
        "syslog"
    }

    fn deliver<'a>(&'a self, events: &'a [StreamedEvent]) -> Delivery<'a> {
        Box::pin(async move {
            if events.is_empty() {
                return Ok(());
            }
            let messages = events
                .iter()
                .map(|event| self.message(event))
                .collect::<Result<Vec<_>, _>>()?;
            match &self.link {
                Link::Tcp(slot) => self.deliver_tcp(&mut *slot.lock().await, &messages).await,
                Link::Udp(slot) => self.deliver_udp(&mut *slot.lock().await, &messages).await,
            }
        })
    }
}

/// Whether the receiver has not closed the connection: a non-blocking read finds no end
/// of stream and no error. Receivers send nothing on a syslog connection; anything they
/// do send is read and dropped.
fn still_open(probe: &std::net::TcpStream) -> bool {
    let mut probe = probe;
    let mut scratch = [0u8; 512];
    loop {
        match probe.read(&mut scratch) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return e.kind() == io::ErrorKind::WouldBlock,
        }
    }
}

/// A blocking-API handle on the same socket (the descriptor is duplicated; it shares the
/// non-blocking flag, so reads through it never block).
fn duplicate(stream: &TcpStream) -> io::Result<std::net::TcpStream> {
    use std::os::fd::AsFd as _;
    let owned = stream.as_fd().try_clone_to_owned()?;
    Ok(std::net::TcpStream::from(owned))
}

fn timed_out(doing: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{doing} timed out"))
}

/// RFC 3339 in UTC with microseconds (`2026-05-04T10:34:56.123456Z`), or the nil value
/// for a year RFC 5424's four digits cannot hold.
fn timestamp(at: OffsetDateTime) -> String {
    let utc = at.to_offset(UtcOffset::UTC);
    if !(0..=9999).contains(&utc.year()) {
        return "-".to_owned();
    }
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    ))
    .unwrap_or_else(|_| "-".to_owned())
}

/// `value` as a header field: printable ASCII only (others become `_`), at most `max`
/// characters, `-` (the nil value) if empty.
fn printable(value: &str, max: usize) -> String {
    let out: String = value
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(max)
        .collect();
    if out.is_empty() { "-".to_owned() } else { out }
}

/// Appends `value` as an SD-PARAM value: `"`, `\` and `]` escaped with a backslash
/// (RFC 5424 §6.3.3).
fn escape_param(out: &mut String, value: &str) {
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_values_are_escaped() {
        let mut out = String::new();
        escape_param(&mut out, r#"a"b\c]d[e"#);
        assert_eq!(out, r#"a\"b\\c\]d[e"#);
    }

    #[test]
    fn header_fields_are_printable_and_bounded() {
        assert_eq!(printable("credential.use", 32), "credential.use");
        assert_eq!(printable("a b\tcé", 32), "a_b_c_");
        assert_eq!(printable(&"x".repeat(40), 32), "x".repeat(32));
        assert_eq!(printable("", 32), "-");
    }

    #[test]
    fn timestamps_are_utc_with_microseconds() {
        let at = time::macros::datetime!(2026-05-04 12:34:56.123_456_789 +02:00);
        assert_eq!(timestamp(at), "2026-05-04T10:34:56.123456Z");
        let whole = time::macros::datetime!(2026-01-01 00:00:00 UTC);
        assert_eq!(timestamp(whole), "2026-01-01T00:00:00.000000Z");
    }
}
