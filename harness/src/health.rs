//! Railway's health check: 200 when the database answers and every job has a next run armed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use odds_jobs::JobName;
use odds_store::Store;
use serde_json::json;

async fn health(State(store): State<Store>) -> (StatusCode, Json<serde_json::Value>) {
    match store.job_states().await {
        Ok(states) => {
            let missing: Vec<&str> = JobName::ALL
                .iter()
                .filter(|j| {
                    !states
                        .iter()
                        .any(|s| s.job_name == **j && s.next_run_at.is_some())
                })
                .map(|j| j.as_str())
                .collect();
            let jobs: serde_json::Value = states
                .iter()
                .map(|s| {
                    (
                        s.job_name.to_string(),
                        json!({ "next_run_at": s.next_run_at, "last_outcome": s.last_outcome }),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
            if missing.is_empty() {
                (
                    StatusCode::OK,
                    Json(json!({ "status": "ok", "jobs": jobs })),
                )
            } else {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({ "status": "not armed", "missing": missing, "jobs": jobs })),
                )
            }
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "database unavailable", "error": e.to_string() })),
        ),
    }
}

/// Serves `/health` on `port` (all interfaces: Railway probes from outside the container).
pub async fn serve(store: Store, port: u16) -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/health", get(health))
        .with_state(store);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "health server stopped");
        }
    });
    Ok(addr)
}
