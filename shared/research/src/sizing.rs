//! How much to stake. Bets of one night are decided before any of them settles, so every stake
//! of a night is sized from the night's opening bankroll, and the night's total is capped.

use odds_core::price::american_to_decimal;
use serde::{Deserialize, Serialize};

/// The Kelly fraction of the bankroll for decimal odds `decimal` and win probability `p`:
/// `(p·O − 1) / (O − 1)`, or zero when the edge is not positive.
pub fn kelly_fraction(p: f64, decimal: f64) -> f64 {
    if decimal.is_nan() || decimal <= 1.0 || !(0.0..=1.0).contains(&p) {
        return 0.0;
    }
    ((p * decimal - 1.0) / (decimal - 1.0)).max(0.0)
}

/// A staking rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Sizing {
    /// The same amount on every bet.
    Flat { stake: f64 },
    /// A share of the night's opening bankroll.
    Percent { fraction: f64 },
    /// A fraction of the Kelly stake (a quarter is common), at most `cap` of the bankroll.
    Kelly { fraction: f64, cap: f64 },
}

impl Sizing {
    /// The stake of one bet at an American price, from the night's opening bankroll. `p` is
    /// the strategy's win probability when it has one: then nothing is staked unless the edge
    /// `p·O − 1` is positive, whatever the rule. A strategy without a model of its own (a flat
    /// side, the close) passes `None` and is staked by flat or percent rules; Kelly needs a `p`.
    pub fn stake(&self, bankroll: f64, p: Option<f64>, american: f64) -> f64 {
        let Some(decimal) = american_to_decimal(american) else {
            return 0.0;
        };
        if bankroll <= 0.0 || p.is_some_and(|p| p * decimal - 1.0 <= 0.0) {
            return 0.0;
        }
        match (*self, p) {
            (Sizing::Flat { stake }, _) => stake.min(bankroll),
            (Sizing::Percent { fraction }, _) => bankroll * fraction,
            (Sizing::Kelly { fraction, cap }, Some(p)) => {
                bankroll * (kelly_fraction(p, decimal) * fraction).min(cap)
            }
            (Sizing::Kelly { .. }, None) => 0.0,
        }
    }
}

/// Scales a night's stakes down, all by one factor, so they total at most `max_exposure` of
/// the night's opening bankroll.
pub fn cap_night(stakes: &mut [f64], bankroll: f64, max_exposure: f64) {
    let total: f64 = stakes.iter().sum();
    let limit = bankroll * max_exposure;
    if total > limit && total > 0.0 {
        let factor = limit / total;
        for s in stakes.iter_mut() {
            *s *= factor;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kelly_by_hand() {
        // 55% at +100 (O = 2): (1.1 - 1) / 1 = 10%.
        assert!((kelly_fraction(0.55, 2.0) - 0.1).abs() < 1e-12);
        // 50% at -110 has a negative edge: nothing.
        assert_eq!(kelly_fraction(0.5, 1.0 + 100.0 / 110.0), 0.0);
    }

    #[test]
    fn no_edge_no_bet_whatever_the_rule() {
        for rule in [
            Sizing::Flat { stake: 10.0 },
            Sizing::Percent { fraction: 0.01 },
            Sizing::Kelly {
                fraction: 0.25,
                cap: 0.05,
            },
        ] {
            assert_eq!(rule.stake(1000.0, Some(0.5), -110.0), 0.0, "{rule:?}");
            assert_eq!(rule.stake(1000.0, Some(0.5238), -110.0), 0.0, "{rule:?}");
            assert!(rule.stake(1000.0, Some(0.55), 100.0) > 0.0, "{rule:?}");
        }
        // A quarter Kelly of 10% on 1,000, capped at 2%: 25, then 20.
        let quarter = Sizing::Kelly {
            fraction: 0.25,
            cap: 0.05,
        };
        assert!((quarter.stake(1000.0, Some(0.55), 100.0) - 25.0).abs() < 1e-9);
        let capped = Sizing::Kelly {
            fraction: 0.25,
            cap: 0.02,
        };
        assert!((capped.stake(1000.0, Some(0.55), 100.0) - 20.0).abs() < 1e-9);
        // Without a model: flat and percent stake, Kelly cannot.
        assert_eq!(
            Sizing::Flat { stake: 10.0 }.stake(1000.0, None, -110.0),
            10.0
        );
        assert_eq!(
            Sizing::Percent { fraction: 0.01 }.stake(1000.0, None, -110.0),
            10.0
        );
        assert_eq!(quarter.stake(1000.0, None, -110.0), 0.0);
    }

    #[test]
    fn a_nights_exposure_is_capped_in_proportion() {
        let mut stakes = [30.0, 50.0, 20.0];
        cap_night(&mut stakes, 1000.0, 0.05);
        assert!((stakes.iter().sum::<f64>() - 50.0).abs() < 1e-9);
        assert!((stakes[0] - 15.0).abs() < 1e-9);
        let mut small = [10.0, 10.0];
        cap_night(&mut small, 1000.0, 0.05);
        assert_eq!(small, [10.0, 10.0]);
    }
}
