//! The storage layer against a real PostgreSQL: a fresh database per test.

use chrono::{DateTime, Duration, Utc};
use odds_core::model::{EventStatus, FetchLog, FetchTier, Quota};
use odds_core::normalize::{parse_odds_body, parse_odds_value};
use odds_store::ingest::{IngestError, IngestOptions, ingest_odds_body, ingest_slate};
use odds_store::{StatusUpdate, Store};
use odds_tests::TestDb;
use odds_tests::fixtures::{self, for_each_outcome, odds_slate, slate_time, synthetic_slate};
use serde_json::{Value, json};

async fn ingest(
    store: &Store,
    slate: &Value,
    at: DateTime<Utc>,
) -> odds_store::ingest::IngestReport {
    let body = serde_json::to_vec(slate).unwrap();
    ingest_odds_body(
        store,
        &body,
        at,
        "basketball_nba",
        &IngestOptions::default(),
    )
    .await
    .expect("ingest")
}

fn time(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[tokio::test]
async fn migrations_apply_once_and_then_change_nothing() {
    let db = TestDb::empty().await;
    let first = db.store.migrate().await.unwrap();
    assert_eq!(first, Store::known_migrations());
    assert!(!first.is_empty());
    let tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'";
    let before = db.count(tables).await;
    assert_eq!(db.store.migrate().await.unwrap(), Vec::<String>::new());
    assert_eq!(db.count(tables).await, before);
    for table in [
        "events",
        "odds_snapshots",
        "odds",
        "data_quality_logs",
        "fetch_logs",
        "job_state",
        "job_runs",
    ] {
        let n = db
            .count(&format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}'"
            ))
            .await;
        assert_eq!(n, 1, "{table} exists");
    }
}

#[tokio::test]
async fn a_full_slate_is_stored_and_read_back_exactly() {
    let db = TestDb::new().await;
    let slate = odds_slate();
    let report = ingest(&db.store, &slate, slate_time()).await;
    assert_eq!(report.games_in_response, 14);
    assert_eq!(report.write.snapshots_stored, 14);
    assert_eq!(report.write.odds_rows, 14 * 8 * 6);
    assert_eq!(report.issues_found, 0, "the clean fixture raises no issue");
    assert_eq!(db.count("SELECT count(*) FROM data_quality_logs").await, 0);

    for game in slate.as_array().unwrap() {
        let id = game["id"].as_str().unwrap();
        let event = db.store.get_event(id).await.unwrap().expect("event stored");
        assert_eq!(event.home_team, game["home_team"].as_str().unwrap());
        assert_eq!(event.away_team, game["away_team"].as_str().unwrap());
        assert_eq!(
            event.commence_time,
            time(game["commence_time"].as_str().unwrap())
        );
        assert_eq!(event.status, EventStatus::Scheduled);

        let snapshot = db.store.latest_snapshot(id).await.unwrap().unwrap();
        assert_eq!(&snapshot.raw, game, "raw JSON equal as a JSON value");
        assert_eq!(snapshot.snapshot_time, slate_time());
        assert_eq!(snapshot.bookmaker_count, 8);
        let hours = (event.commence_time - slate_time()).num_seconds() as f64 / 3600.0;
        assert_eq!(snapshot.hours_until_commence, hours);
        assert_eq!(snapshot.fetch_tier, FetchTier::for_hours_until(hours));

        let mut expected = Vec::new();
        for book in game["bookmakers"].as_array().unwrap() {
            for market in book["markets"].as_array().unwrap() {
                for outcome in market["outcomes"].as_array().unwrap() {
                    expected.push((
                        book["key"].as_str().unwrap().to_string(),
                        book["title"].as_str().unwrap().to_string(),
                        market["key"].as_str().unwrap().to_string(),
                        outcome["name"].as_str().unwrap().to_string(),
                        outcome["price"].as_f64().unwrap(),
                        outcome.get("point").and_then(Value::as_f64),
                        time(market["last_update"].as_str().unwrap()),
                    ));
                }
            }
        }
        let mut stored: Vec<_> = db
            .store
            .get_odds_at_time(id, slate_time())
            .await
            .unwrap()
            .into_iter()
            .map(|o| {
                assert!(o.row.is_valid && o.row.validation_notes.is_empty());
                assert_eq!(o.snapshot_time, slate_time());
                (
                    o.row.bookmaker_key,
                    o.row.bookmaker_title,
                    o.row.market_key.to_string(),
                    o.row.outcome_name,
                    o.row.price,
                    o.row.point,
                    o.row.last_update.unwrap(),
                )
            })
            .collect();
        let key = |r: &(
            String,
            String,
            String,
            String,
            f64,
            Option<f64>,
            DateTime<Utc>,
        )| { (r.0.clone(), r.2.clone(), r.3.clone()) };
        expected.sort_by_key(key);
        stored.sort_by_key(key);
        assert_eq!(stored, expected, "rows of {id}");
    }
}

/// Moves every price by `delta` cents (away from zero) and every point by `shift`.
fn moved(slate: &Value, delta: f64, shift: f64) -> Value {
    let mut later = slate.clone();
    for_each_outcome(&mut later, |_, market, outcome| {
        let price = outcome["price"].as_f64().unwrap();
        outcome["price"] = json!(if price < 0.0 {
            price - delta
        } else {
            price + delta
        });
        if market == "spreads" {
            let point = outcome["point"].as_f64().unwrap();
            outcome["point"] = json!(point + point.signum() * shift);
        }
    });
    later
}

#[tokio::test]
async fn odds_at_time_never_returns_anything_from_after_t() {
    let db = TestDb::new().await;
    let first = odds_slate();
    let t1 = slate_time();
    let t2 = t1 + Duration::minutes(30);
    let mut second = moved(&first, 5.0, 0.5);
    // Bovada misses the second fetch of the first game: its last line stays the t1 one.
    second[0]["bookmakers"]
        .as_array_mut()
        .unwrap()
        .retain(|b| b["key"] != "bovada");
    ingest(&db.store, &first, t1).await;
    ingest(&db.store, &second, t2).await;
    let id = first[0]["id"].as_str().unwrap();

    assert!(
        db.store
            .get_odds_at_time(id, t1 - Duration::seconds(1))
            .await
            .unwrap()
            .is_empty()
    );

    let between = db
        .store
        .get_odds_at_time(id, t2 - Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(between.len(), 48);
    assert!(between.iter().all(|o| o.snapshot_time == t1));

    let at_t2 = db.store.get_odds_at_time(id, t2).await.unwrap();
    assert_eq!(at_t2.len(), 48);
    for o in &at_t2 {
        let expected = if o.row.bookmaker_key == "bovada" {
            t1
        } else {
            t2
        };
        assert_eq!(o.snapshot_time, expected, "{}", o.row.bookmaker_key);
        assert!(o.snapshot_time <= t2);
    }
    let dk_home_t1 = between
        .iter()
        .find(|o| o.row.bookmaker_key == "draftkings" && o.row.market_key == "h2h")
        .unwrap();
    let dk_home_t2 = at_t2
        .iter()
        .find(|o| o.row.bookmaker_key == "draftkings" && o.row.market_key == "h2h")
        .unwrap();
    assert_eq!((dk_home_t2.row.price - dk_home_t1.row.price).abs(), 5.0);
}

#[tokio::test]
async fn line_movement_comes_back_in_time_order() {
    let db = TestDb::new().await;
    let base = odds_slate();
    let times: Vec<DateTime<Utc>> = (0..3).map(|i| slate_time() + Duration::hours(i)).collect();
    // Stored out of order on purpose.
    for i in [2usize, 0, 1] {
        ingest(&db.store, &moved(&base, 0.0, i as f64 * 0.5), times[i]).await;
    }
    let id = base[0]["id"].as_str().unwrap();
    let movement = db
        .store
        .get_line_movement(id, "fanduel", "spreads")
        .await
        .unwrap();
    assert_eq!(movement.len(), 6);
    let seen: Vec<DateTime<Utc>> = movement.iter().map(|o| o.snapshot_time).collect();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    let home = base[0]["home_team"].as_str().unwrap();
    let home_points: Vec<f64> = movement
        .iter()
        .filter(|o| o.row.outcome_name == home)
        .map(|o| o.row.point.unwrap())
        .collect();
    assert_eq!(home_points.len(), 3);
    let step = home_points[1] - home_points[0];
    assert_eq!(step.abs(), 0.5);
    assert_eq!(home_points[2] - home_points[1], step);
}

fn h2h_book(key: &str, home: i64, away: i64) -> Value {
    json!({ "key": key, "title": key.to_uppercase(), "last_update": "2026-01-10T17:00:00Z",
            "markets": [{ "key": "h2h", "outcomes": [
                { "name": "Home Team", "price": home }, { "name": "Away Team", "price": away } ] }] })
}

#[tokio::test]
async fn best_odds_pick_the_highest_payout_for_both_signs() {
    let db = TestDb::new().await;
    let game = |books: Vec<Value>| {
        json!([{ "id": "g1", "commence_time": "2026-01-11T00:00:00Z",
                 "home_team": "Home Team", "away_team": "Away Team", "bookmakers": books }])
    };
    let t1 = slate_time();
    ingest(
        &db.store,
        &game(vec![
            h2h_book("draftkings", -150, 125),
            h2h_book("fanduel", -140, 120),
            h2h_book("betmgm", -150, 135),
            // An absurd price is flagged by the validator and must not win.
            h2h_book("bovada", 5000, 9000),
        ]),
        t1,
    )
    .await;
    let best = db.store.get_best_odds("g1", "h2h", None).await.unwrap();
    assert_eq!(best.len(), 2);
    let away = &best[0];
    assert_eq!(
        (
            away.outcome_name.as_str(),
            away.bookmaker_key.as_str(),
            away.price
        ),
        ("Away Team", "betmgm", 135.0)
    );
    let home = &best[1];
    assert_eq!(
        (
            home.outcome_name.as_str(),
            home.bookmaker_key.as_str(),
            home.price
        ),
        ("Home Team", "fanduel", -140.0)
    );
    assert_eq!(home.books_quoting, 3);

    // A later fetch where DraftKings goes plus-money on the favourite; as of t1 nothing changes.
    let t2 = t1 + Duration::hours(1);
    ingest(
        &db.store,
        &game(vec![h2h_book("draftkings", 105, -125)]),
        t2,
    )
    .await;
    let now_best = db.store.get_best_odds("g1", "h2h", Some(t2)).await.unwrap();
    assert_eq!(now_best[1].bookmaker_key, "draftkings");
    assert_eq!(now_best[1].price, 105.0);
    let then_best = db.store.get_best_odds("g1", "h2h", Some(t1)).await.unwrap();
    assert_eq!(then_best, best);
}

#[tokio::test]
async fn storing_the_same_snapshot_twice_keeps_one_copy() {
    let db = TestDb::new().await;
    let slate = odds_slate();
    let first = ingest(&db.store, &slate, slate_time()).await;
    let second = ingest(&db.store, &slate, slate_time()).await;
    assert_eq!(first.write.snapshots_stored, 14);
    assert_eq!(second.write.snapshots_stored, 0);
    assert_eq!(second.write.snapshots_duplicate, 14);
    assert_eq!(second.write.odds_rows, 0);
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 14);
    assert_eq!(db.count("SELECT count(*) FROM odds").await, 672);
    assert_eq!(db.count("SELECT count(*) FROM events").await, 14);
}

#[tokio::test]
async fn a_failure_in_the_middle_of_a_write_leaves_nothing_half_written() {
    let db = TestDb::new().await;
    // The database refuses the odds rows after events and snapshots were already written in the
    // same transaction.
    db.client()
        .await
        .batch_execute(
            "CREATE FUNCTION refuse_bovada() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF NEW.bookmaker_key = 'bovada' THEN RAISE EXCEPTION 'injected failure'; END IF;
               RETURN NEW;
             END $$;
             CREATE TRIGGER refuse_bovada BEFORE INSERT ON odds
               FOR EACH ROW EXECUTE FUNCTION refuse_bovada();",
        )
        .await
        .unwrap();
    let mut slate = parse_odds_body(
        &fixtures::odds_slate_bytes(),
        slate_time(),
        "basketball_nba",
    )
    .unwrap();
    slate.issues.push(odds_core::QualityIssue::new(
        None,
        odds_core::Severity::Info,
        odds_core::model::IssueKind::MalformedData,
        "must not survive the rollback",
        json!({}),
    ));
    let err = ingest_slate(&db.store, slate, &IngestOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("injected failure")
            || format!("{err:?}").contains("injected failure"),
        "{err:?}"
    );
    for table in ["events", "odds_snapshots", "odds", "data_quality_logs"] {
        assert_eq!(
            db.count(&format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
}

#[tokio::test]
async fn hostile_input_is_logged_and_the_rest_of_the_slate_is_stored() {
    let db = TestDb::new().await;
    let mut slate = odds_slate();
    let games = slate.as_array_mut().unwrap();
    // 0: identity unusable; 1: a book whose markets are not a list; 2: wrong types and nulls;
    // 3: keys nobody asked for; 4: integer points (valid).
    games[0].as_object_mut().unwrap().remove("home_team");
    games[1]["bookmakers"][0]["markets"] = json!("oops");
    games[2]["bookmakers"][0]["markets"][0]["outcomes"][0]["price"] = json!("-150");
    games[2]["bookmakers"][1]["markets"][1]["outcomes"][0]["point"] = Value::Null;
    games[2]["bookmakers"][2]["markets"][2]["outcomes"][1] = json!({ "name": "Under" });
    let (home3, away3) = (games[3]["home_team"].clone(), games[3]["away_team"].clone());
    games[3]["bookmakers"].as_array_mut().unwrap().push(json!({
        "key": "betfair_ex_eu", "title": "Betfair", "last_update": "2026-01-10T17:00:00Z",
        "markets": [{ "key": "h2h_lay", "outcomes": [
            { "name": home3, "price": 120 },
            { "name": away3, "price": -140 } ] }] }));
    games[4]["bookmakers"][0]["markets"][2]["outcomes"][0]["point"] = json!(221);
    games[4]["bookmakers"][0]["markets"][2]["outcomes"][1]["point"] = json!(221);
    games.push(json!("not a game"));

    let report = ingest(&db.store, &slate, slate_time()).await;
    assert_eq!(
        report.write.snapshots_stored, 13,
        "every usable game is stored"
    );
    let kinds: Vec<String> = db
        .client()
        .await
        .query("SELECT issue_type FROM data_quality_logs ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for expected in [
        "malformed_event",
        "malformed_data",
        "missing_field",
        "unknown_bookmaker",
        "unknown_market",
        "outcome_mismatch",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "{expected} logged: {kinds:?}"
        );
    }
    // Game 1 lost one book's markets, not the game; game 4's integer points are plain numbers.
    let id1 = slate[1]["id"].as_str().unwrap();
    assert_eq!(
        db.store
            .get_odds_at_time(id1, slate_time())
            .await
            .unwrap()
            .len(),
        42
    );
    let id4 = slate[4]["id"].as_str().unwrap();
    let totals = db
        .store
        .get_line_movement(id4, "pinnacle", "totals")
        .await
        .unwrap();
    assert!(
        totals
            .iter()
            .all(|o| o.row.point == Some(221.0) && o.row.is_valid)
    );
    // The null point is stored, flagged, with the reason.
    let id2 = slate[2]["id"].as_str().unwrap();
    let flagged = db.count(&format!(
        "SELECT count(*) FROM odds WHERE event_id = '{id2}' AND point IS NULL AND market_key = 'spreads'
           AND NOT is_valid AND validation_notes ? 'missing_field'"
    )).await;
    assert_eq!(flagged, 1);
}

#[tokio::test]
async fn a_non_json_body_is_a_clear_error_and_a_critical_log_row() {
    let db = TestDb::new().await;
    for body in [
        &b"<html><body>502 Bad Gateway</body></html>"[..],
        b"[{\"id\": \"abc\"",
        b"{\"message\": \"x\"}",
    ] {
        let err = ingest_odds_body(
            &db.store,
            body,
            slate_time(),
            "basketball_nba",
            &IngestOptions::default(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, IngestError::Slate(_)), "{err}");
    }
    assert_eq!(
        db.count("SELECT count(*) FROM data_quality_logs WHERE severity = 'critical' AND issue_type = 'malformed_response'").await,
        3
    );
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 0);
    // An empty slate is not an error: nothing to store.
    let empty = ingest(&db.store, &json!([]), slate_time()).await;
    assert_eq!(empty.write.snapshots_stored, 0);
}

#[tokio::test]
async fn events_by_date_status_updates_coverage_and_fetch_logs() {
    let db = TestDb::new().await;
    let slate = odds_slate();
    ingest(&db.store, &slate, slate_time() - Duration::hours(30)).await;
    ingest(&db.store, &slate, slate_time()).await;
    let id = slate[0]["id"].as_str().unwrap().to_string();

    let day = time("2026-01-11T00:00:00Z");
    let all = db
        .store
        .get_events_by_date_range(day, day + Duration::days(1), None)
        .await
        .unwrap();
    assert_eq!(all.len(), 14);
    assert!(
        all.windows(2)
            .all(|w| w[0].commence_time <= w[1].commence_time)
    );
    let first_hour = db
        .store
        .get_events_by_date_range(day, day + Duration::minutes(30), None)
        .await
        .unwrap();
    assert_eq!(first_hour.len(), 3);

    let completed = day + Duration::hours(3);
    assert!(
        db.store
            .update_event_status(&StatusUpdate {
                event_id: id.clone(),
                status: EventStatus::Final,
                home_score: Some(112),
                away_score: Some(104),
                completed_at: Some(completed),
            })
            .await
            .unwrap()
    );
    assert!(
        !db.store
            .update_event_status(&StatusUpdate {
                event_id: "nope".into(),
                status: EventStatus::Live,
                home_score: None,
                away_score: None,
                completed_at: None,
            })
            .await
            .unwrap()
    );
    let finals = db
        .store
        .get_events_by_date_range(day, day + Duration::days(1), Some(EventStatus::Final))
        .await
        .unwrap();
    assert_eq!(finals.len(), 1);
    assert_eq!(
        (
            finals[0].home_score,
            finals[0].away_score,
            finals[0].completed_at
        ),
        (Some(112), Some(104), Some(completed))
    );
    // A later /odds upsert does not reset a finished game.
    ingest(&db.store, &slate, slate_time() + Duration::minutes(1)).await;
    assert_eq!(
        db.store.get_event(&id).await.unwrap().unwrap().status,
        EventStatus::Final
    );

    let coverage = db.store.tier_coverage(&id).await.unwrap();
    let tiers: Vec<(FetchTier, i64)> = coverage
        .iter()
        .map(|c| (c.fetch_tier, c.snapshots))
        .collect();
    assert_eq!(tiers, [(FetchTier::Early, 1), (FetchTier::Pregame, 2)]);

    db.store
        .log_fetch(&FetchLog {
            fetched_at: slate_time(),
            job_name: Some(odds_core::model::JobName::FetchOdds),
            endpoint: odds_core::model::Endpoint::Odds,
            sport_key: Some("basketball_nba".into()),
            http_status: Some(200),
            success: true,
            events_count: Some(14),
            quota: Quota {
                remaining: Some(-12),
                used: Some(20_012),
                last: Some(3),
            },
            duration_ms: 412,
            error: None,
        })
        .await
        .unwrap();
    let row = db
        .client()
        .await
        .query_one(
            "SELECT credits_remaining, credits_used, credits_last, events_count FROM fetch_logs",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, Option<i64>>(0),
            row.get::<_, Option<i64>>(1),
            row.get::<_, Option<i64>>(2),
            row.get::<_, Option<i32>>(3)
        ),
        (Some(-12), Some(20_012), Some(3), Some(14))
    );
}

#[tokio::test]
async fn bulk_historical_insert_uses_copy_and_is_idempotent() {
    let db = TestDb::new().await;
    let mut snapshots = Vec::new();
    for step in 0..4 {
        snapshots.extend(synthetic_slate(
            25,
            slate_time() + Duration::minutes(5 * step),
            7,
        ));
    }
    let first = db
        .store
        .bulk_insert_historical(&snapshots, &[])
        .await
        .unwrap();
    assert_eq!(first.snapshots_stored, 100);
    assert_eq!(first.odds_rows, 100 * 48);
    let again = db
        .store
        .bulk_insert_historical(&snapshots, &[])
        .await
        .unwrap();
    assert_eq!(
        (
            again.snapshots_stored,
            again.snapshots_duplicate,
            again.odds_rows
        ),
        (0, 100, 0)
    );
    assert_eq!(db.count("SELECT count(*) FROM odds").await, 4800);
    let id = &snapshots[0].event.id;
    let at = db
        .store
        .get_odds_at_time(id, slate_time() + Duration::minutes(7))
        .await
        .unwrap();
    assert_eq!(at.len(), 48);
    assert!(
        at.iter()
            .all(|o| o.snapshot_time == slate_time() + Duration::minutes(5))
    );
}

#[tokio::test]
async fn parse_value_and_store_agree_on_the_fixture() {
    // The typed parse path used by jobs gives the same rows as the byte path.
    let db = TestDb::new().await;
    let slate = parse_odds_value(&odds_slate(), slate_time(), "basketball_nba").unwrap();
    let report = ingest_slate(&db.store, slate, &IngestOptions::default())
        .await
        .unwrap();
    assert_eq!(report.write.odds_rows, 672);
}

#[tokio::test]
async fn sub_microsecond_snapshot_times_keep_their_rows() {
    // A wall clock has nanoseconds; PostgreSQL keeps microseconds.
    let db = TestDb::new().await;
    let at = slate_time() + Duration::nanoseconds(123_456_789);
    let report = ingest(&db.store, &odds_slate(), at).await;
    assert_eq!(report.write.odds_rows, 672);
    assert_eq!(db.count("SELECT count(*) FROM odds").await, 672);
    let mut slate = synthetic_slate(3, at, 9);
    let bulk = db.store.bulk_insert_historical(&slate, &[]).await.unwrap();
    assert_eq!(bulk.odds_rows, 3 * 48);
    slate.truncate(1);
    assert_eq!(
        db.store
            .store_slate(&slate, &[])
            .await
            .unwrap()
            .snapshots_duplicate,
        1
    );
}

#[tokio::test]
async fn a_connection_the_server_dropped_is_replaced_on_next_use() {
    let db = TestDb::new().await;
    let pid: i32 = {
        let conn = db.store.pool().get().await.unwrap();
        conn.query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0)
    };
    db.client()
        .await
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // The store's next call gets a working connection, not the dead one.
    let events = db
        .store
        .get_events_by_date_range(slate_time(), slate_time() + Duration::days(1), None)
        .await
        .unwrap();
    assert!(events.is_empty());
}
