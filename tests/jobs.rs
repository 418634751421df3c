//! The jobs end to end: a real PostgreSQL, a fake Odds API (wiremock), a virtual clock, and the
//! database scheduler backend (the AWS backend has its own tests against moto).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use odds_aws::Invocation;
use odds_core::EventStatus;
use odds_core::clock::{Clock, VirtualClock};
use odds_core::secret::{DatabaseUrl, Secret};
use odds_jobs::{DatabaseScheduler, DryRunScheduler};
use odds_jobs::{JobContext, JobName, JobSettings, RunOutcome, Trigger, invoke};
use odds_sources::odds_api::{OddsApiClient, OddsApiSettings};
use odds_store::{LeaseAttempt, Store};
use odds_tests::TestDb;
use odds_tests::fake_api::FakeOddsApi;
use odds_tests::fixtures::{odds_slate, slate_time};
use serde_json::{Value, json};

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn context(store: &Store, api: &FakeOddsApi, clock: &Arc<VirtualClock>) -> JobContext {
    let mut settings = OddsApiSettings::for_base_url(api.url(), Secret::new(KEY));
    settings.max_attempts = 2;
    JobContext::new(
        store.clone(),
        clock.clone(),
        Some(OddsApiClient::new(&settings).unwrap()),
        Arc::new(DatabaseScheduler::new(store.clone(), "local")),
        JobSettings::default(),
    )
}

async fn setup() -> (TestDb, FakeOddsApi, Arc<VirtualClock>) {
    let db = TestDb::new().await;
    let api = FakeOddsApi::start().await;
    api.serve_slate(&odds_slate()).await;
    (db, api, Arc::new(VirtualClock::new(slate_time())))
}

/// By hand and forced: these tests are about what a fetch does, not about when one is due.
fn manual() -> Trigger {
    Trigger::forced()
}

#[tokio::test]
async fn fetch_odds_discovers_fetches_stores_and_plans_the_next_run() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(summary.outcome, RunOutcome::Success, "{summary:?}");
    assert!(summary.executed);
    assert_eq!(summary.snapshots_stored, 14);
    assert_eq!(summary.credits_used, 3);
    assert_eq!(summary.events, 14);
    assert_eq!(summary.tier, Some(odds_core::FetchTier::Pregame));
    // The last game tips off at 03:00: its pregame window allows no 3-hour gap, so the next
    // fetch is 21:00 (also the first of the closing tier of the 00:00 games).
    let next = t("2026-01-10T21:00:00Z");
    assert_eq!(summary.next_run_at, Some(next));
    let state = db
        .store
        .job_state(JobName::FetchOdds)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.next_run_at, Some(next));
    assert_eq!(state.last_outcome, Some(RunOutcome::Success));
    assert!(state.lease_owner.is_none(), "lease released");
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 14);
    assert_eq!(db.count("SELECT count(*) FROM odds").await, 672);
    assert_eq!(
        db.count("SELECT count(*) FROM fetch_logs WHERE success AND ((endpoint = 'events' AND credits_last = 0) OR (endpoint = 'odds' AND credits_last = 3))").await,
        2
    );
    assert_eq!(
        db.count("SELECT count(*) FROM job_runs WHERE outcome = 'success'")
            .await,
        1
    );

    // Invoked by hand again a minute later, unforced: nothing is due, nothing is spent.
    clock.advance(Duration::minutes(1));
    let again = invoke(&ctx, JobName::FetchOdds, &Trigger::manual()).await;
    assert_eq!(
        (again.outcome, again.executed),
        (RunOutcome::Skipped, false),
        "{again:?}"
    );
    assert_eq!(again.credits_used, 0);
    assert_eq!(api.calls("odds").await, 1);
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 14);
    assert_eq!(again.next_run_at, Some(next));

    // At the planned time the next snapshot is taken: the run names the 03:00 game's pregame
    // gap, and each game's snapshot carries its own tier (the 00:00 games are in closing).
    clock.set(next);
    let closing = invoke(&ctx, JobName::FetchOdds, &Trigger::scheduled()).await;
    assert!(closing.executed, "{closing:?}");
    assert_eq!(closing.tier, Some(odds_core::FetchTier::Pregame));
    assert!(closing.reason.starts_with("pregame gap of "), "{closing:?}");
    assert_eq!(
        db.count("SELECT count(*) FROM odds_snapshots WHERE fetch_tier = 'closing'")
            .await,
        3
    );
}

#[tokio::test]
async fn two_concurrent_invocations_store_one_snapshot_per_game() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    let input = manual();
    let (a, b) = tokio::join!(
        invoke(&ctx, JobName::FetchOdds, &input),
        invoke(&ctx, JobName::FetchOdds, &input)
    );
    assert_eq!(
        [a.executed, b.executed].iter().filter(|e| **e).count(),
        1,
        "{a:?}\n{b:?}"
    );
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 14);
    assert_eq!(api.calls("odds").await, 1);
}

#[tokio::test]
async fn an_api_outage_fails_the_run_and_schedules_retries_with_backoff() {
    let (db, api, clock) = setup().await;
    api.fail_everything(503).await;
    let ctx = context(&db.store, &api, &clock);
    let mut expected_delays = vec![5, 15, 60, 60].into_iter();
    for _ in 0..4 {
        let now = clock.now();
        let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
        assert_eq!(summary.outcome, RunOutcome::Failed, "{summary:?}");
        assert!(
            summary.error.as_deref().unwrap().contains("503"),
            "{summary:?}"
        );
        let delay = expected_delays.next().unwrap();
        assert_eq!(summary.next_run_at, Some(now + Duration::minutes(delay)));
        clock.set(summary.next_run_at.unwrap());
    }
    let state = db
        .store
        .job_state(JobName::FetchOdds)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.consecutive_failures, 4);
    assert!(state.last_error.unwrap().contains("503"));
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 0);
    assert!(
        db.count("SELECT count(*) FROM fetch_logs WHERE NOT success AND http_status = 503")
            .await
            >= 4
    );

    // Back up: the chain resumes and the failure count resets.
    api.serve_slate(&odds_slate()).await;
    let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(summary.outcome, RunOutcome::Success);
    assert_eq!(
        db.store
            .job_state(JobName::FetchOdds)
            .await
            .unwrap()
            .unwrap()
            .consecutive_failures,
        0
    );
}

#[tokio::test]
async fn a_database_failure_mid_run_leaves_nothing_half_written_and_a_retry_armed() {
    let (db, api, clock) = setup().await;
    db.client()
        .await
        .batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'disk full (injected)'; END $$;
             CREATE TRIGGER refuse BEFORE INSERT ON odds FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .await
        .unwrap();
    let ctx = context(&db.store, &api, &clock);
    let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(summary.outcome, RunOutcome::Failed);
    assert!(
        summary.error.as_deref().unwrap().contains("disk full"),
        "{summary:?}"
    );
    assert_eq!(
        summary.next_run_at,
        Some(slate_time() + Duration::minutes(5))
    );
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 0);
    assert_eq!(db.count("SELECT count(*) FROM odds").await, 0);
    assert_eq!(
        db.store
            .job_state(JobName::FetchOdds)
            .await
            .unwrap()
            .unwrap()
            .next_run_at,
        Some(slate_time() + Duration::minutes(5))
    );
}

#[tokio::test]
async fn with_the_database_gone_the_run_fails_cleanly_and_still_arms_a_retry() {
    let api = FakeOddsApi::start().await;
    api.serve_slate(&odds_slate()).await;
    let clock = Arc::new(VirtualClock::new(slate_time()));
    let dead = Store::connect(&DatabaseUrl::new("postgres://odds:pw@127.0.0.1:1/odds"), 1).unwrap();
    let mut ctx = context(&dead, &api, &clock);
    ctx.backend = Arc::new(DryRunScheduler);
    let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(summary.outcome, RunOutcome::Failed);
    assert_eq!(summary.reason, "database unavailable");
    assert_eq!(
        summary.next_run_at,
        Some(slate_time() + Duration::minutes(5))
    );
    assert_eq!(
        api.calls("odds").await,
        0,
        "no credits spent without a database"
    );
}

#[tokio::test]
async fn games_that_have_started_are_not_stored() {
    let (db, api, clock) = setup().await;
    clock.set(t("2026-01-11T00:10:00Z"));
    let ctx = context(&db.store, &api, &clock);
    let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert!(summary.executed, "{summary:?}");
    // The three 00:00 games have started; the API still returned them.
    assert_eq!(summary.snapshots_stored, 11);
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots s JOIN events e ON e.id = s.event_id WHERE e.commence_time <= s.snapshot_time").await, 0);
}

fn scores_for(slate: &Value, completed: usize) -> Value {
    let games: Vec<Value> = slate
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let done = i < completed;
            json!({
                "id": g["id"], "sport_key": "basketball_nba", "sport_title": "NBA",
                "commence_time": g["commence_time"], "completed": done,
                "home_team": g["home_team"], "away_team": g["away_team"],
                // Listed away team first: scores are matched by name, not position.
                "scores": [ { "name": g["away_team"], "score": (100 + i).to_string() },
                            { "name": g["home_team"], "score": (110 + i).to_string() } ],
                "last_update": if done { json!("2026-01-11T05:40:00Z") } else { json!("2026-01-11T06:00:00Z") }
            })
        })
        .collect();
    Value::Array(games)
}

#[tokio::test]
async fn fetch_scores_marks_games_final_and_retries_until_every_game_is() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    invoke(&ctx, JobName::FetchOdds, &manual()).await;
    // Before any game should be over: nothing is due.
    let early = invoke(&ctx, JobName::FetchScores, &Trigger::manual()).await;
    assert!(!early.executed);
    // One call when the night's last game (03:30 tip-off) should be over.
    assert_eq!(
        early.next_run_at,
        Some(t("2026-01-11T06:00:00Z")),
        "{early:?}"
    );

    let slate = odds_slate();
    api.serve_scores(&scores_for(&slate, 13)).await;
    clock.set(t("2026-01-11T06:30:00Z"));
    let summary = invoke(&ctx, JobName::FetchScores, &manual()).await;
    assert_eq!(summary.outcome, RunOutcome::Success, "{summary:?}");
    assert_eq!(summary.credits_used, 2);
    assert_eq!(summary.games_updated, 14);
    assert_eq!(
        db.count("SELECT count(*) FROM events WHERE status = 'final'")
            .await,
        13
    );
    let first = db
        .store
        .get_event(slate[0]["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.home_score, first.away_score), (Some(110), Some(100)));
    assert_eq!(first.completed_at, Some(t("2026-01-11T05:40:00Z")));
    let last = db
        .store
        .get_event(slate[13]["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.status, EventStatus::Live);
    // One game still running: ask again after the retry delay.
    assert_eq!(summary.next_run_at, Some(t("2026-01-11T06:50:00Z")));

    api.serve_scores(&scores_for(&slate, 14)).await;
    clock.set(t("2026-01-11T06:50:00Z"));
    invoke(&ctx, JobName::FetchScores, &manual()).await;
    assert_eq!(
        db.count("SELECT count(*) FROM events WHERE status = 'final'")
            .await,
        14
    );
    let done = invoke(&ctx, JobName::FetchScores, &Trigger::manual()).await;
    assert!(!done.executed, "nothing pending: {done:?}");
}

#[tokio::test]
async fn update_status_turns_games_live_at_tip_off() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    invoke(&ctx, JobName::FetchOdds, &manual()).await;
    clock.set(t("2026-01-11T00:05:00Z"));
    let summary = invoke(&ctx, JobName::UpdateStatus, &manual()).await;
    assert_eq!(summary.games_updated, 3);
    assert_eq!(
        db.count("SELECT count(*) FROM events WHERE status = 'live'")
            .await,
        3
    );
    assert_eq!(summary.next_run_at, Some(t("2026-01-11T00:30:00Z")));
}

#[tokio::test]
async fn the_watchdog_does_nothing_while_armed_and_re_arms_a_dead_chain() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    let watchdog: Invocation = serde_json::from_value(json!({
        "version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-01-10T18:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/odds-watchdog"], "detail": {}
    }))
    .unwrap();
    let watchdog = watchdog.trigger(JobName::FetchOdds);
    // No schedule at all: the watchdog starts the chain (nothing is due before 20:59, when
    // the pregame window of the games it has just listed closes).
    let first = invoke(&ctx, JobName::FetchOdds, &watchdog).await;
    assert!(!first.executed, "{first:?}");
    assert_eq!(
        first.next_run_at,
        Some(t("2026-01-10T20:59:00Z")),
        "{first:?}"
    );
    // Armed for later: nothing to do.
    let idle = invoke(&ctx, JobName::FetchOdds, &watchdog).await;
    assert!(!idle.executed);
    assert!(
        idle.reason.starts_with("watchdog: next run armed"),
        "{idle:?}"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM job_runs").await,
        1,
        "an armed chain is left alone"
    );
    // The armed run (20:59) was missed by an hour: re-armed, and run since it is overdue.
    clock.advance(Duration::hours(4));
    let revived = invoke(&ctx, JobName::FetchOdds, &watchdog).await;
    assert_eq!(revived.outcome, RunOutcome::Success, "{revived:?}");
    assert!(revived.executed, "{revived:?}");
    assert!(revived.next_run_at.unwrap() > clock.now());
}

#[tokio::test]
async fn a_moved_or_vanished_game_is_postponed_and_logged() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    invoke(&ctx, JobName::FetchOdds, &manual()).await;
    let mut slate = odds_slate();
    let moved = slate[1]["id"].as_str().unwrap().to_string();
    slate[1]["commence_time"] = json!("2026-01-12T00:00:00Z");
    let vanished = slate[2]["id"].as_str().unwrap().to_string();
    slate.as_array_mut().unwrap().remove(2);
    api.serve_slate(&slate).await;

    clock.advance(Duration::minutes(30));
    invoke(&ctx, JobName::FetchOdds, &manual()).await;
    let status = |id: String| {
        let store = db.store.clone();
        async move { store.get_event(&id).await.unwrap().unwrap() }
    };
    let m = status(moved.clone()).await;
    assert_eq!(m.status, EventStatus::Postponed);
    assert_eq!(m.commence_time, t("2026-01-12T00:00:00Z"));
    assert_eq!(
        status(vanished.clone()).await.status,
        EventStatus::Scheduled,
        "one miss is not enough"
    );

    clock.advance(Duration::hours(2));
    invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(
        status(vanished.clone()).await.status,
        EventStatus::Postponed
    );
    assert_eq!(
        db.count("SELECT count(*) FROM data_quality_logs WHERE issue_type = 'game_postponed'")
            .await,
        2
    );

    // The moved game is still collected at its new time; the vanished one is not, and a day
    // after its tip-off it is cancelled.
    clock.set(t("2026-01-12T00:00:00Z") + Duration::minutes(1));
    invoke(&ctx, JobName::UpdateStatus, &manual()).await;
    assert_eq!(status(moved).await.status, EventStatus::Live);
    assert_eq!(status(vanished).await.status, EventStatus::Cancelled);
}

#[tokio::test]
async fn the_api_key_never_reaches_logs_summaries_or_the_database() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    api.fail_everything(401).await;
    clock.advance(Duration::hours(4));
    let failed = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    let text = format!(
        "{summary:?}{failed:?}{}",
        serde_json::to_string(&failed).unwrap()
    );
    assert!(!text.contains(KEY), "{text}");
    let logged: Vec<String> = db
        .client()
        .await
        .query("SELECT coalesce(error, '') || coalesce(endpoint, '') FROM fetch_logs UNION ALL SELECT coalesce(error, '') || summary::text FROM job_runs", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(logged.iter().all(|l| !l.contains(KEY)), "{logged:?}");
}

#[tokio::test]
async fn a_killed_runs_lease_is_taken_over_and_the_busy_answer_arms_the_retry() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    // A run killed during its API call leaves its lease behind: nobody renews or releases it.
    let dead = db
        .store
        .try_acquire_lease(
            JobName::FetchOdds,
            "killed-run",
            clock.now(),
            ctx.settings.lease_ttl,
        )
        .await
        .unwrap();
    assert!(matches!(dead, LeaseAttempt::Taken { .. }), "{dead:?}");
    let busy = invoke(&ctx, JobName::FetchOdds, &Trigger::scheduled()).await;
    assert_eq!(busy.outcome, RunOutcome::Busy, "{busy:?}");
    let retry = busy.next_run_at.expect("a busy answer still arms a run");
    let state = db
        .store
        .job_state(JobName::FetchOdds)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.next_run_at, Some(retry));
    // The next run comes within the retry delay of a failed run, not after 15 minutes.
    assert!(retry - clock.now() <= ctx.settings.backoff(1), "{retry}");
    assert_eq!(api.calls("odds").await, 0);

    clock.set(retry);
    let taken = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(taken.outcome, RunOutcome::Success, "{taken:?}");
    assert_eq!(taken.snapshots_stored, 14);
    assert_eq!(api.calls("odds").await, 1);
}

#[tokio::test]
async fn a_running_job_keeps_its_lease_and_gives_it_up_when_recorded() {
    let (db, _api, clock) = setup().await;
    let now = clock.now();
    let ttl = Duration::minutes(2);
    let job = JobName::FetchScores;
    let taken = db
        .store
        .try_acquire_lease(job, "a", now, ttl)
        .await
        .unwrap();
    assert!(matches!(
        taken,
        LeaseAttempt::Taken {
            consecutive_failures: 0
        }
    ));
    assert_eq!(
        db.store
            .try_acquire_lease(job, "b", now, ttl)
            .await
            .unwrap(),
        LeaseAttempt::Held { until: now + ttl }
    );
    // Renewed by its owner only.
    assert!(db.store.renew_lease(job, "a", now + ttl * 2).await.unwrap());
    assert!(!db.store.renew_lease(job, "b", now + ttl * 3).await.unwrap());
    assert_eq!(
        db.store
            .try_acquire_lease(job, "b", now + ttl + Duration::seconds(1), ttl)
            .await
            .unwrap(),
        LeaseAttempt::Held {
            until: now + ttl * 2
        }
    );
    // Expired: taken over.
    assert!(matches!(
        db.store
            .try_acquire_lease(job, "b", now + ttl * 2, ttl)
            .await
            .unwrap(),
        LeaseAttempt::Taken { .. }
    ));
}

#[tokio::test]
async fn the_watchdog_treats_a_rule_whose_time_has_passed_as_broken() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    // Armed for five minutes ago, and no run since: the chain did not fire.
    db.store
        .set_next_run(
            JobName::FetchOdds,
            clock.now() - Duration::minutes(5),
            "missed",
        )
        .await
        .unwrap();
    let watchdog = Invocation {
        watchdog: true,
        ..Invocation::default()
    }
    .trigger(JobName::FetchOdds);
    let repaired = invoke(&ctx, JobName::FetchOdds, &watchdog).await;
    assert!(
        !repaired.reason.starts_with("watchdog: next run armed"),
        "{repaired:?}"
    );
    // Re-armed for what the plan says (nothing was due yet: the pregame window closes 20:59).
    assert_eq!(
        repaired.next_run_at,
        Some(t("2026-01-10T20:59:00Z")),
        "{repaired:?}"
    );
    let state = db
        .store
        .job_state(JobName::FetchOdds)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.next_run_at, repaired.next_run_at);
}

#[tokio::test]
async fn a_fetch_counts_only_once_its_snapshots_are_stored() {
    let (db, api, clock) = setup().await;
    let ctx = context(&db.store, &api, &clock);
    db.client()
        .await
        .batch_execute(
            "CREATE FUNCTION refuse_snapshots() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'injected failure'; END $$;
             CREATE TRIGGER refuse_snapshots BEFORE INSERT ON odds_snapshots
               FOR EACH ROW EXECUTE FUNCTION refuse_snapshots();",
        )
        .await
        .unwrap();
    let failed = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(failed.outcome, RunOutcome::Failed, "{failed:?}");
    assert_eq!(
        db.count("SELECT count(*) FROM fetch_logs WHERE endpoint = 'odds' AND success")
            .await,
        0,
        "a call whose slate was not stored is not a fetch"
    );
    let logged = db
        .client()
        .await
        .query_one(
            "SELECT error FROM fetch_logs WHERE endpoint = 'odds' AND NOT success",
            &[],
        )
        .await
        .unwrap()
        .get::<_, Option<String>>(0)
        .unwrap();
    assert!(logged.contains("injected failure"), "{logged}");

    db.client()
        .await
        .batch_execute("DROP TRIGGER refuse_snapshots ON odds_snapshots")
        .await
        .unwrap();
    clock.set(failed.next_run_at.unwrap());
    let retried = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert!(retried.executed, "the failed store is retried: {retried:?}");
    assert_eq!(retried.snapshots_stored, 14);
    assert_eq!(api.calls("odds").await, 2);
}

#[tokio::test]
async fn hostile_values_flag_their_game_and_the_rest_of_the_slate_is_stored() {
    let db = TestDb::new().await;
    let api = FakeOddsApi::start().await;
    let mut slate = odds_slate();
    // A NUL in a team name (PostgreSQL's text cannot hold it), in /events and /odds alike, and a
    // book's last_update that chrono reads but PostgreSQL refuses (about 30,000 BC).
    slate[0]["home_team"] = json!("Boston\u{0}Celtics");
    slate[1]["bookmakers"][0]["last_update"] = json!(-1_000_000_000_000i64);
    slate[1]["bookmakers"][0]["markets"][0]
        .as_object_mut()
        .unwrap()
        .remove("last_update");
    api.serve_slate(&slate).await;
    let clock = Arc::new(VirtualClock::new(slate_time()));
    let ctx = context(&db.store, &api, &clock);
    let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(summary.outcome, RunOutcome::Success, "{summary:?}");
    assert_eq!(summary.snapshots_stored, 14, "every game is stored");
    assert_eq!(
        db.count("SELECT count(*) FROM events WHERE strpos(home_team, chr(65533)) > 0")
            .await,
        1
    );
    assert!(
        db.count("SELECT count(*) FROM data_quality_logs WHERE issue_type = 'nul_character'")
            .await
            >= 1
    );
    let bad_time = db
        .count("SELECT count(*) FROM data_quality_logs WHERE issue_type = 'malformed_timestamp'")
        .await;
    assert!(bad_time >= 1, "the bad time is an issue");
}

#[tokio::test]
async fn an_unknown_sport_is_skipped_with_an_error_and_the_others_are_collected() {
    let (db, api, clock) = setup().await;
    wiremock::Mock::given(wiremock::matchers::path_regex("^/v4/sports/curling_xyz/"))
        .respond_with(wiremock::ResponseTemplate::new(404).set_body_raw(
            r#"{"message":"Unknown sport","error_code":"UNKNOWN_SPORT"}"#,
            "application/json",
        ))
        .mount(&api.server)
        .await;
    let mut ctx = context(&db.store, &api, &clock);
    let mut settings = (*ctx.settings).clone();
    settings.collection.sports = vec!["curling_xyz".into(), "basketball_nba".into()];
    ctx.settings = Arc::new(settings);
    let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(summary.outcome, RunOutcome::Success, "{summary:?}");
    assert_eq!(summary.snapshots_stored, 14);
    let failed = db
        .count("SELECT count(*) FROM fetch_logs WHERE sport_key = 'curling_xyz' AND NOT success")
        .await;
    assert_eq!(
        failed, 2,
        "the unknown sport's /events and /odds calls are logged as failed"
    );
}

#[tokio::test]
async fn a_key_echoed_inside_a_body_is_masked_in_logs_issues_and_snapshots() {
    let logs = odds_tests::logs::CapturedLogs::start();
    let db = TestDb::new().await;
    let api = FakeOddsApi::start().await;
    let mut slate = odds_slate();
    // A proxy or a broken feed echoes the key into a game: in a book's title, and as a bad
    // price that the validator quotes in an issue.
    slate[0]["bookmakers"][0]["title"] = json!(format!("Book {KEY}"));
    slate[0]["bookmakers"][0]["markets"][0]["outcomes"][0]["price"] = json!(KEY);
    api.serve_slate(&slate).await;
    let clock = Arc::new(VirtualClock::new(slate_time()));
    let ctx = context(&db.store, &api, &clock);
    let summary = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(summary.outcome, RunOutcome::Success, "{summary:?}");
    assert_eq!(summary.snapshots_stored, 14);
    let stored: Vec<String> = db
        .client()
        .await
        .query(
            "SELECT raw_data::text FROM odds_snapshots
             UNION ALL SELECT description || coalesce(context::text, '') FROM data_quality_logs
             UNION ALL SELECT bookmaker_title FROM odds",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        stored.iter().any(|t| t.contains("[redacted]")),
        "the masked text is stored"
    );
    assert!(
        stored.iter().all(|t| !t.contains(KEY)),
        "the key was stored"
    );
    let logged = logs.text();
    assert!(
        logged.contains("malformed_data"),
        "the issue was logged: {logged}"
    );
    assert!(!logged.contains(KEY), "the key was logged: {logged}");
}

#[tokio::test]
async fn event_markets_are_collected_at_each_games_closing_capture_only() {
    let (db, api, clock) = setup().await;
    api.serve_event_markets().await;
    let mut settings = JobSettings::default();
    settings.collection.event_markets = vec!["player_points".into()];
    settings.ingest = odds_store::ingest::IngestOptions::from_vars(
        &odds_core::settings::Vars(&odds_core::settings::lookup_from_pairs(&[])),
        &settings.collection,
    )
    .unwrap();
    let mut api_settings = OddsApiSettings::for_base_url(api.url(), Secret::new(KEY));
    api_settings.max_attempts = 2;
    let ctx = JobContext::new(
        db.store.clone(),
        clock.clone(),
        Some(OddsApiClient::new(&api_settings).unwrap()),
        Arc::new(DatabaseScheduler::new(db.store.clone(), "local")),
        settings,
    );

    // 18:00, six hours out: no game's closing capture, no per-event call.
    let early = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(early.outcome, RunOutcome::Success, "{early:?}");
    assert_eq!(early.credits_used, 3);
    assert_eq!(
        db.count("SELECT count(*) FROM fetch_logs WHERE endpoint = 'event_odds'")
            .await,
        0
    );

    // 23:55, five minutes before the three 00:00 tip-offs: their closing capture, each with
    // its props (1 credit each), merged into the game's one snapshot.
    clock.set(t("2026-01-10T23:55:00Z"));
    let close = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(close.outcome, RunOutcome::Success, "{close:?}");
    assert_eq!(close.credits_used, 3 + 3, "{close:?}");
    assert_eq!(
        db.count("SELECT count(*) FROM fetch_logs WHERE endpoint = 'event_odds' AND success AND credits_last = 1")
            .await,
        3
    );
    assert_eq!(
        db.count(
            "SELECT count(DISTINCT event_id) FROM odds WHERE market_key = 'player_points'
                AND snapshot_time = '2026-01-10T23:55:00Z'"
        )
        .await,
        3
    );
    assert_eq!(
        db.count("SELECT count(DISTINCT description) FROM odds WHERE market_key = 'player_points'")
            .await,
        2
    );
    assert_eq!(
        db.count("SELECT count(*) FROM data_quality_logs WHERE issue_type = 'unknown_market'")
            .await,
        0,
        "asked-for markets raise nothing"
    );

    // Two minutes later the close is captured: no second round of props.
    clock.set(t("2026-01-10T23:57:00Z"));
    let again = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(again.credits_used, 3, "{again:?}");
    assert_eq!(
        db.count("SELECT count(*) FROM fetch_logs WHERE endpoint = 'event_odds'")
            .await,
        3
    );
}

/// Two NHL games: a puck line at ±1.5 and a total of 6, as The Odds API prices hockey.
fn nhl_slate() -> Value {
    let book = |key: &str, title: &str| {
        json!({"key": key, "title": title, "last_update": "2026-01-10T17:55:00Z", "markets": [
            {"key": "h2h", "outcomes": [
                {"name": "Boston Bruins", "price": -130}, {"name": "Toronto Maple Leafs", "price": 110}]},
            {"key": "spreads", "outcomes": [
                {"name": "Boston Bruins", "price": 160, "point": -1.5},
                {"name": "Toronto Maple Leafs", "price": -190, "point": 1.5}]},
            {"key": "totals", "outcomes": [
                {"name": "Over", "price": -110, "point": 6.0}, {"name": "Under", "price": -110, "point": 6.0}]}
        ]})
    };
    let game = |id: &str, commence: &str| {
        json!({"id": id, "sport_key": "icehockey_nhl", "sport_title": "NHL",
               "commence_time": commence, "home_team": "Boston Bruins",
               "away_team": "Toronto Maple Leafs",
               "bookmakers": [book("draftkings", "DraftKings"), book("fanduel", "FanDuel")]})
    };
    json!([
        game("a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", "2026-01-11T00:00:00Z"),
        game("b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", "2026-01-12T00:00:00Z"),
    ])
}

#[tokio::test]
async fn another_sport_collects_validates_and_scores_end_to_end() {
    use wiremock::matchers::path;
    use wiremock::{Mock, ResponseTemplate};
    let (db, api, clock) = setup().await;
    let nhl = nhl_slate();
    let listing = odds_tests::fake_api::events_of(&nhl);
    let answer = |body: &Value, credits: &str| {
        ResponseTemplate::new(200)
            .insert_header("x-requests-last", credits)
            .set_body_json(body)
    };
    Mock::given(path("/v4/sports/icehockey_nhl/events"))
        .respond_with(answer(&listing, "0"))
        .mount(&api.server)
        .await;
    Mock::given(path("/v4/sports/icehockey_nhl/odds"))
        .respond_with(answer(&nhl, "3"))
        .mount(&api.server)
        .await;
    let mut ctx = context(&db.store, &api, &clock);
    let mut settings = (*ctx.settings).clone();
    settings.collection.sports = vec!["basketball_nba".into(), "icehockey_nhl".into()];
    ctx.settings = Arc::new(settings);

    let odds = invoke(&ctx, JobName::FetchOdds, &manual()).await;
    assert_eq!(odds.outcome, RunOutcome::Success, "{odds:?}");
    assert_eq!(odds.snapshots_stored, 16);
    assert_eq!(odds.credits_used, 6);
    assert_eq!(
        db.count("SELECT count(*) FROM odds o JOIN events e ON e.id = o.event_id WHERE e.sport_key = 'icehockey_nhl' AND o.is_valid")
            .await,
        2 * 2 * 6
    );
    assert_eq!(
        db.count("SELECT count(*) FROM data_quality_logs l JOIN events e ON e.id = l.event_id WHERE e.sport_key = 'icehockey_nhl'")
            .await,
        0,
        "no check fires on a clean hockey slate"
    );

    // The first game is over by 06:30: The Odds API's /scores for hockey says so.
    let scores = json!([{
        "id": nhl[0]["id"], "sport_key": "icehockey_nhl", "sport_title": "NHL",
        "commence_time": nhl[0]["commence_time"], "completed": true,
        "home_team": "Boston Bruins", "away_team": "Toronto Maple Leafs",
        "scores": [{"name": "Toronto Maple Leafs", "score": "2"}, {"name": "Boston Bruins", "score": "4"}],
        "last_update": "2026-01-11T02:40:00Z"
    }]);
    Mock::given(path("/v4/sports/icehockey_nhl/scores"))
        .respond_with(answer(&scores, "2"))
        .mount(&api.server)
        .await;
    clock.set(t("2026-01-11T06:30:00Z"));
    let scored = invoke(&ctx, JobName::FetchScores, &manual()).await;
    assert_eq!(scored.outcome, RunOutcome::Success, "{scored:?}");
    let game = db
        .store
        .get_event(nhl[0]["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(game.status, EventStatus::Final);
    assert_eq!((game.home_score, game.away_score), (Some(4), Some(2)));
    assert_eq!(
        db.count("SELECT count(*) FROM fetch_logs WHERE endpoint = 'scores' AND sport_key = 'icehockey_nhl' AND success")
            .await,
        1
    );
    let later = db
        .store
        .get_event(nhl[1]["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        later.status,
        EventStatus::Scheduled,
        "tomorrow's game waits"
    );
}
