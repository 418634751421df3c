//! What a job is: a name, and three steps the driver calls in order. A gate (free work, then
//! "is the paid part due?"), the paid work, and the plan of the next run. Each job module
//! exports its steps as a `STEPS` table; the driver maps a name to it.

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use odds_core::FetchTier;
use odds_core::planner::Plan;
use serde::Serialize;

use crate::context::JobContext;
use crate::error::JobError;

pub use odds_core::model::JobName;

/// One step of a job: borrows the context for as long as it runs.
pub(crate) type Step<T> =
    for<'a> fn(&'a JobContext, DateTime<Utc>) -> BoxFuture<'a, Result<T, JobError>>;

/// A job as the driver sees it.
pub(crate) struct Steps {
    /// The free part (discovery, bookkeeping), ending in whether the paid part is due.
    pub gate: Step<Gate>,
    /// The paid part.
    pub run: Step<WorkReport>,
    /// When to run next, judged after the run.
    pub plan: Step<Plan>,
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

impl Gate {
    /// The go-ahead of a plan judged at `now`.
    pub fn from_plan(plan: Plan, now: DateTime<Utc>, events: usize) -> Gate {
        Gate {
            due: plan.is_due(now),
            reason: plan.reason,
            tier: plan.tier,
            events,
        }
    }
}

/// What the paid part did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkReport {
    pub events: usize,
    pub snapshots_stored: usize,
    pub credits_used: i64,
    pub games_updated: usize,
}
