//! `LogStore`, as [`sql_store_ports!`](crate::sql_store_ports) implements it.

/// Part of [`sql_store_ports!`](crate::sql_store_ports).
#[doc(hidden)]
#[macro_export]
macro_rules! __sql_store_logs {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel;
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::time::OffsetDateTime;
            use $crate::__private::vault_core::ids::{CredentialId, OrganizationId};
            use $crate::__private::vault_core::logs::{
                AuditEvent, AuditQuery, LogRecord, RequestLogEntry, RequestLogQuery, UsageBucket,
                id_floor,
            };
            use $crate::__private::vault_core::store::{LogKind, LogStore, StoreError};
            use $crate::ports::SqlStore;
            use $crate::rows::{AuditEventRow, RequestLogRow, UsageRow};
            use $crate::schema::{audit_events, request_logs};
            use $crate::statements::{PRUNE_AUDIT_EVENTS, PRUNE_REQUEST_LOGS};
            use $crate::types::{DbId, DbTime, Id, Instant};

            impl LogStore for $store {
                async fn append_log(&self, record: LogRecord) -> Result<(), StoreError> {
                    SqlStore::append_log_record(self, record).await
                }

                async fn list_request_logs(
                    &self,
                    organization: OrganizationId,
                    query: &RequestLogQuery,
                ) -> Result<Vec<RequestLogEntry>, StoreError> {
                    let mut select = request_logs::table
                        .filter(request_logs::organization_id.eq(DbId::from(organization)))
                        .select(RequestLogRow::as_select())
                        .into_boxed();
                    if let Some(credential) = query.credential_id {
                        select =
                            select.filter(request_logs::credential_id.eq(DbId::from(credential)));
                    }
                    if let Some(before) = query.before {
                        select = select.filter(request_logs::id.lt(DbId::from(before)));
                    }
                    // Newest first: ids are UUID v7, compared bytewise, which is time order.
                    let rows: Vec<RequestLogRow> = self
                        .fetch_all(
                            select
                                .order(request_logs::id.desc())
                                .limit($crate::limit(query.limit)),
                        )
                        .await?;
                    rows.into_iter().map(RequestLogRow::decode).collect()
                }

                async fn list_audit_events(
                    &self,
                    organization: OrganizationId,
                    query: &AuditQuery,
                ) -> Result<Vec<AuditEvent>, StoreError> {
                    // `= organization` never matches NULL: events of no organization are
                    // never listed.
                    let mut select = audit_events::table
                        .filter(audit_events::organization_id.eq(DbId::from(organization)))
                        .select(AuditEventRow::as_select())
                        .into_boxed();
                    if let Some(action) = query.action {
                        select = select.filter(audit_events::action.eq(action.as_str()));
                    }
                    if let Some(target) = query.target {
                        select = select.filter(audit_events::target.eq(DbId::from(target)));
                    }
                    if let Some(before) = query.before {
                        select = select.filter(audit_events::id.lt(DbId::from(before)));
                    }
                    let rows: Vec<AuditEventRow> = self
                        .fetch_all(
                            select
                                .order(audit_events::id.desc())
                                .limit($crate::limit(query.limit)),
                        )
                        .await?;
                    rows.into_iter().map(AuditEventRow::decode).collect()
                }

                async fn credential_usage(
                    &self,
                    organization: OrganizationId,
                    credential: CredentialId,
                    since: OffsetDateTime,
                ) -> Result<Vec<UsageBucket>, StoreError> {
                    let floor = DbId::from(id_floor(since));
                    let since = DbTime::encode(since, "since")?;
                    let rows: Vec<UsageRow> = self
                        .fetch_all(
                            diesel::sql_query(<$store as SqlStore>::CREDENTIAL_USAGE_SQL)
                                .bind::<Id, _>(DbId::from(organization))
                                .bind::<Id, _>(DbId::from(credential))
                                .bind::<Id, _>(floor)
                                .bind::<Instant, _>(since),
                        )
                        .await?;
                    rows.into_iter().map(UsageRow::decode).collect()
                }

                async fn prune_log(
                    &self,
                    log: LogKind,
                    cutoff: OffsetDateTime,
                    limit: usize,
                ) -> Result<u64, StoreError> {
                    let floor = DbId::from(id_floor(cutoff));
                    let cutoff = DbTime::encode(cutoff, "cutoff")?;
                    let sql = match log {
                        LogKind::Request => PRUNE_REQUEST_LOGS,
                        LogKind::Audit => PRUNE_AUDIT_EVENTS,
                    };
                    let deleted = self
                        .execute(
                            diesel::sql_query(sql)
                                .bind::<Id, _>(floor)
                                .bind::<Instant, _>(cutoff)
                                .bind::<diesel::sql_types::BigInt, _>($crate::limit(limit)),
                        )
                        .await?;
                    Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
                }
            }
        };
    };
}
