//! A fake of The Odds API's historical archive on loopback (wiremock), written for this
//! project: a season of games, each listed from three days before its tip-off, snapshots every
//! five minutes at 19 seconds before the grid (so a stored time visibly comes from the archive's
//! own `timestamp`, not from the moment asked for), prices that move with the time to tip-off,
//! and the documented credit costs (30 for a slate of three markets, 1 for `/events`, 0 when
//! the answer is empty). It can also play NBA.com's `leaguegamefinder` for the same games.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, SecondsFormat, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// One game of the fake archive.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedGame {
    pub id: String,
    pub home: String,
    pub away: String,
    pub commence: DateTime<Utc>,
    /// When the archive starts listing it.
    pub listed_from: DateTime<Utc>,
}

impl ArchivedGame {
    pub fn new(id: &str, away: &str, home: &str, commence: &str) -> ArchivedGame {
        let commence: DateTime<Utc> = commence.parse().expect("valid tip-off");
        ArchivedGame {
            id: format!("{id:0>32}"),
            home: home.into(),
            away: away.into(),
            commence,
            listed_from: commence - Duration::days(3),
        }
    }
}

/// How far before the asked moment the archive's snapshot lies, at most five minutes.
pub const SNAPSHOT_OFFSET: Duration = Duration::seconds(19);

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The archive's snapshot at or before `at`: on the five-minute grid, 19 seconds early.
pub fn snapshot_time(at: DateTime<Utc>) -> DateTime<Utc> {
    let grid = (at + SNAPSHOT_OFFSET)
        .duration_trunc(Duration::minutes(5))
        .expect("truncates");
    grid - SNAPSHOT_OFFSET
}

struct Archive {
    games: Vec<ArchivedGame>,
    /// After this many paid `/odds` answers, every call fails with OUT_OF_USAGE_CREDITS.
    fail_after: Option<usize>,
    odds_served: AtomicUsize,
}

fn query(request: &Request, name: &str) -> Option<DateTime<Utc>> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok())
}

fn answer(body: Value, credits: u32) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/json")
        .insert_header("x-requests-last", credits.to_string())
        .insert_header("x-requests-remaining", "19000")
        .set_body_json(body)
}

/// Two books, three markets; the favourite's spread grows by half a point a day nearer the tip.
fn bookmakers(game: &ArchivedGame, at: DateTime<Utc>) -> Value {
    let days = (game.commence - at).num_hours() / 24;
    let spread = -3.5 - 0.5 * (3 - days.min(3)) as f64;
    let books = [
        ("pinnacle", "Pinnacle", -105),
        ("draftkings", "DraftKings", -110),
    ];
    let books: Vec<Value> = books
        .iter()
        .map(|(key, title, juice)| {
            json!({
                "key": key, "title": title, "last_update": iso(at),
                "markets": [
                    {"key": "h2h", "last_update": iso(at), "outcomes": [
                        {"name": game.away, "price": 150}, {"name": game.home, "price": -170}]},
                    {"key": "spreads", "last_update": iso(at), "outcomes": [
                        {"name": game.away, "price": juice, "point": -spread},
                        {"name": game.home, "price": juice, "point": spread}]},
                    {"key": "totals", "last_update": iso(at), "outcomes": [
                        {"name": "Over", "price": juice, "point": 221.5},
                        {"name": "Under", "price": juice, "point": 221.5}]}
                ]
            })
        })
        .collect();
    Value::Array(books)
}

impl Archive {
    fn listed(&self, request: &Request, at: DateTime<Utc>) -> Vec<&ArchivedGame> {
        let from = query(request, "commenceTimeFrom");
        let to = query(request, "commenceTimeTo");
        self.games
            .iter()
            .filter(|g| g.listed_from <= at && at < g.commence)
            .filter(|g| from.is_none_or(|f| g.commence >= f) && to.is_none_or(|t| g.commence <= t))
            .collect()
    }

    fn wrap(at: DateTime<Utc>, data: Value) -> Value {
        json!({
            "timestamp": iso(at),
            "previous_timestamp": iso(at - Duration::minutes(5)),
            "next_timestamp": iso(at + Duration::minutes(5)),
            "data": data,
        })
    }
}

/// A game as `/events` lists it; `/odds` adds its bookmakers.
fn listing(g: &ArchivedGame) -> Value {
    json!({
        "id": g.id, "sport_key": "basketball_nba", "sport_title": "NBA",
        "commence_time": iso(g.commence), "home_team": g.home, "away_team": g.away,
    })
}

struct OddsResponder(Arc<Archive>);

impl Respond for OddsResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let archive = &self.0;
        if archive
            .fail_after
            .is_some_and(|n| archive.odds_served.load(Ordering::SeqCst) >= n)
        {
            return ResponseTemplate::new(401)
                .insert_header("x-requests-last", "0")
                .set_body_json(json!({
                    "message": "Usage quota has been reached.",
                    "error_code": "OUT_OF_USAGE_CREDITS"
                }));
        }
        let Some(asked) = query(request, "date") else {
            return ResponseTemplate::new(422).set_body_json(json!({
                "message": "missing date", "error_code": "MISSING_HISTORICAL_TIMESTAMP"}));
        };
        let at = snapshot_time(asked);
        let games: Vec<Value> = archive
            .listed(request, at)
            .into_iter()
            .map(|g| {
                let mut game = listing(g);
                game["bookmakers"] = bookmakers(g, at);
                game
            })
            .collect();
        let credits = if games.is_empty() { 0 } else { 30 };
        if credits > 0 {
            archive.odds_served.fetch_add(1, Ordering::SeqCst);
        }
        answer(Archive::wrap(at, Value::Array(games)), credits)
    }
}

struct EventsResponder(Arc<Archive>);

impl Respond for EventsResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some(asked) = query(request, "date") else {
            return ResponseTemplate::new(422);
        };
        let at = snapshot_time(asked);
        let games: Vec<Value> = self
            .0
            .listed(request, at)
            .into_iter()
            .map(listing)
            .collect();
        let credits = u32::from(!games.is_empty());
        answer(Archive::wrap(at, Value::Array(games)), credits)
    }
}

/// The fake archive server.
pub struct FakeArchive {
    pub server: MockServer,
    archive: Arc<Archive>,
}

impl FakeArchive {
    pub async fn start(games: Vec<ArchivedGame>) -> FakeArchive {
        FakeArchive::start_failing_after(games, None).await
    }

    /// An archive that answers `n` paid `/odds` calls, then runs out of credits.
    pub async fn start_failing_after(games: Vec<ArchivedGame>, n: Option<usize>) -> FakeArchive {
        let archive = Arc::new(Archive {
            games,
            fail_after: n,
            odds_served: AtomicUsize::new(0),
        });
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v4/historical/sports/basketball_nba/odds"))
            .respond_with(OddsResponder(archive.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v4/historical/sports/basketball_nba/events"))
            .respond_with(EventsResponder(archive.clone()))
            .mount(&server)
            .await;
        FakeArchive { server, archive }
    }

    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Requests that reached a path ending in `suffix` (`odds`, `events`).
    pub async fn calls(&self, suffix: &str) -> Vec<Request> {
        let suffix = format!("/{suffix}");
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path().ends_with(&suffix))
            .collect()
    }

    pub fn games(&self) -> &[ArchivedGame] {
        &self.archive.games
    }

    /// Also plays NBA.com's `leaguegamefinder`: every game final, scored by [`final_score`]
    /// (away, home), whatever range is asked.
    pub async fn serve_game_finder(&self) {
        let finals: Vec<(String, &ArchivedGame, u32, u32, NaiveDate)> = self
            .archive
            .games
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let (away, home) = final_score(g);
                let day = odds_core::time::eastern_date(g.commence);
                (format!("00223{i:05}"), g, away, home, day)
            })
            .collect();
        let rows: Vec<(&str, &str, &str, u32, u32, NaiveDate, bool)> = finals
            .iter()
            .map(|(id, g, a, h, d)| {
                (
                    id.as_str(),
                    g.away.as_str(),
                    g.home.as_str(),
                    *a,
                    *h,
                    *d,
                    false,
                )
            })
            .collect();
        Mock::given(method("GET"))
            .and(path("/stats/leaguegamefinder"))
            .respond_with(ResponseTemplate::new(200).set_body_json(game_finder_body(&rows)))
            .mount(&self.server)
            .await;
    }
}

/// Two nights for tests: three games on 2024-01-10 (US Eastern), two on 2024-01-11.
pub fn two_nights() -> Vec<ArchivedGame> {
    vec![
        ArchivedGame::new(
            "1",
            "New York Knicks",
            "Boston Celtics",
            "2024-01-11T00:00:00Z",
        ),
        ArchivedGame::new(
            "2",
            "Brooklyn Nets",
            "Philadelphia 76ers",
            "2024-01-11T00:00:00Z",
        ),
        ArchivedGame::new(
            "3",
            "Golden State Warriors",
            "Los Angeles Lakers",
            "2024-01-11T03:00:00Z",
        ),
        // Listed by The Odds API with Miami at home; NBA.com writes it "MIA @ WAS".
        ArchivedGame::new(
            "4",
            "Washington Wizards",
            "Miami Heat",
            "2024-01-12T00:30:00Z",
        ),
        ArchivedGame::new(
            "5",
            "Phoenix Suns",
            "Denver Nuggets",
            "2024-01-12T02:00:00Z",
        ),
    ]
}

/// A generated stretch of the season: from `first` (a US Eastern game day), `days` days of four
/// to six games each, tipping between 7 and 10:30 pm Eastern; ids and pairings are fixed.
pub fn season_stretch(first: NaiveDate, days: u32) -> Vec<ArchivedGame> {
    let teams = odds_core::teams::TEAMS;
    let mut games = Vec::new();
    for d in 0..days {
        let day = first + chrono::Days::new(u64::from(d));
        let start = odds_core::time::eastern_midnight_utc(day) + Duration::hours(19);
        for g in 0..(4 + d % 3) as usize {
            let home = teams[(d as usize * 7 + g * 2) % 30];
            let away = teams[(d as usize * 7 + g * 2 + 1) % 30];
            let tip = start + Duration::minutes(30 * ((g * 3) % 8) as i64);
            let id = format!("{:08x}{:04x}", day.num_days_from_ce(), g);
            games.push(ArchivedGame::new(
                &id,
                away.odds_api_name,
                home.odds_api_name,
                &iso(tip),
            ));
        }
    }
    games
}

/// The final scores the fake NBA.com gives a game: fixed by its id.
pub fn final_score(game: &ArchivedGame) -> (u32, u32) {
    let n = game
        .id
        .bytes()
        .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
    (95 + n % 30, 100 + (n / 30) % 25)
}

/// A `leaguegamefinder` body for finals: `(game, away points, home points, game day)`; with
/// `neutral`, both rows read `AWAY @ HOME` as NBA.com writes some neutral-site games.
pub fn game_finder_body(finals: &[(&str, &str, &str, u32, u32, NaiveDate, bool)]) -> Value {
    let headers = [
        "SEASON_ID",
        "TEAM_ID",
        "TEAM_ABBREVIATION",
        "TEAM_NAME",
        "GAME_ID",
        "GAME_DATE",
        "MATCHUP",
        "WL",
        "PTS",
    ];
    let mut rows = Vec::new();
    for (game_id, away, home, away_pts, home_pts, day, neutral) in finals {
        let a = odds_core::teams::by_name(away).expect("known away team");
        let h = odds_core::teams::by_name(home).expect("known home team");
        let day = day.format("%Y-%m-%d").to_string();
        let away_matchup = format!("{} @ {}", a.tricode, h.tricode);
        let home_matchup = if *neutral {
            away_matchup.clone()
        } else {
            format!("{} vs. {}", h.tricode, a.tricode)
        };
        let (away_wl, home_wl) = if away_pts > home_pts {
            ("W", "L")
        } else {
            ("L", "W")
        };
        rows.push(json!([
            "22023",
            a.id,
            a.tricode,
            away,
            game_id,
            day,
            away_matchup,
            away_wl,
            away_pts
        ]));
        rows.push(json!([
            "22023",
            h.id,
            h.tricode,
            home,
            game_id,
            day,
            home_matchup,
            home_wl,
            home_pts
        ]));
    }
    json!({"resource": "leaguegamefinder", "resultSets": [
        {"name": "LeagueGameFinderResults", "headers": headers, "rowSet": rows}]})
}
