//! The request log (one entry per proxied request) and the audit log (one event per
//! change, use, key issue or revocation, and failed authentication). Neither ever holds a
//! secret value: entries carry ids, names, a method, a host and a path without its query.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit_chain::ChainLink;
use crate::ids::{AccessKeyId, CredentialId, OrganizationId};

/// The smallest UUID v7 of `at`'s millisecond. Log ids are UUID v7 made when the entry is,
/// and every store compares ids bytewise, so an id made before that millisecond sorts
/// below this one and an id made from then on sorts above: "older than `at`" is one range
/// of the primary key's index, which is how retention finds old entries without an index
/// on their time.
#[must_use]
pub fn id_floor(at: OffsetDateTime) -> Uuid {
    // UUID v7 holds 48 bits of Unix milliseconds; times outside them clamp to its ends.
    let millis = (at.unix_timestamp_nanos() / 1_000_000).clamp(0, (1 << 48) - 1);
    let millis = u64::try_from(millis).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    Uuid::from_bytes(bytes)
}

/// One entry of either log: what [`LogStore::append_log`](crate::store::LogStore::append_log)
/// appends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogRecord {
    /// An audit event.
    Audit(AuditEvent),
    /// A request-log entry.
    Request(RequestLogEntry),
}

/// One proxied request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLogEntry {
    /// UUID v7: entries sort by time.
    pub id: Uuid,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The credential used (it may since have been deleted).
    pub credential_id: CredentialId,
    /// The credential's name when it was used.
    pub credential_name: String,
    /// The HTTP method.
    pub method: String,
    /// The destination host (and port, when not the scheme's default).
    pub host: String,
    /// The path, without the query.
    pub path: String,
    /// The upstream's status, when it answered.
    pub status: Option<u16>,
    /// Why there was no answer (an [`UpstreamError`](crate::upstream::UpstreamError)
    /// code), when there was none.
    pub error: Option<String>,
    /// Time from sending to the end of the response body, in microseconds.
    pub latency_micros: i64,
    /// When the request was sent.
    pub at: OffsetDateTime,
    /// The access key that asked for it.
    pub access_key_id: Option<AccessKeyId>,
    /// The identity-provider subject that asked for it, when a token of the configured
    /// identity provider authenticated the request rather than an access key.
    pub actor_subject: Option<String>,
    /// What allowed the use (a [`Via`](crate::grants::Via), as text).
    pub via: Option<String>,
}

/// What an audit event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditAction {
    /// A credential was created.
    CredentialCreate,
    /// A credential was changed.
    CredentialUpdate,
    /// A credential was deleted.
    CredentialDelete,
    /// A credential was applied to a request (through the proxy or the use case).
    CredentialUse,
    /// An access key was issued.
    AccessKeyCreate,
    /// An access key was revoked.
    AccessKeyRevoke,
    /// A request presented an access key that did not authenticate.
    AuthenticationFailure,
    /// A credential was granted to a principal.
    GrantCreate,
    /// A grant was revoked.
    GrantRevoke,
    /// A connect flow of an OAuth2 credential ended: tokens obtained, or why not.
    ConnectionConnect,
    /// The provider refused an OAuth2 connection's refresh token: it needs a reconnect.
    ConnectionLost,
    /// A deleted credential's OAuth2 tokens were revoked at the provider (RFC 7009), or
    /// why not.
    ConnectionRevoke,
    /// A new key-encryption key became the current one (installation-wide: no
    /// organization).
    KeyringRotate,
    /// The keyring was wrapped again, under another key or another key manager.
    KeyringRewrap,
    /// A migration to the configured key manager finished: every sealed row is under the
    /// keyring's keys (or, on failure, why not).
    KeyringMigrate,
    /// A webhook subscription was created.
    WebhookCreate,
    /// A webhook subscription was changed (its secret replaced, among others).
    WebhookUpdate,
    /// A webhook subscription was deleted.
    WebhookDelete,
    /// A webhook delivery was sent again on request.
    WebhookReplay,
    /// A credential, its secret values included, left the vault in an export bundle (one
    /// event per credential; a refused export has one event naming none).
    CredentialExport,
    /// A credential was created from an import bundle (one event per credential created;
    /// a refused import has one event naming none).
    CredentialImport,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [Self; 21] = [
        Self::CredentialCreate,
        Self::CredentialUpdate,
        Self::CredentialDelete,
        Self::CredentialUse,
        Self::AccessKeyCreate,
        Self::AccessKeyRevoke,
        Self::AuthenticationFailure,
        Self::GrantCreate,
        Self::GrantRevoke,
        Self::ConnectionConnect,
        Self::ConnectionLost,
        Self::ConnectionRevoke,
        Self::KeyringRotate,
        Self::KeyringRewrap,
        Self::KeyringMigrate,
        Self::WebhookCreate,
        Self::WebhookUpdate,
        Self::WebhookDelete,
        Self::WebhookReplay,
        Self::CredentialExport,
        Self::CredentialImport,
    ];

    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CredentialCreate => "credential.create",
            Self::CredentialUpdate => "credential.update",
            Self::CredentialDelete => "credential.delete",
            Self::CredentialUse => "credential.use",
            Self::AccessKeyCreate => "access_key.create",
            Self::AccessKeyRevoke => "access_key.revoke",
            Self::AuthenticationFailure => "authentication.failure",
            Self::GrantCreate => "grant.create",
            Self::GrantRevoke => "grant.revoke",
            Self::ConnectionConnect => "connection.connect",
            Self::ConnectionLost => "connection.lost",
            Self::ConnectionRevoke => "connection.revoke",
            Self::KeyringRotate => "keyring.rotate",
            Self::KeyringRewrap => "keyring.rewrap",
            Self::KeyringMigrate => "keyring.migrate",
            Self::WebhookCreate => "webhook.create",
            Self::WebhookUpdate => "webhook.update",
            Self::WebhookDelete => "webhook.delete",
            Self::WebhookReplay => "webhook.replay",
            Self::CredentialExport => "credential.export",
            Self::CredentialImport => "credential.import",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = UnknownAuditValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(UnknownAuditValue)
    }
}

/// A stored action or outcome name this version does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown audit action or outcome")]
pub struct UnknownAuditValue;

/// Whether the audited operation succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    /// It did what was asked.
    Success,
    /// It was refused or failed; the event's `reason` says why.
    Failure,
}

impl AuditOutcome {
    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

impl FromStr for AuditOutcome {
    type Err = UnknownAuditValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "success" => Ok(Self::Success),
            "failure" => Ok(Self::Failure),
            _ => Err(UnknownAuditValue),
        }
    }
}

/// One audit event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// UUID v7: events sort by time.
    pub id: Uuid,
    /// The organization, when known (a failed authentication with an unknown key has none).
    pub organization_id: Option<OrganizationId>,
    /// The access key that acted; `None` for the system itself (bootstrap), an
    /// identity-provider subject, or an unknown caller.
    pub actor: Option<AccessKeyId>,
    /// The identity-provider subject that acted (the token's subject claim), when a token
    /// of the configured identity provider authenticated rather than an access key. On a
    /// failed authentication, set only from a token whose signature verified.
    pub actor_subject: Option<String>,
    /// What was done.
    pub action: AuditAction,
    /// The credential or access key acted on, when there is one.
    pub target: Option<Uuid>,
    /// Success or failure.
    pub outcome: AuditOutcome,
    /// On failure, a stable code saying why (`not-found`, `insufficient-scope`,
    /// `credential-expired`, ...). Never a secret, never free text from a caller. On a
    /// success, only `reconnected`: a `connection.connect` that ended a needed reconnect.
    pub reason: Option<String>,
    /// When it happened; for an event standing for several occurrences, when the last of
    /// them happened.
    pub at: OffsetDateTime,
    /// How many occurrences this event stands for: 1, except for repeated failed
    /// authentications of one key (or subject) with one reason, which are written once
    /// at the first failure and then as one event per window counting the rest (see
    /// `vault/flood.rs`).
    pub count: u32,
    /// For a use that went ahead, what allowed it: `grant:<id>`, or
    /// `credentials:use-all` for an organization-wide scope (see
    /// [`Via`](crate::grants::Via)).
    pub via: Option<String>,
    /// Where the event sits in its chain: set by the store as it writes the event, so
    /// `None` on an event not yet written (and on one written before chains existed).
    pub chain: Option<ChainLink>,
}

/// Which request-log entries to list: newest first, before the cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestLogQuery {
    /// Only entries of this credential.
    pub credential_id: Option<CredentialId>,
    /// Only entries with ids smaller (older) than this one (the cursor).
    pub before: Option<Uuid>,
    /// At most this many.
    pub limit: usize,
}

/// Which audit events to list: newest first, before the cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only events of this action.
    pub action: Option<AuditAction>,
    /// Only events about this credential or access key.
    pub target: Option<Uuid>,
    /// Only events with ids smaller (older) than this one (the cursor).
    pub before: Option<Uuid>,
    /// At most this many.
    pub limit: usize,
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::{NoContext, Timestamp};

    use super::*;

    fn v7_at(at: OffsetDateTime) -> Uuid {
        let nanos = at.unix_timestamp_nanos();
        let secs = u64::try_from(nanos / 1_000_000_000).expect("after 1970");
        let subsec = u32::try_from(nanos % 1_000_000_000).expect("under a second");
        Uuid::new_v7(Timestamp::from_unix(NoContext, secs, subsec))
    }

    #[test]
    fn the_id_floor_splits_ids_at_its_millisecond() {
        let at = datetime!(2026-12-06 08:00:00.123_456 UTC);
        let floor = id_floor(at);
        for _ in 0..64 {
            assert!(v7_at(at - time::Duration::milliseconds(1)) < floor);
            assert!(v7_at(at) > floor);
            assert!(v7_at(at + time::Duration::days(1)) > floor);
        }
        assert_eq!(id_floor(datetime!(1960-01-01 0:00 UTC)), Uuid::nil());
    }
}

/// How a credential's uses were answered in one hour: a bar of its usage chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageBucket {
    /// The hour's start (UTC, on the hour).
    pub hour: OffsetDateTime,
    /// The class of the upstream's answers: 2 to 5 for 2xx to 5xx (1 for 1xx), 0 for
    /// uses the upstream never answered (unreachable, timed out).
    pub status_class: u8,
    /// How many uses.
    pub count: u64,
}

impl UsageBucket {
    /// The class of a request-log entry's `status`.
    #[must_use]
    pub fn class_of(status: Option<u16>) -> u8 {
        status.map_or(0, |s| u8::try_from(s / 100).unwrap_or(0))
    }
}
