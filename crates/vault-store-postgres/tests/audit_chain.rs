//! The audit log's hash chains on PostgreSQL, where the database links each event (the
//! `audit_chain` migration's trigger): the tamper checks of the store suite, each on a
//! database of its own; the trigger's own contract; and two replicas writing one chain.
//! Skipped (loudly) when PostgreSQL is not reachable, unless `VAULT_REQUIRE_POSTGRES=1`.

use std::collections::HashMap;

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use uuid::Uuid;
use vault_audit::{CheckpointSigner, verify_chains};
use vault_core::CredentialType;
use vault_core::audit_chain::{AuditChain, AuditChainStore as _};
use vault_core::ids::OrganizationId;
use vault_core::logs::{AuditAction, LogRecord};
use vault_core::store::{CredentialStore as _, CredentialWrite, LogStore as _};
use vault_store_postgres::testing::{self, TestDatabase};
use vault_store_postgres::{PgOptions, PgStore};
use vault_store_sql::rows::AuditEventRow;
use vault_store_sql::schema::audit_events;
use vault_testkit::store_suite::{
    Guarded, Tamper, new_organization, sample_audit_event, sample_change_audit, sample_credential,
    sample_version,
};

/// Changes the rows with plain SQL on a session of its own, as someone with write access to
/// the database would, constraints and all (they are the schema's, and the tampering
/// below keeps within them, as an intruder who wants to go unnoticed would).
struct PgTamper {
    url: String,
}

impl PgTamper {
    async fn session(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("a tampering session")
    }
}

/// Runs `sql` with `event` bound as `$1`; how many rows it changed.
async fn on_event(conn: &mut AsyncPgConnection, sql: &str, event: Uuid) -> usize {
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::Uuid, _>(event)
        .execute(conn)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

#[derive(diesel::QueryableByName)]
struct Seq {
    #[diesel(sql_type = BigInt)]
    chain_seq: i64,
}

impl Tamper for PgTamper {
    async fn set_reason(&self, event: Uuid, reason: &str) {
        let changed = diesel::sql_query("UPDATE audit_events SET reason = $2 WHERE id = $1")
            .bind::<diesel::sql_types::Uuid, _>(event)
            .bind::<Text, _>(reason)
            .execute(&mut self.session().await)
            .await
            .expect("an UPDATE of the reason");
        assert_eq!(changed, 1, "no event {event}");
    }

    async fn delete_event(&self, event: Uuid) {
        let mut conn = self.session().await;
        let deleted = on_event(&mut conn, "DELETE FROM audit_events WHERE id = $1", event).await;
        assert_eq!(deleted, 1, "no event {event}");
    }

    async fn swap_numbers(&self, a: Uuid, b: Uuid) {
        let mut conn = self.session().await;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let seq = async |conn: &mut AsyncPgConnection, id: Uuid| {
                diesel::sql_query("SELECT chain_seq FROM audit_events WHERE id = $1")
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .get_result::<Seq>(conn)
                    .await
                    .map(|row| row.chain_seq)
            };
            let (seq_a, seq_b) = (seq(conn, a).await?, seq(conn, b).await?);
            // Through a free number: a chain's numbers are unique at every row written.
            for (id, to) in [(a, i64::MAX), (b, seq_a), (a, seq_b)] {
                diesel::sql_query("UPDATE audit_events SET chain_seq = $2 WHERE id = $1")
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .bind::<BigInt, _>(to)
                    .execute(conn)
                    .await?;
            }
            Ok(())
        })
        .await
        .expect("a swap of two events' numbers");
    }

    async fn move_event(&self, event: Uuid, to: OrganizationId) {
        let moved = diesel::sql_query("UPDATE audit_events SET organization_id = $2 WHERE id = $1")
            .bind::<diesel::sql_types::Uuid, _>(event)
            .bind::<diesel::sql_types::Uuid, _>(*to.as_uuid())
            .execute(&mut self.session().await)
            .await
            .expect("an UPDATE of the organization");
        assert_eq!(moved, 1, "no event {event}");
    }

    async fn cut_tail(&self, chain: AuditChain, from: u64) {
        let from = i64::try_from(from).expect("a small number");
        let mut conn = self.session().await;
        // The chain's key of an event: its organization, or nil for the installation.
        let of_chain = |e: &str| format!("coalesce({e}organization_id, '{}')", Uuid::nil());
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            for sql in [
                format!(
                    "DELETE FROM audit_events WHERE {} = $1 AND chain_seq >= $2",
                    of_chain("")
                ),
                "DELETE FROM audit_checkpoints WHERE chain_key = $1 AND seq >= $2".to_owned(),
                // The head record made to say the chain ends just before; none left when
                // nothing is.
                format!(
                    "UPDATE audit_chain_heads AS head \
                     SET seq = e.chain_seq, hash = e.chain_hash, previous_hash = e.previous_hash \
                     FROM audit_events AS e \
                     WHERE head.chain_key = $1 AND {} = $1 AND e.chain_seq = $2 - 1",
                    of_chain("e.")
                ),
                "DELETE FROM audit_chain_heads WHERE chain_key = $1 AND $2 <= 1".to_owned(),
            ] {
                diesel::sql_query(sql)
                    .bind::<diesel::sql_types::Uuid, _>(chain.key())
                    .bind::<BigInt, _>(from)
                    .execute(conn)
                    .await?;
            }
            Ok(())
        })
        .await
        .expect("a cut of the chain's tail");
    }
}

/// A store on a fresh database, and a tamperer of the same database.
async fn fresh() -> Option<(Guarded<PgStore, TestDatabase>, PgTamper)> {
    let (store, database) = testing::fresh_store().await?;
    let tamper = PgTamper {
        url: database.url().to_owned(),
    };
    Some((
        Guarded {
            store,
            guard: database,
        },
        tamper,
    ))
}

vault_testkit::audit_tamper_conformance!(fresh());

fn signer() -> CheckpointSigner {
    CheckpointSigner::generate().expect("a checkpoint signer")
}

/// `chain`'s events, checked to be numbered 1, 2, 3, ... with no gap or repeat; their
/// numbers by id.
async fn numbers(store: &PgStore, chain: AuditChain) -> HashMap<Uuid, u64> {
    let events = store
        .chain_events(chain, 0, 100_000)
        .await
        .expect("chain_events");
    let mut numbers = HashMap::new();
    for (i, event) in events.into_iter().enumerate() {
        let link = event.chain.expect("a linked event");
        assert_eq!(link.seq, i as u64 + 1, "{chain}: a gap or a repeat");
        numbers.insert(event.id, link.seq);
    }
    numbers
}

/// Verifies `chain` (no checkpoints), and returns its last number.
async fn verifies(store: &PgStore, chain: AuditChain) -> u64 {
    let signer = signer();
    let reports = verify_chains(store, signer.public_key(), Some(chain), &[])
        .await
        .expect("verify_chains");
    let report = &reports[0];
    assert_eq!(report.broken, None, "{report:?}");
    assert_eq!(report.first, Some(1), "{report:?}");
    report.last.expect("a chain with events")
}

/// The trigger's contract, with statements the vault does not send: whatever link a row
/// comes with is replaced by the database's; a row without a 32-byte digest is refused; a
/// transaction rolled back takes its number with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_links_every_insert_and_a_rollback_takes_its_number() {
    let Some((store, database)) = testing::fresh_store().await else {
        return;
    };
    let org = new_organization(&store).await;
    let chain = AuditChain::Organization(org);
    let first = sample_audit_event(Some(org));
    store
        .append_log(LogRecord::Audit(first.clone()))
        .await
        .expect("append_log");
    let mut conn = AsyncPgConnection::establish(database.url())
        .await
        .expect("a session");

    // Inserted, chained, then rolled back: the head's update goes with it.
    let rolled_back = sample_audit_event(Some(org));
    let outcome = conn
        .transaction::<(), _, _>(async |conn| {
            diesel::insert_into(audit_events::table)
                .values(AuditEventRow::encode(&rolled_back).expect("a row"))
                .execute(conn)
                .await
                .expect("an insert inside the transaction");
            Err(diesel::result::Error::RollbackTransaction)
        })
        .await;
    assert!(outcome.is_err(), "the transaction was not rolled back");

    // A row that brings a link of its own: the database's replaces it.
    let forged = sample_audit_event(Some(org));
    let mut row = AuditEventRow::encode(&forged).expect("a row");
    row.chain_seq = Some(99);
    row.previous_hash = Some(vec![7; 32]);
    row.chain_hash = Some(vec![7; 32]);
    diesel::insert_into(audit_events::table)
        .values(row)
        .execute(&mut conn)
        .await
        .expect("an insert with a forged link");

    for digest in [None, Some(vec![1; 31])] {
        let mut row = AuditEventRow::encode(&sample_audit_event(Some(org))).expect("a row");
        row.digest = digest;
        let refused = diesel::insert_into(audit_events::table)
            .values(row)
            .execute(&mut conn)
            .await;
        let error = refused.expect_err("an event without a 32-byte digest was stored");
        assert!(
            error.to_string().contains("32-byte digest"),
            "refused for another reason: {error}"
        );
    }

    let numbers = numbers(&store, chain).await;
    assert_eq!(numbers.get(&first.id), Some(&1));
    assert_eq!(
        numbers.get(&forged.id),
        Some(&2),
        "the rolled-back event kept its number, or the forged one its own"
    );
    assert!(!numbers.contains_key(&rolled_back.id));
    assert_eq!(numbers.len(), 2);
    assert_eq!(verifies(&store, chain).await, 2);
    store.close();
}

/// Two stores on one database, as two replicas have, each with `max_connections`.
async fn two_replicas(url: &str, max_connections: usize) -> Vec<PgStore> {
    let options = PgOptions {
        max_connections,
        ..PgOptions::default()
    };
    let mut replicas = Vec::new();
    for _ in 0..2 {
        replicas.push(
            PgStore::connect(url, options.clone())
                .await
                .expect("a replica"),
        );
    }
    replicas
}

/// Two replicas on one database write one organization's audit events at once: 4 tasks
/// each appending 50 events through the group-committing log writer, and 2 tasks each
/// creating 10 credentials (one statement with its audit event). The chain is numbered
/// 1..N with no gap or repeat whichever replica wrote what, each writer's events are in
/// the order it wrote them, and the chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_write_one_gapless_chain() {
    const APPENDERS: usize = 4;
    const APPENDS: usize = 50;
    const CREATORS: usize = 2;
    const CREATES: usize = 10;

    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let replicas = two_replicas(database.url(), 8).await;
    let org = new_organization(&replicas[0]).await;
    let chain = AuditChain::Organization(org);

    let mut writers = Vec::new();
    for replica in &replicas {
        for _ in 0..APPENDERS {
            let store = replica.clone();
            writers.push(tokio::spawn(async move {
                let mut ids = Vec::with_capacity(APPENDS);
                for _ in 0..APPENDS {
                    let event = sample_audit_event(Some(org));
                    ids.push(event.id);
                    store
                        .append_log(LogRecord::Audit(event))
                        .await
                        .expect("append_log");
                }
                ids
            }));
        }
        for _ in 0..CREATORS {
            let store = replica.clone();
            writers.push(tokio::spawn(async move {
                let mut ids = Vec::with_capacity(CREATES);
                for _ in 0..CREATES {
                    let credential = sample_credential(org, CredentialType::ApiKey);
                    let version = sample_version(&credential, 1);
                    let audit = sample_change_audit(
                        org,
                        AuditAction::CredentialCreate,
                        *credential.credential.id.as_uuid(),
                    );
                    ids.push(audit.id);
                    store
                        .insert_credential(
                            &credential,
                            &CredentialWrite {
                                versions: std::slice::from_ref(&version),
                                keep_versions: 10,
                                audit: &audit,
                            },
                        )
                        .await
                        .expect("insert_credential");
                }
                ids
            }));
        }
    }
    let mut written = Vec::new();
    for writer in writers {
        written.push(writer.await.expect("a writer task"));
    }

    let total = 2 * (APPENDERS * APPENDS + CREATORS * CREATES);
    let numbers = numbers(&replicas[1], chain).await;
    assert_eq!(numbers.len(), total, "events missing from the chain");
    for ids in &written {
        let seqs: Vec<u64> = ids
            .iter()
            .map(|id| {
                *numbers
                    .get(id)
                    .unwrap_or_else(|| panic!("event {id} is not chained"))
            })
            .collect();
        assert!(
            seqs.windows(2).all(|pair| pair[0] < pair[1]),
            "a writer's events are not numbered in the order it wrote them: {seqs:?}"
        );
    }
    let head = replicas[0]
        .chain_heads()
        .await
        .expect("chain_heads")
        .into_iter()
        .find(|head| head.chain == chain)
        .expect("the chain's head");
    assert_eq!(head.seq, total as u64);
    assert_eq!(verifies(&replicas[0], chain).await, total as u64);
    for replica in &replicas {
        replica.close();
    }
}

/// Batches of several chains' events, two in flight per replica on two replicas, each
/// batch's chains in another order than it was appended in: the batches take the chains'
/// heads in one order (the log writer sorts them), so none deadlocks (PostgreSQL would
/// abort one of a cycle, failing its appends), and every chain is gapless, in each
/// writer's order, and verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_of_several_chains_never_deadlock() {
    const WRITERS: usize = 8;
    const APPENDS: usize = 60;

    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let replicas = two_replicas(database.url(), 4).await;
    let chains = [
        AuditChain::Organization(new_organization(&replicas[0]).await),
        AuditChain::Installation,
        AuditChain::Organization(new_organization(&replicas[0]).await),
    ];
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let store = replicas[writer % 2].clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::with_capacity(APPENDS);
            for i in 0..APPENDS {
                // Each writer goes round the chains from another one: a batch holds them
                // in every order.
                let chain = chains[(writer + i) % chains.len()];
                let event = sample_audit_event(chain.organization());
                ids.push((chain, event.id));
                store
                    .append_log(LogRecord::Audit(event))
                    .await
                    .expect("append_log");
            }
            ids
        }));
    }
    let mut written = Vec::new();
    for writer in writers {
        written.push(writer.await.expect("a writer task"));
    }
    for chain in chains {
        let numbers = numbers(&replicas[0], chain).await;
        assert_eq!(numbers.len(), WRITERS * APPENDS / chains.len(), "{chain}");
        for ids in &written {
            let seqs: Vec<u64> = ids
                .iter()
                .filter(|(of, _)| *of == chain)
                .map(|(_, id)| numbers[id])
                .collect();
            assert!(
                seqs.windows(2).all(|pair| pair[0] < pair[1]),
                "{chain}: a writer's events are not numbered in its order: {seqs:?}"
            );
        }
        assert_eq!(
            verifies(&replicas[1], chain).await,
            (WRITERS * APPENDS / chains.len()) as u64
        );
    }
    for replica in &replicas {
        replica.close();
    }
}
