//! The harness as a user runs it: simulated days through the real jobs and database, restarts,
//! signals, two processes on one database, and the Railway health check.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, NaiveDate, Utc};
use local_harness::emulator::{Emulator, Pacing};
use local_harness::modes::{
    SimulationOptions, first_listing, last_end, simulate, simulated_context,
};
use local_harness::original::PolicyChoice;
use local_harness::season::game_day;
use local_harness::simulator::SimulatedApi;
use odds_core::clock::VirtualClock;
use odds_core::secret::DatabaseUrl;
use odds_jobs::JobName;
use odds_jobs::backfill::Silent;
use odds_store::Store;
use odds_tests::TestDb;
use odds_tests::fake_api::{SPORT_PATH, events_of};
use odds_tests::fixtures::slate_with_first_tip;
use tokio::sync::watch;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
}

#[tokio::test]
async fn a_simulated_day_ends_final_with_every_tier_covered_and_closing_lines_captured() {
    let db = TestDb::new().await;
    let games = game_day(day(), 6, 11);
    let calls = std::env::temp_dir().join(format!("calls-{}.jsonl", std::process::id()));
    let report = simulate(
        &db.url,
        games.clone(),
        &SimulationOptions::default(),
        &calls,
        &Silent,
    )
    .await
    .unwrap();
    assert_eq!(report.games, 6);
    assert_eq!(report.games_final, 6, "{:#?}", report.per_game);
    for g in &report.per_game {
        let (home, away) = g.score.expect("final score stored");
        assert_ne!(home, away);
        assert!(g.windows.iter().all(|(_, covered)| *covered), "{g:?}");
        let closing = g.closing_minutes.unwrap();
        assert!((2.0..=10.0).contains(&closing), "{g:?}");
    }
    assert_eq!(report.closing_within_10_min, 1.0);
    assert!(report.tier_coverage.iter().all(|(_, share)| *share == 1.0));
    // One JSON line per call, with the credits the API charged.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&calls)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), report.calls);
    let credits: i64 = lines.iter().map(|l| l["credits"].as_i64().unwrap()).sum();
    assert_eq!(credits, report.credits);
    assert!(
        lines
            .iter()
            .all(|l| l["at"].as_str().unwrap().ends_with('Z'))
    );
    assert!(
        lines
            .iter()
            .any(|l| l["endpoint"] == "events" && l["credits"] == 0)
    );
    assert!(
        lines
            .iter()
            .any(|l| l["endpoint"] == "odds" && l["credits"] == 3)
    );
    let _ = std::fs::remove_file(calls);
}

#[tokio::test]
async fn scores_are_free_from_nba_com_and_fall_back_to_the_odds_api_when_it_fails() {
    let games = game_day(day(), 4, 3);
    for nba_down in [false, true] {
        let db = TestDb::new().await;
        let calls =
            std::env::temp_dir().join(format!("nba-{nba_down}-{}.jsonl", std::process::id()));
        let options = SimulationOptions {
            nba_down,
            ..SimulationOptions::default()
        };
        let report = simulate(&db.url, games.clone(), &options, &calls, &Silent)
            .await
            .unwrap();
        let _ = std::fs::remove_file(calls);
        assert_eq!(report.games_final, 4, "NBA.com down: {nba_down}");
        let scores_calls = report
            .calls_by_endpoint
            .iter()
            .find(|(e, _)| e == "scores")
            .map_or(0, |(_, n)| *n);
        let nba_calls = report
            .calls_by_endpoint
            .iter()
            .find(|(e, _)| e == "nba_scoreboard")
            .map_or(0, |(_, n)| *n);
        assert!(nba_calls > 0);
        let odds_credits = report.odds_calls as i64 * 3;
        if nba_down {
            assert!(scores_calls > 0, "{report:?}");
            assert!(report.credits > odds_credits);
        } else {
            assert_eq!(scores_calls, 0, "{report:?}");
            assert_eq!(report.credits, odds_credits, "not a credit on scores");
        }
        let finals = db
            .count("SELECT count(*) FROM events WHERE status = 'final' AND home_score IS NOT NULL")
            .await;
        assert_eq!(finals, 4);
        for g in &games {
            let stored = db.store.get_event(&g.id).await.unwrap().unwrap();
            let (home, away) = local_harness::simulator::final_score(g);
            assert_eq!(
                (stored.home_score, stored.away_score),
                (Some(home as i32), Some(away as i32)),
                "{}",
                g.id
            );
        }
    }
}

async fn snapshots(db: &TestDb) -> Vec<(String, chrono::DateTime<Utc>)> {
    db.client()
        .await
        .query(
            "SELECT event_id, snapshot_time FROM odds_snapshots ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn stopping_mid_day_and_restarting_loses_no_run_and_duplicates_nothing() {
    let games = game_day(day(), 4, 5);
    let start = first_listing(&games);
    let end = last_end(&games) + Duration::hours(1);
    let stop_at = games[0].commence_time - Duration::minutes(100);

    // The reference: one uninterrupted run.
    let reference = TestDb::new().await;
    let calls = std::env::temp_dir().join(format!("ref-{}.jsonl", std::process::id()));
    simulate(
        &reference.url,
        games.clone(),
        &SimulationOptions::default(),
        &calls,
        &Silent,
    )
    .await
    .unwrap();
    let _ = std::fs::remove_file(calls);

    // The same day, stopped in the closing tier and started again by a new harness.
    let db = TestDb::new().await;
    let clock = Arc::new(VirtualClock::new(start));
    let api = SimulatedApi::new(clock.clone(), games.clone());
    let url = api.serve().await.unwrap();
    let (_keep, never) = watch::channel(false);
    let first = Emulator {
        context: Arc::new(
            simulated_context(&db.store, clock.clone(), &url, PolicyChoice::Standard).unwrap(),
        ),
        pacing: Pacing::Instant(clock.clone()),
        shutdown: never.clone(),
    };
    first.arm_unarmed().await.unwrap();
    first.run(&|at| at > stop_at, &mut |_| {}).await.unwrap();
    drop(first);
    let states = db.store.job_states().await.unwrap();
    assert_eq!(states.len(), 3);
    assert!(
        states
            .iter()
            .all(|s| s.next_run_at.is_some() && s.lease_owner.is_none()),
        "{states:?}"
    );

    let second = Emulator {
        context: Arc::new(
            simulated_context(&db.store, clock.clone(), &url, PolicyChoice::Standard).unwrap(),
        ),
        pacing: Pacing::Instant(clock.clone()),
        shutdown: never,
    };
    second.arm_unarmed().await.unwrap();
    second.run(&|at| at > end, &mut |_| {}).await.unwrap();

    assert_eq!(snapshots(&db).await, snapshots(&reference).await);
    assert_eq!(
        db.count("SELECT count(*) FROM events WHERE status = 'final'")
            .await,
        4
    );
}

fn harness(db: &TestDb, api_url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_local-harness"))
        .arg("run")
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", db.url.expose())
        .env("ODDS_API_KEY", "feedfacefeedfacefeedfacefeedface")
        .env("ODDS_API_BASE_URL", api_url)
        .env("SCHEDULER_BACKEND", "local")
        .env("LOG_FORMAT", "json")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start local-harness")
}

/// A fake API whose `/odds` answers after `delay`.
async fn slow_api(delay: StdDuration) -> MockServer {
    let server = MockServer::start().await;
    // Five minutes before the first tip-off its closing capture is due at once.
    let slate = slate_with_first_tip(Utc::now() + Duration::minutes(5));
    let json = |body: &serde_json::Value, credits: u32| {
        ResponseTemplate::new(200)
            .insert_header("x-requests-last", credits.to_string())
            .insert_header("x-requests-remaining", "1000")
            .set_body_json(body)
    };
    Mock::given(method("GET"))
        .and(path(format!("{SPORT_PATH}/events")))
        .respond_with(json(&events_of(&slate), 0))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{SPORT_PATH}/odds")))
        .respond_with(json(&slate, 3).set_delay(delay))
        .mount(&server)
        .await;
    server
}

async fn odds_calls(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/odds"))
        .count()
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < StdDuration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_exit(mut child: Child) -> (std::process::ExitStatus, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status, stderr);
        }
        assert!(
            started.elapsed() < StdDuration::from_secs(60),
            "harness did not stop"
        );
        std::thread::sleep(StdDuration::from_millis(50));
    }
}

#[tokio::test]
async fn sigterm_during_a_job_lets_it_finish_then_exits_cleanly() {
    let db = TestDb::new().await;
    let api = slow_api(StdDuration::from_secs(3)).await;
    let child = harness(&db, &api.uri());
    wait_for("the /odds call", async || odds_calls(&api).await > 0).await;
    terminate(&child);
    let (status, stderr) = wait_exit(child);
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("shutdown requested"), "{stderr}");
    assert_eq!(
        db.count("SELECT count(*) FROM odds_snapshots").await,
        14,
        "{stderr}"
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM job_runs WHERE job_name = 'fetch-odds' AND outcome = 'success'"
        )
        .await,
        1
    );
    let state = db
        .store
        .job_state(JobName::FetchOdds)
        .await
        .unwrap()
        .unwrap();
    assert!(
        state.next_run_at.unwrap() > Utc::now(),
        "the next run stays armed for the restart"
    );
    assert!(
        !stderr.contains("feedfacefeedface"),
        "the API key is never logged"
    );
}

#[tokio::test]
async fn two_harnesses_on_one_database_never_run_the_same_job_twice() {
    let db = TestDb::new().await;
    db.store.migrate().await.unwrap();
    let api = slow_api(StdDuration::from_millis(1500)).await;
    let a = harness(&db, &api.uri());
    let b = harness(&db, &api.uri());
    wait_for("a stored slate", async || {
        db.count("SELECT count(*) FROM odds_snapshots").await == 14
    })
    .await;
    // Give the other harness time to try too.
    tokio::time::sleep(StdDuration::from_secs(4)).await;
    terminate(&a);
    terminate(&b);
    let (sa, ea) = wait_exit(a);
    let (sb, eb) = wait_exit(b);
    assert!(sa.success() && sb.success(), "{ea}\n{eb}");
    assert_eq!(odds_calls(&api).await, 1, "one paid fetch between them");
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 14);
}

#[tokio::test]
async fn the_railway_health_check_answers_when_every_job_is_armed() {
    let db = TestDb::new().await;
    let addr = local_harness::health::serve(db.store.clone(), 0)
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}/health", addr.port());
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 503);
    for &job in JobName::ALL {
        db.store
            .set_next_run(job, Utc::now(), "test")
            .await
            .unwrap();
    }
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["status"], "ok");
}

/// User and system CPU of a process so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process exists");
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[tokio::test]
async fn after_a_database_restart_the_harness_waits_idle_and_runs_on_time() {
    let cluster = odds_tests::Cluster::start_new().expect("a private cluster");
    let admin = cluster.url();
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client.batch_execute("CREATE DATABASE odds").await.unwrap();
    let url = odds_tests::with_database(&admin, "odds");
    let store = Store::connect(&DatabaseUrl::new(url.clone()), 1).unwrap();
    store.migrate().await.unwrap();
    let api = slow_api(StdDuration::ZERO).await;
    let child = Command::new(env!("CARGO_BIN_EXE_local-harness"))
        .arg("run")
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", &url)
        .env("ODDS_API_KEY", "feedfacefeedfacefeedfacefeedface")
        .env("ODDS_API_BASE_URL", api.uri())
        .env("SCHEDULER_BACKEND", "local")
        .env("LOG_FORMAT", "json")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start local-harness");
    let runs = |job: &'static str| {
        let store = store.clone();
        async move {
            let Ok(conn) = store.pool().get().await else {
                return 0i64;
            };
            conn.query_one("SELECT count(*) FROM job_runs WHERE job_name = $1", &[&job])
                .await
                .map_or(0, |r| r.get(0))
        }
    };
    wait_for("the first runs", async || runs("update-status").await >= 1).await;

    // The next status pass is armed 12 s out; then the database goes away.
    let due = Utc::now() + Duration::seconds(12);
    store
        .set_next_run(JobName::UpdateStatus, due, "test")
        .await
        .unwrap();
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    cluster.stop().expect("stop the cluster");
    let before = cpu_ticks(child.id());
    tokio::time::sleep(StdDuration::from_secs(4)).await;
    let spent = cpu_ticks(child.id()) - before;
    // A busy loop spent about 0.6 of a core: some 240 ticks in these 4 s.
    assert!(
        spent <= 40,
        "the harness spent {spent} ticks waiting on a dead database"
    );
    cluster.start().expect("start the cluster again");

    wait_for("the armed run", async || runs("update-status").await >= 2).await;
    let conn = store.pool().get().await.unwrap();
    let started: chrono::DateTime<Utc> = conn
        .query_one(
            "SELECT max(started_at) FROM job_runs WHERE job_name = 'update-status'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        started >= due - Duration::seconds(1) && started <= due + Duration::seconds(15),
        "ran at {started}, due {due}"
    );
    // Back up, with every next run hours away and the old LISTEN connection gone: idle too
    // (the dead channel once made every wait return at once, re-reading the schedule).
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let before = cpu_ticks(child.id());
    tokio::time::sleep(StdDuration::from_secs(4)).await;
    let spent = cpu_ticks(child.id()) - before;
    assert!(
        spent <= 40,
        "the harness spent {spent} ticks waiting after the restart"
    );
    terminate(&child);
    let _ = wait_exit(child);
}

/// `local-harness once JOB [--force]` with the environment of `harness`.
fn once(db: &TestDb, api_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_local-harness"))
        .arg("once")
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", db.url.expose())
        .env("ODDS_API_KEY", "feedfacefeedfacefeedfacefeedface")
        .env("ODDS_API_BASE_URL", api_url)
        .env("SCHEDULER_BACKEND", "local")
        .env("NBA_SCORES", "false")
        .env("LOG_LEVEL", "error")
        .env_remove("RUST_LOG")
        .output()
        .expect("run local-harness once")
}

#[tokio::test]
async fn once_runs_one_job_through_the_driver_and_force_spends_only_when_asked() {
    let db = TestDb::new().await;
    // The first tip-off is five minutes away: its closing capture is due now.
    let api = slow_api(StdDuration::ZERO).await;
    let due = once(&db, &api.uri(), &["fetch-odds"]);
    assert!(
        due.status.success(),
        "{}",
        String::from_utf8_lossy(&due.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&due.stdout).unwrap();
    assert_eq!(summary["executed"], true, "{summary:#}");
    assert_eq!(summary["snapshots_stored"], 14);
    assert_eq!(
        summary["reason"].as_str().unwrap().split(' ').next(),
        Some("closing")
    );
    assert_eq!(odds_calls(&api).await, 1);
    // Again at once: nothing is due, nothing is spent, and the next run is armed.
    let again = once(&db, &api.uri(), &["fetch-odds"]);
    let summary: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(summary["executed"], false, "{summary:#}");
    assert!(summary["next_run_at"].is_string());
    assert_eq!(odds_calls(&api).await, 1);
    // Forced: the paid work is done regardless, through the same lease and logs.
    let forced = once(&db, &api.uri(), &["fetch-odds", "--force"]);
    let summary: serde_json::Value = serde_json::from_slice(&forced.stdout).unwrap();
    assert_eq!(summary["executed"], true, "{summary:#}");
    assert!(summary["reason"].as_str().unwrap().starts_with("forced"));
    assert_eq!(odds_calls(&api).await, 2);
    assert_eq!(db.count("SELECT count(*) FROM job_runs").await, 3);
    // A bad job name is one line and a non-zero exit.
    let bad = once(&db, &api.uri(), &["fetch-everything"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn a_three_hour_api_outage_in_a_simulated_stretch_is_told_once_and_cleared_once() {
    let db = TestDb::new().await;
    let games = local_harness::season::season(40, day(), 7);
    let first = games.iter().map(|g| g.commence_time).min().unwrap();
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook/secret-path"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&hook)
        .await;
    let calls = std::env::temp_dir().join(format!("calls-outage-{}.jsonl", std::process::id()));
    // The Odds API down from four hours to one hour before the first tip-off.
    let options = SimulationOptions {
        odds_outage: Some((first - Duration::hours(4), first - Duration::hours(1))),
        alert_webhook: Some(format!("{}/hook/secret-path", hook.uri())),
        ..SimulationOptions::default()
    };
    let report = simulate(&db.url, games.clone(), &options, &calls, &Silent)
        .await
        .unwrap();
    let _ = std::fs::remove_file(calls);
    assert_eq!(report.games, games.len());
    let texts: Vec<String> = hook
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            body["text"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts[0].starts_with("[critical] odds collector api_failures"),
        "{texts:#?}"
    );
    assert!(
        texts[1].starts_with("[resolved] odds collector api_failures"),
        "{texts:#?}"
    );
}
