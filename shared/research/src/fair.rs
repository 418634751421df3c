//! Fair (no-vig) probabilities of a market's outcomes from its prices.
//!
//! With `π_i` the implied probability of outcome `i` (vig included), `Σπ = 1 + M` (`M` the
//! margin) and `n` outcomes:
//! - multiplicative: `p_i = π_i / Σπ`;
//! - additive: `p_i = π_i − M/n` (can leave [0, 1] on long shots: then it does not apply);
//! - power: `p_i = π_i^k`, `k` such that `Σp = 1`;
//! - Shin: `p_i = (sqrt(z² + 4(1−z)·π_i²/Σπ) − z) / (2(1−z))`, `z` such that `Σp = 1`; on a
//!   two-way market this equals additive;
//! - odds ratio: `p_i = π_i / (c + π_i − c·π_i)`, `c` such that `Σp = 1`.
//!
//! The three solved methods find their parameter by bisection: each sum is monotone in it.

use odds_core::price::implied_probability;
use serde::{Deserialize, Serialize};

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
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum FairMethod {
    Multiplicative,
    Additive,
    Power,
    Shin,
    OddsRatio,
}

odds_core::named!(FairMethod, "fair-price method");

/// The fair probabilities of a market's outcomes, in the order of `american_prices`. `None`
/// with fewer than two outcomes, a price that is not American, or a method that does not apply
/// (additive beyond [0, 1], no root found).
pub fn fair_probabilities(american_prices: &[f64], method: FairMethod) -> Option<Vec<f64>> {
    if american_prices.len() < 2 {
        return None;
    }
    let implied: Vec<f64> = american_prices
        .iter()
        .map(|p| implied_probability(*p))
        .collect::<Option<_>>()?;
    let total: f64 = implied.iter().sum();
    let n = implied.len() as f64;
    let fair: Vec<f64> = match method {
        FairMethod::Multiplicative => implied.iter().map(|p| p / total).collect(),
        FairMethod::Additive => {
            let margin = total - 1.0;
            implied.iter().map(|p| p - margin / n).collect()
        }
        FairMethod::Power => {
            // Σ π^k falls as k grows (every π is below 1).
            let k = solve(
                |k| implied.iter().map(|p| p.powf(k)).sum::<f64>() - 1.0,
                1e-6,
                100.0,
            )?;
            implied.iter().map(|p| p.powf(k)).collect()
        }
        FairMethod::Shin => {
            let shin = |z: f64| -> Vec<f64> {
                implied
                    .iter()
                    .map(|p| {
                        ((z * z + 4.0 * (1.0 - z) * p * p / total).sqrt() - z) / (2.0 * (1.0 - z))
                    })
                    .collect()
            };
            let z = solve(|z| shin(z).iter().sum::<f64>() - 1.0, -0.999, 0.999)?;
            shin(z)
        }
        FairMethod::OddsRatio => {
            let ratio =
                |c: f64| -> Vec<f64> { implied.iter().map(|p| p / (c + p - c * p)).collect() };
            let c = solve(|c| ratio(c).iter().sum::<f64>() - 1.0, 1e-6, 1e6)?;
            ratio(c)
        }
    };
    fair.iter().all(|p| (0.0..=1.0).contains(p)).then_some(fair)
}

/// A root of `f` in `[lo, hi]` by bisection, when `f` changes sign there.
fn solve(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> Option<f64> {
    let (mut f_lo, f_hi) = (f(lo), f(hi));
    if !f_lo.is_finite() || !f_hi.is_finite() || f_lo.signum() == f_hi.signum() {
        return (f_lo == 0.0).then_some(lo).or((f_hi == 0.0).then_some(hi));
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let f_mid = f(mid);
        if f_mid == 0.0 || (hi - lo) < 1e-15 {
            return Some(mid);
        }
        if f_mid.signum() == f_lo.signum() {
            lo = mid;
            f_lo = f_mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    fn fair(prices: &[f64], method: FairMethod) -> Vec<f64> {
        fair_probabilities(prices, method).unwrap()
    }

    #[test]
    fn every_method_takes_an_even_market_to_one_half() {
        for &method in FairMethod::VARIANTS {
            assert!(
                close(&fair(&[-110.0, -110.0], method), &[0.5, 0.5]),
                "{method}"
            );
        }
    }

    #[test]
    fn a_favourite_and_an_underdog_by_hand() {
        // -150 implies 150/250 = 0.6, +130 implies 100/230; the margin is 0.0347826...
        let (fav, dog) = (0.6, 100.0 / 230.0);
        let total = fav + dog;
        let margin = total - 1.0;
        let prices = [-150.0, 130.0];
        assert!(close(
            &fair(&prices, FairMethod::Multiplicative),
            &[fav / total, dog / total]
        ));
        assert!(close(
            &fair(&prices, FairMethod::Additive),
            &[fav - margin / 2.0, dog - margin / 2.0]
        ));
        // Power: 0.6^k + (10/23)^k = 1 at k = 1.05297; it gives the favourite more than
        // normalizing does (the favourite-longshot correction).
        let power = fair(&prices, FairMethod::Power);
        assert!(close(
            &power,
            &[0.583_982_635_036_359_5, 0.416_017_364_963_640_5]
        ));
        assert!(power[0] > fav / total);
        // Odds ratio: c = 1.07417.
        let ratio = fair(&prices, FairMethod::OddsRatio);
        assert!(close(
            &ratio,
            &[0.582_711_574_340_111_6, 0.417_288_425_659_888_5]
        ));
    }

    #[test]
    fn on_two_way_markets_shin_equals_additive() {
        for prices in [
            [-150.0, 130.0],
            [-110.0, -110.0],
            [-400.0, 310.0],
            [-105.0, -115.0],
        ] {
            assert!(
                close(
                    &fair(&prices, FairMethod::Shin),
                    &fair(&prices, FairMethod::Additive)
                ),
                "{prices:?}"
            );
        }
    }

    #[test]
    fn three_way_markets_sum_to_one_and_shin_differs_from_additive() {
        let prices = [110.0, 240.0, 260.0];
        for &method in FairMethod::VARIANTS {
            let p = fair(&prices, method);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{method}");
        }
        assert!(close(
            &fair(&prices, FairMethod::Shin),
            &[
                0.458_665_715_961_335_65,
                0.278_737_637_132_790_4,
                0.262_596_646_905_874_1
            ]
        ));
        assert!(!close(
            &fair(&prices, FairMethod::Shin),
            &fair(&prices, FairMethod::Additive)
        ));
        // Odds ratio on -110/-110 by hand: c = (π/(1-π)) / (p/(1-p)) = 1.1.
        let pi: f64 = 110.0 / 210.0;
        assert!((pi / (1.1 + pi - 1.1 * pi) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn what_cannot_be_priced_is_none() {
        assert_eq!(
            fair_probabilities(&[-110.0], FairMethod::Multiplicative),
            None
        );
        assert_eq!(fair_probabilities(&[-110.0, 50.0], FairMethod::Power), None);
        // A heavy favourite and a long shot with a big margin: additive goes below zero.
        assert_eq!(
            fair_probabilities(&[-5000.0, 1000.0, 100_000.0], FairMethod::Additive),
            None
        );
        assert!(fair_probabilities(&[-5000.0, 1000.0, 100_000.0], FairMethod::Power).is_some());
        assert_eq!(
            "odds-ratio".parse::<FairMethod>(),
            Ok(FairMethod::OddsRatio)
        );
        assert!(
            "logit"
                .parse::<FairMethod>()
                .unwrap_err()
                .to_string()
                .contains("shin")
        );
    }
}
