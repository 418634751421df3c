//! Backtests that can be trusted.
//!
//! - A strategy sees a game's lines as of its decision time and nothing later (the caller reads
//!   them "as of" that moment), plus, for the `closing` baseline alone, the close.
//! - No bet without a positive edge when the strategy has a model; stakes come from the night's
//!   opening bankroll (a night is a US Eastern game day: its bets are decided before any
//!   settles), and a night's total exposure is capped.
//! - Each side is settled by its own point; games not final are reported, not graded.
//! - Every bet carries its CLV against the reference close.
//! - The same data and settings give the same report.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use odds_core::model::Market;
use odds_core::price::american_to_decimal;
use odds_core::time::eastern_date;
use serde::Serialize;

use crate::closing::ClosingLine;
use crate::clv::{BetClose, close_of_bet, summarize};
use crate::metrics::{Record, max_drawdown, return_on_bankroll, roi_on_turnover, sharpe_daily};
use crate::settle::{Outcome, Side, profit, settle};
use crate::sizing::{Sizing, cap_night};

/// One game as a strategy may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct GameData {
    pub event_id: String,
    pub home_team: String,
    pub away_team: String,
    pub commence_time: DateTime<Utc>,
    /// `(home, away)` once final.
    pub final_score: Option<(i32, i32)>,
    pub decision_time: DateTime<Utc>,
    /// Every book's line as of the decision time, with the reference's fair probabilities then.
    pub quotes: Vec<ClosingLine>,
    /// Every book's closing line, with the reference's fair closing probabilities.
    pub closes: Vec<ClosingLine>,
}

/// One leg of a bet: a price at a book.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leg {
    pub market: String,
    pub outcome: String,
    pub point: Option<f64>,
    pub price: f64,
    pub book: String,
    /// When the price was seen (its snapshot's time).
    pub taken_at: DateTime<Utc>,
    /// The leg's share of the opportunity's stake (1 for a single bet).
    pub weight: f64,
}

/// What a strategy would bet on one game.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opportunity {
    pub legs: Vec<Leg>,
    /// The strategy's win probability of a single bet; `None` for a strategy without a model.
    pub probability: Option<f64>,
    /// Expected return per unit staked, when the strategy has a model.
    pub edge: Option<f64>,
}

/// A betting strategy: adding one is one new type implementing this.
pub trait Strategy {
    fn name(&self) -> String;
    fn opportunities(&self, game: &GameData) -> Vec<Opportunity>;
}

/// The side a flat strategy takes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Choice {
    Home,
    Away,
    Favourite,
    Underdog,
    Over,
    Under,
}

odds_core::named!(Choice, "side");

/// Which quotes a strategy may bet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub market: Option<String>,
    pub book: Option<String>,
}

impl Filter {
    /// The lines of `lines` it admits.
    fn pick<'a>(&self, lines: &'a [ClosingLine]) -> Vec<&'a ClosingLine> {
        lines.iter().filter(|l| self.admits(l)).collect()
    }

    fn admits(&self, line: &ClosingLine) -> bool {
        line.description.is_none()
            && Market::from_key(&line.market).is_some()
            && self.market.as_ref().is_none_or(|m| *m == line.market)
            && self.book.as_ref().is_none_or(|b| *b == line.book)
    }
}

fn leg(line: &ClosingLine, weight: f64) -> Leg {
    Leg {
        market: line.market.clone(),
        outcome: line.outcome.clone(),
        point: line.point,
        price: line.price,
        book: line.book.clone(),
        taken_at: line.taken_at,
        weight,
    }
}

fn decimal(line: &ClosingLine) -> f64 {
    american_to_decimal(line.price).unwrap_or(0.0)
}

/// Which outcome a side names in a game, and the market it is bet in by default.
fn side_outcome(
    side: Choice,
    game: &GameData,
    quotes: &[&ClosingLine],
    market: &str,
) -> Option<String> {
    match side {
        Choice::Home => Some(game.home_team.clone()),
        Choice::Away => Some(game.away_team.clone()),
        Choice::Over => Some("Over".into()),
        Choice::Under => Some("Under".into()),
        Choice::Favourite | Choice::Underdog => {
            // The favourite is the team the market prices shorter (on spreads: gives points).
            let home = quotes
                .iter()
                .find(|q| q.market == market && q.outcome == game.home_team)?;
            let home_favoured = match home.point {
                Some(p) if market == "spreads" => p < 0.0,
                _ => quotes
                    .iter()
                    .find(|q| {
                        q.market == market && q.outcome == game.away_team && q.book == home.book
                    })
                    .is_some_and(|away| home.price < away.price),
            };
            let favourite = side == Choice::Favourite;
            Some(if home_favoured == favourite {
                game.home_team.clone()
            } else {
                game.away_team.clone()
            })
        }
    }
}

fn default_market(side: Choice) -> &'static str {
    match side {
        Choice::Over | Choice::Under => "totals",
        _ => "h2h",
    }
}

/// The best price for `outcome` among `quotes`; ties go to the earlier book.
fn best<'a>(quotes: &[&'a ClosingLine], market: &str, outcome: &str) -> Option<&'a ClosingLine> {
    quotes
        .iter()
        .filter(|q| q.market == market && q.outcome == outcome)
        .copied()
        .fold(None, |best: Option<&ClosingLine>, q| match best {
            Some(b) if decimal(b) >= decimal(q) => Some(b),
            _ => Some(q),
        })
}

/// Always the same side, at the best price on offer at the decision time.
pub struct FlatSide {
    pub side: Choice,
    pub filter: Filter,
}

impl Strategy for FlatSide {
    fn name(&self) -> String {
        format!("flat {}", self.side)
    }

    fn opportunities(&self, game: &GameData) -> Vec<Opportunity> {
        let quotes = self.filter.pick(&game.quotes);
        side_bet(self.side, &self.filter, &quotes, game)
    }
}

/// A bet on `side` at the best of `lines` (in the filter's market, or the side's own).
fn side_bet(
    side: Choice,
    filter: &Filter,
    lines: &[&ClosingLine],
    game: &GameData,
) -> Vec<Opportunity> {
    let market = filter.market.as_deref().unwrap_or(default_market(side));
    let Some(outcome) = side_outcome(side, game, lines, market) else {
        return Vec::new();
    };
    best(lines, market, &outcome)
        .map(|q| Opportunity {
            legs: vec![leg(q, 1.0)],
            probability: None,
            edge: None,
        })
        .into_iter()
        .collect()
}

/// A price whose expected return against the reference's fair probability at the decision time
/// is at least `min_edge`; the best such bet of each market of a game.
pub struct ExpectedValue {
    pub min_edge: f64,
    pub filter: Filter,
}

impl Strategy for ExpectedValue {
    fn name(&self) -> String {
        format!("ev (edge >= {:.1}%)", self.min_edge * 100.0)
    }

    fn opportunities(&self, game: &GameData) -> Vec<Opportunity> {
        let mut by_market: BTreeMap<&str, (f64, &ClosingLine, f64)> = BTreeMap::new();
        for q in game.quotes.iter().filter(|q| self.filter.admits(q)) {
            let Some(p) = q.fair_probability else {
                continue;
            };
            let edge = p * decimal(q) - 1.0;
            if edge <= 0.0 || edge < self.min_edge {
                continue;
            }
            let better = by_market
                .get(q.market.as_str())
                .is_none_or(|(e, _, _)| edge > *e);
            if better {
                by_market.insert(q.market.as_str(), (edge, q, p));
            }
        }
        by_market
            .into_values()
            .map(|(edge, q, p)| Opportunity {
                legs: vec![leg(q, 1.0)],
                probability: Some(p),
                edge: Some(edge),
            })
            .collect()
    }
}

/// Both sides of a two-way market at two books whose prices together pay more than they cost:
/// h2h; spreads matched by mirrored points (home -3.5 with away +3.5); totals by equal points.
/// Stakes are balanced so that either leg pays the same.
pub struct Arbitrage {
    pub filter: Filter,
}

impl Strategy for Arbitrage {
    fn name(&self) -> String {
        "arbitrage".into()
    }

    fn opportunities(&self, game: &GameData) -> Vec<Opportunity> {
        let quotes = self.filter.pick(&game.quotes);
        let mut found: BTreeMap<&str, Opportunity> = BTreeMap::new();
        let first_side = |q: &ClosingLine| q.outcome == game.home_team || q.outcome == "Over";
        for a in quotes.iter().filter(|q| first_side(q)) {
            for b in quotes
                .iter()
                .filter(|b| b.market == a.market && !first_side(b))
            {
                let matches = match a.market.as_str() {
                    "spreads" => a.point.zip(b.point).is_some_and(|(x, y)| x == -y),
                    "totals" => a.point == b.point,
                    _ => true,
                };
                let (da, db) = (decimal(a), decimal(b));
                if !matches || da <= 1.0 || db <= 1.0 {
                    continue;
                }
                let cost = 1.0 / da + 1.0 / db;
                if cost >= 1.0 {
                    continue;
                }
                let edge = 1.0 / cost - 1.0;
                let better = found
                    .get(a.market.as_str())
                    .is_none_or(|o| edge > o.edge.unwrap_or(0.0));
                if better {
                    found.insert(
                        a.market.as_str(),
                        Opportunity {
                            legs: vec![leg(a, (1.0 / da) / cost), leg(b, (1.0 / db) / cost)],
                            probability: None,
                            edge: Some(edge),
                        },
                    );
                }
            }
        }
        found.into_values().collect()
    }
}

/// The sanity baseline: a side bet at the reference's own closing price. Its price CLV is 0
/// and its fair CLV minus the margin the fair price removes.
pub struct AtTheClose {
    pub side: Choice,
    pub filter: Filter,
}

impl Strategy for AtTheClose {
    fn name(&self) -> String {
        format!("closing {}", self.side)
    }

    fn opportunities(&self, game: &GameData) -> Vec<Opportunity> {
        let mut closes = self.filter.pick(&game.closes);
        closes.retain(|c| c.reference.as_deref() == Some(c.book.as_str()));
        side_bet(self.side, &self.filter, &closes, game)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BacktestSettings {
    pub sizing: Sizing,
    pub bankroll: f64,
    /// The most a night may stake, as a share of its opening bankroll.
    pub max_night_exposure: f64,
}

/// One bet placed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BetRecord {
    pub event_id: String,
    pub night: NaiveDate,
    pub market: String,
    pub outcome: String,
    pub point: Option<f64>,
    pub price: f64,
    pub book: String,
    pub decision_time: DateTime<Utc>,
    pub snapshot_time: DateTime<Utc>,
    pub stake: f64,
    /// `None` for a game not final.
    pub result: Option<Outcome>,
    pub profit: Option<f64>,
    pub edge: Option<f64>,
    /// Fair closing probability minus the price's break-even probability.
    pub clv: Option<f64>,
    /// The decimal price taken over the reference's closing decimal price, minus one.
    pub clv_price: Option<f64>,
}

/// Totals of a set of bets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub bets: usize,
    pub turnover: f64,
    pub profit: f64,
    pub roi_on_turnover: Option<f64>,
    #[serde(flatten)]
    pub record: Record,
}

fn totals<'a>(bets: impl Iterator<Item = &'a BetRecord>) -> Totals {
    let mut t = Totals {
        bets: 0,
        turnover: 0.0,
        profit: 0.0,
        roi_on_turnover: None,
        record: Record::default(),
    };
    for b in bets {
        t.bets += 1;
        let Some(result) = b.result else { continue };
        t.turnover += b.stake;
        t.profit += b.profit.unwrap_or(0.0);
        match result {
            Outcome::Win => t.record.wins += 1,
            Outcome::Loss => t.record.losses += 1,
            Outcome::Push => t.record.pushes += 1,
        }
    }
    t.roi_on_turnover = roi_on_turnover(t.profit, t.turnover);
    t
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub totals: Totals,
    /// Bets on games not final: placed, not graded.
    pub ungraded: usize,
    pub starting_bankroll: f64,
    pub final_bankroll: f64,
    pub return_on_bankroll: Option<f64>,
    pub mean_clv: Option<f64>,
    pub beating_close: Option<f64>,
    pub clv_t_statistic: Option<f64>,
    pub max_drawdown: f64,
    /// Of daily returns (days without bets count as 0), annualized by √365.
    pub sharpe: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestReport {
    pub strategy: String,
    pub settings: BacktestSettings,
    pub summary: Summary,
    pub by_market: BTreeMap<String, Totals>,
    pub by_book: BTreeMap<String, Totals>,
    pub by_month: BTreeMap<String, Totals>,
    /// The bankroll after each night with bets.
    pub curve: Vec<(NaiveDate, f64)>,
    pub bets: Vec<BetRecord>,
}

/// The side a stored outcome is, in its game.
fn side_of(game: &GameData, outcome: &str) -> Option<Side> {
    if outcome == game.home_team {
        Some(Side::Home)
    } else if outcome == game.away_team {
        Some(Side::Away)
    } else if outcome.eq_ignore_ascii_case("over") {
        Some(Side::Over)
    } else if outcome.eq_ignore_ascii_case("under") {
        Some(Side::Under)
    } else {
        None
    }
}

/// Runs `strategy` over `games`, night by night in time order.
pub fn run(
    games: &[GameData],
    strategy: &dyn Strategy,
    settings: &BacktestSettings,
) -> BacktestReport {
    let mut nights: BTreeMap<NaiveDate, Vec<&GameData>> = BTreeMap::new();
    for g in games {
        nights
            .entry(eastern_date(g.commence_time))
            .or_default()
            .push(g);
    }
    let mut bankroll = settings.bankroll;
    let mut bets: Vec<BetRecord> = Vec::new();
    let mut curve = Vec::new();
    let mut daily: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for (night, mut night_games) in nights {
        night_games
            .sort_by(|a, b| (a.commence_time, &a.event_id).cmp(&(b.commence_time, &b.event_id)));
        let opening = bankroll;
        let mut placed: Vec<(BetRecord, &GameData)> = Vec::new();
        let mut stakes: Vec<f64> = Vec::new();
        for game in night_games {
            for o in strategy.opportunities(game) {
                if o.edge.is_some_and(|e| e <= 0.0) || o.legs.is_empty() {
                    continue;
                }
                let single = o.legs.len() == 1;
                let total = settings.sizing.stake(
                    opening,
                    if single { o.probability } else { None },
                    o.legs[0].price,
                );
                if total <= 0.0 {
                    continue;
                }
                for l in &o.legs {
                    let close = close_of_bet(&l.market, &l.outcome, l.point, l.price, &game.closes);
                    let (clv, clv_price) = match close {
                        BetClose::Matched(m) => (Some(m.clv), Some(m.clv_price)),
                        _ => (None, None),
                    };
                    stakes.push(total * l.weight);
                    placed.push((
                        BetRecord {
                            event_id: game.event_id.clone(),
                            night,
                            market: l.market.clone(),
                            outcome: l.outcome.clone(),
                            point: l.point,
                            price: l.price,
                            book: l.book.clone(),
                            decision_time: game.decision_time,
                            snapshot_time: l.taken_at,
                            stake: 0.0,
                            result: None,
                            profit: None,
                            edge: o.edge,
                            clv,
                            clv_price,
                        },
                        game,
                    ));
                }
            }
        }
        cap_night(&mut stakes, opening, settings.max_night_exposure);
        let mut night_profit = 0.0;
        for ((mut bet, game), stake) in placed.into_iter().zip(stakes) {
            bet.stake = stake;
            let market = Market::from_key(&bet.market);
            if let (Some((home, away)), Some(market), Some(side)) =
                (game.final_score, market, side_of(game, &bet.outcome))
            {
                bet.result = settle(market, side, bet.point, home, away);
                bet.profit = bet.result.and_then(|r| profit(r, stake, bet.price));
            }
            night_profit += bet.profit.unwrap_or(0.0);
            bets.push(bet);
        }
        if bets.last().is_some_and(|b| b.night == night) {
            bankroll += night_profit;
            curve.push((night, bankroll));
            daily.insert(
                night,
                if opening > 0.0 {
                    night_profit / opening
                } else {
                    0.0
                },
            );
        }
    }
    let clvs: Vec<f64> = bets.iter().filter_map(|b| b.clv).collect();
    let clv = summarize(&clvs);
    let returns: Vec<f64> = match (daily.keys().next(), daily.keys().last()) {
        (Some(&first), Some(&last)) => first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|d| daily.get(&d).copied().unwrap_or(0.0))
            .collect(),
        _ => Vec::new(),
    };
    let mut path = vec![settings.bankroll];
    path.extend(curve.iter().map(|(_, b)| *b));
    let all = totals(bets.iter());
    let group = |key: &dyn Fn(&BetRecord) -> String| {
        let mut groups: BTreeMap<String, Vec<&BetRecord>> = BTreeMap::new();
        for b in &bets {
            groups.entry(key(b)).or_default().push(b);
        }
        groups
            .into_iter()
            .map(|(k, v)| (k, totals(v.into_iter())))
            .collect::<BTreeMap<_, _>>()
    };
    let profit_total = all.profit;
    BacktestReport {
        strategy: strategy.name(),
        settings: *settings,
        summary: Summary {
            ungraded: bets.iter().filter(|b| b.result.is_none()).count(),
            starting_bankroll: settings.bankroll,
            final_bankroll: bankroll,
            return_on_bankroll: return_on_bankroll(profit_total, settings.bankroll),
            mean_clv: clv.map(|s| s.mean),
            beating_close: clv.map(|s| s.beating_close),
            clv_t_statistic: clv.and_then(|s| s.t_statistic),
            max_drawdown: max_drawdown(&path),
            sharpe: sharpe_daily(&returns),
            totals: all,
        },
        by_market: group(&|b| b.market.clone()),
        by_book: group(&|b| b.book.clone()),
        by_month: group(&|b| format!("{}-{:02}", b.night.year(), b.night.month())),
        curve,
        bets,
    }
}

#[cfg(test)]
#[path = "backtest_tests.rs"]
mod tests;
