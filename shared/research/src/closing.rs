//! Closing lines and their fair probabilities.
//!
//! A book's closing line is its last price at or before tip-off (the store's "as of tip-off"
//! read gives exactly that: each book's latest snapshot of each market). The fair closing
//! probability of an outcome comes from a reference: a sharp book's own no-vig close (the first
//! of a list, Pinnacle then Circa by default, that quotes the same line), or the consensus (the
//! mean of every book's no-vig probability for that line). A line whose number the reference
//! did not close at has no fair probability: a different number is a different bet.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use odds_core::model::StoredOdds;
use serde::Serialize;

use crate::fair::{FairMethod, fair_probabilities};

/// Where fair closing probabilities come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    /// The first of these books that closed the same line.
    Books(Vec<String>),
    /// The mean of every book's no-vig probability of the line.
    Consensus,
}

impl Reference {
    /// `pinnacle,circasports` or `consensus`.
    pub fn parse(text: &str) -> Result<Reference, String> {
        let text = text.trim().to_lowercase();
        if text == "consensus" {
            return Ok(Reference::Consensus);
        }
        let books: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_string)
            .collect();
        if books.is_empty() {
            return Err("names no book (use pinnacle,circasports or consensus)".into());
        }
        Ok(Reference::Books(books))
    }

    pub fn default_books() -> Reference {
        Reference::Books(vec!["pinnacle".into(), "circasports".into()])
    }
}

/// One outcome of one book's closing line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosingLine {
    pub event_id: String,
    pub book: String,
    pub market: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub point: Option<f64>,
    /// American.
    pub price: f64,
    /// When the snapshot holding this price was taken.
    pub taken_at: DateTime<Utc>,
    /// This book's own no-vig probability of the outcome.
    pub book_fair_probability: Option<f64>,
    /// The reference's fair closing probability of this outcome at this number.
    pub fair_probability: Option<f64>,
    /// The book the fair probability comes from (`consensus` for the mean of all).
    pub reference: Option<String>,
}

/// The outcomes priced together as one market: a featured market is one per book; for other
/// markets (alternate lines, props) the outcomes of one subject at one number form each.
type Group = (String, String, Option<String>, Option<u64>);

fn group_of(line: &StoredOdds) -> Group {
    let row = &line.row;
    let number = match row.market_key.featured() {
        Some(_) => None,
        None => row.point.map(|p| p.abs().to_bits()),
    };
    (
        row.bookmaker_key.clone(),
        row.market_key.as_str().to_string(),
        row.description.clone(),
        number,
    )
}

/// The same bet at another book: outcome, subject and number.
fn same_line(a: &ClosingLine, b: &ClosingLine) -> bool {
    a.market == b.market
        && a.outcome == b.outcome
        && a.description == b.description
        && a.point == b.point
}

/// Every closing line of one game (the rows read as of tip-off), with fair probabilities.
pub fn closing_lines(
    lines: &[StoredOdds],
    reference: &Reference,
    method: FairMethod,
) -> Vec<ClosingLine> {
    let mut groups: BTreeMap<Group, Vec<&StoredOdds>> = BTreeMap::new();
    for line in lines {
        groups.entry(group_of(line)).or_default().push(line);
    }
    let mut out: Vec<ClosingLine> = Vec::new();
    for rows in groups.values() {
        let prices: Vec<f64> = rows.iter().map(|r| r.row.price).collect();
        let own = fair_probabilities(&prices, method);
        for (i, line) in rows.iter().enumerate() {
            out.push(ClosingLine {
                event_id: line.event_id.clone(),
                book: line.row.bookmaker_key.clone(),
                market: line.row.market_key.as_str().to_string(),
                outcome: line.row.outcome_name.clone(),
                description: line.row.description.clone(),
                point: line.row.point,
                price: line.row.price,
                taken_at: line.snapshot_time,
                book_fair_probability: own.as_ref().map(|p| p[i]),
                fair_probability: None,
                reference: None,
            });
        }
    }
    let fair: Vec<(Option<f64>, Option<String>)> = out
        .iter()
        .map(|line| reference_fair(&out, line, reference))
        .collect();
    for (line, (p, from)) in out.iter_mut().zip(fair) {
        line.fair_probability = p;
        line.reference = from;
    }
    out
}

fn reference_fair(
    all: &[ClosingLine],
    line: &ClosingLine,
    reference: &Reference,
) -> (Option<f64>, Option<String>) {
    match reference {
        Reference::Books(books) => books
            .iter()
            .find_map(|book| {
                all.iter()
                    .find(|o| &o.book == book && same_line(o, line))
                    .and_then(|o| o.book_fair_probability)
                    .map(|p| (Some(p), Some(book.clone())))
            })
            .unwrap_or((None, None)),
        Reference::Consensus => {
            let quotes: Vec<f64> = all
                .iter()
                .filter(|o| same_line(o, line))
                .filter_map(|o| o.book_fair_probability)
                .collect();
            if quotes.is_empty() {
                (None, None)
            } else {
                let mean = quotes.iter().sum::<f64>() / quotes.len() as f64;
                (Some(mean), Some("consensus".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use odds_core::model::{MarketKey, OddsRow};

    fn row(book: &str, market: &str, outcome: &str, price: f64, point: Option<f64>) -> StoredOdds {
        StoredOdds {
            event_id: "g".into(),
            snapshot_time: "2026-01-10T23:55:00Z".parse().unwrap(),
            row: OddsRow {
                bookmaker_key: book.into(),
                bookmaker_title: book.into(),
                market_key: MarketKey::from(market),
                outcome_name: outcome.into(),
                description: None,
                price,
                point,
                last_update: None,
                is_valid: true,
                validation_notes: Vec::new(),
            },
        }
    }

    fn find<'a>(lines: &'a [ClosingLine], book: &str, outcome: &str) -> &'a ClosingLine {
        lines
            .iter()
            .find(|l| l.book == book && l.outcome == outcome)
            .unwrap()
    }

    #[test]
    fn the_reference_books_no_vig_close_prices_every_book_at_the_same_number() {
        let lines = vec![
            row("pinnacle", "spreads", "Home", -105.0, Some(-3.5)),
            row("pinnacle", "spreads", "Away", -105.0, Some(3.5)),
            row("draftkings", "spreads", "Home", -110.0, Some(-3.5)),
            row("draftkings", "spreads", "Away", -110.0, Some(3.5)),
            // FanDuel closed at another number: no fair probability from Pinnacle's line.
            row("fanduel", "spreads", "Home", -110.0, Some(-4.5)),
            row("fanduel", "spreads", "Away", -110.0, Some(4.5)),
            row("pinnacle", "h2h", "Home", -150.0, None),
            row("pinnacle", "h2h", "Away", 130.0, None),
        ];
        let out = closing_lines(
            &lines,
            &Reference::default_books(),
            FairMethod::Multiplicative,
        );
        assert_eq!(out.len(), 8);
        let dk = find(&out, "draftkings", "Home");
        assert_eq!(dk.fair_probability, Some(0.5));
        assert_eq!(dk.reference.as_deref(), Some("pinnacle"));
        assert_eq!(find(&out, "fanduel", "Home").fair_probability, None);
        assert_eq!(
            find(&out, "fanduel", "Home").book_fair_probability,
            Some(0.5)
        );
        let ml = out
            .iter()
            .find(|l| l.market == "h2h" && l.outcome == "Home")
            .unwrap();
        let fav = 0.6 / (0.6 + 100.0 / 230.0);
        assert!((ml.fair_probability.unwrap() - fav).abs() < 1e-12);
        assert_eq!(dk.taken_at, lines[2].snapshot_time);
    }

    #[test]
    fn the_consensus_is_the_mean_of_every_books_no_vig_probability() {
        let lines = vec![
            row("a", "totals", "Over", -110.0, Some(220.5)),
            row("a", "totals", "Under", -110.0, Some(220.5)),
            row("b", "totals", "Over", -120.0, Some(220.5)),
            row("b", "totals", "Under", 100.0, Some(220.5)),
        ];
        let out = closing_lines(&lines, &Reference::Consensus, FairMethod::Multiplicative);
        let b_over = (120.0 / 220.0) / (120.0 / 220.0 + 0.5);
        let over = find(&out, "a", "Over").fair_probability.unwrap();
        assert!((over - (0.5 + b_over) / 2.0).abs() < 1e-12);
        // Without a reference book quoting the market, nothing is fair.
        let none = closing_lines(&lines, &Reference::default_books(), FairMethod::Shin);
        assert!(none.iter().all(|l| l.fair_probability.is_none()));
        assert_eq!(Reference::parse(" Consensus "), Ok(Reference::Consensus));
        assert_eq!(
            Reference::parse("pinnacle, betonlineag"),
            Ok(Reference::Books(vec![
                "pinnacle".into(),
                "betonlineag".into()
            ]))
        );
        assert!(Reference::parse(" , ").is_err());
    }
}
