//! The three jobs and the one driver that runs them: single-flight lease, gate, run, plan the
//! next run, arm it, record the run. Each job supplies only its gate, its work and its plan;
//! the Lambda functions and the harness call [`invoke`].

mod fetch_odds;
mod fetch_scores;
mod update_status;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::ingest::{IngestError, IngestOptions};
use crate::lifecycle::LifecycleRules;
use crate::model::{FetchLog, FetchTier, Quota};
use crate::odds_api::{ApiResponse, Endpoint, OddsApiClient, OddsApiError};
use crate::schedule::{Backend, Plan, PlannerSettings, Policy, SchedulerBackend};
use crate::store::{JobRunRecord, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobName {
    FetchOdds,
    FetchScores,
    UpdateStatus,
}

impl JobName {
    pub const ALL: [JobName; 3] = [
        JobName::FetchOdds,
        JobName::FetchScores,
        JobName::UpdateStatus,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobName::FetchOdds => "fetch-odds",
            JobName::FetchScores => "fetch-scores",
            JobName::UpdateStatus => "update-status",
        }
    }
}

impl fmt::Display for JobName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobName::ALL
            .into_iter()
            .find(|j| j.as_str() == s)
            .ok_or_else(|| format!("unknown job '{s}' (fetch-odds, fetch-scores, update-status)"))
    }
}

/// What a job was invoked with. One shape covers the three sources: the self-scheduling rule's
/// input (`job`, `reason`, `scheduled_for`), the watchdog (EventBridge's "Scheduled Event"
/// envelope, or `{"watchdog": true}`), and a manual `{}` (what `cargo lambda invoke` sends).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Do the paid work even when the plan says it is not due.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub watchdog: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(
        default,
        rename = "detail-type",
        skip_serializing_if = "Option::is_none"
    )]
    pub detail_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InvocationKind {
    Scheduled,
    Watchdog,
    Manual,
}

impl Invocation {
    pub fn scheduled(job: JobName, reason: &str, at: DateTime<Utc>) -> Invocation {
        Invocation {
            job: Some(job.to_string()),
            reason: Some(reason.to_string()),
            scheduled_for: Some(at),
            ..Invocation::default()
        }
    }

    /// Tolerant: an unknown shape is treated as a manual invocation.
    pub fn from_value(value: &serde_json::Value) -> Invocation {
        serde_json::from_value(value.clone()).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "unrecognised invocation input; treated as manual");
            Invocation::default()
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    pub fn kind(&self) -> InvocationKind {
        if self.watchdog
            || self.detail_type.as_deref() == Some("Scheduled Event")
            || self.source.as_deref() == Some("aws.events")
        {
            InvocationKind::Watchdog
        } else if self.job.is_some() {
            InvocationKind::Scheduled
        } else {
            InvocationKind::Manual
        }
    }
}

/// Everything the jobs share, built once per process (per Lambda cold start).
pub struct JobContext {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// `None` without an API key: jobs that need it fail with a clear error (and retry).
    pub odds_api: Option<OddsApiClient>,
    pub backend: Backend,
    pub settings: JobSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobSettings {
    pub sports: Vec<String>,
    pub bookmakers: Vec<String>,
    pub markets: Vec<String>,
    pub regions: Vec<String>,
    pub planner: PlannerSettings,
    /// `Original` only for the simulator's baseline.
    pub policy: Policy,
    pub lifecycle: LifecycleRules,
    pub ingest: IngestOptions,
    /// Delays before retrying a failed run; the last repeats.
    pub retry_backoff: Vec<Duration>,
    /// A run holding its lease longer than this is presumed dead.
    pub lease_ttl: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            sports: vec!["basketball_nba".into()],
            bookmakers: crate::model::DEFAULT_BOOKMAKERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            markets: vec!["h2h".into(), "spreads".into(), "totals".into()],
            regions: vec!["us".into()],
            planner: PlannerSettings::default(),
            policy: Policy::Planner,
            lifecycle: LifecycleRules::default(),
            ingest: IngestOptions::default(),
            retry_backoff: vec![
                Duration::minutes(5),
                Duration::minutes(15),
                Duration::minutes(60),
            ],
            lease_ttl: Duration::minutes(15),
        }
    }
}

impl JobSettings {
    pub fn from_config(config: &crate::Config, planner: PlannerSettings) -> JobSettings {
        JobSettings {
            sports: config.sports.clone(),
            bookmakers: config.bookmakers.clone(),
            markets: config.markets.clone(),
            regions: config.regions.clone(),
            planner,
            ingest: IngestOptions::from_config(config),
            ..JobSettings::default()
        }
    }

    pub fn backoff(&self, failures: i32) -> Duration {
        let i = (failures.max(1) as usize - 1).min(self.retry_backoff.len().saturating_sub(1));
        self.retry_backoff
            .get(i)
            .copied()
            .unwrap_or(Duration::minutes(5))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("The Odds API: {0}")]
    Api(Box<OddsApiError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("{0}")]
    Setup(String),
}

impl From<OddsApiError> for JobError {
    fn from(e: OddsApiError) -> Self {
        JobError::Api(Box::new(e))
    }
}

/// Where and when an API call was made, for its `fetch_logs` row.
struct Call<'a> {
    job: JobName,
    endpoint: Endpoint,
    sport: &'a str,
    at: DateTime<Utc>,
    started: Instant,
}

impl<'a> Call<'a> {
    fn start(job: JobName, endpoint: Endpoint, sport: &'a str, at: DateTime<Utc>) -> Self {
        Call {
            job,
            endpoint,
            sport,
            at,
            started: Instant::now(),
        }
    }
}

/// The paid part's go-ahead, decided after the free part (discovery).
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub due: bool,
    pub reason: String,
    pub tier: Option<FetchTier>,
    /// Games seen by the free part.
    pub events: usize,
}

/// What the paid part did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkReport {
    pub events: usize,
    pub snapshots_stored: usize,
    pub credits_used: i64,
    pub games_updated: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    /// The paid work ran.
    Success,
    /// Not due: nothing spent.
    Skipped,
    /// Another invocation holds the job's lease.
    Busy,
    Failed,
}

impl RunOutcome {
    fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Success => "success",
            RunOutcome::Skipped => "skipped",
            RunOutcome::Busy => "busy",
            RunOutcome::Failed => "failed",
        }
    }
}

/// The JSON a function returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobSummary {
    pub job: JobName,
    pub invocation: InvocationKind,
    pub outcome: RunOutcome,
    pub executed: bool,
    pub reason: String,
    pub tier: Option<FetchTier>,
    pub events: usize,
    pub snapshots_stored: usize,
    pub credits_used: i64,
    pub games_updated: usize,
    pub next_run_at: Option<DateTime<Utc>>,
    pub next_run_reason: Option<String>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// Runs one invocation of `job` to the end: never fails, so the function always answers and,
/// whatever broke, the next run is armed.
pub async fn invoke(ctx: &JobContext, job: JobName, invocation: &Invocation) -> JobSummary {
    let timer = Instant::now();
    let now = ctx.clock.now();
    let kind = invocation.kind();
    let mut summary = JobSummary {
        job,
        invocation: kind,
        outcome: RunOutcome::Skipped,
        executed: false,
        reason: String::new(),
        tier: None,
        events: 0,
        snapshots_stored: 0,
        credits_used: 0,
        games_updated: 0,
        next_run_at: None,
        next_run_reason: None,
        error: None,
        duration_ms: 0,
    };
    if let Some(other) = invocation.job.as_deref().filter(|j| *j != job.as_str()) {
        tracing::warn!(job = %job, input_job = other, "input names another job; running this function's own");
    }

    if kind == InvocationKind::Watchdog {
        match ctx.backend.armed(job).await {
            Ok(Some(armed)) if armed.enabled && armed.at + Duration::minutes(10) > now => {
                summary.reason = format!("watchdog: next run armed for {}", armed.at);
                summary.next_run_at = Some(armed.at);
                summary.duration_ms = timer.elapsed().as_millis() as u64;
                return summary;
            }
            Ok(state) => {
                tracing::warn!(job = %job, ?state, "watchdog: chain broken (rule missing, disabled or overdue); re-arming")
            }
            Err(e) => {
                tracing::warn!(job = %job, error = %e, "watchdog: cannot read the schedule; re-arming")
            }
        }
    }

    let owner = instance_id();
    let failures_before = match ctx
        .store
        .try_acquire_lease(job.as_str(), &owner, now, ctx.settings.lease_ttl)
        .await
    {
        Ok(Some(failures)) => failures,
        Ok(None) => {
            summary.outcome = RunOutcome::Busy;
            summary.reason = "another invocation of this job is running".into();
            summary.duration_ms = timer.elapsed().as_millis() as u64;
            tracing::info!(job = %job, "{}", summary.reason);
            return summary;
        }
        Err(e) => {
            // No database, no run; but the chain must survive until it is back.
            let next = now + ctx.settings.backoff(1);
            summary.outcome = RunOutcome::Failed;
            summary.error = Some(e.to_string());
            summary.reason = "database unavailable".into();
            arm(
                ctx,
                job,
                next,
                now,
                "retry: database unavailable",
                &mut summary,
            )
            .await;
            summary.duration_ms = timer.elapsed().as_millis() as u64;
            tracing::error!(job = %job, error = %e, "run failed before it started");
            return summary;
        }
    };

    let result = run_steps(ctx, job, invocation, now).await;
    let failures;
    let (next_at, next_reason) = match result {
        Ok((gate, report, plan)) => {
            failures = 0;
            summary.executed = gate.due || invocation.force;
            summary.outcome = if summary.executed {
                RunOutcome::Success
            } else {
                RunOutcome::Skipped
            };
            summary.reason = if summary.executed && !gate.due {
                format!("forced ({})", gate.reason)
            } else {
                gate.reason
            };
            summary.tier = gate.tier;
            summary.events = report.events.max(gate.events);
            summary.snapshots_stored = report.snapshots_stored;
            summary.credits_used = report.credits_used;
            summary.games_updated = report.games_updated;
            (plan.at, plan.reason)
        }
        Err(e) => {
            failures = failures_before + 1;
            let delay = ctx.settings.backoff(failures);
            summary.outcome = RunOutcome::Failed;
            summary.reason = format!(
                "failed (attempt {failures}); retrying in {} min",
                delay.num_minutes()
            );
            summary.error = Some(e.to_string());
            tracing::error!(job = %job, error = %e, failures, "run failed");
            (ctx.clock.now() + delay, format!("retry after failure: {e}"))
        }
    };
    arm(
        ctx,
        job,
        next_at,
        ctx.clock.now(),
        &next_reason,
        &mut summary,
    )
    .await;
    summary.duration_ms = timer.elapsed().as_millis() as u64;

    let record = JobRunRecord {
        job_name: job.to_string(),
        started_at: now,
        finished_at: ctx.clock.now(),
        outcome: summary.outcome.as_str().to_string(),
        reason: summary.reason.clone(),
        error: summary.error.clone(),
        summary: serde_json::to_value(&summary).unwrap_or_default(),
    };
    let armed = summary.next_run_at.map(|at| (at, next_reason.as_str()));
    if let Err(e) = ctx.store.record_run(&record, armed, failures, &owner).await {
        tracing::error!(job = %job, error = %e, "could not record the run");
        let _ = ctx.store.release_lease(job.as_str(), &owner).await;
    }
    tracing::info!(
        job = %job, outcome = record.outcome, executed = summary.executed,
        snapshots = summary.snapshots_stored, credits = summary.credits_used,
        next_run_at = ?summary.next_run_at, "{}", summary.reason
    );
    summary
}

/// Arms the next run; a failure is recorded in the summary (the watchdog re-arms later).
async fn arm(
    ctx: &JobContext,
    job: JobName,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    reason: &str,
    summary: &mut JobSummary,
) {
    match ctx.backend.schedule_job(job, at, now, reason).await {
        Ok(armed) => {
            summary.next_run_at = Some(armed);
            summary.next_run_reason = Some(reason.to_string());
        }
        Err(e) => {
            tracing::error!(job = %job, error = %e, "could not arm the next run");
            let message = format!("could not arm the next run: {e}");
            summary.error = Some(match summary.error.take() {
                Some(earlier) => format!("{earlier}; {message}"),
                None => message,
            });
            if summary.outcome != RunOutcome::Failed {
                summary.outcome = RunOutcome::Failed;
            }
        }
    }
}

async fn run_steps(
    ctx: &JobContext,
    job: JobName,
    invocation: &Invocation,
    now: DateTime<Utc>,
) -> Result<(Gate, WorkReport, Plan), JobError> {
    let gate = match job {
        JobName::FetchOdds => fetch_odds::gate(ctx, now).await?,
        JobName::FetchScores => fetch_scores::gate(ctx, now).await?,
        JobName::UpdateStatus => update_status::gate(ctx, now).await?,
    };
    let report = if gate.due || invocation.force {
        match job {
            JobName::FetchOdds => fetch_odds::run(ctx, now).await?,
            JobName::FetchScores => fetch_scores::run(ctx, now).await?,
            JobName::UpdateStatus => update_status::run(ctx, now).await?,
        }
    } else {
        WorkReport::default()
    };
    let later = ctx.clock.now();
    let plan = match job {
        JobName::FetchOdds => fetch_odds::plan(ctx, later).await?,
        JobName::FetchScores => fetch_scores::plan(ctx, later).await?,
        JobName::UpdateStatus => update_status::plan(ctx, later).await?,
    };
    Ok((gate, report, plan))
}

impl JobContext {
    pub fn backend_info(&self) -> serde_json::Value {
        self.backend.get_backend_info()
    }

    /// Tip-off times of the games still to be collected.
    async fn upcoming_tipoffs(&self, now: DateTime<Utc>) -> Result<Vec<DateTime<Utc>>, JobError> {
        Ok(self
            .store
            .collectable_games(now)
            .await?
            .iter()
            .map(|g| g.commence_time)
            .collect())
    }

    fn odds_api(&self) -> Result<&OddsApiClient, JobError> {
        self.odds_api
            .as_ref()
            .ok_or_else(|| JobError::Setup("ODDS_API_KEY is not set".into()))
    }

    /// Writes one `fetch_logs` row per API call; a logging failure never fails the job.
    async fn log_call<T>(
        &self,
        call: Call<'_>,
        result: &Result<ApiResponse<T>, OddsApiError>,
        events: Option<usize>,
    ) {
        let Call {
            job,
            endpoint,
            sport,
            at,
            started,
        } = call;
        let log = match result {
            Ok(response) => FetchLog {
                fetched_at: at,
                job_name: Some(job.to_string()),
                endpoint: endpoint.as_str().to_string(),
                sport_key: Some(sport.to_string()),
                http_status: Some(i32::from(response.status)),
                success: true,
                events_count: events.map(|n| n as i32),
                quota: response.quota,
                duration_ms: started.elapsed().as_millis() as i64,
                error: None,
            },
            Err(e) => FetchLog {
                fetched_at: at,
                job_name: Some(job.to_string()),
                endpoint: endpoint.as_str().to_string(),
                sport_key: Some(sport.to_string()),
                http_status: e.status().map(i32::from),
                success: false,
                events_count: None,
                quota: e.quota(),
                duration_ms: started.elapsed().as_millis() as i64,
                error: Some(e.to_string()),
            },
        };
        if let Err(e) = self.store.log_fetch(&log).await {
            tracing::error!(error = %e, endpoint = %endpoint, "could not write fetch log");
        }
    }
}

/// Credits a response cost: the API's own count when it sent one.
fn credits(quota: &Quota, estimate: u32) -> i64 {
    quota.last.unwrap_or(i64::from(estimate))
}

fn instance_id() -> String {
    format!(
        "{}-{}-{:016x}",
        std::env::var("AWS_LAMBDA_LOG_STREAM_NAME")
            .ok()
            .and_then(|s| s.rsplit(']').next().map(str::to_string))
            .unwrap_or_else(|| "local".into()),
        std::process::id(),
        rand::random::<u64>()
    )
}
