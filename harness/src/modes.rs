//! The harness's three ways to run: for real (local or Railway), the demo, and the simulator.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use odds_core::clock::{Clock, SystemClock, VirtualClock};
use odds_core::secret::{DatabaseUrl, Secret};
use odds_core::settings::LogFormat;
use odds_core::time::eastern_offset_hours;
use odds_jobs::context::NbaSource;
use odds_jobs::{
    BackendKind, DatabaseScheduler, JobContext, JobName, JobSettings, JobSummary, RunOutcome,
    Settings,
};
use odds_sources::nba_stats::NbaStatsSettings;
use odds_sources::odds_api::{OddsApiClient, OddsApiSettings};
use odds_store::Store;
use tokio::sync::watch;

use crate::emulator::{Emulator, Pacing, shutdown_on_signals};
use crate::original::PolicyChoice;
use crate::report::{RunReport, game_reports, summarize};
use crate::simulator::{GAME_MINUTES, LISTING_LEAD_HOURS, ScheduledGame, SimulatedApi};

/// Collects for real until SIGTERM or Ctrl+C, with the schedule in PostgreSQL.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    odds_jobs::logging::init(
        &settings.log.level,
        settings.log.format_or(LogFormat::Pretty),
    );
    let (store, context) = local_context(&settings)?;
    anyhow::ensure!(
        context.odds_api.is_some(),
        "ODDS_API_KEY is not set (without a key, `make run` plays the simulated demo)"
    );
    let applied = store.migrate().await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    let shutdown = shutdown_on_signals();
    if settings.scheduler.backend == BackendKind::Railway {
        let addr = crate::health::serve(store.clone(), settings.process.port).await?;
        tracing::info!(%addr, "health check on /health");
    }
    let emulator = Emulator {
        context: Arc::new(context),
        pacing: Pacing::RealTime,
        shutdown,
    };
    emulator.arm_unarmed().await?;
    tracing::info!(
        database = %settings.database.url.redacted(),
        backend = settings.scheduler.backend.as_str(),
        "harness running; SIGTERM or Ctrl+C stops it after the job in flight"
    );
    emulator.run(&|_| false, &mut |_| {}).await?;
    tracing::info!("stopped");
    Ok(())
}

/// The harness's job context on the real clock, after checking the backend is one it runs.
fn local_context(settings: &Settings) -> anyhow::Result<(Store, JobContext)> {
    anyhow::ensure!(
        settings.scheduler.backend != BackendKind::Aws,
        "SCHEDULER_BACKEND=aws is for the Lambda functions; the harness runs with local or railway"
    );
    let store = odds_jobs::runtime::connect(settings, None)?;
    let backend = odds_jobs::runtime::local_backend(settings, &store);
    let context =
        odds_jobs::runtime::build(settings, Arc::new(SystemClock), store.clone(), backend)?;
    Ok((store, context))
}

/// Runs one job once, now, through the same driver, lease, logs and schedule as `run`: what
/// `cargo lambda invoke` is for a function. Unforced, the paid work is done only when due.
pub async fn once(settings: Settings, job: JobName, force: bool) -> anyhow::Result<JobSummary> {
    let (store, context) = local_context(&settings)?;
    store.migrate().await?;
    let trigger = if force {
        odds_jobs::Trigger::forced()
    } else {
        odds_jobs::Trigger::manual()
    };
    Ok(odds_jobs::invoke(&context, job, &trigger).await)
}

/// A job context wired to a simulated API on a virtual clock.
pub fn simulated_context(
    store: &Store,
    clock: Arc<VirtualClock>,
    api_url: &str,
    policy: PolicyChoice,
) -> anyhow::Result<JobContext> {
    let mut api = OddsApiSettings::for_base_url(api_url, Secret::new("simulated"));
    // Loopback: the rate limit protects the real API, not this one.
    api.rate_per_sec = 1_000.0;
    let mut settings = JobSettings::default();
    settings.planner.policy = policy.requirements();
    // The original asked The Odds API for scores; the planner asks NBA.com first.
    let nba = match policy {
        PolicyChoice::Original => None,
        _ => Some(NbaSource::new(NbaStatsSettings::for_base_url(api_url))),
    };
    Ok(JobContext {
        policy: policy.policy(),
        nba,
        ..JobContext::new(
            store.clone(),
            clock,
            Some(OddsApiClient::new(&api)?),
            Arc::new(DatabaseScheduler::new(store.clone(), "local")),
            settings,
        )
    })
}

pub fn last_end(games: &[ScheduledGame]) -> DateTime<Utc> {
    games
        .iter()
        .map(|g| g.commence_time + Duration::minutes(GAME_MINUTES))
        .max()
        .unwrap_or_default()
}

pub fn first_listing(games: &[ScheduledGame]) -> DateTime<Utc> {
    games
        .iter()
        .map(|g| g.commence_time - Duration::hours(LISTING_LEAD_HOURS))
        .min()
        .unwrap_or_default()
        - Duration::minutes(1)
}

fn eastern(t: DateTime<Utc>) -> String {
    (t + Duration::hours(eastern_offset_hours(t)))
        .format("%a %b %d %H:%M ET")
        .to_string()
}

pub struct DemoOptions {
    pub games: usize,
    pub seconds: f64,
    pub quiet: bool,
}

/// One simulated game day, collected on a fast virtual clock, ending with a table per game.
pub async fn demo(url: &DatabaseUrl, options: DemoOptions) -> anyhow::Result<RunReport> {
    let store = Store::connect(url, 4)?;
    store.migrate().await?;
    // The demo's database is its own: start its schedule afresh.
    store
        .pool()
        .get()
        .await?
        .batch_execute("DELETE FROM job_state")
        .await?;
    let day = (Utc::now() + Duration::days(6)).date_naive();
    let games = crate::season::game_day(day, options.games, rand::random());
    // Just after the first game is listed, so the demo opens with a fetch.
    let start = first_listing(&games) + Duration::minutes(2);
    let stop_after = last_end(&games) + Duration::minutes(30);
    let clock = Arc::new(VirtualClock::new(start));
    let api = SimulatedApi::new(clock.clone(), games.clone());
    let api_url = api.serve().await?;
    let context = simulated_context(&store, clock.clone(), &api_url, PolicyChoice::Standard)?;
    let speed = (stop_after - start).num_seconds() as f64 / options.seconds.max(1.0);
    let emulator = Emulator {
        context: Arc::new(context),
        pacing: Pacing::Scaled(clock.clone(), speed),
        shutdown: shutdown_on_signals(),
    };
    println!(
        "Simulated game day: {} games on {}, from {} (first listing) to {}; 1 virtual hour = {:.2} s.",
        games.len(),
        day,
        eastern(start),
        eastern(stop_after),
        3600.0 / speed
    );
    println!(
        "The Odds API is SIMULATED (no ODDS_API_KEY): lines, scores and credits are made up.\n"
    );
    emulator.arm_unarmed().await?;
    let started = Instant::now();
    let mut credits = 0;
    let quiet = options.quiet;
    let progress_clock = clock.clone();
    emulator
        .run(&|at| at > stop_after, &mut |s: &JobSummary| {
            credits += s.credits_used;
            let idle = s.outcome == RunOutcome::Skipped
                || (s.job == JobName::UpdateStatus && s.games_updated == 0);
            if !quiet && !idle {
                progress(s, progress_clock.now(), credits);
            }
        })
        .await?;
    let per_game = game_reports(&store, &games, start).await?;
    let report = summarize(per_game, &api.calls());
    print_demo_table(&report);
    println!(
        "\n{} API calls, {} credits as the real API would charge them, in {:.0} s of wall time.",
        report.calls,
        report.credits,
        started.elapsed().as_secs_f64()
    );
    println!(
        "These odds are simulated. The data stays in {} — try:",
        url.redacted()
    );
    println!(
        "  DATABASE_URL={} cargo run -q -p odds-cli -- events --from {} --to {}",
        url.redacted(),
        day,
        day + Duration::days(2)
    );
    Ok(report)
}

fn progress(s: &JobSummary, at: DateTime<Utc>, total_credits: i64) {
    let line = match s.job {
        JobName::FetchOdds => format!(
            "{:<13} {:<8} {:>2} snapshots {:>2} cr (total {:>3})  {}",
            s.job,
            s.tier.map_or("-".to_string(), |t| t.to_string()),
            s.snapshots_stored,
            s.credits_used,
            total_credits,
            s.reason
        ),
        JobName::FetchScores => format!(
            "{:<13} {:<8} {:>2} games updated {:>2} cr  {}",
            s.job, "", s.games_updated, s.credits_used, s.reason
        ),
        JobName::UpdateStatus => format!(
            "{:<13} {:<8} {:>2} games updated",
            s.job, "", s.games_updated
        ),
    };
    println!("  {}  {line}", eastern(at));
    let _ = std::io::stdout().flush();
}

fn print_demo_table(report: &RunReport) {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "game",
        "tip-off",
        "opening",
        "early",
        "sharp",
        "pregame",
        "closing",
        "closing line",
        "final (away-home)",
        "status",
    ]);
    for g in &report.per_game {
        let mut row = vec![g.matchup.clone(), eastern(g.commence_time)];
        row.extend(g.snapshots_per_tier.iter().map(|n| n.to_string()));
        row.push(
            g.closing_minutes
                .map_or("-".into(), |m| format!("{m:.0} min before")),
        );
        row.push(g.score.map_or("-".into(), |(h, a)| format!("{a}-{h}")));
        row.push(g.status.clone());
        table.add_row(row);
    }
    println!("\n{table}");
}

/// Replays a schedule on a virtual clock through the real jobs and a simulated API.
/// How a replay runs.
#[derive(Debug, Clone, Default)]
pub struct SimulationOptions {
    pub policy: PolicyChoice,
    /// The chain starts this long after the first listing.
    pub start_offset: Duration,
    /// A monthly credit budget (calendar months).
    pub monthly_credits: Option<i64>,
    /// NBA.com answers 503 throughout.
    pub nba_down: bool,
    /// The Odds API answers 503 from the first moment until the second.
    pub odds_outage: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Alerts go to this webhook, as in production.
    pub alert_webhook: Option<String>,
}

pub async fn simulate(
    url: &DatabaseUrl,
    games: Vec<ScheduledGame>,
    options: &SimulationOptions,
    calls_out: &std::path::Path,
    progress: &dyn odds_jobs::backfill::Progress,
) -> anyhow::Result<RunReport> {
    let policy = options.policy;
    let store = Store::connect(url, 4)?;
    store.migrate().await?;
    let client = store.pool().get().await?;
    let existing: i64 = client
        .query_one("SELECT count(*) FROM events", &[])
        .await?
        .get(0);
    anyhow::ensure!(
        existing == 0,
        "simulate needs an empty database ({} already has {existing} events)",
        url.redacted()
    );
    drop(client);
    // The chain's phase matters to the original policy (its fetches keep the start's minute).
    let start = first_listing(&games) + options.start_offset;
    let stop_after = last_end(&games) + Duration::hours(1);
    let clock = Arc::new(VirtualClock::new(start));
    let api = SimulatedApi::new(clock.clone(), games.clone());
    api.set_nba_down(options.nba_down);
    if let Some((from, until)) = options.odds_outage {
        api.set_odds_outage(from, until);
    }
    let api_url = api.serve().await?;
    let (_keep, never) = watch::channel(false);
    let mut context = simulated_context(&store, clock.clone(), &api_url, policy)?;
    let mut settings = (*context.settings).clone();
    settings.planner.budget.monthly_credits = options.monthly_credits;
    context.settings = Arc::new(settings);
    context.alerts = options.alert_webhook.as_ref().and_then(|url| {
        odds_jobs::alerts::Notifier::new(&odds_jobs::alerts::AlertSettings {
            webhook: Some(Secret::new(url.clone())),
            ..odds_jobs::alerts::AlertSettings::default()
        })
    });
    let emulator = Emulator {
        context: Arc::new(context),
        pacing: Pacing::Instant(clock.clone()),
        shutdown: never,
    };
    emulator.arm_unarmed().await?;
    let mut failures = 0;
    let hours = (stop_after - start).num_hours().max(1) as usize;
    progress.begin("simulating hours", hours);
    emulator
        .run(&|at| at > stop_after, &mut |s| {
            let now = clock.now();
            progress.at(
                (now - start).num_hours().max(0) as usize,
                &now.format("%Y-%m-%d").to_string(),
            );
            if s.outcome == RunOutcome::Failed {
                failures += 1;
                tracing::warn!(job = %s.job, error = ?s.error, "simulated run failed");
            }
        })
        .await?;
    progress.end();
    let calls = api.calls();
    let mut out = std::io::BufWriter::new(std::fs::File::create(calls_out)?);
    for call in &calls {
        serde_json::to_writer(&mut out, call)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if failures > 0 {
        println!("warning: {failures} runs failed (see the log)");
    }
    let judged = policy.requirements();
    let mut report = summarize(game_reports(&store, &games, start).await?, &calls);
    report
        .judge(
            &store,
            &games,
            &judged,
            JobSettings::default().planner.lookahead,
        )
        .await?;
    report.budget_effects(&store).await?;
    Ok(report)
}
