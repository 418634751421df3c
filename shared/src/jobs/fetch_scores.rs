//! fetch-scores: when games should be over, ask `/scores` (completed games included) and mark
//! them final with their scores; ask again later for those still running.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Call, Gate, JobContext, JobError, JobName, WorkReport, credits};
use crate::model::{EventStatus, QualityIssue, Severity};
use crate::odds_api::{CreditCost, Endpoint, ScoresRequest};
use crate::schedule::planner::{PendingGame, next_scores_fetch, original_next_scores_fetch};
use crate::schedule::{Plan, Policy};
use crate::store::StatusUpdate;

pub(super) async fn gate(ctx: &JobContext, now: DateTime<Utc>) -> Result<Gate, JobError> {
    let plan = plan(ctx, now).await?;
    Ok(Gate {
        due: plan.is_due(now),
        reason: plan.reason,
        tier: None,
        events: 0,
    })
}

pub(super) async fn run(ctx: &JobContext, now: DateTime<Utc>) -> Result<WorkReport, JobError> {
    let client = ctx.odds_api()?;
    let awaiting = ctx.store.games_awaiting_scores(now).await?;
    let mut report = WorkReport::default();
    let Some(oldest) = awaiting.iter().map(|g| g.commence_time).min() else {
        return Ok(report);
    };
    // daysFrom costs 2 whatever its value; ask far enough back for the oldest pending game.
    let days_from = (now - oldest).num_days().clamp(0, 2) as u8 + 1;
    for sport in &ctx.settings.sports {
        let request = ScoresRequest {
            sport: sport.clone(),
            days_from: Some(days_from),
            event_ids: Vec::new(),
        };
        let call = Call::start(JobName::FetchScores, Endpoint::Scores, sport, now);
        let result = client.scores(&request).await;
        let count = result.as_ref().ok().map(|r| r.data.items.len());
        ctx.log_call(call, &result, count).await;
        let response = result?;
        report.credits_used += credits(&response.quota, request.credit_cost());
        report.events += response.data.items.len();
        for score in &response.data.items {
            let Some(game) = awaiting.iter().find(|g| g.id == score.id) else {
                continue;
            };
            let home = score.points_of(&game.home_team);
            let away = score.points_of(&game.away_team);
            let update = if score.completed {
                match (home, away) {
                    (Some(h), Some(a)) => StatusUpdate {
                        event_id: game.id.clone(),
                        status: EventStatus::Final,
                        home_score: Some(h as i32),
                        away_score: Some(a as i32),
                        completed_at: score
                            .last_update
                            .as_deref()
                            .and_then(|t| t.parse().ok())
                            .or(Some(now)),
                    },
                    _ => {
                        ctx.store
                            .log_data_quality_issue(&QualityIssue::new(
                                Some(&game.id),
                                Severity::Error,
                                "missing_score",
                                format!(
                                    "{} is completed but its scores do not name {} and {}",
                                    game.id, game.home_team, game.away_team
                                ),
                                json!({ "scores": score.scores }),
                            ))
                            .await?;
                        continue;
                    }
                }
            } else if score.scores.is_some() {
                StatusUpdate {
                    event_id: game.id.clone(),
                    status: EventStatus::Live,
                    home_score: home.map(|h| h as i32),
                    away_score: away.map(|a| a as i32),
                    completed_at: None,
                }
            } else {
                continue;
            };
            if ctx.store.update_event_status(&update).await? {
                report.games_updated += 1;
            }
        }
    }
    Ok(report)
}

pub(super) async fn plan(ctx: &JobContext, now: DateTime<Utc>) -> Result<Plan, JobError> {
    let awaiting = ctx.store.games_awaiting_scores(now).await?;
    let last = ctx
        .store
        .last_successful_fetch(Endpoint::Scores.as_str())
        .await?;
    if ctx.settings.policy == Policy::Original {
        let recent = awaiting
            .iter()
            .any(|g| g.commence_time > now - chrono::Duration::days(3));
        return Ok(original_next_scores_fetch(now, recent, last));
    }
    let pending: Vec<PendingGame> = awaiting
        .iter()
        .map(|g| PendingGame {
            commence_time: g.commence_time,
        })
        .collect();
    let upcoming = ctx.upcoming_tipoffs(now).await?;
    Ok(next_scores_fetch(
        now,
        &pending,
        &upcoming,
        last,
        &ctx.settings.planner,
    ))
}
