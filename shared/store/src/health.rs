//! What the health checks read, and what the alert channel last said.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::{Store, StoreError};
use odds_core::health::{AlertState, ChainState, GameFreshness, Level};
use odds_core::model::{Endpoint, JobName};

/// The calls that count as The Odds API's (NBA.com's are free and optional).
const ODDS_API_ENDPOINTS: [Endpoint; 7] = [
    Endpoint::Sports,
    Endpoint::Events,
    Endpoint::Odds,
    Endpoint::EventOdds,
    Endpoint::Scores,
    Endpoint::HistoricalOdds,
    Endpoint::HistoricalEvents,
];

impl Store {
    /// Every job's chain; a job that never ran has none armed.
    pub async fn chain_states(&self) -> Result<Vec<ChainState>, StoreError> {
        let states = self.job_states().await?;
        Ok(<JobName as strum::VariantArray>::VARIANTS
            .iter()
            .map(|&job| match states.iter().find(|s| s.job_name == job) {
                Some(s) => ChainState {
                    job,
                    next_run_at: s.next_run_at,
                    last_run_at: s.last_run_at,
                    consecutive_failures: s.consecutive_failures,
                    last_error: s.last_error.clone(),
                },
                None => ChainState {
                    job,
                    next_run_at: None,
                    last_run_at: None,
                    consecutive_failures: 0,
                    last_error: None,
                },
            })
            .collect())
    }

    /// The games still collected, with when they came into view (no earlier than `lookahead`
    /// before tip-off) and their latest snapshot.
    pub async fn game_freshness(
        &self,
        now: DateTime<Utc>,
        lookahead: Duration,
    ) -> Result<Vec<GameFreshness>, StoreError> {
        let games = self.collectable_games(now).await?;
        let ids: Vec<&str> = games.iter().map(|g| g.event_id.as_str()).collect();
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT event_id, max(snapshot_time) FROM odds_snapshots
                  WHERE event_id = ANY($1) GROUP BY event_id",
            )
            .await?;
        let last: HashMap<String, DateTime<Utc>> = conn
            .query(&stmt, &[&ids])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        Ok(games
            .into_iter()
            .filter(|g| g.commence_time - lookahead <= now)
            .map(|g| GameFreshness {
                last_snapshot: last.get(&g.event_id).copied(),
                in_view_since: g.listed_at.max(g.commence_time - lookahead),
                matchup: g.matchup,
                commence_time: g.commence_time,
            })
            .collect())
    }

    /// How many of the latest calls to The Odds API failed in a row, and the last one's error.
    pub async fn api_failures_in_a_row(&self) -> Result<(usize, Option<String>), StoreError> {
        let names: Vec<&str> = ODDS_API_ENDPOINTS.iter().map(|e| e.as_str()).collect();
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT success, error FROM fetch_logs WHERE endpoint = ANY($1)
                  ORDER BY fetched_at DESC, id DESC LIMIT 50",
            )
            .await?;
        let rows = conn.query(&stmt, &[&names]).await?;
        let failed = rows.iter().take_while(|r| !r.get::<_, bool>(0)).count();
        let error = rows.first().filter(|_| failed > 0).and_then(|r| r.get(1));
        Ok((failed, error))
    }

    /// Data-quality issues of error or critical severity since `since`.
    pub async fn quality_errors_since(&self, since: DateTime<Utc>) -> Result<i64, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT count(*) FROM data_quality_logs
                  WHERE created_at >= $1 AND severity IN ('error', 'critical')",
            )
            .await?;
        Ok(conn.query_one(&stmt, &[&since]).await?.get(0))
    }

    /// What the alert channel last said about each check.
    pub async fn alert_states(&self) -> Result<HashMap<String, AlertState>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached("SELECT check_name, notified, last_sent_at FROM alert_state")
            .await?;
        let mut out = HashMap::new();
        for r in conn.query(&stmt, &[]).await? {
            out.insert(
                r.get(0),
                AlertState {
                    notified: r.get::<_, &str>(1).parse().unwrap_or(Level::Ok),
                    last_sent_at: r.get(2),
                },
            );
        }
        Ok(out)
    }

    /// Records a message sent about a check.
    pub async fn record_alert(
        &self,
        check: &str,
        notified: Level,
        sent_at: DateTime<Utc>,
        message: &str,
    ) -> Result<(), StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "INSERT INTO alert_state (check_name, notified, last_sent_at, message)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (check_name) DO UPDATE SET notified = EXCLUDED.notified,
                     last_sent_at = EXCLUDED.last_sent_at, message = EXCLUDED.message,
                     updated_at = now()",
            )
            .await?;
        conn.execute(&stmt, &[&check, &notified.as_str(), &sent_at, &message])
            .await?;
        Ok(())
    }
}

impl Store {
    /// When a game was first listed.
    pub async fn listed_at(&self, event_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached("SELECT COALESCE(listed_at, created_at) FROM events WHERE id = $1")
            .await?;
        Ok(conn.query_opt(&stmt, &[&event_id]).await?.map(|r| r.get(0)))
    }

    /// A game's last snapshot at or before `at`.
    pub async fn last_snapshot_before(
        &self,
        event_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT max(snapshot_time) FROM odds_snapshots
                  WHERE event_id = $1 AND snapshot_time <= $2",
            )
            .await?;
        Ok(conn.query_one(&stmt, &[&event_id, &at]).await?.get(0))
    }
}
