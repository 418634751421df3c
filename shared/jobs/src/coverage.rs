//! One US Eastern game day at a glance: every game's snapshots per tier, the tiers it missed,
//! its closing capture and its final score (the original's daily validation report).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use odds_core::model::{EventStatus, FetchTier};
use odds_core::requirements::{ClosingCapture, hours};
use odds_core::time::eastern_midnight_utc;
use odds_store::{Store, StoreError, TierCoverage};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GameCoverage {
    pub event_id: String,
    pub matchup: String,
    pub commence_time: DateTime<Utc>,
    pub status: EventStatus,
    pub tiers: Vec<TierCoverage>,
    /// Tiers whose window the game was listed for (and that have passed) without a snapshot.
    pub missing_tiers: Vec<FetchTier>,
    /// The last snapshot at or before tip-off, and whether it falls in the closing window.
    pub last_before_tip: Option<DateTime<Utc>>,
    pub minutes_before_tip: Option<i64>,
    pub closing_captured: bool,
    pub final_score: Option<(i32, i32)>,
}

/// The games of `day` (US Eastern), in tip-off order, judged at `now`.
pub async fn day_coverage(
    store: &Store,
    day: NaiveDate,
    closing: &ClosingCapture,
    now: DateTime<Utc>,
) -> Result<Vec<GameCoverage>, StoreError> {
    let start = eastern_midnight_utc(day);
    let end = eastern_midnight_utc(day + chrono::Days::new(1));
    let mut out = Vec::new();
    for game in store.get_events_by_date_range(start, end, None).await? {
        let tiers = store.tier_coverage(&game.id).await?;
        let listed = store
            .listed_at(&game.id)
            .await?
            .unwrap_or(game.commence_time);
        let last = store
            .last_snapshot_before(&game.id, game.commence_time)
            .await?;
        let missing_tiers = FetchTier::ALL
            .iter()
            .copied()
            .filter(|tier| {
                let window_end = game.commence_time - hours(tier.min_hours().max(0.0));
                let window_start = game.commence_time - hours(tier.max_hours());
                // Listed before the window closed, the window is over, and nothing in it.
                listed < window_end
                    && window_end.max(window_start) <= now
                    && !tiers.iter().any(|c| c.fetch_tier == *tier)
            })
            .collect();
        let minutes = last.map(|t| (game.commence_time - t).num_minutes());
        let closing_captured = last.is_some_and(|t| {
            let before = game.commence_time - t;
            before <= closing.earliest && before >= closing.latest
        });
        out.push(GameCoverage {
            matchup: format!("{} @ {}", game.away_team, game.home_team),
            commence_time: game.commence_time,
            status: game.status,
            final_score: game.home_score.zip(game.away_score),
            event_id: game.id,
            tiers,
            missing_tiers,
            last_before_tip: last,
            minutes_before_tip: minutes,
            closing_captured,
        });
    }
    Ok(out)
}
