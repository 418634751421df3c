//! When the jobs spend credits. Production follows the planner; the season simulator injects the
//! original system's rules as its baseline, so production code never branches on them.

use chrono::{DateTime, Utc};
use odds_core::budget::Spend;
use odds_core::planner::{PendingGame, Plan, PlannerSettings, next_odds_fetch, next_scores_fetch};
use odds_core::requirements::GameView;

pub trait Policy: Send + Sync {
    /// Whether fetch-odds lists games through the free `/events` before deciding to spend.
    fn discovers_games(&self) -> bool {
        true
    }

    /// The next `/odds` call, given the games still to collect and the successful calls made
    /// since the earliest of them came into view (oldest first).
    fn next_odds_fetch(
        &self,
        now: DateTime<Utc>,
        games: &[GameView],
        fetches: &[DateTime<Utc>],
        settings: &PlannerSettings,
        spend: &Spend,
    ) -> Plan;

    /// The next `/scores` call, given the games awaiting a final score and those still to come.
    fn next_scores_fetch(
        &self,
        now: DateTime<Utc>,
        pending: &[PendingGame],
        upcoming: &[DateTime<Utc>],
        last_fetch: Option<DateTime<Utc>>,
        settings: &PlannerSettings,
    ) -> Plan;
}

/// The planner of `odds_core::planner`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Planner;

impl Policy for Planner {
    fn next_odds_fetch(
        &self,
        now: DateTime<Utc>,
        games: &[GameView],
        fetches: &[DateTime<Utc>],
        settings: &PlannerSettings,
        spend: &Spend,
    ) -> Plan {
        next_odds_fetch(now, games, fetches, settings, spend)
    }

    fn next_scores_fetch(
        &self,
        now: DateTime<Utc>,
        pending: &[PendingGame],
        upcoming: &[DateTime<Utc>],
        last_fetch: Option<DateTime<Utc>>,
        settings: &PlannerSettings,
    ) -> Plan {
        next_scores_fetch(now, pending, upcoming, last_fetch, settings)
    }
}
