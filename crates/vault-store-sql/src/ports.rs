//! The storage ports of `vault-core`, implemented once for both SQL stores by
//! [`sql_store_ports!`](crate::sql_store_ports): every statement the stores share, built
//! here on the one schema and run by the store's own verbs; what differs between the
//! databases (how a credential or an access key is written with its audit event, how the
//! logs are appended) each store implements as [`SqlStore`].

use std::future::Future;

use vault_core::credential::StoredCredential;
use vault_core::credential_cache::CredentialCache;
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::LogRecord;
use vault_core::store::{CredentialWrite, StoreError};

use crate::rows::{AccessKeyRow, AccessKeySummaryRow, AuditEventRow, CredentialRow, VersionRow};
use crate::types::DbTime;

/// A credential write, encoded: the row, and what the store writes in the same
/// transaction.
#[derive(Debug)]
pub struct CredentialChange {
    /// The credential's row.
    pub row: CredentialRow,
    /// Version rows to add, oldest first, each number once.
    pub versions: Vec<VersionRow>,
    /// After adding, keep only this many of the credential's newest version rows (0: keep
    /// every one).
    pub keep_versions: usize,
    /// The audit event of the change.
    pub audit: AuditEventRow,
}

impl CredentialChange {
    /// Encodes `credential` and `write`, whose versions must be `organization`'s.
    ///
    /// # Errors
    /// As [`CredentialRow::encode`] and [`VersionRow::encode_all`].
    pub fn encode(
        credential: &StoredCredential,
        organization: OrganizationId,
        write: &CredentialWrite<'_>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            row: CredentialRow::encode(credential)?,
            versions: VersionRow::encode_all(
                write.versions,
                organization,
                credential.credential.id,
            )?,
            keep_versions: write.keep_versions,
            audit: AuditEventRow::encode(write.audit)?,
        })
    }
}

/// What a store does its own way, under the ports [`sql_store_ports!`](crate::sql_store_ports)
/// implements: the writes that carry an audit event (a transaction on SQLite's writer
/// thread, one statement or a pipelined transaction on PostgreSQL), and log appends (the
/// writer's group commit on SQLite, the log writer on PostgreSQL). The contract of each is
/// the port method's of the same name (`vault_core::store`).
pub trait SqlStore: Send + Sync + 'static {
    /// The credentials read recently: `get_credential` serves them without a read, and
    /// every change of a credential must settle its entry.
    fn credential_cache(&self) -> &CredentialCache;

    /// `insert_credential`: the row, its versions (pruned to the newest `keep_versions`)
    /// and its audit event, in one transaction.
    fn insert_credential_rows(
        &self,
        change: CredentialChange,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `update_credential`: the compare-and-swap of the row at `expected_version`, then as
    /// for an insert; `stored` is the credential written, for the cache.
    fn update_credential_rows(
        &self,
        organization: OrganizationId,
        expected_version: i64,
        change: CredentialChange,
        stored: &StoredCredential,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `delete_credential`: the row and its versions, and the audit event.
    fn delete_credential_rows(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        expected_version: Option<i64>,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `insert_access_key`: the key and its audit event.
    fn insert_access_key_rows(
        &self,
        row: AccessKeyRow,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `revoke_access_key`: the revocation (keeping an earlier one's time) and its audit
    /// event; the key as it then is.
    fn revoke_access_key_rows(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: DbTime,
        audit: AuditEventRow,
    ) -> impl Future<Output = Result<AccessKeySummaryRow, StoreError>> + Send;

    /// `append_log`.
    fn append_log_record(
        &self,
        record: LogRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Whether a delete may go on: the credential exists (`stored`, its version) and is at
/// `expected`, when one is given.
///
/// # Errors
/// [`StoreError::NotFound`] when it does not exist; [`StoreError::Conflict`] when it is at
/// another version.
pub fn at_version(stored: Option<i64>, expected: Option<i64>) -> Result<(), StoreError> {
    match stored {
        None => Err(StoreError::NotFound),
        Some(stored) if expected.is_some_and(|expected| expected != stored) => {
            Err(StoreError::Conflict)
        }
        Some(_) => Ok(()),
    }
}

/// A `sealed_batch` cursor naming a row of another kind than the batch: a caller's bug,
/// refused rather than read as "from the start", which could loop forever.
#[must_use]
pub fn cursor_of_another_kind() -> StoreError {
    StoreError::Backend("the sealed_batch cursor is a row of another kind".into())
}

/// Implements `vault-core`'s storage ports (all but `JobStore`) for `$store`, on the
/// schema and rows of this crate: every read, and every write that is one statement,
/// written once for both databases; the rest through the store's [`SqlStore`].
///
/// The statements are built here and run by four methods `$store` has of its own (they
/// cannot be a trait: each is generic over what diesel can run on that store's
/// connections, which a trait shared by both could not name). Each returns a future:
///
/// - `fetch_optional(&self, query: Q) -> Result<Option<U>, StoreError>`: the row `query`
///   returns, if any (diesel's `get_result`, without a `LIMIT`);
/// - `fetch_all(&self, query: Q) -> Result<Vec<U>, StoreError>`: every row;
/// - `execute(&self, statement: Q) -> Result<usize, StoreError>`: a write of one statement,
///   and how many rows it wrote;
/// - `execute_changing(&self, id: CredentialId, statement: Q) -> Result<usize,
///   StoreError>`: the same for a statement that may change credential `id`, which the
///   store's credential cache must then hear of.
///
/// A macro rather than generic functions because the queries' types (boxed or not,
/// borrowing or not) are then inferred for each store's connection, and no statement needs
/// a named type or an allocation to cross a generic boundary: each store runs exactly the
/// statements it ran when it wrote them itself.
#[macro_export]
macro_rules! sql_store_ports {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel;
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::time::OffsetDateTime;
            use $crate::__private::vault_core::access_key::{
                AccessKey, KeyBinding, Organization, StoredAccessKey, TokenHash,
            };
            use $crate::__private::vault_core::cipher::{KeyId, SealedBlob};
            use $crate::__private::vault_core::credential::{Credential, StoredCredential};
            use $crate::__private::vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
            use $crate::__private::vault_core::logs::{
                AuditEvent, AuditQuery, LogRecord, RequestLogEntry, RequestLogQuery, id_floor,
            };
            use $crate::__private::vault_core::store::{
                AccessKeyStore, CredentialStore, CredentialWrite, KeyListQuery, ListQuery, LogKind,
                LogStore, MetaStore, OrganizationStore, SealedStore, StoreError,
            };
            use $crate::__private::vault_core::versions::{
                KeyUsage, SealedKind, SealedRef, SealedRow, SecretVersion, VersionInfo,
            };
            use $crate::ports::{CredentialChange, SqlStore, cursor_of_another_kind};
            use $crate::rows::{
                AccessKeyRow, AccessKeySummaryRow, AuditEventRow, CredentialRow,
                CredentialSummaryRow, KeyCountRow, MetaRow, OrganizationRow, RequestLogRow,
                SealedCredentialRow, SealedVersionRow, VersionInfoRow, VersionRow,
            };
            use $crate::schema::{
                access_keys, audit_events, credential_versions, credentials, organizations,
                request_logs, vault_meta,
            };
            use $crate::statements::{
                KEY_USAGE_SQL, ORGANIZATION_KEY_USAGE_SQL, PRUNE_AUDIT_EVENTS, PRUNE_REQUEST_LOGS,
            };
            use $crate::types::{DbId, DbTime, Id, Instant};

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

            impl SealedStore for $store {
                async fn key_usage(&self) -> Result<Vec<KeyUsage>, StoreError> {
                    let rows: Vec<KeyCountRow> =
                        self.fetch_all(diesel::sql_query(KEY_USAGE_SQL)).await?;
                    KeyCountRow::fold(rows)
                }

                async fn organization_key_usage(
                    &self,
                    organization: OrganizationId,
                ) -> Result<Vec<KeyUsage>, StoreError> {
                    let rows: Vec<KeyCountRow> = self
                        .fetch_all(
                            diesel::sql_query(ORGANIZATION_KEY_USAGE_SQL)
                                .bind::<Id, _>(DbId::from(organization)),
                        )
                        .await?;
                    KeyCountRow::fold(rows)
                }

                async fn sealed_batch(
                    &self,
                    kind: SealedKind,
                    not_under: &KeyId,
                    after: Option<&SealedRef>,
                    limit: usize,
                ) -> Result<Vec<SealedRow>, StoreError> {
                    let not_under = not_under.as_str().to_owned();
                    let limit = $crate::limit(limit);
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
                            let rows: Vec<MetaRow> = self
                                .fetch_all(select.order(vault_meta::name.asc()).limit(limit))
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
                            let rows: Vec<SealedCredentialRow> = self
                                .fetch_all(select.order(credentials::id.asc()).limit(limit))
                                .await?;
                            rows.into_iter().map(SealedCredentialRow::decode).collect()
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
                                    // (credential_id, number) > (c, n), spelled out for
                                    // diesel; the first half lets the planner start a
                                    // primary-key range scan at c.
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
                            let rows: Vec<SealedVersionRow> = self
                                .fetch_all(
                                    select
                                        .order((
                                            credential_versions::credential_id.asc(),
                                            credential_versions::number.asc(),
                                        ))
                                        .limit(limit),
                                )
                                .await?;
                            rows.into_iter().map(SealedVersionRow::decode).collect()
                        }
                    }
                }

                async fn replace_sealed(
                    &self,
                    row: &SealedRow,
                    new: &SealedBlob,
                ) -> Result<bool, StoreError> {
                    let old = row.sealed.bytes.clone();
                    let bytes = new.bytes.clone();
                    let key_id = new.key_id.as_str().to_owned();
                    // Each is one UPDATE whose WHERE compares the stored bytes: the compare
                    // and the set are one atomic statement (a concurrent writer of the row
                    // waits for the row lock, then finds other bytes and matches nothing).
                    let written = match &row.reference {
                        SealedRef::Meta(name) => {
                            self.execute(
                                diesel::update(
                                    vault_meta::table
                                        .filter(vault_meta::name.eq(name.clone()))
                                        .filter(vault_meta::value.eq(old)),
                                )
                                .set((vault_meta::value.eq(bytes), vault_meta::key_id.eq(key_id))),
                            )
                            .await?
                        }
                        // The new blob is bound to that version: another version must not
                        // get it. A credential's row changed: the store's cache hears of it.
                        SealedRef::Credential {
                            organization_id,
                            id,
                            version,
                        } => {
                            self.execute_changing(
                                *id,
                                diesel::update(
                                    credentials::table
                                        .filter(
                                            credentials::organization_id
                                                .eq(DbId::from(*organization_id)),
                                        )
                                        .filter(credentials::id.eq(DbId::from(*id)))
                                        .filter(credentials::version.eq(*version))
                                        .filter(credentials::sealed.eq(old)),
                                )
                                .set((
                                    credentials::sealed.eq(bytes),
                                    credentials::key_id.eq(key_id),
                                )),
                            )
                            .await?
                        }
                        SealedRef::Version {
                            organization_id,
                            credential_id,
                            number,
                        } => {
                            self.execute(
                                diesel::update(
                                    credential_versions::table
                                        .filter(
                                            credential_versions::organization_id
                                                .eq(DbId::from(*organization_id)),
                                        )
                                        .filter(
                                            credential_versions::credential_id
                                                .eq(DbId::from(*credential_id)),
                                        )
                                        .filter(credential_versions::number.eq(*number))
                                        .filter(credential_versions::sealed.eq(old)),
                                )
                                .set((
                                    credential_versions::sealed.eq(bytes),
                                    credential_versions::key_id.eq(key_id),
                                )),
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
