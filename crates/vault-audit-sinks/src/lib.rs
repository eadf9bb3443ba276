#![doc = include_str!("../README.md")]

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;

use time::OffsetDateTime;
use uuid::Uuid;

mod file;
mod https;
mod syslog;

pub use file::{FileSink, Rotation};
pub use https::{HttpsConfig, HttpsSink, MAX_EVENTS_PER_REQUEST};
pub use syslog::{ENTERPRISE_SD_ID, Facility, SyslogAddress, SyslogConfig, SyslogSink};

/// One audit event as streamed: its JSON object (what `GET /audit-events` shows, with
/// `organizationId` and `chain: {sequence, digest, previousHash, hash}`) and the few
/// fields a sink needs beside it, so that no sink has to dig them out of the JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamedEvent {
    /// The event's JSON object, written as it is (compact) by every sink.
    pub json: serde_json::Value,
    /// When it happened.
    pub at: OffsetDateTime,
    /// What was done (`credential.use`, ...).
    pub action: String,
    /// Whether the outcome was a failure (syslog raises the severity for it).
    pub outcome_failure: bool,
    /// The organization whose chain the event is in; `None` for the installation's chain.
    pub organization_id: Option<Uuid>,
    /// The event's number in its chain: with the organization, what identifies it, so a
    /// receiver can drop the repeats that at-least-once delivery allows.
    pub sequence: u64,
    /// The event's chain hash, in lower-case hex.
    pub hash_hex: String,
}

/// What [`AuditSink::deliver`] returns: a boxed future, so that the trait stays
/// dyn-compatible.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), SinkError>> + Send + 'a>>;

/// Where audit events are streamed to (a file, a syslog receiver). The streaming job
/// holds each configured sink as an `Arc<dyn AuditSink>`, so unlike the workspace's other
/// async ports (native `impl Future` in traits, which cannot be made into trait objects)
/// `deliver` returns a boxed future; one allocation per batch does not matter here.
///
/// # Errors
/// - `deliver` MUST return `Ok` only once every event of the batch has been handed over
///   as durably as the sink can tell: a file sink has written and flushed the lines and
///   fsync'd the file; a TCP syslog sink has written every message to the socket and
///   flushed it; a UDP syslog sink has sent every datagram.
/// - `deliver` MUST hand over the events in the order of the slice, and the events of one
///   batch MUST NOT interleave with those of another `deliver` running at the same time.
/// - On `Err` some of the batch may have been delivered: the caller MUST retry the whole
///   batch later. Events can therefore arrive more than once (at-least-once delivery);
///   receivers tell them apart by organization and sequence. A sink MUST accept a batch it
///   has (partly) delivered before, and MUST NOT drop events it believes are repeats.
/// - A sink MUST be usable again after an `Err` (reconnecting, reopening its file): one
///   failure never makes it fail for good.
/// - Error messages MUST NOT contain event contents: they are logged.
/// - An empty batch MUST return `Ok` (and may deliver nothing).
pub trait AuditSink: Send + Sync + 'static {
    /// A short name for logs and metrics (`file`, `syslog`, `https`).
    fn name(&self) -> &str;

    /// Hands `events` over to the sink; see the trait's contract.
    fn deliver<'a>(&'a self, events: &'a [StreamedEvent]) -> Delivery<'a>;
}

/// Why a batch was not delivered. None of the messages contains event contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The receiver could not be reached, or the connection to it failed or timed out;
    /// retrying later is expected to succeed once it is back.
    #[error("the audit receiver at {target} is unreachable")]
    Unreachable {
        /// Where the sink sends (`tcp://127.0.0.1:6514`).
        target: String,
        /// The connect or write error (a time-out is [`io::ErrorKind::TimedOut`]).
        #[source]
        source: io::Error,
    },
    /// The sink refuses the batch as it is: retrying the same batch fails again until an
    /// operator changes something (a message too large for a UDP datagram).
    #[error("the audit sink refused the batch: {reason}")]
    Rejected {
        /// Why, in a fixed wording that names no event contents.
        reason: String,
    },
    /// Local I/O failed (the file's directory is gone, the disk is full, a permission).
    #[error("{context}")]
    Io {
        /// What was being done, naming the file.
        context: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

/// Why a sink could not be configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The syslog address is not `tcp://HOST:PORT` or `udp://HOST:PORT`. The address
    /// itself is not repeated (it could carry user information).
    #[error("invalid syslog address: {reason}")]
    Address {
        /// What is wrong with it.
        reason: String,
    },
    /// Not one of the syslog facility names.
    #[error(
        "unknown syslog facility {0:?}: expected one of kern, user, mail, daemon, auth, syslog, \
         lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0 to local7"
    )]
    Facility(String),
    /// The HTTPS sink's URL or header cannot be used. Neither is repeated (either may hold
    /// a token).
    #[error("invalid audit HTTPS sink: {reason}")]
    Https {
        /// What is wrong.
        reason: String,
    },
    /// The audit file's directory does not exist (the sink never creates directories).
    #[error("the directory {} of the audit file does not exist", dir.display())]
    MissingDirectory {
        /// The directory.
        dir: PathBuf,
    },
    /// The audit file's path or rotation cannot be used.
    #[error("audit file {}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// The audit file could not be opened (permissions, ...).
    #[error("cannot open the audit file {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}
