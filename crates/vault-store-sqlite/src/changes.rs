//! The writes SQLite does its own way (`vault_store_sql::SqlStore`): each change that
//! carries an audit event is one transaction on the writer thread (writers.rs), and log
//! entries queue for the same thread, which inserts them in its group's transaction.

use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::sqlite::SqliteConnection;
use diesel::upsert::excluded;
use vault_core::connections::Expected;
use vault_core::credential::StoredCredential;
use vault_core::credential_cache::CredentialCache;
use vault_core::grants::Grantee;
use vault_core::ids::{AccessKeyId, CredentialId, GrantId, OrganizationId};
use vault_core::logs::LogRecord;
use vault_core::store::{BudgetSpend, StoreError};
use vault_store_sql::error::Abort;
use vault_store_sql::ports::{BudgetCounter, at_version};
use vault_store_sql::rows::{
    AccessKeyRow, AccessKeySummaryRow, AuditEventRow, CheckpointRow, ConnectionRow, GrantRow,
    RequestLogRow, VersionRow,
};
use vault_store_sql::schema::{
    access_keys, audit_checkpoints, audit_events, credential_versions, credentials, grant_usage,
    grants, oauth_connect_states, oauth_connections,
};
use vault_store_sql::types::{DbId, DbTime, Id};
use vault_store_sql::{CredentialChange, SqlStore};

use crate::SqliteStore;
use crate::audit_chain::insert_audit_event;
use crate::logs::LogRow;
use crate::prepared::Prepared;
use crate::writers::append_on;

/// Keeps a credential's newest versions: one statement deleting every version at or below
/// the number of the (keep + 1)-th newest (bound third). With `keep` or fewer versions the
/// subquery is NULL, and nothing compares true with NULL.
const PRUNE_VERSIONS: &str = "\
    DELETE FROM credential_versions \
    WHERE credential_id = ? AND number <= ( \
        SELECT number FROM credential_versions WHERE credential_id = ? \
        ORDER BY number DESC LIMIT 1 OFFSET ?)";

/// `keep_versions` as the pruning's OFFSET; `None` (0) keeps every version.
fn keep(keep_versions: usize) -> Option<i64> {
    (keep_versions > 0).then(|| vault_store_sql::limit(keep_versions))
}

/// What a credential write adds after its row, in the same transaction: the version rows,
/// the pruning to the newest `keep`, the audit event (linked into its chain).
fn write_history(
    conn: &mut SqliteConnection,
    credential: &DbId,
    versions: &[VersionRow],
    keep: Option<i64>,
    audit: AuditEventRow,
) -> Result<(), Abort> {
    for version in versions {
        // A number the credential has already: a unique violation, so `Conflict`.
        Prepared(diesel::insert_into(credential_versions::table).values(version)).run(conn)?;
    }
    if let Some(keep) = keep {
        Prepared(
            diesel::sql_query(PRUNE_VERSIONS)
                .bind::<Id, _>(credential)
                .bind::<Id, _>(credential)
                .bind::<BigInt, _>(keep),
        )
        .run(conn)?;
    }
    insert_audit_event(conn, audit)
}

impl SqlStore for SqliteStore {
    // `at` is Unix microseconds; integer division cuts it into hours and statuses into
    // classes.
    const CREDENTIAL_USAGE_SQL: &'static str = "\
        SELECT at / 3600000000 AS hour, COALESCE(status / 100, 0) AS class, \
            count(*) AS uses \
        FROM request_logs \
        WHERE organization_id = $1 AND credential_id = $2 AND id >= $3 AND at >= $4 \
        GROUP BY 1, 2";

    fn credential_cache(&self) -> &CredentialCache {
        &self.credentials
    }

    async fn insert_credential_rows(&self, change: CredentialChange) -> Result<(), StoreError> {
        let CredentialChange {
            row,
            versions,
            keep_versions,
            audit,
        } = change;
        let keep = keep(keep_versions);
        self.write(move |conn| {
            Prepared(diesel::insert_into(credentials::table).values(&row)).run(conn)?;
            write_history(conn, &row.summary.id, &versions, keep, audit)
        })
        .await
    }

    async fn update_credential_rows(
        &self,
        organization: OrganizationId,
        expected_version: i64,
        change: CredentialChange,
        stored: &StoredCredential,
    ) -> Result<(), StoreError> {
        let CredentialChange {
            row,
            versions,
            keep_versions,
            audit,
        } = change;
        let keep = keep(keep_versions);
        self.changing(stored.credential.id, Some(stored.clone()), move |conn| {
            let (id, update) = row.into_update();
            let org = DbId::from(organization);
            // The compare-and-swap comes first: on a miss nothing else is written. The
            // organization and id are never rewritten.
            let written = Prepared(
                diesel::update(
                    credentials::table
                        .filter(credentials::organization_id.eq(org))
                        .filter(credentials::id.eq(id))
                        .filter(credentials::version.eq(expected_version)),
                )
                .set(update)
                .returning(credentials::version),
            )
            .run(conn)?;
            if written == 1 {
                return write_history(conn, &id, &versions, keep, audit);
            }
            // Nothing written: tell a missing row from a changed one.
            let exists = diesel::select(diesel::dsl::exists(
                credentials::table
                    .filter(credentials::organization_id.eq(org))
                    .filter(credentials::id.eq(id)),
            ))
            .get_result::<bool>(conn)?;
            Err(Abort(if exists {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            }))
        })
        .await
    }

    async fn delete_credential_rows(
        &self,
        organization: OrganizationId,
        id: CredentialId,
        expected_version: Option<i64>,
        audit: AuditEventRow,
    ) -> Result<(), StoreError> {
        self.changing(id, None, move |conn| {
            let id = DbId::from(id);
            let credential = credentials::table
                .filter(credentials::organization_id.eq(DbId::from(organization)))
                .filter(credentials::id.eq(id));
            // Checked first, then deleted: the transaction holds the write lock, so
            // nothing changes in between.
            let version: Option<i64> = credential
                .select(credentials::version)
                .get_result(conn)
                .optional()?;
            at_version(version, expected_version)?;
            // The versions, grants, connection and connect states first: the foreign keys
            // refuse a credential that still has any.
            diesel::delete(
                credential_versions::table.filter(credential_versions::credential_id.eq(id)),
            )
            .execute(conn)?;
            diesel::delete(
                oauth_connect_states::table.filter(oauth_connect_states::credential_id.eq(id)),
            )
            .execute(conn)?;
            diesel::delete(
                oauth_connections::table.filter(oauth_connections::credential_id.eq(id)),
            )
            .execute(conn)?;
            let granted = grants::table
                .filter(grants::credential_id.eq(id))
                .select(grants::id);
            diesel::delete(grant_usage::table.filter(grant_usage::grant_id.eq_any(granted)))
                .execute(conn)?;
            diesel::delete(grants::table.filter(grants::credential_id.eq(id))).execute(conn)?;
            diesel::delete(credential).execute(conn)?;
            insert_audit_event(conn, audit)
        })
        .await
    }

    async fn insert_access_key_rows(
        &self,
        row: AccessKeyRow,
        audit: AuditEventRow,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            diesel::insert_into(access_keys::table)
                .values(&row)
                .execute(conn)?;
            insert_audit_event(conn, audit)
        })
        .await
    }

    async fn revoke_access_key_rows(
        &self,
        organization: OrganizationId,
        id: AccessKeyId,
        at: DbTime,
        audit: AuditEventRow,
    ) -> Result<AccessKeySummaryRow, StoreError> {
        let revoked = self
            .write(move |conn| {
                let key = access_keys::table
                    .filter(access_keys::organization_id.eq(DbId::from(organization)))
                    .filter(access_keys::id.eq(DbId::from(id)));
                // `revoked_at IS NULL` in the statement itself: of two racing revokes, the
                // first one's time stays.
                diesel::update(key.filter(access_keys::revoked_at.is_null()))
                    .set(access_keys::revoked_at.eq(at))
                    .execute(conn)?;
                let row = key
                    .select(AccessKeySummaryRow::as_select())
                    .get_result(conn)
                    .optional()?
                    .ok_or(Abort(StoreError::NotFound))?;
                // The grants it made and the grants to it end with it.
                let ended = || {
                    grants::table
                        .filter(grants::organization_id.eq(DbId::from(organization)))
                        .filter(
                            grants::granted_by
                                .eq(DbId::from(id))
                                .or(grants::grantee.eq(Grantee::AccessKey(id).to_string())),
                        )
                };
                diesel::delete(
                    grant_usage::table
                        .filter(grant_usage::grant_id.eq_any(ended().select(grants::id))),
                )
                .execute(conn)?;
                diesel::delete(ended()).execute(conn)?;
                // So do the connect flows it started: none can complete as it.
                diesel::delete(
                    oauth_connect_states::table
                        .filter(oauth_connect_states::organization_id.eq(DbId::from(organization)))
                        .filter(oauth_connect_states::access_key_id.eq(DbId::from(id))),
                )
                .execute(conn)?;
                insert_audit_event(conn, audit)?;
                Ok(row)
            })
            .await;
        // The grants it made or was given may be any credentials': forget them all.
        self.credentials.forget(None);
        revoked
    }

    async fn insert_grant_rows(
        &self,
        row: GrantRow,
        audit: AuditEventRow,
    ) -> Result<(), StoreError> {
        let credential = CredentialId::from_uuid(row.credential_id.decode("grants.credential_id")?);
        // A change of the credential's grants: cached ones are forgotten once it commits.
        self.changing(credential, None, move |conn| {
            let owned: Option<DbId> = credentials::table
                .filter(credentials::organization_id.eq(row.organization_id))
                .filter(credentials::id.eq(row.credential_id))
                .select(credentials::id)
                .get_result(conn)
                .optional()?;
            if owned.is_none() {
                return Err(Abort(StoreError::NotFound));
            }
            diesel::insert_into(grants::table)
                .values(&row)
                .execute(conn)?;
            insert_audit_event(conn, audit)
        })
        .await
    }

    async fn delete_grant_rows(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        id: GrantId,
        audit: AuditEventRow,
    ) -> Result<GrantRow, StoreError> {
        self.changing(credential, None, move |conn| {
            let id = DbId::from(id);
            let grant = grants::table
                .filter(grants::organization_id.eq(DbId::from(organization)))
                .filter(grants::credential_id.eq(DbId::from(credential)))
                .filter(grants::id.eq(id));
            let row = grant
                .select(GrantRow::as_select())
                .get_result(conn)
                .optional()?
                .ok_or(Abort(StoreError::NotFound))?;
            diesel::delete(grant_usage::table.filter(grant_usage::grant_id.eq(id)))
                .execute(conn)?;
            diesel::delete(grant).execute(conn)?;
            insert_audit_event(conn, audit)?;
            Ok(row)
        })
        .await
    }

    async fn spend_budget_rows(
        &self,
        organization: OrganizationId,
        grant: GrantId,
        counters: Vec<BudgetCounter>,
    ) -> Result<BudgetSpend, StoreError> {
        // The writer runs one operation at a time: reading the counters and then adding
        // to them cannot interleave with another spend.
        self.write(move |conn| {
            let grant = DbId::from(grant);
            let exists: Option<DbId> = grants::table
                .filter(grants::organization_id.eq(DbId::from(organization)))
                .filter(grants::id.eq(grant))
                .select(grants::id)
                .get_result(conn)
                .optional()?;
            if exists.is_none() {
                return Err(Abort(StoreError::NotFound));
            }
            let counter = |c: &BudgetCounter| {
                grant_usage::table
                    .filter(grant_usage::grant_id.eq(grant))
                    .filter(grant_usage::time_window.eq(c.name))
            };
            for c in &counters {
                let used: Option<i64> = counter(c)
                    .filter(grant_usage::window_start.eq(c.start))
                    .select(grant_usage::used)
                    .get_result(conn)
                    .optional()?;
                if used.unwrap_or(0) >= c.cap {
                    return Ok(BudgetSpend::Exhausted(c.window));
                }
            }
            for c in &counters {
                // Earlier windows of the same length are over: their counts go.
                diesel::delete(counter(c).filter(grant_usage::window_start.lt(c.start)))
                    .execute(conn)?;
                diesel::insert_into(grant_usage::table)
                    .values((
                        grant_usage::grant_id.eq(grant),
                        grant_usage::time_window.eq(c.name),
                        grant_usage::window_start.eq(c.start),
                        grant_usage::used.eq(1_i64),
                    ))
                    .on_conflict((
                        grant_usage::grant_id,
                        grant_usage::time_window,
                        grant_usage::window_start,
                    ))
                    .do_update()
                    .set(grant_usage::used.eq(grant_usage::used + 1))
                    .execute(conn)?;
            }
            Ok(BudgetSpend::Spent)
        })
        .await
    }

    async fn save_connection_rows(
        &self,
        row: ConnectionRow,
        expected: Expected,
        audit: Option<AuditEventRow>,
    ) -> Result<bool, StoreError> {
        // Connections are not cached: a plain transaction on the writer, which runs one at
        // a time, so the compare-and-set cannot interleave with another write.
        self.write(move |conn| {
            let owned: Option<DbId> = credentials::table
                .filter(credentials::organization_id.eq(row.organization_id))
                .filter(credentials::id.eq(row.credential_id))
                .select(credentials::id)
                .get_result(conn)
                .optional()?;
            if owned.is_none() {
                return Err(Abort(StoreError::NotFound));
            }
            let written = match expected.generation {
                // A row already there (connected meanwhile) is no error: nothing written.
                None => diesel::insert_into(oauth_connections::table)
                    .values(&row)
                    .on_conflict(oauth_connections::credential_id)
                    .do_nothing()
                    .execute(conn)?,
                Some(generation) => {
                    let stored = oauth_connections::table
                        .filter(oauth_connections::credential_id.eq(row.credential_id))
                        .filter(oauth_connections::organization_id.eq(row.organization_id))
                        .filter(oauth_connections::generation.eq(generation));
                    match expected.holder {
                        Some(holder) => diesel::update(
                            stored.filter(oauth_connections::lease_holder.eq(DbId::from(holder))),
                        )
                        .set(row.into_update())
                        .execute(conn)?,
                        None => diesel::update(stored)
                            .set(row.into_update())
                            .execute(conn)?,
                    }
                }
            };
            if written != 1 {
                return Ok(false);
            }
            if let Some(audit) = audit {
                insert_audit_event(conn, audit)?;
            }
            Ok(true)
        })
        .await
    }

    async fn cut_chain_rows(&self, checkpoint: CheckpointRow) -> Result<u64, StoreError> {
        let key = checkpoint.chain_key.decode("audit_checkpoints.chain_key")?;
        self.write(move |conn| {
            // It replaces a checkpoint already at that number (a periodic one): the cut
            // must be on record, as verification starts from the latest retention one.
            diesel::insert_into(audit_checkpoints::table)
                .values(&checkpoint)
                .on_conflict((audit_checkpoints::chain_key, audit_checkpoints::seq))
                .do_update()
                .set((
                    audit_checkpoints::hash.eq(excluded(audit_checkpoints::hash)),
                    audit_checkpoints::at.eq(excluded(audit_checkpoints::at)),
                    audit_checkpoints::kind.eq(excluded(audit_checkpoints::kind)),
                    audit_checkpoints::key_id.eq(excluded(audit_checkpoints::key_id)),
                    audit_checkpoints::signature.eq(excluded(audit_checkpoints::signature)),
                ))
                .execute(conn)?;
            let numbered = audit_events::chain_seq.le(checkpoint.seq);
            // The installation's chain is that of the events of no organization.
            let deleted = if key.is_nil() {
                diesel::delete(
                    audit_events::table
                        .filter(audit_events::organization_id.is_null())
                        .filter(numbered),
                )
                .execute(conn)?
            } else {
                diesel::delete(
                    audit_events::table
                        .filter(audit_events::organization_id.eq(checkpoint.chain_key))
                        .filter(numbered),
                )
                .execute(conn)?
            };
            Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
        })
        .await
    }

    async fn append_log_record(&self, record: LogRecord) -> Result<(), StoreError> {
        let row = match &record {
            LogRecord::Request(entry) => LogRow::Request(RequestLogRow::encode(entry)?),
            LogRecord::Audit(event) => LogRow::Audit(AuditEventRow::encode(event)?),
        };
        append_on(&self.writers, row).await
    }
}

impl SqliteStore {
    /// Runs `operation` (as [`Self::write`]), a change of credential `id` to `stored`
    /// (`None`: deleted, or not known whole). As it commits, the writer keeps what it wrote
    /// in the cache, or forgets the credential if it failed: on the writer thread, so a
    /// caller that stops waiting cannot leave the old row cached.
    pub(crate) async fn changing<R, F>(
        &self,
        id: CredentialId,
        stored: Option<StoredCredential>,
        operation: F,
    ) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<R, Abort> + Send + 'static,
    {
        let cache = Arc::clone(&self.credentials);
        let mark = cache.mark();
        crate::writers::write_then(&self.writers, operation, move |committed| {
            let forget = cache.forget_after(id);
            if let (true, Some(stored)) = (committed, &stored) {
                forget.wrote(&mark, stored);
            }
        })
        .await
    }
}
