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
