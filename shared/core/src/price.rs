//! Odds maths on American prices.

/// Decimal odds (total return per unit staked) of an American price. `None` for prices that
/// cannot be American (strictly between -100 and +100, or not finite).
pub fn american_to_decimal(american: f64) -> Option<f64> {
    if !american.is_finite() || american.abs() < 100.0 {
        return None;
    }
    Some(if american > 0.0 {
        1.0 + american / 100.0
    } else {
        1.0 + 100.0 / -american
    })
}

/// The American price of decimal odds, rounded to the nearest whole number as books quote it.
pub fn decimal_to_american(decimal: f64) -> Option<f64> {
    if !decimal.is_finite() || decimal <= 1.0 {
        return None;
    }
    Some(if decimal >= 2.0 {
        ((decimal - 1.0) * 100.0).round()
    } else {
        (-100.0 / (decimal - 1.0)).round()
    })
}

/// The probability the price implies, vig included.
pub fn implied_probability(american: f64) -> Option<f64> {
    american_to_decimal(american).map(|d| 1.0 / d)
}

/// The bookmaker's margin on a market: the implied probabilities of its outcomes summed, less
/// one (0.045 for -110/-110).
pub fn overround(american_prices: &[f64]) -> Option<f64> {
    american_prices
        .iter()
        .map(|p| implied_probability(*p))
        .sum::<Option<f64>>()
        .map(|total| total - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn converts_both_signs() {
        assert!(close(
            american_to_decimal(-110.0).unwrap(),
            1.0 + 100.0 / 110.0
        ));
        assert!(close(american_to_decimal(150.0).unwrap(), 2.5));
        assert!(close(american_to_decimal(100.0).unwrap(), 2.0));
        assert_eq!(american_to_decimal(-100.0), Some(2.0));
        assert_eq!(american_to_decimal(50.0), None);
        assert_eq!(american_to_decimal(f64::NAN), None);
        assert_eq!(decimal_to_american(2.5), Some(150.0));
        assert_eq!(decimal_to_american(1.5), Some(-200.0));
        assert_eq!(decimal_to_american(1.0), None);
    }

    #[test]
    fn standard_vig_is_about_four_and_a_half_percent() {
        let vig = overround(&[-110.0, -110.0]).unwrap();
        assert!((vig - 0.0476).abs() < 0.001, "{vig}");
        assert_eq!(overround(&[-110.0, 20.0]), None);
    }
}
