//! Prints the URL of a local development database named `odds` (or the name given), created if
//! missing (and first dropped with `--fresh`), on the same server the tests use: the server of
//! `DATABASE_URL`, the local one on 127.0.0.1:5432, or a private cluster started with initdb
//! and pg_ctl.

use tokio_postgres::NoTls;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fresh = args.iter().any(|a| a == "--fresh");
    let name = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "odds".to_string());
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        eprintln!("error: database name '{name}' must be letters, digits and _ only");
        return std::process::ExitCode::from(2);
    }
    let server = odds_tests::server_url().await;
    let (client, conn) = match tokio_postgres::connect(&server, NoTls).await {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!(
                "error: cannot connect to {}: {e}",
                odds_core::secret::redact_url_password(&server)
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    tokio::spawn(conn);
    if fresh
        && let Err(e) = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
    {
        eprintln!("error: cannot drop database {name}: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .map(|row| row.is_some())
        .unwrap_or(false);
    if !exists
        && let Err(e) = client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
    {
        eprintln!("error: cannot create database {name}: {e}");
        return std::process::ExitCode::FAILURE;
    }
    println!("{}", odds_tests::with_database(&server, &name));
    std::process::ExitCode::SUCCESS
}
