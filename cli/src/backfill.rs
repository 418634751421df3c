//! `odds backfill`: the plan and its price are printed before anything is spent, spending asks
//! first (unless `--yes`), and long work shows a bar on a terminal.

use std::io::{self, BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use serde::Serialize;

use odds_cmd::Bars;
use odds_core::backfill::parse_hours_before;
use odds_core::requirements::{CollectionPolicy, PolicyName};
use odds_core::time::eastern_date;
use odds_jobs::Settings;
use odds_jobs::backfill::{
    Backfill as Runner, BackfillError, Credits, DayRange, Discovery, OddsPlan, OddsRun,
};
use odds_sources::nba_stats::NbaStatsClient;
use odds_sources::odds_api::OddsApiClient;
use odds_store::Store;

use crate::args::{Backfill, DayArgs, SpendArgs};

pub async fn run(
    command: Backfill,
    store: &Store,
    settings: &Settings,
    bars: &Bars,
    json: bool,
) -> anyhow::Result<()> {
    let client = match &settings.odds_api.api_key {
        Some(_) => Some(OddsApiClient::new(&settings.odds_api).context("The Odds API client")?),
        None => None,
    };
    let runner = Runner {
        store,
        odds_api: client.as_ref(),
        collection: &settings.collection,
        planner: &settings.planner,
        ingest: &settings.ingest,
        progress: bars,
    };
    let now = chrono::Utc::now();
    let today = eastern_date(now);
    let day_range = |d: &DayArgs| DayRange::new(d.from, d.to, today).map_err(anyhow::Error::msg);
    match command {
        Backfill::Odds {
            range,
            policy,
            hours_before,
            spend,
        } => {
            let days = day_range(&range)?;
            let sport = sport(&range, settings)?;
            let (policy, order) = match (&hours_before, &policy) {
                (Some(hours), _) => (
                    CollectionPolicy::economy(),
                    parse_hours_before(hours, settings.planner.lookahead)
                        .map_err(|e| anyhow::anyhow!("--hours-before: {e}"))?,
                ),
                (None, Some(name)) => {
                    let name: PolicyName = name.parse().map_err(anyhow::Error::msg)?;
                    let policy = CollectionPolicy::preset(name);
                    let order = policy.drop_order();
                    (policy, order)
                }
                (None, None) => {
                    let policy = settings.planner.policy.clone();
                    let order = policy.drop_order();
                    (policy, order)
                }
            };
            let mut credits = Credits::capped(spend.max_credits);
            check_cap(&spend, i64::from(runner.credits_per_call(&sport)))?;
            let undiscovered = runner.days_to_discover(&sport, days, false).await?;
            let mut discovery = None;
            if !undiscovered.is_empty() {
                if spend.dry_run {
                    eprintln!(
                        "{} game days are not discovered yet (up to {} credits); their games are not in this plan",
                        undiscovered.len(),
                        undiscovered.len()
                    );
                } else {
                    require_key(&client)?;
                    confirm(
                        spend.yes,
                        &format!(
                            "Discover the games of {} days for up to {} credits (historical /events)?",
                            undiscovered.len(),
                            undiscovered.len()
                        ),
                    )?;
                    discovery = Some(
                        runner
                            .discover(&sport, &undiscovered, &mut credits)
                            .await
                            .map_err(resumable)?,
                    );
                }
            }
            let plan = runner
                .plan_odds(&sport, days, &policy, &order, &credits)
                .await?;
            execute(
                &runner,
                plan,
                discovery,
                &spend,
                &mut credits,
                &client,
                json,
            )
            .await
        }
        Backfill::Gaps { range, spend } => {
            let days = day_range(&range)?;
            let sport = sport(&range, settings)?;
            let policy = CollectionPolicy::economy();
            let order = policy.drop_order();
            check_cap(&spend, i64::from(runner.credits_per_call(&sport)))?;
            let mut credits = Credits::capped(spend.max_credits);
            let plan = runner
                .plan_odds(&sport, days, &policy, &order, &credits)
                .await?;
            if plan.games == 0 {
                bail!(
                    "no stored {sport} games from {} to {} (see `odds backfill events`)",
                    days.first,
                    days.last
                );
            }
            execute(&runner, plan, None, &spend, &mut credits, &client, json).await
        }
        Backfill::Events { range, spend } => {
            let days = day_range(&range)?;
            let sport = sport(&range, settings)?;
            let all: Vec<_> = days.days().collect();
            check_cap(&spend, 1)?;
            let most = all.len() as i64;
            let price = format!(
                "Discover the games of {} days for up to {most} credits (historical /events)?",
                all.len()
            );
            if spend.dry_run {
                println!("{}", price.trim_end_matches('?'));
                return Ok(());
            }
            require_key(&client)?;
            confirm(spend.yes, &price)?;
            let mut credits = Credits::capped(spend.max_credits);
            let found = runner
                .discover(&sport, &all, &mut credits)
                .await
                .map_err(resumable)?;
            if json {
                return print_json(&found);
            }
            print_discovery(&found);
            Ok(())
        }
        Backfill::Scores { range } => {
            let days = day_range(&range)?;
            let sport = sport(&range, settings)?;
            if sport != "basketball_nba" {
                bail!(
                    "scores come from NBA.com, for basketball_nba only (other sports are scored by The Odds API's /scores)"
                );
            }
            let nba = NbaStatsClient::new(&settings.nba_stats).context("the NBA.com client")?;
            let scored = runner
                .scores(&nba, &sport, days, now)
                .await
                .map_err(resumable)?;
            if json {
                return print_json(&scored);
            }
            println!(
                "NBA.com finals: {}; stored games: {}; scores written: {}; already final: {}; not played yet: {}; unmatched: {}",
                scored.nba_finals,
                scored.stored_games,
                scored.updated,
                scored.already_final,
                scored.not_played,
                scored.unmatched.len()
            );
            for u in &scored.unmatched {
                println!(
                    "  unmatched {} {} ({}): {}",
                    u.event_id,
                    u.matchup,
                    u.commence_time.format("%Y-%m-%d %H:%M UTC"),
                    u.reason
                );
            }
            Ok(())
        }
    }
}

/// Prints the plan, asks, runs it, prints what it did.
async fn execute(
    runner: &Runner<'_>,
    plan: OddsPlan,
    discovery: Option<Discovery>,
    spend: &SpendArgs,
    credits: &mut Credits,
    client: &Option<OddsApiClient>,
    json: bool,
) -> anyhow::Result<()> {
    if !json {
        if let Some(found) = &discovery {
            print_discovery(found);
        }
        print_plan(&plan);
    }
    if spend.dry_run || plan.fit.calls.is_empty() {
        if json {
            return print_json(&Report {
                discovery,
                plan,
                run: None,
            });
        }
        return Ok(());
    }
    require_key(client)?;
    confirm(
        spend.yes,
        &format!(
            "Make {} archive calls for {} credits?",
            plan.fit.calls.len(),
            plan.credits()
        ),
    )?;
    let run = runner.run_odds(&plan, credits).await.map_err(resumable)?;
    if json {
        return print_json(&Report {
            discovery,
            plan,
            run: Some(run),
        });
    }
    print_run(&run);
    Ok(())
}

#[derive(Serialize)]
struct Report {
    discovery: Option<Discovery>,
    plan: OddsPlan,
    run: Option<OddsRun>,
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_discovery(found: &Discovery) {
    println!(
        "Discovered {} games ({} new) on {} of {} days for {} credits",
        found.games_listed, found.games_new, found.days_with_games, found.days_asked, found.credits
    );
}

fn print_plan(plan: &OddsPlan) {
    println!(
        "{} {} to {}: {} games, {} with requirements not yet stored or asked for",
        plan.sport, plan.range.first, plan.range.last, plan.games, plan.games_missing
    );
    for (requirement, games) in &plan.missing {
        if *games > 0 {
            println!("  {requirement}: {games} games");
        }
    }
    if !plan.fit.dropped.is_empty() {
        let dropped: Vec<String> = plan.fit.dropped.iter().map(|r| r.to_string()).collect();
        println!("  left out to fit --max-credits: {}", dropped.join(", "));
    }
    if plan.fit.cut > 0 {
        println!(
            "  {} more calls would be needed for the rest (over --max-credits)",
            plan.fit.cut
        );
    }
    println!(
        "Plan: {} archive calls x {} credits = {} credits",
        plan.fit.calls.len(),
        plan.credits_per_call,
        plan.credits()
    );
}

fn print_run(run: &OddsRun) {
    println!(
        "Made {} calls ({} answered from what was stored) for {} credits: {} snapshots stored ({} already there), {} odds rows, {} quality issues",
        run.calls_made,
        run.calls_skipped,
        run.credits,
        run.snapshots_stored,
        run.snapshots_duplicate,
        run.odds_rows,
        run.issues_logged
    );
    if let Some(why) = &run.stopped {
        println!("Stopped: {why}; the same command goes on from here");
    }
}

fn sport(range: &DayArgs, settings: &Settings) -> anyhow::Result<String> {
    match &range.sport {
        Some(sport) => Ok(sport.trim().to_lowercase()),
        None => settings
            .collection
            .sports
            .first()
            .cloned()
            .context("SPORTS names no sport"),
    }
}

fn check_cap(spend: &SpendArgs, one_call: i64) -> anyhow::Result<()> {
    if let Some(cap) = spend.max_credits
        && cap < one_call
    {
        bail!("--max-credits {cap} is less than one call ({one_call} credits)");
    }
    Ok(())
}

fn require_key(client: &Option<OddsApiClient>) -> anyhow::Result<()> {
    if client.is_none() {
        bail!("ODDS_API_KEY is not set (the archive needs a paid plan's key)");
    }
    Ok(())
}

fn resumable(e: BackfillError) -> anyhow::Error {
    anyhow::Error::msg(e.to_string())
}

/// Asks on the terminal; without one, only `--yes` spends.
fn confirm(yes: bool, question: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() {
        bail!("{question} Not asked: stdin is not a terminal; add --yes to spend");
    }
    eprint!("{question} [y/N] ");
    io::stderr().flush().ok();
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => bail!("not confirmed: nothing spent"),
    }
}
