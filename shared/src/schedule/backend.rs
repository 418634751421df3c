//! Where the next run of a job is armed. The seed's `SchedulerBackend`: `schedule_job` and
//! `get_backend_info`, plus `armed` so the watchdog can tell a live chain from a dead one.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::aws::EventBridgeScheduler;
use crate::jobs::JobName;
use crate::store::{Store, StoreError};

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
    #[error("the function's own ARN is unknown (no invocation context yet)")]
    NoTarget,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub trait SchedulerBackend: Send + Sync {
    /// Arms `job` to run at `at` (or as soon after as the backend allows); returns the time
    /// actually armed.
    fn schedule_job(
        &self,
        job: JobName,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
        reason: &str,
    ) -> impl Future<Output = Result<DateTime<Utc>, ScheduleError>> + Send;

    /// The armed next run, `None` when there is none.
    fn armed(
        &self,
        job: JobName,
    ) -> impl Future<Output = Result<Option<Armed>, ScheduleError>> + Send;

    fn get_backend_info(&self) -> serde_json::Value;
}

/// Logs what it would schedule (`SCHEDULER_DRY_RUN=true`).
#[derive(Debug, Clone, Default)]
pub struct DryRunScheduler;

impl SchedulerBackend for DryRunScheduler {
    async fn schedule_job(
        &self,
        job: JobName,
        at: DateTime<Utc>,
        _now: DateTime<Utc>,
        reason: &str,
    ) -> Result<DateTime<Utc>, ScheduleError> {
        tracing::info!(job = %job, at = %at, reason, "dry run: next run not armed");
        Ok(at)
    }

    async fn armed(&self, _job: JobName) -> Result<Option<Armed>, ScheduleError> {
        Ok(None)
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
    async fn schedule_job(
        &self,
        job: JobName,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<DateTime<Utc>, ScheduleError> {
        let at = at.max(now);
        self.store.set_next_run(job.as_str(), at, reason).await?;
        Ok(at)
    }

    async fn armed(&self, job: JobName) -> Result<Option<Armed>, ScheduleError> {
        Ok(self
            .store
            .job_state(job.as_str())
            .await?
            .and_then(|s| s.next_run_at)
            .map(|at| Armed { at, enabled: true }))
    }

    fn get_backend_info(&self) -> serde_json::Value {
        serde_json::json!({ "backend": self.mode, "schedule": "postgres job_state" })
    }
}

/// The backend chosen by `SCHEDULER_BACKEND` (and `SCHEDULER_DRY_RUN`).
#[derive(Debug, Clone)]
pub enum Backend {
    Aws(EventBridgeScheduler),
    Database(DatabaseScheduler),
    DryRun(DryRunScheduler),
}

impl SchedulerBackend for Backend {
    async fn schedule_job(
        &self,
        job: JobName,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<DateTime<Utc>, ScheduleError> {
        match self {
            Backend::Aws(b) => b.schedule_job(job, at, now, reason).await,
            Backend::Database(b) => b.schedule_job(job, at, now, reason).await,
            Backend::DryRun(b) => b.schedule_job(job, at, now, reason).await,
        }
    }

    async fn armed(&self, job: JobName) -> Result<Option<Armed>, ScheduleError> {
        match self {
            Backend::Aws(b) => b.armed(job).await,
            Backend::Database(b) => b.armed(job).await,
            Backend::DryRun(b) => b.armed(job).await,
        }
    }

    fn get_backend_info(&self) -> serde_json::Value {
        match self {
            Backend::Aws(b) => b.get_backend_info(),
            Backend::Database(b) => b.get_backend_info(),
            Backend::DryRun(b) => b.get_backend_info(),
        }
    }
}
