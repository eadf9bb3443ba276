//! The audit log's hash chains on SQLite (vault-core's `audit_chain`): every audit event
//! is linked in Rust, on the writer thread, inside the transaction that inserts it. Only
//! the writer thread writes, so the chain's head cannot change between reading it and
//! updating it: no lock, no retry. The head is read from the database each time rather
//! than kept in memory, so that a savepoint (or a whole group) rolled back takes its head
//! update with it, and a file written by another process (`keys rewrap`) is followed.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel::upsert::excluded;
use vault_core::audit_chain::ChainHash;
use vault_store_sql::columns::undecodable;
use vault_store_sql::error::Abort;
use vault_store_sql::rows::{AuditEventRow, ChainHeadRow};
use vault_store_sql::schema::{audit_chain_heads, audit_events};

use crate::prepared::Prepared;

/// Inserts audit event `row` as the next event of its chain: reads the chain's head, links
/// the row after it, inserts the row, then moves the head to it. Every insert into
/// `audit_events` goes through here.
///
/// The event is inserted before the head moves, so an event refused (its id exists:
/// `Conflict`) leaves the chain as it was, with no savepoint: SQLite undoes a refused
/// statement by itself, and log appends rely on that (logs.rs). Should moving the head
/// fail after the insert, the event is deleted again, for the same reason: a log append
/// has no savepoint to roll back, and an event left behind the head would take the next
/// event's number.
///
/// # Errors
/// The insert's error (`Conflict` for an existing id), or the head's.
pub(crate) fn insert_audit_event(
    conn: &mut SqliteConnection,
    mut row: AuditEventRow,
) -> Result<(), Abort> {
    let key = row.chain_key();
    let head: Option<(i64, Vec<u8>)> = audit_chain_heads::table
        .find(key)
        .select((audit_chain_heads::seq, audit_chain_heads::hash))
        .get_result(conn)
        .optional()?;
    let head = head
        .map(|(seq, hash)| {
            let seq = u64::try_from(seq).map_err(|_| undecodable("audit_chain_heads.seq"))?;
            let hash = ChainHash::try_from(hash.as_slice())
                .map_err(|_| undecodable("audit_chain_heads.hash"))?;
            Ok::<_, Abort>((seq, hash))
        })
        .transpose()?;
    let link = row.link_after(head)?;
    Prepared(diesel::insert_into(audit_events::table).values(&row)).run(conn)?;
    let head = ChainHeadRow {
        chain_key: key,
        seq: row.chain_seq.unwrap_or_default(),
        hash: link.hash.to_vec(),
        previous_hash: link.previous.to_vec(),
    };
    let moved = Prepared(
        diesel::insert_into(audit_chain_heads::table)
            .values(&head)
            .on_conflict(audit_chain_heads::chain_key)
            .do_update()
            .set((
                audit_chain_heads::seq.eq(excluded(audit_chain_heads::seq)),
                audit_chain_heads::hash.eq(excluded(audit_chain_heads::hash)),
                audit_chain_heads::previous_hash.eq(excluded(audit_chain_heads::previous_hash)),
            )),
    )
    .run(conn);
    if let Err(error) = moved {
        // Best effort: if this fails too, the connection is failing and the transaction
        // with it.
        let _ = diesel::delete(audit_events::table.find(row.id)).execute(conn);
        return Err(error.into());
    }
    Ok(())
}
