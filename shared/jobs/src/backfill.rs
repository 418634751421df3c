//! Backfill: games, odds and final scores of past days, for the `odds backfill` commands.
//!
//! Games come from the archive's `/events` (one credit a game day, nothing when the day has no
//! games), odds from its `/odds` at the moments `odds_core::backfill` plans (each call returns
//! every game listed then, and every one is stored with the archive's own timestamp), finals
//! from NBA.com's `leaguegamefinder` (free). Every archive call is recorded, so a rerun of a
//! range pays nothing for what it already asked, and an interrupted run resumes where it
//! stopped.

use std::collections::HashSet;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;

use odds_core::backfill::{ARCHIVE_START, Backlog, Fit, fit};
use odds_core::model::{Endpoint, EventStatus};
use odds_core::normalize::parse_listing;
use odds_core::planner::PlannerSettings;
use odds_core::requirements::{CollectionPolicy, Requirement};
use odds_core::settings::CollectionSettings;
use odds_core::teams;
use odds_core::time::{eastern_date, eastern_midnight_utc, parse_rfc3339};
use odds_sources::nba_stats::{NbaStatsClient, match_game_by_teams_and_date};
use odds_sources::odds_api::{
    CreditCost, EventsRequest, HistoricalEventsRequest, HistoricalOddsRequest, OddsApiClient,
};
use odds_store::ingest::{IngestError, IngestOptions, ingest_archived};
use odds_store::{ArchiveCall, StatusUpdate, Store, StoreError};

use crate::calls::{Answer, Call, credits};
use crate::fetch_odds::slate_request;

/// Shows how far long work has come; the command line draws a bar.
pub trait Progress: Sync {
    fn begin(&self, what: &str, total: usize);
    fn step(&self, note: &str);
    /// Sets how far the work is, for work counted other than in steps.
    fn at(&self, _done: usize, _note: &str) {}
    fn end(&self);
}

/// No progress shown (tests, and output that is not a terminal).
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &str, _: usize) {}
    fn step(&self, _: &str) {}
    fn end(&self) {}
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("{0}")]
    Input(String),
    #[error(
        "stopped after {done} of {planned} calls ({credits} credits spent): {error}; what was \
         stored is kept, and the same command resumes from there"
    )]
    Interrupted {
        done: usize,
        planned: usize,
        credits: i64,
        error: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// US Eastern game days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl DayRange {
    /// Refuses a reversed range, one before the archive starts and one reaching past `today`.
    pub fn new(first: NaiveDate, last: NaiveDate, today: NaiveDate) -> Result<DayRange, String> {
        if last < first {
            return Err(format!("--to {last} is before --from {first}"));
        }
        if first < ARCHIVE_START {
            return Err(format!(
                "--from {first} is before the archive starts ({ARCHIVE_START})"
            ));
        }
        if last > today {
            return Err(format!(
                "--to {last} is in the future (today is {today} US Eastern)"
            ));
        }
        Ok(DayRange { first, last })
    }

    /// The first moment of the first day.
    pub fn start(&self) -> DateTime<Utc> {
        eastern_midnight_utc(self.first)
    }

    /// The first moment after the last day.
    pub fn end(&self) -> DateTime<Utc> {
        eastern_midnight_utc(self.last + Days::new(1))
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let (first, last) = (self.first, self.last);
        first.iter_days().take_while(move |d| *d <= last)
    }
}

/// Credits spent against an optional cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Credits {
    pub cap: Option<i64>,
    pub spent: i64,
}

impl Credits {
    pub fn capped(cap: Option<i64>) -> Credits {
        Credits { cap, spent: 0 }
    }

    /// Whether a call costing `cost` stays within the cap.
    pub fn allows(&self, cost: i64) -> bool {
        self.cap.is_none_or(|cap| self.spent + cost <= cap)
    }

    /// What is left under the cap.
    pub fn left(&self) -> Option<i64> {
        self.cap.map(|cap| (cap - self.spent).max(0))
    }
}

/// What a backfill works with; nothing here is read from the environment.
pub struct Backfill<'a> {
    pub store: &'a Store,
    pub odds_api: Option<&'a OddsApiClient>,
    pub collection: &'a CollectionSettings,
    pub planner: &'a PlannerSettings,
    pub ingest: &'a IngestOptions,
    pub progress: &'a dyn Progress,
}

/// What game discovery did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Discovery {
    pub days_asked: usize,
    pub days_with_games: usize,
    pub games_listed: usize,
    pub games_new: usize,
    pub credits: i64,
}

/// The archive calls that meet the requirements, before anything is spent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OddsPlan {
    pub sport: String,
    pub range: DayRange,
    pub games: usize,
    /// Games some requirement of which is not met by what is stored or was asked before.
    pub games_missing: usize,
    /// For each requirement, how many games miss it.
    pub missing: Vec<(Requirement, usize)>,
    pub credits_per_call: u32,
    #[serde(flatten)]
    pub fit: Fit,
}

impl OddsPlan {
    pub fn credits(&self) -> i64 {
        self.fit.calls.len() as i64 * i64::from(self.credits_per_call)
    }
}

/// What running a plan did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OddsRun {
    pub calls_made: usize,
    /// Planned calls answered by a snapshot already stored: not made, not paid.
    pub calls_skipped: usize,
    pub credits: i64,
    pub snapshots_stored: usize,
    pub snapshots_duplicate: usize,
    pub odds_rows: usize,
    pub issues_logged: usize,
    /// Why the run stopped before the end of its plan, if it did.
    pub stopped: Option<String>,
}

/// What the scores backfill did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScoresRun {
    /// Final games NBA.com returned for the range.
    pub nba_finals: usize,
    pub stored_games: usize,
    pub updated: usize,
    pub already_final: usize,
    /// Games that have not tipped off yet.
    pub not_played: usize,
    /// Stored games NBA.com has no final for, with the reason.
    pub unmatched: Vec<Unmatched>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmatched {
    pub event_id: String,
    pub matchup: String,
    pub commence_time: DateTime<Utc>,
    pub reason: String,
}

/// `leaguegamefinder` answers a long range in one call; a season fits well inside this.
const FINDER_CHUNK_DAYS: u64 = 300;

impl Backfill<'_> {
    fn client(&self) -> Result<&OddsApiClient, BackfillError> {
        self.odds_api
            .ok_or_else(|| BackfillError::Input("ODDS_API_KEY is not set".into()))
    }

    fn markets(&self) -> String {
        let mut markets = self.collection.markets.clone();
        markets.sort();
        markets.dedup();
        markets.join(",")
    }

    /// The price of one archive `/odds` call for `sport`: 10 per market and region.
    pub fn credits_per_call(&self, sport: &str) -> u32 {
        HistoricalOddsRequest {
            date: DateTime::UNIX_EPOCH,
            odds: slate_request(self.collection, sport),
        }
        .credit_cost()
    }

    /// The game days of `range` not yet discovered (all of them with `refresh`).
    pub async fn days_to_discover(
        &self,
        sport: &str,
        range: DayRange,
        refresh: bool,
    ) -> Result<Vec<NaiveDate>, BackfillError> {
        let known = if refresh {
            HashSet::new()
        } else {
            self.store
                .discovered_days(sport, range.first, range.last)
                .await?
        };
        Ok(range.days().filter(|d| !known.contains(d)).collect())
    }

    /// Lists the games of each day from the archive's `/events` (asked at the day's first
    /// moment) and stores them. A known game keeps its status and scores, and its teams and
    /// tip-off unless this listing is newer than the one it has.
    pub async fn discover(
        &self,
        sport: &str,
        days: &[NaiveDate],
        credits: &mut Credits,
    ) -> Result<Discovery, BackfillError> {
        let client = self.client()?;
        let mut report = Discovery::default();
        self.progress.begin("discovering games", days.len());
        for (done, &day) in days.iter().enumerate() {
            if !credits.allows(1) {
                self.progress.end();
                return Err(BackfillError::Interrupted {
                    done,
                    planned: days.len(),
                    credits: credits.spent,
                    error: "--max-credits reached during game discovery".into(),
                });
            }
            let start = eastern_midnight_utc(day);
            let end = eastern_midnight_utc(day + Days::new(1));
            let request = HistoricalEventsRequest {
                date: start,
                events: EventsRequest {
                    sport: sport.to_string(),
                    commence_time_from: Some(start),
                    commence_time_to: Some(end),
                    ..EventsRequest::default()
                },
            };
            let known: HashSet<String> = self
                .store
                .get_events_by_date_range(start, end, None)
                .await?
                .into_iter()
                .map(|e| e.id)
                .collect();
            let call = Call::start(None, Endpoint::HistoricalEvents, sport, Utc::now());
            let result = client.historical_events(&request).await;
            let count = result.as_ref().ok().map(|r| r.data.data.items.len());
            call.log(self.store, Answer::of(&result, count)).await;
            let response = result.map_err(|e| BackfillError::Interrupted {
                done,
                planned: days.len(),
                credits: credits.spent,
                error: format!("The Odds API: {e}"),
            })?;
            let listed_at = response.data.timestamp.as_deref().and_then(parse_rfc3339);
            let (events, issues) =
                parse_listing(&response.raw["data"], sport).unwrap_or_else(|e| {
                    tracing::error!(%day, error = %e, "historical events listing discarded");
                    (Vec::new(), vec![e.to_issue()])
                });
            if !issues.is_empty() {
                self.store.log_data_quality_issues(&issues).await?;
            }
            if let (Some(seen_at), false) = (listed_at, events.is_empty()) {
                self.store.upsert_events(&events, seen_at).await?;
            }
            let cost = credits_of(&response.quota, !events.is_empty(), 1);
            credits.spent += cost;
            report.credits += cost;
            report.days_asked += 1;
            report.days_with_games += usize::from(!events.is_empty());
            report.games_listed += events.len();
            report.games_new += events.iter().filter(|e| !known.contains(&e.id)).count();
            self.store
                .record_archive_call(&ArchiveCall {
                    sport_key: sport.to_string(),
                    endpoint: Endpoint::HistoricalEvents,
                    markets: String::new(),
                    requested_for: start,
                    snapshot_time: listed_at,
                    next_snapshot: None,
                    game_day: Some(day),
                    games: events.len() as i32,
                    credits: cost,
                })
                .await?;
            self.progress
                .step(&format!("{day}: {} games", events.len()));
        }
        self.progress.end();
        Ok(report)
    }

    /// The fewest archive calls meeting `order`'s requirements for the stored games of `range`,
    /// within `credits`' cap (requirements dropped from the front of `order` until it fits).
    pub async fn plan_odds(
        &self,
        sport: &str,
        range: DayRange,
        policy: &CollectionPolicy,
        order: &[Requirement],
        credits: &Credits,
    ) -> Result<OddsPlan, BackfillError> {
        let lookahead = self.planner.lookahead;
        let per_call = self.credits_per_call(sport);
        let games = self
            .store
            .games_with_snapshots(sport, range.start(), range.end())
            .await?;
        let calls = self
            .store
            .archive_moments(
                sport,
                &self.markets(),
                range.start() - lookahead,
                range.end(),
            )
            .await?;
        let backlog = Backlog::new(games, &calls, lookahead);
        let missing_games = backlog.missing(policy, order, lookahead);
        let missing = order
            .iter()
            .map(|r| {
                let n = missing_games.iter().filter(|(_, m)| m.contains(r)).count();
                (*r, n)
            })
            .collect();
        let max_calls = credits
            .left()
            .map(|left| (left / i64::from(per_call.max(1))) as usize);
        let fit = fit(&backlog, policy, order, lookahead, range.end(), max_calls);
        Ok(OddsPlan {
            sport: sport.to_string(),
            range,
            games: backlog.games.len(),
            games_missing: missing_games.len(),
            missing,
            credits_per_call: per_call,
            fit,
        })
    }

    /// Makes the plan's calls in time order, storing every game of every answer.
    pub async fn run_odds(
        &self,
        plan: &OddsPlan,
        credits: &mut Credits,
    ) -> Result<OddsRun, BackfillError> {
        let client = self.client()?;
        let markets = self.markets();
        let sport = plan.sport.as_str();
        let cost = i64::from(plan.credits_per_call);
        let planned = plan.fit.calls.len();
        let mut run = OddsRun::default();
        self.progress.begin("fetching archived odds", planned);
        for (done, call) in plan.fit.calls.iter().enumerate() {
            let at = call.at;
            let mut record = ArchiveCall {
                sport_key: sport.to_string(),
                endpoint: Endpoint::HistoricalOdds,
                markets: markets.clone(),
                requested_for: at,
                snapshot_time: None,
                next_snapshot: None,
                game_day: None,
                games: 0,
                credits: 0,
            };
            // The archive would answer with a snapshot already stored: note the moment, pay
            // nothing.
            if let Some(stored) = self.store.archived_answer(sport, &markets, at).await? {
                record.snapshot_time = Some(stored);
                self.store.record_archive_call(&record).await?;
                run.calls_skipped += 1;
                self.progress.step(&format!("{at}: already stored"));
                continue;
            }
            if !credits.allows(cost) {
                run.stopped = Some(format!(
                    "--max-credits {} reached with {} of {planned} calls left",
                    credits.cap.unwrap_or_default(),
                    planned - done
                ));
                break;
            }
            let mut request = slate_request(self.collection, sport);
            request.commence_time_from = Some(at);
            request.commence_time_to = Some(at + self.planner.lookahead);
            let request = HistoricalOddsRequest {
                date: at,
                odds: request,
            };
            let log = Call::start(None, Endpoint::HistoricalOdds, sport, Utc::now());
            let response = match client.historical_odds(&request).await {
                Ok(response) => response,
                Err(e) => {
                    log.log(self.store, Answer::failed(&e)).await;
                    self.progress.end();
                    return Err(BackfillError::Interrupted {
                        done,
                        planned,
                        credits: credits.spent,
                        error: format!("The Odds API: {e}"),
                    });
                }
            };
            let snapshot = &response.data;
            record.snapshot_time = snapshot.timestamp.as_deref().and_then(parse_rfc3339);
            record.next_snapshot = snapshot.next_timestamp.as_deref().and_then(parse_rfc3339);
            let games = snapshot.data.as_array().map_or(0, Vec::len);
            record.credits = credits_of(&response.quota, games > 0, plan.credits_per_call);
            record.games = games as i32;
            credits.spent += record.credits;
            run.credits += record.credits;
            run.calls_made += 1;
            let ingested = match record.snapshot_time {
                Some(taken) => {
                    let data = response.data.data;
                    Some(ingest_archived(self.store, data, taken, sport, self.ingest).await)
                }
                None => None,
            };
            let answer = Answer {
                status: Some(response.status),
                quota: response.quota,
                events: Some(games),
                error: match &ingested {
                    Some(Err(e)) => Some(e.to_string()),
                    _ => None,
                },
            };
            log.log(self.store, answer).await;
            self.store.record_archive_call(&record).await?;
            match ingested {
                Some(Ok(report)) => {
                    run.snapshots_stored += report.write.snapshots_stored;
                    run.snapshots_duplicate += report.write.snapshots_duplicate;
                    run.odds_rows += report.write.odds_rows;
                    run.issues_logged += report.write.issues_logged;
                }
                // A snapshot that is not a slate is logged as a quality issue; the rest goes on.
                Some(Err(IngestError::Slate(e))) => {
                    tracing::error!(%at, error = %e, "archived snapshot not stored")
                }
                Some(Err(IngestError::Store(e))) => {
                    self.progress.end();
                    return Err(e.into());
                }
                None => tracing::warn!(%at, "the archive has no snapshot at or before this moment"),
            }
            self.progress
                .step(&format!("{at}: {games} games, {} credits", record.credits));
        }
        self.progress.end();
        Ok(run)
    }

    /// Final scores of the stored NBA games of `range` from NBA.com, free. A game NBA.com does
    /// not have as final is listed with the reason.
    pub async fn scores(
        &self,
        nba: &NbaStatsClient,
        sport: &str,
        range: DayRange,
        now: DateTime<Utc>,
    ) -> Result<ScoresRun, BackfillError> {
        let mut run = ScoresRun::default();
        let mut finals = Vec::new();
        let mut first = range.first;
        let chunks = (range.last - range.first).num_days() as u64 / FINDER_CHUNK_DAYS + 1;
        self.progress
            .begin("reading NBA.com finals", chunks as usize);
        while first <= range.last {
            let last = (first + Days::new(FINDER_CHUNK_DAYS - 1)).min(range.last);
            let found = nba
                .get_league_game_finder(first, last)
                .await
                .map_err(|e| BackfillError::Input(format!("NBA.com: {e}")))?;
            finals.extend(found);
            self.progress.step(&format!("{first} to {last}"));
            first = last + Days::new(1);
        }
        self.progress.end();
        run.nba_finals = finals.len();
        let games = self
            .store
            .get_events_by_date_range(range.start(), range.end(), None)
            .await?;
        for game in games.into_iter().filter(|g| g.sport_key == sport) {
            if game.status == EventStatus::Cancelled {
                continue;
            }
            run.stored_games += 1;
            if game.commence_time > now {
                run.not_played += 1;
                continue;
            }
            let unmatched = |reason: String| Unmatched {
                event_id: game.id.clone(),
                matchup: format!("{} @ {}", game.away_team, game.home_team),
                commence_time: game.commence_time,
                reason,
            };
            let found = match match_game_by_teams_and_date(
                &finals,
                &game.home_team,
                &game.away_team,
                game.commence_time,
            ) {
                Ok(Some(found)) => found,
                Ok(None) => {
                    run.unmatched.push(unmatched(format!(
                        "NBA.com has no final between these teams on {}",
                        eastern_date(game.commence_time)
                    )));
                    continue;
                }
                Err(e) => {
                    run.unmatched.push(unmatched(e.to_string()));
                    continue;
                }
            };
            // Scores go by team, not by NBA.com's home and away: a neutral-site game may be
            // listed the other way round.
            let home_id = teams::by_name(&game.home_team).map(|t| t.id);
            let (home, away) = if found.home.team().map(|t| t.id) == home_id {
                (found.home.score, found.away.score)
            } else {
                (found.away.score, found.home.score)
            };
            let (Some(home), Some(away)) = (home, away) else {
                run.unmatched
                    .push(unmatched("NBA.com's final has no score".into()));
                continue;
            };
            let (home, away) = (home as i32, away as i32);
            if game.status == EventStatus::Final
                && game.home_score == Some(home)
                && game.away_score == Some(away)
            {
                run.already_final += 1;
                continue;
            }
            self.store
                .update_event_status(&StatusUpdate {
                    event_id: game.id.clone(),
                    status: EventStatus::Final,
                    home_score: Some(home),
                    away_score: Some(away),
                    completed_at: None,
                })
                .await?;
            run.updated += 1;
        }
        Ok(run)
    }
}

/// Credits an archive answer cost: the API's own count when it sent one, otherwise the
/// documented price (nothing for an empty answer).
fn credits_of(quota: &odds_core::model::Quota, any: bool, price: u32) -> i64 {
    credits(quota, if any { price } else { 0 })
}
