//! `CredentialStore`, as [`sql_store_ports!`](crate::sql_store_ports) implements it.

/// Part of [`sql_store_ports!`](crate::sql_store_ports).
#[doc(hidden)]
#[macro_export]
macro_rules! __sql_store_credentials {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel;
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::vault_core::credential::{Credential, StoredCredential};
            use $crate::__private::vault_core::ids::{CredentialId, OrganizationId};
            use $crate::__private::vault_core::logs::AuditEvent;
            use $crate::__private::vault_core::store::{
                CredentialStore, CredentialWrite, ListQuery, StoreError,
            };
            use $crate::__private::vault_core::versions::{SecretVersion, VersionInfo};
            use $crate::ports::{CredentialChange, SqlStore};
            use $crate::rows::{
                AuditEventRow, CredentialRow, CredentialSummaryRow, VersionInfoRow, VersionRow,
            };
            use $crate::schema::{credential_versions, credentials};
            use $crate::types::{DbId, DbTime};

            impl CredentialStore for $store {
                async fn insert_credential(
                    &self,
                    credential: &StoredCredential,
                    write: &CredentialWrite<'_>,
                ) -> Result<(), StoreError> {
                    let organization = credential.credential.organization_id;
                    let change = CredentialChange::encode(credential, organization, write)?;
                    SqlStore::insert_credential_rows(self, change).await
                }

                async fn get_credential(
                    &self,
                    organization: OrganizationId,
                    id: CredentialId,
                ) -> Result<StoredCredential, StoreError> {
                    let cache = SqlStore::credential_cache(self);
                    if let Some(stored) = cache.get(organization, id) {
                        return Ok(stored);
                    }
                    let mark = cache.mark();
                    let row: Option<CredentialRow> = self
                        .fetch_optional(
                            credentials::table
                                .filter(credentials::organization_id.eq(DbId::from(organization)))
                                .filter(credentials::id.eq(DbId::from(id)))
                                .select(CredentialRow::as_select()),
                        )
                        .await?;
                    let stored = row.ok_or(StoreError::NotFound)?.decode()?;
                    cache.keep(&mark, &stored);
                    Ok(stored)
                }

                async fn list_credentials(
                    &self,
                    organization: OrganizationId,
                    query: &ListQuery,
                ) -> Result<Vec<Credential>, StoreError> {
                    let expires_before =
                        DbTime::encode_optional(query.expires_before, "expires_before")?;
                    let mut select = credentials::table
                        .filter(credentials::organization_id.eq(DbId::from(organization)))
                        .select(CredentialSummaryRow::as_select())
                        .into_boxed();
                    if let Some(after) = query.after {
                        select = select.filter(credentials::id.gt(DbId::from(after)));
                    }
                    if let Some(kind) = query.credential_type {
                        select = select.filter(credentials::credential_type.eq(kind.as_str()));
                    }
                    if let Some(before) = expires_before {
                        // NULL (never expires) never compares true, so it is left out.
                        select = select.filter(credentials::expires_at.le(before));
                    }
                    let rows: Vec<CredentialSummaryRow> = self
                        .fetch_all(
                            select
                                .order(credentials::id.asc())
                                .limit($crate::limit(query.limit)),
                        )
                        .await?;
                    rows.into_iter().map(CredentialSummaryRow::decode).collect()
                }

                async fn update_credential(
                    &self,
                    organization: OrganizationId,
                    credential: &StoredCredential,
                    expected_version: i64,
                    write: &CredentialWrite<'_>,
                ) -> Result<(), StoreError> {
                    let change = CredentialChange::encode(credential, organization, write)?;
                    SqlStore::update_credential_rows(
                        self,
                        organization,
                        expected_version,
                        change,
                        credential,
                    )
                    .await
                }

                async fn delete_credential(
                    &self,
                    organization: OrganizationId,
                    id: CredentialId,
                    expected_version: Option<i64>,
                    audit: &AuditEvent,
                ) -> Result<(), StoreError> {
                    let audit = AuditEventRow::encode(audit)?;
                    SqlStore::delete_credential_rows(
                        self,
                        organization,
                        id,
                        expected_version,
                        audit,
                    )
                    .await
                }

                async fn list_versions(
                    &self,
                    organization: OrganizationId,
                    id: CredentialId,
                ) -> Result<Vec<VersionInfo>, StoreError> {
                    let (org, id) = (DbId::from(organization), DbId::from(id));
                    let rows: Vec<VersionInfoRow> = self
                        .fetch_all(
                            credential_versions::table
                                .filter(credential_versions::organization_id.eq(org))
                                .filter(credential_versions::credential_id.eq(id))
                                .select(VersionInfoRow::as_select())
                                .order(credential_versions::number.desc()),
                        )
                        .await?;
                    // No versions: a credential without any (stored before versions
                    // existed), or none at all. A second statement on this path only.
                    if rows.is_empty() {
                        let exists: Option<bool> = self
                            .fetch_optional(diesel::select(diesel::dsl::exists(
                                credentials::table
                                    .filter(credentials::organization_id.eq(org))
                                    .filter(credentials::id.eq(id)),
                            )))
                            .await?;
                        if exists != Some(true) {
                            return Err(StoreError::NotFound);
                        }
                    }
                    rows.into_iter().map(VersionInfoRow::decode).collect()
                }

                async fn get_version(
                    &self,
                    organization: OrganizationId,
                    id: CredentialId,
                    number: i64,
                ) -> Result<SecretVersion, StoreError> {
                    let row: Option<VersionRow> = self
                        .fetch_optional(
                            credential_versions::table
                                .filter(
                                    credential_versions::organization_id
                                        .eq(DbId::from(organization)),
                                )
                                .filter(credential_versions::credential_id.eq(DbId::from(id)))
                                .filter(credential_versions::number.eq(number))
                                .select(VersionRow::as_select()),
                        )
                        .await?;
                    row.ok_or(StoreError::NotFound)?.decode()
                }
            }
        };
    };
}
