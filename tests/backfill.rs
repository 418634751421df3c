//! Backfill against a fake historical archive and a fake NBA.com, into a fresh database each.

use chrono::{DateTime, NaiveDate, Utc};
use odds_core::backfill::parse_hours_before;
use odds_core::model::EventStatus;
use odds_core::planner::PlannerSettings;
use odds_core::requirements::{CollectionPolicy, Requirement};
use odds_core::secret::Secret;
use odds_core::settings::CollectionSettings;
use odds_jobs::backfill::{Backfill, BackfillError, Credits, DayRange, Silent};
use odds_sources::nba_stats::{NbaStatsClient, NbaStatsSettings};
use odds_sources::odds_api::{OddsApiClient, OddsApiSettings};
use odds_store::StatusUpdate;
use odds_store::ingest::IngestOptions;
use odds_tests::TestDb;
use odds_tests::fake_archive::{FakeArchive, game_finder_body, snapshot_time, two_nights};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn range() -> DayRange {
    DayRange::new(day("2024-01-10"), day("2024-01-11"), day("2026-12-01")).unwrap()
}

struct Setup {
    archive: FakeArchive,
    client: OddsApiClient,
    collection: CollectionSettings,
    planner: PlannerSettings,
    ingest: IngestOptions,
}

impl Setup {
    async fn start(archive: FakeArchive) -> Setup {
        let settings =
            OddsApiSettings::for_base_url(archive.url(), Secret::new("archive-key-0123456789"));
        Setup {
            archive,
            client: OddsApiClient::new(&settings).unwrap(),
            collection: CollectionSettings::default(),
            planner: PlannerSettings::default(),
            ingest: IngestOptions::default(),
        }
    }

    /// The two nights' archive with their games already discovered into `db`.
    async fn discovered(db: &TestDb) -> Setup {
        let setup = Setup::start(FakeArchive::start(two_nights()).await).await;
        discover_all(&setup.runner(db), &mut Credits::default()).await;
        setup
    }

    fn runner<'a>(&'a self, db: &'a TestDb) -> Backfill<'a> {
        Backfill {
            store: &db.store,
            odds_api: Some(&self.client),
            collection: &self.collection,
            planner: &self.planner,
            ingest: &self.ingest,
            progress: &Silent,
        }
    }
}

const SPORT: &str = "basketball_nba";

async fn discover_all(runner: &Backfill<'_>, credits: &mut Credits) {
    let days = runner
        .days_to_discover(SPORT, range(), false)
        .await
        .unwrap();
    runner.discover(SPORT, &days, credits).await.unwrap();
}

#[tokio::test]
async fn every_game_of_every_answer_is_stored_at_the_archive_time() {
    let db = TestDb::new().await;
    let setup = Setup::start(FakeArchive::start(two_nights()).await).await;
    let archive = &setup.archive;
    let runner = setup.runner(&db);
    let mut credits = Credits::default();

    discover_all(&runner, &mut credits).await;
    assert_eq!(credits.spent, 2, "one credit per game day");
    assert_eq!(db.count("SELECT count(*) FROM events").await, 5);

    let order = parse_hours_before("3,0.5", setup.planner.lookahead).unwrap();
    let policy = CollectionPolicy::economy();
    let plan = runner
        .plan_odds(SPORT, range(), &policy, &order, &credits)
        .await
        .unwrap();
    // T-3h and T-30m of each tip-off time; games 1 and 2 tip together and share theirs.
    let moments: Vec<DateTime<Utc>> = plan.fit.calls.iter().map(|c| c.at).collect();
    assert_eq!(
        moments,
        [
            "2024-01-10T21:00:00Z", // games 1 and 2, 3h before
            "2024-01-10T23:30:00Z", // games 1 and 2, 30m before
            "2024-01-11T00:00:00Z", // game 3, 3h before
            "2024-01-11T02:30:00Z", // game 3, 30m before
            "2024-01-11T21:30:00Z", // game 4, 3h before
            "2024-01-11T23:00:00Z", // game 5, 3h before
            "2024-01-12T00:00:00Z", // game 4, 30m before
            "2024-01-12T01:30:00Z", // game 5, 30m before
        ]
        .map(t)
    );
    assert_eq!(plan.credits_per_call, 30);
    assert_eq!(plan.credits(), 240);

    let run = runner.run_odds(&plan, &mut credits).await.unwrap();
    assert_eq!(run.calls_made, 8);
    assert_eq!(run.credits, 240);
    assert_eq!(credits.spent, 242);

    // Every game listed and not started at each answer's time is stored, with that time.
    let mut expected = 0;
    for at in &moments {
        let taken = snapshot_time(*at);
        expected += archive
            .games()
            .iter()
            .filter(|g| g.listed_from <= taken && taken < g.commence)
            .count();
    }
    assert_eq!(run.snapshots_stored, expected);
    assert_eq!(
        db.count("SELECT count(*) FROM odds_snapshots").await,
        expected as i64
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM odds_snapshots WHERE extract(second FROM snapshot_time) <> 41"
        )
        .await,
        0,
        "snapshot times are the archive's, 19 s before the grid"
    );
    // The last game was priced by calls made for the first night too.
    let last = &archive.games()[4].id;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM odds_snapshots WHERE event_id = '{last}'"
        ))
        .await,
        8
    );
    // Each call's cost is logged from the API's own header.
    assert_eq!(
        db.count("SELECT coalesce(sum(credits_last), 0)::bigint FROM fetch_logs WHERE endpoint = 'historical_odds' AND success")
            .await,
        240
    );
    // Rows came through COPY with their validation, and no check fired on clean prices.
    assert_eq!(
        db.count("SELECT count(*) FROM data_quality_logs WHERE severity IN ('error', 'critical')")
            .await,
        0
    );

    // A rerun finds nothing to discover and nothing to ask.
    assert!(
        runner
            .days_to_discover(SPORT, range(), false)
            .await
            .unwrap()
            .is_empty()
    );
    let again = runner
        .plan_odds(SPORT, range(), &policy, &order, &credits)
        .await
        .unwrap();
    assert!(again.fit.calls.is_empty(), "{:?}", again.fit.calls);
    assert_eq!(again.games_missing, 0);
}

#[tokio::test]
async fn an_interrupted_run_keeps_what_it_stored_and_resumes() {
    let db = TestDb::new().await;
    let setup = Setup::start(FakeArchive::start_failing_after(two_nights(), Some(3)).await).await;
    let runner = setup.runner(&db);
    let mut credits = Credits::default();
    discover_all(&runner, &mut credits).await;
    let order = parse_hours_before("3,0.5", setup.planner.lookahead).unwrap();
    let policy = CollectionPolicy::economy();
    let plan = runner
        .plan_odds(SPORT, range(), &policy, &order, &credits)
        .await
        .unwrap();
    assert_eq!(plan.fit.calls.len(), 8);

    let err = runner.run_odds(&plan, &mut credits).await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            BackfillError::Interrupted {
                done: 3,
                planned: 8,
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("resumes"), "{message}");
    assert!(
        message.contains("OUT_OF_USAGE_CREDITS") || message.contains("quota"),
        "{message}"
    );
    assert!(!message.contains("archive-key"), "{message}");
    let stored = db.count("SELECT count(*) FROM odds_snapshots").await;
    assert!(stored > 0);
    assert_eq!(
        db.count(
            "SELECT count(*) FROM fetch_logs WHERE endpoint = 'historical_odds' AND NOT success"
        )
        .await,
        1
    );

    // Resumed against a healthy archive: only the five calls not made are planned.
    let setup = Setup::start(FakeArchive::start(two_nights()).await).await;
    let archive = &setup.archive;
    let runner = setup.runner(&db);
    let rest = runner
        .plan_odds(SPORT, range(), &policy, &order, &credits)
        .await
        .unwrap();
    assert_eq!(rest.fit.calls.len(), 5);
    assert_eq!(rest.fit.calls[0].at, plan.fit.calls[3].at);
    let run = runner.run_odds(&rest, &mut credits).await.unwrap();
    assert_eq!(run.calls_made, 5);
    assert!(db.count("SELECT count(*) FROM odds_snapshots").await > stored);
    assert_eq!(
        archive.calls("events").await.len(),
        0,
        "days already discovered"
    );
}

#[tokio::test]
async fn the_credit_cap_is_never_exceeded() {
    let db = TestDb::new().await;
    let setup = Setup::start(FakeArchive::start(two_nights()).await).await;
    let runner = setup.runner(&db);
    // Room for discovery (2) and three archive calls (90).
    let mut credits = Credits::capped(Some(92));
    discover_all(&runner, &mut credits).await;
    let order = parse_hours_before("3,0.5", setup.planner.lookahead).unwrap();
    let plan = runner
        .plan_odds(
            SPORT,
            range(),
            &CollectionPolicy::economy(),
            &order,
            &credits,
        )
        .await
        .unwrap();
    // The farthest point goes first; the 30-minute points alone still need four calls.
    assert_eq!(plan.fit.dropped, vec![Requirement::Before(180)]);
    assert_eq!((plan.fit.calls.len(), plan.fit.cut), (3, 1));
    let run = runner.run_odds(&plan, &mut credits).await.unwrap();
    assert_eq!(run.calls_made, 3);
    assert!(credits.spent <= 92, "{}", credits.spent);
    assert_eq!(
        db.count("SELECT coalesce(sum(credits_last), 0)::bigint FROM fetch_logs")
            .await,
        credits.spent
    );
}

#[tokio::test]
async fn discovery_adds_and_updates_games_but_never_reverts_a_final_one() {
    let db = TestDb::new().await;
    let setup = Setup::start(FakeArchive::start(two_nights()).await).await;
    let games = setup.archive.games().to_vec();
    // Game 1 was collected live and is final; game 3 was stored from an older listing with a
    // tip-off that later moved.
    let mut g1 = odds_core::Event::scheduled(
        &games[0].id,
        SPORT,
        &games[0].home,
        &games[0].away,
        games[0].commence,
    );
    db.store
        .upsert_event(&g1, t("2024-01-10T23:00:00Z"))
        .await
        .unwrap();
    db.store
        .update_event_status(&StatusUpdate {
            event_id: g1.id.clone(),
            status: EventStatus::Final,
            home_score: Some(110),
            away_score: Some(100),
            completed_at: Some(t("2024-01-11T02:20:00Z")),
        })
        .await
        .unwrap();
    g1.status = EventStatus::Final;
    let g3 = odds_core::Event::scheduled(
        &games[2].id,
        SPORT,
        &games[2].home,
        &games[2].away,
        t("2024-01-11T01:00:00Z"),
    );
    db.store
        .upsert_event(&g3, t("2024-01-05T00:00:00Z"))
        .await
        .unwrap();

    let runner = setup.runner(&db);
    let all: Vec<NaiveDate> = range().days().collect();
    let found = runner
        .discover(SPORT, &all, &mut Credits::default())
        .await
        .unwrap();
    assert_eq!(found.games_listed, 5);
    assert_eq!(found.games_new, 3);
    let stored = db.store.get_event(&games[0].id).await.unwrap().unwrap();
    assert_eq!(stored.status, EventStatus::Final);
    assert_eq!(
        (stored.home_score, stored.away_score),
        (Some(110), Some(100))
    );
    let moved = db.store.get_event(&games[2].id).await.unwrap().unwrap();
    assert_eq!(
        moved.commence_time, games[2].commence,
        "the newer listing wins"
    );
    // Asked again (the events command always asks): still final, scores untouched.
    runner
        .discover(SPORT, &all, &mut Credits::default())
        .await
        .unwrap();
    let stored = db.store.get_event(&games[0].id).await.unwrap().unwrap();
    assert_eq!(stored.status, EventStatus::Final);
    assert_eq!(stored.home_score, Some(110));
}

#[tokio::test]
async fn scores_match_neutral_site_games_and_report_the_missing() {
    let db = TestDb::new().await;
    let setup = Setup::discovered(&db).await;
    let archive = &setup.archive;
    let runner = setup.runner(&db);

    let nba = MockServer::start().await;
    let (a, b) = (day("2024-01-10"), day("2024-01-11"));
    let body = game_finder_body(&[
        (
            "0022300501",
            "New York Knicks",
            "Boston Celtics",
            100,
            110,
            a,
            false,
        ),
        (
            "0022300502",
            "Brooklyn Nets",
            "Philadelphia 76ers",
            120,
            111,
            a,
            false,
        ),
        (
            "0022300503",
            "Golden State Warriors",
            "Los Angeles Lakers",
            99,
            101,
            a,
            false,
        ),
        // NBA.com: Miami at Washington on both rows; The Odds API listed Miami at home.
        (
            "0022300504",
            "Miami Heat",
            "Washington Wizards",
            118,
            98,
            b,
            true,
        ),
        // Game 5 (Phoenix at Denver) is missing from NBA.com.
    ]);
    Mock::given(path("/stats/leaguegamefinder"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&nba)
        .await;
    let client = NbaStatsClient::new(&NbaStatsSettings::for_base_url(nba.uri())).unwrap();
    let run = runner
        .scores(&client, SPORT, range(), t("2026-12-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(run.nba_finals, 4);
    assert_eq!(run.updated, 4);
    assert_eq!(run.unmatched.len(), 1, "{:?}", run.unmatched);
    assert_eq!(run.unmatched[0].event_id, archive.games()[4].id);
    assert!(
        run.unmatched[0].reason.contains("2024-01-11"),
        "{:?}",
        run.unmatched
    );

    let neutral = db
        .store
        .get_event(&archive.games()[3].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(neutral.status, EventStatus::Final);
    // Scores follow the teams: Miami (home in the Odds API) scored 118.
    assert_eq!(
        (neutral.home_score, neutral.away_score),
        (Some(118), Some(98))
    );
    let celtics = db
        .store
        .get_event(&archive.games()[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (celtics.home_score, celtics.away_score),
        (Some(110), Some(100))
    );

    // Idempotent: a second pass finds everything final already and writes nothing.
    let again = runner
        .scores(&client, SPORT, range(), t("2026-12-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!((again.updated, again.already_final), (0, 4));
}

#[tokio::test]
async fn gaps_fill_the_closing_capture_first_within_the_cap() {
    let db = TestDb::new().await;
    let setup = Setup::discovered(&db).await;
    let runner = setup.runner(&db);
    let policy = CollectionPolicy::economy();
    let order = policy.drop_order();

    // Room for one call: the closing capture of the first tip-off.
    let one = runner
        .plan_odds(SPORT, range(), &policy, &order, &Credits::capped(Some(30)))
        .await
        .unwrap();
    assert_eq!(one.games_missing, 5);
    // Discovery saw the games on their own day, but the archive is asked from a week before.
    assert!(
        one.missing
            .contains(&(Requirement::Coverage(odds_core::FetchTier::Opening), 5)),
        "{:?}",
        one.missing
    );
    assert_eq!(one.fit.active, vec![Requirement::Closing]);
    assert_eq!(one.fit.calls.len(), 1);
    assert_eq!(one.fit.calls[0].at, t("2024-01-10T23:55:00Z"));

    // Without a cap every tier is covered, and a second pass has nothing left to ask.
    let mut credits = Credits::default();
    let all = runner
        .plan_odds(SPORT, range(), &policy, &order, &credits)
        .await
        .unwrap();
    assert!(all.fit.dropped.is_empty());
    assert!(all.fit.calls.len() > 5);
    runner.run_odds(&all, &mut credits).await.unwrap();
    let rest = runner
        .plan_odds(SPORT, range(), &policy, &order, &credits)
        .await
        .unwrap();
    assert!(rest.fit.calls.is_empty(), "{:?}", rest.fit.calls);
    // Every game has its closing capture, 19 s past its T-5 minute mark at the latest.
    assert_eq!(
        db.count(
            "SELECT count(DISTINCT e.id) FROM events e JOIN odds_snapshots s ON s.event_id = e.id
              WHERE s.snapshot_time BETWEEN e.commence_time - interval '10 minutes'
                                        AND e.commence_time - interval '2 minutes'"
        )
        .await,
        5
    );
}

#[test]
fn bad_ranges_are_refused() {
    let today = day("2026-12-01");
    let err = DayRange::new(day("2024-01-11"), day("2024-01-10"), today).unwrap_err();
    assert!(err.contains("before --from"), "{err}");
    let err = DayRange::new(day("2020-06-05"), day("2020-06-10"), today).unwrap_err();
    assert!(err.contains("archive starts (2020-06-06)"), "{err}");
    let err = DayRange::new(day("2026-11-30"), day("2026-12-02"), today).unwrap_err();
    assert!(err.contains("future"), "{err}");
    assert!(DayRange::new(day("2020-06-06"), day("2020-06-06"), today).is_ok());
}
