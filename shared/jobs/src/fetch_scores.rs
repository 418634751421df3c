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
use crate::error::JobError;
use crate::job::{Gate, JobName, Steps, WorkReport};

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
            let (update, issue) = status_update(game, score);
            if let Some(issue) = issue {
                ctx.store.log_data_quality_issue(&issue).await?;
            }
            if let Some(update) = update
                && ctx.store.update_event_status(&update).await?
            {
                report.games_updated += 1;
            }
        }
    }
    Ok(report)
}

/// What a `/scores` entry says of a game awaiting its score: final, live, or nothing yet, and
/// the problem it has, if any. A completed game without both teams' points is an issue, not a
/// final; an unreadable completion time is an issue, and the time is left unknown.
fn status_update(
    game: &AwaitingScore,
    score: &ScoreEvent,
) -> (Option<StatusUpdate>, Option<QualityIssue>) {
    let home = score.points_of(&game.home_team).map(|p| p as i32);
    let away = score.points_of(&game.away_team).map(|p| p as i32);
    if !score.completed {
        let live = score.scores.is_some().then(|| StatusUpdate {
            event_id: game.id.clone(),
            status: EventStatus::Live,
            home_score: home,
            away_score: away,
            completed_at: None,
        });
        return (live, None);
    }
    let (Some(home), Some(away)) = (home, away) else {
        let issue = QualityIssue::new(
            Some(&game.id),
            Severity::Error,
            IssueKind::MissingScore,
            format!(
                "{} is completed but its scores do not name {} and {}",
                game.id, game.home_team, game.away_team
            ),
            json!({ "scores": score.scores }),
        );
        return (None, Some(issue));
    };
    let completed_at = score.last_update.as_deref().map(|t| (t, parse_rfc3339(t)));
    let issue = match completed_at {
        Some((text, None)) => Some(QualityIssue::new(
            Some(&game.id),
            Severity::Warning,
            IssueKind::MalformedTimestamp,
            format!(
                "/scores last_update {text:?} of {} is not a time; its completion time is left unknown",
                game.id
            ),
            json!({ "path": "last_update", "value": text }),
        )),
        _ => None,
    };
    let update = StatusUpdate {
        event_id: game.id.clone(),
        status: EventStatus::Final,
        home_score: Some(home),
        away_score: Some(away),
        completed_at: completed_at.and_then(|(_, at)| at),
    };
    (Some(update), issue)
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

#[cfg(test)]
mod tests {
    use super::*;
    use odds_core::wire::TeamScore;

    fn game() -> AwaitingScore {
        AwaitingScore {
            id: "g1".into(),
            home_team: "Boston Celtics".into(),
            away_team: "New York Knicks".into(),
            commence_time: "2026-01-11T00:10:00Z".parse().unwrap(),
        }
    }

    fn score(completed: bool, last_update: Option<&str>) -> ScoreEvent {
        let team = |name: &str, score: &str| TeamScore {
            name: name.into(),
            score: score.into(),
        };
        ScoreEvent {
            id: "g1".into(),
            sport_key: None,
            sport_title: None,
            commence_time: "2026-01-11T00:10:00Z".into(),
            completed,
            home_team: "Boston Celtics".into(),
            away_team: "New York Knicks".into(),
            scores: Some(vec![
                team("Boston Celtics", "110"),
                team("New York Knicks", "104"),
            ]),
            last_update: last_update.map(str::to_string),
        }
    }

    #[test]
    fn a_final_keeps_the_feeds_completion_time() {
        let (update, issue) = status_update(&game(), &score(true, Some("2026-01-11T02:41:00Z")));
        let update = update.unwrap();
        assert_eq!(update.status, EventStatus::Final);
        assert_eq!(
            (update.home_score, update.away_score),
            (Some(110), Some(104))
        );
        assert_eq!(
            update.completed_at,
            Some("2026-01-11T02:41:00Z".parse().unwrap())
        );
        assert!(issue.is_none());
    }

    #[test]
    fn an_unreadable_completion_time_is_an_issue_never_now() {
        let (update, issue) = status_update(&game(), &score(true, Some("soon")));
        assert_eq!(update.unwrap().completed_at, None);
        let issue = issue.unwrap();
        assert_eq!(issue.issue_type, IssueKind::MalformedTimestamp);
        assert!(
            issue.description.contains("\"soon\""),
            "{}",
            issue.description
        );
    }

    #[test]
    fn a_running_game_is_live_and_a_final_without_points_is_an_issue() {
        let (live, issue) = status_update(&game(), &score(false, None));
        assert_eq!(live.unwrap().status, EventStatus::Live);
        assert!(issue.is_none());
        let mut nameless = score(true, None);
        nameless.scores = Some(Vec::new());
        let (update, issue) = status_update(&game(), &nameless);
        assert!(update.is_none());
        assert_eq!(issue.unwrap().issue_type, IssueKind::MissingScore);
    }
}
