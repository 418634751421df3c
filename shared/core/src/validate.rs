//! The data-quality checks of every stored snapshot. Pure: given a snapshot, the previous lines of the same game
//! and the configured books, it flags rows (`is_valid`, `validation_notes`) and returns the issues
//! to log. Nothing is dropped here; whether flagged data is stored is the caller's policy.

use std::collections::{BTreeMap, HashMap};

use chrono::Duration;
use serde_json::json;

use crate::model::{IssueKind, Market, MarketKey, OddsRow, QualityIssue, Severity, Snapshot};
use crate::price::overround;

/// The latest stored point of each (book, market, outcome) of one game before a snapshot.
pub type PreviousLines = HashMap<(String, MarketKey, String), f64>;

#[derive(Debug, Clone, PartialEq)]
pub struct ValidationRules {
    pub min_price: f64,
    pub max_price: f64,
    pub min_vig: f64,
    pub max_vig: f64,
    pub max_spread_move: f64,
    pub max_total_move: f64,
    /// Book clocks drift; a `last_update` this far past the snapshot time is tolerated.
    pub clock_tolerance: Duration,
    /// The books asked for; others are stored but reported.
    pub bookmakers: Vec<String>,
    /// The markets asked for (featured and per-event); others are stored but reported.
    pub markets: Vec<String>,
}

impl Default for ValidationRules {
    fn default() -> Self {
        ValidationRules {
            min_price: -10_000.0,
            max_price: 10_000.0,
            min_vig: 0.02,
            max_vig: 0.15,
            max_spread_move: 10.0,
            max_total_move: 20.0,
            clock_tolerance: Duration::seconds(60),
            bookmakers: crate::model::DEFAULT_BOOKMAKERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            markets: crate::model::Market::ALL
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
        }
    }
}

pub struct Validator {
    pub rules: ValidationRules,
}

impl Validator {
    pub fn new(rules: ValidationRules) -> Validator {
        Validator { rules }
    }

    /// Flags the snapshot's rows in place and returns one issue per problem found.
    pub fn validate(&self, snapshot: &mut Snapshot, previous: &PreviousLines) -> Vec<QualityIssue> {
        let mut checker = Checker {
            rules: &self.rules,
            event_id: snapshot.event.id.clone(),
            issues: Vec::new(),
        };
        let home = snapshot.event.home_team.clone();
        let away = snapshot.event.away_team.clone();
        let taken_at = snapshot.snapshot_time;

        for row in &mut snapshot.odds {
            checker.price(row);
            if let Some(updated) = row.last_update
                && updated > taken_at + self.rules.clock_tolerance
            {
                checker.flag(
                    row,
                    Severity::Warning,
                    IssueKind::FutureTimestamp,
                    format!("last_update {updated} is after the snapshot time {taken_at}"),
                );
            }
            let market = row.market_key.featured();
            if matches!(market, Some(Market::Spreads | Market::Totals)) && row.point.is_none() {
                checker.flag(
                    row,
                    Severity::Error,
                    IssueKind::MissingField,
                    format!(
                        "{} outcome '{}' has no point",
                        row.market_key, row.outcome_name
                    ),
                );
            }
            checker.movement(row, market, previous);
        }

        // Market-level checks see the rows of one (book, market) together.
        let mut groups: BTreeMap<(String, MarketKey), Vec<usize>> = BTreeMap::new();
        for (i, row) in snapshot.odds.iter().enumerate() {
            groups
                .entry((row.bookmaker_key.clone(), row.market_key.clone()))
                .or_default()
                .push(i);
        }
        let mut reported_books = Vec::new();
        let mut reported_markets = Vec::new();
        for ((book, market_key), indices) in groups {
            if !self.rules.bookmakers.contains(&book) && !reported_books.contains(&book) {
                checker.issue(
                    Severity::Warning,
                    IssueKind::UnknownBookmaker,
                    format!("bookmaker '{book}' was not asked for; its rows are stored"),
                    json!({ "bookmaker": book }),
                );
                reported_books.push(book.clone());
            }
            // Checks that assume two teams (or Over and Under on one line) fit the featured
            // markets only: alternate lines, periods and props are checked row by row.
            let Some(market) = market_key.featured() else {
                let asked = self.rules.markets.iter().any(|m| *m == market_key.as_str());
                if !asked && !reported_markets.contains(&market_key) {
                    checker.issue(
                        Severity::Warning,
                        IssueKind::UnknownMarket,
                        format!("market '{market_key}' from {book} was not asked for; its rows are stored"),
                        json!({ "bookmaker": book, "market": market_key }),
                    );
                    reported_markets.push(market_key.clone());
                }
                continue;
            };
            let mut rows: Vec<&mut OddsRow> = snapshot
                .odds
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| indices.contains(i))
                .map(|(_, r)| r)
                .collect();
            checker.outcomes(&mut rows, market, &home, &away);
            checker.vig(&mut rows, market);
        }
        checker.issues
    }
}

struct Checker<'a> {
    rules: &'a ValidationRules,
    event_id: String,
    issues: Vec<QualityIssue>,
}

impl Checker<'_> {
    fn issue(
        &mut self,
        severity: Severity,
        kind: IssueKind,
        description: String,
        context: serde_json::Value,
    ) {
        self.issues.push(QualityIssue::new(
            Some(&self.event_id),
            severity,
            kind,
            description,
            context,
        ));
    }

    fn flag(
        &mut self,
        row: &mut OddsRow,
        severity: Severity,
        kind: IssueKind,
        description: String,
    ) {
        row.flag(kind.as_str());
        let context = json!({
            "bookmaker": row.bookmaker_key, "market": row.market_key,
            "outcome": row.outcome_name, "price": row.price, "point": row.point,
        });
        self.issue(severity, kind, description, context);
    }

    fn flag_all(
        &mut self,
        rows: &mut [&mut OddsRow],
        severity: Severity,
        kind: IssueKind,
        description: String,
    ) {
        for row in rows.iter_mut() {
            row.flag(kind.as_str());
        }
        let first = &rows[0];
        let context = json!({
            "bookmaker": first.bookmaker_key, "market": first.market_key,
            "outcomes": rows.iter().map(|r| json!({"name": r.outcome_name, "price": r.price, "point": r.point})).collect::<Vec<_>>(),
        });
        self.issue(severity, kind, description, context);
    }

    fn price(&mut self, row: &mut OddsRow) {
        let p = row.price;
        let bad = !p.is_finite()
            || p < self.rules.min_price
            || p > self.rules.max_price
            || (p > -100.0 && p < 100.0);
        if bad {
            self.flag(
                row,
                Severity::Error,
                IssueKind::PriceOutOfRange,
                format!(
                    "{} {} '{}' price {p} is not an American price within {}..{}",
                    row.bookmaker_key,
                    row.market_key,
                    row.outcome_name,
                    self.rules.min_price,
                    self.rules.max_price
                ),
            );
        }
    }

    fn movement(&mut self, row: &mut OddsRow, market: Option<Market>, previous: &PreviousLines) {
        let limit = match market {
            Some(Market::Spreads) => self.rules.max_spread_move,
            Some(Market::Totals) => self.rules.max_total_move,
            _ => return,
        };
        let Some(point) = row.point else { return };
        let key = (
            row.bookmaker_key.clone(),
            row.market_key.clone(),
            row.outcome_name.clone(),
        );
        if let Some(before) = previous.get(&key)
            && (point - before).abs() > limit
        {
            self.flag(
                row,
                Severity::Warning,
                IssueKind::ExcessiveLineMovement,
                format!(
                    "{} {} '{}' moved from {before} to {point} since the previous snapshot (limit {limit})",
                    row.bookmaker_key, row.market_key, row.outcome_name
                ),
            );
        }
    }

    fn outcomes(&mut self, rows: &mut [&mut OddsRow], market: Market, home: &str, away: &str) {
        let mut names: Vec<&str> = rows.iter().map(|r| r.outcome_name.as_str()).collect();
        names.sort_unstable();
        let mut expected = match market {
            // Soccer and the like price a three-way moneyline.
            Market::H2h if rows.len() == 3 => vec![home, away, "Draw"],
            Market::H2h | Market::Spreads => vec![home, away],
            Market::Totals => vec!["Over", "Under"],
        };
        expected.sort_unstable();
        let problem = if names != expected {
            Some(format!("outcomes {names:?}, expected {expected:?}"))
        } else {
            let points: Vec<Option<f64>> = rows.iter().map(|r| r.point).collect();
            match (market, points.as_slice()) {
                (Market::Totals, [Some(a), Some(b)]) if a != b => Some(format!(
                    "Over and Under have different points ({a} and {b})"
                )),
                (Market::Spreads, [Some(a), Some(b)]) if (a + b).abs() > 1e-9 => Some(format!(
                    "the two handicaps ({a} and {b}) do not mirror each other"
                )),
                _ => None,
            }
        };
        if let Some(problem) = problem {
            let book = rows[0].bookmaker_key.clone();
            self.flag_all(
                rows,
                Severity::Error,
                IssueKind::OutcomeMismatch,
                format!("{book} {market}: {problem}"),
            );
        }
    }

    fn vig(&mut self, rows: &mut [&mut OddsRow], market: Market) {
        if !(2..=3).contains(&rows.len()) {
            return;
        }
        let prices: Vec<f64> = rows.iter().map(|r| r.price).collect();
        let Some(vig) = overround(&prices) else {
            return; // a price that is not American is already flagged
        };
        if vig < self.rules.min_vig || vig > self.rules.max_vig {
            let book = rows[0].bookmaker_key.clone();
            self.flag_all(
                rows,
                Severity::Warning,
                IssueKind::VigOutOfRange,
                format!(
                    "{book} {market} margin {:.2}% is outside {:.0}%..{:.0}%",
                    vig * 100.0,
                    self.rules.min_vig * 100.0,
                    self.rules.max_vig * 100.0
                ),
            );
        }
    }
}

/// Whether a snapshot must be held back under `REJECT_INVALID_ODDS`.
pub fn is_rejectable(snapshot: &Snapshot, issues: &[QualityIssue]) -> bool {
    snapshot.odds.iter().any(|r| !r.is_valid)
        || issues.iter().any(|i| {
            i.severity >= Severity::Error && i.event_id.as_deref() == Some(&snapshot.event.id)
        })
}
