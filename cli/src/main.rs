//! `odds`: the command-line tool of the NBA odds pipeline.

mod args;
mod backfill;
mod output;
mod research;

use std::process::ExitCode;

use anyhow::Context;
use odds_core::settings::LogFormat;
use odds_jobs::Settings;
use odds_store::Store;

use args::{Cli, Command};

fn main() -> ExitCode {
    odds_cmd::main(run)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load().context("configuration")?;
    // A command prints its own result; the libraries' progress lines are for `-v`.
    let bars = odds_cmd::Bars::new(cli.quiet);
    odds_jobs::logging::init_to(
        if cli.verbose { "debug" } else { "warn" },
        settings.log.format_or(LogFormat::Pretty),
        bars.clone(),
    );
    let database = &settings.database;
    let store = Store::connect(&database.url, 2)?;
    let json = cli.json;
    match cli.command {
        Command::Migrate => {
            let applied = store
                .migrate()
                .await
                .with_context(|| format!("migrating {}", database.url.redacted()))?;
            output::migrated(&applied, &database.url.redacted());
        }
        Command::Status => {
            let now = chrono::Utc::now();
            let status = output::StatusReport {
                jobs: store.job_states().await?,
                credits_24h: store.credit_use(now - chrono::Duration::days(1)).await?,
                credits_30d: store.credit_use(now - chrono::Duration::days(30)).await?,
                quota: store.latest_quota().await?,
                events: store
                    .event_counts()
                    .await?
                    .into_iter()
                    .map(|(s, n)| (s.to_string(), n))
                    .collect(),
            };
            output::status(&status, json)?;
        }
        Command::Plan { days } => {
            let outlook = odds_jobs::outlook::outlook(
                &store,
                &settings.planner,
                &settings.collection,
                chrono::Utc::now(),
                days,
            )
            .await?;
            output::plan(&outlook, json)?;
        }
        Command::Events { from, to, status } => {
            let to = to.unwrap_or(from + chrono::Duration::days(1));
            anyhow::ensure!(to > from, "--to must be after --from");
            let events = store.get_events_by_date_range(from, to, status).await?;
            output::events(&events, json)?;
        }
        Command::Odds {
            event_id,
            at,
            market,
        } => {
            let at = at.unwrap_or_else(chrono::Utc::now);
            let mut lines = store.get_odds_at_time(&event_id, at).await?;
            if let Some(market) = market {
                lines.retain(|l| l.row.market_key.as_str() == market);
            }
            if lines.is_empty() {
                ensure_event(&store, &event_id).await?;
            }
            output::odds(&lines, json)?;
        }
        Command::Movement {
            event_id,
            book,
            market,
        } => {
            let lines = store.get_line_movement(&event_id, &book, &market).await?;
            if lines.is_empty() {
                ensure_event(&store, &event_id).await?;
            }
            output::odds(&lines, json)?;
        }
        Command::Best {
            event_id,
            market,
            at,
        } => {
            let best = store.get_best_odds(&event_id, &market, at).await?;
            if best.is_empty() {
                ensure_event(&store, &event_id).await?;
            }
            output::best(&best, json)?;
        }
        Command::Coverage {
            event_id: None,
            date,
        } => {
            let date = date.context("coverage needs an event id or --date")?;
            let games = odds_jobs::coverage::day_coverage(
                &store,
                date,
                &settings.planner.policy.closing,
                chrono::Utc::now(),
            )
            .await?;
            output::day_coverage(date, &games, json)?;
        }
        Command::Health => {
            let checks = odds_jobs::alerts::health(
                &store,
                &settings.planner,
                &settings.collection,
                chrono::Utc::now(),
            )
            .await?;
            let level = output::health(&checks, json)?;
            std::process::exit(level.exit_code());
        }
        Command::Coverage {
            event_id: Some(event_id),
            ..
        } => {
            ensure_event(&store, &event_id).await?;
            let coverage = store.tier_coverage(&event_id).await?;
            output::coverage(&coverage, json)?;
        }
        Command::Closing {
            days,
            market,
            book,
            method,
            reference,
        } => {
            let (start, end) = days.bounds().map_err(anyhow::Error::msg)?;
            let reference = odds_research::closing::Reference::parse(&reference)
                .map_err(|e| anyhow::anyhow!("--reference: {e}"))?;
            let mut lines = odds_jobs::research::closing(
                &store,
                start,
                end,
                chrono::Utc::now(),
                &reference,
                method,
            )
            .await?;
            lines.retain(|l| {
                market.as_ref().is_none_or(|m| &l.market == m)
                    && book.as_ref().is_none_or(|b| &l.book == b)
            });
            output::closing(&lines, json)?;
        }
        Command::Clv {
            bets,
            method,
            reference,
            out,
        } => {
            let reference = odds_research::closing::Reference::parse(&reference)
                .map_err(|e| anyhow::anyhow!("--reference: {e}"))?;
            let report = odds_jobs::research::clv_of_bets(&store, &bets, &reference, method)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(out) = out {
                output::write_bets_back(&report, &out)?;
            }
            output::clv(&report, json)?;
        }
        Command::Backtest(args) => research::backtest(&store, &args, json, &bars).await?,
        Command::Chart(chart) => research::chart(&store, chart).await?,
        Command::Export {
            table,
            from,
            to,
            format,
            out,
        } => {
            anyhow::ensure!(to >= from, "--to {to} is before --from {from}");
            let request = odds_export::ExportRequest {
                table,
                format,
                from,
                to,
                out: &out,
                batch_rows: 64 * 1024,
            };
            use odds_jobs::backfill::Progress;
            bars.begin("exporting", 0);
            let progress = |rows: usize| bars.at(rows, "rows");
            let report = odds_export::export(&store, &request, &progress).await;
            bars.end();
            let report = report?;
            output::exported(&report, json)?;
        }
        Command::Backfill(command) => {
            backfill::run(command, &store, &settings, &bars, json).await?;
        }
        Command::Quality { since, limit } => {
            let since = since.unwrap_or_else(|| chrono::Utc::now() - chrono::Duration::days(1));
            let summary = store.quality_summary(since).await?;
            let recent = store.recent_quality_issues(since, limit).await?;
            output::quality(&summary, &recent, json)?;
        }
    }
    Ok(())
}

async fn ensure_event(store: &Store, event_id: &str) -> anyhow::Result<()> {
    match store.get_event(event_id).await? {
        Some(_) => Ok(()),
        None => anyhow::bail!("no event with id '{event_id}' (see `odds events`)"),
    }
}
