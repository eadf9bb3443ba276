//! What is written survives closing and reopening the file; opening runs migrations once,
//! however often and however concurrently it happens.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Text};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::{ExposeSecret, SecretString};
use vault_cipher_ring::{KeyEncryptionKey, RingCipher};
use vault_core::logs::{AuditAction, AuditEvent, AuditQuery, LogRecord, RequestLogQuery};
use vault_core::store::{
    AccessKeyStore, CredentialStore, CredentialWrite, ListQuery, LogStore, MetaStore,
    OrganizationStore,
};
use vault_core::{CredentialFields, CredentialType, OpenError, Principal, SystemClock, Vault};
use vault_store_sqlite::SqliteStore;
use vault_testkit::store_suite::{
    sample_access_key, sample_audit_event, sample_change_audit, sample_credential,
    sample_organization, sample_request_log, sample_sealed, sample_version,
};

#[path = "persistence/latest.rs"]
mod latest;

/// How many migrations `migrations/sqlite` holds.
const MIGRATIONS: i64 = 17;

/// How many migrations there were before issue 14's (up to the identity migration).
const BEFORE_ISSUE_14: i64 = 4;

/// The same migrations the store embeds, to build a database as an older release left it.
const EMBEDDED: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// `events` without their links, to compare with events as they were written.
fn unlinked(events: Vec<AuditEvent>) -> Vec<AuditEvent> {
    events
        .into_iter()
        .map(|event| AuditEvent {
            chain: None,
            ..event
        })
        .collect()
}

fn applied_migrations(path: &std::path::Path) -> i64 {
    let mut conn = SqliteConnection::establish(path.to_str().expect("a UTF-8 path"))
        .expect("a raw connection");
    diesel::select(diesel::dsl::sql::<BigInt>(
        "(SELECT COUNT(*) FROM __diesel_schema_migrations)",
    ))
    .get_result(&mut conn)
    .expect("the migrations table")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_every_record() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("nested").join("dirs").join("vault.db");
    let path_text = path.to_str().expect("a UTF-8 path").to_owned();

    let organization = sample_organization();
    let credential = sample_credential(organization.id, CredentialType::OAuth2);
    let version = sample_version(&credential, 1);
    let created = sample_change_audit(
        organization.id,
        AuditAction::CredentialCreate,
        *credential.credential.id.as_uuid(),
    );
    let key = sample_access_key(organization.id);
    let issued = sample_change_audit(
        organization.id,
        AuditAction::AccessKeyCreate,
        *key.key.id.as_uuid(),
    );
    let meta = sample_sealed();
    {
        // A missing parent directory is created.
        let store = SqliteStore::open(&path_text).await.expect("a fresh store");
        assert_eq!(store.path(), path, "path() names the file");
        store
            .insert_organization(&organization)
            .await
            .expect("insert_organization");
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
            .expect("insert_credential");
        store
            .insert_access_key(&key, &issued)
            .await
            .expect("insert_access_key");
        assert!(
            store
                .insert_meta_if_absent("persisted", &meta)
                .await
                .expect("insert_meta_if_absent"),
            "a fresh store has no meta"
        );
    }

    // Reopen through the URL form of the same absolute path.
    let store = SqliteStore::open(&format!("sqlite://{path_text}"))
        .await
        .expect("the store reopens");
    assert_eq!(store.path(), path);
    assert_eq!(store.count_organizations().await.expect("count"), 1);
    assert_eq!(
        store
            .get_credential(organization.id, credential.credential.id)
            .await
            .expect("the credential after reopening"),
        credential
    );
    let listed = store
        .list_credentials(
            organization.id,
            &ListQuery {
                limit: 10,
                ..ListQuery::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(listed, vec![credential.credential.clone()]);
    assert_eq!(
        store.find_access_key(&key.hash).await.expect("find"),
        Some(key)
    );
    assert_eq!(
        store.get_meta("persisted").await.expect("get_meta"),
        Some(meta)
    );
    assert_eq!(
        store
            .get_version(organization.id, credential.credential.id, 1)
            .await
            .expect("the version after reopening"),
        version
    );
    let mut events = store
        .list_audit_events(
            organization.id,
            &AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            },
        )
        .await
        .expect("list_audit_events");
    events.sort_by_key(|e| e.id);
    // Linked in the order written, which the reopened store keeps.
    assert_eq!(
        events
            .iter()
            .map(|e| e.chain.map(|link| link.seq))
            .collect::<Vec<_>>(),
        [Some(1), Some(2)],
        "the writes' audit events are not their chain"
    );
    assert_eq!(
        unlinked(events),
        vec![created, issued],
        "the writes' audit events"
    );
    assert_eq!(applied_migrations(&path), MIGRATIONS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_however_often_and_concurrently_the_file_is_opened() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let url = format!("sqlite://{}", path.to_str().expect("a UTF-8 path"));

    // Four openers race on a file that does not exist yet.
    let opened = futures_join_all(&url, 4).await;
    assert_eq!(opened, 4, "every concurrent open succeeds");
    for _ in 0..3 {
        SqliteStore::open(&url).await.expect("a repeated open");
    }
    assert_eq!(applied_migrations(&path), MIGRATIONS);
}

async fn futures_join_all(url: &str, n: usize) -> usize {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let url = url.to_owned();
            tokio::spawn(async move { SqliteStore::open(&url).await })
        })
        .collect();
    let mut opened = 0;
    for task in tasks {
        task.await
            .expect("the open task")
            .unwrap_or_else(|error| panic!("a concurrent open failed: {error:?}"));
        opened += 1;
    }
    opened
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_reopened_with_its_key_reads_its_secrets_and_refuses_another_key() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let url = path.to_str().expect("a UTF-8 path").to_owned();
    let kek = KeyEncryptionKey::generate().expect("a key-encryption key");
    let kek_text = kek.to_base64();

    let (organization_id, credential_id) = {
        let store = SqliteStore::open(&url).await.expect("a fresh store");
        let vault = Vault::open(store, RingCipher::new(kek, vec![]), SystemClock)
            .await
            .expect("the vault opens");
        let (organization, _admin) = vault
            .create_organization("persistent")
            .await
            .expect("an organization");
        let fields = CredentialFields {
            name: Some("persisted token".to_owned()),
            ..CredentialFields::default()
        }
        .with("value", Some(SecretString::from("persisted-secret-value")));
        let credential = vault
            .create_credential(
                &Principal::system(organization.id),
                CredentialType::BearerToken,
                &fields,
            )
            .await
            .expect("a credential");
        (organization.id, credential.id)
    };

    let same_key = KeyEncryptionKey::parse(kek_text.expose_secret()).expect("the same key");
    let store = SqliteStore::open(&url).await.expect("the store reopens");
    let vault = Vault::open(store, RingCipher::new(same_key, vec![]), SystemClock)
        .await
        .expect("the vault reopens with its key");
    let (_, secrets) = vault
        .open_credential(&Principal::system(organization_id), credential_id)
        .await
        .expect("the secret opens after reopening");
    let Some(value) = secrets.text("value") else {
        panic!("a bearer token's secrets are a value");
    };
    assert_eq!(value.expose_secret(), "persisted-secret-value");
    drop(vault);

    let store = SqliteStore::open(&url).await.expect("the store reopens");
    let other_key = KeyEncryptionKey::generate().expect("another key");
    let refused = Vault::open(store, RingCipher::new(other_key, vec![]), SystemClock).await;
    assert!(
        matches!(refused, Err(OpenError::WrongKey { .. })),
        "a vault with another key must refuse to open: {refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_the_binary_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let url = path.to_str().expect("a UTF-8 path").to_owned();
    drop(SqliteStore::open(&url).await.expect("a fresh store"));
    let mut conn = SqliteConnection::establish(&url).expect("a raw connection");
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')")
        .execute(&mut conn)
        .expect("a migration from the future");
    let error = SqliteStore::open(&url).await.expect_err("refused");
    let message = format!(
        "{error}: {}",
        std::error::Error::source(&error)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(
        message.contains("newer than this binary") && message.contains("29991231000000"),
        "{message}"
    );
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .count
}

const ALLOWED_HOSTS_COLUMN: &str =
    "SELECT count(*) AS count FROM pragma_table_info('credentials') WHERE name = 'allowed_hosts'";
const LOG_TABLES: &str = "SELECT count(*) AS count FROM sqlite_schema \
     WHERE type = 'table' AND name IN ('request_logs', 'audit_events')";
const VERSIONS_TABLE: &str = "SELECT count(*) AS count FROM sqlite_schema \
     WHERE type = 'table' AND name = 'credential_versions'";
const BINDING_COLUMN: &str =
    "SELECT count(*) AS count FROM pragma_table_info('access_keys') WHERE name = 'binding'";
const APPLIED: &str = "SELECT count(*) AS count FROM __diesel_schema_migrations";
const CONNECTION_TABLES: &str = "SELECT count(*) AS count FROM sqlite_schema \
     WHERE type = 'table' AND name IN ('oauth_connections', 'oauth_connect_states')";
const AUDIT_INDEXES: &str = "SELECT count(*) AS count FROM sqlite_schema \
     WHERE type = 'index' AND tbl_name = 'audit_events' AND name IN ( \
         'audit_events_organization_id', 'audit_events_organization_action_id', \
         'audit_events_organization_target_id')";
const AUDIT_EVENTS: &str = "SELECT count(*) AS count FROM audit_events";
/// What the audit chain migration adds: two tables, two indexes, four columns.
const CHAIN_SCHEMA: &str = "SELECT (SELECT count(*) FROM sqlite_schema WHERE name IN ( \
         'audit_chain_heads', 'audit_checkpoints', 'audit_events_organization_chain_seq', \
         'audit_events_installation_chain_seq')) \
     + (SELECT count(*) FROM pragma_table_info('audit_events') \
         WHERE name IN ('digest', 'chain_seq', 'previous_hash', 'chain_hash')) \
     AS count";
const SINK_CURSORS_TABLE: &str = "SELECT count(*) AS count FROM sqlite_schema \
     WHERE type = 'table' AND name = 'audit_sink_cursors'";
const WEBHOOK_TABLES: &str = "SELECT count(*) AS count FROM sqlite_schema \
     WHERE type = 'table' AND name IN ('webhooks', 'webhook_deliveries', 'webhook_reminders')";
const AUDIT_VIAS: &str = "SELECT count(*) AS count FROM audit_events WHERE via IS NOT NULL";

const ACTOR_SUBJECT_COLUMNS: &str = "SELECT (SELECT count(*) FROM pragma_table_info('audit_events') \
         WHERE name = 'actor_subject') \
     + (SELECT count(*) FROM pragma_table_info('request_logs') WHERE name = 'actor_subject') \
     AS count";

/// A file migrated by the first release, with a credential in it, takes the later
/// migrations on open: the credential reads back allowed nowhere and without versions, the
/// new tables work and refuse values they cannot name, a credential with versions cannot
/// be deleted behind the store's back, and the migrations revert cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initial_schema_with_data_upgrades_and_reverts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let url = path.to_str().expect("a UTF-8 path").to_owned();
    let organization = sample_organization();
    let credential = sample_credential(organization.id, CredentialType::ApiKey);
    {
        let mut conn = SqliteConnection::establish(&url).expect("a raw connection");
        conn.run_next_migration(EMBEDDED)
            .expect("the initial migration alone");
        assert_eq!(count(&mut conn, ALLOWED_HOSTS_COLUMN), 0);
        diesel::sql_query("INSERT INTO organizations VALUES (?, 'old', 0)")
            .bind::<Binary, _>(organization.id.as_bytes().as_slice())
            .execute(&mut conn)
            .expect("an organization in the old schema");
        diesel::sql_query(
            "INSERT INTO credentials (id, organization_id, name, description, credential_type, \
                 public_fields, secret_hints, sealed, key_id, expires_at, created_at, \
                 updated_at, version) \
             VALUES (?, ?, 'old', NULL, 'api_key', ?, '{}', x'00', 'k', NULL, 0, 0, 1)",
        )
        .bind::<Binary, _>(credential.credential.id.as_bytes().as_slice())
        .bind::<Binary, _>(organization.id.as_bytes().as_slice())
        .bind::<Text, _>(serde_json::to_string(&credential.credential.kind).expect("JSON"))
        .execute(&mut conn)
        .expect("a credential in the old schema");
    }

    let store = SqliteStore::open(&url)
        .await
        .expect("the store upgrades the file");
    assert_eq!(applied_migrations(&path), MIGRATIONS);
    let old = store
        .get_credential(organization.id, credential.credential.id)
        .await
        .expect("the old credential reads back");
    assert!(
        old.credential.allowed_hosts.is_empty(),
        "an old credential is allowed nowhere until someone names its hosts"
    );
    assert_eq!(
        old.secret_version, 0,
        "a credential stored before versions existed has no secret version"
    );
    let entry = sample_request_log(organization.id, credential.credential.id);
    store
        .append_log(LogRecord::Request(entry.clone()))
        .await
        .expect("append_log of a request-log entry");
    let event = sample_audit_event(Some(organization.id));
    store
        .append_log(LogRecord::Audit(event.clone()))
        .await
        .expect("append_log of an audit event");
    assert_eq!(
        store
            .list_request_logs(
                organization.id,
                &RequestLogQuery {
                    limit: 10,
                    ..RequestLogQuery::default()
                }
            )
            .await
            .expect("list_request_logs"),
        vec![entry]
    );
    assert_eq!(
        store
            .list_audit_events(
                organization.id,
                &AuditQuery {
                    limit: 10,
                    ..AuditQuery::default()
                }
            )
            .await
            .map(unlinked)
            .expect("list_audit_events"),
        vec![event]
    );
    assert!(
        store
            .list_versions(organization.id, credential.credential.id)
            .await
            .expect("list_versions of the old credential")
            .is_empty(),
        "a credential stored before versions existed has none"
    );
    // Its first change of secrets, as the vault writes it: the old values as version 1.
    let mut next = old.clone();
    next.credential.version = 2;
    let versions = [sample_version(&next, 1), sample_version(&next, 2)];
    let updated = sample_change_audit(
        organization.id,
        AuditAction::CredentialUpdate,
        *credential.credential.id.as_uuid(),
    );
    store
        .update_credential(
            organization.id,
            &next,
            1,
            &CredentialWrite {
                versions: &versions,
                keep_versions: 10,
                audit: &updated,
            },
        )
        .await
        .expect("update_credential with versions after the upgrade");
    assert_eq!(
        store
            .list_versions(organization.id, credential.credential.id)
            .await
            .expect("list_versions")
            .len(),
        2
    );
    drop(store);

    let mut conn = SqliteConnection::establish(&url).expect("a raw connection");
    conn.batch_execute("PRAGMA foreign_keys = ON;")
        .expect("foreign keys on, as the store's connections have them");
    latest::exports_are_named_and_revert(&mut conn);
    latest::webhooks_refuse_what_they_cannot_name_and_revert(&mut conn);
    // The audit-sink-cursor migration reverts next. Before: a cursor names a sink of 1 to
    // 100 characters, a 16-byte chain key and a number from 1, once per sink and chain.
    assert_eq!(count(&mut conn, SINK_CURSORS_TABLE), 1);
    let cursor = |sink: &str, key: &str, seq: &str| {
        format!(
            "INSERT INTO audit_sink_cursors (sink, chain_key, seq) VALUES ('{sink}', {key}, {seq})"
        )
    };
    diesel::sql_query(cursor("siem", "zeroblob(16)", "1"))
        .execute(&mut conn)
        .expect("a cursor of the installation's chain");
    diesel::sql_query(cursor(&"s".repeat(100), "zeroblob(16)", "1"))
        .execute(&mut conn)
        .expect("a sink name of 100 characters");
    for (refused, what) in [
        (cursor("", "zeroblob(16)", "1"), "a sink without a name"),
        (
            cursor(&"s".repeat(101), "zeroblob(16)", "1"),
            "a sink name of 101 characters",
        ),
        (
            cursor("archive", "zeroblob(15)", "1"),
            "a 15-byte chain key",
        ),
        (cursor("archive", "NULL", "1"), "a cursor of no chain"),
        (
            cursor("archive", "zeroblob(16)", "0"),
            "a cursor at number 0",
        ),
        (
            cursor("archive", "zeroblob(16)", "'one'"),
            "a number that is text (the table is STRICT)",
        ),
        (
            cursor("siem", "zeroblob(16)", "2"),
            "a second cursor of one sink in one chain",
        ),
    ] {
        assert!(
            diesel::sql_query(refused).execute(&mut conn).is_err(),
            "{what} was stored"
        );
    }
    conn.revert_last_migration(EMBEDDED)
        .expect("the audit-sink-cursor migration reverts");
    assert_eq!(count(&mut conn, SINK_CURSORS_TABLE), 0);
    // The audit chain migration reverts next: its tables, indexes and columns go, and the
    // events stay, chained ones included.
    let events = count(&mut conn, AUDIT_EVENTS);
    assert_eq!(count(&mut conn, CHAIN_SCHEMA), 8);
    assert!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM audit_events WHERE chain_seq IS NOT NULL"
        ) > 0,
        "events written by the store are chained"
    );
    conn.revert_last_migration(EMBEDDED)
        .expect("the audit chain migration reverts");
    assert_eq!(count(&mut conn, CHAIN_SCHEMA), 0);
    assert_eq!(count(&mut conn, AUDIT_EVENTS), events);
    // The keyring migration rebuilds the audit log too: reverted, its table and the
    // events of its actions go, every other event stays whole.
    let vias = count(&mut conn, AUDIT_VIAS);
    diesel::sql_query(
        "INSERT INTO audit_events (id, organization_id, action, outcome, at, via) \
         VALUES (randomblob(16), NULL, 'keyring.rotate', 'success', 0, NULL)",
    )
    .execute(&mut conn)
    .expect("an event of a keyring action");
    diesel::sql_query(
        "INSERT INTO keyring (id, generation, manager, manager_key, wrapped, changed_at) \
         VALUES (1, 1, 'transit', 'transit key vault v1', x'00', 0)",
    )
    .execute(&mut conn)
    .expect("a keyring");
    conn.revert_last_migration(EMBEDDED)
        .expect("the keyring migration reverts");
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM sqlite_schema WHERE name = 'keyring'"
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM audit_events WHERE action LIKE 'keyring.%'"
        ),
        0
    );
    assert_eq!(
        count(&mut conn, AUDIT_VIAS),
        vias,
        "the rebuilt log kept via"
    );
    assert_eq!(count(&mut conn, AUDIT_INDEXES), 3);
    // The connections migration rebuilds the audit log: reverted, the events of its
    // actions go and every other one stays whole (via included), with the log's indexes.
    assert_eq!(count(&mut conn, CONNECTION_TABLES), 2);
    assert!(vias > 0, "an event with a via");
    diesel::sql_query(
        "INSERT INTO audit_events (id, organization_id, action, outcome, at, via) \
         VALUES (randomblob(16), NULL, 'connection.lost', 'success', 0, 'x')",
    )
    .execute(&mut conn)
    .expect("an event of a connection action");
    conn.revert_last_migration(EMBEDDED)
        .expect("the connections migration reverts");
    assert_eq!(count(&mut conn, CONNECTION_TABLES), 0);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM audit_events WHERE action LIKE 'connection.%'"
        ),
        0
    );
    assert_eq!(
        count(&mut conn, AUDIT_VIAS),
        vias,
        "the rebuilt log kept via"
    );
    assert_eq!(count(&mut conn, AUDIT_INDEXES), 3);
    // The type-name migration rebuilds the credential and version tables, rows and all,
    // with foreign keys on; the secret-version migration numbers an existing credential
    // after its newest version.
    conn.revert_last_migration(EMBEDDED)
        .expect("the use-all migration reverts");
    conn.revert_last_migration(EMBEDDED)
        .expect("the grants migration reverts");
    conn.revert_last_migration(EMBEDDED)
        .expect("the type-name migration reverts");
    conn.revert_last_migration(EMBEDDED)
        .expect("the secret-version migration reverts");
    conn.run_next_migration(EMBEDDED)
        .expect("and applies again");
    conn.run_next_migration(EMBEDDED)
        .expect("the type-name migration applies again");
    conn.run_next_migration(EMBEDDED)
        .expect("the grants migration applies again, rebuilding the audit log with its rows");
    conn.run_next_migration(EMBEDDED)
        .expect("the use-all migration applies again");
    conn.run_next_migration(EMBEDDED)
        .expect("the connections migration applies again, rebuilding the audit log with its rows");
    conn.run_next_migration(EMBEDDED)
        .expect("the keyring migration applies again, rebuilding the audit log with its rows");
    conn.run_next_migration(EMBEDDED)
        .expect("the audit chain migration applies again, over the log's rows");
    conn.run_next_migration(EMBEDDED)
        .expect("the audit-sink-cursor migration applies again");
    assert_eq!(count(&mut conn, SINK_CURSORS_TABLE), 1);
    conn.run_next_migration(EMBEDDED)
        .expect("the webhooks migration applies again, rebuilding the audit log with its rows");
    assert_eq!(count(&mut conn, WEBHOOK_TABLES), 3);
    conn.run_next_migration(EMBEDDED)
        .expect("the export migration applies again, rebuilding the audit log with its rows");
    assert_eq!(count(&mut conn, APPLIED), MIGRATIONS);
    assert_eq!(count(&mut conn, AUDIT_INDEXES), 3);
    assert_eq!(count(&mut conn, CHAIN_SCHEMA), 8);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS count FROM audit_events WHERE chain_seq IS NULL"
        ),
        count(&mut conn, AUDIT_EVENTS),
        "the events written before are unchained"
    );
    // Chains: a link in part, a hash of another length, a number below 1 or taken in its
    // chain (the installation's too), a checkpoint of an unknown kind, are refused.
    let linked = |seq: &str, digest: &str, previous: &str, hash: &str| {
        format!(
            "INSERT INTO audit_events (id, organization_id, action, outcome, at, digest, \
                 chain_seq, previous_hash, chain_hash) \
             VALUES (randomblob(16), NULL, 'credential.use', 'success', 0, {digest}, {seq}, \
                 {previous}, {hash})"
        )
    };
    diesel::sql_query(linked(
        "1",
        "randomblob(32)",
        "zeroblob(32)",
        "randomblob(32)",
    ))
    .execute(&mut conn)
    .expect("a linked event of the installation's chain");
    for (refused, what) in [
        (
            linked("2", "randomblob(32)", "NULL", "randomblob(32)"),
            "a link without its previous hash",
        ),
        (
            linked("2", "NULL", "zeroblob(32)", "randomblob(32)"),
            "a link without its digest",
        ),
        (
            linked("2", "randomblob(32)", "zeroblob(32)", "randomblob(31)"),
            "a short hash",
        ),
        (
            linked("0", "randomblob(32)", "zeroblob(32)", "randomblob(32)"),
            "the number 0",
        ),
        (
            linked("1", "randomblob(32)", "zeroblob(32)", "randomblob(32)"),
            "a number taken",
        ),
        (
            "INSERT INTO audit_checkpoints (chain_key, seq, hash, at, kind, key_id, signature) \
             VALUES (zeroblob(16), 1, zeroblob(32), 0, 'weekly', 'k', x'00')"
                .to_owned(),
            "a checkpoint of an unknown kind",
        ),
        (
            "INSERT INTO audit_chain_heads (chain_key, seq, hash, previous_hash) \
             VALUES (zeroblob(16), 0, zeroblob(32), zeroblob(32))"
                .to_owned(),
            "a head at number 0",
        ),
    ] {
        assert!(
            diesel::sql_query(refused).execute(&mut conn).is_err(),
            "{what} was stored"
        );
    }
    // Connections: a status this schema cannot name, a sealed value without its key id, a
    // lease without its end, a state hash of another length, are refused.
    conn.batch_execute(
        "INSERT INTO oauth_connections (credential_id, organization_id, status, generation, \
             sealed, key_id, connected_at, updated_at) \
         SELECT id, organization_id, 'connected', 1, x'00', 'k', 0, 0 FROM credentials; \
         INSERT INTO oauth_connect_states (state_hash, organization_id, credential_id, \
             redirect_uri, expires_at) \
         SELECT randomblob(32), organization_id, id, 'https://x', 0 FROM credentials;",
    )
    .expect("a connection and a connect state");
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
            "UPDATE oauth_connections SET lease_holder = randomblob(16)",
            "a lease without its end",
        ),
        (
            "UPDATE oauth_connect_states SET state_hash = x'00'",
            "a short state hash",
        ),
    ] {
        assert!(
            diesel::sql_query(refused).execute(&mut conn).is_err(),
            "{what} was stored"
        );
    }
    diesel::sql_query("DELETE FROM oauth_connect_states")
        .execute(&mut conn)
        .expect("the connect state goes");
    diesel::sql_query("DELETE FROM oauth_connections")
        .execute(&mut conn)
        .expect("the connection goes");
    // Type names are the application's list: any well-formed one is stored.
    let with_type = |name: &str| {
        format!(
            "INSERT INTO credentials (id, organization_id, name, credential_type, \
                 public_fields, secret_hints, sealed, key_id, created_at, updated_at, version) \
             SELECT randomblob(16), organization_id, 'n', '{name}', '{{}}', '{{}}', x'00', 'k', \
                 0, 0, 1 FROM credentials LIMIT 1"
        )
    };
    diesel::sql_query(with_type("aws_sigv4"))
        .execute(&mut conn)
        .expect("a type this schema has never heard of");
    diesel::sql_query("DELETE FROM credentials WHERE credential_type = 'aws_sigv4'")
        .execute(&mut conn)
        .expect("and it goes");
    for bad in ["", "Api_Key", "api-key", "9lives", "api key"] {
        assert!(
            diesel::sql_query(with_type(bad))
                .execute(&mut conn)
                .is_err(),
            "the type name {bad:?} was stored"
        );
    }
    assert_eq!(
        count(&mut conn, "SELECT secret_version AS count FROM credentials"),
        2
    );
    assert!(
        diesel::sql_query("DELETE FROM credentials")
            .execute(&mut conn)
            .is_err(),
        "a credential with versions was deleted without them (a cascade, or no foreign key)"
    );
    assert!(
        diesel::sql_query("UPDATE credential_versions SET number = 0 WHERE number = 1")
            .execute(&mut conn)
            .is_err(),
        "a version number below 1 was stored"
    );
    for (bad, what) in [
        ("'credential.explode', 'success', NULL", "an unknown action"),
        ("'credential.use', 'maybe', NULL", "an unknown outcome"),
        ("'credential.use', 'success', ''", "an empty actor subject"),
    ] {
        let refused = diesel::sql_query(format!(
            "INSERT INTO audit_events (id, organization_id, action, outcome, actor_subject, at) \
             VALUES (randomblob(16), NULL, {bad}, 0)"
        ))
        .execute(&mut conn);
        assert!(refused.is_err(), "{what} was stored");
    }
    // Issue 14's migrations revert, newest first, down to the identity migration.
    assert_eq!(count(&mut conn, BINDING_COLUMN), 1);
    while count(&mut conn, APPLIED) > BEFORE_ISSUE_14 {
        conn.revert_last_migration(EMBEDDED)
            .expect("an issue 14 migration reverts");
    }
    assert_eq!(count(&mut conn, BINDING_COLUMN), 0);
    assert_eq!(count(&mut conn, ACTOR_SUBJECT_COLUMNS), 2);
    conn.revert_last_migration(EMBEDDED)
        .expect("the identity migration reverts");
    assert_eq!(count(&mut conn, ACTOR_SUBJECT_COLUMNS), 0);
    conn.revert_last_migration(EMBEDDED)
        .expect("the versions migration reverts");
    assert_eq!(count(&mut conn, VERSIONS_TABLE), 0);
    assert_eq!(count(&mut conn, LOG_TABLES), 2);
    conn.revert_last_migration(EMBEDDED)
        .expect("the logs migration reverts");
    assert_eq!(count(&mut conn, ALLOWED_HOSTS_COLUMN), 0);
    assert_eq!(count(&mut conn, LOG_TABLES), 0);
    conn.run_pending_migrations(EMBEDDED)
        .expect("and applies again");
    assert_eq!(count(&mut conn, ALLOWED_HOSTS_COLUMN), 1);
    assert_eq!(count(&mut conn, LOG_TABLES), 2);
    assert_eq!(count(&mut conn, VERSIONS_TABLE), 1);
    assert_eq!(count(&mut conn, ACTOR_SUBJECT_COLUMNS), 2);
    assert_eq!(count(&mut conn, BINDING_COLUMN), 1);
}

/// Keys that held every scope before `credentials:route` existed (the bootstrap admin) gain
/// it on upgrade, so they keep doing everything; no other key gains it. Keys that could use
/// every credential (`credentials:use`) gain `credentials:use-all` when grants arrive, with
/// their binding cleared for the vault to bind again; no other key gains it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_gain_the_scopes_that_keep_them_working_on_upgrade() {
    const BEFORE_ROUTE: usize = 4;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("vault.db");
    let url = path.to_str().expect("a UTF-8 path").to_owned();
    let organization = sample_organization();
    let keys = [
        (
            "admin",
            r#"["credentials:read","credentials:write","access-keys:manage","credentials:use","audit:read","keys:read"]"#,
        ),
        (
            "writer",
            r#"["credentials:read","credentials:write","credentials:use"]"#,
        ),
        ("reader", r#"["credentials:read"]"#),
    ];
    {
        let mut conn = SqliteConnection::establish(&url).expect("a raw connection");
        for _ in 0..BEFORE_ROUTE {
            conn.run_next_migration(EMBEDDED)
                .expect("the migrations before the route scope");
        }
        diesel::sql_query("INSERT INTO organizations VALUES (?, 'old', 0)")
            .bind::<Binary, _>(organization.id.as_bytes().as_slice())
            .execute(&mut conn)
            .expect("an organization");
        for (name, scopes) in keys {
            diesel::sql_query(
                "INSERT INTO access_keys (id, organization_id, name, key_hash, scopes, created_at) \
                 VALUES (randomblob(16), ?, ?, randomblob(32), ?, 0)",
            )
            .bind::<Binary, _>(organization.id.as_bytes().as_slice())
            .bind::<Text, _>(name)
            .bind::<Text, _>(scopes)
            .execute(&mut conn)
            .expect("a key of the older release");
        }
    }
    drop(
        SqliteStore::open(&url)
            .await
            .expect("the store upgrades the file"),
    );
    let mut conn = SqliteConnection::establish(&url).expect("a raw connection");
    for (name, _) in keys {
        #[derive(QueryableByName)]
        struct Scopes {
            #[diesel(sql_type = Text)]
            scopes: String,
            #[diesel(sql_type = diesel::sql_types::Nullable<Binary>)]
            binding: Option<Vec<u8>>,
        }
        let row: Scopes =
            diesel::sql_query("SELECT scopes, binding FROM access_keys WHERE name = ?")
                .bind::<Text, _>(name)
                .get_result(&mut conn)
                .expect("the key");
        let scopes: Vec<String> = serde_json::from_str(&row.scopes).expect("a JSON array");
        let routes = scopes.iter().filter(|s| *s == "credentials:route").count();
        assert_eq!(routes, usize::from(name == "admin"), "{name}: {scopes:?}");
        let use_all = scopes
            .iter()
            .filter(|s| *s == "credentials:use-all")
            .count();
        assert_eq!(use_all, usize::from(name != "reader"), "{name}: {scopes:?}");
        assert!(row.binding.is_none(), "{name}: left for the vault to bind");
    }
}
