//! Webhook subscriptions: an organization names an `https` URL and the event types it
//! wants (`credential.expiring`, `oauth.reconnect_required`, ...), and the vault POSTs each
//! such event there, signed per the Standard Webhooks specification with a secret shown
//! once at creation.
//!
//! Events become deliveries in the store (an outbox): one row per subscription and event,
//! written where the event is decided. A background job sends the due ones, retrying a
//! failure on [`RETRY_SCHEDULE`] (about a day) before giving up; every delivery stays
//! listed, and a failed one can be replayed. Payloads name things (ids, names, dates),
//! never a secret value.

pub mod signature;

use std::fmt;
use std::str::FromStr;

use time::{Duration, OffsetDateTime};
use url::Url;

use crate::cipher::SealedBlob;
use crate::ids::{OrganizationId, WebhookDeliveryId, WebhookId};
use crate::input::Patch;
use crate::logs::AuditEvent;
use crate::store::StoreError;
use crate::validation::{FieldError, ValidationErrors};

pub use signature::{SignedHeaders, WebhookSecret};

/// The most subscriptions one organization may have.
pub const MAX_WEBHOOKS_PER_ORGANIZATION: usize = 32;
/// The longest URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The most reminder thresholds (`daysAhead`) per subscription.
pub const MAX_DAYS_AHEAD: usize = 5;
/// The furthest reminder, in days.
pub const MAX_DAYS_AHEAD_VALUE: u16 = 365;
/// The reminder thresholds of a subscription that names none: 30, 7 and 1 days before.
pub const DEFAULT_DAYS_AHEAD: [u16; 3] = [30, 7, 1];

/// How long after each failed attempt the next one comes: eight attempts over about a
/// day (23 h 35 min), after which the delivery is failed (and can still be replayed).
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(6),
];

/// What a subscription can be told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A credential's `expiresAt` is within one of the subscription's `daysAhead`.
    CredentialExpiring,
    /// A credential's `expiresAt` has passed.
    CredentialExpired,
    /// An upstream answered a credential's uses with 401 or 403, several times in a row.
    CredentialUseFailed,
    /// The provider refused an OAuth2 connection's refresh token: a user must connect it
    /// again.
    OauthReconnectRequired,
    /// A connection that needed a reconnect was connected again.
    OauthReconnected,
    /// An access key's `expiresAt` is within one of the subscription's `daysAhead`.
    AccessKeyExpiring,
    /// A new key-encryption key became the current one (every organization hears of it).
    KeyRotated,
}

impl EventType {
    /// Every event type.
    pub const ALL: [Self; 7] = [
        Self::CredentialExpiring,
        Self::CredentialExpired,
        Self::CredentialUseFailed,
        Self::OauthReconnectRequired,
        Self::OauthReconnected,
        Self::AccessKeyExpiring,
        Self::KeyRotated,
    ];

    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CredentialExpiring => "credential.expiring",
            Self::CredentialExpired => "credential.expired",
            Self::CredentialUseFailed => "credential.use_failed",
            Self::OauthReconnectRequired => "oauth.reconnect_required",
            Self::OauthReconnected => "oauth.reconnected",
            Self::AccessKeyExpiring => "access_key.expiring",
            Self::KeyRotated => "key.rotated",
        }
    }

    /// True for the reminders the scheduler computes from an `expiresAt`.
    #[must_use]
    pub const fn is_reminder(self) -> bool {
        matches!(
            self,
            Self::CredentialExpiring | Self::CredentialExpired | Self::AccessKeyExpiring
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(raw: &str) -> Result<Self, UnknownEventType> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or(UnknownEventType)
    }
}

/// Not one of [`EventType::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type")]
pub struct UnknownEventType;

fn names() -> String {
    EventType::ALL.map(EventType::as_str).join(", ")
}

/// A subscription, as stored: its secret sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// Its id.
    pub id: WebhookId,
    /// Whose it is.
    pub organization_id: OrganizationId,
    /// Where deliveries go: always `https`.
    pub url: Url,
    /// What it is for, in the user's words.
    pub description: Option<String>,
    /// The event types delivered, sorted, without repeats, never empty.
    pub events: Vec<EventType>,
    /// How many days before an `expiresAt` reminders come, descending.
    pub days_ahead: Vec<u16>,
    /// False: paused. No new event is addressed to it (events meanwhile are not kept for
    /// it), and deliveries it already has wait until it is enabled again.
    pub enabled: bool,
    /// The signing secret, sealed to (organization, id).
    pub secret: SealedBlob,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl Webhook {
    /// True when it is enabled and takes events of `event_type`.
    #[must_use]
    pub fn wants(&self, event_type: EventType) -> bool {
        self.enabled && self.events.contains(&event_type)
    }
}

/// A subscription's fields, as a caller gives them (create: all; update: those present),
/// not yet checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookInput {
    /// Where deliveries go.
    pub url: Option<String>,
    /// What it is for (null clears it on update).
    pub description: Patch<String>,
    /// The event type names.
    pub events: Option<Vec<String>>,
    /// Reminder thresholds, in days.
    pub days_ahead: Option<Vec<i64>>,
    /// Whether it sends.
    pub enabled: Option<bool>,
}

/// The checked fields of a subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookFields {
    /// See [`Webhook::url`].
    pub url: Url,
    /// See [`Webhook::description`].
    pub description: Option<String>,
    /// See [`Webhook::events`].
    pub events: Vec<EventType>,
    /// See [`Webhook::days_ahead`].
    pub days_ahead: Vec<u16>,
    /// See [`Webhook::enabled`].
    pub enabled: bool,
}

impl WebhookFields {
    /// The fields of `webhook`.
    #[must_use]
    pub fn of(webhook: &Webhook) -> Self {
        Self {
            url: webhook.url.clone(),
            description: webhook.description.clone(),
            events: webhook.events.clone(),
            days_ahead: webhook.days_ahead.clone(),
            enabled: webhook.enabled,
        }
    }
}

impl WebhookInput {
    /// The fields of `base` with this input's changes applied, checked. `base` is `None`
    /// for a create, where `url` and `events` are required.
    ///
    /// # Errors
    /// Every invalid or missing field.
    pub fn apply(&self, base: Option<&WebhookFields>) -> Result<WebhookFields, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let url = match (&self.url, base) {
            (Some(raw), _) => errors.take(parse_url(raw)),
            (None, Some(base)) => Some(base.url.clone()),
            (None, None) => {
                errors.add("url", "is required");
                None
            }
        };
        let description = match &self.description {
            Patch::Value(text) => errors.take(check_description(text)),
            Patch::Null => Some(None),
            Patch::Absent => Some(base.and_then(|b| b.description.clone())),
        };
        let events = match (&self.events, base) {
            (Some(given), _) => errors.take(check_events(given)),
            (None, Some(base)) => Some(base.events.clone()),
            (None, None) => {
                errors.add("events", format!("is required: a list of {}", names()));
                None
            }
        };
        let days_ahead = match (&self.days_ahead, base) {
            (Some(given), _) => errors.take(check_days_ahead(given)),
            (None, Some(base)) => Some(base.days_ahead.clone()),
            (None, None) => Some(DEFAULT_DAYS_AHEAD.to_vec()),
        };
        let enabled = self.enabled.or(base.map(|b| b.enabled)).unwrap_or(true);
        match (url, description, events, days_ahead) {
            (Some(url), Some(description), Some(events), Some(days_ahead)) if errors.is_empty() => {
                Ok(WebhookFields {
                    url,
                    description,
                    events,
                    days_ahead,
                    enabled,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A webhook URL: absolute `https`, with a host, no user information and no fragment.
/// Where it resolves to is checked when sending, like any destination of the vault.
///
/// # Errors
/// When it is not such a URL.
pub fn parse_url(raw: &str) -> Result<Url, FieldError> {
    let refuse = |message: &str| FieldError::new("url", message);
    if raw.len() > MAX_URL_BYTES || raw.chars().any(char::is_control) {
        return Err(refuse(
            "must be at most 2048 bytes, without control characters",
        ));
    }
    let url = Url::parse(raw.trim()).map_err(|_| refuse("must be an absolute https URL"))?;
    if url.scheme() != "https" {
        return Err(refuse(
            "must be an https URL: events are sent only over TLS",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "must not carry user information; authenticate deliveries by their signature",
        ));
    }
    if url.fragment().is_some() {
        return Err(refuse("must not have a fragment"));
    }
    Ok(url)
}

fn check_description(text: &str) -> Result<Option<String>, FieldError> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS || text.chars().any(char::is_control) {
        return Err(FieldError::new(
            "description",
            "must be at most 500 characters, without control characters",
        ));
    }
    Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty()))
}

fn check_events(given: &[String]) -> Result<Vec<EventType>, FieldError> {
    let mut events = given
        .iter()
        .map(|raw| raw.parse())
        .collect::<Result<Vec<EventType>, _>>()
        .map_err(|_| {
            FieldError::new(
                "events",
                format!("must list only these event types: {}", names()),
            )
        })?;
    events.sort_unstable();
    events.dedup();
    if events.is_empty() {
        return Err(FieldError::new(
            "events",
            format!("must name at least one of {}", names()),
        ));
    }
    Ok(events)
}

fn check_days_ahead(given: &[i64]) -> Result<Vec<u16>, FieldError> {
    let refuse = || {
        FieldError::new(
            "daysAhead",
            "must list 1 to 5 whole numbers of days, each from 1 to 365",
        )
    };
    let mut days = given
        .iter()
        .map(|d| {
            u16::try_from(*d)
                .ok()
                .filter(|d| (1..=MAX_DAYS_AHEAD_VALUE).contains(d))
        })
        .collect::<Option<Vec<u16>>>()
        .ok_or_else(refuse)?;
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    if days.is_empty() || days.len() > MAX_DAYS_AHEAD {
        return Err(refuse());
    }
    Ok(days)
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not delivered yet: waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every attempt of the schedule failed (or the subscription is gone).
    Failed,
}

impl DeliveryStatus {
    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// From the storage name.
    ///
    /// # Errors
    /// An unknown name: the row was written by something else.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        match raw {
            "pending" => Ok(Self::Pending),
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            _ => Err(StoreError::Backend(
                format!("unknown webhook delivery status {raw:?}").into(),
            )),
        }
    }
}

/// One event for one subscription: what is sent (the same message id and payload on every
/// attempt, so a receiver can drop repeats), and how sending it went.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// Its id.
    pub id: WebhookDeliveryId,
    /// The subscription.
    pub webhook_id: WebhookId,
    /// Whose it is.
    pub organization_id: OrganizationId,
    /// The Standard Webhooks message id (`webhook-id`): `msg_` and the event's id; a
    /// replay keeps it.
    pub message_id: String,
    /// The event type.
    pub event_type: EventType,
    /// The JSON body sent: `{"type", "timestamp", "data"}`.
    pub payload: serde_json::Value,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<OffsetDateTime>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<OffsetDateTime>,
    /// The HTTP status the receiver last answered, if it answered.
    pub response_status: Option<u16>,
    /// Why the last attempt failed, in words that hold no secret (a status, a time-out).
    pub error: Option<String>,
    /// The delivery this one replays.
    pub replay_of: Option<WebhookDeliveryId>,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

impl Delivery {
    /// A pending delivery of `event` to `webhook`, due at once.
    #[must_use]
    pub fn new(webhook: &Webhook, event: &WebhookEvent) -> Self {
        Self {
            id: WebhookDeliveryId::new(),
            webhook_id: webhook.id,
            organization_id: webhook.organization_id,
            message_id: event.message_id.clone(),
            event_type: event.event_type,
            payload: event.payload(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(event.at),
            last_attempt_at: None,
            response_status: None,
            error: None,
            replay_of: None,
            created_at: event.at,
        }
    }

    /// What an attempt made at `at` that ended in `result` makes of this delivery: done,
    /// due again after the schedule's next wait, or failed once the schedule is spent.
    #[must_use]
    pub fn after_attempt(&self, at: OffsetDateTime, result: &AttemptResult) -> AttemptRecord {
        let attempts = self.attempts.saturating_add(1);
        let (status, next_attempt_at) = if result.succeeded() {
            (DeliveryStatus::Succeeded, None)
        } else {
            let waited = usize::try_from(self.attempts).unwrap_or(usize::MAX);
            match RETRY_SCHEDULE.get(waited) {
                Some(wait) => (DeliveryStatus::Pending, Some(at + *wait)),
                None => (DeliveryStatus::Failed, None),
            }
        };
        AttemptRecord {
            id: self.id,
            attempts,
            status,
            next_attempt_at,
            last_attempt_at: at,
            response_status: result.response_status,
            error: result.error.clone(),
        }
    }

    /// A new pending delivery of the same message, due at `at`, with the whole retry
    /// schedule ahead of it.
    #[must_use]
    pub fn replay(&self, at: OffsetDateTime) -> Self {
        Self {
            id: WebhookDeliveryId::new(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(at),
            last_attempt_at: None,
            response_status: None,
            error: None,
            replay_of: Some(self.id),
            created_at: at,
            ..self.clone()
        }
    }
}

/// How one attempt went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptResult {
    /// The receiver's HTTP status, when it answered.
    pub response_status: Option<u16>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

impl AttemptResult {
    /// True when the receiver took the delivery (it answered 2xx).
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
            && self
                .response_status
                .is_some_and(|s| (200..300).contains(&s))
    }
}

/// What the store records after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The delivery.
    pub id: WebhookDeliveryId,
    /// Attempts made, this one included.
    pub attempts: u32,
    /// Where it stands now.
    pub status: DeliveryStatus,
    /// When the next attempt is due, if one is.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// When this attempt was made.
    pub last_attempt_at: OffsetDateTime,
    /// The receiver's status, if it answered.
    pub response_status: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// An event, before it is addressed to subscriptions.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookEvent {
    /// `msg_` and a fresh UUID v7: the Standard Webhooks message id.
    pub message_id: String,
    /// Its type.
    pub event_type: EventType,
    /// When it happened.
    pub at: OffsetDateTime,
    /// What it is about (ids, names, dates; never a secret).
    pub data: serde_json::Value,
}

impl WebhookEvent {
    /// A new event of `event_type` at `at`.
    #[must_use]
    pub fn new(event_type: EventType, at: OffsetDateTime, data: serde_json::Value) -> Self {
        Self {
            message_id: format!("msg_{}", uuid::Uuid::now_v7().simple()),
            event_type,
            at,
            data,
        }
    }

    /// The body sent, in the Standard Webhooks shape.
    #[must_use]
    pub fn payload(&self) -> serde_json::Value {
        serde_json::json!({
            "type": self.event_type.as_str(),
            "timestamp": rfc3339(self.at),
            "data": self.data,
        })
    }
}

/// `at` as payloads write times (RFC 3339; every `OffsetDateTime` formats).
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// What an expiry reminder is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReminderSubject {
    /// A credential.
    Credential(crate::ids::CredentialId),
    /// An access key.
    AccessKey(crate::ids::AccessKeyId),
}

/// One reminder, sent at most once: for this subscription, this subject, this `expiresAt`
/// (a new one is a new deadline) and this threshold (0: expired).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reminder {
    /// The subscription.
    pub webhook_id: WebhookId,
    /// The credential or access key.
    pub subject: ReminderSubject,
    /// The deadline reminded of.
    pub expires_at: OffsetDateTime,
    /// Days ahead of it; 0 for "expired".
    pub days_ahead: u16,
}

/// Which threshold of `days_ahead` (descending) a deadline at `expires_at` is within at
/// `now`: the nearest one crossed, so a subscription made late hears once, not once per
/// threshold already passed. `Some(0)` once it has passed; `None` while it is further away
/// than every threshold.
#[must_use]
pub fn crossed_threshold(
    days_ahead: &[u16],
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Option<u16> {
    if expires_at <= now {
        return Some(0);
    }
    let left = expires_at - now;
    days_ahead
        .iter()
        .copied()
        .filter(|d| left <= Duration::days(i64::from(*d)))
        .min()
}

/// Subscriptions and their deliveries.
///
/// # Errors
/// Every method fails with [`StoreError`] as the other ports do; `NotFound` where a row of
/// another organization is named.
pub trait WebhookStore: Send + Sync + 'static {
    /// Adds a subscription, with the audit event of its creation in the same
    /// transaction; [`StoreError::Conflict`] (and nothing written) when the organization
    /// already has [`MAX_WEBHOOKS_PER_ORGANIZATION`].
    fn insert_webhook(
        &self,
        webhook: &Webhook,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// One subscription of the organization.
    fn get_webhook(
        &self,
        organization: OrganizationId,
        id: WebhookId,
    ) -> impl Future<Output = Result<Option<Webhook>, StoreError>> + Send;

    /// The organization's subscriptions, in id order (at most
    /// [`MAX_WEBHOOKS_PER_ORGANIZATION`]).
    fn list_webhooks(
        &self,
        organization: OrganizationId,
    ) -> impl Future<Output = Result<Vec<Webhook>, StoreError>> + Send;

    /// Every enabled subscription, of every organization, that takes one of `types`: what
    /// the reminder scheduler and installation-wide events go through.
    fn webhooks_wanting(
        &self,
        types: &[EventType],
    ) -> impl Future<Output = Result<Vec<Webhook>, StoreError>> + Send;

    /// Replaces a subscription's fields (all but id, organization and `created_at`),
    /// with `audit` in the same transaction; false (and nothing written) when it is gone.
    fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes a subscription with its deliveries and reminders, with `audit` in the same
    /// transaction; false (and nothing written) when it was not there.
    fn delete_webhook(
        &self,
        organization: OrganizationId,
        id: WebhookId,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Adds deliveries (of one event to several subscriptions, or a replay), all or none,
    /// with `audit` (a replay's) in the same transaction when given.
    fn insert_deliveries(
        &self,
        deliveries: &[Delivery],
        audit: Option<&AuditEvent>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records `reminder` and adds `delivery` with it, unless the reminder was recorded
    /// before: then nothing changes and it returns false. Two replicas racing on one
    /// reminder make one delivery.
    fn insert_reminder(
        &self,
        reminder: &Reminder,
        delivery: &Delivery,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Of `reminders`, those already recorded.
    fn recorded_reminders(
        &self,
        reminders: &[Reminder],
    ) -> impl Future<Output = Result<Vec<Reminder>, StoreError>> + Send;

    /// Pending deliveries due at `now` (next attempt at or before it) of enabled
    /// subscriptions, the longest waiting first.
    fn due_deliveries(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// Records an attempt; false when the delivery is gone.
    fn record_attempt(
        &self,
        record: &AttemptRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A subscription's deliveries, newest first, before `before` (a delivery id).
    fn list_deliveries(
        &self,
        organization: OrganizationId,
        webhook: WebhookId,
        before: Option<WebhookDeliveryId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// Deletes up to `limit` settled deliveries (succeeded or failed, never pending) made
    /// before `cutoff`, oldest first; how many. Fewer than `limit` only when no other one
    /// qualifies.
    fn prune_deliveries(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// One delivery of a subscription.
    fn get_delivery(
        &self,
        organization: OrganizationId,
        webhook: WebhookId,
        id: WebhookDeliveryId,
    ) -> impl Future<Output = Result<Option<Delivery>, StoreError>> + Send;
}

#[cfg(test)]
mod tests;

/// The `reason` of a successful `connection.connect` audit event that ended a needed
/// reconnect.
pub const RECONNECTED_REASON: &str = "reconnected";

/// The webhook event an audit event stands for, with the organization it is for (`None`:
/// every organization): a key rotation, a connection lost or connected again. The
/// audit log is where these facts are committed, so events follow it (at least once)
/// rather than being published beside it (and lost with a crash between).
#[must_use]
pub fn event_of_audit(audit: &AuditEvent) -> Option<(Option<OrganizationId>, WebhookEvent)> {
    use crate::logs::{AuditAction, AuditOutcome};
    let succeeded = audit.outcome == AuditOutcome::Success;
    let target = || serde_json::json!({"credentialId": audit.target});
    let (event_type, data) = match audit.action {
        AuditAction::KeyringRotate if succeeded => (EventType::KeyRotated, serde_json::json!({})),
        AuditAction::ConnectionLost => (
            EventType::OauthReconnectRequired,
            serde_json::json!({"credentialId": audit.target, "reason": audit.reason}),
        ),
        AuditAction::ConnectionConnect
            if succeeded && audit.reason.as_deref() == Some(RECONNECTED_REASON) =>
        {
            (EventType::OauthReconnected, target())
        }
        _ => return None,
    };
    let mut event = WebhookEvent::new(event_type, audit.at, data);
    // One message id per audit event: a replay of the audit log makes the same message.
    event.message_id = format!("msg_{}", audit.id.simple());
    Some((audit.organization_id, event))
}

/// Consecutive refusals (401, 403) an upstream answers a credential's uses with before
/// `credential.use_failed` is sent.
pub const USE_FAILED_AFTER: u32 = 3;

/// Counts, per credential, the upstream's consecutive refusals of its uses in this
/// process; says when a streak reaches [`USE_FAILED_AFTER`] (once per streak). A use the
/// upstream answers otherwise ends the streak. A success costs one atomic load while no
/// streak is running anywhere.
#[derive(Debug, Default)]
pub struct RefusalStreaks {
    running: std::sync::atomic::AtomicUsize,
    streaks: std::sync::Mutex<std::collections::HashMap<crate::ids::CredentialId, u32>>,
}

impl RefusalStreaks {
    /// Records the upstream's answer to one use of `credential`; true when this refusal is
    /// the one that makes the streak [`USE_FAILED_AFTER`] long.
    pub fn record(&self, credential: crate::ids::CredentialId, status: u16) -> bool {
        use std::sync::atomic::Ordering;
        let refused = matches!(status, 401 | 403);
        if !refused && self.running.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let mut streaks = self
            .streaks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let reached = if refused {
            let streak = streaks.entry(credential).or_insert(0);
            *streak = streak.saturating_add(1);
            *streak == USE_FAILED_AFTER
        } else {
            streaks.remove(&credential);
            false
        };
        self.running.store(streaks.len(), Ordering::Relaxed);
        reached
    }
}
