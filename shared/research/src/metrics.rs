//! Backtest metrics. ROI on turnover (profit over total staked, the "yield") and the return on
//! the starting bankroll are different numbers, and both are reported under their own names.

use serde::Serialize;

/// Profit over total staked; `None` when nothing was staked.
pub fn roi_on_turnover(profit: f64, turnover: f64) -> Option<f64> {
    (turnover > 0.0).then(|| profit / turnover)
}

/// Profit over the starting bankroll.
pub fn return_on_bankroll(profit: f64, starting_bankroll: f64) -> Option<f64> {
    (starting_bankroll > 0.0).then(|| profit / starting_bankroll)
}

/// The largest fall from a peak of a bankroll curve, as a share of that peak.
pub fn max_drawdown(curve: &[f64]) -> f64 {
    let mut peak = f64::NEG_INFINITY;
    let mut worst: f64 = 0.0;
    for &value in curve {
        peak = peak.max(value);
        if peak > 0.0 {
            worst = worst.max((peak - value) / peak);
        }
    }
    worst
}

/// Sharpe ratio of daily returns (each day's profit over its opening bankroll, days without
/// bets included as zeros), annualized by √365; `None` below two days or without variation.
pub fn sharpe_daily(daily_returns: &[f64]) -> Option<f64> {
    let n = daily_returns.len();
    if n < 2 {
        return None;
    }
    let mean = daily_returns.iter().sum::<f64>() / n as f64;
    let variance = daily_returns
        .iter()
        .map(|r| (r - mean).powi(2))
        .sum::<f64>()
        / (n - 1) as f64;
    let sd = variance.sqrt();
    (sd > 0.0).then(|| mean / sd * 365f64.sqrt())
}

/// Wins, losses and pushes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Record {
    pub wins: usize,
    pub losses: usize,
    pub pushes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        assert_eq!(roi_on_turnover(50.0, 1000.0), Some(0.05));
        assert_eq!(return_on_bankroll(50.0, 500.0), Some(0.1));
        assert_eq!(roi_on_turnover(0.0, 0.0), None);
        // 100 -> 120 -> 90 -> 130 -> 104: the worst fall is 120 -> 90 (25%), then 130 -> 104 (20%).
        assert!((max_drawdown(&[100.0, 120.0, 90.0, 130.0, 104.0]) - 0.25).abs() < 1e-12);
        assert_eq!(max_drawdown(&[100.0, 110.0]), 0.0);
        // Returns 1%, -1%, 1%, -1%: mean 0 -> Sharpe 0.
        assert_eq!(sharpe_daily(&[0.01, -0.01, 0.01, -0.01]), Some(0.0));
        // 2% and 0%: mean 1%, sd sqrt(0.0002) = 1.4142%.
        let s = sharpe_daily(&[0.02, 0.0]).unwrap();
        assert!((s - 0.01 / 0.0002f64.sqrt() * 365f64.sqrt()).abs() < 1e-9);
        assert_eq!(sharpe_daily(&[0.01, 0.01]), None);
    }
}
