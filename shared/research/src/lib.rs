//! The research maths, free of I/O: fair (no-vig) probabilities by five methods, settlement of
//! moneylines, spreads and totals, closing-line value, stake sizing and backtest metrics. Each
//! formula is written once, here, and tested on hand-computed cases; prices are American, as
//! stored, and go through `odds_core::price` for decimal odds and implied probabilities.

pub mod backtest;
pub mod closing;
pub mod clv;
pub mod fair;
pub mod metrics;
pub mod settle;
pub mod sizing;
