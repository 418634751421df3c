//! PostgreSQL storage: the connection pool, the embedded migrations, the writer and the reader.

mod reader;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres_rustls::MakeRustlsConnect;

pub use reader::{BestPrice, SnapshotSummary, TierCoverage, best_prices};
pub use writer::{SlateWrite, StatusUpdate};

use crate::secret::DatabaseUrl;

mod embedded {
    refinery::embed_migrations!("../migrations");
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("could not get a database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
    #[error("invalid database configuration: {0}")]
    Config(String),
}

/// The database handle every part of the system shares. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl Store {
    /// A pool of at most `max_size` connections. Nothing connects until first use. TLS is
    /// negotiated as the URL's `sslmode` asks (`prefer` by default, `require` for hosted
    /// databases such as Neon or RDS).
    pub fn connect(url: &DatabaseUrl, max_size: usize) -> Result<Store, StoreError> {
        let mut pg: tokio_postgres::Config = url
            .expose()
            .parse()
            .map_err(|e| StoreError::Config(format!("{e} (url {})", url.redacted())))?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(5));
        }
        pg.keepalives(true);
        pg.application_name("nba-odds");
        let manager = Manager::from_config(
            pg,
            tls_connector(),
            ManagerConfig {
                // A frozen Lambda can come back with a dead socket: check before reuse.
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size.max(1))
            .wait_timeout(Some(Duration::from_secs(15)))
            .create_timeout(Some(Duration::from_secs(10)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Store { pool })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Applies the embedded migrations; a no-op on an up-to-date database. Concurrent callers
    /// (several cold starts at once) are serialized by an advisory lock.
    pub async fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.pool.get().await?;
        let client: &mut tokio_postgres::Client = &mut conn;
        client
            .execute("SELECT pg_advisory_lock(7263001)", &[])
            .await?;
        let result = embedded::migrations::runner()
            .set_abort_divergent(true)
            .run_async(client)
            .await;
        client
            .execute("SELECT pg_advisory_unlock(7263001)", &[])
            .await?;
        let report = result?;
        Ok(report
            .applied_migrations()
            .iter()
            .map(|m| m.to_string())
            .collect())
    }

    /// The migrations compiled into this binary, as `V1__initial`.
    pub fn known_migrations() -> Vec<String> {
        embedded::migrations::runner()
            .get_migrations()
            .iter()
            .map(|m| m.to_string())
            .collect()
    }
}

fn tls_connector() -> MakeRustlsConnect {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    MakeRustlsConnect::new(config)
}
