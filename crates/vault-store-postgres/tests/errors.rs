//! Failures surface as the port's errors: an unreachable or silent server is `Unavailable`
//! within the acquire timeout, a row that does not decode is `Backend` naming its column
//! (never its value), a missing organization is `NotFound`, connections ended by the
//! server are `Unavailable` and replaced.

use std::error::Error as _;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use vault_core::logs::AuditAction;
use vault_core::store::{CredentialStore, CredentialWrite, OrganizationStore};
use vault_core::{CredentialType, OrganizationId, StoreError, StoredCredential};
use vault_store_postgres::{PgOptions, PgStore, testing};
use vault_testkit::store_suite::{
    sample_change_audit, sample_credential, sample_organization, sample_version,
};

/// The whole cause chain, as a log line would show it.
fn chain(error: &StoreError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Stores a credential as a create does: with its audit event, no versions.
async fn insert(store: &PgStore, credential: &StoredCredential) -> Result<(), StoreError> {
    let c = &credential.credential;
    let audit = sample_change_audit(
        c.organization_id,
        AuditAction::CredentialCreate,
        *c.id.as_uuid(),
    );
    let write = CredentialWrite {
        versions: &[],
        keep_versions: 0,
        audit: &audit,
    };
    store.insert_credential(credential, &write).await
}

fn options(acquire_timeout: Duration) -> PgOptions {
    PgOptions {
        max_connections: 4,
        acquire_timeout,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_unavailable_at_once() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").port()
    };
    let url = format!("postgres://postgres:do-not-show-me@127.0.0.1:{port}/postgres");
    let started = Instant::now();
    let result = PgStore::connect(&url, options(Duration::from_secs(3))).await;
    let elapsed = started.elapsed();
    let error = result.expect_err("nothing listens there");
    assert!(
        matches!(error, StoreError::Unavailable(_)),
        "connecting to a closed port: {error:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    let text = chain(&error);
    assert!(!text.contains("do-not-show-me"), "{text}");
    assert!(
        text.contains("Connection refused"),
        "the cause is kept for the operator: {text}"
    );

    let migrate = PgStore::migrate(&url)
        .await
        .expect_err("nothing listens there");
    assert!(
        matches!(migrate, StoreError::Unavailable(_)),
        "migrating through a closed port: {migrate:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_unavailable_within_the_acquire_timeout() {
    // Accepts TCP connections (the kernel does, from the backlog) but never speaks.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let started = Instant::now();
    let result = PgStore::connect(&url, options(Duration::from_secs(1))).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "a silent server: {result:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "gave up after {elapsed:?}, not after about the acquire timeout of 1 s"
    );
    drop(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_of_a_missing_organization_is_not_found() {
    let Some((store, _database)) = testing::fresh_store().await else {
        return;
    };
    let result = insert(
        &store,
        &sample_credential(OrganizationId::new(), CredentialType::Custom),
    )
    .await;
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "insert for an organization that does not exist: {result:?}"
    );
    store.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_that_does_not_decode_names_the_column_not_the_value() {
    let Some((store, database)) = testing::fresh_store().await else {
        return;
    };
    let organization = sample_organization();
    store
        .insert_organization(&organization)
        .await
        .expect("insert_organization");
    let credential = sample_credential(organization.id, CredentialType::BasicAuth);
    insert(&store, &credential)
        .await
        .expect("insert_credential");

    let mut conn = AsyncPgConnection::establish(database.url())
        .await
        .expect("a raw connection");
    conn.batch_execute(
        "UPDATE credentials SET public_fields = \
         '{\"type\":\"basic_auth\",\"username\":42,\"leak\":\"DO-NOT-LOG-ME\"}'",
    )
    .await
    .expect("corrupt the row");
    let error = store
        .get_credential(organization.id, credential.credential.id)
        .await
        .expect_err("a corrupt row must not decode");
    assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
    let text = chain(&error);
    assert!(text.contains("credentials.public_fields"), "{text}");
    assert!(
        !text.contains("DO-NOT-LOG-ME"),
        "the error shows the stored value: {text}"
    );
    assert!(!format!("{error:?}").contains("DO-NOT-LOG-ME"), "{error:?}");

    conn.batch_execute(
        "UPDATE credentials SET public_fields = \
         '{\"type\":\"api_key\",\"placement\":{\"in\":\"header\",\"name\":\"X\"}}'",
    )
    .await
    .expect("a type that disagrees with the type column");
    let error = store
        .get_credential(organization.id, credential.credential.id)
        .await
        .expect_err("public fields of another type must not decode");
    assert!(
        chain(&error).contains("credentials.credential_type"),
        "{}",
        chain(&error)
    );

    conn.batch_execute(
        "UPDATE credentials SET expires_at = 'infinity', \
         public_fields = '{\"type\":\"basic_auth\",\"username\":\"u\"}'",
    )
    .await
    .expect("a time no OffsetDateTime can hold");
    let listed = store
        .list_credentials(
            organization.id,
            &vault_core::store::ListQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect_err("an infinite expiry must not decode");
    assert!(
        chain(&listed).contains("credentials.expires_at"),
        "{}",
        chain(&listed)
    );
    drop(conn);
    store.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_ended_by_the_server_are_unavailable_then_replaced() {
    let Some((store, database)) = testing::fresh_store().await else {
        return;
    };
    store
        .insert_organization(&sample_organization())
        .await
        .expect("insert_organization");

    let mut admin = AsyncPgConnection::establish(database.url())
        .await
        .expect("a raw connection");
    for round in 0..3 {
        // What a server shutting down, or an operator, does to every session.
        admin
            .batch_execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .expect("terminate the store's connections");
        let mut outcomes = Vec::new();
        let mut counted = None;
        for _ in 0..5 {
            match store.count_organizations().await {
                Ok(count) => {
                    counted = Some(count);
                    break;
                }
                Err(StoreError::Unavailable(cause)) => outcomes.push(cause.to_string()),
                Err(other) => panic!(
                    "round {round}: a terminated connection must be Unavailable, not {other:?}"
                ),
            }
        }
        assert_eq!(
            counted,
            Some(1),
            "round {round}: the store did not recover; failures: {outcomes:?}"
        );
        assert!(
            outcomes.len() <= 1,
            "round {round}: more than one call failed after the termination: {outcomes:?}"
        );
    }
    store.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_store_is_unavailable_and_debug_hides_the_password() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let mut url = url::Url::parse(database.url()).expect("a URL");
    let password = match url.password() {
        Some(password) => password.to_owned(),
        None => {
            // Trust authentication ignores it; Debug must not show it all the same.
            url.set_password(Some("hunter2-not-shown"))
                .expect("a URL with a host");
            "hunter2-not-shown".to_owned()
        }
    };
    let store = PgStore::connect(url.as_str(), PgOptions::default())
        .await
        .expect("connect");
    let shown = format!("{store:?}");
    assert!(!shown.contains(&password), "{shown}");
    assert!(shown.contains(database.name()), "{shown}");

    store.close();
    let result = store.count_organizations().await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "a closed store: {result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_database_or_role_is_a_backend_error_not_an_outage() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let mut url = url::Url::parse(database.url()).expect("a URL");
    url.set_path(&format!("/{}_missing", database.name()));
    let result = PgStore::connect(url.as_str(), PgOptions::default()).await;
    let error = result.expect_err("no such database");
    assert!(
        matches!(error, StoreError::Backend(_)),
        "retrying will not create the database: {error:?}"
    );
    assert!(
        chain(&error).contains("does not exist"),
        "{}",
        chain(&error)
    );
    let migrate = PgStore::migrate(url.as_str())
        .await
        .expect_err("no such database");
    assert!(matches!(migrate, StoreError::Backend(_)), "{migrate:?}");

    let mut url = url::Url::parse(database.url()).expect("a URL");
    url.set_username("vault_no_such_role")
        .expect("a URL with a host");
    let error = PgStore::connect(url.as_str(), PgOptions::default())
        .await
        .expect_err("no such role");
    assert!(
        matches!(error, StoreError::Backend(_)),
        "retrying will not create the role: {error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_stuck_past_the_acquire_timeout_is_unavailable_and_never_applies() {
    let Some(database) = testing::fresh_database().await else {
        return;
    };
    let store = PgStore::connect(database.url(), options(Duration::from_secs(1)))
        .await
        .expect("connect");
    let organization = sample_organization();
    store
        .insert_organization(&organization)
        .await
        .expect("insert_organization");
    let credential = sample_credential(organization.id, CredentialType::ApiKey);
    insert(&store, &credential)
        .await
        .expect("insert_credential");

    // Another session holds the row lock and does not let go within the timeout.
    let mut holder = AsyncPgConnection::establish(database.url())
        .await
        .expect("a raw connection");
    holder
        .batch_execute("BEGIN; SELECT id FROM credentials FOR UPDATE")
        .await
        .expect("lock the row");
    let mut next = credential.clone();
    next.credential.version = 2;
    let version = sample_version(&next, 1);
    let audit = sample_change_audit(
        organization.id,
        AuditAction::CredentialUpdate,
        *next.credential.id.as_uuid(),
    );
    let write = CredentialWrite {
        versions: std::slice::from_ref(&version),
        keep_versions: 1,
        audit: &audit,
    };
    let started = Instant::now();
    let result = store
        .update_credential(organization.id, &next, 1, &write)
        .await;
    let elapsed = started.elapsed();
    let error = result.expect_err("the row stays locked past the timeout");
    assert!(
        matches!(error, StoreError::Unavailable(_)),
        "a statement the server cancelled: {error:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1900),
        "the server's statement timeout should end it after about 1 s, not {elapsed:?}"
    );

    holder
        .batch_execute("ROLLBACK")
        .await
        .expect("release the lock");
    // Give a write that was not cancelled every chance to land before looking.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stored = store
        .get_credential(organization.id, credential.credential.id)
        .await
        .expect("get_credential");
    assert_eq!(
        stored, credential,
        "the update that reported Unavailable was applied after all"
    );
    assert!(
        store
            .list_versions(organization.id, credential.credential.id)
            .await
            .expect("list_versions")
            .is_empty(),
        "the version of the update that reported Unavailable was written after all"
    );
    store
        .update_credential(organization.id, &next, 1, &write)
        .await
        .expect("the same update once the lock is gone");
    assert_eq!(
        store
            .list_versions(organization.id, credential.credential.id)
            .await
            .expect("list_versions")
            .len(),
        1
    );
    store.close();
}
