//! Test databases on a real PostgreSQL server (cargo feature `testing`).
//!
//! Every test gets a database of its own, cloned with `CREATE DATABASE … TEMPLATE` from a
//! template database that is created and migrated once per test process (named
//! `vault_tpl_<pid>_<random>`), so tests never share mutable state and never pay for the
//! migrations themselves. A test's database (`vault_t_<pid>_<random>`) is dropped when its
//! [`TestDatabase`] is, and the template when the last test database of the process is.
//!
//! The server comes from `TEST_DATABASE_URL` (default [`DEFAULT_URL`]); it must let the
//! role create databases. When it cannot be reached, [`fresh_database`] prints a loud
//! `SKIPPED: …` line to stderr and returns `None`, so the test can return early and pass,
//! unless `VAULT_REQUIRE_POSTGRES=1`, which turns the absence into a panic (CI sets it).
//!
//! ```rust,ignore
//! # async fn example() {
//! use vault_store_postgres::{PgOptions, PgStore, testing};
//!
//! let Some(database) = testing::fresh_database().await else {
//!     return; // PostgreSQL is not reachable here: skipped, and said so.
//! };
//! // A migrated, empty database of this test's own, e.g. for two server replicas:
//! let url = database.url().to_owned();
//! let store = PgStore::connect(&url, PgOptions::default()).await.expect("connect");
//! // ... dropping `database` drops the database (connections still open are ended).
//! # }
//! ```
//!
//! Enable it from another crate's tests with
//! `vault-store-postgres = { workspace = true, features = ["testing"] }` under
//! `[dev-dependencies]`.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::{PgOptions, PgStore};

/// The server tests use when `TEST_DATABASE_URL` is not set: the local PostgreSQL with
/// trust authentication, as a developer machine or CI has it.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The variable naming the server (a URL to a database the role can connect to; test
/// databases are created beside it).
pub const URL_VARIABLE: &str = "TEST_DATABASE_URL";

/// The variable that, set to `1`, makes an unreachable server a test failure, not a skip.
pub const REQUIRE_VARIABLE: &str = "VAULT_REQUIRE_POSTGRES";

/// How long to wait for the server before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The server URL tests use: `TEST_DATABASE_URL`, or [`DEFAULT_URL`].
#[must_use]
pub fn server_url() -> String {
    std::env::var(URL_VARIABLE)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// Whether `VAULT_REQUIRE_POSTGRES=1`: an unreachable server must fail the tests.
#[must_use]
pub fn postgres_required() -> bool {
    std::env::var(REQUIRE_VARIABLE).is_ok_and(|value| value.trim() == "1")
}

/// A database of one test's own, dropped (with `WITH (FORCE)`, ending any connection still
/// open to it) when this value is dropped.
pub struct TestDatabase {
    name: String,
    url: String,
    server_url: String,
    /// Whether this database holds a reference to the process's template.
    from_template: bool,
}

impl TestDatabase {
    /// The URL of this database (with the server URL's user and password).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .field(
                "url",
                &crate::describe(&self.url).unwrap_or_else(|_| "<invalid URL>".to_owned()),
            )
            .finish()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let from_template = self.from_template;
        // Dropping needs a connection, and `drop` cannot await: do it on a thread of its
        // own with its own small runtime, and wait for it, so the database is gone before
        // the test process exits.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(drop_database(&server_url, &name, from_template))
        });
        match cleanup.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!(
                "warning: could not drop the test database {}: {error}",
                self.name
            ),
            Err(_) => eprintln!("warning: dropping the test database {} panicked", self.name),
        }
    }
}

/// A fresh, migrated database of this test's own, or `None` (after a loud `SKIPPED` line
/// on stderr) when the server is unreachable and `VAULT_REQUIRE_POSTGRES` is not `1`.
///
/// # Panics
/// When the server is unreachable and `VAULT_REQUIRE_POSTGRES=1`, or when it is reachable
/// but creating or migrating a database fails.
pub async fn fresh_database() -> Option<TestDatabase> {
    let server_url = server_url();
    let mut admin = admin_connection(&server_url).await?;
    let template = acquire_template(&mut admin, &server_url).await;
    let name = unique_name("vault_t");
    let created = execute(
        &mut admin,
        &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
    )
    .await;
    let database = TestDatabase {
        url: database_url(&server_url, &name),
        name,
        server_url,
        from_template: true,
    };
    if let Err(error) = created {
        // Dropping `database` gives the template reference back.
        panic!("creating the test database {}: {error}", database.name);
    }
    Some(database)
}

/// A fresh database with nothing in it (not even the migrations table), or `None` as for
/// [`fresh_database`]. For testing migrations themselves.
///
/// # Panics
/// As [`fresh_database`].
pub async fn empty_database() -> Option<TestDatabase> {
    let server_url = server_url();
    let mut admin = admin_connection(&server_url).await?;
    let name = unique_name("vault_t");
    execute(
        &mut admin,
        &format!("CREATE DATABASE \"{name}\" TEMPLATE template0"),
    )
    .await
    .unwrap_or_else(|error| panic!("creating the empty test database {name}: {error}"));
    Some(TestDatabase {
        url: database_url(&server_url, &name),
        name,
        server_url,
        from_template: false,
    })
}

/// A [`PgStore`] on a [`fresh_database`], with at most 8 connections (tests run in
/// parallel, and a server allows 100 connections by default). Drop the store before the
/// database, or not: the database is dropped with `WITH (FORCE)` either way.
///
/// # Panics
/// As [`fresh_database`], and when the store cannot connect.
pub async fn fresh_store() -> Option<(PgStore, TestDatabase)> {
    let database = fresh_database().await?;
    let options = PgOptions {
        max_connections: 8,
        ..PgOptions::default()
    };
    let store = PgStore::connect(database.url(), options)
        .await
        .unwrap_or_else(|error| panic!("connecting to {database:?}: {error:?}"));
    Some((store, database))
}

/// The first failure to reach the server in this process, so later tests skip at once.
static UNREACHABLE: OnceLock<String> = OnceLock::new();

/// A connection to the server URL's own database, or `None` after saying why the tests
/// skip (or panicking, when PostgreSQL is required).
async fn admin_connection(server_url: &str) -> Option<AsyncPgConnection> {
    let failure = match UNREACHABLE.get() {
        Some(failure) => failure.clone(),
        None => match crate::establish(server_url, CONNECT_TIMEOUT, None).await {
            Ok(connection) => return Some(connection),
            Err(error) => UNREACHABLE
                .get_or_init(|| crate::error::chain(&error))
                .clone(),
        },
    };
    let shown = crate::describe(server_url).unwrap_or_else(|_| "<invalid URL>".to_owned());
    assert!(
        !postgres_required(),
        "PostgreSQL not reachable at {shown}: {failure} ({REQUIRE_VARIABLE}=1, so this is a \
         failure; set {URL_VARIABLE} or start the server)"
    );
    eprintln!(
        "SKIPPED: PostgreSQL not reachable at {shown}: {failure} (set {URL_VARIABLE}, or \
         {REQUIRE_VARIABLE}=1 to make this a failure)"
    );
    None
}

/// The process's template: its name and how many test databases use it.
struct Template {
    name: String,
    users: usize,
}

/// Held while the template is created or dropped, so a test never clones a template that
/// is half-migrated or being dropped. An async mutex, not tied to any one runtime (every
/// `#[tokio::test]` has its own).
static TEMPLATE: tokio::sync::Mutex<Option<Template>> = tokio::sync::Mutex::const_new(None);

/// The template's name, created and migrated if this process has none; counts one more
/// user of it.
async fn acquire_template(admin: &mut AsyncPgConnection, server_url: &str) -> String {
    let mut slot = TEMPLATE.lock().await;
    let template = match slot.as_mut() {
        Some(template) => template,
        None => {
            let name = unique_name("vault_tpl");
            execute(
                admin,
                &format!("CREATE DATABASE \"{name}\" TEMPLATE template0"),
            )
            .await
            .unwrap_or_else(|error| panic!("creating the template database {name}: {error}"));
            if let Err(error) = PgStore::migrate(&database_url(server_url, &name)).await {
                let _ = execute(
                    admin,
                    &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                )
                .await;
                panic!("migrating the template database {name}: {error:?}");
            }
            slot.insert(Template { name, users: 0 })
        }
    };
    template.users += 1;
    template.name.clone()
}

async fn drop_database(server_url: &str, name: &str, from_template: bool) -> Result<(), String> {
    let mut admin = crate::establish(server_url, CONNECT_TIMEOUT, None)
        .await
        .map_err(|error| crate::error::chain(&error))?;
    let dropped = execute(
        &mut admin,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
    .await;
    if from_template {
        let mut slot = TEMPLATE.lock().await;
        if let Some(template) = slot.as_mut() {
            template.users = template.users.saturating_sub(1);
            if template.users == 0 {
                let template_name = template.name.clone();
                *slot = None;
                execute(
                    &mut admin,
                    &format!("DROP DATABASE IF EXISTS \"{template_name}\" WITH (FORCE)"),
                )
                .await?;
            }
        }
    }
    dropped
}

async fn execute(conn: &mut AsyncPgConnection, sql: &str) -> Result<(), String> {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .map(drop)
        .map_err(|error| error.to_string())
}

/// `<prefix>_<pid>_<random>`: unique across processes and runs, and telling which process
/// left it behind if one is ever left (a killed test process cannot drop its databases).
fn unique_name(prefix: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}_{}", std::process::id(), &random[..12])
}

/// The server URL with its database replaced by `name`.
fn database_url(server_url: &str, name: &str) -> String {
    match url::Url::parse(server_url) {
        Ok(mut url) if matches!(url.scheme(), "postgres" | "postgresql") => {
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
        // Key-value form: a later `dbname` overrides an earlier one.
        _ => format!("{server_url} dbname={name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_replace_only_the_database() {
        assert_eq!(
            database_url(
                "postgres://postgres:pw@127.0.0.1:5432/postgres",
                "vault_t_1_ab"
            ),
            "postgres://postgres:pw@127.0.0.1:5432/vault_t_1_ab"
        );
        assert_eq!(
            database_url("postgresql://u@h/db?sslmode=disable", "x"),
            "postgresql://u@h/x?sslmode=disable"
        );
        assert_eq!(
            database_url("host=127.0.0.1 user=postgres dbname=postgres", "x"),
            "host=127.0.0.1 user=postgres dbname=postgres dbname=x"
        );
        let name = unique_name("vault_t");
        assert!(
            name.len() <= 63,
            "PostgreSQL truncates longer names: {name}"
        );
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
    }
}
