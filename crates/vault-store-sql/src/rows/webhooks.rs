//! A webhook subscription's row, its deliveries' and its reminders'.

use std::fmt::Display;
use std::str::FromStr;

use diesel::prelude::*;
use time::OffsetDateTime;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId, WebhookDeliveryId, WebhookId};
use vault_core::store::StoreError;
use vault_core::webhooks::{
    AttemptRecord, Delivery, DeliveryStatus, Reminder, ReminderSubject, Webhook, parse_url,
};

use super::optional_id;
use crate::columns::{undecodable as bad, unencodable};
use crate::schema::{webhook_deliveries, webhook_reminders, webhooks};
use crate::types::{DbId, DbJson, DbTime};

/// A whole subscription row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct WebhookRow {
    /// `webhooks.id`.
    pub id: DbId,
    /// `webhooks.organization_id`.
    pub organization_id: DbId,
    url: String,
    description: Option<String>,
    /// The event types' names, in the domain's order, joined by ','.
    events: String,
    /// The thresholds, in the domain's order (descending), joined by ','.
    days_ahead: String,
    enabled: bool,
    sealed: Vec<u8>,
    key_id: String,
    created_at: DbTime,
    updated_at: DbTime,
}

/// What an update of a subscription sets: every column but the ids and `created_at`.
#[derive(AsChangeset)]
#[diesel(table_name = webhooks, treat_none_as_null = true)]
pub struct WebhookUpdate {
    url: String,
    description: Option<String>,
    events: String,
    days_ahead: String,
    enabled: bool,
    sealed: Vec<u8>,
    key_id: String,
    updated_at: DbTime,
}

impl WebhookRow {
    /// The row of `webhook`.
    ///
    /// # Errors
    /// A value that cannot be stored (a time out of range).
    pub fn encode(webhook: &Webhook) -> Result<Self, StoreError> {
        Ok(Self {
            id: webhook.id.into(),
            organization_id: webhook.organization_id.into(),
            url: webhook.url.to_string(),
            description: webhook.description.clone(),
            events: join(webhook.events.iter().map(|e| e.as_str())),
            days_ahead: join(&webhook.days_ahead),
            enabled: webhook.enabled,
            sealed: webhook.secret.bytes.clone(),
            key_id: webhook.secret.key_id.as_str().to_owned(),
            created_at: DbTime::encode(webhook.created_at, "webhooks.created_at")?,
            updated_at: DbTime::encode(webhook.updated_at, "webhooks.updated_at")?,
        })
    }

    /// The columns an update writes (the row's id and organization say which row; they,
    /// and `created_at`, are never rewritten).
    #[must_use]
    pub fn into_update(self) -> WebhookUpdate {
        WebhookUpdate {
            url: self.url,
            description: self.description,
            events: self.events,
            days_ahead: self.days_ahead,
            enabled: self.enabled,
            sealed: self.sealed,
            key_id: self.key_id,
            updated_at: self.updated_at,
        }
    }

    /// The subscription.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`](crate::columns::ColumnError) naming
    /// the first bad column.
    pub fn decode(self) -> Result<Webhook, StoreError> {
        let events = split(&self.events, "webhooks.events")?;
        if events.is_empty() {
            return Err(bad("webhooks.events"));
        }
        Ok(Webhook {
            id: WebhookId::from_uuid(self.id.decode("webhooks.id")?),
            organization_id: OrganizationId::from_uuid(
                self.organization_id.decode("webhooks.organization_id")?,
            ),
            url: parse_url(&self.url).map_err(|_| bad("webhooks.url"))?,
            description: self.description,
            events,
            days_ahead: split(&self.days_ahead, "webhooks.days_ahead")?,
            enabled: self.enabled,
            secret: SealedBlob {
                key_id: KeyId::new(self.key_id),
                bytes: self.sealed,
            },
            created_at: self.created_at.decode("webhooks.created_at")?,
            updated_at: self.updated_at.decode("webhooks.updated_at")?,
        })
    }
}

/// A list column's text: the items joined by ','.
fn join<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The items of a list column ("" is no item).
fn split<T: FromStr>(text: &str, column: &'static str) -> Result<Vec<T>, StoreError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|item| item.parse().map_err(|_| bad(column)))
        .collect()
}

/// A whole delivery row. NULL is written as NULL (not as a column left out), so that a
/// batch of rows is one statement on both databases.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries, treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DeliveryRow {
    id: DbId,
    webhook_id: DbId,
    organization_id: DbId,
    message_id: String,
    event_type: String,
    payload: DbJson,
    status: String,
    attempts: i32,
    next_attempt_at: Option<DbTime>,
    last_attempt_at: Option<DbTime>,
    response_status: Option<i32>,
    error: Option<String>,
    replay_of: Option<DbId>,
    created_at: DbTime,
}

impl DeliveryRow {
    /// The row of `delivery`.
    ///
    /// # Errors
    /// A value that cannot be stored (a time out of range, attempts past `i32`).
    pub fn encode(delivery: &Delivery) -> Result<Self, StoreError> {
        Ok(Self {
            id: delivery.id.into(),
            webhook_id: delivery.webhook_id.into(),
            organization_id: delivery.organization_id.into(),
            message_id: delivery.message_id.clone(),
            event_type: delivery.event_type.as_str().to_owned(),
            payload: DbJson::encode(&delivery.payload, "webhook_deliveries.payload")?,
            status: delivery.status.as_str().to_owned(),
            attempts: attempts(delivery.attempts)?,
            next_attempt_at: DbTime::encode_optional(
                delivery.next_attempt_at,
                "webhook_deliveries.next_attempt_at",
            )?,
            last_attempt_at: DbTime::encode_optional(
                delivery.last_attempt_at,
                "webhook_deliveries.last_attempt_at",
            )?,
            response_status: delivery.response_status.map(i32::from),
            error: delivery.error.clone(),
            replay_of: delivery.replay_of.map(DbId::from),
            created_at: DbTime::encode(delivery.created_at, "webhook_deliveries.created_at")?,
        })
    }

    /// The delivery.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`](crate::columns::ColumnError) naming
    /// the first bad column.
    pub fn decode(self) -> Result<Delivery, StoreError> {
        Ok(Delivery {
            id: WebhookDeliveryId::from_uuid(self.id.decode("webhook_deliveries.id")?),
            webhook_id: WebhookId::from_uuid(
                self.webhook_id.decode("webhook_deliveries.webhook_id")?,
            ),
            organization_id: OrganizationId::from_uuid(
                self.organization_id
                    .decode("webhook_deliveries.organization_id")?,
            ),
            message_id: self.message_id,
            event_type: self
                .event_type
                .parse()
                .map_err(|_| bad("webhook_deliveries.event_type"))?,
            payload: self.payload.decode("webhook_deliveries.payload")?,
            status: DeliveryStatus::parse(&self.status)
                .map_err(|_| bad("webhook_deliveries.status"))?,
            attempts: u32::try_from(self.attempts)
                .map_err(|_| bad("webhook_deliveries.attempts"))?,
            next_attempt_at: DbTime::decode_optional(
                self.next_attempt_at,
                "webhook_deliveries.next_attempt_at",
            )?,
            last_attempt_at: DbTime::decode_optional(
                self.last_attempt_at,
                "webhook_deliveries.last_attempt_at",
            )?,
            response_status: self
                .response_status
                .map(u16::try_from)
                .transpose()
                .map_err(|_| bad("webhook_deliveries.response_status"))?,
            error: self.error,
            replay_of: optional_id(
                self.replay_of,
                "webhook_deliveries.replay_of",
                WebhookDeliveryId::from_uuid,
            )?,
            created_at: self.created_at.decode("webhook_deliveries.created_at")?,
        })
    }
}

fn attempts(attempts: u32) -> Result<i32, StoreError> {
    i32::try_from(attempts).map_err(|_| unencodable("webhook_deliveries.attempts"))
}

/// What recording an attempt sets.
#[derive(AsChangeset)]
#[diesel(table_name = webhook_deliveries, treat_none_as_null = true)]
pub struct AttemptUpdate {
    attempts: i32,
    status: String,
    next_attempt_at: Option<DbTime>,
    last_attempt_at: Option<DbTime>,
    response_status: Option<i32>,
    error: Option<String>,
}

impl AttemptUpdate {
    /// The delivery's id, and the columns `record` sets.
    ///
    /// # Errors
    /// A value that cannot be stored.
    pub fn encode(record: &AttemptRecord) -> Result<(DbId, Self), StoreError> {
        Ok((
            record.id.into(),
            Self {
                attempts: attempts(record.attempts)?,
                status: record.status.as_str().to_owned(),
                next_attempt_at: DbTime::encode_optional(
                    record.next_attempt_at,
                    "webhook_deliveries.next_attempt_at",
                )?,
                last_attempt_at: Some(DbTime::encode(
                    record.last_attempt_at,
                    "webhook_deliveries.last_attempt_at",
                )?),
                response_status: record.response_status.map(i32::from),
                error: record.error.clone(),
            },
        ))
    }
}

/// A reminder recorded as sent.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_reminders)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ReminderRow {
    webhook_id: DbId,
    subject_kind: String,
    subject_id: DbId,
    expires_at: DbTime,
    days_ahead: i32,
    created_at: DbTime,
}

const CREDENTIAL: &str = "credential";
const ACCESS_KEY: &str = "access_key";

/// `webhook_reminders.subject_kind` and `subject_id` of `subject`.
#[must_use]
pub fn reminder_subject(subject: ReminderSubject) -> (&'static str, DbId) {
    match subject {
        ReminderSubject::Credential(id) => (CREDENTIAL, id.into()),
        ReminderSubject::AccessKey(id) => (ACCESS_KEY, id.into()),
    }
}

impl ReminderRow {
    /// The row of `reminder`, recorded at `at`.
    ///
    /// # Errors
    /// A time out of range.
    pub fn encode(reminder: &Reminder, at: OffsetDateTime) -> Result<Self, StoreError> {
        let (subject_kind, subject_id) = reminder_subject(reminder.subject);
        Ok(Self {
            webhook_id: reminder.webhook_id.into(),
            subject_kind: subject_kind.to_owned(),
            subject_id,
            expires_at: DbTime::encode(reminder.expires_at, "webhook_reminders.expires_at")?,
            days_ahead: i32::from(reminder.days_ahead),
            created_at: DbTime::encode(at, "webhook_reminders.created_at")?,
        })
    }

    /// The reminder.
    ///
    /// # Errors
    /// [`StoreError::Backend`] with a [`ColumnError`](crate::columns::ColumnError) naming
    /// the first bad column.
    pub fn decode(self) -> Result<Reminder, StoreError> {
        let subject = self.subject_id.decode("webhook_reminders.subject_id")?;
        Ok(Reminder {
            webhook_id: WebhookId::from_uuid(
                self.webhook_id.decode("webhook_reminders.webhook_id")?,
            ),
            subject: match self.subject_kind.as_str() {
                CREDENTIAL => ReminderSubject::Credential(CredentialId::from_uuid(subject)),
                ACCESS_KEY => ReminderSubject::AccessKey(AccessKeyId::from_uuid(subject)),
                _ => return Err(bad("webhook_reminders.subject_kind")),
            },
            expires_at: self.expires_at.decode("webhook_reminders.expires_at")?,
            days_ahead: u16::try_from(self.days_ahead)
                .map_err(|_| bad("webhook_reminders.days_ahead"))?,
        })
    }
}
