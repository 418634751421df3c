//! Queries the jobs need about games: which to collect, which await scores, and the lifecycle
//! transitions of `odds_core::lifecycle`.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{Store, StoreError};
use odds_core::lifecycle::{KnownGame, Transition};
use odds_core::model::{Event, QualityIssue, Severity};
use odds_core::planner::GameView;

/// A game that tipped off and has no final score yet.
#[derive(Debug, Clone, PartialEq)]
pub struct AwaitingScore {
    pub id: String,
    pub home_team: String,
    pub away_team: String,
    pub commence_time: DateTime<Utc>,
}

impl Store {
    /// Games whose odds are still collected: scheduled ones, and postponed ones that are listed
    /// again at a new time, with tip-off after `now`.
    pub async fn collectable_games(&self, now: DateTime<Utc>) -> Result<Vec<GameView>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT commence_time, COALESCE(listed_at, created_at) FROM events
                  WHERE commence_time > $1
                    AND (status = 'scheduled' OR (status = 'postponed' AND missing_since IS NULL))
                  ORDER BY commence_time",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&now])
            .await?
            .iter()
            .map(|r| GameView {
                commence_time: r.get(0),
                listed_at: r.get(1),
            })
            .collect())
    }

    /// Games that have tipped off (by status or by the clock) and are not final, cancelled or
    /// postponed-and-unlisted.
    pub async fn games_awaiting_scores(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<AwaitingScore>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT id, home_team, away_team, commence_time FROM events
                  WHERE commence_time <= $1
                    AND (status IN ('scheduled', 'live')
                         OR (status = 'postponed' AND missing_since IS NULL))
                  ORDER BY commence_time",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&now])
            .await?
            .iter()
            .map(|r| AwaitingScore {
                id: r.get(0),
                home_team: r.get(1),
                away_team: r.get(2),
                commence_time: r.get(3),
            })
            .collect())
    }

    /// The games a listing can change: not yet finished, tipping off before `until`.
    pub async fn known_games(&self, until: DateTime<Utc>) -> Result<Vec<KnownGame>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT id, status, commence_time, original_commence_time, missing_since
                   FROM events
                  WHERE status IN ('scheduled', 'postponed') AND commence_time <= $1",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&until])
            .await?
            .iter()
            .map(|r| KnownGame {
                id: r.get(0),
                status: r
                    .get::<_, String>(1)
                    .parse()
                    .unwrap_or(odds_core::EventStatus::Scheduled),
                commence_time: r.get(2),
                original_commence_time: r.get(3),
                missing_since: r.get(4),
            })
            .collect())
    }

    /// Records a listing read at `now`: new games are created, listed ones are marked seen (and
    /// follow the listed tip-off), and the lifecycle transitions are applied, each logged as a
    /// quality issue. One transaction.
    pub async fn apply_listing(
        &self,
        listed: &[Event],
        transitions: &[Transition],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        // Postponements record the tip-off as it was before this listing moves it.
        for t in transitions {
            match t {
                Transition::Postpone {
                    id,
                    original_commence,
                    ..
                } => {
                    tx.execute(
                        "UPDATE events SET status = 'postponed', postponed_at = $2,
                                original_commence_time = COALESCE(original_commence_time, $3),
                                updated_at = now()
                          WHERE id = $1",
                        &[id, &now, original_commence],
                    )
                    .await?;
                }
                Transition::Restore { id, .. } => {
                    tx.execute(
                        "UPDATE events SET status = 'scheduled', postponed_at = NULL,
                                missing_since = NULL, updated_at = now()
                          WHERE id = $1 AND status = 'postponed'",
                        &[id],
                    )
                    .await?;
                }
                Transition::MarkMissing { id } => {
                    tx.execute(
                        "UPDATE events SET missing_since = COALESCE(missing_since, $2)
                          WHERE id = $1",
                        &[id, &now],
                    )
                    .await?;
                }
            }
        }
        super::writer::upsert_events(&tx, listed, now).await?;
        let ids: Vec<&str> = listed.iter().map(|e| e.id.as_str()).collect();
        tx.execute(
            "UPDATE events SET missing_since = NULL WHERE id = ANY($1) AND missing_since IS NOT NULL",
            &[&ids],
        )
        .await?;
        let issues: Vec<QualityIssue> = transitions
            .iter()
            .filter_map(|t| match t {
                Transition::Postpone { id, reason, .. } => Some(QualityIssue::new(
                    Some(id),
                    Severity::Warning,
                    "game_postponed",
                    format!("{id} postponed: {reason}"),
                    json!({ "at": now }),
                )),
                Transition::Restore { id, reason } => Some(QualityIssue::new(
                    Some(id),
                    Severity::Info,
                    "game_restored",
                    format!("{id} scheduled again: {reason}"),
                    json!({ "at": now }),
                )),
                Transition::MarkMissing { .. } => None,
            })
            .collect();
        let kept: Vec<(&QualityIssue, Option<i64>)> = issues.iter().map(|i| (i, None)).collect();
        super::writer::insert_issues(&tx, &kept).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Turns games live at tip-off and cancels postponed games that never came back. Returns
    /// (went live, cancelled).
    pub async fn advance_statuses(
        &self,
        now: DateTime<Utc>,
        cancel_after: Duration,
    ) -> Result<(u64, u64), StoreError> {
        let conn = self.pool.get().await?;
        let live = conn
            .execute(
                "UPDATE events SET status = 'live', updated_at = now()
                  WHERE commence_time <= $1
                    AND (status = 'scheduled' OR (status = 'postponed' AND missing_since IS NULL))",
                &[&now],
            )
            .await?;
        let cutoff = now - cancel_after;
        let cancelled = conn
            .execute(
                "UPDATE events SET status = 'cancelled', updated_at = now()
                  WHERE status = 'postponed' AND missing_since IS NOT NULL
                    AND COALESCE(original_commence_time, commence_time) <= $1",
                &[&cutoff],
            )
            .await?;
        Ok((live, cancelled))
    }

    /// When the last successful call to `endpoint` was made (in the collector's clock).
    pub async fn last_successful_fetch(
        &self,
        endpoint: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT max(fetched_at) FROM fetch_logs WHERE endpoint = $1 AND success",
            )
            .await?;
        Ok(conn.query_one(&stmt, &[&endpoint]).await?.get(0))
    }
}
