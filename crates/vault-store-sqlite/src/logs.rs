//! Log appends: entries queue for the store's writer (writers.rs), which inserts a group's
//! entries in the group's transaction.

use diesel::prelude::*;
use vault_core::store::StoreError;
use vault_store_sql::error::{Abort, from_diesel};
use vault_store_sql::rows::{AuditEventRow, RequestLogRow};
use vault_store_sql::schema::request_logs;

use crate::audit_chain::insert_audit_event;
use crate::prepared::Prepared;

/// An entry of either log, encoded, waiting for the writer.
pub(crate) enum LogRow {
    Audit(AuditEventRow),
    Request(RequestLogRow),
}

/// Inserts a group's entries, inside the writer's transaction: one insert per entry (an
/// audit event's between reading and moving its chain's head, audit_chain.rs), each
/// prepared once per connection. A refused statement changes nothing (SQLite undoes it by
/// itself), so an entry whose id exists fails alone, with no savepoint. Each entry's
/// outcome, in the order given.
pub(crate) fn insert_logs(
    conn: &mut SqliteConnection,
    rows: impl Iterator<Item = LogRow>,
) -> Vec<Result<(), StoreError>> {
    rows.map(|row| match row {
        LogRow::Audit(row) => insert_audit_event(conn, row).map_err(|Abort(error)| error),
        LogRow::Request(row) => Prepared(diesel::insert_into(request_logs::table).values(&row))
            .run(conn)
            .map(drop)
            .map_err(from_diesel),
    })
    .collect()
}
