//! Each data-quality check fires on a crafted bad payload and none fires on the clean fixture.

use chrono::Duration;
use odds_core::model::IssueKind;
use odds_core::normalize::parse_odds_value;
use odds_core::validate::{PreviousLines, ValidationRules, Validator};
use odds_store::ingest::{IngestOptions, ingest_odds_body};
use odds_tests::TestDb;
use odds_tests::fixtures::{for_each_outcome, odds_slate, slate_time};
use serde_json::{Value, json};

/// Parses the fixture after `mutate`, validates the first game against `previous`, and returns
/// the issue kinds found and how many rows were flagged.
fn check(mutate: impl FnOnce(&mut Value), previous: &PreviousLines) -> (Vec<IssueKind>, usize) {
    let mut slate = odds_slate();
    mutate(&mut slate[0]);
    let mut parsed = parse_odds_value(&slate, slate_time(), "basketball_nba").unwrap();
    let validator = Validator::new(ValidationRules::default());
    let mut kinds: Vec<IssueKind> = parsed.issues.iter().map(|i| i.issue_type).collect();
    kinds.extend(
        validator
            .validate(&mut parsed.snapshots[0], previous)
            .into_iter()
            .map(|i| i.issue_type),
    );
    let flagged = parsed.snapshots[0]
        .odds
        .iter()
        .filter(|r| !r.is_valid)
        .count();
    (kinds, flagged)
}

fn outcome(game: &mut Value, book: usize, market: usize, i: usize) -> &mut Value {
    &mut game["bookmakers"][book]["markets"][market]["outcomes"][i]
}

#[test]
fn the_clean_fixture_raises_nothing() {
    let mut parsed = parse_odds_value(&odds_slate(), slate_time(), "basketball_nba").unwrap();
    assert!(parsed.issues.is_empty());
    let validator = Validator::new(ValidationRules::default());
    for snapshot in &mut parsed.snapshots {
        let issues = validator.validate(snapshot, &PreviousLines::new());
        assert!(issues.is_empty(), "{}: {issues:#?}", snapshot.event.id);
        assert!(snapshot.odds.iter().all(|r| r.is_valid));
    }
}

#[test]
fn prices_outside_the_american_range_are_flagged() {
    for bad in [50, -99, -20_000, 15_000] {
        let (kinds, flagged) = check(
            |g| outcome(g, 0, 0, 0)["price"] = json!(bad),
            &PreviousLines::new(),
        );
        assert!(
            kinds.contains(&IssueKind::PriceOutOfRange),
            "{bad}: {kinds:?}"
        );
        assert!(flagged >= 1);
    }
}

#[test]
fn a_book_timestamp_in_the_future_is_flagged() {
    let later = (slate_time() + Duration::hours(1)).to_rfc3339();
    let (kinds, flagged) = check(
        |g| g["bookmakers"][3]["markets"][1]["last_update"] = json!(later),
        &PreviousLines::new(),
    );
    assert_eq!(
        kinds,
        [IssueKind::FutureTimestamp, IssueKind::FutureTimestamp]
    );
    assert_eq!(flagged, 2);
    // Within the clock tolerance it is fine.
    let close = (slate_time() + Duration::seconds(30)).to_rfc3339();
    let (kinds, _) = check(
        |g| g["bookmakers"][3]["markets"][1]["last_update"] = json!(close),
        &PreviousLines::new(),
    );
    assert!(kinds.is_empty(), "{kinds:?}");
}

#[test]
fn vig_outside_two_to_fifteen_percent_is_flagged() {
    for (a, b) in [(-110, 200), (-300, -300), (100, 100)] {
        let (kinds, flagged) = check(
            |g| {
                outcome(g, 2, 0, 0)["price"] = json!(a);
                outcome(g, 2, 0, 1)["price"] = json!(b);
            },
            &PreviousLines::new(),
        );
        assert_eq!(kinds, [IssueKind::VigOutOfRange], "{a}/{b}");
        assert_eq!(flagged, 2);
    }
}

#[test]
fn a_spread_or_total_without_its_point_is_flagged() {
    let (kinds, flagged) = check(
        |g| {
            outcome(g, 1, 1, 0)
                .as_object_mut()
                .unwrap()
                .remove("point")
                .map(|_| ())
                .unwrap()
        },
        &PreviousLines::new(),
    );
    assert!(kinds.contains(&IssueKind::MissingField), "{kinds:?}");
    assert!(flagged >= 1);
    let (kinds, _) = check(
        |g| outcome(g, 1, 2, 1)["point"] = Value::Null,
        &PreviousLines::new(),
    );
    assert!(kinds.contains(&IssueKind::MissingField), "{kinds:?}");
    // An outcome without a price cannot become a row at all: it is logged, not dropped silently.
    let (kinds, _) = check(
        |g| {
            outcome(g, 1, 0, 0)
                .as_object_mut()
                .unwrap()
                .remove("price")
                .map(|_| ())
                .unwrap()
        },
        &PreviousLines::new(),
    );
    assert!(kinds.contains(&IssueKind::MalformedData), "{kinds:?}");
}

fn previous_from_fixture(spread_shift: f64, total_shift: f64) -> PreviousLines {
    let slate = odds_slate();
    let mut previous = PreviousLines::new();
    for book in slate[0]["bookmakers"].as_array().unwrap() {
        for market in book["markets"].as_array().unwrap() {
            let shift = match market["key"].as_str().unwrap() {
                "spreads" => spread_shift,
                "totals" => total_shift,
                _ => continue,
            };
            for o in market["outcomes"].as_array().unwrap() {
                previous.insert(
                    (
                        book["key"].as_str().unwrap().into(),
                        market["key"].as_str().unwrap().into(),
                        o["name"].as_str().unwrap().into(),
                    ),
                    o["point"].as_f64().unwrap() + shift,
                );
            }
        }
    }
    previous
}

#[test]
fn excessive_line_movement_is_flagged() {
    let (kinds, flagged) = check(|_| {}, &previous_from_fixture(10.5, 0.0));
    assert_eq!(
        kinds.len(),
        16,
        "every spread outcome of the 8 books: {kinds:?}"
    );
    assert!(kinds.iter().all(|k| *k == IssueKind::ExcessiveLineMovement));
    assert_eq!(flagged, 16);
    let (kinds, _) = check(|_| {}, &previous_from_fixture(0.0, 21.0));
    assert_eq!(kinds.len(), 16);
    // Ten points on a spread and twenty on a total are within the limits.
    let (kinds, _) = check(|_| {}, &previous_from_fixture(10.0, 20.0));
    assert!(kinds.is_empty(), "{kinds:?}");
}

#[test]
fn outcomes_that_do_not_match_their_market_are_flagged() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<Mutation> = vec![
        Box::new(|g| outcome(g, 0, 0, 0)["name"] = json!("Somebody Else")),
        Box::new(|g| outcome(g, 0, 1, 1)["name"] = json!("Over")),
        Box::new(|g| outcome(g, 0, 2, 0)["name"] = json!("Yes")),
        Box::new(|g| outcome(g, 0, 2, 0)["point"] = json!(300.5)),
        Box::new(|g| {
            let p = outcome(g, 0, 1, 0)["point"].as_f64().unwrap();
            outcome(g, 0, 1, 1)["point"] = json!(p + 1.0);
        }),
        Box::new(|g| {
            let extra = outcome(g, 0, 0, 0).clone();
            g["bookmakers"][0]["markets"][0]["outcomes"]
                .as_array_mut()
                .unwrap()
                .push(extra);
        }),
    ];
    for (i, mutate) in cases.into_iter().enumerate() {
        let (kinds, flagged) = check(mutate, &PreviousLines::new());
        assert!(
            kinds.contains(&IssueKind::OutcomeMismatch),
            "case {i}: {kinds:?}"
        );
        assert!(flagged >= 2, "case {i}");
    }
}

#[test]
fn unknown_books_and_markets_are_reported_but_kept() {
    let (kinds, flagged) = check(
        |g| {
            g["bookmakers"][0]["key"] = json!("pointsbetus");
            g["bookmakers"][1]["markets"][0]["key"] = json!("h2h_lay");
        },
        &PreviousLines::new(),
    );
    assert_eq!(
        kinds,
        [IssueKind::UnknownMarket, IssueKind::UnknownBookmaker]
    );
    assert_eq!(flagged, 0);
}

#[tokio::test]
async fn movement_is_checked_against_the_previous_stored_snapshot() {
    let db = TestDb::new().await;
    let first = odds_slate();
    let body = serde_json::to_vec(&first).unwrap();
    ingest_odds_body(
        &db.store,
        &body,
        slate_time(),
        "basketball_nba",
        &IngestOptions::default(),
    )
    .await
    .unwrap();
    let mut second = first.clone();
    for_each_outcome(&mut second, |book, market, o| {
        if book == "fanduel" && market == "spreads" {
            let p = o["point"].as_f64().unwrap();
            o["point"] = json!(p + p.signum() * 12.0);
        }
    });
    let body = serde_json::to_vec(&second).unwrap();
    let later = slate_time() + Duration::minutes(30);
    let report = ingest_odds_body(
        &db.store,
        &body,
        later,
        "basketball_nba",
        &IngestOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.issues_found, 14 * 2);
    let flagged = db
        .count("SELECT count(*) FROM odds WHERE NOT is_valid AND validation_notes ? 'excessive_line_movement' AND bookmaker_key = 'fanduel'")
        .await;
    assert_eq!(flagged, 28);
    assert_eq!(db.count("SELECT count(*) FROM data_quality_logs WHERE issue_type = 'excessive_line_movement' AND snapshot_id IS NOT NULL").await, 28);
}

#[tokio::test]
async fn reject_mode_holds_back_only_the_invalid_game() {
    let db = TestDb::new().await;
    let mut slate = odds_slate();
    outcome(&mut slate[5], 0, 0, 0)["price"] = json!(25);
    let bad_id = slate[5]["id"].as_str().unwrap().to_string();
    let body = serde_json::to_vec(&slate).unwrap();
    let options = IngestOptions {
        reject_invalid: true,
        ..IngestOptions::default()
    };
    let report = ingest_odds_body(&db.store, &body, slate_time(), "basketball_nba", &options)
        .await
        .unwrap();
    assert_eq!(report.snapshots_rejected, 1);
    assert_eq!(report.write.snapshots_stored, 13);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM odds_snapshots WHERE event_id = '{bad_id}'"
        ))
        .await,
        0
    );
    let why: String = db
        .client()
        .await
        .query_one(
            "SELECT description FROM data_quality_logs WHERE issue_type = 'rejected_snapshot'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        why.contains(&bad_id) && why.contains("price_out_of_range"),
        "{why}"
    );

    // Default mode stores the same game, flagged.
    let db = TestDb::new().await;
    ingest_odds_body(
        &db.store,
        &body,
        slate_time(),
        "basketball_nba",
        &IngestOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 14);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM odds WHERE event_id = '{bad_id}' AND NOT is_valid"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn validation_can_be_turned_off() {
    let db = TestDb::new().await;
    let mut slate = odds_slate();
    outcome(&mut slate[0], 0, 0, 0)["price"] = json!(25);
    let body = serde_json::to_vec(&slate).unwrap();
    let options = IngestOptions {
        validation: None,
        reject_invalid: false,
    };
    let report = ingest_odds_body(&db.store, &body, slate_time(), "basketball_nba", &options)
        .await
        .unwrap();
    assert_eq!(report.issues_found, 0);
    assert_eq!(
        db.count("SELECT count(*) FROM odds WHERE NOT is_valid")
            .await,
        0
    );
}

/// A book offering the markets only the per-event endpoint serves.
fn event_markets_book() -> Value {
    let prop = |player: &str, point: f64, over: i64, under: i64| {
        [
            json!({"name": "Over", "description": player, "price": over, "point": point}),
            json!({"name": "Under", "description": player, "price": under, "point": point}),
        ]
    };
    let mut points: Vec<Value> = prop("Jayson Tatum", 27.5, -115, -105).to_vec();
    points.extend(prop("Jalen Brunson", 26.5, -110, -110));
    json!({
        "key": "draftkings", "title": "DraftKings", "last_update": "2026-01-10T17:58:00Z",
        "markets": [
            {"key": "player_points", "outcomes": points},
            // Alternate spreads: many lines per team, none mirrored as a pair.
            {"key": "alternate_spreads", "outcomes": [
                {"name": "Boston Celtics", "price": -300, "point": -1.5},
                {"name": "Boston Celtics", "price": 150, "point": -9.5},
                {"name": "New York Knicks", "price": -200, "point": 4.5}]},
            {"key": "h2h_q1", "outcomes": [
                {"name": "Boston Celtics", "price": -130}, {"name": "New York Knicks", "price": 110}]}
        ]
    })
}

#[test]
fn props_alternates_periods_and_three_way_markets_raise_nothing_when_asked_for() {
    let mut slate = odds_slate();
    let game = &mut slate[0];
    let home = game["home_team"].as_str().unwrap().to_string();
    let away = game["away_team"].as_str().unwrap().to_string();
    game["bookmakers"]
        .as_array_mut()
        .unwrap()
        .push(event_markets_book());
    // A three-way moneyline (as soccer prices it) in place of the first book's h2h.
    game["bookmakers"][0]["markets"][0]["outcomes"] = json!([
        {"name": home, "price": 150}, {"name": away, "price": 170}, {"name": "Draw", "price": 230}]);
    let mut parsed = parse_odds_value(&slate, slate_time(), "basketball_nba").unwrap();
    let asked = ValidationRules {
        markets: [
            "h2h",
            "spreads",
            "totals",
            "player_points",
            "alternate_spreads",
            "h2h_q1",
        ]
        .map(String::from)
        .to_vec(),
        ..ValidationRules::default()
    };
    let snapshot = &mut parsed.snapshots[0];
    let issues = Validator::new(asked).validate(snapshot, &PreviousLines::new());
    assert!(issues.is_empty(), "{issues:#?}");
    assert!(snapshot.odds.iter().all(|r| r.is_valid));
    let players: Vec<Option<&str>> = snapshot
        .odds
        .iter()
        .filter(|r| r.market_key.as_str() == "player_points")
        .map(|r| r.description.as_deref())
        .collect();
    assert_eq!(
        players,
        [
            Some("Jayson Tatum"),
            Some("Jayson Tatum"),
            Some("Jalen Brunson"),
            Some("Jalen Brunson")
        ]
    );

    // Not asked for: one warning per market, rows kept and valid.
    let mut parsed = parse_odds_value(&slate, slate_time(), "basketball_nba").unwrap();
    let snapshot = &mut parsed.snapshots[0];
    let issues =
        Validator::new(ValidationRules::default()).validate(snapshot, &PreviousLines::new());
    let kinds: Vec<IssueKind> = issues.iter().map(|i| i.issue_type).collect();
    assert_eq!(kinds, [IssueKind::UnknownMarket; 3], "{issues:#?}");
    assert!(snapshot.odds.iter().all(|r| r.is_valid));
}

#[tokio::test]
async fn two_players_lines_never_merge_in_as_of_best_price_or_movement() {
    let db = TestDb::new().await;
    let mut slate = odds_slate();
    slate[0]["bookmakers"]
        .as_array_mut()
        .unwrap()
        .push(event_markets_book());
    let id = slate[0]["id"].as_str().unwrap().to_string();
    let options = IngestOptions::default();
    let body = serde_json::to_vec(&slate).unwrap();
    ingest_odds_body(&db.store, &body, slate_time(), "basketball_nba", &options)
        .await
        .unwrap();
    assert_eq!(
        db.count("SELECT count(DISTINCT description) FROM odds WHERE market_key = 'player_points'")
            .await,
        2
    );
    let lines = db.store.get_odds_at_time(&id, slate_time()).await.unwrap();
    let props: Vec<(&str, Option<&str>)> = lines
        .iter()
        .filter(|l| l.row.market_key.as_str() == "player_points")
        .map(|l| (l.row.outcome_name.as_str(), l.row.description.as_deref()))
        .collect();
    assert_eq!(props.len(), 4, "{props:?}");
    let best = db
        .store
        .get_best_odds(&id, "player_points", None)
        .await
        .unwrap();
    let best: Vec<(Option<&str>, &str, f64)> = best
        .iter()
        .map(|b| (b.description.as_deref(), b.outcome_name.as_str(), b.price))
        .collect();
    assert_eq!(
        best,
        [
            (Some("Jalen Brunson"), "Over", -110.0),
            (Some("Jalen Brunson"), "Under", -110.0),
            (Some("Jayson Tatum"), "Over", -115.0),
            (Some("Jayson Tatum"), "Under", -105.0),
        ]
    );
    // Alternate lines are shopped line by line: three bets, not two.
    let alternates = db
        .store
        .get_best_odds(&id, "alternate_spreads", None)
        .await
        .unwrap();
    assert_eq!(alternates.len(), 3);
    let movement = db
        .store
        .get_line_movement(&id, "draftkings", "player_points")
        .await
        .unwrap();
    assert_eq!(movement.len(), 4);
    assert!(movement.iter().all(|l| l.row.description.is_some()));
}
