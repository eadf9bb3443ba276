//! The webhook writes PostgreSQL does its own way (`vault_store_sql::SqlWebhookStore`):
//! each one transaction on a pooled connection, its audit event last (see
//! `changes::record`). Subscriptions are not cached: nothing to forget or announce.

use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use vault_core::ids::{OrganizationId, WebhookId};
use vault_core::store::StoreError;
use vault_store_sql::SqlWebhookStore;
use vault_store_sql::error::Abort;
use vault_store_sql::ports::room_for_webhook;
use vault_store_sql::rows::{AuditEventRow, DeliveryRow, ReminderRow, WebhookRow};
use vault_store_sql::schema::{organizations, webhook_deliveries, webhook_reminders, webhooks};
use vault_store_sql::types::DbId;

use crate::PgStore;
use crate::changes::record;

/// Runs `$body` on `$conn` as one transaction on a pooled connection. A macro: a generic
/// function taking the body as a closure could not promise diesel-async that the body's
/// future is `Send`.
macro_rules! in_transaction {
    ($store:expr, |$conn:ident| $body:block) => {
        $store
            .with_connection(async move |conn| {
                conn.transaction(async move |$conn| $body)
                    .await
                    .map_err(|Abort(error)| error)
            })
            .await
    };
}

impl SqlWebhookStore for PgStore {
    async fn insert_webhook_rows(
        &self,
        row: WebhookRow,
        audit: AuditEventRow,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |conn| {
            // The organization's row locked first, so that of inserts racing into one
            // organization, each counts after the one before committed: none passes the
            // limit. FOR NO KEY UPDATE: other tables' foreign-key checks (KEY SHARE) on
            // the organization do not wait for it.
            let organization: Option<DbId> = organizations::table
                .filter(organizations::id.eq(row.organization_id))
                .select(organizations::id)
                .for_no_key_update()
                .get_result(conn)
                .await
                .optional()?;
            if organization.is_none() {
                return Err(Abort(StoreError::NotFound));
            }
            let count: i64 = webhooks::table
                .filter(webhooks::organization_id.eq(row.organization_id))
                .count()
                .get_result(conn)
                .await?;
            room_for_webhook(count)?;
            diesel::insert_into(webhooks::table)
                .values(&row)
                .execute(conn)
                .await?;
            record(conn, &audit).await?;
            Ok(())
        })
    }

    async fn update_webhook_rows(
        &self,
        row: WebhookRow,
        audit: AuditEventRow,
    ) -> Result<bool, StoreError> {
        in_transaction!(self, |conn| {
            let stored = webhooks::table
                .filter(webhooks::organization_id.eq(row.organization_id))
                .filter(webhooks::id.eq(row.id));
            let written = diesel::update(stored)
                .set(row.into_update())
                .execute(conn)
                .await?;
            if written != 1 {
                return Ok(false);
            }
            record(conn, &audit).await?;
            Ok(true)
        })
    }

    async fn delete_webhook_rows(
        &self,
        organization: OrganizationId,
        id: WebhookId,
        audit: AuditEventRow,
    ) -> Result<bool, StoreError> {
        in_transaction!(self, |conn| {
            let stored = webhooks::table
                .filter(webhooks::organization_id.eq(DbId::from(organization)))
                .filter(webhooks::id.eq(DbId::from(id)));
            if diesel::delete(stored).execute(conn).await? != 1 {
                return Ok(false);
            }
            record(conn, &audit).await?;
            Ok(true)
        })
    }

    async fn insert_delivery_rows(
        &self,
        rows: Vec<DeliveryRow>,
        audit: Option<AuditEventRow>,
    ) -> Result<(), StoreError> {
        in_transaction!(self, |conn| {
            if !rows.is_empty() {
                diesel::insert_into(webhook_deliveries::table)
                    .values(&rows)
                    .execute(conn)
                    .await?;
            }
            if let Some(audit) = &audit {
                record(conn, audit).await?;
            }
            Ok(())
        })
    }

    async fn insert_reminder_rows(
        &self,
        reminder: ReminderRow,
        delivery: DeliveryRow,
    ) -> Result<bool, StoreError> {
        in_transaction!(self, |conn| {
            // Of replicas racing on one reminder, the others wait for the first's key
            // lock, then find the key taken and insert nothing.
            let recorded = diesel::insert_into(webhook_reminders::table)
                .values(&reminder)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if recorded != 1 {
                return Ok(false);
            }
            diesel::insert_into(webhook_deliveries::table)
                .values(&delivery)
                .execute(conn)
                .await?;
            Ok(true)
        })
    }
}
