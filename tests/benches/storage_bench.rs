//! Storage benchmarks against a real PostgreSQL (a fresh database, dropped afterwards).
//! Prints median and spread for: storing a 15-game slate, bulk-insert throughput, and
//! odds-as-of-a-time on a table of over a million odds rows. Goals are reported, not asserted.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use odds_core::normalize::ParsedSlate;
use odds_store::ingest::{IngestOptions, ingest_slate};
use odds_tests::TestDb;
use odds_tests::fixtures::{slate_time, synthetic_slate};

struct Stats {
    median: f64,
    p10: f64,
    p90: f64,
    min: f64,
    max: f64,
    n: usize,
}

fn stats(mut samples: Vec<f64>) -> Stats {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats {
        median: at(0.5),
        p10: at(0.1),
        p90: at(0.9),
        min: samples[0],
        max: samples[samples.len() - 1],
        n: samples.len(),
    }
}

fn report(name: &str, unit: &str, s: &Stats, goal: &str, met: bool) {
    println!(
        "{name:<44} median {:>10.2} {unit:<6} spread p10 {:.2} .. p90 {:.2} (min {:.2}, max {:.2}, n={})  goal {goal}: {}",
        s.median,
        s.p10,
        s.p90,
        s.min,
        s.max,
        s.n,
        if met { "met" } else { "NOT MET" }
    );
}

fn ms(d: StdDuration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// Set in the child the export benchmark starts, so its peak memory is the export's alone.
const EXPORT_CHILD: &str = "ODDS_BENCH_EXPORT_CHILD";

#[tokio::main]
async fn main() {
    if let Ok(url) = std::env::var(EXPORT_CHILD) {
        export_child(&url).await;
        return;
    }
    let db = TestDb::new().await;
    let store = &db.store;

    // 1. One fetch of a 15-game slate: 15 snapshots, 720 odds rows, one transaction.
    let mut samples = Vec::new();
    for i in 0..60 {
        let slate = synthetic_slate(15, slate_time() + Duration::minutes(i), 1);
        let started = Instant::now();
        store.store_slate(&slate, &[]).await.expect("store slate");
        if i >= 10 {
            samples.push(ms(started.elapsed()));
        }
    }
    let s = stats(samples);
    report(
        "store_odds_snapshot, 15-game slate",
        "ms",
        &s,
        "<= 20 ms",
        s.median <= 20.0,
    );

    // The same slate through the whole ingest path (previous-lines query, validation, store).
    let mut samples = Vec::new();
    for i in 0..60 {
        let snapshots = synthetic_slate(15, slate_time() + Duration::minutes(100 + i), 1);
        let slate = ParsedSlate {
            games_in_body: snapshots.len(),
            snapshots,
            issues: Vec::new(),
        };
        let started = Instant::now();
        ingest_slate(store, slate, &IngestOptions::default())
            .await
            .expect("ingest");
        if i >= 10 {
            samples.push(ms(started.elapsed()));
        }
    }
    let s = stats(samples);
    report(
        "ingest (validate + store), 15-game slate",
        "ms",
        &s,
        "(none)",
        true,
    );

    // 2. Bulk insert with COPY, which also seeds the table for the read benchmark:
    // 300 games x 70 snapshots x 48 rows = 1,008,000 rows.
    let games = 300;
    let steps = 70;
    let per_batch = 10; // steps per batch: 3,000 snapshots, 144,000 rows
    let mut samples = Vec::new();
    for batch in 0..steps / per_batch {
        let mut snapshots = Vec::new();
        for step in 0..per_batch {
            let t = slate_time() - Duration::days(10)
                + Duration::minutes(10 * (batch * per_batch + step) as i64);
            snapshots.extend(synthetic_slate(games, t, 42));
        }
        let started = Instant::now();
        let written = store
            .bulk_insert_historical(&snapshots, &[])
            .await
            .expect("bulk insert");
        samples.push(written.odds_rows as f64 / started.elapsed().as_secs_f64());
    }
    let s = stats(samples);
    report(
        "bulk_insert_historical (COPY)",
        "rows/s",
        &s,
        ">= 100,000 rows/s",
        s.median >= 100_000.0,
    );

    let client = db.client().await;
    client.batch_execute("ANALYZE").await.expect("analyze");
    let rows: i64 = client
        .query_one("SELECT count(*) FROM odds", &[])
        .await
        .expect("count")
        .get(0);
    assert!(
        rows >= 1_000_000,
        "read benchmark needs a million rows, has {rows}"
    );

    // 3. Odds as of a time, for random games at random moments of their history.
    let ids: Vec<String> = synthetic_slate(games, slate_time(), 42)
        .into_iter()
        .map(|s| s.event.id)
        .collect();
    let mut samples = Vec::new();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..400 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let id = &ids[(seed % games as u64) as usize];
        let at = slate_time() - Duration::days(10)
            + Duration::minutes((seed >> 20) as i64 % (10 * steps as i64));
        let started = Instant::now();
        let lines = store.get_odds_at_time(id, at).await.expect("odds at time");
        assert_eq!(lines.len(), 48);
        if i >= 50 {
            samples.push(ms(started.elapsed()));
        }
    }
    let s = stats(samples);
    report(
        &format!("get_odds_at_time ({rows} odds rows)"),
        "ms",
        &s,
        "<= 2 ms",
        s.median <= 2.0,
    );

    export(&db, rows).await;
    planning();
    research().await;
}

/// Exports every odds row (over a million) to Parquet in a child process: its throughput, and
/// its peak memory (VmHWM), which must stay flat however many rows there are.
async fn export(db: &TestDb, rows: i64) {
    let mut samples = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..3 {
        let out = std::process::Command::new(std::env::current_exe().expect("own path"))
            .env(EXPORT_CHILD, db.url.expose())
            .output()
            .expect("export child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text.split_whitespace();
        let exported: f64 = fields.next().and_then(|v| v.parse().ok()).expect("rows");
        let seconds: f64 = fields.next().and_then(|v| v.parse().ok()).expect("seconds");
        let peak_kib: f64 = fields.next().and_then(|v| v.parse().ok()).expect("peak");
        assert_eq!(exported as i64, rows);
        samples.push(exported / seconds);
        peaks.push(peak_kib / 1024.0);
    }
    let s = stats(samples);
    report(
        &format!("export odds to Parquet ({rows} rows)"),
        "rows/s",
        &s,
        ">= 500,000 rows/s",
        s.median >= 500_000.0,
    );
    let s = stats(peaks);
    report(
        "export odds to Parquet, peak memory",
        "MiB",
        &s,
        "<= 100 MiB",
        s.max <= 100.0,
    );
}

async fn export_child(url: &str) {
    use odds_export::{ExportRequest, Format, Table, export};
    let url = odds_core::secret::DatabaseUrl::new(url);
    let store = odds_store::Store::connect(&url, 2).expect("store");
    let out = std::env::temp_dir().join(format!("odds-bench-export-{}", std::process::id()));
    let request = ExportRequest {
        table: Table::Odds,
        format: Format::Parquet,
        from: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        to: chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap(),
        out: &out,
        batch_rows: 64 * 1024,
    };
    let started = Instant::now();
    let report = export(&store, &request, &|_| {}).await.expect("export");
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("0");
    println!("{} {seconds} {peak}", report.rows);
}

/// A stored season (1,230 games, 8 books, 3 markets, 15 snapshots a game, all final): a
/// backtest over all of it, and `odds clv` on 10,000 bets.
async fn research() {
    use odds_research::backtest::{BacktestSettings, ExpectedValue, Filter, run};
    use odds_research::closing::Reference;
    use odds_research::fair::FairMethod;
    use odds_research::sizing::Sizing;

    let db = TestDb::new().await;
    let first_night = slate_time() - Duration::days(200);
    let season = odds_tests::fixtures::season_snapshots(1_230, first_night);
    for chunk in season.chunks(3_000) {
        db.store
            .bulk_insert_historical(chunk, &[])
            .await
            .expect("season");
    }
    let client = db.client().await;
    client
        .batch_execute(
            "UPDATE events SET status = 'final',
                    home_score = 95 + abs(hashtext(id)) % 30, away_score = 95 + abs(hashtext(id || 'a')) % 30;
             ANALYZE",
        )
        .await
        .expect("finals");
    let (from, to) = (
        first_night - Duration::days(1),
        first_night + Duration::days(130),
    );
    let reference = Reference::default_books();
    let settings = BacktestSettings {
        sizing: Sizing::Kelly {
            fraction: 0.25,
            cap: 0.05,
        },
        bankroll: 10_000.0,
        max_night_exposure: 0.25,
    };
    let strategy = ExpectedValue {
        min_edge: 0.02,
        filter: Filter::default(),
    };
    let mut samples = Vec::new();
    let mut bets = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let games = odds_jobs::research::backtest_games(
            &db.store,
            from..to,
            chrono::Utc::now(),
            Duration::minutes(60),
            &reference,
            FairMethod::Multiplicative,
            &odds_jobs::backfill::Silent,
        )
        .await
        .expect("games");
        assert_eq!(games.len(), 1_230);
        let report = run(&games, &strategy, &settings);
        bets = report.bets.len();
        samples.push(started.elapsed().as_secs_f64());
    }
    let s = stats(samples);
    report(
        &format!("backtest ev, a season of 1,230 games ({bets} bets)"),
        "s",
        &s,
        "< 5 s",
        s.median < 5.0,
    );

    // 10,000 bets spread over the season's games, read from a file.
    let path = std::env::temp_dir().join(format!("odds-bench-bets-{}.csv", std::process::id()));
    let mut file = String::from("event_id,market,outcome,point,price,book,placed_at\n");
    for i in 0..10_000usize {
        let g = i % 1_230;
        let id = format!("{:016x}{:016x}", 0x5ea5_0000u64, g as u64);
        let commence =
            first_night + Duration::days((g / 10) as i64) + Duration::minutes(30 * (g % 10) as i64);
        let placed = (commence - Duration::hours(2)).to_rfc3339();
        let (market, outcome, point) = match i % 3 {
            0 => ("h2h", "home", ""),
            1 => ("spreads", "away", "4.5"),
            _ => ("totals", "over", "224.5"),
        };
        file.push_str(&format!(
            "{id},{market},{outcome},{point},-108,fanduel,{placed}\n"
        ));
    }
    std::fs::write(&path, file).expect("bets file");
    let mut samples = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let out = odds_jobs::research::clv_of_bets(&db.store, &path, &reference, FairMethod::Shin)
            .await
            .expect("clv");
        assert_eq!(out.bets.len(), 10_000);
        assert!(out.summary.is_some());
        samples.push(started.elapsed().as_secs_f64());
    }
    let _ = std::fs::remove_file(&path);
    let s = stats(samples);
    report("odds clv, 10,000 bets", "s", &s, "< 2 s", s.median < 2.0);
}

/// The odds planner on a full listing: 15 games a night for a week, the fetches of the week
/// so far, with and without a monthly budget (which projects the month at several levels).
fn planning() {
    use odds_core::budget::Spend;
    use odds_core::planner::{PlannerSettings, next_odds_fetch};
    use odds_core::requirements::GameView;

    let now = slate_time();
    let games: Vec<GameView> = (0..7 * 15)
        .map(|i| {
            let night = now + Duration::days(i / 15) + Duration::hours(6);
            GameView {
                event_id: format!("g{i}"),
                matchup: format!("Away {i} @ Home {i}"),
                commence_time: night + Duration::minutes(30 * (i % 15 / 2)),
                listed_at: now - Duration::days(5),
            }
        })
        .collect();
    let fetches: Vec<_> = (1..=40)
        .rev()
        .map(|h| now - Duration::hours(3 * h))
        .collect();
    let spend = Spend {
        month_spent: 300,
        remaining: Some(20_000),
        credits_per_fetch: 3,
        credits_per_closing: 0,
    };
    for (name, budget) in [("no budget", None), ("monthly budget", Some(1_000))] {
        let mut settings = PlannerSettings::default();
        settings.budget.monthly_credits = budget;
        let mut samples = Vec::new();
        for i in 0..300 {
            let started = Instant::now();
            let plan = next_odds_fetch(now, &games, &fetches, &settings, &spend);
            std::hint::black_box(&plan);
            if i >= 30 {
                samples.push(ms(started.elapsed()));
            }
        }
        let s = stats(samples);
        let goal = 1.0;
        report(
            &format!("next odds fetch, 105 games ({name})"),
            "ms",
            &s,
            &format!("<= {goal} ms"),
            s.median <= goal,
        );
    }
}
