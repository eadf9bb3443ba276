//! A credential write as one statement: the row, its version rows, the pruning of old
//! versions and the audit event, as data-modifying `WITH` parts of a single command. One
//! round trip instead of five (`BEGIN`, the row, the history, the pruning, `COMMIT`), and
//! still atomic: a command is its own transaction, and the foreign keys are checked at
//! its end, when the credential and its versions are both there (or both gone).
//!
//! An update's history is written only if its compare-and-swap wrote the row: the history
//! parts select from the row part's `RETURNING`, so they insert nothing when it matched
//! nothing. All parts see the snapshot from before the command, so the pruning counts
//! only the versions that existed before it (see [`Pruning`]).

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Binary, Bool, Nullable, Text};
use vault_store_sql::rows::{AuditEventRow, VersionRow};
use vault_store_sql::types::{DbId, Id, Instant, Json};

/// How a write keeps a credential's newest `keep_versions` versions, counting its own.
/// Its own versions are the newest (their numbers follow the existing ones, or the write
/// fails), so it keeps the newest `keep` of its own and, of the existing ones, the newest
/// `keep` minus as many as it adds.
pub(crate) struct Pruning {
    /// How many of the write's own versions to insert: the newest this many.
    insert: usize,
    /// How many of the existing versions to keep, if any are to be deleted.
    keep_existing: Option<i64>,
}

impl Pruning {
    /// `keep_versions` of 0 keeps every version.
    pub(crate) fn new(keep_versions: usize, adding: usize) -> Self {
        if keep_versions == 0 {
            return Self {
                insert: adding,
                keep_existing: None,
            };
        }
        let insert = adding.min(keep_versions);
        let keep = i64::try_from(keep_versions - insert).unwrap_or(i64::MAX);
        Self {
            insert,
            keep_existing: Some(keep),
        }
    }

    /// The versions to insert, of the write's (oldest first).
    fn inserted<'a>(&self, versions: &'a [VersionRow]) -> &'a [VersionRow] {
        &versions[versions.len() - self.insert.min(versions.len())..]
    }
}

/// The statement: `change` (an `INSERT` or the compare-and-swap `UPDATE` of the credential
/// row, returning its id), then its history, then whether it wrote and whether the
/// credential exists: `(written rows, exists)`.
pub(crate) struct CredentialStatement<'a> {
    pub(crate) change: &'a (dyn QueryFragment<Pg> + Send + Sync),
    pub(crate) organization: DbId,
    pub(crate) id: DbId,
    pub(crate) versions: &'a [VersionRow],
    pub(crate) pruning: Pruning,
    pub(crate) audit: &'a AuditEventRow,
}

impl QueryFragment<Pg> for CredentialStatement<'_> {
    /// Prepared once per connection and text. diesel refuses to cache any `UPDATE`, and
    /// any `INSERT` with a nullable column, because their text may vary without bound;
    /// this one's takes a few forms only (a nullable column bound or `DEFAULT`, how many
    /// versions, whether it prunes), and preparing it anew costs the server a parse and a
    /// plan on every write.
    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }

    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH changed AS (");
        self.change.walk_ast(out.reborrow())?;
        out.push_sql(")");
        let inserted = self.pruning.inserted(self.versions);
        if !inserted.is_empty() {
            out.push_sql(
                ", versions AS (INSERT INTO credential_versions (credential_id, \
                 organization_id, number, secret_hints, created_at, created_by, \
                 restored_from, sealed, key_id) ",
            );
            for (i, version) in inserted.iter().enumerate() {
                if i > 0 {
                    out.push_sql(" UNION ALL ");
                }
                out.push_sql("SELECT ");
                push_version(&mut out, version)?;
                out.push_sql(" FROM changed");
            }
            out.push_sql(")");
        }
        if let Some(keep) = &self.pruning.keep_existing {
            // Every version at or below the number of the (keep + 1)-th newest; with keep
            // or fewer the subquery is NULL, which nothing compares true with. The EXISTS
            // is evaluated once, first: nothing is locked unless the change wrote.
            out.push_sql(", pruned AS (DELETE FROM credential_versions WHERE credential_id = ");
            out.push_bind_param::<Id, _>(&self.id)?;
            out.push_sql(
                " AND number <= (SELECT number FROM credential_versions \
                 WHERE credential_id = ",
            );
            out.push_bind_param::<Id, _>(&self.id)?;
            out.push_sql(" ORDER BY number DESC OFFSET ");
            out.push_bind_param::<BigInt, _>(keep)?;
            out.push_sql(" LIMIT 1)");
            // Never a number being inserted: its insert must fail as taken, not replace it.
            if let Some(lowest) = inserted.iter().map(|version| &version.info.number).min() {
                out.push_sql(" AND number < ");
                out.push_bind_param::<BigInt, _>(lowest)?;
            }
            out.push_sql(" AND EXISTS (SELECT 1 FROM changed))");
        }
        // The audit part's trigger locks the chain's head to the commit (see
        // `changes::record`). It selects from `changed`, so the credential row is locked
        // (or its id taken) first. The version parts may run after it, but they touch only
        // this credential's versions, and every other writer of those (a write or delete
        // of the same credential) takes that row lock first, so none can hold them while
        // waiting for the head.
        out.push_sql(
            ", audit AS (INSERT INTO audit_events (id, organization_id, actor, action, target, \
             outcome, reason, at, actor_subject, occurrences, via, digest) SELECT ",
        );
        push_audit(&mut out, self.audit)?;
        out.push_sql(
            " FROM changed) SELECT (SELECT count(*) FROM changed), EXISTS (SELECT 1 FROM \
             credentials WHERE organization_id = ",
        );
        out.push_bind_param::<Id, _>(&self.organization)?;
        out.push_sql(" AND id = ");
        out.push_bind_param::<Id, _>(&self.id)?;
        out.push_sql(")");
        Ok(())
    }
}

fn push_version<'b>(out: &mut AstPass<'_, 'b, Pg>, version: &'b VersionRow) -> QueryResult<()> {
    let info = &version.info;
    out.push_bind_param::<Id, _>(&version.credential_id)?;
    out.push_sql(", ");
    out.push_bind_param::<Id, _>(&version.organization_id)?;
    out.push_sql(", ");
    out.push_bind_param::<BigInt, _>(&info.number)?;
    out.push_sql(", ");
    out.push_bind_param::<Json, _>(&info.secret_hints)?;
    out.push_sql(", ");
    out.push_bind_param::<Instant, _>(&info.created_at)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Id>, _>(&info.created_by)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<BigInt>, _>(&info.restored_from)?;
    out.push_sql(", ");
    out.push_bind_param::<Binary, _>(&version.sealed)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&version.key_id)
}

fn push_audit<'b>(out: &mut AstPass<'_, 'b, Pg>, audit: &'b AuditEventRow) -> QueryResult<()> {
    out.push_bind_param::<Id, _>(&audit.id)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Id>, _>(&audit.organization_id)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Id>, _>(&audit.actor)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&audit.action)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Id>, _>(&audit.target)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&audit.outcome)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Text>, _>(&audit.reason)?;
    out.push_sql(", ");
    out.push_bind_param::<Instant, _>(&audit.at)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Text>, _>(&audit.actor_subject)?;
    out.push_sql(", ");
    out.push_bind_param::<BigInt, _>(&audit.occurrences)?;
    // Every field the digest covers is written, so that the stored row matches it.
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Text>, _>(&audit.via)?;
    // The link's columns are the database's to fill in (its trigger).
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Binary>, _>(&audit.digest)
}

impl QueryId for CredentialStatement<'_> {
    type QueryId = ();
    // Prepared and cached by its text, which varies only with the number of versions and
    // whether it prunes.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for CredentialStatement<'_> {
    type SqlType = (BigInt, Bool);
}
