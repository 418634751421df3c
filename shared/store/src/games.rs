//! Queries the jobs need about games: which to collect, which await scores, and applying the
//! lifecycle transitions that `odds_core::lifecycle` decides.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Store, StoreError};
use deadpool_postgres::Transaction;
use odds_core::lifecycle::{KnownGame, LifecycleRules, Transition, advance, is_collectable};
use odds_core::model::{Endpoint, Event, EventStatus, IssueKind, QualityIssue, Severity};
use odds_core::requirements::GameView;

/// A game that tipped off and has no final score yet.
#[derive(Debug, Clone, PartialEq)]
pub struct AwaitingScore {
    pub id: String,
    pub sport_key: String,
    pub home_team: String,
    pub away_team: String,
    pub commence_time: DateTime<Utc>,
}

impl Store {
    /// Games whose odds are still collected (see `KnownGame::is_collectable`), with tip-off
    /// after `now`.
    pub async fn collectable_games(&self, now: DateTime<Utc>) -> Result<Vec<GameView>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT commence_time, COALESCE(listed_at, created_at), status, missing_since,
                        id, away_team, home_team
                   FROM events
                  WHERE commence_time > $1 AND status IN ('scheduled', 'postponed')
                  ORDER BY commence_time",
            )
            .await?;
        let mut games = Vec::new();
        for r in conn.query(&stmt, &[&now]).await? {
            if is_collectable(r.get::<_, &str>(2).parse()?, r.get(3)) {
                games.push(GameView {
                    event_id: r.get(4),
                    matchup: format!("{} @ {}", r.get::<_, &str>(5), r.get::<_, &str>(6)),
                    commence_time: r.get(0),
                    listed_at: r.get(1),
                });
            }
        }
        Ok(games)
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
                "SELECT id, home_team, away_team, commence_time, status, missing_since, sport_key
                   FROM events
                  WHERE commence_time <= $1 AND status IN ('scheduled', 'live', 'postponed')
                  ORDER BY commence_time",
            )
            .await?;
        let mut games = Vec::new();
        for r in conn.query(&stmt, &[&now]).await? {
            let status: EventStatus = r.get::<_, &str>(4).parse()?;
            if status == EventStatus::Live || is_collectable(status, r.get(5)) {
                games.push(AwaitingScore {
                    id: r.get(0),
                    sport_key: r.get(6),
                    home_team: r.get(1),
                    away_team: r.get(2),
                    commence_time: r.get(3),
                });
            }
        }
        Ok(games)
    }

    /// The games whose status can still change before `until`: scheduled or postponed, with a
    /// tip-off (current or original) before it.
    pub async fn known_games(&self, until: DateTime<Utc>) -> Result<Vec<KnownGame>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT id, status, commence_time, original_commence_time, missing_since
                   FROM events
                  WHERE status IN ('scheduled', 'postponed')
                    AND LEAST(commence_time, COALESCE(original_commence_time, commence_time)) <= $1",
            )
            .await?;
        conn.query(&stmt, &[&until])
            .await?
            .iter()
            .map(|r| {
                Ok(KnownGame {
                    id: r.get(0),
                    status: r.get::<_, &str>(1).parse()?,
                    commence_time: r.get(2),
                    original_commence_time: r.get(3),
                    missing_since: r.get(4),
                })
            })
            .collect()
    }

    /// Records a listing read at `now`: new games are created, listed ones are marked seen (and
    /// follow the listed tip-off), and the lifecycle transitions are applied, each postponement
    /// and restoration logged as a quality issue. One transaction.
    pub async fn apply_listing(
        &self,
        listed: &[Event],
        transitions: &[Transition],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        // Postponements record the tip-off as it was before this listing moves it.
        apply_transitions(&tx, transitions, now).await?;
        super::writer::upsert_events(&tx, listed, now).await?;
        let ids: Vec<&str> = listed.iter().map(|e| e.id.as_str()).collect();
        tx.execute(
            "UPDATE events SET missing_since = NULL WHERE id = ANY($1) AND missing_since IS NOT NULL",
            &[&ids],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies what the clock decides at `now` (`lifecycle::advance`): games go live at tip-off,
    /// postponed games that never came back are cancelled. Returns (went live, cancelled).
    pub async fn advance_statuses(
        &self,
        now: DateTime<Utc>,
        rules: &LifecycleRules,
    ) -> Result<(u64, u64), StoreError> {
        let transitions = advance(&self.known_games(now).await?, now, rules);
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        let applied = apply_transitions(&tx, &transitions, now).await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// When the last successful call to any of `endpoints` was made (in the collector's clock).
    pub async fn last_successful_fetch_of(
        &self,
        endpoints: &[Endpoint],
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let names: Vec<&str> = endpoints.iter().map(|e| e.as_str()).collect();
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT max(fetched_at) FROM fetch_logs WHERE endpoint = ANY($1) AND success",
            )
            .await?;
        Ok(conn.query_one(&stmt, &[&names]).await?.get(0))
    }

    /// When the successful calls to `endpoint` since `since` were made, oldest first.
    pub async fn successful_fetches(
        &self,
        endpoint: Endpoint,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT DISTINCT fetched_at FROM fetch_logs
                  WHERE endpoint = $1 AND success AND fetched_at >= $2
                  ORDER BY fetched_at",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&endpoint.as_str(), &since])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }
}

/// Writes lifecycle transitions, and a quality issue for each postponement and restoration.
/// Returns how many games went live and how many were cancelled.
async fn apply_transitions(
    tx: &Transaction<'_>,
    transitions: &[Transition],
    now: DateTime<Utc>,
) -> Result<(u64, u64), StoreError> {
    let (mut live, mut cancelled) = (0, 0);
    let mut issues = Vec::new();
    for t in transitions {
        match t {
            Transition::Postpone {
                id,
                original_commence,
                reason,
            } => {
                tx.execute(
                    "UPDATE events SET status = 'postponed', postponed_at = $2,
                            original_commence_time = COALESCE(original_commence_time, $3),
                            updated_at = now()
                      WHERE id = $1",
                    &[id, &now, original_commence],
                )
                .await?;
                issues.push(QualityIssue::new(
                    Some(id),
                    Severity::Warning,
                    IssueKind::GamePostponed,
                    format!("{id} postponed: {reason}"),
                    json!({ "at": now }),
                ));
            }
            Transition::Restore { id, reason } => {
                tx.execute(
                    "UPDATE events SET status = 'scheduled', postponed_at = NULL,
                            missing_since = NULL, updated_at = now()
                      WHERE id = $1 AND status = 'postponed'",
                    &[id],
                )
                .await?;
                issues.push(QualityIssue::new(
                    Some(id),
                    Severity::Info,
                    IssueKind::GameRestored,
                    format!("{id} scheduled again: {reason}"),
                    json!({ "at": now }),
                ));
            }
            Transition::MarkMissing { id } => {
                tx.execute(
                    "UPDATE events SET missing_since = COALESCE(missing_since, $2) WHERE id = $1",
                    &[id, &now],
                )
                .await?;
            }
            Transition::GoLive { id } => {
                live += tx
                    .execute(
                        "UPDATE events SET status = 'live', updated_at = now()
                          WHERE id = $1 AND status IN ('scheduled', 'postponed')",
                        &[id],
                    )
                    .await?;
            }
            Transition::Cancel { id } => {
                cancelled += tx
                    .execute(
                        "UPDATE events SET status = 'cancelled', updated_at = now()
                          WHERE id = $1 AND status = 'postponed'",
                        &[id],
                    )
                    .await?;
            }
        }
    }
    let kept: Vec<(&QualityIssue, Option<i64>)> = issues.iter().map(|i| (i, None)).collect();
    super::writer::insert_issues(tx, &kept).await?;
    Ok((live, cancelled))
}
