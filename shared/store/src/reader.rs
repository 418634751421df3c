//! Reads for research. Every "as of" query takes a time and never returns anything stored with a
//! later snapshot time, so backtests cannot see the future.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;

use super::{Store, StoreError};
use odds_core::model::{Event, EventStatus, FetchTier, MarketKey, OddsRow, StoredOdds};
use odds_core::price::american_to_decimal;

const ODDS_COLUMNS: &str = "o.event_id, o.snapshot_time, o.bookmaker_key, o.bookmaker_title, \
     o.market_key, o.outcome_name, o.price, o.point, o.last_update, o.is_valid, o.validation_notes, \
     o.description";

const EVENT_COLUMNS: &str = "id, sport_key, home_team, away_team, commence_time, status, \
     home_score, away_score, completed_at";

/// The best price for one outcome across books.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestPrice {
    pub outcome_name: String,
    /// The player of a prop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub bookmaker_key: String,
    pub bookmaker_title: String,
    pub price: f64,
    pub point: Option<f64>,
    pub snapshot_time: DateTime<Utc>,
    /// How many books quoted this outcome.
    pub books_quoting: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotSummary {
    pub id: i64,
    pub event_id: String,
    pub snapshot_time: DateTime<Utc>,
    pub fetch_tier: FetchTier,
    pub hours_until_commence: f64,
    pub bookmaker_count: i32,
    pub raw: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierCoverage {
    pub fetch_tier: FetchTier,
    pub snapshots: i64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// One row of `data_quality_logs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedIssue {
    pub created_at: DateTime<Utc>,
    pub event_id: Option<String>,
    pub severity: String,
    pub issue_type: String,
    pub description: String,
}

/// How often one kind of issue was logged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueCount {
    pub issue_type: String,
    pub severity: String,
    pub count: i64,
    pub last_seen: DateTime<Utc>,
}

/// API calls and credits of one endpoint over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreditUse {
    pub endpoint: String,
    pub calls: i64,
    pub failed: i64,
    pub credits: i64,
}

/// The latest quota reading the API sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaReading {
    pub at: DateTime<Utc>,
    pub remaining: Option<i64>,
    pub used: Option<i64>,
}

impl Store {
    /// Calls and credits per endpoint since `since`.
    pub async fn credit_use(&self, since: DateTime<Utc>) -> Result<Vec<CreditUse>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT endpoint, count(*), count(*) FILTER (WHERE NOT success),
                        COALESCE(sum(credits_last), 0)::bigint
                   FROM fetch_logs WHERE fetched_at >= $1
                  GROUP BY endpoint ORDER BY endpoint",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&since])
            .await?
            .iter()
            .map(|r| CreditUse {
                endpoint: r.get(0),
                calls: r.get(1),
                failed: r.get(2),
                credits: r.get(3),
            })
            .collect())
    }

    pub async fn latest_quota(&self) -> Result<Option<QuotaReading>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT fetched_at, credits_remaining, credits_used FROM fetch_logs
                  WHERE credits_remaining IS NOT NULL OR credits_used IS NOT NULL
                  ORDER BY fetched_at DESC, id DESC LIMIT 1",
            )
            .await?;
        Ok(conn.query_opt(&stmt, &[]).await?.map(|r| QuotaReading {
            at: r.get(0),
            remaining: r.get(1),
            used: r.get(2),
        }))
    }

    /// How many games are in each status.
    pub async fn event_counts(&self) -> Result<Vec<(EventStatus, i64)>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached("SELECT status, count(*) FROM events GROUP BY status")
            .await?;
        let mut counts: Vec<(EventStatus, i64)> = conn
            .query(&stmt, &[])
            .await?
            .iter()
            .filter_map(|r| Some((r.get::<_, String>(0).parse().ok()?, r.get(1))))
            .collect();
        counts.sort_by_key(|(status, _)| EventStatus::ALL.iter().position(|s| s == status));
        Ok(counts)
    }

    /// The newest quality issues logged at or after `since`.
    pub async fn recent_quality_issues(
        &self,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<LoggedIssue>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT created_at, event_id, severity, issue_type, description
                   FROM data_quality_logs WHERE created_at >= $1
                  ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&since, &limit])
            .await?
            .iter()
            .map(|r| LoggedIssue {
                created_at: r.get(0),
                event_id: r.get(1),
                severity: r.get(2),
                issue_type: r.get(3),
                description: r.get(4),
            })
            .collect())
    }

    /// Issue counts by kind since `since`, the most frequent first.
    pub async fn quality_summary(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<IssueCount>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT issue_type, severity, count(*), max(created_at)
                   FROM data_quality_logs WHERE created_at >= $1
                  GROUP BY issue_type, severity ORDER BY count(*) DESC, issue_type",
            )
            .await?;
        Ok(conn
            .query(&stmt, &[&since])
            .await?
            .iter()
            .map(|r| IssueCount {
                issue_type: r.get(0),
                severity: r.get(1),
                count: r.get(2),
                last_seen: r.get(3),
            })
            .collect())
    }

    pub async fn get_event(&self, event_id: &str) -> Result<Option<Event>, StoreError> {
        let conn = self.pool.get().await?;
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
        let stmt = conn.prepare_cached(&sql).await?;
        Ok(conn
            .query_opt(&stmt, &[&event_id])
            .await?
            .map(|r| event_from_row(&r)))
    }

    /// Games whose tip-off falls in `[start, end)`, optionally of one status, by tip-off time.
    pub async fn get_events_by_date_range(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        status: Option<EventStatus>,
    ) -> Result<Vec<Event>, StoreError> {
        let conn = self.pool.get().await?;
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
              WHERE commence_time >= $1 AND commence_time < $2
                AND ($3::text IS NULL OR status = $3)
              ORDER BY commence_time, id"
        );
        let stmt = conn.prepare_cached(&sql).await?;
        let status = status.map(EventStatus::as_str);
        let rows = conn.query(&stmt, &[&start, &end, &status]).await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    /// Each book's latest line per market at or before `at`: what a bettor could have seen then.
    pub async fn get_odds_at_time(
        &self,
        event_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<StoredOdds>, StoreError> {
        let conn = self.pool.get().await?;
        // A loose index scan: walk the game's (market, book) pairs one index probe at a time,
        // then take each pair's latest snapshot at or before `at`. Reads a few dozen index
        // entries however long the game's history is.
        let sql = format!(
            "WITH RECURSIVE pairs (market_key, bookmaker_key) AS (
                 (SELECT market_key, bookmaker_key FROM odds
                   WHERE event_id = $1 ORDER BY market_key, bookmaker_key LIMIT 1)
                 UNION ALL
                 SELECT next.market_key, next.bookmaker_key
                   FROM pairs, LATERAL (
                        SELECT market_key, bookmaker_key FROM odds
                         WHERE event_id = $1
                           AND (market_key, bookmaker_key) > (pairs.market_key, pairs.bookmaker_key)
                         ORDER BY market_key, bookmaker_key LIMIT 1) next)
             SELECT {ODDS_COLUMNS}
               FROM pairs
               JOIN odds o ON o.event_id = $1
                          AND o.market_key = pairs.market_key
                          AND o.bookmaker_key = pairs.bookmaker_key
                          AND o.snapshot_time = (
                              SELECT max(x.snapshot_time) FROM odds x
                               WHERE x.event_id = $1 AND x.market_key = pairs.market_key
                                 AND x.bookmaker_key = pairs.bookmaker_key
                                 AND x.snapshot_time <= $2)
              ORDER BY o.bookmaker_key, o.market_key, o.description NULLS FIRST, o.outcome_name,
                       o.point"
        );
        let stmt = conn.prepare_cached(&sql).await?;
        let rows = conn.query(&stmt, &[&event_id, &at]).await?;
        Ok(rows.iter().map(odds_from_row).collect())
    }

    /// Every stored price of one book's market for a game, oldest first.
    pub async fn get_line_movement(
        &self,
        event_id: &str,
        bookmaker_key: &str,
        market_key: &str,
    ) -> Result<Vec<StoredOdds>, StoreError> {
        let conn = self.pool.get().await?;
        let sql = format!(
            "SELECT {ODDS_COLUMNS} FROM odds o
              WHERE o.event_id = $1 AND o.market_key = $3 AND o.bookmaker_key = $2
              ORDER BY o.snapshot_time, o.description NULLS FIRST, o.outcome_name, o.point"
        );
        let stmt = conn.prepare_cached(&sql).await?;
        let rows = conn
            .query(&stmt, &[&event_id, &bookmaker_key, &market_key])
            .await?;
        Ok(rows.iter().map(odds_from_row).collect())
    }

    /// Line shopping: for each outcome of a market, the book paying the most, among the lines
    /// known at `at` (or the latest lines). Rows the validator flagged are not considered.
    pub async fn get_best_odds(
        &self,
        event_id: &str,
        market_key: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<BestPrice>, StoreError> {
        let at = at.unwrap_or(DateTime::<Utc>::MAX_UTC);
        let lines = self.get_odds_at_time(event_id, at).await?;
        Ok(best_prices(lines.iter().filter(|o| {
            o.row.market_key == market_key && o.row.is_valid
        })))
    }

    pub async fn latest_snapshot(
        &self,
        event_id: &str,
    ) -> Result<Option<SnapshotSummary>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT id, event_id, snapshot_time, fetch_tier, hours_until_commence,
                        bookmaker_count, raw_data
                   FROM odds_snapshots WHERE event_id = $1
                  ORDER BY snapshot_time DESC LIMIT 1",
            )
            .await?;
        Ok(conn
            .query_opt(&stmt, &[&event_id])
            .await?
            .map(|r| SnapshotSummary {
                id: r.get(0),
                event_id: r.get(1),
                snapshot_time: r.get(2),
                fetch_tier: tier_from(r.get(3)),
                hours_until_commence: r.get(4),
                bookmaker_count: r.get(5),
                raw: r.get(6),
            }))
    }

    /// How many snapshots a game has in each tier, from the least urgent tier to the most.
    pub async fn tier_coverage(&self, event_id: &str) -> Result<Vec<TierCoverage>, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "SELECT fetch_tier, count(*), min(snapshot_time), max(snapshot_time)
                   FROM odds_snapshots WHERE event_id = $1 GROUP BY fetch_tier",
            )
            .await?;
        let mut coverage: Vec<TierCoverage> = conn
            .query(&stmt, &[&event_id])
            .await?
            .iter()
            .map(|r| TierCoverage {
                fetch_tier: tier_from(r.get(0)),
                snapshots: r.get(1),
                first: r.get(2),
                last: r.get(3),
            })
            .collect();
        coverage.sort_by_key(|c| c.fetch_tier);
        Ok(coverage)
    }
}

/// The bet a price is for, across books: the outcome and its subject (a prop's player); for
/// markets other than the featured three (alternate lines, props) the point too, since each
/// of their lines is a bet of its own. A featured spread or total is shopped across points.
fn same_bet(best: &BestPrice, line: &StoredOdds) -> bool {
    best.outcome_name == line.row.outcome_name
        && best.description == line.row.description
        && (line.row.market_key.featured().is_some() || best.point == line.row.point)
}

/// The highest-paying valid price per outcome; ties go to the earlier book key so results are
/// stable.
pub fn best_prices<'a>(lines: impl Iterator<Item = &'a StoredOdds>) -> Vec<BestPrice> {
    let mut best: Vec<(BestPrice, f64)> = Vec::new();
    for line in lines {
        let Some(decimal) = american_to_decimal(line.row.price) else {
            continue;
        };
        match best.iter_mut().find(|(b, _)| same_bet(b, line)) {
            Some((current, current_decimal)) => {
                current.books_quoting += 1;
                if decimal > *current_decimal {
                    let quoting = current.books_quoting;
                    *current = best_price(line, quoting);
                    *current_decimal = decimal;
                }
            }
            None => best.push((best_price(line, 1), decimal)),
        }
    }
    let mut out: Vec<BestPrice> = best.into_iter().map(|(b, _)| b).collect();
    out.sort_by(|a, b| {
        (&a.description, &a.outcome_name)
            .cmp(&(&b.description, &b.outcome_name))
            .then(
                a.point
                    .partial_cmp(&b.point)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
    });
    out
}

fn best_price(line: &StoredOdds, books_quoting: usize) -> BestPrice {
    BestPrice {
        outcome_name: line.row.outcome_name.clone(),
        description: line.row.description.clone(),
        bookmaker_key: line.row.bookmaker_key.clone(),
        bookmaker_title: line.row.bookmaker_title.clone(),
        price: line.row.price,
        point: line.row.point,
        snapshot_time: line.snapshot_time,
        books_quoting,
    }
}

fn tier_from(text: String) -> FetchTier {
    // The column's CHECK constraint admits only the five tier names.
    text.parse().unwrap_or(FetchTier::Opening)
}

fn event_from_row(r: &Row) -> Event {
    Event {
        id: r.get(0),
        sport_key: r.get(1),
        home_team: r.get(2),
        away_team: r.get(3),
        commence_time: r.get(4),
        status: r
            .get::<_, String>(5)
            .parse()
            .unwrap_or(EventStatus::Scheduled),
        home_score: r.get(6),
        away_score: r.get(7),
        completed_at: r.get(8),
    }
}

fn odds_from_row(r: &Row) -> StoredOdds {
    let notes: Option<serde_json::Value> = r.get(10);
    StoredOdds {
        event_id: r.get(0),
        snapshot_time: r.get(1),
        row: OddsRow {
            bookmaker_key: r.get(2),
            bookmaker_title: r.get(3),
            market_key: MarketKey::from(r.get::<_, String>(4)),
            outcome_name: r.get(5),
            description: r.get(11),
            price: r.get(6),
            point: r.get(7),
            last_update: r.get(8),
            is_valid: r.get(9),
            validation_notes: notes
                .and_then(|n| serde_json::from_value(n).ok())
                .unwrap_or_default(),
        },
    }
}
