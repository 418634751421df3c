//! The research reads: closing lines of stored games, with fair probabilities from
//! `odds_research`.

use chrono::{DateTime, Utc};
use odds_research::closing::{ClosingLine, Reference, closing_lines};
use odds_research::fair::FairMethod;
use odds_store::{Store, StoreError};

/// Every book's closing line of the games tipping off in `[from, to)` before `now`, in tip-off
/// order: each book's last snapshot of each market at or before the tip-off.
pub async fn closing(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    reference: &Reference,
    method: FairMethod,
) -> Result<Vec<ClosingLine>, StoreError> {
    let mut out = Vec::new();
    for game in store.get_events_by_date_range(from, to, None).await? {
        if game.commence_time > now {
            continue;
        }
        let lines = store.get_odds_at_time(&game.id, game.commence_time).await?;
        out.extend(closing_lines(&lines, reference, method));
    }
    Ok(out)
}
