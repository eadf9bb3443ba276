//! `AccessKeyStore`, as [`sql_store_ports!`](crate::sql_store_ports) implements it.

/// Part of [`sql_store_ports!`](crate::sql_store_ports).
#[doc(hidden)]
#[macro_export]
macro_rules! __sql_store_access_keys {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel;
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::time::OffsetDateTime;
            use $crate::__private::vault_core::access_key::{
                AccessKey, KeyBinding, StoredAccessKey, TokenHash,
            };
            use $crate::__private::vault_core::ids::{AccessKeyId, OrganizationId};
            use $crate::__private::vault_core::logs::AuditEvent;
            use $crate::__private::vault_core::store::{AccessKeyStore, KeyListQuery, StoreError};
            use $crate::ports::SqlStore;
            use $crate::rows::{AccessKeyRow, AccessKeySummaryRow, AuditEventRow};
            use $crate::schema::access_keys;
            use $crate::types::{DbId, DbTime};

            impl AccessKeyStore for $store {
                async fn insert_access_key(
                    &self,
                    key: &StoredAccessKey,
                    audit: &AuditEvent,
                ) -> Result<(), StoreError> {
                    let row = AccessKeyRow::encode(key)?;
                    let audit = AuditEventRow::encode(audit)?;
                    SqlStore::insert_access_key_rows(self, row, audit).await
                }

                async fn find_access_key(
                    &self,
                    hash: &TokenHash,
                ) -> Result<Option<StoredAccessKey>, StoreError> {
                    let row: Option<AccessKeyRow> = self
                        .fetch_optional(
                            access_keys::table
                                .filter(access_keys::key_hash.eq(hash.0.as_slice()))
                                .select(AccessKeyRow::as_select()),
                        )
                        .await?;
                    row.map(AccessKeyRow::decode).transpose()
                }

                async fn list_access_keys(
                    &self,
                    organization: OrganizationId,
                    query: &KeyListQuery,
                ) -> Result<Vec<AccessKey>, StoreError> {
                    let mut select = access_keys::table
                        .filter(access_keys::organization_id.eq(DbId::from(organization)))
                        .select(AccessKeySummaryRow::as_select())
                        .into_boxed();
                    if let Some(after) = query.after {
                        select = select.filter(access_keys::id.gt(DbId::from(after)));
                    }
                    let rows: Vec<AccessKeySummaryRow> = self
                        .fetch_all(
                            select
                                .order(access_keys::id.asc())
                                .limit($crate::limit(query.limit)),
                        )
                        .await?;
                    rows.into_iter().map(AccessKeySummaryRow::decode).collect()
                }

                async fn revoke_access_key(
                    &self,
                    organization: OrganizationId,
                    id: AccessKeyId,
                    at: OffsetDateTime,
                    audit: &AuditEvent,
                ) -> Result<AccessKey, StoreError> {
                    let at = DbTime::encode(at, "access_keys.revoked_at")?;
                    let audit = AuditEventRow::encode(audit)?;
                    SqlStore::revoke_access_key_rows(self, organization, id, at, audit)
                        .await?
                        .decode()
                }

                async fn touch_access_key(
                    &self,
                    organization: OrganizationId,
                    id: AccessKeyId,
                    at: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    let at = DbTime::encode(at, "access_keys.last_used_at")?;
                    let touched = self
                        .execute(
                            diesel::update(
                                access_keys::table
                                    .filter(
                                        access_keys::organization_id.eq(DbId::from(organization)),
                                    )
                                    .filter(access_keys::id.eq(DbId::from(id))),
                            )
                            .set(access_keys::last_used_at.eq(at)),
                        )
                        .await?;
                    if touched == 0 {
                        Err(StoreError::NotFound)
                    } else {
                        Ok(())
                    }
                }

                async fn unbound_access_keys(
                    &self,
                    after: Option<AccessKeyId>,
                    limit: usize,
                ) -> Result<Vec<StoredAccessKey>, StoreError> {
                    let mut select = access_keys::table
                        .filter(access_keys::binding.is_null())
                        .select(AccessKeyRow::as_select())
                        .into_boxed();
                    if let Some(after) = after {
                        select = select.filter(access_keys::id.gt(DbId::from(after)));
                    }
                    let rows: Vec<AccessKeyRow> = self
                        .fetch_all(
                            select
                                .order(access_keys::id.asc())
                                .limit($crate::limit(limit)),
                        )
                        .await?;
                    rows.into_iter().map(AccessKeyRow::decode).collect()
                }

                async fn bind_access_key(
                    &self,
                    id: AccessKeyId,
                    binding: &KeyBinding,
                ) -> Result<bool, StoreError> {
                    // `binding IS NULL` in the statement itself: a bound key is never
                    // re-bound.
                    let written = self
                        .execute(
                            diesel::update(
                                access_keys::table
                                    .filter(access_keys::id.eq(DbId::from(id)))
                                    .filter(access_keys::binding.is_null()),
                            )
                            .set(access_keys::binding.eq(Some(binding.0.to_vec()))),
                        )
                        .await?;
                    Ok(written == 1)
                }
            }
        };
    };
}
