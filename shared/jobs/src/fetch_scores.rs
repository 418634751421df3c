//! fetch-scores: when games should be over, ask `/scores` (completed games included) and mark
//! them final with their scores; ask again later for those still running.

use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use odds_core::model::{EventStatus, IssueKind, QualityIssue, Quota, Severity};
use odds_core::planner::{PendingGame, Plan};
use odds_core::time::eastern_date;
use odds_core::time::parse_rfc3339;
use odds_core::wire::ScoreEvent;
use odds_sources::nba_stats::{
    NbaError, NbaGame, NbaGameStatus, NbaStatsClient, Scoreboard, match_game_by_teams_and_date,
};
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
    let awaiting = ctx.store.games_awaiting_scores(now).await?;
    let mut report = WorkReport::default();
    if awaiting.is_empty() {
        return Ok(report);
    }
    // NBA games from NBA.com (free); what it cannot answer goes to The Odds API.
    let mut rest: Vec<&AwaitingScore> = Vec::new();
    let nba_games: Vec<&AwaitingScore> = awaiting
        .iter()
        .filter(|g| g.sport_key == NBA_SPORT)
        .collect();
    let nba = match &ctx.nba {
        Some(source) if !nba_games.is_empty() => match source.client() {
            Ok(client) => Some(client),
            Err(e) => {
                tracing::error!(error = %e, "NBA.com unavailable; scores from The Odds API");
                None
            }
        },
        _ => None,
    };
    match nba {
        Some(nba) => {
            let answered = nba_scores(ctx, nba, &nba_games, now, &mut report).await?;
            rest.extend(
                nba_games
                    .iter()
                    .filter(|g| !answered.contains(&g.id.as_str())),
            );
        }
        None => rest.extend(&nba_games),
    }
    rest.extend(awaiting.iter().filter(|g| g.sport_key != NBA_SPORT));
    if !rest.is_empty() {
        odds_api_scores(ctx, &rest, now, &mut report).await?;
    }
    Ok(report)
}

const NBA_SPORT: &str = "basketball_nba";

/// Reads NBA.com's scoreboards for the Eastern dates of `games` (the live file for its own
/// date, `scoreboardv3` for the others) and applies what they say. Returns the games NBA.com
/// answered for; a failed board or a game it does not list is left to The Odds API.
async fn nba_scores<'a>(
    ctx: &JobContext,
    nba: &NbaStatsClient,
    games: &[&'a AwaitingScore],
    now: DateTime<Utc>,
    report: &mut WorkReport,
) -> Result<Vec<&'a str>, JobError> {
    let mut dates: Vec<NaiveDate> = games
        .iter()
        .map(|g| eastern_date(g.commence_time))
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let mut boards: Vec<(NaiveDate, Scoreboard)> = Vec::new();
    let call = Call::start(
        JobName::FetchScores,
        Endpoint::NbaScoreboard,
        NBA_SPORT,
        now,
    );
    let live = nba.get_live_scores().await;
    call.log(&ctx.store, nba_answer(&live)).await;
    match live {
        Ok(board) => {
            if let Some(date) = board.game_date {
                boards.push((date, board));
            }
        }
        Err(e) => tracing::warn!(error = %e, "NBA.com live scoreboard failed"),
    }
    for date in dates {
        if boards.iter().any(|(d, _)| *d == date) {
            continue;
        }
        let call = Call::start(
            JobName::FetchScores,
            Endpoint::NbaScoreboard,
            NBA_SPORT,
            now,
        );
        let board = nba.get_scoreboard(date).await;
        call.log(&ctx.store, nba_answer(&board)).await;
        match board {
            Ok(board) => boards.push((date, board)),
            Err(e) => tracing::warn!(%date, error = %e, "NBA.com scoreboard failed"),
        }
    }
    let mut answered = Vec::new();
    for game in games {
        let date = eastern_date(game.commence_time);
        let Some((_, board)) = boards.iter().find(|(d, _)| *d == date) else {
            continue;
        };
        let found = match match_game_by_teams_and_date(
            &board.games,
            &game.home_team,
            &game.away_team,
            game.commence_time,
        ) {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(event_id = %game.id, error = %e, "no NBA.com team for this game");
                None
            }
        };
        let Some(found) = found else {
            continue;
        };
        answered.push(game.id.as_str());
        report.events += 1;
        if let Some(update) = nba_update(game, found)
            && ctx.store.update_event_status(&update).await?
        {
            report.games_updated += 1;
        }
    }
    Ok(answered)
}

/// What an NBA.com game says of a stored one. NBA.com may list the teams the other way round
/// (a neutral site), so scores follow the team, not the side.
fn nba_update(game: &AwaitingScore, found: &NbaGame) -> Option<StatusUpdate> {
    let points = |name: &str| {
        let team = odds_core::teams::by_name(name)?;
        [&found.home, &found.away]
            .into_iter()
            .find(|line| line.team().map(|t| t.id) == Some(team.id))
            .and_then(|line| line.score)
            .map(|p| p as i32)
    };
    let (home, away) = (points(&game.home_team), points(&game.away_team));
    match found.status {
        NbaGameStatus::Final => Some(StatusUpdate {
            event_id: game.id.clone(),
            status: EventStatus::Final,
            home_score: Some(home?),
            away_score: Some(away?),
            completed_at: None,
        }),
        NbaGameStatus::Live => Some(StatusUpdate {
            event_id: game.id.clone(),
            status: EventStatus::Live,
            home_score: home,
            away_score: away,
            completed_at: None,
        }),
        _ => None,
    }
}

fn nba_answer(result: &Result<Scoreboard, NbaError>) -> Answer {
    match result {
        Ok(board) => Answer {
            status: Some(200),
            quota: Quota::default(),
            events: Some(board.games.len()),
            error: None,
        },
        Err(e) => Answer {
            status: match e {
                NbaError::Status { status, .. } | NbaError::Decode { status, .. } => Some(*status),
                _ => None,
            },
            quota: Quota::default(),
            events: None,
            error: Some(e.to_string()),
        },
    }
}

/// The Odds API `/scores` (completed games included) for `games`, one call per sport.
async fn odds_api_scores(
    ctx: &JobContext,
    games: &[&AwaitingScore],
    now: DateTime<Utc>,
    report: &mut WorkReport,
) -> Result<(), JobError> {
    let client = ctx.odds_api()?;
    let Some(oldest) = games.iter().map(|g| g.commence_time).min() else {
        return Ok(());
    };
    // daysFrom costs 2 whatever its value; ask far enough back for the oldest pending game.
    let days_from = (now - oldest).num_days().clamp(0, 2) as u8 + 1;
    let mut sports: Vec<&str> = games.iter().map(|g| g.sport_key.as_str()).collect();
    sports.sort_unstable();
    sports.dedup();
    for sport in sports {
        let request = ScoresRequest {
            sport: sport.to_string(),
            days_from: Some(days_from),
            event_ids: Vec::new(),
        };
        let call = Call::start(JobName::FetchScores, Endpoint::Scores, sport, now);
        let result = client.scores(&request).await;
        let count = result.as_ref().ok().map(|r| r.data.items.len());
        call.log(&ctx.store, Answer::of(&result, count)).await;
        let response = result?;
        report.credits_used += credits(&response.quota, request.credit_cost());
        report.events += response.data.items.len();
        for score in &response.data.items {
            let Some(game) = games.iter().find(|g| g.id == score.id) else {
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
    Ok(())
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
    let last = ctx
        .store
        .last_successful_fetch_of(&[Endpoint::Scores, Endpoint::NbaScoreboard])
        .await?;
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
            sport_key: "basketball_nba".into(),
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

    fn nba_game(home: &str, away: &str, status: NbaGameStatus, scores: (u32, u32)) -> NbaGame {
        let line = |tricode: &str, score: u32| {
            let team = odds_core::teams::by_tricode(tricode).unwrap();
            odds_sources::nba_stats::NbaTeamLine {
                team_id: team.id,
                tricode: tricode.into(),
                city: team.city.into(),
                name: team.nickname.into(),
                score: Some(score),
            }
        };
        NbaGame {
            game_id: "0022500001".into(),
            game_date: None,
            game_time_utc: None,
            status,
            status_text: String::new(),
            period: Some(4),
            home: line(home, scores.0),
            away: line(away, scores.1),
        }
    }

    #[test]
    fn nba_scores_follow_the_team_even_when_nba_com_swaps_home_and_away() {
        // Stored BOS home, NYK away; NBA.com lists the neutral-site game as NYK home.
        let swapped = nba_game("NYK", "BOS", NbaGameStatus::Final, (104, 110));
        let update = nba_update(&game(), &swapped).unwrap();
        assert_eq!(update.status, EventStatus::Final);
        assert_eq!(
            (update.home_score, update.away_score),
            (Some(110), Some(104))
        );
        let live = nba_update(
            &game(),
            &nba_game("BOS", "NYK", NbaGameStatus::Live, (50, 48)),
        );
        assert_eq!(live.unwrap().status, EventStatus::Live);
        assert!(
            nba_update(
                &game(),
                &nba_game("BOS", "NYK", NbaGameStatus::Scheduled, (0, 0))
            )
            .is_none()
        );
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
