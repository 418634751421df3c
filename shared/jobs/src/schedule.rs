//! Where the next run of a job is armed: `schedule_job` and `get_backend_info`, plus `armed` so
//! the watchdog can tell a live chain from a dead one. The database backend (the harness) and
//! the dry run live here; the EventBridge backend lives in the AWS crate.

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use odds_store::{Store, StoreError};
use serde::Serialize;

use odds_core::model::JobName;

/// A job's next run as the backend holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Armed {
    pub at: DateTime<Utc>,
    pub enabled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("EventBridge {operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub trait SchedulerBackend: Send + Sync {
    /// Arms `job` to run at `at` (or as soon after as the backend allows); returns the time
    /// actually armed.
    fn schedule_job<'a>(
        &'a self,
        job: JobName,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<DateTime<Utc>, ScheduleError>>;

    /// The armed next run, `None` when there is none.
    fn armed(&self, job: JobName) -> BoxFuture<'_, Result<Option<Armed>, ScheduleError>>;

    fn get_backend_info(&self) -> serde_json::Value;
}

/// Logs what it would schedule (`SCHEDULER_DRY_RUN=true`).
#[derive(Debug, Clone, Default)]
pub struct DryRunScheduler;

impl SchedulerBackend for DryRunScheduler {
    fn schedule_job<'a>(
        &'a self,
        job: JobName,
        at: DateTime<Utc>,
        _now: DateTime<Utc>,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<DateTime<Utc>, ScheduleError>> {
        tracing::info!(job = %job, at = %at, reason, "dry run: next run not armed");
        async move { Ok(at) }.boxed()
    }

    fn armed(&self, _job: JobName) -> BoxFuture<'_, Result<Option<Armed>, ScheduleError>> {
        async { Ok(None) }.boxed()
    }

    fn get_backend_info(&self) -> serde_json::Value {
        serde_json::json!({ "backend": "dry-run" })
    }
}

/// The harness's schedule: `job_state.next_run_at`, durable across restarts.
#[derive(Debug, Clone)]
pub struct DatabaseScheduler {
    store: Store,
    mode: &'static str,
}

impl DatabaseScheduler {
    pub fn new(store: Store, mode: &'static str) -> DatabaseScheduler {
        DatabaseScheduler { store, mode }
    }
}

impl SchedulerBackend for DatabaseScheduler {
    fn schedule_job<'a>(
        &'a self,
        job: JobName,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<DateTime<Utc>, ScheduleError>> {
        async move {
            let at = at.max(now);
            self.store.set_next_run(job, at, reason).await?;
            Ok(at)
        }
        .boxed()
    }

    fn armed(&self, job: JobName) -> BoxFuture<'_, Result<Option<Armed>, ScheduleError>> {
        async move {
            Ok(self
                .store
                .job_state(job)
                .await?
                .and_then(|s| s.next_run_at)
                .map(|at| Armed { at, enabled: true }))
        }
        .boxed()
    }

    fn get_backend_info(&self) -> serde_json::Value {
        serde_json::json!({ "backend": self.mode, "schedule": "postgres job_state" })
    }
}
