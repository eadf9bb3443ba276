//! The audit chain's tamper checks (vault-testkit's `audit_tamper_conformance!`): each on
//! a fresh SQLite file, changed behind the store's back through a raw connection of its
//! own, as anyone who can write the file could.

use std::sync::{Mutex, PoisonError};

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Nullable, Text};
use tempfile::TempDir;
use uuid::Uuid;
use vault_core::audit_chain::AuditChain;
use vault_core::ids::OrganizationId;
use vault_store_sqlite::SqliteStore;
use vault_testkit::store_suite::{Guarded, Tamper};

/// A raw connection to the store's file, outside the store.
struct RawFile(Mutex<SqliteConnection>);

impl RawFile {
    fn open(path: &str) -> Self {
        let mut conn = SqliteConnection::establish(path).expect("a raw connection");
        // Waits for the store's writer rather than failing; foreign keys as the store has
        // them, so a move to an organization that does not exist is refused.
        conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
            .expect("the raw connection's pragmas");
        Self(Mutex::new(conn))
    }

    /// Runs `run` in a transaction of its own, which must say it changed `rows` rows.
    fn change(
        &self,
        what: &str,
        rows: usize,
        run: impl FnOnce(&mut SqliteConnection) -> QueryResult<usize>,
    ) {
        let mut conn = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let changed = conn
            .immediate_transaction(run)
            .unwrap_or_else(|error| panic!("{what}: {error}"));
        assert_eq!(changed, rows, "{what}: not the rows expected");
    }
}

fn id(uuid: &Uuid) -> &[u8] {
    uuid.as_bytes().as_slice()
}

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = BigInt)]
    chain_seq: i64,
}

/// The chain number of event `event`.
fn seq_of(conn: &mut SqliteConnection, event: &Uuid) -> QueryResult<i64> {
    diesel::sql_query("SELECT chain_seq FROM audit_events WHERE id = ?")
        .bind::<Binary, _>(id(event))
        .get_result::<Seq>(conn)
        .map(|row| row.chain_seq)
}

impl Tamper for RawFile {
    async fn set_reason(&self, event: Uuid, reason: &str) {
        self.change("set_reason", 1, |conn| {
            diesel::sql_query("UPDATE audit_events SET reason = ? WHERE id = ?")
                .bind::<Text, _>(reason)
                .bind::<Binary, _>(id(&event))
                .execute(conn)
        });
    }

    async fn delete_event(&self, event: Uuid) {
        self.change("delete_event", 1, |conn| {
            diesel::sql_query("DELETE FROM audit_events WHERE id = ?")
                .bind::<Binary, _>(id(&event))
                .execute(conn)
        });
    }

    async fn swap_numbers(&self, a: Uuid, b: Uuid) {
        self.change("swap_numbers", 3, |conn| {
            let set = |event: &Uuid, to: i64, conn: &mut SqliteConnection| {
                diesel::sql_query("UPDATE audit_events SET chain_seq = ? WHERE id = ?")
                    .bind::<BigInt, _>(to)
                    .bind::<Binary, _>(id(event))
                    .execute(conn)
            };
            let (first, second) = (seq_of(conn, &a)?, seq_of(conn, &b)?);
            // Through a number no event has: the unique index on (organization, number)
            // refuses two events sharing one even for a moment. The largest there is, as
            // the column's CHECK refuses numbers below 1.
            Ok(set(&a, i64::MAX, conn)? + set(&b, first, conn)? + set(&a, second, conn)?)
        });
    }

    async fn move_event(&self, event: Uuid, to: OrganizationId) {
        self.change("move_event", 1, |conn| {
            diesel::sql_query("UPDATE audit_events SET organization_id = ? WHERE id = ?")
                .bind::<Binary, _>(to.as_bytes().as_slice())
                .bind::<Binary, _>(id(&event))
                .execute(conn)
        });
    }

    async fn cut_tail(&self, chain: AuditChain, from: u64) {
        let from = i64::try_from(from).expect("a small number");
        let key = chain.key();
        // The organization of the chain's events (none for the installation's), compared
        // with `IS`, which NULL matches.
        let organization = chain.organization().map(|o| o.as_bytes().to_vec());
        let mut conn = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        conn.immediate_transaction(|conn| {
            diesel::sql_query(
                "DELETE FROM audit_events WHERE organization_id IS ? AND chain_seq >= ?",
            )
            .bind::<Nullable<Binary>, _>(&organization)
            .bind::<BigInt, _>(from)
            .execute(conn)?;
            diesel::sql_query("DELETE FROM audit_checkpoints WHERE chain_key = ? AND seq >= ?")
                .bind::<Binary, _>(id(&key))
                .bind::<BigInt, _>(from)
                .execute(conn)?;
            // The head record made to match the event before, or gone with the chain.
            diesel::sql_query("DELETE FROM audit_chain_heads WHERE chain_key = ?")
                .bind::<Binary, _>(id(&key))
                .execute(conn)?;
            diesel::sql_query(
                "INSERT INTO audit_chain_heads (chain_key, seq, hash, previous_hash) \
                 SELECT ?, chain_seq, chain_hash, previous_hash FROM audit_events \
                 WHERE organization_id IS ? AND chain_seq = ?",
            )
            .bind::<Binary, _>(id(&key))
            .bind::<Nullable<Binary>, _>(&organization)
            .bind::<BigInt, _>(from - 1)
            .execute(conn)
        })
        .unwrap_or_else(|error: diesel::result::Error| panic!("cut_tail: {error}"));
    }
}

/// A store on a new file, and a raw connection to the same file.
async fn store_and_tamper() -> Option<(Guarded<SqliteStore, TempDir>, RawFile)> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let path = path.to_str().expect("a UTF-8 temporary path");
    let store = SqliteStore::open(path).await.expect("a fresh SQLite store");
    let tamper = RawFile::open(path);
    Some((Guarded { store, guard: dir }, tamper))
}

vault_testkit::audit_tamper_conformance!(store_and_tamper());
