//! Scheduler state: one `job_state` row per job (next run, last run, lease) and the `job_runs`
//! history.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tokio_postgres::Row;

use odds_core::model::{JobName, RunOutcome};

use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobState {
    pub job_name: JobName,
    pub next_run_at: Option<DateTime<Utc>>,
    pub next_run_reason: Option<String>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<RunOutcome>,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
}

/// What an attempt to take a job's lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseAttempt {
    /// The lease is this run's; the job had failed this many times in a row before it.
    Taken { consecutive_failures: i32 },
    /// Another run holds it until then (unless renewed).
    Held { until: DateTime<Utc> },
}

/// One finished run, as written to `job_runs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRunRecord {
    pub job_name: JobName,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: RunOutcome,
    pub reason: String,
    pub error: Option<String>,
    pub summary: serde_json::Value,
}

const STATE_COLUMNS: &str = "job_name, next_run_at, next_run_reason, last_run_at, last_outcome, \
     last_error, consecutive_failures, lease_owner, lease_expires_at";

fn state_from_row(r: &Row) -> Result<JobState, StoreError> {
    Ok(JobState {
        job_name: r.get::<_, &str>(0).parse()?,
        next_run_at: r.get(1),
        next_run_reason: r.get(2),
        last_run_at: r.get(3),
        last_outcome: r.get::<_, Option<&str>>(4).map(str::parse).transpose()?,
        last_error: r.get(5),
        consecutive_failures: r.get(6),
        lease_owner: r.get(7),
        lease_expires_at: r.get(8),
    })
}

impl Store {
    /// Single flight: takes the job's lease unless another owner holds an unexpired one. The
    /// holder renews it while it runs, so a killed run's lease expires within `ttl` and the
    /// next run takes it over.
    pub async fn try_acquire_lease(
        &self,
        job: JobName,
        owner: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<LeaseAttempt, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "INSERT INTO job_state (job_name, lease_owner, lease_expires_at)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (job_name) DO UPDATE
                    SET lease_owner = EXCLUDED.lease_owner,
                        lease_expires_at = EXCLUDED.lease_expires_at
                  WHERE job_state.lease_owner IS NULL OR job_state.lease_owner = $2
                     OR job_state.lease_expires_at <= $4
                 RETURNING consecutive_failures",
            )
            .await?;
        if let Some(row) = conn
            .query_opt(&stmt, &[&job.as_str(), &owner, &(now + ttl), &now])
            .await?
        {
            return Ok(LeaseAttempt::Taken {
                consecutive_failures: row.get(0),
            });
        }
        let held = conn
            .query_opt(
                "SELECT lease_expires_at FROM job_state WHERE job_name = $1",
                &[&job.as_str()],
            )
            .await?
            .and_then(|r| r.get::<_, Option<DateTime<Utc>>>(0));
        Ok(LeaseAttempt::Held {
            until: held.unwrap_or(now + ttl),
        })
    }

    /// Extends a lease its owner still holds; false when it is no longer the owner's.
    pub async fn renew_lease(
        &self,
        job: JobName,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let conn = self.pool.get().await?;
        Ok(conn
            .execute(
                "UPDATE job_state SET lease_expires_at = $3
                  WHERE job_name = $1 AND lease_owner = $2",
                &[&job.as_str(), &owner, &until],
            )
            .await?
            == 1)
    }

    pub async fn release_lease(&self, job: JobName, owner: &str) -> Result<(), StoreError> {
        let conn = self.pool.get().await?;
        conn.execute(
            "UPDATE job_state SET lease_owner = NULL, lease_expires_at = NULL
              WHERE job_name = $1 AND lease_owner = $2",
            &[&job.as_str(), &owner],
        )
        .await?;
        Ok(())
    }

    /// Writes the run to the history and the job's state, and releases the lease, atomically.
    pub async fn record_run(
        &self,
        run: &JobRunRecord,
        next_run: Option<(DateTime<Utc>, &str)>,
        consecutive_failures: i32,
        owner: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        tx.execute(
            "INSERT INTO job_runs (job_name, started_at, finished_at, outcome, reason, error, summary)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &run.job_name.as_str(),
                &run.started_at,
                &run.finished_at,
                &run.outcome.as_str(),
                &run.reason,
                &run.error,
                &run.summary,
            ],
        )
        .await?;
        let (next_at, next_reason) = match next_run {
            Some((at, reason)) => (Some(at), Some(reason)),
            None => (None, None),
        };
        tx.execute(
            "INSERT INTO job_state (job_name) VALUES ($1) ON CONFLICT (job_name) DO NOTHING",
            &[&run.job_name.as_str()],
        )
        .await?;
        tx.execute(
            "UPDATE job_state SET
                 last_run_at = $2, last_outcome = $3, last_error = $4,
                 consecutive_failures = $5,
                 next_run_at = COALESCE($6, next_run_at),
                 next_run_reason = COALESCE($7, next_run_reason),
                 lease_owner = CASE WHEN lease_owner = $8 THEN NULL ELSE lease_owner END,
                 lease_expires_at = CASE WHEN lease_owner = $8 THEN NULL ELSE lease_expires_at END,
                 updated_at = now()
              WHERE job_name = $1",
            &[
                &run.job_name.as_str(),
                &run.started_at,
                &run.outcome.as_str(),
                &run.error,
                &consecutive_failures,
                &next_at,
                &next_reason,
                &owner,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Arms the job's next run (the harness backend's schedule).
    pub async fn set_next_run(
        &self,
        job: JobName,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let conn = self.pool.get().await?;
        conn.execute(
            "INSERT INTO job_state (job_name, next_run_at, next_run_reason) VALUES ($1, $2, $3)
             ON CONFLICT (job_name) DO UPDATE
                SET next_run_at = $2, next_run_reason = $3, updated_at = now()",
            &[&job.as_str(), &at, &reason],
        )
        .await?;
        // Wakes a sleeping harness early.
        conn.execute("SELECT pg_notify('odds_schedule', $1)", &[&job.as_str()])
            .await?;
        Ok(())
    }

    pub async fn job_state(&self, job: JobName) -> Result<Option<JobState>, StoreError> {
        let conn = self.pool.get().await?;
        let sql = format!("SELECT {STATE_COLUMNS} FROM job_state WHERE job_name = $1");
        let stmt = conn.prepare_cached(&sql).await?;
        conn.query_opt(&stmt, &[&job.as_str()])
            .await?
            .map(|r| state_from_row(&r))
            .transpose()
    }

    pub async fn job_states(&self) -> Result<Vec<JobState>, StoreError> {
        let conn = self.pool.get().await?;
        let sql = format!("SELECT {STATE_COLUMNS} FROM job_state ORDER BY job_name");
        let stmt = conn.prepare_cached(&sql).await?;
        conn.query(&stmt, &[])
            .await?
            .iter()
            .map(state_from_row)
            .collect()
    }

    pub async fn recent_runs(
        &self,
        job: JobName,
        limit: i64,
    ) -> Result<Vec<JobRunRecord>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT job_name, started_at, finished_at, outcome, reason, error, summary
                   FROM job_runs WHERE job_name = $1
                  ORDER BY started_at DESC, id DESC LIMIT $2",
            )
            .await?;
        conn.query(&stmt, &[&job.as_str(), &limit])
            .await?
            .iter()
            .map(|r| {
                Ok(JobRunRecord {
                    job_name: r.get::<_, &str>(0).parse()?,
                    started_at: r.get(1),
                    finished_at: r
                        .get::<_, Option<DateTime<Utc>>>(2)
                        .unwrap_or_else(|| r.get(1)),
                    outcome: r.get::<_, &str>(3).parse()?,
                    reason: r.get::<_, Option<String>>(4).unwrap_or_default(),
                    error: r.get(5),
                    summary: r.get::<_, Option<serde_json::Value>>(6).unwrap_or_default(),
                })
            })
            .collect()
    }
}
