//! The store conformance suite, each check on a database of its own, cloned from the
//! process's migrated template. Skipped (loudly) when PostgreSQL is not reachable, unless
//! `VAULT_REQUIRE_POSTGRES=1`.

use vault_store_postgres::PgStore;
use vault_store_postgres::testing::{self, TestDatabase};
use vault_testkit::store_suite::Guarded;

/// A store on a fresh database, dropped after the store; `None` when PostgreSQL is not
/// reachable (the harness has said so on stderr).
async fn fresh_store() -> Option<Guarded<PgStore, TestDatabase>> {
    let (store, guard) = testing::fresh_store().await?;
    Some(Guarded { store, guard })
}

vault_testkit::store_conformance!(skip_unless: fresh_store());

/// Beyond the suite: a job's exclusion holds across sessions, as between two replicas.
/// While another session holds the job's advisory lock, `exclusive` skips at once without
/// running its batch (another job still runs); while a batch runs, no other session can
/// take the lock; afterwards nothing is held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_held_by_another_session_is_skipped_and_released_after_each_batch() {
    use diesel::sql_types::Bool;
    use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
    use vault_core::store::{JobName, JobStore as _};
    use vault_store_postgres::job_lock_key;

    let Some((store, database)) = testing::fresh_store().await else {
        return;
    };
    let job = JobName::new("log-retention");
    let key = job_lock_key(job);
    let mut replica = AsyncPgConnection::establish(database.url())
        .await
        .expect("a second session");
    async fn try_lock(conn: &mut AsyncPgConnection, sql: String) -> bool {
        diesel::select(diesel::dsl::sql::<Bool>(&sql))
            .get_result::<bool>(conn)
            .await
            .expect("an advisory-lock call")
    }

    assert!(try_lock(&mut replica, format!("pg_try_advisory_lock({key})")).await);
    let mut ran = false;
    let skipped = store
        .exclusive(job, || async {
            ran = true;
            Ok(())
        })
        .await
        .expect("no error");
    assert_eq!(skipped, None, "a held job ran");
    assert!(!ran, "a held job's batch ran");
    let other = store
        .exclusive(JobName::new("another-job"), || async { Ok(1) })
        .await
        .expect("no error");
    assert_eq!(other, Some(1), "another job was held off");
    assert!(try_lock(&mut replica, format!("pg_advisory_unlock({key})")).await);

    let taken_meanwhile = store
        .exclusive(job, || async {
            Ok(try_lock(&mut replica, format!("pg_try_advisory_lock({key})")).await)
        })
        .await
        .expect("no error");
    assert_eq!(
        taken_meanwhile,
        Some(false),
        "another session took the job's lock while a batch ran"
    );
    assert!(
        try_lock(&mut replica, format!("pg_try_advisory_lock({key})")).await,
        "the job's lock stayed held after its batch"
    );
}
