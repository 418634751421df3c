//! A simulated The Odds API, served on loopback so the real HTTP client is exercised. It runs
//! on the harness's clock: a game is listed by `/events` and `/odds` from 120 hours before
//! tip-off until it ends (2 h 30 min after tip-off), when `/scores` reports it final. Lines
//! move smoothly over time and differ a little between books; credits are charged and
//! reported in the headers the way the real API does. NBA.com's scoreboards (the live file and
//! `scoreboardv3`) are served beside it, free, and can be made to fail.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use odds_core::clock::Clock;
use odds_core::model::DEFAULT_BOOKMAKERS;
use odds_core::price::decimal_to_american;
use odds_core::time::eastern_date;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One game of a schedule file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledGame {
    pub id: String,
    pub commence_time: DateTime<Utc>,
    pub home_team: String,
    pub away_team: String,
}

/// One API call, as written to the simulator's call log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    pub at: DateTime<Utc>,
    pub endpoint: &'static str,
    pub credits: i64,
}

pub const LISTING_LEAD_HOURS: i64 = 120;
pub const GAME_MINUTES: i64 = 150;
const QUOTA: i64 = 100_000;

pub struct SimulatedApi {
    clock: Arc<dyn Clock>,
    games: Vec<ScheduledGame>,
    calls: Mutex<Vec<CallRecord>>,
    nba_down: AtomicBool,
    /// The Odds API answers 503 from the first moment until the second.
    outage: Mutex<Option<(DateTime<Utc>, DateTime<Utc>)>>,
}

impl SimulatedApi {
    pub fn new(clock: Arc<dyn Clock>, mut games: Vec<ScheduledGame>) -> Arc<SimulatedApi> {
        games.sort_by_key(|g| g.commence_time);
        Arc::new(SimulatedApi {
            clock,
            games,
            calls: Mutex::new(Vec::new()),
            nba_down: AtomicBool::new(false),
            outage: Mutex::new(None),
        })
    }

    /// Serves on 127.0.0.1 (a free port); returns the base URL.
    pub async fn serve(self: &Arc<Self>) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = Router::new()
            .route("/v4/sports/{sport}/events", get(events))
            .route("/v4/sports/{sport}/odds", get(odds))
            .route("/v4/sports/{sport}/scores", get(scores))
            .route(
                "/static/json/liveData/scoreboard/todaysScoreboard_00.json",
                get(todays_scoreboard),
            )
            .route("/stats/scoreboardv3", get(scoreboard_v3))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "UNKNOWN_SPORT", "Unknown sport") })
            .with_state(Arc::clone(self));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(url)
    }

    /// NBA.com answers 503 while down.
    pub fn set_nba_down(&self, down: bool) {
        self.nba_down.store(down, Ordering::Relaxed);
    }

    /// The Odds API answers 503 (nothing charged) from `from` until `until`.
    pub fn set_odds_outage(&self, from: DateTime<Utc>, until: DateTime<Utc>) {
        *self.outage.lock().unwrap_or_else(|e| e.into_inner()) = Some((from, until));
    }

    /// The refusal of an Odds API call during the outage.
    fn down(&self) -> Option<Response> {
        let now = self.clock.now();
        let outage = *self.outage.lock().unwrap_or_else(|e| e.into_inner());
        outage
            .filter(|(from, until)| *from <= now && now < *until)
            .map(|_| {
                error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "upstream down",
                )
            })
    }

    pub fn calls(&self) -> Vec<CallRecord> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn credits_used(&self) -> i64 {
        self.calls().iter().map(|c| c.credits).sum()
    }

    pub fn games(&self) -> &[ScheduledGame] {
        &self.games
    }

    fn charge(&self, endpoint: &'static str, credits: i64) -> HeaderMap {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.push(CallRecord {
            at: self.clock.now(),
            endpoint,
            credits,
        });
        let used: i64 = calls.iter().map(|c| c.credits).sum();
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-requests-last", credits),
            ("x-requests-used", used),
            ("x-requests-remaining", QUOTA - used),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
                headers.insert(name, v);
            }
        }
        headers
    }

    /// Games listed at `now`: from 120 h before tip-off until the game ends.
    fn listed(&self, now: DateTime<Utc>) -> impl Iterator<Item = &ScheduledGame> {
        self.games.iter().filter(move |g| {
            now >= g.commence_time - Duration::hours(LISTING_LEAD_HOURS)
                && now < g.commence_time + Duration::minutes(GAME_MINUTES)
        })
    }
}

type Params = Query<HashMap<String, String>>;

fn time_param(params: &HashMap<String, String>, name: &str) -> Option<DateTime<Utc>> {
    params.get(name).and_then(|v| v.parse().ok())
}

fn in_window(game: &ScheduledGame, params: &HashMap<String, String>) -> bool {
    time_param(params, "commenceTimeFrom").is_none_or(|from| game.commence_time >= from)
        && time_param(params, "commenceTimeTo").is_none_or(|to| game.commence_time <= to)
}

fn list(params: &HashMap<String, String>, name: &str) -> Vec<String> {
    params
        .get(name)
        .map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "message": message, "error_code": code })),
    )
        .into_response()
}

/// The simulator knows one sport.
fn unknown_sport(sport: &str) -> Option<Response> {
    (sport != "basketball_nba")
        .then(|| error(StatusCode::NOT_FOUND, "UNKNOWN_SPORT", "Unknown sport"))
}

fn header(game: &ScheduledGame) -> Value {
    json!({
        "id": game.id, "sport_key": "basketball_nba", "sport_title": "NBA",
        "commence_time": iso(game.commence_time),
        "home_team": game.home_team, "away_team": game.away_team,
    })
}

async fn events(
    State(api): State<Arc<SimulatedApi>>,
    Path(sport): Path<String>,
    Query(params): Params,
) -> Response {
    if let Some(refused) = unknown_sport(&sport) {
        return refused;
    }
    if let Some(down) = api.down() {
        return down;
    }
    let now = api.clock.now();
    let body: Vec<Value> = api
        .listed(now)
        .filter(|g| in_window(g, &params))
        .map(header)
        .collect();
    (api.charge("events", 0), Json(body)).into_response()
}

async fn odds(
    State(api): State<Arc<SimulatedApi>>,
    Path(sport): Path<String>,
    Query(params): Params,
) -> Response {
    if let Some(refused) = unknown_sport(&sport) {
        return refused;
    }
    if let Some(down) = api.down() {
        return down;
    }
    let now = api.clock.now();
    let mut markets = list(&params, "markets");
    if markets.is_empty() {
        markets.push("h2h".into());
    }
    let books = list(&params, "bookmakers");
    let regions = list(&params, "regions");
    if books.is_empty() && regions.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "MISSING_REGION",
            "Missing regions",
        );
    }
    let books: Vec<String> = if books.is_empty() {
        DEFAULT_BOOKMAKERS.iter().map(|b| b.to_string()).collect()
    } else {
        books
    };
    let body: Vec<Value> = api
        .listed(now)
        .filter(|g| in_window(g, &params))
        .map(|g| priced(g, now, &books, &markets))
        .collect();
    let region_equivalents = if list(&params, "bookmakers").is_empty() {
        regions.len()
    } else {
        books.len().div_ceil(10)
    };
    let credits = if body.is_empty() {
        0
    } else {
        (markets.len() * region_equivalents) as i64
    };
    (api.charge("odds", credits), Json(body)).into_response()
}

async fn scores(
    State(api): State<Arc<SimulatedApi>>,
    Path(sport): Path<String>,
    Query(params): Params,
) -> Response {
    if let Some(refused) = unknown_sport(&sport) {
        return refused;
    }
    if let Some(down) = api.down() {
        return down;
    }
    let now = api.clock.now();
    let days_from: Option<i64> = params.get("daysFrom").and_then(|d| d.parse().ok());
    if days_from.is_some_and(|d| !(1..=3).contains(&d)) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_SCORES_DAYS_FROM",
            "daysFrom must be 1 to 3",
        );
    }
    let since = now - Duration::days(days_from.unwrap_or(0));
    let body: Vec<Value> = api
        .games
        .iter()
        .filter(|g| {
            let end = g.commence_time + Duration::minutes(GAME_MINUTES);
            let upcoming_or_live = end > now && g.commence_time <= now + Duration::days(1);
            let recently_completed = end <= now && days_from.is_some() && end >= since;
            upcoming_or_live || recently_completed
        })
        .map(|g| scored(g, now))
        .collect();
    let credits = if days_from.is_some() { 2 } else { 1 };
    (api.charge("scores", credits), Json(body)).into_response()
}

/// NBA.com's live file holds one Eastern slate, which turns over in the morning: here, the
/// slate of six hours ago.
async fn todays_scoreboard(State(api): State<Arc<SimulatedApi>>) -> Response {
    let now = api.clock.now();
    nba_board(&api, eastern_date(now - Duration::hours(6)))
}

async fn scoreboard_v3(State(api): State<Arc<SimulatedApi>>, Query(params): Params) -> Response {
    match params
        .get("GameDate")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    {
        Some(date) => nba_board(&api, date),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "Message": "GameDate is required" })),
        )
            .into_response(),
    }
}

fn nba_board(api: &SimulatedApi, date: NaiveDate) -> Response {
    api.charge("nba_scoreboard", 0);
    if api.nba_down.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "<html>Service Unavailable</html>",
        )
            .into_response();
    }
    let now = api.clock.now();
    let games: Vec<Value> = api
        .games
        .iter()
        .filter(|g| eastern_date(g.commence_time) == date)
        .filter_map(|g| nba_game(g, now))
        .collect();
    Json(
        json!({ "scoreboard": { "gameDate": date.to_string(), "leagueId": "00", "games": games } }),
    )
    .into_response()
}

/// A game as NBA.com shows it: status 1 (scheduled), 2 (live) or 3 (final), team ids and
/// tricodes, and the score so far.
fn nba_game(game: &ScheduledGame, now: DateTime<Utc>) -> Option<Value> {
    let home = odds_core::teams::by_name(&game.home_team)?;
    let away = odds_core::teams::by_name(&game.away_team)?;
    let end = game.commence_time + Duration::minutes(GAME_MINUTES);
    let (status, text) = if now < game.commence_time {
        (1, "7:00 pm ET")
    } else if now < end {
        (2, "Q3 5:00")
    } else {
        (3, "Final")
    };
    let (home_points, away_points) = score_at(game, now);
    let side = |team: &odds_core::teams::Team, points: u32| {
        json!({ "teamId": team.id, "teamTricode": team.tricode, "teamCity": team.city,
                "teamName": team.nickname, "score": points })
    };
    Some(json!({
        "gameId": game.id,
        "gameCode": format!("{}/{}{}", eastern_date(game.commence_time).format("%Y%m%d"), away.tricode, home.tricode),
        "gameStatus": status,
        "gameStatusText": text,
        "period": if status == 1 { 0 } else { 4 },
        "gameTimeUTC": iso(game.commence_time),
        "homeTeam": side(home, home_points),
        "awayTeam": side(away, away_points),
    }))
}

/// A stable pseudo-random number in [0, 1) for a game and a salt.
fn unit(id: &str, salt: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn half_points(x: f64) -> f64 {
    (x * 2.0).round() / 2.0
}

/// American price of a probability with the book's margin on top.
fn price(probability: f64, margin: f64) -> f64 {
    let p = (probability * (1.0 + margin)).clamp(0.02, 0.98);
    decimal_to_american(1.0 / p).unwrap_or(-110.0)
}

/// The game's lines at `now`, per book.
fn priced(game: &ScheduledGame, now: DateTime<Utc>, books: &[String], markets: &[String]) -> Value {
    let hours_out = (game.commence_time - now).num_minutes() as f64 / 60.0;
    let id = &game.id;
    // Strength sets the opening spread; two slow waves move it, faster near tip-off.
    let base_spread = (unit(id, 1) - 0.5) * 20.0;
    let wave = 1.2 * (hours_out / 37.0 * std::f64::consts::TAU + unit(id, 2) * 6.3).sin()
        + 0.6 * (hours_out / 7.0 * std::f64::consts::TAU + unit(id, 3) * 6.3).sin();
    let spread = base_spread + wave;
    let total = 214.0 + unit(id, 4) * 24.0 + 2.0 * (hours_out / 29.0 + unit(id, 5) * 6.3).sin();
    let home_win = (0.5 - spread / 30.0).clamp(0.06, 0.94);
    let mut bookmakers = Vec::new();
    for (b, key) in books.iter().enumerate() {
        let sharp = key == "pinnacle" || key == "circasports";
        let margin = if sharp {
            0.03
        } else {
            0.045 + 0.01 * unit(id, 10 + b as u64)
        };
        let shade = (unit(id, 20 + b as u64) * 3.0).floor() * 0.5 - 0.5;
        let home_spread = half_points(spread + shade);
        let home_spread = if home_spread == 0.0 {
            -0.5
        } else {
            home_spread
        };
        let line = half_points(total + shade);
        let lean = (unit(id, 30 + b as u64) - 0.5) * 0.04;
        let updated = iso(now - Duration::seconds((unit(id, 40 + b as u64) * 90.0) as i64));
        let mut book_markets = Vec::new();
        for market in markets {
            let outcomes = match market.as_str() {
                "h2h" => json!([
                    { "name": game.home_team, "price": price(home_win, margin) },
                    { "name": game.away_team, "price": price(1.0 - home_win, margin) },
                ]),
                "spreads" => json!([
                    { "name": game.home_team, "price": price(0.5 + lean, margin), "point": home_spread },
                    { "name": game.away_team, "price": price(0.5 - lean, margin), "point": -home_spread },
                ]),
                "totals" => json!([
                    { "name": "Over", "price": price(0.5 - lean, margin), "point": line },
                    { "name": "Under", "price": price(0.5 + lean, margin), "point": line },
                ]),
                _ => continue,
            };
            book_markets
                .push(json!({ "key": market, "last_update": updated, "outcomes": outcomes }));
        }
        bookmakers.push(json!({
            "key": key, "title": title(key), "last_update": updated, "markets": book_markets,
        }));
    }
    let mut event = header(game);
    event["bookmakers"] = Value::Array(bookmakers);
    event
}

fn title(key: &str) -> &str {
    match key {
        "pinnacle" => "Pinnacle",
        "circasports" => "Circa Sports",
        "draftkings" => "DraftKings",
        "fanduel" => "FanDuel",
        "betmgm" => "BetMGM",
        "williamhill_us" => "Caesars",
        "betrivers" => "BetRivers",
        "bovada" => "Bovada",
        other => other,
    }
}

/// The final score of a game, fixed by its id.
pub fn final_score(game: &ScheduledGame) -> (u32, u32) {
    let home = 98 + (unit(&game.id, 50) * 30.0) as u32;
    let mut away = 96 + (unit(&game.id, 51) * 30.0) as u32;
    if away == home {
        away += 3;
    }
    (home, away)
}

/// The score (home, away) at `now`: nothing before tip-off, the final score once it is over,
/// points in proportion to the time played in between.
fn score_at(game: &ScheduledGame, now: DateTime<Utc>) -> (u32, u32) {
    let (home, away) = final_score(game);
    let share =
        ((now - game.commence_time).num_minutes() as f64 / GAME_MINUTES as f64).clamp(0.0, 1.0);
    let progress = |points: u32| ((points as f64) * share).round() as u32;
    (progress(home), progress(away))
}

fn scored(game: &ScheduledGame, now: DateTime<Utc>) -> Value {
    let end = game.commence_time + Duration::minutes(GAME_MINUTES);
    let mut body = header(game);
    if now < game.commence_time {
        body["completed"] = json!(false);
        body["scores"] = Value::Null;
        body["last_update"] = Value::Null;
        return body;
    }
    let (home, away) = score_at(game, now);
    body["completed"] = json!(now >= end);
    body["scores"] = json!([
        { "name": game.home_team, "score": home.to_string() },
        { "name": game.away_team, "score": away.to_string() },
    ]);
    body["last_update"] = json!(iso(now.min(end)));
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use odds_core::normalize::parse_odds_value;
    use odds_core::validate::{PreviousLines, ValidationRules, Validator};

    fn game(id: &str) -> ScheduledGame {
        ScheduledGame {
            id: id.into(),
            commence_time: "2026-12-05T00:00:00Z".parse().unwrap(),
            home_team: "Boston Celtics".into(),
            away_team: "New York Knicks".into(),
        }
    }

    #[test]
    fn simulated_lines_pass_the_validator_and_move_over_time() {
        let books: Vec<String> = DEFAULT_BOOKMAKERS.iter().map(|b| b.to_string()).collect();
        let markets: Vec<String> = ["h2h", "spreads", "totals"]
            .iter()
            .map(|m| m.to_string())
            .collect();
        let validator = Validator::new(ValidationRules::default());
        let mut spreads = Vec::new();
        for i in 0..200 {
            let g = game(&format!("{i:032x}"));
            for hours in [100, 50, 20, 6, 1] {
                let now = g.commence_time - Duration::hours(hours);
                let body = Value::Array(vec![priced(&g, now, &books, &markets)]);
                let mut slate = parse_odds_value(&body, now, "basketball_nba").unwrap();
                assert!(slate.issues.is_empty());
                let issues = validator.validate(&mut slate.snapshots[0], &PreviousLines::new());
                assert!(issues.is_empty(), "{issues:#?}");
                spreads.push(slate.snapshots[0].odds[2].point.unwrap());
            }
        }
        spreads.dedup();
        assert!(spreads.len() > 100, "lines move");
    }

    #[test]
    fn scores_follow_the_game() {
        let g = game("abc");
        let before = scored(&g, g.commence_time - Duration::hours(1));
        assert_eq!(before["scores"], Value::Null);
        let live = scored(&g, g.commence_time + Duration::hours(1));
        assert_eq!(live["completed"], false);
        let done = scored(&g, g.commence_time + Duration::hours(3));
        assert_eq!(done["completed"], true);
        let (home, away) = final_score(&g);
        assert_ne!(home, away);
        assert_eq!(done["scores"][0]["score"], home.to_string());
    }
}
