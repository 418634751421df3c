//! `odds backtest`: the strategy and sizing the flags name, the games the store holds, and
//! the report as a table, JSON or one CSV row per bet.

use anyhow::{Context, bail};
use odds_research::backtest::{
    Arbitrage, AtTheClose, BacktestReport, BacktestSettings, ExpectedValue, Filter, FlatSide,
    Strategy, Totals, run,
};
use odds_research::closing::Reference;
use odds_research::sizing::Sizing;
use odds_store::Store;

use crate::args::BacktestArgs;
use crate::output::write_csv_whole;

pub async fn backtest(
    store: &Store,
    args: &BacktestArgs,
    json: bool,
    bars: &odds_cmd::Bars,
) -> anyhow::Result<()> {
    let (from, to) = args.days.bounds().map_err(anyhow::Error::msg)?;
    let reference =
        Reference::parse(&args.reference).map_err(|e| anyhow::anyhow!("--reference: {e}"))?;
    let share = |name: &str, v: f64| -> anyhow::Result<f64> {
        if !(v > 0.0 && v <= 1.0) {
            bail!("--{name} {v} is not a share in (0, 1]");
        }
        Ok(v)
    };
    let sizing = match args.sizing.as_str() {
        "percent" => Sizing::Percent {
            fraction: share("percent", args.percent)?,
        },
        "kelly" => Sizing::Kelly {
            fraction: share("kelly-fraction", args.kelly_fraction)?,
            cap: share("kelly-cap", args.kelly_cap)?,
        },
        _ if args.stake > 0.0 && args.stake.is_finite() => Sizing::Flat { stake: args.stake },
        _ => bail!("--stake {} is not a positive amount", args.stake),
    };
    if !(args.bankroll > 0.0 && args.bankroll.is_finite()) {
        bail!("--bankroll {} is not a positive amount", args.bankroll);
    }
    let settings = BacktestSettings {
        sizing,
        bankroll: args.bankroll,
        max_night_exposure: share("max-night-exposure", args.max_night_exposure)?,
    };
    let filter = Filter {
        market: args.market.clone(),
        book: args.book.clone(),
    };
    let strategy: Box<dyn Strategy> = match args.strategy.as_str() {
        "flat" => Box::new(FlatSide {
            side: args.side,
            filter,
        }),
        "ev" => Box::new(ExpectedValue {
            min_edge: args.min_edge,
            filter,
        }),
        "arbitrage" => Box::new(Arbitrage { filter }),
        _ => Box::new(AtTheClose {
            side: args.side,
            filter,
        }),
    };
    let games = odds_jobs::research::backtest_games(
        store,
        from..to,
        chrono::Utc::now(),
        chrono::Duration::minutes(args.decision_minutes_before),
        &reference,
        args.method,
        bars,
    )
    .await?;
    if games.is_empty() {
        bail!("no stored game tipped off in that range (see `odds events` or `odds backfill`)");
    }
    let report = run(&games, strategy.as_ref(), &settings);
    if let Some(path) = &args.csv {
        write_bets(&report, path)?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report, games.len());
    }
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:+.2}%", v * 100.0))
        .unwrap_or_else(|| "n/a".into())
}

fn print(report: &BacktestReport, games: usize) {
    let s = &report.summary;
    let t = &s.totals;
    println!("{} over {games} games", report.strategy);
    println!(
        "bets {} ({} graded: {}-{}-{} win-loss-push; {} on games not final); turnover {:.2}; profit {:.2}",
        t.bets,
        t.bets - s.ungraded,
        t.record.wins,
        t.record.losses,
        t.record.pushes,
        s.ungraded,
        t.turnover,
        t.profit
    );
    println!(
        "ROI on turnover {}; return on the starting bankroll {} ({:.2} to {:.2}); max drawdown {:.2}%; Sharpe of daily returns {}",
        pct(t.roi_on_turnover),
        pct(s.return_on_bankroll),
        s.starting_bankroll,
        s.final_bankroll,
        s.max_drawdown * 100.0,
        s.sharpe
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "n/a".into())
    );
    println!(
        "mean CLV {} (t = {}); {} of bets beat the close",
        pct(s.mean_clv),
        s.clv_t_statistic
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "n/a".into()),
        s.beating_close
            .map(|v| format!("{:.0}%", v * 100.0))
            .unwrap_or_else(|| "n/a".into())
    );
    for (name, groups) in [
        ("market", &report.by_market),
        ("book", &report.by_book),
        ("month", &report.by_month),
    ] {
        let mut table = comfy_table::Table::new();
        table
            .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_header(vec![name, "bets", "turnover", "profit", "ROI"]);
        for (key, g) in groups.iter() {
            let g: &Totals = g;
            table.add_row(vec![
                key.clone(),
                g.bets.to_string(),
                format!("{:.2}", g.turnover),
                format!("{:.2}", g.profit),
                pct(g.roi_on_turnover),
            ]);
        }
        println!("{table}");
    }
}

/// One row per bet, written whole or not at all.
fn write_bets(report: &BacktestReport, path: &std::path::Path) -> anyhow::Result<()> {
    write_csv_whole(path, |w| {
        w.write_record([
            "event_id",
            "night",
            "market",
            "outcome",
            "point",
            "price",
            "book",
            "decision_time",
            "snapshot_time",
            "stake",
            "result",
            "profit",
            "edge",
            "clv",
            "clv_price",
        ])?;
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for b in &report.bets {
            w.write_record([
                b.event_id.clone(),
                b.night.to_string(),
                b.market.clone(),
                b.outcome.clone(),
                opt(b.point),
                b.price.to_string(),
                b.book.clone(),
                b.decision_time.to_rfc3339(),
                b.snapshot_time.to_rfc3339(),
                b.stake.to_string(),
                b.result.map(|r| r.to_string()).unwrap_or_default(),
                opt(b.profit),
                opt(b.edge),
                opt(b.clv),
                opt(b.clv_price),
            ])?;
        }
        Ok(())
    })
}

/// `odds chart movement|equity`.
pub async fn chart(store: &Store, chart: crate::args::Chart) -> anyhow::Result<()> {
    use odds_charts::{Marker, Movement, Series};
    match chart {
        crate::args::Chart::Movement {
            event_id,
            market,
            books,
            out,
        } => {
            let Some(game) = store.get_event(&event_id).await? else {
                bail!("no event with id '{event_id}' (see `odds events`)");
            };
            let books = if books.is_empty() {
                let mut all: Vec<String> = store
                    .get_odds_at_time(&event_id, chrono::DateTime::<chrono::Utc>::MAX_UTC)
                    .await?
                    .into_iter()
                    .filter(|l| l.row.market_key.as_str() == market)
                    .map(|l| l.row.bookmaker_key)
                    .collect();
                all.sort();
                all.dedup();
                all
            } else {
                books
            };
            // The home side's number: its spread, the total, or its moneyline price.
            let (outcome, y_label) = match market.as_str() {
                "spreads" => (game.home_team.clone(), format!("{} spread", game.home_team)),
                "totals" => ("Over".to_string(), "total".to_string()),
                _ => (
                    game.home_team.clone(),
                    format!("{} moneyline", game.home_team),
                ),
            };
            let mut series = Vec::new();
            for book in &books {
                let points: Vec<(chrono::DateTime<chrono::Utc>, f64)> = store
                    .get_line_movement(&event_id, book, &market)
                    .await?
                    .into_iter()
                    .filter(|l| {
                        l.row.outcome_name == outcome && l.snapshot_time <= game.commence_time
                    })
                    .filter_map(|l| {
                        let value = if market == "h2h" {
                            Some(l.row.price)
                        } else {
                            l.row.point
                        };
                        value.map(|v| (l.snapshot_time, v))
                    })
                    .collect();
                if !points.is_empty() {
                    series.push(Series {
                        label: book.clone(),
                        points,
                    });
                }
            }
            if series.is_empty() {
                bail!(
                    "no {market} lines stored for {event_id} from {}",
                    books.join(", ")
                );
            }
            let first = series
                .iter()
                .filter_map(|s| s.points.first().map(|p| p.0))
                .min()
                .unwrap_or(game.commence_time);
            let mut markers = vec![Marker {
                at: game.commence_time,
                label: "tip-off".into(),
            }];
            for (hours, label) in [
                (72, "early"),
                (24, "sharp"),
                (12, "pregame"),
                (3, "closing"),
            ] {
                let at = game.commence_time - chrono::Duration::hours(hours);
                if at >= first {
                    markers.push(Marker {
                        at,
                        label: label.into(),
                    });
                }
            }
            let movement = Movement {
                title: format!(
                    "{} @ {}: {market} (tip-off {})",
                    game.away_team,
                    game.home_team,
                    game.commence_time.format("%Y-%m-%d %H:%M UTC")
                ),
                y_label,
                series,
                markers,
            };
            odds_charts::movement(&movement, &out)?;
            println!("{}: {} books", out.display(), movement.series.len());
        }
        crate::args::Chart::Equity { report, out } => {
            let text = std::fs::read_to_string(&report)
                .with_context(|| format!("reading {}", report.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!("{}: not a backtest report ({e})", report.display())
            })?;
            let curve: Vec<(chrono::DateTime<chrono::Utc>, f64)> = value["curve"]
                .as_array()
                .with_context(|| {
                    format!(
                        "{}: no curve (write it with `odds --json backtest`)",
                        report.display()
                    )
                })?
                .iter()
                .filter_map(|p| {
                    let day: chrono::NaiveDate = p[0].as_str()?.parse().ok()?;
                    Some((odds_core::time::utc_midnight(day), p[1].as_f64()?))
                })
                .collect();
            let start = value["settings"]["bankroll"].as_f64().unwrap_or(0.0);
            let title = value["strategy"].as_str().unwrap_or("backtest");
            odds_charts::equity(title, start, &curve, &out)?;
            println!("{}: {} nights", out.display(), curve.len());
        }
    }
    Ok(())
}
