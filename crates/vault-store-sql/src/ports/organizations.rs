//! `OrganizationStore` and `MetaStore`, as [`sql_store_ports!`](crate::sql_store_ports)
//! implements them.

/// Part of [`sql_store_ports!`](crate::sql_store_ports).
#[doc(hidden)]
#[macro_export]
macro_rules! __sql_store_organizations {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel;
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::vault_core::access_key::Organization;
            use $crate::__private::vault_core::cipher::SealedBlob;
            use $crate::__private::vault_core::ids::OrganizationId;
            use $crate::__private::vault_core::store::{MetaStore, OrganizationStore, StoreError};
            use $crate::rows::{MetaRow, OrganizationRow};
            use $crate::schema::{organizations, vault_meta};
            use $crate::types::DbId;

            impl OrganizationStore for $store {
                async fn insert_organization(
                    &self,
                    organization: &Organization,
                ) -> Result<(), StoreError> {
                    let row = OrganizationRow::encode(organization)?;
                    self.execute(diesel::insert_into(organizations::table).values(row))
                        .await?;
                    Ok(())
                }

                async fn count_organizations(&self) -> Result<u64, StoreError> {
                    let count: Option<i64> =
                        self.fetch_optional(organizations::table.count()).await?;
                    // COUNT(*) is never negative.
                    Ok(u64::try_from(count.ok_or(StoreError::NotFound)?).unwrap_or_default())
                }

                async fn organization_exists(
                    &self,
                    id: OrganizationId,
                ) -> Result<bool, StoreError> {
                    let exists: Option<bool> = self
                        .fetch_optional(diesel::select(diesel::dsl::exists(
                            organizations::table.filter(organizations::id.eq(DbId::from(id))),
                        )))
                        .await?;
                    exists.ok_or(StoreError::NotFound)
                }
            }

            impl MetaStore for $store {
                async fn get_meta(&self, name: &str) -> Result<Option<SealedBlob>, StoreError> {
                    let row: Option<MetaRow> = self
                        .fetch_optional(
                            vault_meta::table
                                .filter(vault_meta::name.eq(name))
                                .select(MetaRow::as_select()),
                        )
                        .await?;
                    Ok(row.map(MetaRow::decode))
                }

                async fn insert_meta_if_absent(
                    &self,
                    name: &str,
                    value: &SealedBlob,
                ) -> Result<bool, StoreError> {
                    // INSERT .. ON CONFLICT DO NOTHING: one atomic statement, so of racing
                    // inserts (threads, processes or replicas) exactly one writes a row;
                    // the others write nothing.
                    let written = self
                        .execute(
                            diesel::insert_into(vault_meta::table)
                                .values(MetaRow::encode(name, value))
                                .on_conflict_do_nothing(),
                        )
                        .await?;
                    Ok(written == 1)
                }
            }
        };
    };
}
