//! Migrations: applied exactly once however many replicas race, idempotent, revertible,
//! and `schema_status` tells a database that needs them from one that is ahead of this
//! binary.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use vault_store_postgres::{PgOptions, PgStore, SchemaStatus, testing};

/// The migrations under `migrations/postgres`, by version.
const VERSIONS: [&str; 1] = ["20251126000000"];

const DOWN: &str = include_str!("../../../migrations/postgres/2025-11-26-000000_initial/down.sql");

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .count
}

async fn raw(url: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(url)
        .await
        .expect("a raw connection")
}

const TABLES: &str = "SELECT count(*) AS count FROM information_schema.tables \
     WHERE table_schema = 'public' \
       AND table_name IN ('organizations', 'credentials', 'access_keys', 'vault_meta')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_migrations_apply_each_migration_once() {
    let Some(database) = testing::empty_database().await else {
        return;
    };
    let url = database.url().to_owned();
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgStore::migrate(&url).await })
        })
        .collect();
    let mut applied = Vec::new();
    for racer in racers {
        applied.push(
            racer
                .await
                .expect("the migrating task")
                .unwrap_or_else(|error| panic!("a racing migrate failed: {error:?}")),
        );
    }
    assert_eq!(
        applied.iter().sum::<usize>(),
        VERSIONS.len(),
        "the racers together applied each migration once: {applied:?}"
    );
    assert_eq!(
        applied.iter().filter(|&&n| n > 0).count(),
        1,
        "one racer applied them, the others found nothing to do: {applied:?}"
    );

    for _ in 0..2 {
        assert_eq!(
            PgStore::migrate(&url).await.expect("a repeated migrate"),
            0,
            "a repeated migrate applies nothing"
        );
    }
    let mut conn = raw(&url).await;
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM __diesel_schema_migrations"
        )
        .await,
        i64::try_from(VERSIONS.len()).expect("a small number"),
        "exactly one row per migration"
    );
    assert_eq!(count(&mut conn, TABLES).await, 4, "every table exists");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_status_tells_pending_up_to_date_and_newer() {
    let Some(database) = testing::empty_database().await else {
        return;
    };
    let store = PgStore::connect(database.url(), PgOptions::default())
        .await
        .expect("a store on the empty database");
    assert_eq!(
        store.schema_status().await.expect("schema_status"),
        SchemaStatus::Pending(VERSIONS.map(str::to_owned).to_vec()),
        "an empty database (no migrations table) lacks every migration"
    );

    assert_eq!(
        PgStore::migrate(database.url()).await.expect("migrate"),
        VERSIONS.len()
    );
    assert_eq!(
        store.schema_status().await.expect("schema_status"),
        SchemaStatus::UpToDate
    );

    let mut conn = raw(database.url()).await;
    conn.batch_execute(
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('99991231235959')",
    )
    .await
    .expect("a migration from the future");
    assert_eq!(
        store.schema_status().await.expect("schema_status"),
        SchemaStatus::Newer(vec!["99991231235959".to_owned()]),
        "a database migrated by a newer release"
    );
    assert_eq!(
        PgStore::migrate(database.url())
            .await
            .expect("migrate still runs"),
        0,
        "migrate applies nothing to a database that has everything this binary knows"
    );
    store.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_has_no_cascades_and_reverts_cleanly() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let mut conn = raw(database.url()).await;
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM pg_constraint WHERE contype = 'f'"
        )
        .await,
        2,
        "credentials and access keys each reference their organization"
    );
    // 'a' is NO ACTION: nothing is ever deleted or nulled behind the caller's back.
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM pg_constraint \
             WHERE contype = 'f' AND (confdeltype <> 'a' OR confupdtype <> 'a')"
        )
        .await,
        0,
        "a foreign key cascades (or sets null/default)"
    );
    for index in [
        "credentials_organization_id",
        "credentials_organization_type_id",
        "credentials_organization_expires_at",
        "credentials_key_id",
        "access_keys_organization_id",
        "access_keys_key_hash_key",
    ] {
        assert_eq!(
            count(
                &mut conn,
                &format!(
                    "SELECT count(*) AS count FROM pg_indexes \
                     WHERE schemaname = 'public' AND indexname = '{index}'"
                )
            )
            .await,
            1,
            "index {index}"
        );
    }

    conn.batch_execute(DOWN).await.expect("down.sql runs");
    assert_eq!(
        count(&mut conn, TABLES).await,
        0,
        "down.sql drops every table"
    );
}
