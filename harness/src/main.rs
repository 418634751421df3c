//! `local-harness`: see the library docs and README.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use local_harness::original::PolicyChoice;
use local_harness::{modes, season};
use odds_core::secret::DatabaseUrl;
use odds_core::settings::{LogFormat, ProcessEnv, Vars};
use odds_jobs::Settings;
use odds_store::DatabaseSettings;

#[derive(Debug, Parser)]
#[command(
    name = "local-harness",
    version,
    about = "Runs the odds jobs in one process (local and Railway), and the simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Collect for real until stopped (SCHEDULER_BACKEND=local or railway, ODDS_API_KEY set).
    Run,
    /// Run one job now through the real driver (lease, logs, next run armed), and print its
    /// summary as JSON.
    Once {
        /// fetch-odds, fetch-scores or update-status.
        job: odds_jobs::JobName,
        /// Do the paid work even when the plan says it is not due.
        #[arg(long)]
        force: bool,
    },
    /// One simulated game day on a fast virtual clock, in a scratch database.
    Demo {
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=15))]
        games: u16,
        /// Wall-clock seconds the whole day should take.
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        /// Allow a database whose name does not contain "demo".
        #[arg(long)]
        force: bool,
    },
    /// Replay a schedule file on a virtual clock through the real jobs and a simulated API.
    Simulate {
        #[arg(long)]
        schedule: PathBuf,
        /// Where to write one JSON line per API call.
        #[arg(long)]
        calls: PathBuf,
        #[arg(long, default_value = "standard")]
        policy: PolicyChoice,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Start the chain this many minutes after the first listing (the original policy's
        /// results depend on when its chain started).
        #[arg(long, default_value_t = 0)]
        start_offset_minutes: i64,
        /// A monthly credit budget (calendar months).
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
        monthly_credits: Option<i64>,
        /// NBA.com fails throughout: scores fall back to The Odds API.
        #[arg(long)]
        nba_down: bool,
    },
    /// Write a generated regular season as a schedule file.
    GenerateSeason {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1230)]
        games: usize,
        /// First day (US Eastern).
        #[arg(long, default_value = "2026-10-20")]
        start: chrono::NaiveDate,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

/// The demo and the simulator need only the database.
fn database_url() -> anyhow::Result<DatabaseUrl> {
    Ok(DatabaseSettings::from_vars(&Vars(&ProcessEnv::load()))?.url)
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run => modes::run(Settings::load()?).await,
        Command::Once { job, force } => {
            let settings = Settings::load()?;
            odds_jobs::logging::init(
                &settings.log.level,
                settings.log.format_or(LogFormat::Pretty),
            );
            let summary = modes::once(settings, job, force).await?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            anyhow::ensure!(
                summary.outcome != odds_jobs::RunOutcome::Failed,
                "the run failed: {}",
                summary.error.as_deref().unwrap_or("see the log")
            );
            Ok(())
        }
        Command::Demo {
            games,
            seconds,
            force,
        } => {
            let url = database_url()?;
            let name = url
                .expose()
                .parse::<tokio_postgres::Config>()
                .ok()
                .and_then(|c| c.get_dbname().map(str::to_string))
                .unwrap_or_default();
            anyhow::ensure!(
                force || name.contains("demo"),
                "the demo empties its database first; give it a scratch one (a name containing \"demo\") or pass --force"
            );
            odds_jobs::logging::init("warn", LogFormat::Pretty);
            modes::demo(
                &url,
                modes::DemoOptions {
                    games: games.into(),
                    seconds,
                    quiet: false,
                },
            )
            .await?;
            Ok(())
        }
        Command::Simulate {
            schedule,
            calls,
            policy,
            json,
            start_offset_minutes,
            monthly_credits,
            nba_down,
        } => {
            // A bar while the replay runs, on a terminal; warnings print above it.
            let bars = odds_cmd::Bars::new(false);
            odds_jobs::logging::init_to("warn", LogFormat::Pretty, bars.clone());
            let games = season::load(&schedule)?;
            let url = database_url()?;
            let started = std::time::Instant::now();
            let options = modes::SimulationOptions {
                policy,
                start_offset: chrono::Duration::minutes(start_offset_minutes),
                monthly_credits,
                nba_down,
                ..modes::SimulationOptions::default()
            };
            let report = modes::simulate(&url, games, &options, &calls, &bars).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                report.print(&format!(
                    "policy {policy:?}: replayed {} in {:.0} s; calls written to {}",
                    schedule.display(),
                    started.elapsed().as_secs_f64(),
                    calls.display()
                ));
            }
            Ok(())
        }
        Command::GenerateSeason {
            out,
            games,
            start,
            seed,
        } => {
            let season = season::season(games, start, seed);
            std::fs::write(&out, serde_json::to_string_pretty(&season)?)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            println!("{} games written to {}", season.len(), out.display());
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    odds_cmd::main(|cli: Cli| dispatch(cli.command.unwrap_or(Command::Run)))
}
