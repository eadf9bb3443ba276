//! The in-memory store's webhook subscriptions, their deliveries and the reminders sent.

use vault_core::ids::{WebhookDeliveryId, WebhookId};
use vault_core::webhooks::{
    AttemptRecord, Delivery, DeliveryStatus, EventType, MAX_WEBHOOKS_PER_ORGANIZATION, Reminder,
    Webhook, WebhookStore,
};

use super::*;

impl State {
    /// The subscription `id`, if it is `organization`'s.
    fn webhook_of(&self, organization: OrganizationId, id: WebhookId) -> Option<&Webhook> {
        self.webhooks
            .get(&id)
            .filter(|w| w.organization_id == organization)
    }

    /// Whether `deliveries` may be added: new ids (among themselves too), each of a
    /// subscription that exists (the SQL stores' foreign key).
    fn check_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        let mut ids = HashSet::new();
        for delivery in deliveries {
            if !ids.insert(delivery.id) || self.deliveries.contains_key(&delivery.id) {
                return Err(StoreError::Conflict);
            }
            if !self.webhooks.contains_key(&delivery.webhook_id) {
                return Err(StoreError::NotFound);
            }
        }
        Ok(())
    }
}

impl WebhookStore for MemoryStore {
    async fn insert_webhook(
        &self,
        webhook: &Webhook,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut state = self.write();
        let organization = webhook.organization_id;
        if !state.organizations.contains_key(&organization) {
            return Err(StoreError::NotFound);
        }
        let count = state
            .webhooks
            .values()
            .filter(|w| w.organization_id == organization)
            .count();
        if count >= MAX_WEBHOOKS_PER_ORGANIZATION || state.webhooks.contains_key(&webhook.id) {
            return Err(StoreError::Conflict);
        }
        state.check_audit(audit)?;
        state.webhooks.insert(webhook.id, webhook.clone());
        state.push_audit(audit);
        Ok(())
    }

    async fn get_webhook(
        &self,
        organization: OrganizationId,
        id: WebhookId,
    ) -> Result<Option<Webhook>, StoreError> {
        Ok(self.read().webhook_of(organization, id).cloned())
    }

    async fn list_webhooks(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<Webhook>, StoreError> {
        Ok(self
            .read()
            .webhooks
            .values()
            .filter(|w| w.organization_id == organization)
            .cloned()
            .collect())
    }

    async fn webhooks_wanting(&self, types: &[EventType]) -> Result<Vec<Webhook>, StoreError> {
        Ok(self
            .read()
            .webhooks
            .values()
            .filter(|w| types.iter().any(|t| w.wants(*t)))
            .cloned()
            .collect())
    }

    async fn update_webhook(
        &self,
        webhook: &Webhook,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut state = self.write();
        let Some(stored) = state.webhook_of(webhook.organization_id, webhook.id) else {
            return Ok(false);
        };
        // As the SQL stores' update: its id, organization and creation never change.
        let updated = Webhook {
            created_at: stored.created_at,
            ..webhook.clone()
        };
        state.check_audit(audit)?;
        state.webhooks.insert(webhook.id, updated);
        state.push_audit(audit);
        Ok(true)
    }

    async fn delete_webhook(
        &self,
        organization: OrganizationId,
        id: WebhookId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut state = self.write();
        if state.webhook_of(organization, id).is_none() {
            return Ok(false);
        }
        state.check_audit(audit)?;
        state.webhooks.remove(&id);
        state.deliveries.retain(|_, d| d.webhook_id != id);
        state.reminders.retain(|r| r.webhook_id != id);
        state.push_audit(audit);
        Ok(true)
    }

    async fn insert_deliveries(
        &self,
        deliveries: &[Delivery],
        audit: Option<&AuditEvent>,
    ) -> Result<(), StoreError> {
        let mut state = self.write();
        state.check_deliveries(deliveries)?;
        if let Some(audit) = audit {
            state.check_audit(audit)?;
            state.push_audit(audit);
        }
        for delivery in deliveries {
            state.deliveries.insert(delivery.id, delivery.clone());
        }
        Ok(())
    }

    async fn insert_reminder(
        &self,
        reminder: &Reminder,
        delivery: &Delivery,
    ) -> Result<bool, StoreError> {
        let mut state = self.write();
        if state.reminders.contains(reminder) {
            return Ok(false);
        }
        // The SQL stores' foreign key: the reminder's subscription must exist.
        if !state.webhooks.contains_key(&reminder.webhook_id) {
            return Err(StoreError::NotFound);
        }
        state.check_deliveries(std::slice::from_ref(delivery))?;
        state.reminders.insert(*reminder);
        state.deliveries.insert(delivery.id, delivery.clone());
        Ok(true)
    }

    async fn recorded_reminders(
        &self,
        reminders: &[Reminder],
    ) -> Result<Vec<Reminder>, StoreError> {
        let state = self.read();
        Ok(reminders
            .iter()
            .filter(|r| state.reminders.contains(r))
            .copied()
            .collect())
    }

    async fn due_deliveries(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let state = self.read();
        let mut due: Vec<&Delivery> = state
            .deliveries
            .values()
            .filter(|d| d.status == DeliveryStatus::Pending)
            .filter(|d| d.next_attempt_at.is_some_and(|at| at <= now))
            .filter(|d| state.webhooks.get(&d.webhook_id).is_some_and(|w| w.enabled))
            .collect();
        due.sort_by_key(|d| (d.next_attempt_at, d.id));
        Ok(due.into_iter().take(limit).cloned().collect())
    }

    async fn record_attempt(&self, record: &AttemptRecord) -> Result<bool, StoreError> {
        let mut state = self.write();
        let Some(delivery) = state.deliveries.get_mut(&record.id) else {
            return Ok(false);
        };
        delivery.attempts = record.attempts;
        delivery.status = record.status;
        delivery.next_attempt_at = record.next_attempt_at;
        delivery.last_attempt_at = Some(record.last_attempt_at);
        delivery.response_status = record.response_status;
        delivery.error.clone_from(&record.error);
        Ok(true)
    }

    async fn list_deliveries(
        &self,
        organization: OrganizationId,
        webhook: WebhookId,
        before: Option<WebhookDeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let state = self.read();
        let end = before.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(state
            .deliveries
            .range((Bound::Unbounded, end))
            .rev()
            .map(|(_, d)| d)
            .filter(|d| d.organization_id == organization && d.webhook_id == webhook)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn prune_deliveries(
        &self,
        cutoff: OffsetDateTime,
        limit: usize,
    ) -> Result<u64, StoreError> {
        let mut state = self.write();
        // Ids are UUID v7: the map's order is creation order, oldest first.
        let old: Vec<WebhookDeliveryId> = state
            .deliveries
            .values()
            .filter(|d| d.status != DeliveryStatus::Pending && d.created_at < cutoff)
            .map(|d| d.id)
            .take(limit)
            .collect();
        for id in &old {
            state.deliveries.remove(id);
        }
        Ok(old.len() as u64)
    }

    async fn get_delivery(
        &self,
        organization: OrganizationId,
        webhook: WebhookId,
        id: WebhookDeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        Ok(self
            .read()
            .deliveries
            .get(&id)
            .filter(|d| d.organization_id == organization && d.webhook_id == webhook)
            .cloned())
    }
}
