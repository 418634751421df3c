//! fetch-scores: when games should be over, ask `/scores` (completed games included) and mark
//! them final with their scores; ask again later for those still running.

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use odds_core::model::{EventStatus, IssueKind, QualityIssue, Severity};
use odds_core::planner::{PendingGame, Plan};
use odds_core::time::parse_rfc3339;
use odds_core::wire::ScoreEvent;
use odds_sources::odds_api::{CreditCost, Endpoint, ScoresRequest};
use odds_store::{AwaitingScore, StatusUpdate};
use serde_json::json;

use crate::calls::{Answer, Call, credits};
use crate::context::JobContext;
use crate::job::{Gate, JobError, JobName, Steps, WorkReport};

pub(crate) static STEPS: Steps = Steps {
    gate: |ctx, now| async move { Ok(Gate::from_plan(plan(ctx, now).await?, now, 0)) }.boxed(),
    run: |ctx, now| fetch_scores(ctx, now).boxed(),
    plan: |ctx, now| plan(ctx, now).boxed(),
};

async fn fetch_scores(ctx: &JobContext, now: DateTime<Utc>) -> Result<WorkReport, JobError> {
    let client = ctx.odds_api()?;
    let awaiting = ctx.store.games_awaiting_scores(now).await?;
    let mut report = WorkReport::default();
    let Some(oldest) = awaiting.iter().map(|g| g.commence_time).min() else {
        return Ok(report);
    };
    // daysFrom costs 2 whatever its value; ask far enough back for the oldest pending game.
    let days_from = (now - oldest).num_days().clamp(0, 2) as u8 + 1;
    for sport in &ctx.settings.collection.sports {
        let request = ScoresRequest {
            sport: sport.clone(),
            days_from: Some(days_from),
            event_ids: Vec::new(),
        };
        let call = Call::start(JobName::FetchScores, Endpoint::Scores, sport, now);
        let result = client.scores(&request).await;
        let count = result.as_ref().ok().map(|r| r.data.items.len());
        call.log(ctx, Answer::of(&result, count)).await;
        let response = result?;
        report.credits_used += credits(&response.quota, request.credit_cost());
        report.events += response.data.items.len();
        for score in &response.data.items {
            let Some(game) = awaiting.iter().find(|g| g.id == score.id) else {
                continue;
            };
            let update = match status_update(game, score) {
                Ok(Some(update)) => update,
                Ok(None) => continue,
                Err(issue) => {
                    ctx.store.log_data_quality_issue(&issue).await?;
                    continue;
                }
            };
            if ctx.store.update_event_status(&update).await? {
                report.games_updated += 1;
            }
        }
    }
    Ok(report)
}

/// What a `/scores` entry says of a game awaiting its score: final, live, or nothing yet. A
/// completed game without both teams' points is an issue, not a final.
fn status_update(
    game: &AwaitingScore,
    score: &ScoreEvent,
) -> Result<Option<StatusUpdate>, QualityIssue> {
    let home = score.points_of(&game.home_team).map(|p| p as i32);
    let away = score.points_of(&game.away_team).map(|p| p as i32);
    if score.completed {
        let (Some(home), Some(away)) = (home, away) else {
            return Err(QualityIssue::new(
                Some(&game.id),
                Severity::Error,
                IssueKind::MissingScore,
                format!(
                    "{} is completed but its scores do not name {} and {}",
                    game.id, game.home_team, game.away_team
                ),
                json!({ "scores": score.scores }),
            ));
        };
        // The completion time is the feed's own; an unreadable one is left unknown.
        let completed_at = score.last_update.as_deref().and_then(parse_rfc3339);
        return Ok(Some(StatusUpdate {
            event_id: game.id.clone(),
            status: EventStatus::Final,
            home_score: Some(home),
            away_score: Some(away),
            completed_at,
        }));
    }
    Ok(score.scores.is_some().then(|| StatusUpdate {
        event_id: game.id.clone(),
        status: EventStatus::Live,
        home_score: home,
        away_score: away,
        completed_at: None,
    }))
}

async fn plan(ctx: &JobContext, now: DateTime<Utc>) -> Result<Plan, JobError> {
    let awaiting = ctx.store.games_awaiting_scores(now).await?;
    let last = ctx.store.last_successful_fetch(Endpoint::Scores).await?;
    let pending: Vec<PendingGame> = awaiting
        .iter()
        .map(|g| PendingGame {
            commence_time: g.commence_time,
        })
        .collect();
    let upcoming = ctx.upcoming_tipoffs(now).await?;
    Ok(ctx
        .policy
        .next_scores_fetch(now, &pending, &upcoming, last, &ctx.settings.planner))
}
