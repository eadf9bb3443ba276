//! The writes PostgreSQL does its own way (`vault_store_sql::SqlStore`): a credential's
//! create and update are one statement with their history (credential_writes.rs); the
//! other writes that carry an audit event are one transaction whose independent statements
//! are sent together (diesel-async pipelines futures polled together on one connection);
//! log entries go through the store's group-committing log writer (logs.rs).

use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use vault_core::credential::StoredCredential;
use vault_core::credential_cache::CredentialCache;
use vault_core::ids::{AccessKeyId, CredentialId, OrganizationId};
use vault_core::logs::LogRecord;
use vault_core::store::StoreError;
use vault_store_sql::error::Abort;
use vault_store_sql::ports::at_version;
use vault_store_sql::rows::{AccessKeyRow, AccessKeySummaryRow, AuditEventRow};
use vault_store_sql::schema::{access_keys, audit_events, credentials};
use vault_store_sql::types::{DbId, DbTime, Id, Instant};
use vault_store_sql::{CredentialChange, SqlStore};

use crate::PgStore;
use crate::credential_writes::{CredentialStatement, Pruning};
use crate::error::from_diesel;

diesel::define_sql_function! {
    /// SQL `COALESCE` of a nullable time and a time.
    fn coalesce(
        first: diesel::sql_types::Nullable<Instant>,
        second: Instant,
    ) -> diesel::sql_types::Nullable<Instant>;
}

/// Deletes a credential and its versions in one statement. The foreign key is checked at
/// the end of the statement, when both are gone (it has no cascade, and is NO ACTION, not
/// RESTRICT, for exactly this).
const DELETE_CREDENTIAL: &str = "\
    WITH versions AS (DELETE FROM credential_versions WHERE credential_id = $1) \
    DELETE FROM credentials WHERE organization_id = $2 AND id = $1";

impl SqlStore for PgStore {
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
        let organization = row.summary.organization_id;
        let id = row.summary.id;
        self.with_connection(async move |conn| {
            let change = diesel::insert_into(credentials::table)
                .values(&row)
                .returning(credentials::id);
            CredentialStatement {
                change: &change,
                organization,
                id,
                versions: &versions,
                pruning: Pruning::new(keep_versions, versions.len()),
                audit: &audit,
            }
            .execute(conn)
            .await
            .map_err(from_diesel)?;
            Ok(())
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
        let org = DbId::from(organization);
        let (id, update) = row.into_update();
        let statement = self.with_connection(async move |conn| {
            // The compare-and-swap: a concurrent writer of the same row waits for its
            // lock, then sees the new version and matches nothing, so the history
            // parts write nothing either. The organization and id are never rewritten.
            let change = diesel::update(
                credentials::table
                    .filter(credentials::organization_id.eq(org))
                    .filter(credentials::id.eq(id))
                    .filter(credentials::version.eq(expected_version)),
            )
            .set(update)
            .returning(credentials::id);
            CredentialStatement {
                change: &change,
                organization: org,
                id,
                versions: &versions,
                pruning: Pruning::new(keep_versions, versions.len()),
                audit: &audit,
            }
            .get_result::<(i64, bool)>(conn)
            .await
            .map_err(from_diesel)
        });
        self.changing(stored.credential.id, Some(stored), async {
            match statement.await? {
                (1, _) => Ok(()),
                (_, true) => Err(StoreError::Conflict),
                (_, false) => Err(StoreError::NotFound),
            }
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
        let org = DbId::from(organization);
        let credential = id;
        let id = DbId::from(id);
        let statement = self.with_connection(async move |conn| {
            conn.transaction(async move |conn| {
                // Lock the row first (and read its version). An update adding a version
                // takes this lock before it writes the version, so none can appear after
                // the versions are deleted and before the credential is (which the foreign
                // key would refuse).
                let version: Option<i64> = credentials::table
                    .filter(credentials::organization_id.eq(org))
                    .filter(credentials::id.eq(id))
                    .select(credentials::version)
                    .for_update()
                    .get_result(conn)
                    .await
                    .optional()?;
                at_version(version, expected_version)?;
                let shared: &AsyncPgConnection = conn;
                let delete = async {
                    let mut conn = shared;
                    diesel::sql_query(DELETE_CREDENTIAL)
                        .bind::<Id, _>(id)
                        .bind::<Id, _>(org)
                        .execute(&mut conn)
                        .await
                };
                futures::try_join!(delete, record(shared, &audit))?;
                Ok(())
            })
            .await
            .map_err(|Abort(error)| error)
        });
        self.changing(credential, None, statement).await
    }

    async fn insert_access_key_rows(
        &self,
        row: AccessKeyRow,
        audit: AuditEventRow,
    ) -> Result<(), StoreError> {
        self.with_connection(async move |conn| {
            conn.transaction(async move |conn| {
                // Independent rows: sent together (pipelined), committed together.
                let shared: &AsyncPgConnection = conn;
                let insert = async {
                    let mut conn = shared;
                    diesel::insert_into(access_keys::table)
                        .values(&row)
                        .execute(&mut conn)
                        .await
                };
                futures::try_join!(insert, record(shared, &audit))?;
                Ok(())
            })
            .await
            .map_err(|Abort(error)| error)
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
        self.with_connection(async move |conn| {
            conn.transaction(async move |conn| {
                let shared: &AsyncPgConnection = conn;
                // One statement that revokes and returns the key. COALESCE keeps an
                // existing revocation time: of two racing revokes, the second waits for
                // the first's row lock and then sees its time.
                let revoke = async {
                    let mut conn = shared;
                    diesel::update(
                        access_keys::table
                            .filter(access_keys::organization_id.eq(DbId::from(organization)))
                            .filter(access_keys::id.eq(DbId::from(id))),
                    )
                    .set(access_keys::revoked_at.eq(coalesce(access_keys::revoked_at, at)))
                    .returning(AccessKeySummaryRow::as_returning())
                    .get_result(&mut conn)
                    .await
                    .optional()
                };
                // Sent with it (pipelined); rolled back with it if there is no such key.
                let (row, _) = futures::try_join!(revoke, record(shared, &audit))?;
                row.ok_or(Abort(StoreError::NotFound))
            })
            .await
            .map_err(|Abort(error)| error)
        })
        .await
    }

    async fn append_log_record(&self, record: LogRecord) -> Result<(), StoreError> {
        self.logs.append(record).await
    }
}

/// Inserts `audit` on `conn`, for a transaction to send with its other statements.
async fn record(conn: &AsyncPgConnection, audit: &AuditEventRow) -> QueryResult<usize> {
    let mut conn = conn;
    diesel::insert_into(audit_events::table)
        .values(audit)
        .execute(&mut conn)
        .await
}
