//! Tables for people, JSON for scripts.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use odds_core::Event;
use odds_core::model::StoredOdds;
use odds_store::{
    BestPrice, CreditUse, IssueCount, JobState, LoggedIssue, QuotaReading, TierCoverage,
};
use serde::Serialize;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn price(p: f64) -> String {
    if p > 0.0 {
        format!("+{p}")
    } else {
        p.to_string()
    }
}

/// `Over (LeBron James)` for a prop, the name alone otherwise.
fn outcome(name: &str, description: &Option<String>) -> String {
    match description {
        Some(d) => format!("{name} ({d})"),
        None => name.to_string(),
    }
}

pub fn exported(report: &odds_export::ExportReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    for f in &report.files {
        println!("{} ({} rows)", f.path.display(), f.rows);
    }
    println!(
        "{} {} rows of {} to {} in {} files",
        report.rows,
        report.table,
        report.from,
        report.to,
        report.files.len()
    );
    Ok(())
}

pub fn migrated(applied: &[String], url: &str) {
    if applied.is_empty() {
        println!("{url}: schema up to date, nothing applied");
    } else {
        println!("{url}: applied {}", applied.join(", "));
    }
}

pub fn events(events: &[Event], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&events);
    }
    let mut t = table(&["id", "tip-off (UTC)", "away", "home", "status", "score"]);
    for e in events {
        let score = match (e.away_score, e.home_score) {
            (Some(a), Some(h)) => format!("{a}-{h}"),
            _ => String::new(),
        };
        t.add_row(vec![
            e.id.clone(),
            time(e.commence_time),
            e.away_team.clone(),
            e.home_team.clone(),
            e.status.to_string(),
            score,
        ]);
    }
    println!("{t}\n{} events", events.len());
    Ok(())
}

pub fn odds(lines: &[StoredOdds], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&lines);
    }
    let mut t = table(&[
        "snapshot (UTC)",
        "book",
        "market",
        "outcome",
        "price",
        "point",
        "valid",
    ]);
    for l in lines {
        t.add_row(vec![
            time(l.snapshot_time),
            l.row.bookmaker_key.clone(),
            l.row.market_key.to_string(),
            outcome(&l.row.outcome_name, &l.row.description),
            price(l.row.price),
            opt(l.row.point),
            if l.row.is_valid {
                "yes".into()
            } else {
                format!("no: {}", l.row.validation_notes.join(", "))
            },
        ]);
    }
    println!("{t}\n{} lines", lines.len());
    Ok(())
}

pub fn best(best: &[BestPrice], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&best);
    }
    let mut t = table(&[
        "outcome",
        "best price",
        "point",
        "book",
        "books quoting",
        "as of (UTC)",
    ]);
    for b in best {
        t.add_row(vec![
            outcome(&b.outcome_name, &b.description),
            price(b.price),
            opt(b.point),
            b.bookmaker_title.clone(),
            b.books_quoting.to_string(),
            time(b.snapshot_time),
        ]);
    }
    println!("{t}");
    Ok(())
}

pub fn closing(lines: &[odds_research::closing::ClosingLine], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&lines);
    }
    let mut t = table(&[
        "event",
        "book",
        "market",
        "outcome",
        "point",
        "price",
        "taken at (UTC)",
        "fair",
        "reference",
    ]);
    let percent = |p: Option<f64>| p.map(|p| format!("{:.1}%", p * 100.0)).unwrap_or_default();
    for l in lines {
        t.add_row(vec![
            l.event_id.clone(),
            l.book.clone(),
            l.market.clone(),
            outcome(&l.outcome, &l.description),
            opt(l.point),
            price(l.price),
            time(l.taken_at),
            percent(l.fair_probability),
            l.reference
                .clone()
                .unwrap_or_else(|| "none at this number".into()),
        ]);
    }
    println!("{t}\n{} closing lines", lines.len());
    Ok(())
}

pub fn clv(report: &odds_jobs::research::ClvReport, json: bool) -> anyhow::Result<()> {
    use odds_research::clv::BetClose;
    if json {
        return print_json(report);
    }
    let mut t = table(&[
        "line",
        "game",
        "market",
        "outcome",
        "point",
        "price",
        "book",
        "close",
        "fair",
        "clv",
        "clv price",
    ]);
    let pct = |v: f64| format!("{:+.2}%", v * 100.0);
    for b in &report.bets {
        let (close, fair, clv, ratio) = match &b.close {
            BetClose::Matched(m) => (
                format!("{} {} {}", m.book, opt(m.point), price(m.price)),
                format!("{:.1}%", m.fair_probability * 100.0),
                pct(m.clv),
                pct(m.clv_price),
            ),
            BetClose::ClosedAtAnotherNumber { closes } => {
                let lines: Vec<String> = closes
                    .iter()
                    .map(|(book, point, p)| format!("{book} {} {}", opt(*point), price(*p)))
                    .collect();
                (
                    format!("closed at another number: {}", lines.join(", ")),
                    String::new(),
                    String::new(),
                    String::new(),
                )
            }
            BetClose::NoClose => (
                "no close stored".into(),
                String::new(),
                String::new(),
                String::new(),
            ),
        };
        t.add_row(vec![
            b.line.to_string(),
            b.matchup.clone(),
            b.market.clone(),
            b.outcome.clone(),
            opt(b.point),
            price(b.price),
            b.book.clone(),
            close,
            fair,
            clv,
            ratio,
        ]);
    }
    println!("{t}");
    for u in &report.unmatched {
        println!("line {}: not matched: {}", u.line, u.reason);
    }
    match &report.summary {
        Some(s) => println!(
            "{} bets compared with the close: mean CLV {} (standard error {}, t = {}), {:.0}% beat the close",
            s.bets,
            pct(s.mean),
            s.std_error.map(pct).unwrap_or_else(|| "n/a".into()),
            s.t_statistic
                .map(|t| format!("{t:.2}"))
                .unwrap_or_else(|| "n/a".into()),
            s.beating_close * 100.0
        ),
        None => println!("no bet could be compared with the close"),
    }
    Ok(())
}

/// Writes a CSV file whole or not at all: into a neighbour first, renamed into place once
/// complete, removed on any error.
pub fn write_csv_whole(
    path: &std::path::Path,
    rows: impl FnOnce(&mut csv::Writer<std::fs::File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let partial = path.with_extension("csv.partial");
    let written = csv::Writer::from_path(&partial)
        .map_err(anyhow::Error::from)
        .and_then(|mut w| {
            rows(&mut w)?;
            w.flush()?;
            Ok(())
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))
}

/// The bets file again, each row with its close and CLV added; written whole or not at all.
pub fn write_bets_back(
    report: &odds_jobs::research::ClvReport,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    use odds_research::clv::BetClose;
    write_csv_whole(path, |w| {
        let mut header = report.headers.clone();
        header.extend(
            [
                "status",
                "close_book",
                "close_market",
                "close_point",
                "close_price",
                "close_taken_at",
                "fair_probability",
                "clv",
                "clv_price",
            ]
            .map(String::from),
        );
        w.write_record(&header)?;
        for (line, fields) in &report.rows {
            let mut row = fields.clone();
            let bet = report.bets.iter().find(|b| b.line == *line);
            let added: Vec<String> = match bet.map(|b| &b.close) {
                Some(BetClose::Matched(m)) => vec![
                    "matched".into(),
                    m.book.clone(),
                    m.market.clone(),
                    opt(m.point),
                    m.price.to_string(),
                    m.taken_at.to_rfc3339(),
                    m.fair_probability.to_string(),
                    m.clv.to_string(),
                    m.clv_price.to_string(),
                ],
                Some(BetClose::ClosedAtAnotherNumber { .. }) => {
                    vec!["closed at another number".into()]
                }
                Some(BetClose::NoClose) => vec!["no close stored".into()],
                None => vec![
                    report
                        .unmatched
                        .iter()
                        .find(|u| u.line == *line)
                        .map_or("not matched".into(), |u| {
                            format!("not matched: {}", u.reason)
                        }),
                ],
            };
            row.extend(added);
            row.resize(header.len(), String::new());
            w.write_record(&row)?;
        }
        Ok(())
    })
}

/// The checks, worst first; returns the overall level.
pub fn health(
    checks: &[odds_core::health::Check],
    json: bool,
) -> anyhow::Result<odds_core::health::Level> {
    let level = odds_core::health::overall(checks);
    if json {
        print_json(&serde_json::json!({ "level": level, "checks": checks }))?;
        return Ok(level);
    }
    let mut t = table(&["check", "level", "message"]);
    let mut sorted: Vec<&odds_core::health::Check> = checks.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.level));
    for c in sorted {
        let message = match &c.cause {
            Some(cause) => format!("{} (follows from {cause})", c.message),
            None => c.message.clone(),
        };
        t.add_row(vec![c.name.clone(), c.level.to_string(), message]);
    }
    println!("{t}\n{level}");
    Ok(level)
}

pub fn day_coverage(
    day: chrono::NaiveDate,
    games: &[odds_jobs::coverage::GameCoverage],
    json: bool,
) -> anyhow::Result<()> {
    if json {
        return print_json(&games);
    }
    let mut t = table(&[
        "tip-off (UTC)",
        "game",
        "snapshots by tier",
        "missing tiers",
        "closing capture",
        "final",
    ]);
    for g in games {
        let tiers: Vec<String> = g
            .tiers
            .iter()
            .map(|c| format!("{} {}", c.fetch_tier, c.snapshots))
            .collect();
        let missing: Vec<String> = g.missing_tiers.iter().map(|t| t.to_string()).collect();
        let closing = match (g.closing_captured, g.minutes_before_tip) {
            (true, Some(m)) => format!("yes, {m} min before"),
            (false, Some(m)) => format!("no (last {m} min before)"),
            _ => "no".into(),
        };
        t.add_row(vec![
            time(g.commence_time),
            g.matchup.clone(),
            tiers.join(", "),
            missing.join(", "),
            closing,
            g.final_score
                .map(|(h, a)| format!("{a}-{h}"))
                .unwrap_or_else(|| g.status.to_string()),
        ]);
    }
    let captured = games.iter().filter(|g| g.closing_captured).count();
    let finals = games.iter().filter(|g| g.final_score.is_some()).count();
    println!(
        "{t}\n{day} (US Eastern): {} games, {captured} closing lines captured, {finals} final scores",
        games.len()
    );
    Ok(())
}

pub fn coverage(coverage: &[TierCoverage], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&coverage);
    }
    let mut t = table(&["tier", "snapshots", "first (UTC)", "last (UTC)"]);
    for c in coverage {
        t.add_row(vec![
            c.fetch_tier.to_string(),
            c.snapshots.to_string(),
            time(c.first),
            time(c.last),
        ]);
    }
    println!("{t}");
    Ok(())
}

pub fn quality(summary: &[IssueCount], recent: &[LoggedIssue], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&serde_json::json!({ "summary": summary, "recent": recent }));
    }
    if summary.is_empty() {
        println!("no data-quality issues in this period");
        return Ok(());
    }
    let mut t = table(&["issue", "severity", "count", "last seen (UTC)"]);
    for s in summary {
        t.add_row(vec![
            s.issue_type.clone(),
            s.severity.clone(),
            s.count.to_string(),
            time(s.last_seen),
        ]);
    }
    println!("{t}");
    let mut t = table(&["logged (UTC)", "severity", "issue", "event", "description"]);
    for i in recent {
        t.add_row(vec![
            time(i.created_at),
            i.severity.clone(),
            i.issue_type.clone(),
            opt(i.event_id.as_ref()),
            i.description.clone(),
        ]);
    }
    println!("{t}");
    Ok(())
}

#[derive(Serialize)]
pub struct StatusReport {
    pub jobs: Vec<JobState>,
    pub credits_24h: Vec<CreditUse>,
    pub credits_30d: Vec<CreditUse>,
    pub quota: Option<QuotaReading>,
    pub events: Vec<(String, i64)>,
}

pub fn status(report: &StatusReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    let mut t = table(&[
        "job",
        "next run (UTC)",
        "why",
        "last run (UTC)",
        "outcome",
        "failures in a row",
    ]);
    for j in &report.jobs {
        t.add_row(vec![
            j.job_name.to_string(),
            j.next_run_at
                .map(time)
                .unwrap_or_else(|| "not armed".into()),
            j.next_run_reason.clone().unwrap_or_default(),
            j.last_run_at.map(time).unwrap_or_default(),
            match (&j.last_outcome, &j.last_error) {
                (Some(o), Some(e)) => format!("{o}: {e}"),
                (Some(o), None) => o.to_string(),
                _ => String::new(),
            },
            j.consecutive_failures.to_string(),
        ]);
    }
    if report.jobs.is_empty() {
        println!("no job has run yet");
    } else {
        println!("{t}");
    }
    let mut t = table(&[
        "endpoint",
        "calls 24 h",
        "credits 24 h",
        "calls 30 d",
        "credits 30 d",
        "failed 30 d",
    ]);
    for month in &report.credits_30d {
        let day = report
            .credits_24h
            .iter()
            .find(|d| d.endpoint == month.endpoint);
        t.add_row(vec![
            month.endpoint.clone(),
            day.map_or(0, |d| d.calls).to_string(),
            day.map_or(0, |d| d.credits).to_string(),
            month.calls.to_string(),
            month.credits.to_string(),
            month.failed.to_string(),
        ]);
    }
    println!("{t}");
    match &report.quota {
        Some(q) => println!(
            "quota: {} credits remaining, {} used (reported {})",
            opt(q.remaining),
            opt(q.used),
            time(q.at)
        ),
        None => println!("quota: no reading yet"),
    }
    let events: Vec<String> = report
        .events
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    println!(
        "games: {}",
        if events.is_empty() {
            "none".into()
        } else {
            events.join(", ")
        }
    );
    Ok(())
}

pub fn plan(o: &odds_jobs::outlook::Outlook, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(o);
    }
    let mut t = table(&[
        "fetch at (UTC)",
        "requirement",
        "game",
        "tip-off (UTC)",
        "games served",
        "credits",
    ]);
    for f in &o.fetches {
        t.add_row(vec![
            time(f.at),
            f.requirement.to_string(),
            f.matchup.clone(),
            time(f.commence_time),
            f.games_served.to_string(),
            o.credits_of(f).to_string(),
        ]);
    }
    if o.fetches.is_empty() {
        println!(
            "no fetch planned before {} (policy {})",
            time(o.until),
            o.policy
        );
    } else {
        println!("{t}");
        println!(
            "{} fetches, {} credits before {} (policy {}, {} credits a fetch)",
            o.fetches.len(),
            o.fetches.iter().map(|f| o.credits_of(f)).sum::<i64>(),
            time(o.until),
            o.policy,
            o.credits_per_fetch
        );
    }
    let m = &o.month;
    let budget = o
        .monthly_budget
        .map_or("no budget set".to_string(), |b| format!("budget {b}"));
    println!(
        "this billing month ({} to {}): {} spent + {} planned for the listed games + {} at that rate for the days not listed yet = {} projected ({budget})",
        m.month_start.format("%Y-%m-%d"),
        m.month_end.format("%Y-%m-%d"),
        m.spent,
        m.planned_credits,
        m.extrapolated_credits,
        m.total()
    );
    if !o.dropped.is_empty() {
        let dropped: Vec<String> = o.dropped.iter().map(|r| r.to_string()).collect();
        println!("dropped to fit the budget: {}", dropped.join(", "));
    }
    println!(
        "season to {}: {} spent, about {} projected at this month's rate",
        (o.season_end - chrono::Duration::days(1)).format("%Y-%m-%d"),
        o.season_spent,
        o.season_projected
    );
    Ok(())
}
