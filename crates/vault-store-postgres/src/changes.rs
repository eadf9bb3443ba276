//! The writes PostgreSQL does its own way (`vault_store_sql::SqlStore`): a credential's
//! create and update are one statement with their history (credential_writes.rs); the
//! other writes that carry an audit event are one transaction whose independent statements
//! are sent together (diesel-async pipelines futures polled together on one connection);
//! log entries go through the store's group-committing log writer (logs.rs).

use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use vault_core::connections::Expected;
use vault_core::credential::StoredCredential;
use vault_core::credential_cache::CredentialCache;
use vault_core::grants::{Grantee, Window};
use vault_core::ids::{AccessKeyId, CredentialId, GrantId, OrganizationId};
use vault_core::logs::LogRecord;
use vault_core::store::{BudgetSpend, StoreError};
use vault_store_sql::error::Abort;
use vault_store_sql::ports::{BudgetCounter, at_version};
use vault_store_sql::rows::{
    AccessKeyRow, AccessKeySummaryRow, AuditEventRow, CheckpointRow, ConnectionRow, GrantRow,
};
use vault_store_sql::schema::{
    access_keys, audit_checkpoints, audit_events, credentials, grant_usage, grants,
    oauth_connect_states, oauth_connections,
};
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

/// Deletes a credential with its versions, grants (and their counters), connection and
/// connect states in one statement. The foreign keys are checked at the end of the
/// statement, when all are gone (they have no cascade, and are NO ACTION, not RESTRICT,
/// for exactly this).
const DELETE_CREDENTIAL: &str = "\
    WITH versions AS (DELETE FROM credential_versions WHERE credential_id = $1), \
    usage AS (DELETE FROM grant_usage \
        WHERE grant_id IN (SELECT id FROM grants WHERE credential_id = $1)), \
    granted AS (DELETE FROM grants WHERE credential_id = $1), \
    connect_states AS (DELETE FROM oauth_connect_states WHERE credential_id = $1), \
    connected AS (DELETE FROM oauth_connections WHERE credential_id = $1) \
    DELETE FROM credentials WHERE organization_id = $2 AND id = $1";

/// Counts one request in a budget window, only while under its cap (bound fourth). Of two
/// replicas counting at once, the second waits for the first's row lock and then checks
/// the cap against the count the first left: no cap is ever passed.
const SPEND: &str = "\
    INSERT INTO grant_usage (grant_id, time_window, window_start, used) VALUES ($1, $2, $3, 1) \
    ON CONFLICT (grant_id, time_window, window_start) \
    DO UPDATE SET used = grant_usage.used + 1 WHERE grant_usage.used < $4 \
    RETURNING used";

/// Deletes the grants a revoked key made or was given, with their counters.
const END_GRANTS_OF_KEY: &str = "\
    WITH ended AS (SELECT id FROM grants \
        WHERE organization_id = $3 AND (granted_by = $1 OR grantee = $2)), \
    usage AS (DELETE FROM grant_usage WHERE grant_id IN (SELECT id FROM ended)) \
    DELETE FROM grants WHERE id IN (SELECT id FROM ended)";

/// Forgets a grant's counts of earlier windows of the same length.
const FORGET_EARLIER: &str = "\
    DELETE FROM grant_usage WHERE grant_id = $1 AND time_window = $2 AND window_start < $3";

/// Why a spend's transaction rolls back: a failure, or a window at its cap.
enum SpendAbort {
    Failed(Abort),
    Exhausted(Window),
}

impl From<diesel::result::Error> for SpendAbort {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(Abort::from(error))
    }
}

#[derive(QueryableByName)]
struct Used {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    #[expect(dead_code, reason = "read only to learn whether a row came back")]
    used: i64,
}

impl SqlStore for PgStore {
    // The id bound finds the rows by the (organization, credential, id) index; `at` cuts
    // the few whose id is older than their time.
    const CREDENTIAL_USAGE_SQL: &'static str = "\
        SELECT floor(extract(epoch FROM at) / 3600)::bigint AS hour, \
            COALESCE(status / 100, 0)::integer AS class, count(*) AS uses \
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
        let revoked = self
            .with_connection(async move |conn| {
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
                    // The grants it made and the grants to it end with it.
                    let end_grants = async {
                        let mut conn = shared;
                        diesel::sql_query(END_GRANTS_OF_KEY)
                            .bind::<Id, _>(DbId::from(id))
                            .bind::<diesel::sql_types::Text, _>(Grantee::AccessKey(id).to_string())
                            .bind::<Id, _>(DbId::from(organization))
                            .execute(&mut conn)
                            .await
                    };
                    // So do the connect flows it started: none can complete as it.
                    let end_states = async {
                        let mut conn = shared;
                        diesel::delete(
                            oauth_connect_states::table
                                .filter(
                                    oauth_connect_states::organization_id
                                        .eq(DbId::from(organization)),
                                )
                                .filter(oauth_connect_states::access_key_id.eq(DbId::from(id))),
                        )
                        .execute(&mut conn)
                        .await
                    };
                    // Sent with it (pipelined); rolled back with it if there is no such key.
                    let (row, _, _, _) =
                        futures::try_join!(revoke, end_grants, end_states, record(shared, &audit))?;
                    row.ok_or(Abort(StoreError::NotFound))
                })
                .await
                .map_err(|Abort(error)| error)
            })
            .await;
        // The grants it made or was given may be any credentials': every replica forgets
        // every cached one.
        self.forget_everything();
        revoked
    }

    async fn insert_grant_rows(
        &self,
        row: GrantRow,
        audit: AuditEventRow,
    ) -> Result<(), StoreError> {
        let credential = CredentialId::from_uuid(row.credential_id.decode("grants.credential_id")?);
        // A change of the credential's grants: forgotten here and announced to every replica.
        let write = self.with_connection(async move |conn| {
            conn.transaction(async move |conn| {
                // The credential must be the organization's; the foreign key then keeps it
                // from going while the grant is written.
                let owned: Option<DbId> = credentials::table
                    .filter(credentials::organization_id.eq(row.organization_id))
                    .filter(credentials::id.eq(row.credential_id))
                    .select(credentials::id)
                    .get_result(conn)
                    .await
                    .optional()?;
                if owned.is_none() {
                    return Err(Abort(StoreError::NotFound));
                }
                let shared: &AsyncPgConnection = conn;
                let insert = async {
                    let mut conn = shared;
                    diesel::insert_into(grants::table)
                        .values(&row)
                        .execute(&mut conn)
                        .await
                };
                futures::try_join!(insert, record(shared, &audit))?;
                Ok(())
            })
            .await
            .map_err(|Abort(error)| error)
        });
        self.changing(credential, None, write).await
    }

    async fn delete_grant_rows(
        &self,
        organization: OrganizationId,
        credential: CredentialId,
        id: GrantId,
        audit: AuditEventRow,
    ) -> Result<GrantRow, StoreError> {
        let write = self.with_connection(async move |conn| {
            conn.transaction(async move |conn| {
                let id = DbId::from(id);
                diesel::delete(grant_usage::table.filter(grant_usage::grant_id.eq(id)))
                    .execute(conn)
                    .await?;
                let row = diesel::delete(
                    grants::table
                        .filter(grants::organization_id.eq(DbId::from(organization)))
                        .filter(grants::credential_id.eq(DbId::from(credential)))
                        .filter(grants::id.eq(id)),
                )
                .returning(GrantRow::as_returning())
                .get_result(conn)
                .await
                .optional()?
                .ok_or(Abort(StoreError::NotFound))?;
                record(conn, &audit).await?;
                Ok(row)
            })
            .await
            .map_err(|Abort(error)| error)
        });
        self.changing(credential, None, write).await
    }

    async fn spend_budget_rows(
        &self,
        organization: OrganizationId,
        grant: GrantId,
        counters: Vec<BudgetCounter>,
    ) -> Result<BudgetSpend, StoreError> {
        let spent = self
            .with_connection(async move |conn| {
                let outcome = conn
                    .transaction(async move |conn| {
                        let grant = DbId::from(grant);
                        let exists: Option<DbId> = grants::table
                            .filter(grants::organization_id.eq(DbId::from(organization)))
                            .filter(grants::id.eq(grant))
                            .select(grants::id)
                            .get_result(conn)
                            .await
                            .optional()?;
                        if exists.is_none() {
                            return Err(SpendAbort::Failed(Abort(StoreError::NotFound)));
                        }
                        for c in &counters {
                            diesel::sql_query(FORGET_EARLIER)
                                .bind::<Id, _>(grant)
                                .bind::<diesel::sql_types::Text, _>(c.name)
                                .bind::<diesel::sql_types::BigInt, _>(c.start)
                                .execute(conn)
                                .await?;
                            let counted: Option<Used> = diesel::sql_query(SPEND)
                                .bind::<Id, _>(grant)
                                .bind::<diesel::sql_types::Text, _>(c.name)
                                .bind::<diesel::sql_types::BigInt, _>(c.start)
                                .bind::<diesel::sql_types::BigInt, _>(c.cap)
                                .get_result(conn)
                                .await
                                .optional()?;
                            // At the cap: roll back what this spend counted in other windows.
                            if counted.is_none() {
                                return Err(SpendAbort::Exhausted(c.window));
                            }
                        }
                        Ok(())
                    })
                    .await;
                match outcome {
                    Ok(()) => Ok(BudgetSpend::Spent),
                    Err(SpendAbort::Exhausted(window)) => Ok(BudgetSpend::Exhausted(window)),
                    Err(SpendAbort::Failed(Abort(error))) => Err(error),
                }
            })
            .await?;
        Ok(spent)
    }

    async fn save_connection_rows(
        &self,
        row: ConnectionRow,
        expected: Expected,
        audit: Option<AuditEventRow>,
    ) -> Result<bool, StoreError> {
        // Connections are not cached: nothing to forget or announce.
        self.with_connection(async move |conn| {
            conn.transaction(async move |conn| {
                // The credential must be the organization's; the foreign key then keeps it
                // from going while the row is written.
                let owned: Option<DbId> = credentials::table
                    .filter(credentials::organization_id.eq(row.organization_id))
                    .filter(credentials::id.eq(row.credential_id))
                    .select(credentials::id)
                    .get_result(conn)
                    .await
                    .optional()?;
                if owned.is_none() {
                    return Err(Abort(StoreError::NotFound));
                }
                // Each a compare-and-set in one statement: of two racing writers, the
                // second waits for the first's row (or key) lock, then finds the row
                // changed (or there) and writes nothing.
                let written =
                    match expected.generation {
                        // A row already there (connected meanwhile) is no error.
                        None => {
                            diesel::insert_into(oauth_connections::table)
                                .values(&row)
                                .on_conflict(oauth_connections::credential_id)
                                .do_nothing()
                                .execute(conn)
                                .await?
                        }
                        Some(generation) => {
                            let stored = oauth_connections::table
                                .filter(oauth_connections::credential_id.eq(row.credential_id))
                                .filter(oauth_connections::organization_id.eq(row.organization_id))
                                .filter(oauth_connections::generation.eq(generation));
                            match expected.holder {
                                Some(holder) => {
                                    diesel::update(stored.filter(
                                        oauth_connections::lease_holder.eq(DbId::from(holder)),
                                    ))
                                    .set(row.into_update())
                                    .execute(conn)
                                    .await?
                                }
                                None => {
                                    diesel::update(stored)
                                        .set(row.into_update())
                                        .execute(conn)
                                        .await?
                                }
                            }
                        }
                    };
                if written != 1 {
                    return Ok(false);
                }
                if let Some(audit) = &audit {
                    record(conn, audit).await?;
                }
                Ok(true)
            })
            .await
            .map_err(|Abort(error)| error)
        })
        .await
    }

    async fn cut_chain_rows(&self, checkpoint: CheckpointRow) -> Result<u64, StoreError> {
        let key = checkpoint.chain_key.decode("audit_checkpoints.chain_key")?;
        self.with_connection(async move |conn| {
            conn.transaction(async move |conn| {
                // Independent statements: sent together (pipelined), committed together.
                // Neither takes the chain's head: events written meanwhile go on the chain
                // past the cut.
                let shared: &AsyncPgConnection = conn;
                // The cut's checkpoint replaces one already at that number (a periodic
                // one, or this cut's, retried): verification starts after the latest
                // retention checkpoint, so the cut must be on record as one.
                let keep = async {
                    let mut conn = shared;
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
                        .execute(&mut conn)
                        .await
                };
                let cut = async {
                    let mut conn = shared;
                    let delete = diesel::delete(
                        audit_events::table.filter(audit_events::chain_seq.le(checkpoint.seq)),
                    )
                    .into_boxed();
                    // The installation's chain is that of the events of no organization.
                    let delete = if key.is_nil() {
                        delete.filter(audit_events::organization_id.is_null())
                    } else {
                        delete.filter(audit_events::organization_id.eq(checkpoint.chain_key))
                    };
                    delete.execute(&mut conn).await
                };
                let (_, deleted) = futures::try_join!(keep, cut)?;
                Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
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
///
/// The database's trigger links the event to its chain, locking the chain's head row until
/// the commit. So in every transaction here that writes an audit event, this is the last
/// statement, after every other lock the transaction takes: last in each `try_join!`, whose
/// futures are polled in order, and diesel-async sends a statement on its first poll (or,
/// when it must be prepared first, once the statement cache, which the earlier statement
/// holds while it prepares, is free); the server runs a connection's statements in the
/// order they arrive. A transaction holding a head then waits for no other lock, so no
/// writer holding a lock it needs can be waiting for that head: no deadlock. (A
/// credential's create and update are one statement: see `credential_writes`.)
pub(crate) async fn record(conn: &AsyncPgConnection, audit: &AuditEventRow) -> QueryResult<usize> {
    let mut conn = conn;
    diesel::insert_into(audit_events::table)
        .values(audit)
        .execute(&mut conn)
        .await
}
