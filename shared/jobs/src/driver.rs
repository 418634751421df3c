//! The driver every job runs through: watchdog check, single-flight lease, gate, run, plan the
//! next run, arm it, record the run. It never fails, so a function always answers and, whatever
//! broke, the next run is armed.

use std::convert::Infallible;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::context::JobContext;
use crate::error::JobError;
use crate::job::{Gate, JobName, Steps, WorkReport};
use odds_core::FetchTier;
use odds_core::planner::{Dropped, Plan};
use odds_store::{JobRunRecord, LeaseAttempt};

/// How late EventBridge may deliver a rule's event: a rule whose time is further past than this
/// without a run is broken.
const WATCHDOG_GRACE: Duration = Duration::minutes(2);
/// A busy run arms its retry this long after the other run's lease ends.
const LEASE_SLACK: Duration = Duration::seconds(30);

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerKind {
    /// The run the job armed for itself.
    Scheduled,
    /// The fixed-rate check that re-arms a broken chain and otherwise does nothing.
    Watchdog,
    /// By hand (`cargo lambda invoke`, `{}`).
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    pub kind: TriggerKind,
    /// Do the paid work even when the plan says it is not due.
    pub force: bool,
}

impl Trigger {
    pub fn manual() -> Trigger {
        Trigger {
            kind: TriggerKind::Manual,
            force: false,
        }
    }

    /// By hand, doing the paid work whatever the plan says (`local-harness once --force`).
    pub fn forced() -> Trigger {
        Trigger {
            kind: TriggerKind::Manual,
            force: true,
        }
    }

    pub fn scheduled() -> Trigger {
        Trigger {
            kind: TriggerKind::Scheduled,
            force: false,
        }
    }

    pub fn watchdog() -> Trigger {
        Trigger {
            kind: TriggerKind::Watchdog,
            force: false,
        }
    }
}

pub use odds_core::model::RunOutcome;

/// The JSON a function returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobSummary {
    pub job: JobName,
    pub invocation: TriggerKind,
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
    /// What the credit budget left out of the next plan: requirements, and refused fetches.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<Dropped>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// How a run ended, before it becomes a [`JobSummary`].
#[derive(Default)]
struct Ending {
    outcome: Option<RunOutcome>,
    executed: bool,
    reason: String,
    tier: Option<FetchTier>,
    work: WorkReport,
    next_at: Option<DateTime<Utc>>,
    next_reason: Option<String>,
    dropped: Vec<Dropped>,
    errors: Vec<String>,
    /// What the watchdog found broken in the chain, if anything.
    broken_chain: Option<String>,
}

/// A lease taken for a run, to be released when the run is recorded.
struct Lease {
    owner: String,
    failures: i32,
}

/// Runs one invocation of `job` to the end.
pub async fn invoke(ctx: &JobContext, job: JobName, trigger: &Trigger) -> JobSummary {
    let timer = Instant::now();
    let started = ctx.clock.now();
    let (ending, lease) = drive(ctx, job, trigger, started).await;
    let summary = JobSummary {
        job,
        invocation: trigger.kind,
        outcome: ending.outcome.unwrap_or(RunOutcome::Skipped),
        executed: ending.executed,
        reason: ending.reason,
        tier: ending.tier,
        events: ending.work.events,
        snapshots_stored: ending.work.snapshots_stored,
        credits_used: ending.work.credits_used,
        games_updated: ending.work.games_updated,
        next_run_at: ending.next_at,
        next_run_reason: ending.next_reason,
        dropped: ending.dropped,
        error: (!ending.errors.is_empty()).then(|| ending.errors.join("; ")),
        duration_ms: timer.elapsed().as_millis() as u64,
    };
    if let Some(lease) = lease {
        record(ctx, job, started, &summary, &lease).await;
    }
    if let Some(notifier) = &ctx.alerts {
        let now = ctx.clock.now();
        if let Some(broken) = &ending.broken_chain {
            crate::alerts::dead_chain(&ctx.store, notifier, job, broken, now).await;
        }
        let settings = &ctx.settings;
        crate::alerts::after_run(
            &ctx.store,
            Some(notifier),
            &settings.planner,
            &settings.collection,
            now,
        )
        .await;
    }
    tracing::info!(
        job = %job, outcome = summary.outcome.as_str(), executed = summary.executed,
        snapshots = summary.snapshots_stored, credits = summary.credits_used,
        next_run_at = ?summary.next_run_at, "{}", summary.reason
    );
    summary
}

async fn drive(
    ctx: &JobContext,
    job: JobName,
    trigger: &Trigger,
    now: DateTime<Utc>,
) -> (Ending, Option<Lease>) {
    let mut ending = Ending::default();
    if trigger.kind == TriggerKind::Watchdog {
        match ctx.backend.armed(job).await {
            // A time already past (beyond EventBridge's delivery delay) is a chain that did not
            // fire or did not re-arm: broken, whatever the rule still says.
            Ok(Some(armed)) if armed.enabled && armed.at + WATCHDOG_GRACE > now => {
                ending.reason = format!("watchdog: next run armed for {}", armed.at);
                ending.next_at = Some(armed.at);
                return (ending, None);
            }
            Ok(state) => {
                let broken = match state {
                    None => "no rule armed (deleted?)".to_string(),
                    Some(armed) if !armed.enabled => {
                        format!("its rule is disabled (armed for {})", armed.at)
                    }
                    Some(armed) => format!("the run armed for {} did not happen", armed.at),
                };
                tracing::warn!(job = %job, broken = %broken, "watchdog: chain broken; re-arming");
                // A job that never ran is being started, not revived: nothing to tell.
                if matches!(ctx.store.job_state(job).await, Ok(Some(state)) if state.last_run_at.is_some())
                {
                    ending.broken_chain = Some(broken);
                }
            }
            Err(e) => {
                tracing::warn!(job = %job, error = %e, "watchdog: cannot read the schedule; re-arming")
            }
        }
    }

    let owner = lease_owner(&ctx.settings.instance);
    let failures_before = match ctx
        .store
        .try_acquire_lease(job, &owner, now, ctx.settings.lease_ttl)
        .await
    {
        Ok(LeaseAttempt::Taken {
            consecutive_failures,
        }) => consecutive_failures,
        Ok(LeaseAttempt::Held { until }) => {
            // The holder arms the next run when it ends; should it have died, this run armed
            // past its lease takes over, so the chain never waits on a dead run.
            ending.outcome = Some(RunOutcome::Busy);
            ending.reason = "another invocation of this job is running".into();
            let retry = until.max(now) + LEASE_SLACK;
            let reason = format!("retry: the lease of another run ends at {until}");
            arm(ctx, job, retry, now, reason, &mut ending).await;
            return (ending, None);
        }
        Err(e) => {
            // No database, no run; but the chain must survive until it is back.
            tracing::error!(job = %job, error = %e, "run failed before it started");
            ending.outcome = Some(RunOutcome::Failed);
            ending.errors.push(e.to_string());
            ending.reason = "database unavailable".into();
            let next = now + ctx.settings.backoff(1);
            arm(
                ctx,
                job,
                next,
                now,
                "retry: database unavailable".into(),
                &mut ending,
            )
            .await;
            return (ending, None);
        }
    };

    // This run's attempt number, should it fail.
    let attempt = failures_before + 1;
    let result = tokio::select! {
        result = run_steps(ctx, job, trigger, now) => result,
        never = keep_lease(ctx, job, &owner) => match never {},
    };
    let (at, reason) = match result {
        Ok((gate, work, plan)) => {
            ending.executed = gate.due || trigger.force;
            ending.outcome = Some(if ending.executed {
                RunOutcome::Success
            } else {
                RunOutcome::Skipped
            });
            ending.reason = if ending.executed && !gate.due {
                format!("forced ({})", gate.reason)
            } else {
                gate.reason
            };
            ending.tier = gate.tier;
            ending.work = WorkReport {
                events: work.events.max(gate.events),
                ..work
            };
            ending.dropped = plan.dropped;
            (plan.at, plan.reason)
        }
        Err(e) => {
            let delay = ctx.settings.backoff(attempt);
            tracing::error!(job = %job, error = %e, failures = attempt, "run failed");
            ending.outcome = Some(RunOutcome::Failed);
            ending.reason = format!(
                "failed (attempt {attempt}); retrying in {} min",
                delay.num_minutes()
            );
            ending.errors.push(e.to_string());
            (ctx.clock.now() + delay, format!("retry after failure: {e}"))
        }
    };
    let failures = if ending.outcome == Some(RunOutcome::Failed) {
        attempt
    } else {
        0
    };
    arm(ctx, job, at, ctx.clock.now(), reason, &mut ending).await;
    (ending, Some(Lease { owner, failures }))
}

async fn run_steps(
    ctx: &JobContext,
    job: JobName,
    trigger: &Trigger,
    now: DateTime<Utc>,
) -> Result<(Gate, WorkReport, Plan), JobError> {
    let steps = steps(job);
    let gate = (steps.gate)(ctx, now).await?;
    let work = if gate.due || trigger.force {
        (steps.run)(ctx, now).await?
    } else {
        WorkReport::default()
    };
    let plan = (steps.plan)(ctx, ctx.clock.now()).await?;
    Ok((gate, work, plan))
}

/// Renews the run's lease while it runs: a run killed at any point leaves a lease that expires
/// within the lease time.
async fn keep_lease(ctx: &JobContext, job: JobName, owner: &str) -> Infallible {
    let every = (ctx.settings.lease_ttl / 4)
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(30));
    loop {
        tokio::time::sleep(every).await;
        let until = ctx.clock.now() + ctx.settings.lease_ttl;
        match ctx.store.renew_lease(job, owner, until).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(job = %job, "the run's lease was taken over"),
            Err(e) => tracing::warn!(job = %job, error = %e, "could not renew the run's lease"),
        }
    }
}

/// The job's steps: the one place a name becomes code.
fn steps(job: JobName) -> &'static Steps {
    match job {
        JobName::FetchOdds => &crate::fetch_odds::STEPS,
        JobName::FetchScores => &crate::fetch_scores::STEPS,
        JobName::UpdateStatus => &crate::update_status::STEPS,
    }
}

/// Arms the next run; a failure fails the run (the watchdog re-arms later).
async fn arm(
    ctx: &JobContext,
    job: JobName,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    reason: String,
    ending: &mut Ending,
) {
    match ctx.backend.schedule_job(job, at, now, &reason).await {
        Ok(armed) => {
            ending.next_at = Some(armed);
            ending.next_reason = Some(reason);
        }
        Err(e) => {
            tracing::error!(job = %job, error = %e, "could not arm the next run");
            ending
                .errors
                .push(format!("could not arm the next run: {e}"));
            ending.outcome = Some(RunOutcome::Failed);
        }
    }
}

/// Records the run and releases its lease in one statement.
async fn record(
    ctx: &JobContext,
    job: JobName,
    started: DateTime<Utc>,
    summary: &JobSummary,
    lease: &Lease,
) {
    let record = JobRunRecord {
        job_name: job,
        started_at: started,
        finished_at: ctx.clock.now(),
        outcome: summary.outcome,
        reason: summary.reason.clone(),
        error: summary.error.clone(),
        summary: serde_json::to_value(summary).unwrap_or_default(),
    };
    let armed = summary.next_run_at.zip(summary.next_run_reason.as_deref());
    if let Err(e) = ctx
        .store
        .record_run(&record, armed, lease.failures, &lease.owner)
        .await
    {
        tracing::error!(job = %job, error = %e, "could not record the run");
        let _ = ctx.store.release_lease(job, &lease.owner).await;
    }
}

/// A lease owner unique to this run: the process, and a random part per run.
fn lease_owner(instance: &str) -> String {
    format!(
        "{instance}-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    )
}
