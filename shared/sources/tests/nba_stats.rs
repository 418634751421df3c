//! The NBA.com client against wiremock on loopback, and the matching of a day of NBA.com games to
//! the same day's Odds API fixtures (tests/fixtures/nba and tests/fixtures/odds_api).

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use odds_sources::nba_stats::{
    NbaError, NbaGameStatus, NbaStatsClient, NbaStatsSettings, match_game_by_teams_and_date,
};
use odds_sources::odds_api::wire::{ApiEvent, ScoreEvent};
use wiremock::matchers::{header, header_regex, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NBA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/nba");
const ODDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/odds_api");
const LIVE_PATH: &str = "/static/json/liveData/scoreboard/todaysScoreboard_00.json";

fn read(dir: &str, name: &str) -> String {
    std::fs::read_to_string(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn setup() -> (MockServer, NbaStatsClient) {
    let server = MockServer::start().await;
    let client = NbaStatsClient::new(&NbaStatsSettings::for_base_url(server.uri())).unwrap();
    (server, client)
}

fn json(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

async fn mount_day(server: &MockServer, day: &str, fixture: &str) {
    Mock::given(method("GET"))
        .and(path("/stats/scoreboardv3"))
        .and(query_param("GameDate", day))
        .and(query_param("LeagueID", "00"))
        .respond_with(json(read(NBA, fixture)))
        .mount(server)
        .await;
}

#[tokio::test]
async fn live_scoreboard_is_parsed_with_browser_headers() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path(LIVE_PATH))
        .and(header("referer", "https://www.nba.com/"))
        .and(header_regex("user-agent", "^Mozilla/5.0 .*Chrome/"))
        .respond_with(json(read(NBA, "todays_scoreboard_2025-12-05.json")))
        .expect(1)
        .mount(&server)
        .await;
    let board = client.get_live_scores().await.unwrap();
    assert_eq!(board.game_date, Some(date("2025-12-05")));
    assert!(board.skipped.is_empty());
    let statuses: Vec<_> = board.games.iter().map(|g| g.status).collect();
    assert_eq!(
        statuses,
        [
            NbaGameStatus::Final,
            NbaGameStatus::Live,
            NbaGameStatus::Live,
            NbaGameStatus::Scheduled,
            NbaGameStatus::Scheduled,
            NbaGameStatus::Postponed,
        ]
    );
    assert_eq!(board.games[0].final_score(), Some((118, 104)));
    assert_eq!(
        (board.games[1].home.score, board.games[1].away.score),
        (Some(98), Some(101))
    );
    assert_eq!(board.games[1].final_score(), None);
    let clippers = &board.games[5];
    assert_eq!(
        (clippers.home.city.as_str(), clippers.home.tricode.as_str()),
        ("LA", "LAC")
    );
    assert_eq!(clippers.home.score, None);
}

#[tokio::test]
async fn historical_scores_cover_a_range_and_keep_only_finals() {
    let (server, client) = setup().await;
    mount_day(&server, "2025-12-04", "scoreboardv3_2025-12-04.json").await;
    mount_day(&server, "2025-12-05", "scoreboardv3_2025-12-05.json").await;
    let games = client
        .get_historical_scores(date("2025-12-04"), date("2025-12-05"))
        .await
        .unwrap();
    // Seven finals; the postponed Kings game of the 4th is left out.
    assert_eq!(games.len(), 7);
    assert!(games.iter().all(|g| g.final_score().is_some()));
    assert!(!games.iter().any(|g| g.home.tricode == "SAC"));
    let overtime = games.iter().find(|g| g.home.tricode == "MIL").unwrap();
    assert_eq!(overtime.status_text, "Final/OT");
    assert_eq!(overtime.final_score(), Some((125, 122)));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_empty_day_is_an_empty_scoreboard() {
    let (server, client) = setup().await;
    mount_day(&server, "2025-07-15", "scoreboardv3_empty_2025-07-15.json").await;
    let board = client.get_scoreboard(date("2025-07-15")).await.unwrap();
    assert!(board.games.is_empty() && board.skipped.is_empty());
    let finals = client
        .get_historical_scores(date("2025-07-15"), date("2025-07-15"))
        .await
        .unwrap();
    assert!(finals.is_empty());
}

#[tokio::test]
async fn reversed_or_huge_ranges_are_refused_without_a_call() {
    let (server, client) = setup().await;
    for (start, end) in [("2025-12-05", "2025-12-04"), ("2020-01-01", "2025-12-04")] {
        let err = client
            .get_historical_scores(date(start), date(end))
            .await
            .unwrap_err();
        assert!(matches!(err, NbaError::InvalidRange { .. }), "{err:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn server_errors_are_retried_and_forbidden_is_not() {
    let (server, client) = setup().await;
    Mock::given(path("/stats/scoreboardv3"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_day(&server, "2025-12-05", "scoreboardv3_2025-12-05.json").await;
    let board = client.get_scoreboard(date("2025-12-05")).await.unwrap();
    assert_eq!(board.games.len(), 6);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    server.reset().await;
    Mock::given(path(LIVE_PATH))
        .respond_with(ResponseTemplate::new(403).set_body_string("<html>Access Denied</html>"))
        .mount(&server)
        .await;
    let err = client.get_live_scores().await.unwrap_err();
    assert!(
        matches!(&err, NbaError::Status { status: 403, attempts: 1, body_start, .. } if body_start.contains("Access Denied")),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn hostile_bodies_give_clear_errors() {
    let (server, client) = setup().await;
    Mock::given(path(LIVE_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(read(ODDS, "html_error_page.html"), "text/html"),
        )
        .mount(&server)
        .await;
    let err = client.get_live_scores().await.unwrap_err();
    assert!(
        matches!(err, NbaError::Decode { status: 200, .. }),
        "{err:?}"
    );

    server.reset().await;
    Mock::given(path("/stats/scoreboardv3"))
        .respond_with(json(r#"{"Message":"An error has occurred."}"#.into()))
        .mount(&server)
        .await;
    let err = client.get_scoreboard(date("2025-12-01")).await.unwrap_err();
    assert!(
        matches!(&err, NbaError::Stats { message, .. } if message == "An error has occurred."),
        "{err:?}"
    );

    server.reset().await;
    let truncated: String = read(NBA, "scoreboardv3_2025-12-05.json")
        .chars()
        .take(500)
        .collect();
    Mock::given(path("/stats/scoreboardv3"))
        .respond_with(json(truncated))
        .mount(&server)
        .await;
    let err = client.get_scoreboard(date("2025-12-05")).await.unwrap_err();
    assert!(matches!(err, NbaError::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn a_day_of_nba_games_matches_every_odds_api_game_of_that_day() {
    let (server, client) = setup().await;
    mount_day(&server, "2025-12-05", "scoreboardv3_2025-12-05.json").await;
    let nba_games = client
        .get_historical_scores(date("2025-12-05"), date("2025-12-05"))
        .await
        .unwrap();
    let odds_events: Vec<ApiEvent> =
        serde_json::from_str(&read(ODDS, "odds_2025-12-05.json")).unwrap();
    let final_scores: Vec<ScoreEvent> =
        serde_json::from_str(&read(ODDS, "scores_days_from_2025-12-05.json")).unwrap();
    assert_eq!(odds_events.len(), nba_games.len());

    let names: HashSet<&str> = odds_events
        .iter()
        .flat_map(|e| [e.home_team.as_str(), e.away_team.as_str()])
        .collect();
    // The fixture day carries the awkward names and a tip-off on the next UTC day.
    assert!(names.contains("Los Angeles Clippers") && names.contains("Philadelphia 76ers"));
    assert!(names.contains("Portland Trail Blazers"));
    assert!(odds_events.iter().any(|e| {
        let at: DateTime<Utc> = e.commence_time.parse().unwrap();
        at.date_naive() != odds_core::time::eastern_date(at)
    }));

    let mut matched = HashSet::new();
    for event in &odds_events {
        let at = event.commence_time_utc().unwrap();
        let game = match_game_by_teams_and_date(&nba_games, &event.home_team, &event.away_team, at)
            .unwrap()
            .unwrap_or_else(|| {
                panic!(
                    "no NBA.com game for {} vs {}",
                    event.home_team, event.away_team
                )
            });
        assert_eq!(
            game.home.team().map(|t| t.odds_api_name),
            Some(event.home_team.as_str())
        );
        assert!(
            matched.insert(game.game_id.clone()),
            "{} matched twice",
            game.game_id
        );

        // NBA.com's final agrees with The Odds API's, matched by name, not by position.
        let scores = final_scores.iter().find(|s| s.id == event.id).unwrap();
        let (home, away) = game.final_score().unwrap();
        assert_eq!(
            scores.points_of(&event.home_team),
            Some(home),
            "{}",
            event.home_team
        );
        assert_eq!(
            scores.points_of(&event.away_team),
            Some(away),
            "{}",
            event.away_team
        );

        // The actual tip time the scores endpoint reports still lands on the same game.
        let tipped = scores.commence_time_utc().unwrap();
        let again =
            match_game_by_teams_and_date(&nba_games, &event.home_team, &event.away_team, tipped)
                .unwrap()
                .map(|g| g.game_id.as_str());
        assert_eq!(again, Some(game.game_id.as_str()));
    }
    assert_eq!(matched.len(), 6);
}

#[tokio::test]
async fn the_game_finder_covers_a_range_in_one_call_and_matches_the_odds_day() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/stats/leaguegamefinder"))
        .and(query_param("DateFrom", "12/04/2025"))
        .and(query_param("DateTo", "12/05/2025"))
        .and(query_param("PlayerOrTeam", "T"))
        .and(query_param("LeagueID", "00"))
        .and(query_param("Season", ""))
        .and(header("referer", "https://www.nba.com/"))
        .respond_with(json(read(
            NBA,
            "leaguegamefinder_2025-12-04_2025-12-05.json",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let games = client
        .get_league_game_finder(date("2025-12-04"), date("2025-12-05"))
        .await
        .unwrap();
    assert_eq!(games.len(), 7);
    assert!(games.iter().all(|g| g.final_score().is_some()));
    let odds_events: Vec<ApiEvent> =
        serde_json::from_str(&read(ODDS, "odds_2025-12-05.json")).unwrap();
    for event in &odds_events {
        let game = match_game_by_teams_and_date(
            &games,
            &event.home_team,
            &event.away_team,
            event.commence_time_utc().unwrap(),
        )
        .unwrap()
        .unwrap_or_else(|| panic!("no game for {}", event.home_team));
        assert_eq!(game.game_date, Some(date("2025-12-05")));
        assert_eq!(
            game.home.team().map(|t| t.odds_api_name),
            Some(event.home_team.as_str())
        );
    }
    // The same finals as the per-day scoreboards.
    mount_day(&server, "2025-12-04", "scoreboardv3_2025-12-04.json").await;
    mount_day(&server, "2025-12-05", "scoreboardv3_2025-12-05.json").await;
    let daily = client
        .get_historical_scores(date("2025-12-04"), date("2025-12-05"))
        .await
        .unwrap();
    let key = |g: &odds_sources::nba_stats::NbaGame| (g.game_id.clone(), g.final_score());
    let mut a: Vec<_> = games.iter().map(key).collect();
    let mut b: Vec<_> = daily.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}
