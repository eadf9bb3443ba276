//! PostgreSQL for the end-to-end tests: a fresh database on the shared server per test
//! (dropped afterwards), or a throwaway server of the test's own that it may stop and
//! start. Where PostgreSQL cannot be reached the tests say so loudly and skip, unless
//! `VAULT_REQUIRE_POSTGRES=1` (CI sets it), which turns the absence into a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::assert_success;

/// The shared server's maintenance database, from `TEST_DATABASE_URL`.
pub(crate) fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn required() -> bool {
    std::env::var("VAULT_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Skips (loudly) or fails (when required) a test that cannot get PostgreSQL.
fn unavailable<T>(why: &str) -> Option<T> {
    assert!(
        !required(),
        "PostgreSQL is required (VAULT_REQUIRE_POSTGRES=1) but {why}"
    );
    eprintln!("\n*** SKIPPED: {why}; set VAULT_REQUIRE_POSTGRES=1 to make this a failure ***\n");
    None
}

/// A PostgreSQL client or server program, from PATH or Debian's versioned directory.
pub(crate) fn program(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin").join(name)))
            .filter(|p| p.is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}

/// Runs one SQL statement with psql.
pub(crate) fn psql(url: &str, sql: &str) -> Output {
    let psql = program("psql").expect("psql is installed");
    Command::new(psql)
        .args([url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .expect("run psql")
}

fn with_database(url: &str, name: &str) -> String {
    let (server, _) = url.rsplit_once('/').expect("a URL with a database name");
    format!("{server}/{name}")
}

/// A database of the test's own on the shared server, dropped on drop.
pub(crate) struct TestDatabase {
    /// Its URL.
    pub(crate) url: String,
    server: String,
    name: String,
}

impl TestDatabase {
    /// Creates a fresh, empty database; `None` (after a loud skip notice) when the server
    /// cannot be reached and PostgreSQL is not required.
    pub(crate) fn create() -> Option<Self> {
        let server = server_url();
        if program("psql").is_none() {
            return unavailable("psql is not installed");
        }
        let probe = psql(&server, "SELECT 1");
        if !probe.status.success() {
            return unavailable(&format!(
                "PostgreSQL is not reachable at {server}: {}",
                String::from_utf8_lossy(&probe.stderr).trim()
            ));
        }
        let name = format!("vault_e2e_{}", uuid::Uuid::new_v4().simple());
        let create = format!("CREATE DATABASE {name}");
        assert_success(&psql(&server, &create), &create);
        Some(Self {
            url: with_database(&server, &name),
            server,
            name,
        })
    }

    /// Every row of every table, as pg_dump writes it (bytea as hex).
    pub(crate) fn dump(&self) -> String {
        let pg_dump = program("pg_dump").expect("pg_dump is installed");
        let out = Command::new(pg_dump)
            .args(["--data-only", "--no-owner", &self.url])
            .output()
            .expect("run pg_dump");
        assert_success(&out, "pg_dump");
        String::from_utf8(out.stdout).expect("utf8 dump")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = psql(
            &self.server,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A PostgreSQL server of the test's own (initdb + pg_ctl on a free port), so a test can
/// stop and restart it without disturbing anyone else. Removed on drop.
pub(crate) struct TempCluster {
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub(crate) url: String,
    dir: tempfile::TempDir,
    pg_ctl: PathBuf,
    port: u16,
}

/// As root, the cluster's programs run as the `postgres` user (initdb refuses root).
fn as_cluster_owner(program: &Path) -> Command {
    // `id -u` rather than libc: the tests stay free of unsafe code.
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if uid.is_ok_and(|uid| uid == "0") {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

impl TempCluster {
    /// Initialises and starts a cluster; `None` (after a loud skip notice) when the server
    /// programs are missing and PostgreSQL is not required.
    pub(crate) fn start() -> Option<Self> {
        let (Some(initdb), Some(pg_ctl)) = (program("initdb"), program("pg_ctl")) else {
            return unavailable("initdb/pg_ctl are not installed (Debian package postgresql)");
        };
        let dir = tempfile::Builder::new()
            .prefix("vault-pg-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        // The cluster runs as `postgres` when we are root: let it own its directory.
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status();
        let init = as_cluster_owner(&initdb)
            .args(["-D"])
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "--no-instructions",
            ])
            .output()
            .expect("run initdb");
        if !init.status.success() {
            return unavailable(&format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&init.stderr).trim()
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            pg_ctl,
            port,
        };
        cluster.resume();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts (again) and waits until it accepts connections.
    pub(crate) fn resume(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let out = as_cluster_owner(&self.pg_ctl)
            .arg("-D")
            .arg(self.data())
            .args(["-o", &options, "-l"])
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "60", "start"])
            .output()
            .expect("run pg_ctl start");
        assert_success(&out, "pg_ctl start");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !psql(&self.url, "SELECT 1").status.success() {
            assert!(Instant::now() < deadline, "the cluster did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops it the way a crash or a failover looks to clients: at once, connections cut.
    pub(crate) fn halt(&self) {
        let out = as_cluster_owner(&self.pg_ctl)
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output()
            .expect("run pg_ctl stop");
        assert_success(&out, "pg_ctl stop");
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        let _ = as_cluster_owner(&self.pg_ctl)
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}
