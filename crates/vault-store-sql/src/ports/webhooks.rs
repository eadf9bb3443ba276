//! `WebhookStore`, as [`sql_store_ports!`](crate::sql_store_ports) implements it: the reads
//! and the one-statement writes here, the writes of several statements (with their audit
//! event, or a reminder with its delivery) through the store's [`SqlWebhookStore`].

use std::future::Future;

use vault_core::ids::{OrganizationId, WebhookId};
use vault_core::store::StoreError;
use vault_core::webhooks::MAX_WEBHOOKS_PER_ORGANIZATION;

use crate::rows::{AuditEventRow, DeliveryRow, ReminderRow, WebhookRow};

/// The webhook writes a store does its own way, each one transaction (on SQLite's writer
/// thread; a transaction on a pooled connection on PostgreSQL). The contract of each is
/// the `WebhookStore` method's of the same name (`vault_core::webhooks`).
pub trait SqlWebhookStore: Send + Sync + 'static {
    /// `insert_webhook`: the row, if [`room_for_webhook`] says the organization has room
    /// (counted so that concurrent inserts cannot pass the limit together), and its audit
    /// event.
    fn insert_webhook_rows(
        &self,
        row: WebhookRow,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `update_webhook`: the row's columns (but the ids and `created_at`) written over the
    /// row of its organization and id, and the audit event if it was there.
    fn update_webhook_rows(
        &self,
        row: WebhookRow,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// `delete_webhook`: the row (its deliveries and reminders go by the foreign keys'
    /// cascade), and the audit event if it was there.
    fn delete_webhook_rows(
        &self,
        organization: OrganizationId,
        id: WebhookId,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// `insert_deliveries`: the rows (never none) and the audit event, when given.
    fn insert_delivery_rows(
        &self,
        rows: Vec<DeliveryRow>,
        audit: Option<AuditEventRow>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `insert_reminder`: the reminder's row unless its key is there
    /// (`ON CONFLICT DO NOTHING`), and the delivery only if it was not; whether it was not.
    fn insert_reminder_rows(
        &self,
        reminder: ReminderRow,
        delivery: DeliveryRow,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Whether an organization that has `count` subscriptions may have one more.
///
/// # Errors
/// [`StoreError::Conflict`] when it has [`MAX_WEBHOOKS_PER_ORGANIZATION`] already.
pub fn room_for_webhook(count: i64) -> Result<(), StoreError> {
    if usize::try_from(count).is_ok_and(|count| count < MAX_WEBHOOKS_PER_ORGANIZATION) {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

/// Part of [`sql_store_ports!`](crate::sql_store_ports).
#[doc(hidden)]
#[macro_export]
macro_rules! __sql_store_webhooks {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel;
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::time::OffsetDateTime;
            use $crate::__private::vault_core::clock::truncate_to_micros;
            use $crate::__private::vault_core::ids::{
                OrganizationId, WebhookDeliveryId, WebhookId,
            };
            use $crate::__private::vault_core::logs::AuditEvent;
            use $crate::__private::vault_core::logs::id_floor;
            use $crate::__private::vault_core::store::StoreError;
            use $crate::__private::vault_core::webhooks::{
                AttemptRecord, Delivery, EventType, Reminder, Webhook, WebhookStore,
            };
            use $crate::ports::SqlWebhookStore;
            use $crate::rows::{
                AttemptUpdate, AuditEventRow, DeliveryRow, ReminderRow, WebhookRow,
                reminder_subject,
            };
            use $crate::schema::{webhook_deliveries, webhook_reminders, webhooks};
            use $crate::statements::{PENDING_DELIVERY, PRUNE_WEBHOOK_DELIVERIES};
            use $crate::types::{DbId, DbTime, Id, Instant};

            impl WebhookStore for $store {
                async fn insert_webhook(
                    &self,
                    webhook: &Webhook,
                    audit: &AuditEvent,
                ) -> Result<(), StoreError> {
                    let row = WebhookRow::encode(webhook)?;
                    let audit = AuditEventRow::encode(audit)?;
                    SqlWebhookStore::insert_webhook_rows(self, row, audit).await
                }

                async fn get_webhook(
                    &self,
                    organization: OrganizationId,
                    id: WebhookId,
                ) -> Result<Option<Webhook>, StoreError> {
                    let row: Option<WebhookRow> = self
                        .fetch_optional(
                            webhooks::table
                                .filter(webhooks::organization_id.eq(DbId::from(organization)))
                                .filter(webhooks::id.eq(DbId::from(id)))
                                .select(WebhookRow::as_select()),
                        )
                        .await?;
                    row.map(WebhookRow::decode).transpose()
                }

                async fn list_webhooks(
                    &self,
                    organization: OrganizationId,
                ) -> Result<Vec<Webhook>, StoreError> {
                    let rows: Vec<WebhookRow> = self
                        .fetch_all(
                            webhooks::table
                                .filter(webhooks::organization_id.eq(DbId::from(organization)))
                                .select(WebhookRow::as_select())
                                .order(webhooks::id.asc()),
                        )
                        .await?;
                    rows.into_iter().map(WebhookRow::decode).collect()
                }

                async fn webhooks_wanting(
                    &self,
                    types: &[EventType],
                ) -> Result<Vec<Webhook>, StoreError> {
                    if types.is_empty() {
                        return Ok(Vec::new());
                    }
                    // The event types are one text column: matched once decoded, where
                    // its format is known. Subscriptions are few (at most 32 per
                    // organization) and the callers are background jobs.
                    let rows: Vec<WebhookRow> = self
                        .fetch_all(
                            webhooks::table
                                .filter(webhooks::enabled.eq(true))
                                .select(WebhookRow::as_select())
                                .order(webhooks::id.asc()),
                        )
                        .await?;
                    let mut wanting = Vec::new();
                    for row in rows {
                        let webhook = row.decode()?;
                        if types.iter().any(|t| webhook.wants(*t)) {
                            wanting.push(webhook);
                        }
                    }
                    Ok(wanting)
                }

                async fn update_webhook(
                    &self,
                    webhook: &Webhook,
                    audit: &AuditEvent,
                ) -> Result<bool, StoreError> {
                    let row = WebhookRow::encode(webhook)?;
                    let audit = AuditEventRow::encode(audit)?;
                    SqlWebhookStore::update_webhook_rows(self, row, audit).await
                }

                async fn delete_webhook(
                    &self,
                    organization: OrganizationId,
                    id: WebhookId,
                    audit: &AuditEvent,
                ) -> Result<bool, StoreError> {
                    let audit = AuditEventRow::encode(audit)?;
                    SqlWebhookStore::delete_webhook_rows(self, organization, id, audit).await
                }

                async fn insert_deliveries(
                    &self,
                    deliveries: &[Delivery],
                    audit: Option<&AuditEvent>,
                ) -> Result<(), StoreError> {
                    let rows = deliveries
                        .iter()
                        .map(DeliveryRow::encode)
                        .collect::<Result<Vec<_>, _>>()?;
                    let audit = audit.map(AuditEventRow::encode).transpose()?;
                    if rows.is_empty() && audit.is_none() {
                        return Ok(());
                    }
                    SqlWebhookStore::insert_delivery_rows(self, rows, audit).await
                }

                async fn insert_reminder(
                    &self,
                    reminder: &Reminder,
                    delivery: &Delivery,
                ) -> Result<bool, StoreError> {
                    let row = ReminderRow::encode(reminder, delivery.created_at)?;
                    let delivery = DeliveryRow::encode(delivery)?;
                    SqlWebhookStore::insert_reminder_rows(self, row, delivery).await
                }

                async fn recorded_reminders(
                    &self,
                    reminders: &[Reminder],
                ) -> Result<Vec<Reminder>, StoreError> {
                    if reminders.is_empty() {
                        return Ok(Vec::new());
                    }
                    let webhook_ids: Vec<DbId> =
                        reminders.iter().map(|r| DbId::from(r.webhook_id)).collect();
                    let subject_ids: Vec<DbId> = reminders
                        .iter()
                        .map(|r| reminder_subject(r.subject).1)
                        .collect();
                    // Every row of these subscriptions and subjects: a superset of those
                    // asked for, narrowed to them below.
                    let rows: Vec<ReminderRow> = self
                        .fetch_all(
                            webhook_reminders::table
                                .filter(webhook_reminders::webhook_id.eq_any(webhook_ids))
                                .filter(webhook_reminders::subject_id.eq_any(subject_ids))
                                .select(ReminderRow::as_select()),
                        )
                        .await?;
                    let recorded = rows
                        .into_iter()
                        .map(ReminderRow::decode)
                        .collect::<Result<Vec<_>, _>>()?;
                    // Compared at the precision stored, so a reminder asked for with a
                    // finer deadline is still found.
                    Ok(reminders
                        .iter()
                        .filter(|r| {
                            recorded.contains(&Reminder {
                                expires_at: truncate_to_micros(r.expires_at),
                                ..**r
                            })
                        })
                        .copied()
                        .collect())
                }

                async fn due_deliveries(
                    &self,
                    now: OffsetDateTime,
                    limit: usize,
                ) -> Result<Vec<Delivery>, StoreError> {
                    let now = DbTime::encode(now, "webhook_deliveries.next_attempt_at")?;
                    let rows: Vec<DeliveryRow> = self
                        .fetch_all(
                            webhook_deliveries::table
                                .inner_join(webhooks::table)
                                .filter(webhooks::enabled.eq(true))
                                .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                                    PENDING_DELIVERY,
                                ))
                                .filter(webhook_deliveries::next_attempt_at.le(now))
                                .select(DeliveryRow::as_select())
                                .order((
                                    webhook_deliveries::next_attempt_at.asc(),
                                    webhook_deliveries::id.asc(),
                                ))
                                .limit($crate::limit(limit)),
                        )
                        .await?;
                    rows.into_iter().map(DeliveryRow::decode).collect()
                }

                async fn record_attempt(&self, record: &AttemptRecord) -> Result<bool, StoreError> {
                    let (id, update) = AttemptUpdate::encode(record)?;
                    let written = self
                        .execute(
                            diesel::update(
                                webhook_deliveries::table.filter(webhook_deliveries::id.eq(id)),
                            )
                            .set(update),
                        )
                        .await?;
                    Ok(written == 1)
                }

                async fn list_deliveries(
                    &self,
                    organization: OrganizationId,
                    webhook: WebhookId,
                    before: Option<WebhookDeliveryId>,
                    limit: usize,
                ) -> Result<Vec<Delivery>, StoreError> {
                    let mut select = webhook_deliveries::table
                        .filter(webhook_deliveries::organization_id.eq(DbId::from(organization)))
                        .filter(webhook_deliveries::webhook_id.eq(DbId::from(webhook)))
                        .select(DeliveryRow::as_select())
                        .into_boxed();
                    if let Some(before) = before {
                        select = select.filter(webhook_deliveries::id.lt(DbId::from(before)));
                    }
                    let rows: Vec<DeliveryRow> = self
                        .fetch_all(
                            select
                                .order(webhook_deliveries::id.desc())
                                .limit($crate::limit(limit)),
                        )
                        .await?;
                    rows.into_iter().map(DeliveryRow::decode).collect()
                }

                async fn prune_deliveries(
                    &self,
                    cutoff: OffsetDateTime,
                    limit: usize,
                ) -> Result<u64, StoreError> {
                    let floor = DbId::from(id_floor(cutoff));
                    let cutoff = DbTime::encode(cutoff, "cutoff")?;
                    let deleted = self
                        .execute(
                            diesel::sql_query(PRUNE_WEBHOOK_DELIVERIES)
                                .bind::<Id, _>(floor)
                                .bind::<Instant, _>(cutoff)
                                .bind::<diesel::sql_types::BigInt, _>($crate::limit(limit)),
                        )
                        .await?;
                    Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
                }

                async fn get_delivery(
                    &self,
                    organization: OrganizationId,
                    webhook: WebhookId,
                    id: WebhookDeliveryId,
                ) -> Result<Option<Delivery>, StoreError> {
                    let row: Option<DeliveryRow> = self
                        .fetch_optional(
                            webhook_deliveries::table
                                .filter(
                                    webhook_deliveries::organization_id
                                        .eq(DbId::from(organization)),
                                )
                                .filter(webhook_deliveries::webhook_id.eq(DbId::from(webhook)))
                                .filter(webhook_deliveries::id.eq(DbId::from(id)))
                                .select(DeliveryRow::as_select()),
                        )
                        .await?;
                    row.map(DeliveryRow::decode).transpose()
                }
            }
        };
    };
}
