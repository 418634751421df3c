//! What a backfill reads and records: the archive calls it made (so a rerun never pays twice
//! for a moment and an interrupted run resumes), the days whose games it discovered, and the
//! games of a range with the snapshot times each already has.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, StoreError};
use odds_core::model::Endpoint;
use odds_core::requirements::GameView;

/// One call to the historical archive.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveCall {
    pub sport_key: String,
    pub endpoint: Endpoint,
    /// Sorted and comma-joined; empty for `/events`.
    pub markets: String,
    pub requested_for: DateTime<Utc>,
    pub snapshot_time: Option<DateTime<Utc>>,
    pub next_snapshot: Option<DateTime<Utc>>,
    pub game_day: Option<NaiveDate>,
    pub games: i32,
    pub credits: i64,
}

impl Store {
    pub async fn record_archive_call(&self, call: &ArchiveCall) -> Result<(), StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "INSERT INTO backfill_calls (sport_key, endpoint, markets, requested_for,
                     snapshot_time, next_snapshot, game_day, games, credits)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .await?;
        conn.execute(
            &stmt,
            &[
                &call.sport_key,
                &call.endpoint.as_str(),
                &call.markets,
                &call.requested_for,
                &call.snapshot_time,
                &call.next_snapshot,
                &call.game_day,
                &call.games,
                &call.credits,
            ],
        )
        .await?;
        Ok(())
    }

    /// The moments of historical `/odds` calls for these markets in `[from, to)`: each asked
    /// for, and each the archive answered with, sorted.
    pub async fn archive_moments(
        &self,
        sport_key: &str,
        markets: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT t FROM (
                    SELECT requested_for AS t FROM backfill_calls
                     WHERE sport_key = $1 AND endpoint = 'historical_odds' AND markets = $2
                    UNION
                    SELECT snapshot_time FROM backfill_calls
                     WHERE sport_key = $1 AND endpoint = 'historical_odds' AND markets = $2
                       AND snapshot_time IS NOT NULL) m
                  WHERE t >= $3 AND t < $4
                  ORDER BY t",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&sport_key, &markets, &from, &to])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// The snapshot a historical `/odds` call for `at` would return again: one already stored
    /// whose time is at or before `at` and whose successor in the archive is after it.
    pub async fn archived_answer(
        &self,
        sport_key: &str,
        markets: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT max(snapshot_time) FROM backfill_calls
                  WHERE sport_key = $1 AND endpoint = 'historical_odds' AND markets = $2
                    AND snapshot_time <= $3 AND next_snapshot > $3",
            )
            .await?;
        Ok(conn
            .query_one(&stmt, &[&sport_key, &markets, &at])
            .await?
            .get(0))
    }

    /// The game days in `[first, last]` whose games a backfill already discovered.
    pub async fn discovered_days(
        &self,
        sport_key: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<HashSet<NaiveDate>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT DISTINCT game_day FROM backfill_calls
                  WHERE sport_key = $1 AND endpoint = 'historical_events'
                    AND game_day BETWEEN $2 AND $3",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&sport_key, &first, &last])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// Games of a sport tipping off in `[from, to)`, cancelled ones left out, each with the
    /// times of its stored snapshots (sorted).
    pub async fn games_with_snapshots(
        &self,
        sport_key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(GameView, Vec<DateTime<Utc>>)>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT e.id, e.away_team, e.home_team, e.commence_time,
                        COALESCE(e.listed_at, e.created_at),
                        COALESCE(array_agg(s.snapshot_time ORDER BY s.snapshot_time)
                                 FILTER (WHERE s.snapshot_time IS NOT NULL), '{}')
                   FROM events e
                   LEFT JOIN odds_snapshots s ON s.event_id = e.id
                  WHERE e.sport_key = $1 AND e.commence_time >= $2 AND e.commence_time < $3
                    AND e.status <> 'cancelled'
                  GROUP BY e.id
                  ORDER BY e.commence_time, e.id",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&sport_key, &from, &to])
            .await?
            .iter()
            .map(|r| {
                let game = GameView {
                    event_id: r.get(0),
                    matchup: format!("{} @ {}", r.get::<_, &str>(1), r.get::<_, &str>(2)),
                    commence_time: r.get(3),
                    listed_at: r.get(4),
                };
                (game, r.get(5))
            })
            .collect())
    }
}
