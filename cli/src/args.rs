//! Command-line arguments. Times accept RFC 3339 (`2026-01-10T18:00:00Z`), a date
//! (`2026-01-10`, midnight UTC) or `2026-01-10 18:00` (UTC).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::{Parser, Subcommand};
use odds_core::EventStatus;
use odds_research::backtest::Choice;
use odds_research::fair::FairMethod;

#[derive(Debug, Parser)]
#[command(
    name = "odds",
    version,
    about = "NBA odds pipeline: database and research commands"
)]
pub struct Cli {
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log at debug level (by default only warnings and errors are logged).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the database migrations to DATABASE_URL (a no-op when up to date).
    Migrate,
    /// The collector at a glance: each job's next and last run, credits, games by status.
    Status,
    /// The coming `/odds` fetches (time, requirement, games, credits) and the credits they
    /// project for this month and the season, before anything is spent.
    Plan {
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i64).range(1..=60))]
        days: i64,
    },
    /// Games whose tip-off falls in [from, to).
    Events {
        #[arg(long, value_parser = parse_time)]
        from: DateTime<Utc>,
        /// Defaults to one day after --from.
        #[arg(long, value_parser = parse_time)]
        to: Option<DateTime<Utc>>,
        #[arg(long, value_parser = parse_named::<EventStatus>)]
        status: Option<EventStatus>,
    },
    /// Every book's line as of a moment (never anything fetched later).
    Odds {
        event_id: String,
        /// Defaults to now.
        #[arg(long, value_parser = parse_time)]
        at: Option<DateTime<Utc>>,
        #[arg(long, value_parser = ["h2h", "spreads", "totals"])]
        market: Option<String>,
    },
    /// One book's prices for one market over time.
    Movement {
        event_id: String,
        #[arg(long)]
        book: String,
        #[arg(long, value_parser = ["h2h", "spreads", "totals"])]
        market: String,
    },
    /// The best price per outcome across books.
    Best {
        event_id: String,
        #[arg(long, value_parser = ["h2h", "spreads", "totals"])]
        market: String,
        #[arg(long, value_parser = parse_time)]
        at: Option<DateTime<Utc>>,
    },
    /// Snapshots per fetch tier for a game, or for every game of a US Eastern game day with
    /// its missing tiers, closing capture and final score.
    Coverage {
        #[arg(required_unless_present = "date", conflicts_with = "date")]
        event_id: Option<String>,
        #[arg(long, value_parser = parse_day)]
        date: Option<NaiveDate>,
    },
    /// Is the collector healthy? Exit 0 (ok), 1 (warning) or 2 (critical), for cron and
    /// monitoring.
    Health,
    /// Each book's closing line (its last price at or before tip-off) of the games of US
    /// Eastern game days, with the fair closing probability of each outcome.
    Closing {
        #[command(flatten)]
        days: ClosingDays,
        #[arg(long)]
        market: Option<String>,
        /// Show this book's lines only.
        #[arg(long)]
        book: Option<String>,
        /// multiplicative, additive, power, shin or odds-ratio.
        #[arg(long, default_value = "multiplicative", value_parser = parse_named::<FairMethod>)]
        method: FairMethod,
        /// The books whose no-vig close is the fair price, first that quotes the line, or
        /// `consensus` (the mean of every book's).
        #[arg(long, default_value = "pinnacle,circasports")]
        reference: String,
    },
    /// Closing-line value of your own bets: each bet of a CSV file against the fair close at
    /// its own number, and whether you beat the market on the whole.
    Clv {
        /// Columns: event_id (or date, home_team, away_team), market, outcome, point, price,
        /// book, placed_at, and optionally stake.
        #[arg(long)]
        bets: std::path::PathBuf,
        #[arg(long, default_value = "multiplicative", value_parser = parse_named::<FairMethod>)]
        method: FairMethod,
        #[arg(long, default_value = "pinnacle,circasports")]
        reference: String,
        /// Write the bets back here with their close and CLV added.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Replays a betting strategy over stored games: only lines seen by each decision time,
    /// stakes from each night's opening bankroll, every bet with its CLV.
    Backtest(BacktestArgs),
    /// A stored table as Parquet or CSV files, one per sport and UTC month
    /// (`OUT/odds/sport=basketball_nba/month=2026-01/part-0.parquet`), for DuckDB, pandas or
    /// Athena.
    Export {
        /// odds, snapshots, events, closing or fetch_logs.
        #[arg(long, value_parser = parse_named::<odds_export::Table>)]
        table: odds_export::Table,
        /// The first month to export is the one of this day.
        #[arg(long, value_parser = parse_day)]
        from: NaiveDate,
        /// The last month to export is the one of this day.
        #[arg(long, value_parser = parse_day)]
        to: NaiveDate,
        /// parquet or csv.
        #[arg(long, default_value = "parquet", value_parser = parse_named::<odds_export::Format>)]
        format: odds_export::Format,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Charts as SVG or PNG (by the file's extension).
    #[command(subcommand)]
    Chart(Chart),
    /// History: games, archived odds and final scores of past days.
    #[command(subcommand)]
    Backfill(Backfill),
    /// Data-quality issues: counts by kind and the latest entries.
    Quality {
        /// Defaults to 24 hours ago.
        #[arg(long, value_parser = parse_time)]
        since: Option<DateTime<Utc>>,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum Chart {
    /// Every chosen book's line of a game over time (the home spread, the total, or the home
    /// moneyline), with tip-off and the tier boundaries marked and each close labelled.
    Movement {
        event_id: String,
        #[arg(long, value_parser = ["h2h", "spreads", "totals"])]
        market: String,
        /// Defaults to every book that priced the market.
        #[arg(long, value_delimiter = ',')]
        books: Vec<String>,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// A backtest's bankroll night by night, from `odds --json backtest ... > REPORT.json`.
    Equity {
        report: std::path::PathBuf,
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

/// `odds backfill ...`: days are US Eastern game days, both ends included.
#[derive(Debug, Subcommand)]
pub enum Backfill {
    /// Archived odds (historical `/odds`, 10 credits per market and region) at the moments
    /// that meet a policy's requirements, or at fixed hours before each tip-off, with the
    /// fewest calls; games are discovered first (historical `/events`, 1 credit a day).
    Odds {
        #[command(flatten)]
        range: DayArgs,
        /// The requirements to meet (default: COLLECTION_POLICY).
        #[arg(long, value_parser = ["standard", "economy"], conflicts_with = "hours_before")]
        policy: Option<String>,
        /// Snapshots at these hours before each tip-off instead, e.g. 72,24,12,3,0.5.
        #[arg(long)]
        hours_before: Option<String>,
        #[command(flatten)]
        spend: SpendArgs,
    },
    /// Stored games missing tier windows, filled closing first, then pregame, sharp, early
    /// and opening, within the credit cap.
    Gaps {
        #[command(flatten)]
        range: DayArgs,
        #[command(flatten)]
        spend: SpendArgs,
    },
    /// Games of past days from the archive's `/events` (1 credit a day): added or updated,
    /// never a final game made scheduled again, never a score touched.
    Events {
        #[command(flatten)]
        range: DayArgs,
        #[command(flatten)]
        spend: SpendArgs,
    },
    /// Final scores from NBA.com (free), matched to the stored games.
    Scores {
        #[command(flatten)]
        range: DayArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct DayArgs {
    /// First game day (US Eastern), e.g. 2024-01-10.
    #[arg(long, value_parser = parse_day)]
    pub from: NaiveDate,
    /// Last game day, included.
    #[arg(long, value_parser = parse_day)]
    pub to: NaiveDate,
    /// Defaults to the first of SPORTS.
    #[arg(long)]
    pub sport: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct SpendArgs {
    /// Never spend more than this many credits.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    pub max_credits: Option<i64>,
    /// Print the plan and spend nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Spend without asking.
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    #[arg(long, value_parser = ["flat", "ev", "arbitrage", "closing"])]
    pub strategy: String,
    #[command(flatten)]
    pub days: ClosingDays,
    /// flat and closing: home, away, favourite, underdog, over or under.
    #[arg(long, default_value = "home", value_parser = parse_named::<Choice>)]
    pub side: Choice,
    /// ev: the least expected return per unit staked.
    #[arg(long, default_value_t = 0.02)]
    pub min_edge: f64,
    #[arg(long, value_parser = ["h2h", "spreads", "totals"])]
    pub market: Option<String>,
    /// The book bet at.
    #[arg(long)]
    pub book: Option<String>,
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(0..=10_080))]
    pub decision_minutes_before: i64,
    #[arg(long, default_value = "flat", value_parser = ["flat", "percent", "kelly"])]
    pub sizing: String,
    /// flat: the stake of every bet.
    #[arg(long, default_value_t = 100.0)]
    pub stake: f64,
    /// percent: the share of the night's opening bankroll a bet stakes.
    #[arg(long, default_value_t = 0.01)]
    pub percent: f64,
    #[arg(long, default_value_t = 0.25)]
    pub kelly_fraction: f64,
    /// kelly: the most one bet stakes, as a share of the bankroll.
    #[arg(long, default_value_t = 0.05)]
    pub kelly_cap: f64,
    #[arg(long, default_value_t = 10_000.0)]
    pub bankroll: f64,
    /// The most a night stakes, as a share of its opening bankroll.
    #[arg(long, default_value_t = 0.25)]
    pub max_night_exposure: f64,
    #[arg(long, default_value = "multiplicative", value_parser = parse_named::<FairMethod>)]
    pub method: FairMethod,
    #[arg(long, default_value = "pinnacle,circasports")]
    pub reference: String,
    /// Also write one row per bet here.
    #[arg(long)]
    pub csv: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ClosingDays {
    /// First game day (US Eastern).
    #[arg(long, value_parser = parse_day)]
    pub from: NaiveDate,
    /// Last game day, included; defaults to --from.
    #[arg(long, value_parser = parse_day)]
    pub to: Option<NaiveDate>,
}

impl ClosingDays {
    /// The first moment of the first day and the first after the last, in UTC.
    pub fn bounds(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
        let to = self.to.unwrap_or(self.from);
        if to < self.from {
            return Err(format!("--to {to} is before --from {}", self.from));
        }
        Ok((
            odds_core::time::eastern_midnight_utc(self.from),
            odds_core::time::eastern_midnight_utc(to + chrono::Days::new(1)),
        ))
    }
}

/// Any of the domain's named enums (`odds_core::named!`), its error listing the choices.
fn parse_named<T>(s: &str) -> Result<T, String>
where
    T: std::str::FromStr<Err = odds_core::names::ParseEnumError>,
{
    s.parse()
        .map_err(|e: odds_core::names::ParseEnumError| e.to_string())
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date (use 2024-01-10)"))
}

pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!(
        "'{s}' is not a time (use 2026-01-10, '2026-01-10 18:00' or 2026-01-10T18:00:00Z)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_accepted_form() {
        let want: DateTime<Utc> = "2026-01-10T18:00:00Z".parse().unwrap();
        for s in [
            "2026-01-10T18:00:00Z",
            "2026-01-10T13:00:00-05:00",
            "2026-01-10 18:00",
            "2026-01-10T18:00",
        ] {
            assert_eq!(parse_time(s).unwrap(), want, "{s}");
        }
        assert_eq!(
            parse_time("2026-01-10").unwrap(),
            want - chrono::Duration::hours(18)
        );
        assert!(parse_time("yesterday").unwrap_err().contains("yesterday"));
    }
}
