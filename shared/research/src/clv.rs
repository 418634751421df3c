//! Closing-line value: how the price taken compares with the close.
//!
//! - probability form: the fair closing probability of the outcome bet, minus the break-even
//!   probability of the price taken (`1/O`); positive beats the close;
//! - price form: `O_taken / O_close − 1`, against a closing decimal price.
//!
//! The expected return of a bet is about `O_taken · p_fair_close − 1`.

use odds_core::price::{american_to_decimal, implied_probability};
use serde::Serialize;

/// Fair closing probability minus the break-even probability of the price taken.
pub fn clv_probability(fair_close: f64, american_taken: f64) -> Option<f64> {
    Some(fair_close - implied_probability(american_taken)?)
}

/// The decimal price taken over the closing decimal price, minus one.
pub fn clv_price(american_taken: f64, american_close: f64) -> Option<f64> {
    Some(american_to_decimal(american_taken)? / american_to_decimal(american_close)? - 1.0)
}

/// The expected return per unit staked, if the fair close is the truth.
pub fn expected_return(american_taken: f64, fair_close: f64) -> Option<f64> {
    Some(american_to_decimal(american_taken)? * fair_close - 1.0)
}

/// Many bets' CLV at a glance: is the bettor beating the market?
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClvSummary {
    pub bets: usize,
    pub mean: f64,
    /// Share of bets with CLV above zero.
    pub beating_close: f64,
    /// Standard error of the mean (sample standard deviation over √n); `None` below two bets.
    pub std_error: Option<f64>,
    pub t_statistic: Option<f64>,
}

/// The summary of CLV values; `None` for none.
pub fn summarize(values: &[f64]) -> Option<ClvSummary> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let beating = values.iter().filter(|v| **v > 0.0).count() as f64 / n as f64;
    let std_error = (n > 1).then(|| {
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        variance.sqrt() / (n as f64).sqrt()
    });
    Some(ClvSummary {
        bets: n,
        mean,
        beating_close: beating,
        std_error,
        t_statistic: std_error.filter(|se| *se > 0.0).map(|se| mean / se),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // +110 taken when the fair close is 0.5: break-even 100/210.
        let clv = clv_probability(0.5, 110.0).unwrap();
        assert!((clv - (0.5 - 100.0 / 210.0)).abs() < 1e-12);
        // Betting the -110/-110 close itself: fair CLV is minus the margin removed.
        let at_close = clv_probability(0.5, -110.0).unwrap();
        assert!((at_close - (0.5 - 110.0 / 210.0)).abs() < 1e-12);
        assert_eq!(clv_price(-110.0, -110.0), Some(0.0));
        // +120 against a +100 close: 2.2 / 2.0 - 1 = 10%.
        assert!((clv_price(120.0, 100.0).unwrap() - 0.1).abs() < 1e-12);
        assert!((expected_return(120.0, 0.5).unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(clv_probability(0.5, 99.0), None);
    }

    #[test]
    fn the_summary_of_four_bets() {
        let s = summarize(&[0.02, -0.01, 0.03, 0.0]).unwrap();
        assert_eq!(s.bets, 4);
        assert!((s.mean - 0.01).abs() < 1e-12);
        assert_eq!(s.beating_close, 0.5);
        // Deviations 0.01, -0.02, 0.02, -0.01: sum of squares 0.001, over 3, root, over 2.
        let se = (0.001f64 / 3.0).sqrt() / 2.0;
        assert!((s.std_error.unwrap() - se).abs() < 1e-12);
        assert!((s.t_statistic.unwrap() - 0.01 / se).abs() < 1e-9);
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[0.1]).unwrap().std_error, None);
    }
}

/// The close a bet is compared with, at the bet's own number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedClose {
    /// The book whose close it is, and whose no-vig price is the fair one (the reference, or
    /// another book or an alternate line at the bet's number when the reference closed elsewhere).
    pub book: String,
    pub market: String,
    pub point: Option<f64>,
    pub price: f64,
    pub taken_at: chrono::DateTime<chrono::Utc>,
    pub fair_probability: f64,
    /// Fair closing probability minus the bet's break-even probability.
    pub clv: f64,
    /// The decimal price taken over the close's, minus one.
    pub clv_price: f64,
}

/// How a bet compares with the close.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum BetClose {
    Matched(MatchedClose),
    /// No close at the bet's number: the lines it closed at instead, never compared.
    ClosedAtAnotherNumber {
        closes: Vec<(String, Option<f64>, f64)>,
    },
    /// Nothing closed for this outcome at all.
    NoClose,
}

/// The close of a bet on `outcome` (with its `point`) of `market` at an American `price`, among
/// a game's closing lines: the reference's at the bet's number; failing that another book's or
/// the alternate market's at that number; otherwise the other numbers it closed at.
pub fn close_of_bet(
    market: &str,
    outcome: &str,
    point: Option<f64>,
    price: f64,
    closes: &[crate::closing::ClosingLine],
) -> BetClose {
    let alternate = format!("alternate_{market}");
    let at_number = |l: &&crate::closing::ClosingLine, m: &str| {
        l.market == m && l.outcome == outcome && l.point == point && l.description.is_none()
    };
    let matched = closes
        .iter()
        .filter(|l| at_number(l, market))
        .find_map(|l| {
            let reference = l.reference.as_deref()?;
            let p = l.fair_probability?;
            // The price compared with is the reference's own close at this number.
            let own = closes
                .iter()
                .filter(|o| at_number(o, market))
                .find(|o| o.book == reference)
                .unwrap_or(l);
            Some((own, p))
        })
        .or_else(|| {
            [market, alternate.as_str()].iter().find_map(|m| {
                closes
                    .iter()
                    .filter(|l| at_number(l, m))
                    .find_map(|l| l.book_fair_probability.map(|p| (l, p)))
            })
        });
    if let Some((close, fair)) = matched {
        return match (clv_probability(fair, price), clv_price(price, close.price)) {
            (Some(clv), Some(ratio)) => BetClose::Matched(MatchedClose {
                book: close.book.clone(),
                market: close.market.clone(),
                point: close.point,
                price: close.price,
                taken_at: close.taken_at,
                fair_probability: fair,
                clv,
                clv_price: ratio,
            }),
            _ => BetClose::NoClose,
        };
    }
    let elsewhere: Vec<(String, Option<f64>, f64)> = closes
        .iter()
        .filter(|l| l.market == market && l.outcome == outcome && l.description.is_none())
        .map(|l| (l.book.clone(), l.point, l.price))
        .collect();
    if elsewhere.is_empty() {
        BetClose::NoClose
    } else {
        BetClose::ClosedAtAnotherNumber { closes: elsewhere }
    }
}

#[cfg(test)]
mod bet_tests {
    use super::*;
    use crate::closing::ClosingLine;

    fn close(
        book: &str,
        market: &str,
        point: Option<f64>,
        price: f64,
        fair: Option<f64>,
        reference: Option<&str>,
    ) -> ClosingLine {
        ClosingLine {
            event_id: "g".into(),
            book: book.into(),
            market: market.into(),
            outcome: "Boston Celtics".into(),
            description: None,
            point,
            price,
            taken_at: "2026-01-10T23:55:00Z".parse().unwrap(),
            book_fair_probability: fair,
            fair_probability: if reference.is_some() { fair } else { None },
            reference: reference.map(str::to_string),
        }
    }

    #[test]
    fn a_bet_is_compared_at_its_own_number_or_not_at_all() {
        let closes = vec![
            close(
                "pinnacle",
                "spreads",
                Some(-2.5),
                -105.0,
                Some(0.5),
                Some("pinnacle"),
            ),
            close("draftkings", "spreads", Some(-3.5), -110.0, Some(0.5), None),
            close(
                "fanduel",
                "alternate_spreads",
                Some(-4.5),
                120.0,
                Some(0.44),
                None,
            ),
        ];
        // At the reference's number: its fair 0.5 against -110's 110/210, price vs its -105.
        let BetClose::Matched(m) =
            close_of_bet("spreads", "Boston Celtics", Some(-2.5), -110.0, &closes)
        else {
            panic!()
        };
        assert_eq!(m.book, "pinnacle");
        assert!((m.clv - (0.5 - 110.0 / 210.0)).abs() < 1e-12);
        assert!(
            (m.clv_price - ((1.0 + 100.0 / 110.0) / (1.0 + 100.0 / 105.0) - 1.0)).abs() < 1e-12
        );
        // The reference closed at -2.5; DraftKings closed at the bet's -3.5: its no-vig is used.
        let BetClose::Matched(m) =
            close_of_bet("spreads", "Boston Celtics", Some(-3.5), 100.0, &closes)
        else {
            panic!()
        };
        assert_eq!((m.book.as_str(), m.point), ("draftkings", Some(-3.5)));
        // Only an alternate line has -4.5.
        let BetClose::Matched(m) =
            close_of_bet("spreads", "Boston Celtics", Some(-4.5), 125.0, &closes)
        else {
            panic!()
        };
        assert_eq!(m.market, "alternate_spreads");
        assert!((m.clv - (0.44 - 100.0 / 225.0)).abs() < 1e-12);
        // Nobody closed at -6.5: both lines shown, nothing compared.
        match close_of_bet("spreads", "Boston Celtics", Some(-6.5), -110.0, &closes) {
            BetClose::ClosedAtAnotherNumber { closes } => assert_eq!(closes.len(), 2),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            close_of_bet("totals", "Over", Some(220.5), -110.0, &closes),
            BetClose::NoClose
        );
    }
}
