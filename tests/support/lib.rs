//! Test support shared by the integration tests and benchmarks: a fresh PostgreSQL database per
//! test, and the fixtures.
//!
//! The server is the one at `DATABASE_URL` (or `postgres://postgres@127.0.0.1:5432/postgres`).
//! When nothing answers there, a private cluster is created with the installed `initdb` and
//! `pg_ctl` in a temporary directory and shared by every test process of the run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use odds_core::secret::DatabaseUrl;
use odds_store::Store;
use tokio_postgres::NoTls;

pub mod fake_api;
pub mod fake_archive;
pub mod fixtures;
pub mod logs;
pub mod moto;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PRIVATE_PORT: u16 = 54329;

/// A database of its own for one test, dropped when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: DatabaseUrl,
    pub store: Store,
    admin_url: String,
}

impl TestDb {
    /// A fresh database with the schema applied.
    pub async fn new() -> TestDb {
        let db = TestDb::empty().await;
        db.store.migrate().await.expect("migrations apply");
        db
    }

    /// A fresh database with no schema.
    pub async fn empty() -> TestDb {
        let admin_url = server_url().await;
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "odds_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        let (client, conn) = tokio_postgres::connect(&admin_url, NoTls)
            .await
            .expect("connect to the test server");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        let url = DatabaseUrl::new(with_database(&admin_url, &name));
        let store = Store::connect(&url, 4).expect("pool");
        TestDb {
            name,
            url,
            store,
            admin_url,
        }
    }

    /// A plain connection, for assertions written in SQL.
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(self.url.expose(), NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(conn);
        client
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.client()
            .await
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.store.pool().close();
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot block on itself.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok((client, conn)) = tokio_postgres::connect(&admin, NoTls).await {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// The admin URL of the server tests create their databases on.
pub async fn server_url() -> String {
    let configured = std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| DEFAULT_SERVER.to_string());
    if reachable(&configured).await {
        return configured;
    }
    let private = tokio::task::spawn_blocking(start_private_cluster)
        .await
        .expect("cluster start task")
        .unwrap_or_else(|e| panic!("no PostgreSQL at {configured} and no private cluster: {e}"));
    assert!(
        reachable(&private).await,
        "private cluster at {private} does not answer"
    );
    private
}

async fn reachable(url: &str) -> bool {
    let Ok(mut config) = url.parse::<tokio_postgres::Config>() else {
        return false;
    };
    config.connect_timeout(Duration::from_secs(3));
    matches!(
        tokio::time::timeout(Duration::from_secs(5), config.connect(NoTls)).await,
        Ok(Ok(_))
    )
}

pub fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("server URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// Starts (or reuses) a cluster in the system temp directory; serialized across test processes
/// with a file lock.
fn start_private_cluster() -> Result<String, String> {
    let root = std::env::temp_dir().join("odds-test-pg");
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    let lock = std::fs::File::create(root.join("lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    let cluster = Cluster {
        root,
        port: PRIVATE_PORT,
    };
    cluster.create()?;
    if !cluster.running() {
        cluster.start()?;
    }
    let url = cluster.url();
    // Shared by every test process of the run: left running.
    std::mem::forget(cluster);
    Ok(url)
}

/// A PostgreSQL cluster of the tests' own, in a directory: for tests that need to stop and
/// start the server (the shared one is never stopped).
pub struct Cluster {
    root: PathBuf,
    pub port: u16,
}

impl Cluster {
    /// A new cluster on a free port, running, with trust authentication.
    pub fn start_new() -> Result<Cluster, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let root = std::env::temp_dir().join(format!("odds-test-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        let cluster = Cluster { root, port };
        cluster.create()?;
        cluster.start()?;
        Ok(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> String {
        self.root.join("data").to_string_lossy().to_string()
    }

    fn create(&self) -> Result<(), String> {
        if as_root() {
            // PostgreSQL refuses to run as root; the cluster belongs to the postgres user.
            let _ = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.root)
                .status();
        }
        if !self.root.join("data").join("PG_VERSION").exists() {
            pg(
                "initdb",
                &[
                    "-D",
                    &self.data(),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                ],
            )?;
        }
        Ok(())
    }

    fn running(&self) -> bool {
        pg("pg_ctl", &["status", "-D", &self.data()]).is_ok()
    }

    pub fn start(&self) -> Result<(), String> {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.root.to_string_lossy()
        );
        let log = self.root.join("server.log").to_string_lossy().to_string();
        pg(
            "pg_ctl",
            &["start", "-w", "-D", &self.data(), "-l", &log, "-o", &opts],
        )
    }

    /// Stops the server at once, dropping every connection (a crash or a restart).
    pub fn stop(&self) -> Result<(), String> {
        pg(
            "pg_ctl",
            &["stop", "-w", "-m", "immediate", "-D", &self.data()],
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the postgres user when the tests run as root.
fn pg(tool: &str, args: &[&str]) -> Result<(), String> {
    let program = pg_binary(tool);
    let mut cmd = if as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&program);
        c
    } else {
        Command::new(&program)
    };
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| format!("{tool}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn pg_binary(tool: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.exists())
    });
    on_path.unwrap_or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin").join(tool))
            .filter(|p| p.exists())
            .collect();
        versions.sort();
        versions
            .pop()
            .unwrap_or_else(|| Path::new(tool).to_path_buf())
    })
}
