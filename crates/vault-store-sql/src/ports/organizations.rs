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
            use $crate::__private::vault_core::keyring::StoredKeyring;
            use $crate::__private::vault_core::store::{MetaStore, OrganizationStore, StoreError};
            use $crate::rows::{KeyringRow, MetaRow, OrganizationRow};
            use $crate::schema::{keyring, organizations, vault_meta};
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

                async fn organizations_named(
                    &self,
                    name: &str,
                ) -> Result<Vec<OrganizationId>, StoreError> {
                    let ids: Vec<DbId> = self
                        .fetch_all(
                            organizations::table
                                .filter(organizations::name.eq(name))
                                .select(organizations::id),
                        )
                        .await?;
                    ids.into_iter()
                        .map(|id| id.decode("organizations.id").map(OrganizationId::from_uuid))
                        .collect()
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

                async fn get_keyring(&self) -> Result<Option<StoredKeyring>, StoreError> {
                    let row: Option<KeyringRow> = self
                        .fetch_optional(keyring::table.select(KeyringRow::as_select()))
                        .await?;
                    row.map(KeyringRow::decode).transpose()
                }

                async fn save_keyring(
                    &self,
                    stored: &StoredKeyring,
                    expected: Option<i64>,
                ) -> Result<bool, StoreError> {
                    let row = KeyringRow::encode(stored)?;
                    // Each one statement: an insert that a present row turns into nothing,
                    // or an update conditional on the generation read. Of racing writers
                    // exactly one changes the row.
                    let written = match expected {
                        None => {
                            self.execute(
                                diesel::insert_into(keyring::table)
                                    .values(row)
                                    .on_conflict_do_nothing(),
                            )
                            .await?
                        }
                        Some(generation) => {
                            self.execute(
                                diesel::update(
                                    keyring::table.filter(keyring::generation.eq(generation)),
                                )
                                .set(row),
                            )
                            .await?
                        }
                    };
                    Ok(written == 1)
                }
            }
        };
    };
}
