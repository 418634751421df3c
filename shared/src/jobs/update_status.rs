//! update-status: games go live at tip-off, and postponed games that never came back are
//! cancelled. Database only, so it always runs.

use chrono::{DateTime, Utc};

use super::{Gate, JobContext, JobError, WorkReport};
use crate::schedule::Plan;
use crate::schedule::planner::next_status_update;

pub(super) async fn gate(_ctx: &JobContext, _now: DateTime<Utc>) -> Result<Gate, JobError> {
    Ok(Gate {
        due: true,
        reason: "status pass (no API call)".into(),
        tier: None,
        events: 0,
    })
}

pub(super) async fn run(ctx: &JobContext, now: DateTime<Utc>) -> Result<WorkReport, JobError> {
    let (live, cancelled) = ctx
        .store
        .advance_statuses(now, ctx.settings.lifecycle.cancel_after)
        .await?;
    Ok(WorkReport {
        games_updated: (live + cancelled) as usize,
        ..WorkReport::default()
    })
}

pub(super) async fn plan(ctx: &JobContext, now: DateTime<Utc>) -> Result<Plan, JobError> {
    let upcoming = ctx.upcoming_tipoffs(now).await?;
    Ok(next_status_update(now, &upcoming, &ctx.settings.planner))
}
