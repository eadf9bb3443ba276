//! Migrations: applied exactly once however many replicas race, idempotent, revertible,
//! and `schema_status` tells a database that needs them from one that is ahead of this
//! binary.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use vault_core::CredentialType;
use vault_core::logs::{AuditAction, LogRecord};
use vault_core::store::{CredentialStore, CredentialWrite, LogStore, OrganizationStore};
use vault_store_postgres::{PgOptions, PgStore, SchemaStatus, testing};
use vault_testkit::store_suite::{
    sample_audit_event, sample_change_audit, sample_credential, sample_organization,
    sample_request_log, sample_version,
};

#[path = "migrations/latest.rs"]
mod latest;

/// The migrations under `migrations/postgres`, by version.
const VERSIONS: [&str; 19] = [
    "20251126000000",
    "20261126000000",
    "20261127000000",
    "20261128000000",
    "20261206070000",
    "20261206071400",
    "20261206072500",
    "20261206100000",
    "20261206130000",
    "20261206131000",
    "20261207000000",
    "20261207100000",
    "20261207200000",
    "20261208000000",
    "20261209000000",
    "20261210000000",
    "20261211000000",
    "20261212000000",
    "20261213000000",
];

const INITIAL_UP: &str =
    include_str!("../../../migrations/postgres/2025-11-26-000000_initial/up.sql");
const INITIAL_DOWN: &str =
    include_str!("../../../migrations/postgres/2025-11-26-000000_initial/down.sql");
const LOGS_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-11-26-000000_logs/down.sql");
const VERSIONS_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-11-27-000000_versions/down.sql");
const IDENTITY_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-11-28-000000_identity/down.sql");
const DESTINATIONS_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-06-070000_destinations/down.sql");
const BINDING_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-06-071400_access_key_binding/down.sql");

const AUDIT_COUNT_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-06-072500_audit_count/down.sql");

const CREDENTIAL_CHANGES_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-06-100000_credential_changes/down.sql");

const FASTER_WRITES_DOWN: &str = include_str!(
    "../../../migrations/postgres/2026-12-06-131000_faster_credential_writes/down.sql"
);

const GRANTS_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-07-100000_grants/down.sql");

const USE_ALL_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-07-200000_use_all/down.sql");

const CONNECTIONS_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-08-000000_connections/down.sql");

const KEYRING_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-09-000000_keyring/down.sql");

const AUDIT_CHAIN_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-10-000000_audit_chain/down.sql");

const AUDIT_SINK_CURSORS_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-11-000000_audit_sink_cursors/down.sql");

const WEBHOOKS_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-12-000000_webhooks/down.sql");

const EXPORT_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-13-000000_export/down.sql");

const CONNECTION_TABLES: &str = "SELECT count(*) AS count FROM information_schema.tables \
     WHERE table_schema = 'public' \
       AND table_name IN ('oauth_connections', 'oauth_connect_states')";

const TYPE_NAMES_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-07-000000_credential_type_names/down.sql");

const SECRET_VERSION_UP: &str =
    include_str!("../../../migrations/postgres/2026-12-06-130000_secret_version/up.sql");
const SECRET_VERSION_DOWN: &str =
    include_str!("../../../migrations/postgres/2026-12-06-130000_secret_version/down.sql");

const SECRET_VERSION_COLUMN: &str = "SELECT count(*) AS count FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name = 'credentials' \
       AND column_name = 'secret_version'";

const CREDENTIAL_TRIGGERS: &str = "SELECT count(*) AS count FROM pg_trigger \
     WHERE tgname IN ('vault_credential_changed', 'vault_credential_truncated')";

const OCCURRENCES_COLUMN: &str = "SELECT count(*) AS count FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name = 'audit_events' \
       AND column_name = 'occurrences'";

const RESTORE_FLOOR_COLUMN: &str = "SELECT count(*) AS count FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name = 'credentials' \
       AND column_name = 'restore_floor'";

const BINDING_COLUMN: &str = "SELECT count(*) AS count FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name = 'access_keys' AND column_name = 'binding'";

const ACTOR_SUBJECT_COLUMNS: &str = "SELECT count(*) AS count FROM information_schema.columns \
     WHERE table_schema = 'public' AND column_name = 'actor_subject' \
       AND table_name IN ('audit_events', 'request_logs')";

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
       AND table_name IN ('organizations', 'credentials', 'access_keys', 'vault_meta', \
                          'request_logs', 'audit_events', 'credential_versions', \
                          'audit_chain_heads', 'audit_checkpoints', 'audit_sink_cursors', \
                          'webhooks', 'webhook_deliveries', 'webhook_reminders')";

/// How many tables `TABLES` counts when every migration is applied.
const TABLE_COUNT: i64 = 13;

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
    assert_eq!(
        count(&mut conn, TABLES).await,
        TABLE_COUNT,
        "every table exists"
    );
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
async fn the_schema_cascades_only_to_webhook_rows_and_reverts_cleanly() {
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
        16,
        "credentials, access keys, request logs, audit events, credential versions, grants, \
         connections, connect states and webhooks each reference their organization, credential \
         versions, grants, connections and connect states their credential, budget \
         counters their grant, webhook deliveries and reminders their webhook, and nothing \
         else is a foreign key (logs outlive credentials and keys)"
    );
    // 'a' is NO ACTION: nothing is ever deleted or nulled behind the caller's back, but a
    // webhook's deliveries and reminders, which its deletion deletes by contract.
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM pg_constraint \
             WHERE contype = 'f' AND (confdeltype <> 'a' OR confupdtype <> 'a')"
        )
        .await,
        2,
        "a foreign key cascades (or sets null/default)"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM pg_constraint \
             WHERE contype = 'f' AND confdeltype = 'c' AND confupdtype = 'a' \
               AND conrelid::regclass::text IN ('webhook_deliveries', 'webhook_reminders') \
               AND confrelid::regclass::text = 'webhooks'"
        )
        .await,
        2,
        "webhook deliveries and reminders are deleted with their webhook"
    );
    for index in [
        "credentials_organization_id",
        "credentials_organization_type_id",
        "credentials_organization_expires_at",
        "credentials_key_id",
        "access_keys_organization_id",
        "access_keys_key_hash_key",
        "request_logs_organization_id",
        "request_logs_organization_credential_id",
        "audit_events_organization_id",
        "audit_events_organization_action_id",
        "audit_events_organization_target_id",
        "credential_versions_pkey",
        "credential_versions_key_id",
        "oauth_connections_pkey",
        "oauth_connections_key_id",
        "oauth_connect_states_pkey",
        "oauth_connect_states_expires_at",
        "audit_events_organization_chain_seq",
        "audit_events_installation_chain_seq",
        "audit_chain_heads_pkey",
        "audit_checkpoints_pkey",
        "audit_sink_cursors_pkey",
        "webhooks_pkey",
        "webhooks_organization_id",
        "webhook_deliveries_pkey",
        "webhook_deliveries_due",
        "webhook_deliveries_webhook_id",
        "webhook_reminders_pkey",
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

    // Refused by the CHECK constraints: a value this schema cannot name.
    conn.batch_execute(
        "INSERT INTO organizations VALUES ('00000000-0000-7000-8000-000000000001', 'o', now())",
    )
    .await
    .expect("an organization");
    latest::exports_are_named_and_revert(&mut conn).await;
    latest::webhooks_refuse_what_they_cannot_name_and_revert(&mut conn).await;
    latest::audit_sink_cursors_refuse_what_they_cannot_name_and_revert(&mut conn).await;
    latest::audit_chains_are_linked_by_the_database_and_revert(&mut conn).await;
    for (bad, what) in [
        ("'credential.explode', 'success', NULL", "an unknown action"),
        ("'credential.use', 'maybe', NULL", "an unknown outcome"),
        ("'credential.use', 'success', ''", "an empty actor subject"),
    ] {
        let refused = conn
            .batch_execute(&format!(
                "INSERT INTO audit_events (id, organization_id, action, outcome, actor_subject, at) \
                 VALUES (gen_random_uuid(), '00000000-0000-7000-8000-000000000001', {bad}, now())"
            ))
            .await;
        assert!(refused.is_err(), "{what} was stored");
    }
    // A credential with a version: neither goes without the other behind the store's back.
    conn.batch_execute(
        "INSERT INTO credentials (id, organization_id, name, credential_type, public_fields, \
             secret_hints, sealed, key_id, created_at, updated_at, version) \
         VALUES ('00000000-0000-7000-8000-000000000002', \
             '00000000-0000-7000-8000-000000000001', 'c', 'bearer_token', \
             '{\"type\":\"bearer_token\"}', '{}', '\\x00', 'k', now(), now(), 1); \
         INSERT INTO credential_versions (credential_id, organization_id, number, sealed, \
             key_id, secret_hints, created_at) \
         VALUES ('00000000-0000-7000-8000-000000000002', \
             '00000000-0000-7000-8000-000000000001', 1, '\\x00', 'k', '{}', now())",
    )
    .await
    .expect("a credential with a version");
    for (refused, what) in [
        (
            "DELETE FROM credentials",
            "a credential deleted without its versions",
        ),
        (
            "UPDATE credential_versions SET number = 0",
            "a version number below 1",
        ),
        (
            "INSERT INTO credential_versions (credential_id, organization_id, number, sealed, \
                 key_id, secret_hints, created_at) \
             VALUES (gen_random_uuid(), '00000000-0000-7000-8000-000000000001', 1, \
                 '\\x00', 'k', '{}', now())",
            "a version of a credential that does not exist",
        ),
    ] {
        assert!(
            conn.batch_execute(refused).await.is_err(),
            "{what} was stored"
        );
    }
    // Type names are the application's list: any well-formed one is stored.
    let with_type = |name: &str| {
        format!(
            "INSERT INTO credentials (id, organization_id, name, credential_type, \
                 public_fields, secret_hints, sealed, key_id, created_at, updated_at, version) \
             VALUES (gen_random_uuid(), '00000000-0000-7000-8000-000000000001', 'n', '{name}', \
                 '{{}}', '{{}}', '\\x00', 'k', now(), now(), 1)"
        )
    };
    conn.batch_execute(&with_type("aws_sigv4"))
        .await
        .expect("a type this schema has never heard of");
    conn.batch_execute("DELETE FROM credentials WHERE credential_type = 'aws_sigv4'")
        .await
        .expect("and it goes");
    for bad in ["", "Api_Key", "api-key", "9lives", "api key"] {
        assert!(
            conn.batch_execute(&with_type(bad)).await.is_err(),
            "the type name {bad:?} was stored"
        );
    }
    // Grants: a grantee must be written as one, a permission is use or manage, a budget
    // counter counts at least one request; a grant goes before its credential.
    conn.batch_execute(
        "INSERT INTO grants (id, organization_id, credential_id, grantee, permission, rules, \
             created_at) \
         VALUES ('00000000-0000-7000-8000-000000000003', \
             '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000002', \
             'subject:alice', 'use', '{}', now())",
    )
    .await
    .expect("a grant");
    for (refused, what) in [
        (
            "UPDATE grants SET grantee = 'alice'",
            "a grantee of no kind",
        ),
        (
            "UPDATE grants SET permission = 'own'",
            "an unknown permission",
        ),
        (
            "INSERT INTO grant_usage VALUES \
             ('00000000-0000-7000-8000-000000000003', 'minute', 0, 0)",
            "a counter of nothing",
        ),
        (
            "INSERT INTO grant_usage VALUES \
             ('00000000-0000-7000-8000-000000000003', 'week', 0, 1)",
            "an unknown window",
        ),
        (
            "DELETE FROM credentials WHERE id = '00000000-0000-7000-8000-000000000002'",
            "a credential deleted without its grants",
        ),
    ] {
        assert!(
            conn.batch_execute(refused).await.is_err(),
            "{what} was stored"
        );
    }
    // The keyring: one row only, and no hand-over without its key id; reverted, the table
    // and the events of its actions go.
    conn.batch_execute(
        "INSERT INTO keyring (id, generation, manager, manager_key, wrapped, changed_at) \
         VALUES (1, 1, 'transit', 'transit key vault v1', '\\x00', now()); \
         INSERT INTO audit_events (id, organization_id, action, outcome, at) \
         VALUES (gen_random_uuid(), NULL, 'keyring.rotate', 'success', now())",
    )
    .await
    .expect("a keyring and an event of a keyring action");
    for (refused, what) in [
        (
            "INSERT INTO keyring (id, generation, manager, manager_key, wrapped, changed_at) \
             VALUES (2, 1, 'transit', 'k', '\\x00', now())",
            "a second keyring",
        ),
        (
            "UPDATE keyring SET handover = '\\x00'",
            "a hand-over without its key id",
        ),
    ] {
        assert!(
            conn.batch_execute(refused).await.is_err(),
            "{what} was stored"
        );
    }
    conn.batch_execute(KEYRING_DOWN)
        .await
        .expect("the keyring migration's down.sql runs, the events of its actions gone");
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM audit_events WHERE action LIKE 'keyring.%'"
        )
        .await,
        0
    );
    // Connections: a status this schema cannot name, a sealed value without its key id, a
    // lease without its end, a state hash of another length, are refused; a credential
    // goes only after its connection and connect states.
    conn.batch_execute(
        "INSERT INTO credentials (id, organization_id, name, credential_type, public_fields, \
             secret_hints, sealed, key_id, created_at, updated_at, version) \
         VALUES ('00000000-0000-7000-8000-000000000004', \
             '00000000-0000-7000-8000-000000000001', 'o', 'oauth2', '{}', '{}', '\\x00', \
             'k', now(), now(), 1); \
         INSERT INTO oauth_connections (credential_id, organization_id, status, generation, \
             sealed, key_id, connected_at, updated_at) \
         VALUES ('00000000-0000-7000-8000-000000000004', \
             '00000000-0000-7000-8000-000000000001', 'connected', 1, '\\x00', 'k', now(), \
             now()); \
         INSERT INTO oauth_connect_states (state_hash, organization_id, credential_id, \
             redirect_uri, expires_at) \
         VALUES (sha256('s'), '00000000-0000-7000-8000-000000000001', \
             '00000000-0000-7000-8000-000000000004', 'https://x', now()); \
         INSERT INTO audit_events (id, organization_id, action, outcome, at) \
         VALUES (gen_random_uuid(), '00000000-0000-7000-8000-000000000001', \
             'connection.lost', 'success', now())",
    )
    .await
    .expect("a connection, a connect state and an event of a connection action");
    for (refused, what) in [
        (
            "UPDATE oauth_connections SET status = 'pending'",
            "a pending connection row",
        ),
        (
            "UPDATE oauth_connections SET key_id = NULL",
            "sealed tokens without a key id",
        ),
        (
            "UPDATE oauth_connections SET lease_holder = gen_random_uuid()",
            "a lease without its end",
        ),
        (
            "UPDATE oauth_connect_states SET state_hash = '\\x00'",
            "a short state hash",
        ),
        (
            "DELETE FROM credentials WHERE id = '00000000-0000-7000-8000-000000000004'",
            "a credential deleted without its connection and connect states",
        ),
    ] {
        assert!(
            conn.batch_execute(refused).await.is_err(),
            "{what} was stored"
        );
    }
    conn.batch_execute(
        "DELETE FROM oauth_connect_states; DELETE FROM oauth_connections; \
         DELETE FROM credentials WHERE id = '00000000-0000-7000-8000-000000000004'",
    )
    .await
    .expect("a credential goes after its connection and connect states");
    conn.batch_execute(CONNECTIONS_DOWN)
        .await
        .expect("the connections migration's down.sql runs, the events of its actions gone");
    assert_eq!(
        count(&mut conn, CONNECTION_TABLES).await,
        0,
        "the connections migration's down.sql drops its tables"
    );
    conn.batch_execute(USE_ALL_DOWN)
        .await
        .expect("the use-all migration's down.sql runs");
    conn.batch_execute(GRANTS_DOWN)
        .await
        .expect("the grants migration's down.sql runs");
    conn.batch_execute(TYPE_NAMES_DOWN)
        .await
        .expect("the type-name migration's down.sql runs");
    assert!(
        conn.batch_execute(&with_type("aws_sigv4")).await.is_err(),
        "the down.sql puts back the first six types"
    );
    conn.batch_execute(FASTER_WRITES_DOWN)
        .await
        .expect("the faster-credential-writes migration's down.sql runs");
    // The secret-version migration numbers an existing credential after its newest version.
    conn.batch_execute(SECRET_VERSION_DOWN)
        .await
        .expect("the secret-version migration's down.sql runs");
    assert_eq!(
        count(&mut conn, SECRET_VERSION_COLUMN).await,
        0,
        "the secret-version migration's down.sql drops credentials.secret_version"
    );
    conn.batch_execute(
        "INSERT INTO credential_versions (credential_id, organization_id, number, sealed, \
             key_id, secret_hints, created_at) \
         VALUES ('00000000-0000-7000-8000-000000000002', \
             '00000000-0000-7000-8000-000000000001', 2, '\\x00', 'k', '{}', now())",
    )
    .await
    .expect("a second version");
    conn.batch_execute(SECRET_VERSION_UP)
        .await
        .expect("the secret-version migration's up.sql runs again");
    assert_eq!(
        count(
            &mut conn,
            "SELECT secret_version AS count FROM credentials \
             WHERE id = '00000000-0000-7000-8000-000000000002'"
        )
        .await,
        2,
        "an existing credential's secret_version is its newest version's number"
    );
    conn.batch_execute(
        "DELETE FROM credential_versions; DELETE FROM credentials; DELETE FROM organizations",
    )
    .await
    .expect("the organization goes again");

    conn.batch_execute(SECRET_VERSION_DOWN)
        .await
        .expect("the secret-version migration's down.sql runs");
    assert_eq!(count(&mut conn, CREDENTIAL_TRIGGERS).await, 2);
    conn.batch_execute(CREDENTIAL_CHANGES_DOWN)
        .await
        .expect("the credential-changes migration's down.sql runs");
    assert_eq!(
        count(&mut conn, CREDENTIAL_TRIGGERS).await,
        0,
        "the credential-changes migration's down.sql drops its triggers"
    );
    assert_eq!(count(&mut conn, OCCURRENCES_COLUMN).await, 1);
    conn.batch_execute(AUDIT_COUNT_DOWN)
        .await
        .expect("the audit-count migration's down.sql runs");
    assert_eq!(
        count(&mut conn, OCCURRENCES_COLUMN).await,
        0,
        "the audit-count migration's down.sql drops audit_events.occurrences"
    );
    assert_eq!(count(&mut conn, BINDING_COLUMN).await, 1);
    conn.batch_execute(BINDING_DOWN)
        .await
        .expect("the access-key binding migration's down.sql runs");
    assert_eq!(
        count(&mut conn, BINDING_COLUMN).await,
        0,
        "the access-key binding migration's down.sql drops access_keys.binding"
    );
    assert_eq!(count(&mut conn, RESTORE_FLOOR_COLUMN).await, 1);
    conn.batch_execute(DESTINATIONS_DOWN)
        .await
        .expect("the destinations migration's down.sql runs");
    assert_eq!(
        count(&mut conn, RESTORE_FLOOR_COLUMN).await,
        0,
        "the destinations migration's down.sql drops credentials.restore_floor"
    );
    assert_eq!(count(&mut conn, ACTOR_SUBJECT_COLUMNS).await, 2);
    conn.batch_execute(IDENTITY_DOWN)
        .await
        .expect("the identity migration's down.sql runs");
    assert_eq!(
        count(&mut conn, ACTOR_SUBJECT_COLUMNS).await,
        0,
        "the identity migration's down.sql drops both actor_subject columns"
    );
    conn.batch_execute(VERSIONS_DOWN)
        .await
        .expect("the versions migration's down.sql runs");
    assert_eq!(
        count(&mut conn, TABLES).await,
        6,
        "the versions migration's down.sql drops its table"
    );
    conn.batch_execute(LOGS_DOWN)
        .await
        .expect("the logs migration's down.sql runs");
    assert_eq!(
        count(&mut conn, TABLES).await,
        4,
        "the logs migration's down.sql drops its two tables"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM information_schema.columns \
             WHERE table_name = 'credentials' AND column_name = 'allowed_hosts'"
        )
        .await,
        0,
        "the logs migration's down.sql drops credentials.allowed_hosts"
    );
    conn.batch_execute(INITIAL_DOWN)
        .await
        .expect("the initial down.sql runs");
    assert_eq!(
        count(&mut conn, TABLES).await,
        0,
        "the down.sql files drop every table"
    );
}

/// A database migrated by the first release, with a credential in it, takes the later
/// migrations: the credential reads back with no allowed hosts and no versions, and the new
/// tables work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initial_schema_with_data_upgrades() {
    let Some(database) = testing::empty_database().await else {
        return;
    };
    let organization = sample_organization();
    let mut credential = sample_credential(organization.id, CredentialType::ApiKey);
    {
        // The first release's schema and bookkeeping, as diesel_migrations leaves them.
        let mut conn = raw(database.url()).await;
        conn.batch_execute(INITIAL_UP)
            .await
            .expect("the initial up.sql");
        conn.batch_execute(
            "CREATE TABLE __diesel_schema_migrations ( \
                 version VARCHAR(50) PRIMARY KEY NOT NULL, \
                 run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP); \
             INSERT INTO __diesel_schema_migrations (version) VALUES ('20251126000000');",
        )
        .await
        .expect("the migrations table");
    }
    let store = PgStore::connect(database.url(), PgOptions::default())
        .await
        .expect("a store on the old schema");
    assert_eq!(
        store.schema_status().await.expect("schema_status"),
        SchemaStatus::Pending(VERSIONS[1..].iter().map(|v| (*v).to_owned()).collect()),
        "every migration after the first is pending"
    );
    store
        .insert_organization(&organization)
        .await
        .expect("insert_organization on the old schema");
    {
        // The first release wrote credentials without the column.
        let c = &credential.credential;
        let mut conn = raw(database.url()).await;
        conn.batch_execute(&format!(
            "INSERT INTO credentials (id, organization_id, name, description, credential_type, \
                 public_fields, secret_hints, sealed, key_id, expires_at, created_at, \
                 updated_at, version) \
             VALUES ('{}', '{}', 'old', NULL, 'api_key', '{}', '{{}}', '\\x00', 'k', NULL, \
                 now(), now(), 1)",
            c.id,
            c.organization_id,
            serde_json::to_string(&c.kind).expect("JSON"),
        ))
        .await
        .expect("a credential in the old schema");
    }

    assert_eq!(
        PgStore::migrate(database.url()).await.expect("migrate"),
        VERSIONS.len() - 1
    );
    assert_eq!(
        store.schema_status().await.expect("schema_status"),
        SchemaStatus::UpToDate
    );
    let got = store
        .get_credential(organization.id, credential.credential.id)
        .await
        .expect("the old credential reads back");
    assert!(
        got.credential.allowed_hosts.is_empty(),
        "an old credential is allowed nowhere until someone names its hosts"
    );
    assert_eq!(
        got.secret_version, 0,
        "a credential stored before versions existed has no secret version"
    );
    assert!(
        store
            .list_versions(organization.id, credential.credential.id)
            .await
            .expect("list_versions of the old credential")
            .is_empty(),
        "a credential stored before versions existed has none"
    );

    credential.credential.id = vault_core::CredentialId::new();
    let version = sample_version(&credential, 1);
    let created = sample_change_audit(
        organization.id,
        AuditAction::CredentialCreate,
        *credential.credential.id.as_uuid(),
    );
    store
        .insert_credential(
            &credential,
            &CredentialWrite {
                versions: std::slice::from_ref(&version),
                keep_versions: 10,
                audit: &created,
            },
        )
        .await
        .expect("a new credential");
    assert_eq!(
        store
            .get_version(organization.id, credential.credential.id, 1)
            .await
            .expect("its version"),
        version
    );
    assert_eq!(
        store
            .get_credential(organization.id, credential.credential.id)
            .await
            .expect("get")
            .credential
            .allowed_hosts,
        credential.credential.allowed_hosts
    );
    let entry = sample_request_log(organization.id, credential.credential.id);
    store
        .append_log(LogRecord::Request(entry))
        .await
        .expect("append_log of a request-log entry after the upgrade");
    let event = sample_audit_event(Some(organization.id));
    store
        .append_log(LogRecord::Audit(event))
        .await
        .expect("append_log of an audit event after the upgrade");
    store.close();
}

/// Keys that held every scope before `credentials:route` existed (the bootstrap admin) gain
/// it on upgrade, so they keep doing everything; no other key gains it. Keys with
/// `credentials:use` gain `credentials:use-all` when grants arrive, their binding cleared
/// for the vault to bind again; no other key gains it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_gain_the_scopes_that_keep_them_working_on_upgrade() {
    let Some(database) = testing::empty_database().await else {
        return;
    };
    PgStore::migrate(database.url()).await.expect("migrate");
    let mut conn = raw(database.url()).await;
    // Back to the schema of the release before: the later down.sql files, newest first.
    for down in [
        EXPORT_DOWN,
        WEBHOOKS_DOWN,
        AUDIT_SINK_CURSORS_DOWN,
        AUDIT_CHAIN_DOWN,
        KEYRING_DOWN,
        CONNECTIONS_DOWN,
        USE_ALL_DOWN,
        GRANTS_DOWN,
        TYPE_NAMES_DOWN,
        FASTER_WRITES_DOWN,
        SECRET_VERSION_DOWN,
        CREDENTIAL_CHANGES_DOWN,
        AUDIT_COUNT_DOWN,
        BINDING_DOWN,
        DESTINATIONS_DOWN,
    ] {
        conn.batch_execute(down).await.expect("a down.sql");
    }
    conn.batch_execute(
        "DELETE FROM __diesel_schema_migrations WHERE version >= '20261206070000'; \
         INSERT INTO organizations VALUES ('0193a000-0000-7000-8000-000000000001', 'old', now()); \
         INSERT INTO access_keys (id, organization_id, name, key_hash, scopes, created_at) VALUES \
           (gen_random_uuid(), '0193a000-0000-7000-8000-000000000001', 'admin', \
            sha256('a'), '[\"credentials:read\",\"credentials:write\",\"access-keys:manage\",\"credentials:use\",\"audit:read\",\"keys:read\"]', now()), \
           (gen_random_uuid(), '0193a000-0000-7000-8000-000000000001', 'writer', \
            sha256('w'), '[\"credentials:read\",\"credentials:write\",\"credentials:use\"]', now()), \
           (gen_random_uuid(), '0193a000-0000-7000-8000-000000000001', 'reader', \
            sha256('r'), '[\"credentials:read\"]', now());",
    )
    .await
    .expect("keys of the release before");
    assert_eq!(PgStore::migrate(database.url()).await.expect("migrate"), 15);
    for (name, gains) in [("admin", 1), ("writer", 0), ("reader", 0)] {
        let routes = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS count FROM access_keys, json_array_elements_text(scopes) AS s \
                 WHERE name = '{name}' AND s = 'credentials:route'"
            ),
        )
        .await;
        assert_eq!(routes, gains, "{name}");
        let use_all = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS count FROM access_keys, json_array_elements_text(scopes) AS s \
                 WHERE name = '{name}' AND s = 'credentials:use-all' AND binding IS NULL"
            ),
        )
        .await;
        assert_eq!(use_all, i64::from(name != "reader"), "{name}");
    }
}
