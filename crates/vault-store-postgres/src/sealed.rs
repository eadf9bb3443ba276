//! Key rotation's view of the database: which key sealed how many rows, and the sealed
//! rows themselves, found and replaced one compare-and-swap at a time.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::ids::OrganizationId;
use vault_core::store::{SealedStore, StoreError};
use vault_core::versions::{KeyUsage, SealedKind, SealedRef, SealedRow};

use vault_store_sql::columns::{KEY_USAGE_SQL, fold_row_key_usage};
use vault_store_sql::rows::{KeyCountRow, MetaRow, SealedCredentialRow, SealedVersionRow};
use vault_store_sql::schema::{credential_versions, credentials, vault_meta};
use vault_store_sql::types::DbId;

use crate::PgStore;
use crate::error::{Failure, backend, from_diesel};

/// A `sealed_batch` cursor naming a row of another kind than the batch: a caller's bug,
/// refused rather than read as "from the start", which could loop forever.
fn cursor_of_another_kind() -> StoreError {
    backend(Failure(
        "the sealed_batch cursor is a row of another kind".to_owned(),
    ))
}

impl SealedStore for PgStore {
    async fn key_usage(&self) -> Result<Vec<KeyUsage>, StoreError> {
        let rows = self
            .with_connection(async |conn| {
                diesel::sql_query(KEY_USAGE_SQL)
                    .load::<KeyCountRow>(conn)
                    .await
                    .map_err(from_diesel)
            })
            .await?;
        KeyCountRow::fold(rows)
    }

    async fn organization_key_usage(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<KeyUsage>, StoreError> {
        let org = DbId::from(organization);
        let (credentials, versions) = self
            .with_connection(async move |conn| {
                // Two statements: a row sealed between them may be counted in neither or
                // both tables, which a status report can live with.
                let credentials: Vec<(String, i64)> = credentials::table
                    .filter(credentials::organization_id.eq(org))
                    .group_by(credentials::key_id)
                    .select((credentials::key_id, diesel::dsl::count_star()))
                    .load(conn)
                    .await
                    .map_err(from_diesel)?;
                let versions: Vec<(String, i64)> = credential_versions::table
                    .filter(credential_versions::organization_id.eq(org))
                    .group_by(credential_versions::key_id)
                    .select((credential_versions::key_id, diesel::dsl::count_star()))
                    .load(conn)
                    .await
                    .map_err(from_diesel)?;
                Ok((credentials, versions))
            })
            .await?;
        fold_row_key_usage(credentials, versions)
    }

    async fn sealed_batch(
        &self,
        kind: SealedKind,
        not_under: &KeyId,
        after: Option<&SealedRef>,
        limit: usize,
    ) -> Result<Vec<SealedRow>, StoreError> {
        let not_under = not_under.as_str().to_owned();
        let limit = vault_store_sql::limit(limit);
        match kind {
            SealedKind::Meta => {
                let mut select = vault_meta::table
                    .filter(vault_meta::key_id.ne(not_under))
                    .select(MetaRow::as_select())
                    .into_boxed();
                match after {
                    None => {}
                    Some(SealedRef::Meta(name)) => {
                        select = select.filter(vault_meta::name.gt(name.clone()));
                    }
                    Some(_) => return Err(cursor_of_another_kind()),
                }
                let select = select.order(vault_meta::name.asc()).limit(limit);
                let rows: Vec<MetaRow> = self
                    .with_connection(async move |conn| select.load(conn).await.map_err(from_diesel))
                    .await?;
                Ok(rows.into_iter().map(MetaRow::into_sealed_row).collect())
            }
            SealedKind::Credential => {
                let mut select = credentials::table
                    .filter(credentials::key_id.ne(not_under))
                    .select(SealedCredentialRow::as_select())
                    .into_boxed();
                match after {
                    None => {}
                    Some(SealedRef::Credential { id, .. }) => {
                        select = select.filter(credentials::id.gt(DbId::from(*id)));
                    }
                    Some(_) => return Err(cursor_of_another_kind()),
                }
                let select = select.order(credentials::id.asc()).limit(limit);
                let rows: Vec<SealedCredentialRow> = self
                    .with_connection(async move |conn| select.load(conn).await.map_err(from_diesel))
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(SealedCredentialRow::decode)
                    .collect::<Result<_, _>>()?)
            }
            SealedKind::Version => {
                let mut select = credential_versions::table
                    .filter(credential_versions::key_id.ne(not_under))
                    .select(SealedVersionRow::as_select())
                    .into_boxed();
                match after {
                    None => {}
                    Some(SealedRef::Version {
                        credential_id,
                        number,
                        ..
                    }) => {
                        // (credential_id, number) > (c, n), spelled out for diesel; the
                        // first half lets the planner start a primary-key range scan at c.
                        let credential = DbId::from(*credential_id);
                        select = select.filter(
                            credential_versions::credential_id.ge(credential).and(
                                credential_versions::credential_id
                                    .gt(credential)
                                    .or(credential_versions::number.gt(*number)),
                            ),
                        );
                    }
                    Some(_) => return Err(cursor_of_another_kind()),
                }
                let select = select
                    .order((
                        credential_versions::credential_id.asc(),
                        credential_versions::number.asc(),
                    ))
                    .limit(limit);
                let rows: Vec<SealedVersionRow> = self
                    .with_connection(async move |conn| select.load(conn).await.map_err(from_diesel))
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(SealedVersionRow::decode)
                    .collect::<Result<_, _>>()?)
            }
        }
    }

    async fn replace_sealed(&self, row: &SealedRow, new: &SealedBlob) -> Result<bool, StoreError> {
        let old = row.sealed.bytes.as_slice();
        let bytes = new.bytes.as_slice();
        let key_id = new.key_id.as_str();
        // Each is one UPDATE whose WHERE compares the stored bytes: the compare and the
        // set are one atomic statement (a concurrent writer of the row waits for the row
        // lock, then finds other bytes and matches nothing).
        let replace = self.with_connection(async move |conn| {
            match &row.reference {
                SealedRef::Meta(name) => {
                    diesel::update(
                        vault_meta::table
                            .filter(vault_meta::name.eq(name))
                            .filter(vault_meta::value.eq(old)),
                    )
                    .set((vault_meta::value.eq(bytes), vault_meta::key_id.eq(key_id)))
                    .execute(conn)
                    .await
                }
                // The new blob is bound to that version: another version must not get it.
                SealedRef::Credential {
                    organization_id,
                    id,
                    version,
                } => {
                    diesel::update(
                        credentials::table
                            .filter(credentials::organization_id.eq(DbId::from(*organization_id)))
                            .filter(credentials::id.eq(DbId::from(*id)))
                            .filter(credentials::version.eq(version))
                            .filter(credentials::sealed.eq(old)),
                    )
                    .set((
                        credentials::sealed.eq(bytes),
                        credentials::key_id.eq(key_id),
                    ))
                    .execute(conn)
                    .await
                }
                SealedRef::Version {
                    organization_id,
                    credential_id,
                    number,
                } => {
                    diesel::update(
                        credential_versions::table
                            .filter(
                                credential_versions::organization_id
                                    .eq(DbId::from(*organization_id)),
                            )
                            .filter(
                                credential_versions::credential_id.eq(DbId::from(*credential_id)),
                            )
                            .filter(credential_versions::number.eq(number))
                            .filter(credential_versions::sealed.eq(old)),
                    )
                    .set((
                        credential_versions::sealed.eq(bytes),
                        credential_versions::key_id.eq(key_id),
                    ))
                    .execute(conn)
                    .await
                }
            }
            .map_err(from_diesel)
        });
        let written = match &row.reference {
            SealedRef::Credential { id, .. } => self.changing(*id, None, replace).await?,
            _ => replace.await?,
        };
        Ok(written == 1)
    }
}
