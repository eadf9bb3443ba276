//! Key rotation's view of the file: which key sealed how many rows, and the sealed rows
//! themselves, found and replaced one compare-and-swap at a time.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use vault_core::cipher::{KeyId, SealedBlob};
use vault_core::ids::OrganizationId;
use vault_core::store::{SealedStore, StoreError};
use vault_core::versions::{KeyUsage, SealedKind, SealedRef, SealedRow};

use vault_store_sql::columns::{KEY_USAGE_SQL, fold_row_key_usage};
use vault_store_sql::error::{Abort, from_diesel};
use vault_store_sql::rows::{KeyCountRow, MetaRow, SealedCredentialRow, SealedVersionRow};
use vault_store_sql::schema::{credential_versions, credentials, vault_meta};
use vault_store_sql::types::DbId;

use crate::SqliteStore;

/// A `sealed_batch` cursor naming a row of another kind than the batch: a caller's bug,
/// refused rather than read as "from the start", which could loop forever.
fn cursor_of_another_kind() -> StoreError {
    StoreError::Backend("the sealed_batch cursor is a row of another kind".into())
}

impl SealedStore for SqliteStore {
    async fn key_usage(&self) -> Result<Vec<KeyUsage>, StoreError> {
        let rows = self.read(|conn| {
            diesel::sql_query(KEY_USAGE_SQL)
                .load::<KeyCountRow>(conn)
                .map_err(from_diesel)
        })?;
        KeyCountRow::fold(rows)
    }

    async fn organization_key_usage(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<KeyUsage>, StoreError> {
        let org = DbId::from(organization);
        let (credentials, versions) = self.read(move |conn| {
            // Read in one transaction, so both counts are of one snapshot.
            conn.transaction(|conn| {
                let credentials: Vec<(String, i64)> = credentials::table
                    .filter(credentials::organization_id.eq(&org))
                    .group_by(credentials::key_id)
                    .select((credentials::key_id, diesel::dsl::count_star()))
                    .load(conn)?;
                let versions: Vec<(String, i64)> = credential_versions::table
                    .filter(credential_versions::organization_id.eq(&org))
                    .group_by(credential_versions::key_id)
                    .select((credential_versions::key_id, diesel::dsl::count_star()))
                    .load(conn)?;
                Ok((credentials, versions))
            })
            .map_err(from_diesel)
        })?;
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
                let after = match after {
                    None => None,
                    Some(SealedRef::Meta(name)) => Some(name.clone()),
                    Some(_) => return Err(cursor_of_another_kind()),
                };
                let rows = self.read(move |conn| {
                    let mut select = vault_meta::table
                        .filter(vault_meta::key_id.ne(not_under))
                        .select(MetaRow::as_select())
                        .into_boxed();
                    if let Some(after) = after {
                        select = select.filter(vault_meta::name.gt(after));
                    }
                    select
                        .order(vault_meta::name.asc())
                        .limit(limit)
                        .load(conn)
                        .map_err(from_diesel)
                })?;
                Ok(rows.into_iter().map(MetaRow::into_sealed_row).collect())
            }
            SealedKind::Credential => {
                let after = match after {
                    None => None,
                    Some(SealedRef::Credential { id, .. }) => Some(DbId::from(*id)),
                    Some(_) => return Err(cursor_of_another_kind()),
                };
                let rows = self.read(move |conn| {
                    let mut select = credentials::table
                        .filter(credentials::key_id.ne(not_under))
                        .select(SealedCredentialRow::as_select())
                        .into_boxed();
                    if let Some(after) = after {
                        select = select.filter(credentials::id.gt(after));
                    }
                    select
                        .order(credentials::id.asc())
                        .limit(limit)
                        .load(conn)
                        .map_err(from_diesel)
                })?;
                rows.into_iter().map(SealedCredentialRow::decode).collect()
            }
            SealedKind::Version => {
                let after = match after {
                    None => None,
                    Some(SealedRef::Version {
                        credential_id,
                        number,
                        ..
                    }) => Some((DbId::from(*credential_id), *number)),
                    Some(_) => return Err(cursor_of_another_kind()),
                };
                let rows = self.read(move |conn| {
                    let mut select = credential_versions::table
                        .filter(credential_versions::key_id.ne(not_under))
                        .select(SealedVersionRow::as_select())
                        .into_boxed();
                    if let Some((credential, number)) = after {
                        // (credential_id, number) > (?, ?), spelled out for diesel.
                        select = select.filter(
                            credential_versions::credential_id
                                .gt(credential)
                                .or(credential_versions::credential_id
                                    .eq(credential)
                                    .and(credential_versions::number.gt(number))),
                        );
                    }
                    select
                        .order((
                            credential_versions::credential_id.asc(),
                            credential_versions::number.asc(),
                        ))
                        .limit(limit)
                        .load(conn)
                        .map_err(from_diesel)
                })?;
                rows.into_iter().map(SealedVersionRow::decode).collect()
            }
        }
    }

    async fn replace_sealed(&self, row: &SealedRow, new: &SealedBlob) -> Result<bool, StoreError> {
        let reference = row.reference.clone();
        let old = row.sealed.bytes.clone();
        let bytes = new.bytes.clone();
        let key_id = new.key_id.as_str().to_owned();
        let credential = match &reference {
            SealedRef::Credential { id, .. } => Some(*id),
            SealedRef::Meta(_) | SealedRef::Version { .. } => None,
        };
        // Each is one UPDATE whose WHERE compares the stored bytes: the compare and the
        // set are one atomic statement.
        let statement = move |conn: &mut SqliteConnection| {
            match reference {
                SealedRef::Meta(name) => diesel::update(
                    vault_meta::table
                        .filter(vault_meta::name.eq(name))
                        .filter(vault_meta::value.eq(old)),
                )
                .set((vault_meta::value.eq(bytes), vault_meta::key_id.eq(key_id)))
                .execute(conn),
                // The new blob is bound to that version: another version must not get it.
                SealedRef::Credential {
                    organization_id,
                    id,
                    version,
                } => diesel::update(
                    credentials::table
                        .filter(credentials::organization_id.eq(DbId::from(organization_id)))
                        .filter(credentials::id.eq(DbId::from(id)))
                        .filter(credentials::version.eq(version))
                        .filter(credentials::sealed.eq(old)),
                )
                .set((
                    credentials::sealed.eq(bytes),
                    credentials::key_id.eq(key_id),
                ))
                .execute(conn),
                SealedRef::Version {
                    organization_id,
                    credential_id,
                    number,
                } => diesel::update(
                    credential_versions::table
                        .filter(
                            credential_versions::organization_id.eq(DbId::from(organization_id)),
                        )
                        .filter(credential_versions::credential_id.eq(DbId::from(credential_id)))
                        .filter(credential_versions::number.eq(number))
                        .filter(credential_versions::sealed.eq(old)),
                )
                .set((
                    credential_versions::sealed.eq(bytes),
                    credential_versions::key_id.eq(key_id),
                ))
                .execute(conn),
            }
            .map_err(Abort::from)
        };
        let written = match credential {
            // A credential's row changed: the writer settles the cache.
            Some(id) => self.changing(id, None, statement).await?,
            None => self.write(statement).await?,
        };
        Ok(written == 1)
    }
}
