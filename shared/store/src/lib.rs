//! PostgreSQL storage: the connection pool, the embedded migrations, the ingest path from an
//! `/odds` body to stored rows, the writer, the reader and the job state.

mod backfill;
mod games;
mod health;
pub mod ingest;
mod jobs;
mod reader;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{
    ClientWrapper, Hook, HookError, Manager, ManagerConfig, Metrics, Pool, RecyclingMethod,
};
use tokio_postgres_rustls::MakeRustlsConnect;

pub use backfill::ArchiveCall;
pub use games::AwaitingScore;
pub use jobs::{JobRunRecord, JobState, LeaseAttempt};
pub use reader::{
    BestPrice, CreditUse, IssueCount, LoggedIssue, QuotaReading, SnapshotSummary, TierCoverage,
    best_prices,
};
pub use writer::{LineKey, SlateWrite, StatusUpdate};

use odds_core::secret::DatabaseUrl;
use odds_core::settings::{ConfigError, Vars};

/// `DATABASE_URL` and `DATABASE_POOL_SIZE`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    pub pool_size: usize,
}

impl DatabaseSettings {
    pub const DEFAULT_POOL_SIZE: usize = 5;

    pub fn from_vars(vars: &Vars) -> Result<DatabaseSettings, ConfigError> {
        let url = vars.get("DATABASE_URL").ok_or_else(|| {
            ConfigError::new(
                "DATABASE_URL",
                "is not set (e.g. postgres://postgres@127.0.0.1:5432/odds)",
            )
        })?;
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must start with postgres:// or postgresql://",
            ));
        }
        url.parse::<tokio_postgres::Config>()
            .map_err(|e| ConfigError::new("DATABASE_URL", format!("is not a valid URL: {e}")))?;
        Ok(DatabaseSettings {
            url: DatabaseUrl::new(url),
            pool_size: vars.parse_or("DATABASE_POOL_SIZE", Self::DEFAULT_POOL_SIZE, |n| {
                (1..=100).contains(n)
            })?,
        })
    }
}

/// How long a pooled connection may sit unused before it is checked on reuse.
const IDLE_BEFORE_CHECK: Duration = Duration::from_secs(5);

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {}", db_message(.0))]
    Db(#[from] tokio_postgres::Error),
    #[error("could not get a database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// A stored value the code does not know, such as a status written by a newer version.
    #[error("unreadable stored value: {0}")]
    Corrupt(#[from] odds_core::names::ParseEnumError),
}

/// tokio-postgres prints only "db error"; the server's own message is what helps.
fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// The database handle every part of the system shares. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    pg: Arc<tokio_postgres::Config>,
    verify_tls: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl Store {
    /// A pool of at most `max_size` connections. Nothing connects until first use.
    ///
    /// TLS follows libpq's `sslmode`: `prefer` (the default) and `require` encrypt without
    /// checking the server's certificate; `verify-ca` and `verify-full` also check it against
    /// the public web roots (right for Neon; RDS needs its own CA bundle).
    pub fn connect(url: &DatabaseUrl, max_size: usize) -> Result<Store, StoreError> {
        let (url_text, verify) = split_verify_mode(url.expose());
        let mut pg: tokio_postgres::Config = url_text
            .parse()
            .map_err(|e| StoreError::Config(format!("{e} (url {})", url.redacted())))?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(5));
        }
        pg.keepalives(true);
        pg.application_name("nba-odds");
        let manager = Manager::from_config(
            pg.clone(),
            tls_connector(verify),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            // A frozen Lambda can come back with a dead socket, so a connection idle for a while
            // is checked before reuse; within a run, back-to-back uses skip the round trip.
            .pre_recycle(Hook::async_fn(
                |client: &mut ClientWrapper, metrics: &Metrics| {
                    let idle = metrics.last_used() > IDLE_BEFORE_CHECK;
                    Box::pin(async move {
                        if idle {
                            client.simple_query("").await.map_err(HookError::Backend)?;
                        }
                        Ok(())
                    })
                },
            ))
            .max_size(max_size.max(1))
            .wait_timeout(Some(Duration::from_secs(15)))
            .create_timeout(Some(Duration::from_secs(10)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Store {
            pool,
            pg: Arc::new(pg),
            verify_tls: verify,
        })
    }

    /// Payloads `NOTIFY`ed on `channel`, received on a dedicated connection. The receiver ends
    /// when that connection drops; callers keep a timer as well.
    pub async fn listen(
        &self,
        channel: &str,
    ) -> Result<tokio::sync::mpsc::UnboundedReceiver<String>, StoreError> {
        use futures_util::StreamExt;
        if !channel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Config(format!(
                "invalid channel name {channel:?}"
            )));
        }
        let (client, mut connection) = self.pg.connect(tls_connector(self.verify_tls)).await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let tokio_postgres::AsyncMessage::Notification(n) = message
                    && tx.send(n.payload().to_string()).is_err()
                {
                    break;
                }
            }
        });
        client.batch_execute(&format!("LISTEN {channel}")).await?;
        tokio::spawn(async move {
            // The client must outlive the subscription.
            let _client = client;
            let _ = driver.await;
        });
        Ok(rx)
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

/// tokio-postgres knows only disable/prefer/require; the verifying modes become `require` plus
/// certificate verification on our side.
fn split_verify_mode(url: &str) -> (String, bool) {
    for mode in ["sslmode=verify-full", "sslmode=verify-ca"] {
        if url.contains(mode) {
            return (url.replace(mode, "sslmode=require"), true);
        }
    }
    (url.to_string(), false)
}

fn tls_connector(verify: bool) -> MakeRustlsConnect {
    let config = if verify {
        odds_tls::verifying_config(&[])
    } else {
        let provider = odds_tls::provider();
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports the default TLS versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth()
    };
    MakeRustlsConnect::new(config)
}

/// libpq's `sslmode=require`: the channel is encrypted and the handshake signatures are checked,
/// but the certificate chain is not (self-signed server certificates are the norm there).
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use odds_core::settings::lookup_from_pairs;

    fn settings(pairs: &[(&str, &str)]) -> Result<DatabaseSettings, ConfigError> {
        DatabaseSettings::from_vars(&Vars(&lookup_from_pairs(pairs)))
    }

    const URL: (&str, &str) = ("DATABASE_URL", "postgres://odds:s3cret@localhost/odds");

    #[test]
    fn defaults_and_bad_values() {
        assert_eq!(settings(&[URL]).unwrap().pool_size, 5);
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "DATABASE_URL"),
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (&[URL, ("DATABASE_POOL_SIZE", "zero")], "DATABASE_POOL_SIZE"),
            (&[URL, ("DATABASE_POOL_SIZE", "0")], "DATABASE_POOL_SIZE"),
            (&[URL, ("DATABASE_POOL_SIZE", "5000")], "DATABASE_POOL_SIZE"),
        ];
        for (pairs, var) in cases {
            let err = settings(pairs).unwrap_err();
            assert_eq!(err.var, *var);
            let line = err.to_string();
            assert!(line.starts_with(var) && !line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let shown = format!("{:?}", settings(&[URL]).unwrap());
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("localhost"));
    }
}
