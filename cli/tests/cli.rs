//! The `odds` binary run as a user would, against a fresh database.

use std::process::{Command, Output, Stdio};

use odds_store::ingest::{IngestOptions, ingest_odds_body};
use odds_tests::TestDb;
use odds_tests::fixtures::{odds_slate, odds_slate_bytes, slate_time};

fn odds(url: Option<&str>, args: &[&str]) -> Output {
    odds_with(url, &[], args)
}

/// `odds` with extra environment variables, stdin not a terminal.
fn odds_with(url: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_odds"));
    // Run outside the checkout so a developer's .env cannot leak in.
    cmd.current_dir(std::env::temp_dir())
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("ODDS_API_KEY")
        .stdin(Stdio::null())
        .envs(env.iter().copied())
        .args(args);
    if let Some(url) = url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.output().expect("run odds")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn assert_clean_failure(out: &Output, code: i32, needle: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colours off a terminal: {stderr:?}"
    );
}

#[tokio::test]
async fn migrate_creates_the_schema_then_changes_nothing() {
    let db = TestDb::empty().await;
    let first = odds(Some(db.url.expose()), &["migrate"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("applied V1__initial, V2__backfill_and_props"),
        "{}",
        text(&first.stdout)
    );
    // The command prints its result and nothing else: no library INFO lines.
    assert_eq!(text(&first.stderr), "");
    let second = odds(Some(db.url.expose()), &["migrate"]);
    assert!(second.status.success());
    assert!(
        text(&second.stdout).contains("nothing applied"),
        "{}",
        text(&second.stdout)
    );
    assert_eq!(
        db.count("SELECT count(*) FROM refinery_schema_history")
            .await,
        odds_store::Store::known_migrations().len() as i64
    );
}

#[tokio::test]
async fn research_commands_read_back_a_stored_slate() {
    let db = TestDb::new().await;
    ingest_odds_body(
        &db.store,
        &odds_slate_bytes(),
        slate_time(),
        "basketball_nba",
        &IngestOptions::default(),
    )
    .await
    .unwrap();
    let url = db.url.expose();
    let slate = odds_slate();
    let id = slate[0]["id"].as_str().unwrap();

    let out = odds(
        Some(url),
        &["--json", "odds", id, "--at", "2026-01-10T18:00:00Z"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lines.as_array().unwrap().len(), 48);
    // Before the snapshot: nothing.
    let out = odds(
        Some(url),
        &["--json", "odds", id, "--at", "2026-01-10 17:59"],
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        serde_json::json!([])
    );

    let out = odds(Some(url), &["events", "--from", "2026-01-11"]);
    assert!(out.status.success());
    let table = text(&out.stdout);
    assert!(
        table.contains("Los Angeles Clippers") && table.contains("14 events"),
        "{table}"
    );

    for args in [
        vec!["best", id, "--market", "spreads"],
        vec!["movement", id, "--book", "pinnacle", "--market", "totals"],
        vec!["coverage", id],
        vec!["quality"],
    ] {
        let out = odds(Some(url), &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stdout).is_empty());
    }
}

#[tokio::test]
async fn bad_input_gives_a_clear_message_and_a_non_zero_exit() {
    let db = TestDb::new().await;
    let url = db.url.expose();
    assert_clean_failure(&odds(None, &["migrate"]), 1, "DATABASE_URL: is not set");
    assert_clean_failure(&odds(Some("mysql://x"), &["migrate"]), 1, "DATABASE_URL");
    assert_clean_failure(
        &odds(Some(url), &["odds", "x", "--at", "yesterday"]),
        2,
        "'yesterday' is not a time",
    );
    assert_clean_failure(
        &odds(
            Some(url),
            &["events", "--from", "2026-01-02", "--status", "halftime"],
        ),
        2,
        "unknown event status",
    );
    assert_clean_failure(
        &odds(Some(url), &["coverage", "no-such-game"]),
        1,
        "no event with id 'no-such-game'",
    );
    assert_clean_failure(
        &odds(
            Some(url),
            &["events", "--from", "2026-01-02", "--to", "2026-01-01"],
        ),
        1,
        "--to must be after --from",
    );
    assert_clean_failure(
        &odds(Some(url), &["frobnicate"]),
        2,
        "unrecognized subcommand",
    );
}

#[tokio::test]
async fn the_database_password_never_appears_in_errors() {
    // Nothing listens on port 1: the connection fails and the error is printed.
    let out = odds(
        Some("postgres://odds:hunter2-secret@127.0.0.1:1/odds"),
        &["-v", "migrate"],
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(!all.contains("hunter2-secret"), "{all}");
    assert!(
        all.contains("127.0.0.1"),
        "the error still says where: {all}"
    );
}

/// Stores the fixture slate moved so that its first game tips off six hours from now, as if
/// it had just been listed.
async fn listed_now(db: &TestDb) -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    let first_tip = now + chrono::Duration::hours(6);
    let body = serde_json::to_vec(&odds_tests::fixtures::slate_with_first_tip(first_tip)).unwrap();
    ingest_odds_body(
        &db.store,
        &body,
        now,
        "basketball_nba",
        &IngestOptions::default(),
    )
    .await
    .unwrap();
    first_tip
}

#[tokio::test]
async fn plan_lists_the_coming_fetches_with_their_requirements_and_credits() {
    let db = TestDb::new().await;
    let first_tip = listed_now(&db).await;
    let url = db.url.expose();
    let out = odds(Some(url), &["--json", "plan", "--days", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["policy"], "standard");
    assert_eq!(plan["credits_per_fetch"], 3);
    let fetches = plan["fetches"].as_array().unwrap();
    // Every game's closing capture is planned, each 5 minutes before a tip-off, after the
    // closing tier's 30-minute gaps and the pregame window's last minute.
    let closings: Vec<&serde_json::Value> = fetches
        .iter()
        .filter(|f| f["requirement"] == "closing")
        .collect();
    assert_eq!(closings.len(), 6, "{plan:#}");
    let first_close: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(closings[0]["at"].clone()).unwrap();
    assert_eq!(
        first_close,
        odds_core::requirements::floor_minute(first_tip - chrono::Duration::minutes(5))
    );
    let times: Vec<String> = fetches.iter().map(|f| f["at"].to_string()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "in time order");
    assert!(plan["month"]["planned_credits"].as_i64().unwrap() >= 3 * fetches.len() as i64);

    let out = odds(Some(url), &["plan"]);
    let table = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        table.contains("closing capture") && table.contains("projected"),
        "{table}"
    );
}

#[tokio::test]
async fn plan_under_a_tiny_budget_says_what_it_drops_and_plans_nothing_it_cannot_pay() {
    let db = TestDb::new().await;
    listed_now(&db).await;
    let out = Command::new(env!("CARGO_BIN_EXE_odds"))
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", db.url.expose())
        .env("ODDS_API_MONTHLY_CREDITS", "2")
        .args(["--json", "plan"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dropped = plan["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), 10, "all but the closing capture: {plan:#}");
    // A fetch costs 3: not even a closing capture fits a budget of 2.
    assert_eq!(plan["fetches"], serde_json::json!([]), "{plan:#}");
}

/// The fake archive of two nights, and the variables that point the commands at it.
async fn fake_archive() -> (odds_tests::fake_archive::FakeArchive, [(String, String); 2]) {
    use odds_tests::fake_archive::{FakeArchive, two_nights};
    let archive = FakeArchive::start(two_nights()).await;
    let env = [
        ("ODDS_API_BASE_URL".to_string(), archive.url()),
        ("ODDS_API_KEY".to_string(), ARCHIVE_KEY.to_string()),
    ];
    (archive, env)
}

const ARCHIVE_KEY: &str = "cli-archive-key-0123456789abcdef";

#[tokio::test]
async fn backfill_refuses_bad_input_in_one_line_and_spends_nothing() {
    let db = TestDb::new().await;
    let (archive, env) = fake_archive().await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let url = Some(db.url.expose());
    let range = ["--from", "2024-01-10", "--to", "2024-01-11"];
    let with = |extra: &[&str]| {
        let mut args = vec!["backfill", "odds"];
        args.extend_from_slice(&range);
        args.extend_from_slice(extra);
        odds_with(url, &env, &args)
    };
    let cases: Vec<(Output, i32, &str)> = vec![
        (
            odds_with(
                url,
                &env,
                &[
                    "backfill",
                    "odds",
                    "--from",
                    "2019-01-01",
                    "--to",
                    "2019-02-01",
                    "--yes",
                ],
            ),
            1,
            "before the archive starts (2020-06-06)",
        ),
        (
            odds_with(
                url,
                &env,
                &[
                    "backfill",
                    "gaps",
                    "--from",
                    "2024-01-11",
                    "--to",
                    "2024-01-10",
                ],
            ),
            1,
            "--to 2024-01-10 is before --from 2024-01-11",
        ),
        (
            odds_with(
                url,
                &env,
                &[
                    "backfill",
                    "events",
                    "--from",
                    "2024-13-01",
                    "--to",
                    "2024-01-10",
                ],
            ),
            2,
            "not a date",
        ),
        (
            with(&["--max-credits", "29", "--yes"]),
            1,
            "less than one call (30 credits)",
        ),
        (
            with(&["--hours-before", "3,abc", "--yes"]),
            1,
            "--hours-before",
        ),
        (with(&["--policy", "lavish"]), 2, "lavish"),
        // Spending needs a yes; stdin is not a terminal here.
        (with(&[]), 1, "add --yes"),
        (
            odds_with(
                url,
                &[],
                &[
                    "backfill",
                    "events",
                    "--from",
                    "2024-01-10",
                    "--to",
                    "2024-01-11",
                ],
            ),
            1,
            "ODDS_API_KEY is not set",
        ),
    ];
    for (out, code, needle) in &cases {
        assert_clean_failure(out, *code, needle);
        assert!(!text(&out.stderr).contains(ARCHIVE_KEY));
    }
    assert!(archive.calls("odds").await.is_empty());
    assert!(archive.calls("events").await.is_empty());
    assert_eq!(db.count("SELECT count(*) FROM fetch_logs").await, 0);
}

#[tokio::test]
async fn backfill_prints_the_plan_spends_on_yes_and_a_rerun_spends_nothing() {
    let db = TestDb::new().await;
    let (archive, env) = fake_archive().await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let url = Some(db.url.expose());
    let base = [
        "backfill",
        "odds",
        "--from",
        "2024-01-10",
        "--to",
        "2024-01-11",
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let out = odds_with(url, &env, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };

    let events = odds_with(
        url,
        &env,
        &[
            "backfill",
            "events",
            "--from",
            "2024-01-10",
            "--to",
            "2024-01-11",
            "--yes",
        ],
    );
    assert!(events.status.success(), "{}", text(&events.stderr));
    assert!(
        text(&events.stdout).contains("Discovered 5 games (5 new) on 2 of 2 days for 2 credits"),
        "{}",
        text(&events.stdout)
    );

    // T-3h and T-30m of four tip-off times.
    let dry = run(&["--hours-before", "3,0.5", "--dry-run"]);
    assert!(
        dry.contains("5 games, 5 with requirements not yet stored or asked for"),
        "{dry}"
    );
    assert!(
        dry.contains("Plan: 8 archive calls x 30 credits = 240 credits"),
        "{dry}"
    );
    assert!(
        archive.calls("odds").await.is_empty(),
        "a dry run spends nothing"
    );

    let done = run(&["--hours-before", "3,0.5", "--yes"]);
    assert!(
        done.contains("Made 8 calls (0 answered from what was stored) for 240 credits"),
        "{done}"
    );
    assert_eq!(archive.calls("odds").await.len(), 8);

    let again = run(&["--hours-before", "3,0.5", "--yes", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&again).expect("JSON");
    assert_eq!(report["plan"]["calls"], serde_json::json!([]), "{report}");
    assert_eq!(report["run"], serde_json::Value::Null);
    assert_eq!(
        archive.calls("odds").await.len(),
        8,
        "the rerun asked for nothing"
    );
    assert_eq!(
        archive.calls("events").await.len(),
        2,
        "nor discovered again"
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM odds_snapshots WHERE extract(second FROM snapshot_time) = 41"
        )
        .await,
        db.count("SELECT count(*) FROM odds_snapshots").await
    );
}

#[tokio::test]
async fn closing_lists_each_books_last_price_before_tip_off_with_the_reference_fair_price() {
    let db = TestDb::new().await;
    let url = Some(db.url.expose());
    let days = ["--from", "2024-01-10", "--to", "2024-01-11"];
    let archive = backfilled(url, &["--hours-before", "3,0.5"], &days).await;
    let mut args = vec!["--json", "closing", "--method", "multiplicative"];
    args.extend_from_slice(&days);
    let out = odds(url, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    // Five games, two books, three two-way markets.
    assert_eq!(lines.len(), 5 * 2 * 6, "{lines:?}");
    for field in [
        "event_id",
        "book",
        "market",
        "outcome",
        "point",
        "price",
        "taken_at",
        "fair_probability",
    ] {
        assert!(lines.iter().all(|l| l.get(field).is_some()), "{field}");
    }
    let games = archive.games();
    for line in &lines {
        let game = games.iter().find(|g| g.id == line["event_id"]).unwrap();
        let taken: chrono::DateTime<chrono::Utc> =
            line["taken_at"].as_str().unwrap().parse().unwrap();
        assert!(taken <= game.commence && game.commence - taken <= chrono::Duration::minutes(35));
        // Both books close every line at Pinnacle's number, so Pinnacle prices them all.
        assert_eq!(line["reference"], "pinnacle", "{line}");
    }
    let home_ml = lines
        .iter()
        .find(|l| {
            l["book"] == "draftkings" && l["market"] == "h2h" && l["outcome"] == games[0].home
        })
        .unwrap();
    // Pinnacle's -170/+150 without its margin: (170/270) / (170/270 + 100/250).
    let fair = (170.0 / 270.0) / (170.0 / 270.0 + 0.4);
    assert!(
        (home_ml["fair_probability"].as_f64().unwrap() - fair).abs() < 1e-9,
        "{home_ml}"
    );
    assert_eq!(home_ml["price"], -170.0);

    // Filters, a table, and bad input.
    let mut args = vec!["closing", "--market", "spreads", "--book", "pinnacle"];
    args.extend_from_slice(&days);
    let table = text(&odds(url, &args).stdout);
    assert!(table.contains("10 closing lines"), "{table}");
    assert!(table.contains("50.0%"), "{table}");
    let mut args = vec!["closing", "--method", "logit"];
    args.extend_from_slice(&days);
    assert_clean_failure(&odds(url, &args), 2, "logit");
    assert_clean_failure(
        &odds(
            url,
            &["closing", "--from", "2024-01-11", "--to", "2024-01-10"],
        ),
        1,
        "before --from",
    );
}

#[tokio::test]
async fn clv_compares_each_bet_with_the_fair_close_at_its_own_number() {
    let db = TestDb::new().await;
    let url = Some(db.url.expose());
    let days = ["--from", "2024-01-10", "--to", "2024-01-11"];
    let archive = backfilled(url, &["--hours-before", "3,0.5"], &days).await;
    let g1 = &archive.games()[0];
    // The fake archive closes every home spread at -5 (Pinnacle -105 both ways) and the
    // moneyline at -170/+150.
    let dir = tempdir();
    let bets = dir.join("bets.csv");
    std::fs::write(
        &bets,
        format!(
            "event_id,date,home_team,away_team,market,outcome,point,price,book,placed_at,stake\n\
             {id},,,,spreads,home,-5,-102,fanduel,2024-01-10T20:00:00Z,110\n\
             ,2024-01-10,Philadelphia 76ers,Brooklyn Nets,h2h,Philadelphia 76ers,,-160,draftkings,2024-01-10 21:00,\n\
             {id},,,,spreads,home,-2.5,-110,fanduel,2024-01-10T20:00:00Z,\n\
             ,2024-01-10,Miami Heat,Boston Celtics,h2h,home,,-110,fanduel,2024-01-10T20:00:00Z,\n\
             {id},,,,totals,over,221.5,-110,fanduel,2024-01-11T00:10:00Z,\n",
            id = g1.id
        ),
    )
    .unwrap();
    let written = dir.join("with_clv.csv");
    let out = odds(
        url,
        &[
            "--json",
            "clv",
            "--bets",
            bets.to_str().unwrap(),
            "--out",
            written.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let bets_out = report["bets"].as_array().unwrap();
    assert_eq!(bets_out.len(), 3, "{report}");
    let first = &bets_out[0]["close"];
    assert_eq!(first["status"], "matched");
    assert_eq!(first["book"], "pinnacle");
    assert!((first["clv"].as_f64().unwrap() - (0.5 - 102.0 / 202.0)).abs() < 1e-12);
    let fair = (170.0 / 270.0) / (170.0 / 270.0 + 0.4);
    let second = &bets_out[1]["close"];
    assert!((second["clv"].as_f64().unwrap() - (fair - 160.0 / 260.0)).abs() < 1e-12);
    assert_eq!(bets_out[2]["close"]["status"], "closed_at_another_number");
    let unmatched = report["unmatched"].as_array().unwrap();
    assert_eq!(unmatched.len(), 2);
    assert!(
        unmatched[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no such stored game")
    );
    assert!(
        unmatched[1]["reason"]
            .as_str()
            .unwrap()
            .contains("after tip-off")
    );
    assert_eq!(report["summary"]["bets"], 2);
    let mean = ((0.5 - 102.0 / 202.0) + (fair - 160.0 / 260.0)) / 2.0;
    assert!((report["summary"]["mean"].as_f64().unwrap() - mean).abs() < 1e-12);

    // Written back: every row, with the close added.
    let back = std::fs::read_to_string(&written).unwrap();
    let mut rows = back.lines();
    assert!(rows.next().unwrap().ends_with("status,close_book,close_market,close_point,close_price,close_taken_at,fair_probability,clv,clv_price"));
    assert_eq!(back.lines().count(), 6);
    assert!(back.contains("matched,pinnacle,spreads,-5,-105"), "{back}");
    assert!(back.contains("closed at another number"), "{back}");

    // The table's summary line.
    let table = text(&odds(url, &["clv", "--bets", bets.to_str().unwrap()]).stdout);
    assert!(table.contains("2 bets compared with the close"), "{table}");
    assert!(table.contains("line 5: not matched"), "{table}");

    // A malformed file: the line and the field.
    let broken = dir.join("broken.csv");
    std::fs::write(
        &broken,
        format!(
            "event_id,market,outcome,point,price,book,placed_at\n\
             {id},h2h,home,,-110,fanduel,2024-01-10T20:00:00Z\n\
             {id},h2h,home,,abc,fanduel,2024-01-10T20:00:00Z\n",
            id = g1.id
        ),
    )
    .unwrap();
    assert_clean_failure(
        &odds(url, &["clv", "--bets", broken.to_str().unwrap()]),
        1,
        "line 3: price: 'abc' is not a number",
    );
    std::fs::write(&broken, "event_id,market\nx,h2h\n").unwrap();
    assert_clean_failure(
        &odds(url, &["clv", "--bets", broken.to_str().unwrap()]),
        1,
        "no 'outcome' column",
    );
    assert_clean_failure(
        &odds(url, &["clv", "--bets", "/no/such/file.csv"]),
        1,
        "/no/such/file.csv",
    );
}

/// The fake archive's two nights backfilled through the commands, as a user would: the games
/// of `days`, their odds (with `odds_flags`), and NBA.com's finals.
async fn backfilled(
    url: Option<&str>,
    odds_flags: &[&str],
    days: &[&str],
) -> odds_tests::fake_archive::FakeArchive {
    let (archive, env) = fake_archive().await;
    archive.serve_game_finder().await;
    let base = archive.url();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.push(("NBA_STATS_BASE_URL", base.as_str()));
    let mut odds_command = vec!["backfill", "odds", "--yes"];
    odds_command.extend_from_slice(odds_flags);
    for command in [
        vec!["backfill", "events", "--yes"],
        odds_command,
        vec!["backfill", "scores"],
    ] {
        let mut args = command.clone();
        args.extend_from_slice(days);
        let out = odds_with(url, &env, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    archive
}

/// A fresh directory under the system's temporary one.
fn tempdir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("odds-cli-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn backtest_sees_nothing_after_its_decision_time_and_grades_by_each_sides_point() {
    let db = TestDb::new().await;
    let url = Some(db.url.expose());
    let days = ["--from", "2024-01-10", "--to", "2024-01-11"];
    let archive = backfilled(url, &["--hours-before", "3,0.5"], &days).await;

    // Home spreads, flat 110: at an hour out every home side is -5 (Pinnacle -105 is the best).
    let dir = tempdir();
    let csv = dir.join("bets.csv");
    let mut args = vec![
        "--json",
        "backtest",
        "--strategy",
        "flat",
        "--side",
        "home",
        "--market",
        "spreads",
        "--stake",
        "110",
        "--csv",
        csv.to_str().unwrap(),
    ];
    args.extend_from_slice(&days);
    let out = odds(url, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut expected = 0.0;
    for game in archive.games() {
        let (away, home) = odds_tests::fake_archive::final_score(game);
        let margin = f64::from(home) - 5.0 - f64::from(away);
        expected += if margin > 0.0 {
            110.0 * 100.0 / 105.0
        } else if margin < 0.0 {
            -110.0
        } else {
            0.0
        };
    }
    assert_eq!(report["summary"]["bets"], 5, "{report}");
    assert_eq!(report["summary"]["ungraded"], 0);
    assert!(
        (report["summary"]["profit"].as_f64().unwrap() - expected).abs() < 1e-6,
        "{report}"
    );
    for bet in report["bets"].as_array().unwrap() {
        assert_eq!(bet["point"], -5.0);
        assert_eq!(bet["book"], "pinnacle");
        let decision: chrono::DateTime<chrono::Utc> =
            bet["decision_time"].as_str().unwrap().parse().unwrap();
        let seen: chrono::DateTime<chrono::Utc> =
            bet["snapshot_time"].as_str().unwrap().parse().unwrap();
        assert!(seen <= decision, "{bet}");
    }
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert!(rows.starts_with("event_id,night,market,outcome,point,price,book,decision_time,snapshot_time,stake,result,profit,edge,clv,clv_price"));
    assert_eq!(rows.lines().count(), 6);
    // The same file is a bets file for `odds clv`.
    let clv = odds(url, &["--json", "clv", "--bets", csv.to_str().unwrap()]);
    assert!(clv.status.success(), "{}", text(&clv.stderr));
    let clv: serde_json::Value = serde_json::from_slice(&clv.stdout).unwrap();
    assert_eq!(clv["summary"]["bets"], 5, "{clv}");

    // A much better price one minute after the decision time of the first game: not used.
    let g1 = &archive.games()[0];
    let decision = g1.commence - chrono::Duration::minutes(60);
    let later = decision + chrono::Duration::minutes(1);
    let slate = serde_json::json!([{
        "id": g1.id, "sport_key": "basketball_nba", "commence_time": g1.commence.to_rfc3339(),
        "home_team": g1.home, "away_team": g1.away,
        "bookmakers": [{"key": "draftkings", "title": "DraftKings", "last_update": later.to_rfc3339(),
            "markets": [{"key": "h2h", "outcomes": [
                {"name": g1.home, "price": 500}, {"name": g1.away, "price": -700}]}]}]
    }]);
    ingest_odds_body(
        &db.store,
        &serde_json::to_vec(&slate).unwrap(),
        later,
        "basketball_nba",
        &IngestOptions::default(),
    )
    .await
    .unwrap();
    let ev = |minutes: &str| {
        let mut args = vec![
            "--json",
            "backtest",
            "--strategy",
            "ev",
            "--market",
            "h2h",
            "--decision-minutes-before",
            minutes,
        ];
        args.extend_from_slice(&days);
        let out = odds(url, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(
        ev("60")["summary"]["bets"],
        0,
        "the +500 came after the decision"
    );
    let seen = ev("58");
    assert_eq!(seen["summary"]["bets"], 1, "{seen}");
    assert_eq!(seen["bets"][0]["price"], 500.0);

    // The closing baseline: price CLV exactly 0, fair CLV minus the margin removed.
    let mut args = vec![
        "--json",
        "backtest",
        "--strategy",
        "closing",
        "--side",
        "home",
        "--market",
        "h2h",
    ];
    args.extend_from_slice(&days);
    let close: serde_json::Value = serde_json::from_slice(&odds(url, &args).stdout).unwrap();
    let fair = (170.0 / 270.0) / (170.0 / 270.0 + 0.4);
    for bet in close["bets"].as_array().unwrap() {
        assert_eq!(bet["clv_price"], 0.0, "{bet}");
        assert!(
            (bet["clv"].as_f64().unwrap() - (fair - 170.0 / 270.0)).abs() < 1e-12,
            "{bet}"
        );
    }

    // The table, and bad input.
    let mut args = vec!["backtest", "--strategy", "flat", "--side", "underdog"];
    args.extend_from_slice(&days);
    let table = text(&odds(url, &args).stdout);
    assert!(table.contains("flat underdog over 5 games"), "{table}");
    assert!(table.contains("ROI on turnover"), "{table}");
    let mut args = vec![
        "backtest",
        "--strategy",
        "flat",
        "--sizing",
        "kelly",
        "--kelly-fraction",
        "2",
    ];
    args.extend_from_slice(&days);
    assert_clean_failure(&odds(url, &args), 1, "--kelly-fraction 2");
    assert_clean_failure(
        &odds(
            url,
            &["backtest", "--strategy", "flat", "--from", "2019-01-01"],
        ),
        1,
        "no stored game",
    );
}

#[tokio::test]
async fn health_exits_by_its_worst_check_and_coverage_reports_a_day() {
    let db = TestDb::new().await;
    let (archive, env) = fake_archive().await;
    archive.serve_game_finder().await;
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let base = archive.url();
    env.push(("NBA_STATS_BASE_URL", base.as_str()));
    let url = Some(db.url.expose());

    // Nothing has run: a warning (starting, not stopped), exit 1.
    let out = odds(url, &["health"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("has not run yet"),
        "{}",
        text(&out.stdout)
    );
    // A job whose chain was armed and then lost: critical, exit 2, with --json.
    db.client()
        .await
        .execute(
            "INSERT INTO job_state (job_name, last_run_at, next_run_at) VALUES ('fetch-odds', now() - interval '2 hours', NULL)",
            &[],
        )
        .await
        .unwrap();
    let out = odds(url, &["--json", "health"]);
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["level"], "critical");
    let chain = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "chain:fetch-odds")
        .unwrap();
    assert_eq!(chain["level"], "critical");
    assert!(chain["message"].as_str().unwrap().contains("no next run"));

    // A day backfilled with the economy policy and its finals.
    let days = ["--from", "2024-01-10", "--to", "2024-01-10"];
    for command in [
        ["backfill", "events", "--yes"].as_slice(),
        ["backfill", "odds", "--policy", "economy", "--yes"].as_slice(),
        ["backfill", "scores"].as_slice(),
    ] {
        let mut args = command.to_vec();
        args.extend_from_slice(&days);
        let out = odds_with(url, &env, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    // Say the first game had been listed five days out: its opening window then went empty.
    let first = &archive.games()[0].id;
    db.client()
        .await
        .execute(
            "UPDATE events SET listed_at = commence_time - interval '5 days' WHERE id = $1",
            &[first],
        )
        .await
        .unwrap();
    let out = odds(url, &["--json", "coverage", "--date", "2024-01-10"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let games: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(games.len(), 3, "the three games of that Eastern day");
    for g in &games {
        assert_eq!(g["closing_captured"], true, "{g}");
        assert_eq!(g["minutes_before_tip"], 5, "{g}");
        assert!(g["final_score"].is_array(), "{g}");
        // Seen from the day before (early, sharp, pregame, closing): nothing missing but the
        // first game's opening window.
        let missing = if g["event_id"] == first.as_str() {
            serde_json::json!(["opening"])
        } else {
            serde_json::json!([])
        };
        assert_eq!(g["missing_tiers"], missing, "{g}");
    }
    let table = text(&odds(url, &["coverage", "--date", "2024-01-10"]).stdout);
    assert!(
        table.contains("3 games, 3 closing lines captured, 3 final scores"),
        "{table}"
    );
    assert_clean_failure(&odds(url, &["coverage"]), 2, "required");
}

/// An odds row as compared between a file and the database: event, time (µs), book, market,
/// outcome, price, point.
type OddsLine = (String, i64, String, String, String, i32, Option<String>);

/// The batches of a Parquet file.
fn read_parquet(path: &std::path::Path) -> Vec<arrow_array::RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

#[tokio::test]
async fn export_writes_partitioned_typed_parquet_and_csv_that_read_back_row_for_row() {
    use arrow_array::{Array, Float64Array, Int32Array, StringArray, TimestampMicrosecondArray};
    let db = TestDb::new().await;
    let url = Some(db.url.expose());
    let days = ["--from", "2024-01-10", "--to", "2024-01-11"];
    backfilled(url, &["--hours-before", "3,0.5"], &days).await;
    let dir = tempdir();
    let out_dir = dir.to_str().unwrap();
    let export = |table: &str, format: &str| {
        let out = odds(
            url,
            &[
                "--json",
                "export",
                "--table",
                table,
                "--format",
                format,
                "--out",
                out_dir,
                "--from",
                "2024-01-10",
                "--to",
                "2024-01-11",
            ],
        );
        assert!(out.status.success(), "{table}: {}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    for table in ["odds", "snapshots", "events", "closing"] {
        let report = export(table, "parquet");
        assert!(report["rows"].as_u64().unwrap() > 0, "{table}: {report}");
    }
    // The calls were made today, by the wall clock: their month is this one.
    let today = chrono::Utc::now().date_naive().to_string();
    let out = odds(
        url,
        &[
            "--json",
            "export",
            "--table",
            "fetch_logs",
            "--out",
            out_dir,
            "--from",
            &today,
            "--to",
            &today,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let logs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        logs["rows"].as_i64().unwrap(),
        db.count("SELECT count(*) FROM fetch_logs").await
    );

    // Odds: every row, typed, equal to the database's.
    let partition = dir.join("odds/sport=basketball_nba/month=2024-01");
    let batches = read_parquet(&partition.join("part-0.parquet"));
    let schema = batches[0].schema();
    assert_eq!(
        schema
            .field_with_name("snapshot_time")
            .unwrap()
            .data_type()
            .to_string(),
        "Timestamp(µs, \"UTC\")"
    );
    assert_eq!(
        schema
            .field_with_name("price")
            .unwrap()
            .data_type()
            .to_string(),
        "Int32"
    );
    assert_eq!(
        schema
            .field_with_name("point")
            .unwrap()
            .data_type()
            .to_string(),
        "Float64"
    );
    let mut from_file: Vec<OddsLine> = Vec::new();
    for b in &batches {
        let s = |name: &str| {
            b.column_by_name(name)
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone()
        };
        let (event, book, market, outcome) = (
            s("event_id"),
            s("bookmaker_key"),
            s("market_key"),
            s("outcome_name"),
        );
        let times = b
            .column_by_name("snapshot_time")
            .unwrap()
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap()
            .clone();
        let prices = b
            .column_by_name("price")
            .unwrap()
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap()
            .clone();
        let points = b
            .column_by_name("point")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .clone();
        for i in 0..b.num_rows() {
            let point = (!points.is_null(i)).then(|| points.value(i).to_string());
            from_file.push((
                event.value(i).to_string(),
                times.value(i),
                book.value(i).to_string(),
                market.value(i).to_string(),
                outcome.value(i).to_string(),
                prices.value(i),
                point,
            ));
        }
    }
    let mut from_db: Vec<OddsLine> = db
        .client()
        .await
        .query(
            "SELECT event_id, (extract(epoch FROM snapshot_time) * 1000000)::int8, bookmaker_key,
                    market_key, outcome_name, round(price)::int4, point FROM odds",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get::<_, Option<f64>>(6).map(|p| p.to_string()),
            )
        })
        .collect();
    from_file.sort();
    from_db.sort();
    assert_eq!(from_file.len(), from_db.len());
    assert_eq!(from_file, from_db);
    // Snapshots keep their raw JSON as a string column.
    let snapshots =
        read_parquet(&dir.join("snapshots/sport=basketball_nba/month=2024-01/part-0.parquet"));
    let raw = snapshots[0].schema();
    assert_eq!(
        raw.field_with_name("raw_data")
            .unwrap()
            .data_type()
            .to_string(),
        "Utf8"
    );
    let stored: usize = snapshots.iter().map(|b| b.num_rows()).sum();
    assert_eq!(
        stored as i64,
        db.count("SELECT count(*) FROM odds_snapshots").await
    );

    // DuckDB, as a researcher would read them: the same count, prices and games.
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run `make venv`",
        python.display()
    );
    let query = format!(
        "import duckdb; print(duckdb.sql(\"SELECT count(*), sum(price), count(DISTINCT event_id), \
         min(sport), min(month) FROM read_parquet('{}/odds/*/*/*.parquet', hive_partitioning = true)\").fetchone())",
        out_dir
    );
    let duck = Command::new(&python).args(["-c", &query]).output().unwrap();
    assert!(duck.status.success(), "{}", text(&duck.stderr));
    let sum: i64 = from_db.iter().map(|r| i64::from(r.5)).sum();
    let games = from_db
        .iter()
        .map(|r| &r.0)
        .collect::<std::collections::HashSet<_>>()
        .len();
    assert_eq!(
        text(&duck.stdout).trim(),
        format!(
            "({}, {sum}, {games}, 'basketball_nba', '2024-01')",
            from_db.len()
        )
    );

    // CSV: a header and the same rows.
    let csv_report = export("odds", "csv");
    let csv = std::fs::read_to_string(partition.join("part-0.csv")).unwrap();
    assert!(csv.starts_with("event_id,sport_key,snapshot_time,bookmaker_key,bookmaker_title,market_key,outcome_name,description,price,point,last_update,is_valid,validation_notes"));
    assert_eq!(csv.lines().count() - 1, from_db.len());
    assert_eq!(csv_report["rows"].as_u64().unwrap() as usize, from_db.len());

    // Re-exporting January replaces January only.
    let december = dir.join("odds/sport=basketball_nba/month=2023-12");
    std::fs::create_dir_all(&december).unwrap();
    std::fs::write(december.join("part-0.parquet"), b"kept").unwrap();
    export("odds", "parquet");
    assert_eq!(
        std::fs::read(december.join("part-0.parquet")).unwrap(),
        b"kept"
    );
    let names: Vec<String> = std::fs::read_dir(&partition)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["part-0.parquet"],
        "the month's old files replaced, nothing partial"
    );

    // Bad input: one line, non-zero, nothing left behind.
    let blocked = dir.join("a-file");
    std::fs::write(&blocked, b"not a directory").unwrap();
    assert_clean_failure(
        &odds(
            url,
            &[
                "export",
                "--table",
                "odds",
                "--from",
                "2024-01-10",
                "--to",
                "2024-01-10",
                "--out",
                blocked.to_str().unwrap(),
            ],
        ),
        1,
        "a-file",
    );
    assert_clean_failure(
        &odds(
            url,
            &[
                "export",
                "--table",
                "bets",
                "--from",
                "2024-01-10",
                "--to",
                "2024-01-10",
                "--out",
                out_dir,
            ],
        ),
        2,
        "unknown table",
    );
    assert_clean_failure(
        &odds(
            url,
            &[
                "export",
                "--table",
                "odds",
                "--format",
                "xlsx",
                "--from",
                "2024-01-10",
                "--to",
                "2024-01-10",
                "--out",
                out_dir,
            ],
        ),
        2,
        "unknown format",
    );
    assert_clean_failure(
        &odds(
            url,
            &[
                "export",
                "--table",
                "odds",
                "--from",
                "2019-01-10",
                "--to",
                "2019-01-10",
                "--out",
                out_dir,
            ],
        ),
        1,
        "nothing stored",
    );
    let partials = walk(&dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .count();
    assert_eq!(partials, 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn charts_draw_each_book_as_one_line_in_svg_and_png_without_a_system_font() {
    let db = TestDb::new().await;
    let url = Some(db.url.expose());
    let days = ["--from", "2024-01-10", "--to", "2024-01-11"];
    let archive = backfilled(url, &["--policy", "economy"], &days).await;
    let dir = tempdir();
    let id = archive.games()[0].id.as_str();
    let svg = dir.join("movement.svg");
    let out = odds(
        url,
        &[
            "chart",
            "movement",
            id,
            "--market",
            "spreads",
            "--out",
            svg.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let drawn = std::fs::read_to_string(&svg).unwrap();
    // Books are drawn two pixels wide in their colours; axes and ticks one pixel in black.
    let books = |svg: &str| {
        svg.matches("<polyline")
            .zip(svg.split("<polyline").skip(1))
            .filter(|(_, rest)| {
                let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
                tag.contains("stroke-width=\"2\"") && !tag.contains("#000000")
            })
            .count()
    };
    assert_eq!(books(&drawn), 2, "one line per book");
    assert!(
        drawn.contains("pinnacle") && drawn.contains("draftkings"),
        "a legend by book"
    );
    assert!(
        drawn.contains("tip-off") && drawn.contains("close -5"),
        "marked and labelled"
    );
    let one = dir.join("pinnacle.svg");
    let out = odds(
        url,
        &[
            "chart",
            "movement",
            id,
            "--market",
            "totals",
            "--books",
            "pinnacle",
            "--out",
            one.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(books(&std::fs::read_to_string(&one).unwrap()), 1);

    let png = dir.join("movement.png");
    let out = odds(
        url,
        &[
            "chart",
            "movement",
            id,
            "--market",
            "h2h",
            "--out",
            png.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let size = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (1200, 700));

    // A backtest's bankroll.
    let mut args = vec![
        "--json",
        "backtest",
        "--strategy",
        "flat",
        "--side",
        "home",
        "--market",
        "spreads",
    ];
    args.extend_from_slice(&days);
    let out = odds(url, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = dir.join("report.json");
    std::fs::write(&report, &out.stdout).unwrap();
    let equity = dir.join("equity.png");
    let out = odds(
        url,
        &[
            "chart",
            "equity",
            report.to_str().unwrap(),
            "--out",
            equity.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(&std::fs::read(&equity).unwrap()[..4], b"\x89PNG");

    // Bad input: one line, non-zero, no file.
    let bad = dir.join("movement.jpg");
    assert_clean_failure(
        &odds(
            url,
            &[
                "chart",
                "movement",
                id,
                "--market",
                "spreads",
                "--out",
                bad.to_str().unwrap(),
            ],
        ),
        1,
        ".svg or .png",
    );
    assert!(!bad.exists());
    assert_clean_failure(
        &odds(
            url,
            &[
                "chart",
                "movement",
                "nope",
                "--market",
                "spreads",
                "--out",
                svg.to_str().unwrap(),
            ],
        ),
        1,
        "no event with id 'nope'",
    );
    assert_clean_failure(
        &odds(
            url,
            &[
                "chart",
                "equity",
                "/no/such.json",
                "--out",
                equity.to_str().unwrap(),
            ],
        ),
        1,
        "/no/such.json",
    );
}
