//! Settlement of a bet on a full game (overtime included), and what it pays.
//!
//! - moneyline: the side with more points wins (NBA games do not tie; a tie elsewhere pushes);
//! - spread: each side carries its own point; a side with point `h` wins if its score plus `h`
//!   beats the other's, pushes on equality (only possible on whole numbers), loses otherwise;
//! - total: over wins above the point, under below it, a push on it.

use odds_core::model::Market;
use odds_core::price::american_to_decimal;
use serde::{Deserialize, Serialize};

/// What a bet is on.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Side {
    Home,
    Away,
    Over,
    Under,
}

odds_core::named!(Side, "side");

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Outcome {
    Win,
    Loss,
    Push,
}

odds_core::named!(Outcome, "result");

/// How a bet on `side` of `market`, with its own `point` (spreads and totals), settles on the
/// final score. `None` when the side does not belong to the market or a needed point is missing.
pub fn settle(
    market: Market,
    side: Side,
    point: Option<f64>,
    home_score: i32,
    away_score: i32,
) -> Option<Outcome> {
    let (home, away) = (f64::from(home_score), f64::from(away_score));
    let compare = |ours: f64, theirs: f64| {
        if ours > theirs {
            Outcome::Win
        } else if ours < theirs {
            Outcome::Loss
        } else {
            Outcome::Push
        }
    };
    match (market, side) {
        (Market::H2h, Side::Home) => Some(compare(home, away)),
        (Market::H2h, Side::Away) => Some(compare(away, home)),
        (Market::Spreads, Side::Home) => Some(compare(home + point?, away)),
        (Market::Spreads, Side::Away) => Some(compare(away + point?, home)),
        (Market::Totals, Side::Over) => Some(compare(home + away, point?)),
        (Market::Totals, Side::Under) => Some(compare(point?, home + away)),
        _ => None,
    }
}

/// The profit of a settled bet of `stake` at an American price: the win pays `stake·A/100`
/// (`A > 0`) or `stake·100/|A|` (`A < 0`); a push returns the stake; a loss loses it.
pub fn profit(outcome: Outcome, stake: f64, american: f64) -> Option<f64> {
    american_to_decimal(american)?;
    // From the American price itself: 110 at -110 wins exactly 100.
    let win = if american > 0.0 {
        stake * american / 100.0
    } else {
        stake * 100.0 / -american
    };
    Some(match outcome {
        Outcome::Win => win,
        Outcome::Push => 0.0,
        Outcome::Loss => -stake,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Market::*;
    use Outcome::*;
    use Side::*;

    #[test]
    fn spreads_grade_each_side_by_its_own_point() {
        // Warriors (away) +7.5 lose 100-105: they cover. The original graded this a loss.
        assert_eq!(settle(Spreads, Away, Some(7.5), 105, 100), Some(Win));
        assert_eq!(settle(Spreads, Home, Some(-7.5), 105, 100), Some(Loss));
        // Home -3.5 winning by 4 covers; by 3 it does not.
        assert_eq!(settle(Spreads, Home, Some(-3.5), 104, 100), Some(Win));
        assert_eq!(settle(Spreads, Home, Some(-3.5), 103, 100), Some(Loss));
        // A whole number landing exactly pushes, both ways.
        assert_eq!(settle(Spreads, Home, Some(-3.0), 103, 100), Some(Push));
        assert_eq!(settle(Spreads, Away, Some(3.0), 103, 100), Some(Push));
        // An away favourite: -6 winning by 10.
        assert_eq!(settle(Spreads, Away, Some(-6.0), 90, 100), Some(Win));
        assert_eq!(settle(Spreads, Home, None, 90, 100), None);
    }

    #[test]
    fn moneylines_and_totals() {
        assert_eq!(settle(H2h, Home, None, 101, 99), Some(Win));
        assert_eq!(settle(H2h, Away, None, 101, 99), Some(Loss));
        assert_eq!(settle(Totals, Over, Some(220.5), 111, 110), Some(Win));
        assert_eq!(settle(Totals, Under, Some(220.5), 111, 110), Some(Loss));
        assert_eq!(settle(Totals, Over, Some(221.0), 111, 110), Some(Push));
        assert_eq!(settle(Totals, Under, Some(221.0), 111, 110), Some(Push));
        assert_eq!(settle(Totals, Home, Some(221.0), 111, 110), None);
        assert_eq!(settle(H2h, Over, None, 111, 110), None);
    }

    #[test]
    fn payouts_by_hand() {
        assert_eq!(profit(Win, 110.0, -110.0), Some(100.0));
        assert_eq!(profit(Win, 100.0, 150.0), Some(150.0));
        assert_eq!(profit(Push, 100.0, 150.0), Some(0.0));
        assert_eq!(profit(Loss, 100.0, -110.0), Some(-100.0));
        assert_eq!(profit(Win, 100.0, 50.0), None);
    }
}
