//! `GrantStore`, as [`sql_store_ports!`](crate::sql_store_ports) implements it.

/// Part of [`sql_store_ports!`](crate::sql_store_ports).
#[doc(hidden)]
#[macro_export]
macro_rules! __sql_store_grants {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::time::OffsetDateTime;
            use $crate::__private::vault_core::grants::{Grant, Grantee, Window};
            use $crate::__private::vault_core::ids::{CredentialId, GrantId, OrganizationId};
            use $crate::__private::vault_core::logs::AuditEvent;
            use $crate::__private::vault_core::store::{BudgetSpend, GrantStore, StoreError};
            use $crate::ports::{BudgetCounter, SqlStore};
            use $crate::rows::{AuditEventRow, GrantRow};
            use $crate::schema::grants;
            use $crate::types::DbId;

            impl GrantStore for $store {
                async fn insert_grant(
                    &self,
                    grant: &Grant,
                    audit: &AuditEvent,
                ) -> Result<(), StoreError> {
                    let row = GrantRow::encode(grant)?;
                    let audit = AuditEventRow::encode(audit)?;
                    SqlStore::insert_grant_rows(self, row, audit).await
                }

                async fn list_grants(
                    &self,
                    organization: OrganizationId,
                    credential: CredentialId,
                ) -> Result<Vec<Grant>, StoreError> {
                    // Every use by a principal without use-all reads them: from memory, as
                    // the credential itself is, while no change of them is heard.
                    let cache = SqlStore::credential_cache(self);
                    if let Some(grants) = cache.get_grants(organization, credential) {
                        return Ok(grants);
                    }
                    self.list_grants_fresh(organization, credential).await
                }

                async fn list_grants_fresh(
                    &self,
                    organization: OrganizationId,
                    credential: CredentialId,
                ) -> Result<Vec<Grant>, StoreError> {
                    let cache = SqlStore::credential_cache(self);
                    let mark = cache.mark();
                    let rows: Vec<GrantRow> = self
                        .fetch_all(
                            grants::table
                                .filter(grants::organization_id.eq(DbId::from(organization)))
                                .filter(grants::credential_id.eq(DbId::from(credential)))
                                .select(GrantRow::as_select())
                                .order(grants::id.asc()),
                        )
                        .await?;
                    let grants = rows
                        .into_iter()
                        .map(GrantRow::decode)
                        .collect::<Result<Vec<_>, _>>()?;
                    cache.keep_grants(&mark, organization, credential, &grants);
                    Ok(grants)
                }

                async fn grants_of(
                    &self,
                    organization: OrganizationId,
                    grantees: &[Grantee],
                ) -> Result<Vec<Grant>, StoreError> {
                    let names: Vec<String> = grantees.iter().map(ToString::to_string).collect();
                    let rows: Vec<GrantRow> = self
                        .fetch_all(
                            grants::table
                                .filter(grants::organization_id.eq(DbId::from(organization)))
                                .filter(grants::grantee.eq_any(names))
                                .select(GrantRow::as_select())
                                .order(grants::id.asc()),
                        )
                        .await?;
                    rows.into_iter().map(GrantRow::decode).collect()
                }

                async fn delete_grant(
                    &self,
                    organization: OrganizationId,
                    credential: CredentialId,
                    id: GrantId,
                    audit: &AuditEvent,
                ) -> Result<Grant, StoreError> {
                    let audit = AuditEventRow::encode(audit)?;
                    SqlStore::delete_grant_rows(self, organization, credential, id, audit)
                        .await?
                        .decode()
                }

                async fn spend_budget(
                    &self,
                    organization: OrganizationId,
                    grant: GrantId,
                    caps: &[(Window, u64)],
                    now: OffsetDateTime,
                ) -> Result<BudgetSpend, StoreError> {
                    let counters = caps
                        .iter()
                        .map(|&(window, cap)| BudgetCounter::new(window, cap, now))
                        .collect();
                    SqlStore::spend_budget_rows(self, organization, grant, counters).await
                }
            }
        };
    };
}
