//! update-status: games go live at tip-off, and postponed games that never came back are
//! cancelled. Database only, so it always runs.

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use odds_core::planner::{Plan, next_status_update};

use crate::context::JobContext;
use crate::error::JobError;
use crate::job::{Gate, Steps, WorkReport};

pub(crate) static STEPS: Steps = Steps {
    gate: |_, _| {
        async {
            Ok(Gate {
                due: true,
                reason: "status pass (no API call)".into(),
                tier: None,
                events: 0,
            })
        }
        .boxed()
    },
    run: |ctx, now| advance(ctx, now).boxed(),
    plan: |ctx, now| plan(ctx, now).boxed(),
};

async fn advance(ctx: &JobContext, now: DateTime<Utc>) -> Result<WorkReport, JobError> {
    let (live, cancelled) = ctx
        .store
        .advance_statuses(now, &ctx.settings.lifecycle)
        .await?;
    Ok(WorkReport {
        games_updated: (live + cancelled) as usize,
        ..WorkReport::default()
    })
}

async fn plan(ctx: &JobContext, now: DateTime<Utc>) -> Result<Plan, JobError> {
    let upcoming = ctx.upcoming_tipoffs(now).await?;
    Ok(next_status_update(now, &upcoming, &ctx.settings.planner))
}
