//! The research reads: closing lines of stored games, with fair probabilities from
//! `odds_research`, and the closing-line value of the user's own bets.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use odds_core::Event;
use odds_core::time::eastern_midnight_utc;
use odds_research::backtest::GameData;
use odds_research::closing::{ClosingLine, Reference, closing_lines};
use odds_research::clv::{BetClose, ClvSummary, close_of_bet, summarize};
use odds_research::fair::FairMethod;
use odds_store::{Store, StoreError};
use serde::Serialize;

/// Every book's closing line of the games tipping off in `[from, to)` before `now`, in tip-off
/// order: each book's last snapshot of each market at or before the tip-off.
pub async fn closing(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    reference: &Reference,
    method: FairMethod,
) -> Result<Vec<ClosingLine>, StoreError> {
    let mut out = Vec::new();
    for game in store.get_events_by_date_range(from, to, None).await? {
        if !has_tipped(&game, now) {
            continue;
        }
        let lines = store.get_odds_at_time(&game.id, game.commence_time).await?;
        out.extend(closing_lines(&lines, reference, method));
    }
    Ok(out)
}

/// Whether a game's close is behind it: it tipped off by `now`, or it is final (a simulated
/// day, such as the demo's, may lie ahead of the wall clock).
fn has_tipped(game: &Event, now: DateTime<Utc>) -> bool {
    game.commence_time <= now || game.status == odds_core::EventStatus::Final
}

/// A malformed bets file: where, and what.
#[derive(Debug, thiserror::Error)]
pub enum BetsError {
    #[error("{path}: line {line}: {field}: {message}")]
    Field {
        path: String,
        line: u64,
        field: String,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One bet of the file with its close.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BetClv {
    /// The line of the file (the header is line 1).
    pub line: u64,
    pub event_id: String,
    pub matchup: String,
    pub market: String,
    pub outcome: String,
    pub point: Option<f64>,
    pub price: f64,
    pub book: String,
    pub placed_at: DateTime<Utc>,
    pub stake: Option<f64>,
    pub close: BetClose,
}

/// A row that matched no stored game or outcome, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmatchedBet {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClvReport {
    pub bets: Vec<BetClv>,
    pub unmatched: Vec<UnmatchedBet>,
    /// Over the bets compared at their own number.
    pub summary: Option<ClvSummary>,
    /// The file's header and rows, for writing them back with the close added.
    #[serde(skip)]
    pub headers: Vec<String>,
    #[serde(skip)]
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Reads a bets file (CSV with a header: `event_id`, or `date` + `home_team` + `away_team`;
/// `market`, `outcome` (a team, `home`, `away`, `over` or `under`), `point`, `price`
/// (American), `book`, `placed_at` (or `decision_time`, as `odds backtest --csv` writes it);
/// optional `stake`) and compares each bet with the close.
pub async fn clv_of_bets(
    store: &Store,
    path: &std::path::Path,
    reference: &Reference,
    method: FairMethod,
) -> Result<ClvReport, BetsError> {
    let name = path.display().to_string();
    let file_error = |message: String| BetsError::File {
        path: name.clone(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_path(path)
        .map_err(|e| file_error(e.to_string()))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| file_error(e.to_string()))?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    // A backtest's bets file names the moment `decision_time`: it reads as `placed_at`.
    let column = |name: &str| {
        headers.iter().position(|h| h == name).or_else(|| {
            (name == "placed_at")
                .then(|| headers.iter().position(|h| h == "decision_time"))
                .flatten()
        })
    };
    for required in ["market", "outcome", "price", "book", "placed_at"] {
        if column(required).is_none() {
            return Err(file_error(format!("no '{required}' column in the header")));
        }
    }
    if column("event_id").is_none()
        && ["date", "home_team", "away_team"]
            .iter()
            .any(|c| column(c).is_none())
    {
        return Err(file_error(
            "needs an 'event_id' column, or 'date', 'home_team' and 'away_team'".into(),
        ));
    }
    let mut report = ClvReport {
        bets: Vec::new(),
        unmatched: Vec::new(),
        summary: None,
        headers: headers.clone(),
        rows: Vec::new(),
    };
    let mut closes: HashMap<String, Vec<ClosingLine>> = HashMap::new();
    // Files hold many bets per game: each game is looked up once.
    type GameKey = (
        Option<String>,
        Option<NaiveDate>,
        Option<String>,
        Option<String>,
    );
    let mut games: HashMap<GameKey, Option<Event>> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            BetsError::Field {
                path: name.clone(),
                line,
                field: "row".into(),
                message: e.to_string(),
            }
        })?;
        let line = record.position().map_or(0, |p| p.line());
        report
            .rows
            .push((line, record.iter().map(str::to_string).collect()));
        let get = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        let bad = |field: &str, message: String| BetsError::Field {
            path: name.clone(),
            line,
            field: field.into(),
            message,
        };
        let row = parse_bet(&get, &bad)?;
        let key = (
            row.event_id.clone(),
            row.date,
            row.home_team.clone(),
            row.away_team.clone(),
        );
        let game = match games.get(&key) {
            Some(game) => game.clone(),
            None => {
                let game = find_game(store, &row).await?;
                games.insert(key, game.clone());
                game
            }
        };
        let Some(game) = game else {
            report.unmatched.push(UnmatchedBet {
                line,
                reason: row.describe_game() + ": no such stored game",
            });
            continue;
        };
        if row.placed_at >= game.commence_time {
            report.unmatched.push(UnmatchedBet {
                line,
                reason: format!(
                    "placed at {} after tip-off ({}): an in-play bet has no pre-game close",
                    row.placed_at, game.commence_time
                ),
            });
            continue;
        }
        let Some(outcome) = row.outcome_name(&game) else {
            report.unmatched.push(UnmatchedBet {
                line,
                reason: format!(
                    "outcome '{}' is neither team of {} @ {} nor over/under",
                    row.outcome, game.away_team, game.home_team
                ),
            });
            continue;
        };
        if !closes.contains_key(&game.id) {
            let lines = store.get_odds_at_time(&game.id, game.commence_time).await?;
            closes.insert(game.id.clone(), closing_lines(&lines, reference, method));
        }
        let close = close_of_bet(
            &row.market,
            &outcome,
            row.point,
            row.price,
            &closes[&game.id],
        );
        report.bets.push(BetClv {
            line,
            event_id: game.id.clone(),
            matchup: format!("{} @ {}", game.away_team, game.home_team),
            market: row.market,
            outcome,
            point: row.point,
            price: row.price,
            book: row.book,
            placed_at: row.placed_at,
            stake: row.stake,
            close,
        });
    }
    let values: Vec<f64> = report
        .bets
        .iter()
        .filter_map(|b| match &b.close {
            BetClose::Matched(m) => Some(m.clv),
            _ => None,
        })
        .collect();
    report.summary = summarize(&values);
    Ok(report)
}

/// One parsed row of a bets file.
struct BetRow {
    event_id: Option<String>,
    date: Option<NaiveDate>,
    home_team: Option<String>,
    away_team: Option<String>,
    market: String,
    outcome: String,
    point: Option<f64>,
    price: f64,
    book: String,
    placed_at: DateTime<Utc>,
    stake: Option<f64>,
}

fn parse_bet<'r>(
    get: &dyn Fn(&str) -> Option<&'r str>,
    bad: &dyn Fn(&str, String) -> BetsError,
) -> Result<BetRow, BetsError> {
    let required = |field: &str| get(field).ok_or_else(|| bad(field, "is empty".into()));
    let number = |field: &str, text: &str| {
        text.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| bad(field, format!("'{text}' is not a number")))
    };
    let market = required("market")?.to_lowercase();
    let price = number("price", required("price")?)?;
    if odds_core::price::american_to_decimal(price).is_none() {
        return Err(bad(
            "price",
            format!("{price} is not an American price (at most -100 or at least +100)"),
        ));
    }
    let point = get("point").map(|p| number("point", p)).transpose()?;
    if matches!(market.as_str(), "spreads" | "totals") && point.is_none() {
        return Err(bad("point", format!("a {market} bet needs its point")));
    }
    let placed_text = required("placed_at")?;
    let placed_at = odds_core::time::parse_rfc3339(placed_text)
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(placed_text, "%Y-%m-%d %H:%M")
                .ok()
                .map(|t| t.and_utc())
        })
        .ok_or_else(|| {
            bad(
                "placed_at",
                format!("'{placed_text}' is not a time (use 2026-01-10T18:00:00Z)"),
            )
        })?;
    let date = get("date")
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| bad("date", format!("'{d}' is not a date (use 2026-01-10)")))
        })
        .transpose()?;
    let stake = get("stake").map(|s| number("stake", s)).transpose()?;
    Ok(BetRow {
        event_id: get("event_id").map(str::to_string),
        date,
        home_team: get("home_team").map(str::to_string),
        away_team: get("away_team").map(str::to_string),
        market,
        outcome: required("outcome")?.to_string(),
        point,
        price,
        book: required("book")?.to_lowercase(),
        placed_at,
        stake,
    })
}

impl BetRow {
    fn describe_game(&self) -> String {
        match (&self.event_id, self.date, &self.away_team, &self.home_team) {
            (Some(id), ..) => format!("event {id}"),
            (None, Some(d), Some(a), Some(h)) => format!("{a} @ {h} on {d}"),
            _ => "a game without event_id, date or teams".into(),
        }
    }

    /// The stored outcome name the row's outcome means.
    fn outcome_name(&self, game: &Event) -> Option<String> {
        let o = self.outcome.trim();
        match o.to_lowercase().as_str() {
            "home" => return Some(game.home_team.clone()),
            "away" => return Some(game.away_team.clone()),
            "over" => return Some("Over".into()),
            "under" => return Some("Under".into()),
            _ => {}
        }
        [&game.home_team, &game.away_team]
            .into_iter()
            .find(|team| same_team(team, o))
            .cloned()
    }
}

/// Two names of one team: equal ignoring case, or the same NBA franchise.
fn same_team(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b.trim())
        || matches!(
            (odds_core::teams::by_name(a), odds_core::teams::by_name(b)),
            (Some(x), Some(y)) if x.id == y.id
        )
}

async fn find_game(store: &Store, row: &BetRow) -> Result<Option<Event>, StoreError> {
    if let Some(id) = &row.event_id {
        return store.get_event(id).await;
    }
    let (Some(date), Some(home), Some(away)) = (row.date, &row.home_team, &row.away_team) else {
        return Ok(None);
    };
    let start = eastern_midnight_utc(date);
    let end = eastern_midnight_utc(date + chrono::Days::new(1));
    let games = store.get_events_by_date_range(start, end, None).await?;
    let pair =
        |g: &Event, h: &str, a: &str| same_team(&g.home_team, h) && same_team(&g.away_team, a);
    // A neutral-site game may be listed the other way round.
    Ok(games
        .iter()
        .find(|g| pair(g, home, away))
        .or_else(|| games.iter().find(|g| pair(g, away, home)))
        .cloned())
}

/// What a backtest may see of the games `tipping` off in that range before `now`: each book's
/// lines as of `decision_before` the tip-off (never anything later), the closing lines, and the
/// final score when there is one.
pub async fn backtest_games(
    store: &Store,
    tipping: std::ops::Range<DateTime<Utc>>,
    now: DateTime<Utc>,
    decision_before: chrono::Duration,
    reference: &Reference,
    method: FairMethod,
    progress: &dyn crate::backfill::Progress,
) -> Result<Vec<GameData>, StoreError> {
    let mut games = Vec::new();
    let stored = store
        .get_events_by_date_range(tipping.start, tipping.end, None)
        .await?;
    progress.begin("reading games", stored.len());
    for game in stored {
        progress.step(&game.id);
        if !has_tipped(&game, now) || game.status == odds_core::EventStatus::Cancelled {
            continue;
        }
        let decision_time = game.commence_time - decision_before;
        let quotes = store.get_odds_at_time(&game.id, decision_time).await?;
        let closes = store.get_odds_at_time(&game.id, game.commence_time).await?;
        let final_score = match (game.status, game.home_score, game.away_score) {
            (odds_core::EventStatus::Final, Some(h), Some(a)) => Some((h, a)),
            _ => None,
        };
        games.push(GameData {
            event_id: game.id,
            home_team: game.home_team,
            away_team: game.away_team,
            commence_time: game.commence_time,
            final_score,
            decision_time,
            quotes: closing_lines(&quotes, reference, method),
            closes: closing_lines(&closes, reference, method),
        });
    }
    progress.end();
    Ok(games)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_game_is_behind_its_close_once_tipped_or_final() {
        let now: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().unwrap();
        let mut game = Event::scheduled(
            "g",
            "basketball_nba",
            "H",
            "A",
            now + chrono::Duration::days(6),
        );
        assert!(!has_tipped(&game, now));
        // A simulated day ahead of the wall clock, already played out in its own time.
        game.status = odds_core::EventStatus::Final;
        assert!(has_tipped(&game, now));
        game.status = odds_core::EventStatus::Scheduled;
        game.commence_time = now - chrono::Duration::hours(1);
        assert!(has_tipped(&game, now));
    }
}
