//! Expiry reminders: `credential.expiring`, `credential.expired` and
//! `access_key.expiring`, computed from each `expiresAt` against each subscription's
//! `daysAhead`. Each is recorded with its delivery in one transaction, keyed by
//! (subscription, subject, deadline, threshold), so it is sent once however many
//! replicas or runs compute it.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::super::{Vault, VaultError};
use crate::ids::{AccessKeyId, CredentialId, OrganizationId};
use crate::store::{KeyListQuery, ListQuery, Store};
use crate::webhooks::{
    Delivery, EventType, Reminder, ReminderSubject, Webhook, WebhookEvent, crossed_threshold,
    rfc3339,
};

/// Rows read per store round trip while looking for deadlines.
const PAGE: usize = 500;

/// A deadline something has: what a reminder is about.
struct Deadline {
    subject: ReminderSubject,
    expires_at: OffsetDateTime,
    data: serde_json::Value,
}

impl<S: Store> Vault<S> {
    /// Records and addresses every reminder due at this instant that was not sent before.
    /// Returns how many it made.
    ///
    /// # Errors
    /// A store failure; the reminders recorded before it stand, and the next run makes
    /// the rest.
    pub async fn send_expiry_reminders(&self) -> Result<usize, VaultError> {
        let now = self.clock.now();
        let subscribed = self
            .store
            .webhooks_wanting(&[
                EventType::CredentialExpiring,
                EventType::CredentialExpired,
                EventType::AccessKeyExpiring,
            ])
            .await?;
        let mut by_organization: BTreeMap<OrganizationId, Vec<Webhook>> = BTreeMap::new();
        for webhook in subscribed {
            by_organization
                .entry(webhook.organization_id)
                .or_default()
                .push(webhook);
        }
        let mut made = 0;
        for (organization, webhooks) in by_organization {
            made += self
                .remind_organization(organization, &webhooks, now)
                .await?;
        }
        Ok(made)
    }

    async fn remind_organization(
        &self,
        organization: OrganizationId,
        webhooks: &[Webhook],
        now: OffsetDateTime,
    ) -> Result<usize, VaultError> {
        let horizon = now
            + Duration::days(i64::from(
                webhooks
                    .iter()
                    .flat_map(|w| w.days_ahead.iter().copied())
                    .max()
                    .unwrap_or(0),
            ));
        let wants = |t| webhooks.iter().any(|w| w.wants(t));
        let credentials =
            if wants(EventType::CredentialExpiring) || wants(EventType::CredentialExpired) {
                self.credential_deadlines(organization, horizon).await?
            } else {
                Vec::new()
            };
        let keys = if wants(EventType::AccessKeyExpiring) {
            self.access_key_deadlines(organization, now, horizon)
                .await?
        } else {
            Vec::new()
        };
        let mut due = Vec::new();
        for webhook in webhooks {
            for deadline in credentials.iter().chain(&keys) {
                if let Some(reminder) = due_reminder(webhook, deadline, now) {
                    due.push((reminder, webhook, deadline));
                }
            }
        }
        if due.is_empty() {
            return Ok(0);
        }
        let reminders: Vec<Reminder> = due.iter().map(|(r, _, _)| *r).collect();
        let recorded: HashSet<Reminder> = self
            .store
            .recorded_reminders(&reminders)
            .await?
            .into_iter()
            .collect();
        let mut made = 0;
        for (reminder, webhook, deadline) in due {
            if recorded.contains(&reminder) {
                continue;
            }
            let event = reminder_event(&reminder, deadline, now);
            if self
                .store
                .insert_reminder(&reminder, &Delivery::new(webhook, &event))
                .await?
            {
                made += 1;
            }
        }
        Ok(made)
    }

    /// The organization's credentials with a deadline before `horizon` (expired ones too).
    async fn credential_deadlines(
        &self,
        organization: OrganizationId,
        horizon: OffsetDateTime,
    ) -> Result<Vec<Deadline>, VaultError> {
        let mut deadlines = Vec::new();
        let mut after: Option<CredentialId> = None;
        loop {
            let query = ListQuery {
                after,
                limit: PAGE,
                credential_type: None,
                expires_before: Some(horizon),
            };
            let page = self.store.list_credentials(organization, &query).await?;
            after = page.last().map(|c| c.id);
            deadlines.extend(page.iter().filter_map(|c| {
                Some(Deadline {
                    subject: ReminderSubject::Credential(c.id),
                    expires_at: c.expires_at?,
                    data: json!({
                        "credentialId": c.id,
                        "name": c.name.as_str(),
                        "type": c.kind.credential_type().as_str(),
                    }),
                })
            }));
            if page.len() < PAGE {
                return Ok(deadlines);
            }
        }
    }

    /// The organization's unrevoked access keys with a deadline between `now` and
    /// `horizon` (an expired key is simply gone: nobody is reminded of it).
    async fn access_key_deadlines(
        &self,
        organization: OrganizationId,
        now: OffsetDateTime,
        horizon: OffsetDateTime,
    ) -> Result<Vec<Deadline>, VaultError> {
        let mut deadlines = Vec::new();
        let mut after: Option<AccessKeyId> = None;
        loop {
            let query = KeyListQuery { after, limit: PAGE };
            let page = self.store.list_access_keys(organization, &query).await?;
            after = page.last().map(|k| k.id);
            deadlines.extend(page.iter().filter_map(|k| {
                let expires_at = k.expires_at.filter(|at| *at > now && *at <= horizon)?;
                k.revoked_at.is_none().then(|| Deadline {
                    subject: ReminderSubject::AccessKey(k.id),
                    expires_at,
                    data: json!({"accessKeyId": k.id, "name": k.name.as_str()}),
                })
            }));
            if page.len() < PAGE {
                return Ok(deadlines);
            }
        }
    }
}

/// The reminder `webhook` is owed about `deadline` now, if any: the nearest threshold
/// crossed for an `*.expiring` type it takes, or "expired" for a credential that expired
/// while it was subscribed (not one expired long before it existed).
fn due_reminder(webhook: &Webhook, deadline: &Deadline, now: OffsetDateTime) -> Option<Reminder> {
    let threshold = crossed_threshold(&webhook.days_ahead, deadline.expires_at, now)?;
    let event_type = reminder_type(deadline.subject, threshold);
    let wanted =
        webhook.wants(event_type) && (threshold > 0 || deadline.expires_at > webhook.created_at);
    wanted.then_some(Reminder {
        webhook_id: webhook.id,
        subject: deadline.subject,
        expires_at: deadline.expires_at,
        days_ahead: threshold,
    })
}

fn reminder_type(subject: ReminderSubject, threshold: u16) -> EventType {
    match (subject, threshold) {
        (ReminderSubject::AccessKey(_), _) => EventType::AccessKeyExpiring,
        (ReminderSubject::Credential(_), 0) => EventType::CredentialExpired,
        (ReminderSubject::Credential(_), _) => EventType::CredentialExpiring,
    }
}

fn reminder_event(reminder: &Reminder, deadline: &Deadline, now: OffsetDateTime) -> WebhookEvent {
    let mut data = deadline.data.clone();
    if let Some(fields) = data.as_object_mut() {
        fields.insert("expiresAt".to_owned(), json!(rfc3339(deadline.expires_at)));
        if reminder.days_ahead > 0 {
            fields.insert("daysAhead".to_owned(), json!(reminder.days_ahead));
        }
    }
    WebhookEvent::new(
        reminder_type(reminder.subject, reminder.days_ahead),
        now,
        data,
    )
}
