//! The webhook writes SQLite does its own way (`vault_store_sql::SqlWebhookStore`): each
//! one transaction on the writer thread, which runs one at a time, so a count and the
//! insert it allows, or a reminder's check and its delivery, cannot interleave with
//! another write.

use diesel::prelude::*;
use vault_core::ids::{OrganizationId, WebhookId};
use vault_core::store::StoreError;
use vault_store_sql::SqlWebhookStore;
use vault_store_sql::ports::room_for_webhook;
use vault_store_sql::rows::{AuditEventRow, DeliveryRow, ReminderRow, WebhookRow};
use vault_store_sql::schema::{webhook_deliveries, webhook_reminders, webhooks};
use vault_store_sql::types::DbId;

use crate::SqliteStore;
use crate::audit_chain::insert_audit_event;

impl SqlWebhookStore for SqliteStore {
    async fn insert_webhook_rows(
        &self,
        row: WebhookRow,
        audit: AuditEventRow,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let count: i64 = webhooks::table
                .filter(webhooks::organization_id.eq(row.organization_id))
                .count()
                .get_result(conn)?;
            room_for_webhook(count)?;
            diesel::insert_into(webhooks::table)
                .values(&row)
                .execute(conn)?;
            insert_audit_event(conn, audit)
        })
        .await
    }

    async fn update_webhook_rows(
        &self,
        row: WebhookRow,
        audit: AuditEventRow,
    ) -> Result<bool, StoreError> {
        self.write(move |conn| {
            let stored = webhooks::table
                .filter(webhooks::organization_id.eq(row.organization_id))
                .filter(webhooks::id.eq(row.id));
            if diesel::update(stored)
                .set(row.into_update())
                .execute(conn)?
                != 1
            {
                return Ok(false);
            }
            insert_audit_event(conn, audit)?;
            Ok(true)
        })
        .await
    }

    async fn delete_webhook_rows(
        &self,
        organization: OrganizationId,
        id: WebhookId,
        audit: AuditEventRow,
    ) -> Result<bool, StoreError> {
        self.write(move |conn| {
            let stored = webhooks::table
                .filter(webhooks::organization_id.eq(DbId::from(organization)))
                .filter(webhooks::id.eq(DbId::from(id)));
            if diesel::delete(stored).execute(conn)? != 1 {
                return Ok(false);
            }
            insert_audit_event(conn, audit)?;
            Ok(true)
        })
        .await
    }

    async fn insert_delivery_rows(
        &self,
        rows: Vec<DeliveryRow>,
        audit: Option<AuditEventRow>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            if !rows.is_empty() {
                diesel::insert_into(webhook_deliveries::table)
                    .values(&rows)
                    .execute(conn)?;
            }
            match audit {
                Some(audit) => insert_audit_event(conn, audit),
                None => Ok(()),
            }
        })
        .await
    }

    async fn insert_reminder_rows(
        &self,
        reminder: ReminderRow,
        delivery: DeliveryRow,
    ) -> Result<bool, StoreError> {
        self.write(move |conn| {
            let recorded = diesel::insert_into(webhook_reminders::table)
                .values(&reminder)
                .on_conflict_do_nothing()
                .execute(conn)?;
            if recorded != 1 {
                return Ok(false);
            }
            diesel::insert_into(webhook_deliveries::table)
                .values(&delivery)
                .execute(conn)?;
            Ok(true)
        })
        .await
    }
}
