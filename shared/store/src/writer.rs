//! Writes. A slate is written in one transaction of a few set-based statements (arrays bound to
//! `unnest`), so a failure anywhere leaves nothing half-written and a 15-game slate costs a
//! handful of round trips. Historical backfill streams the odds rows with binary COPY.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use futures_util::pin_mut;
use serde_json::Value;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{Json, Type};

use super::{Store, StoreError};
use odds_core::model::{
    Event, EventStatus, FetchLog, JobName, MarketKey, QualityIssue, RawJson, Snapshot,
};
use odds_core::validate::PreviousLines;

/// What a write did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SlateWrite {
    /// Snapshots newly stored.
    pub snapshots_stored: usize,
    /// Snapshots already present (same game, same snapshot time) and left alone.
    pub snapshots_duplicate: usize,
    pub odds_rows: usize,
    pub issues_logged: usize,
}

/// A change of a game's status, with its result once known.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub event_id: String,
    pub status: EventStatus,
    pub home_score: Option<i32>,
    pub away_score: Option<i32>,
    pub completed_at: Option<DateTime<Utc>>,
}

// A known game keeps its status and scores; its teams and tip-off follow the latest listing
// unless a later listing was already applied (an old backfill must not undo a fresh fetch).
const UPSERT_EVENTS: &str = "
    INSERT INTO events (id, sport_key, home_team, away_team, commence_time, status,
                        home_score, away_score, completed_at, listed_at, last_seen_at)
    SELECT e.*, $10::timestamptz, $10::timestamptz
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                  $6::text[], $7::int4[], $8::int4[], $9::timestamptz[]) AS e
    ON CONFLICT (id) DO UPDATE SET
        sport_key = EXCLUDED.sport_key,
        home_team = EXCLUDED.home_team,
        away_team = EXCLUDED.away_team,
        commence_time = EXCLUDED.commence_time,
        listed_at = LEAST(events.listed_at, EXCLUDED.listed_at),
        last_seen_at = EXCLUDED.last_seen_at,
        updated_at = now()
    WHERE events.last_seen_at IS NULL OR events.last_seen_at <= EXCLUDED.last_seen_at";

const INSERT_SNAPSHOTS: &str = "
    INSERT INTO odds_snapshots (event_id, snapshot_time, raw_data, fetch_tier,
                                hours_until_commence, bookmaker_count)
    SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::jsonb[], $4::text[],
                         $5::float8[], $6::int4[])
    ON CONFLICT (event_id, snapshot_time) DO NOTHING
    RETURNING id, event_id, snapshot_time";

const INSERT_ODDS: &str = "
    INSERT INTO odds (snapshot_id, event_id, snapshot_time, bookmaker_key, bookmaker_title,
                      market_key, outcome_name, price, point, last_update, is_valid,
                      validation_notes, description)
    SELECT * FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::text[], $5::text[],
                         $6::text[], $7::text[], $8::float8[], $9::float8[],
                         $10::timestamptz[], $11::bool[], $12::jsonb[], $13::text[])";

const INSERT_ISSUES: &str = "
    INSERT INTO data_quality_logs (event_id, snapshot_id, severity, issue_type, description,
                                   context)
    SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[],
                         $6::jsonb[])";

const COPY_ODDS: &str = "
    COPY odds (snapshot_id, event_id, snapshot_time, bookmaker_key, bookmaker_title,
               market_key, outcome_name, price, point, last_update, is_valid, validation_notes,
               description)
    FROM STDIN (FORMAT binary)";

const COPY_ODDS_TYPES: [Type; 13] = [
    Type::INT8,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::TIMESTAMPTZ,
    Type::BOOL,
    Type::JSONB,
    Type::TEXT,
];

type SnapshotKey = (String, DateTime<Utc>);

/// PostgreSQL keeps microseconds; keys built in memory must match what comes back.
fn key(event_id: &str, at: DateTime<Utc>) -> SnapshotKey {
    (event_id.to_string(), at.trunc_subsecs(6))
}

impl Store {
    /// Creates the game or updates its teams and tip-off time. Status and scores of a known game
    /// are left alone: they change only through [`Store::update_event_status`].
    /// `seen_at` is when the listing was read: it sets `listed_at` for a new game and
    /// `last_seen_at` always.
    pub async fn upsert_event(
        &self,
        event: &Event,
        seen_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let conn = self.pool.get().await?;
        upsert_events(&conn, std::slice::from_ref(event), seen_at).await
    }

    pub async fn upsert_events(
        &self,
        events: &[Event],
        seen_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let conn = self.pool.get().await?;
        upsert_events(&conn, events, seen_at).await
    }

    /// Stores one game's snapshot (raw JSON, normalized rows, tier) and its issues atomically.
    pub async fn store_odds_snapshot(
        &self,
        snapshot: &Snapshot,
        issues: &[QualityIssue],
    ) -> Result<SlateWrite, StoreError> {
        self.store_slate(std::slice::from_ref(snapshot), issues)
            .await
    }

    /// Stores every snapshot of one fetch, and the fetch's quality issues, in one transaction.
    /// A snapshot already stored (same game and time) is skipped with its issues, so a retried
    /// delivery stores nothing twice.
    pub async fn store_slate(
        &self,
        snapshots: &[Snapshot],
        issues: &[QualityIssue],
    ) -> Result<SlateWrite, StoreError> {
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        let events = unique_events(snapshots);
        if let Some(seen_at) = snapshots.iter().map(|s| s.snapshot_time).max() {
            upsert_events(&tx, &events, seen_at).await?;
        }
        let ids = insert_snapshots(&tx, snapshots).await?;

        let mut write = SlateWrite {
            snapshots_stored: ids.len(),
            snapshots_duplicate: snapshots.len() - ids.len(),
            ..SlateWrite::default()
        };
        let mut rows = OddsColumns::default();
        for snapshot in snapshots {
            if let Some(id) = ids.get(&key(&snapshot.event.id, snapshot.snapshot_time)) {
                rows.push_snapshot(*id, snapshot);
            }
        }
        write.odds_rows = rows.len();
        if !rows.is_empty() {
            let stmt = tx.prepare_cached(INSERT_ODDS).await?;
            tx.execute(&stmt, &rows.params()).await?;
        }

        let kept = issues_to_log(snapshots, &ids, issues);
        write.issues_logged = insert_issues(&tx, &kept).await?;
        tx.commit().await?;
        Ok(write)
    }

    /// Backfill path: many snapshots at once, odds rows streamed with binary COPY, issues as
    /// [`Store::store_slate`] keeps them. Atomic per call; callers send a few hundred snapshots
    /// per call.
    pub async fn bulk_insert_historical(
        &self,
        snapshots: &[Snapshot],
        issues: &[QualityIssue],
    ) -> Result<SlateWrite, StoreError> {
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        // A backfill is idempotent and can be rerun, so it need not wait for the WAL flush.
        tx.batch_execute("SET LOCAL synchronous_commit = off")
            .await?;
        // Historical listings are old news: they create games but never overwrite fresher ones.
        if let Some(seen_at) = snapshots.iter().map(|s| s.snapshot_time).min() {
            upsert_events(&tx, &unique_events(snapshots), seen_at).await?;
        }
        let ids = insert_snapshots(&tx, snapshots).await?;
        let sink = tx.copy_in(COPY_ODDS).await?;
        let writer = BinaryCopyInWriter::new(sink, &COPY_ODDS_TYPES);
        pin_mut!(writer);
        let mut odds_rows = 0;
        for snapshot in snapshots {
            let Some(id) = ids.get(&key(&snapshot.event.id, snapshot.snapshot_time)) else {
                continue;
            };
            for row in &snapshot.odds {
                let notes = notes_json(&row.validation_notes);
                writer
                    .as_mut()
                    .write(&[
                        id,
                        &snapshot.event.id,
                        &snapshot.snapshot_time,
                        &row.bookmaker_key,
                        &row.bookmaker_title,
                        &row.market_key.as_str(),
                        &row.outcome_name,
                        &row.price,
                        &row.point,
                        &row.last_update,
                        &row.is_valid,
                        &notes,
                        &row.description,
                    ])
                    .await?;
                odds_rows += 1;
            }
        }
        writer.finish().await?;
        let issues_logged = insert_issues(&tx, &issues_to_log(snapshots, &ids, issues)).await?;
        tx.commit().await?;
        Ok(SlateWrite {
            snapshots_stored: ids.len(),
            snapshots_duplicate: snapshots.len() - ids.len(),
            odds_rows,
            issues_logged,
        })
    }

    /// Sets a game's status, and its scores and completion time when given. False when the game
    /// is unknown.
    pub async fn update_event_status(&self, update: &StatusUpdate) -> Result<bool, StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "UPDATE events SET status = $2,
                        home_score = COALESCE($3, home_score),
                        away_score = COALESCE($4, away_score),
                        completed_at = COALESCE($5, completed_at),
                        updated_at = now()
                 WHERE id = $1",
            )
            .await?;
        let n = conn
            .execute(
                &stmt,
                &[
                    &update.event_id,
                    &update.status.as_str(),
                    &update.home_score,
                    &update.away_score,
                    &update.completed_at,
                ],
            )
            .await?;
        Ok(n > 0)
    }

    pub async fn log_data_quality_issue(&self, issue: &QualityIssue) -> Result<(), StoreError> {
        self.log_data_quality_issues(std::slice::from_ref(issue))
            .await
            .map(|_| ())
    }

    pub async fn log_data_quality_issues(
        &self,
        issues: &[QualityIssue],
    ) -> Result<usize, StoreError> {
        let conn = self.pool.get().await?;
        let kept: Vec<(&QualityIssue, Option<i64>)> = issues.iter().map(|i| (i, None)).collect();
        insert_issues(&conn, &kept).await
    }

    /// Records one call to an outside API and the credits it cost.
    pub async fn log_fetch(&self, log: &FetchLog) -> Result<(), StoreError> {
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                "INSERT INTO fetch_logs (fetched_at, job_name, endpoint, sport_key, http_status,
                     success, events_count, credits_last, credits_used, credits_remaining,
                     duration_ms, error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .await?;
        conn.execute(
            &stmt,
            &[
                &log.fetched_at,
                &log.job_name.map(JobName::as_str),
                &log.endpoint.as_str(),
                &log.sport_key,
                &log.http_status,
                &log.success,
                &log.events_count,
                &log.quota.last,
                &log.quota.used,
                &log.quota.remaining,
                &log.duration_ms,
                &log.error.as_deref().map(odds_core::text::without_nul),
            ],
        )
        .await?;
        Ok(())
    }

    /// The latest stored points, strictly before `before`, of the given (game, market, book)
    /// lines: what the line-movement check compares against. One index probe per line,
    /// however long the game's history.
    pub async fn previous_lines(
        &self,
        lines: &[LineKey],
        before: DateTime<Utc>,
    ) -> Result<HashMap<String, PreviousLines>, StoreError> {
        let mut out: HashMap<String, PreviousLines> = HashMap::new();
        if lines.is_empty() {
            return Ok(out);
        }
        let conn = self.pool.get().await?;
        let stmt = conn
            .prepare_cached(
                // The latest time sits inside the index condition, so each line costs two index
                // probes whatever the planner's statistics say.
                "SELECT k.event_id, k.bookmaker_key, k.market_key, o.outcome_name, o.point
                   FROM unnest($1::text[], $2::text[], $3::text[])
                        AS k (event_id, market_key, bookmaker_key)
                  CROSS JOIN LATERAL (
                        SELECT o.outcome_name, o.point FROM odds o
                         WHERE o.event_id = k.event_id AND o.market_key = k.market_key
                           AND o.bookmaker_key = k.bookmaker_key
                           AND o.snapshot_time = (
                                SELECT max(x.snapshot_time) FROM odds x
                                 WHERE x.event_id = k.event_id AND x.market_key = k.market_key
                                   AND x.bookmaker_key = k.bookmaker_key
                                   AND x.snapshot_time < $4)) o
                  WHERE o.point IS NOT NULL",
            )
            .await?;
        let events: Vec<&str> = lines.iter().map(|l| l.event_id.as_str()).collect();
        let markets: Vec<&str> = lines.iter().map(|l| l.market_key.as_str()).collect();
        let books: Vec<&str> = lines.iter().map(|l| l.bookmaker_key.as_str()).collect();
        for row in conn
            .query(&stmt, &[&events, &markets, &books, &before])
            .await?
        {
            out.entry(row.get(0)).or_default().insert(
                (
                    row.get(1),
                    MarketKey::from(row.get::<_, String>(2)),
                    row.get(3),
                ),
                row.get::<_, f64>(4),
            );
        }
        Ok(out)
    }
}

/// One book's market for one game.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineKey {
    pub event_id: String,
    pub market_key: MarketKey,
    pub bookmaker_key: String,
}

/// Issues follow their snapshot: logged with its id when it was stored, dropped with it when it
/// was a duplicate; issues about games not in the slate are always logged.
fn issues_to_log<'a>(
    snapshots: &[Snapshot],
    ids: &HashMap<SnapshotKey, i64>,
    issues: &'a [QualityIssue],
) -> Vec<(&'a QualityIssue, Option<i64>)> {
    let by_event: HashMap<&str, Option<i64>> = snapshots
        .iter()
        .map(|s| {
            let id = ids.get(&key(&s.event.id, s.snapshot_time)).copied();
            (s.event.id.as_str(), id)
        })
        .collect();
    issues
        .iter()
        .filter_map(
            |issue| match issue.event_id.as_deref().map(|e| by_event.get(e)) {
                Some(Some(Some(id))) => Some((issue, Some(*id))),
                Some(Some(None)) => None,
                _ => Some((issue, None)),
            },
        )
        .collect()
}

fn unique_events(snapshots: &[Snapshot]) -> Vec<Event> {
    let mut seen = HashSet::new();
    snapshots
        .iter()
        .filter(|s| seen.insert(s.event.id.as_str()))
        .map(|s| s.event.clone())
        .collect()
}

pub(super) async fn upsert_events(
    client: &impl deadpool_postgres::GenericClient,
    events: &[Event],
    seen_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut seen = HashSet::new();
    let events: Vec<&Event> = events.iter().filter(|e| seen.insert(&e.id)).collect();
    let col = |f: fn(&Event) -> String| events.iter().map(|e| f(e)).collect::<Vec<_>>();
    let ids = col(|e| e.id.clone());
    let sports = col(|e| e.sport_key.clone());
    let homes = col(|e| e.home_team.clone());
    let aways = col(|e| e.away_team.clone());
    let statuses = col(|e| e.status.as_str().to_string());
    let commence: Vec<DateTime<Utc>> = events.iter().map(|e| e.commence_time).collect();
    let home_scores: Vec<Option<i32>> = events.iter().map(|e| e.home_score).collect();
    let away_scores: Vec<Option<i32>> = events.iter().map(|e| e.away_score).collect();
    let completed: Vec<Option<DateTime<Utc>>> = events.iter().map(|e| e.completed_at).collect();
    let stmt = client.prepare_cached(UPSERT_EVENTS).await?;
    client
        .execute(
            &stmt,
            &[
                &ids,
                &sports,
                &homes,
                &aways,
                &commence,
                &statuses,
                &home_scores,
                &away_scores,
                &completed,
                &seen_at,
            ],
        )
        .await?;
    Ok(())
}

/// Inserts the snapshots' headers; returns the ids of those newly stored.
async fn insert_snapshots(
    client: &impl deadpool_postgres::GenericClient,
    snapshots: &[Snapshot],
) -> Result<HashMap<SnapshotKey, i64>, StoreError> {
    if snapshots.is_empty() {
        return Ok(HashMap::new());
    }
    let event_ids: Vec<&str> = snapshots.iter().map(|s| s.event.id.as_str()).collect();
    let times: Vec<DateTime<Utc>> = snapshots.iter().map(|s| s.snapshot_time).collect();
    let raws: Vec<Json<&RawJson>> = snapshots.iter().map(|s| Json(&s.raw)).collect();
    let tiers: Vec<&str> = snapshots.iter().map(|s| s.fetch_tier.as_str()).collect();
    let hours: Vec<f64> = snapshots.iter().map(|s| s.hours_until_commence).collect();
    let counts: Vec<i32> = snapshots.iter().map(|s| s.bookmaker_count).collect();
    let stmt = client.prepare_cached(INSERT_SNAPSHOTS).await?;
    let rows = client
        .query(&stmt, &[&event_ids, &times, &raws, &tiers, &hours, &counts])
        .await?;
    Ok(rows
        .iter()
        .map(|r| ((r.get(1), r.get(2)), r.get(0)))
        .collect())
}

pub(super) async fn insert_issues(
    client: &impl deadpool_postgres::GenericClient,
    issues: &[(&QualityIssue, Option<i64>)],
) -> Result<usize, StoreError> {
    if issues.is_empty() {
        return Ok(0);
    }
    let event_ids: Vec<Option<&str>> = issues.iter().map(|(i, _)| i.event_id.as_deref()).collect();
    let snapshot_ids: Vec<Option<i64>> = issues.iter().map(|(_, id)| *id).collect();
    let severities: Vec<&str> = issues.iter().map(|(i, _)| i.severity.as_str()).collect();
    let kinds: Vec<&str> = issues.iter().map(|(i, _)| i.issue_type.as_str()).collect();
    let descriptions: Vec<&str> = issues.iter().map(|(i, _)| i.description.as_str()).collect();
    let contexts: Vec<&Value> = issues.iter().map(|(i, _)| &i.context).collect();
    let stmt = client.prepare_cached(INSERT_ISSUES).await?;
    let n = client
        .execute(
            &stmt,
            &[
                &event_ids,
                &snapshot_ids,
                &severities,
                &kinds,
                &descriptions,
                &contexts,
            ],
        )
        .await?;
    Ok(n as usize)
}

fn notes_json(notes: &[String]) -> Option<Value> {
    (!notes.is_empty()).then(|| Value::Array(notes.iter().cloned().map(Value::String).collect()))
}

/// The odds rows of a slate as columns, ready to bind to `unnest`.
#[derive(Default)]
struct OddsColumns<'a> {
    snapshot_ids: Vec<i64>,
    event_ids: Vec<&'a str>,
    times: Vec<DateTime<Utc>>,
    books: Vec<&'a str>,
    titles: Vec<&'a str>,
    markets: Vec<&'a str>,
    outcomes: Vec<&'a str>,
    prices: Vec<f64>,
    points: Vec<Option<f64>>,
    updates: Vec<Option<DateTime<Utc>>>,
    valid: Vec<bool>,
    notes: Vec<Option<Value>>,
    descriptions: Vec<Option<&'a str>>,
}

impl<'a> OddsColumns<'a> {
    fn push_snapshot(&mut self, snapshot_id: i64, snapshot: &'a Snapshot) {
        for row in &snapshot.odds {
            self.snapshot_ids.push(snapshot_id);
            self.event_ids.push(&snapshot.event.id);
            self.times.push(snapshot.snapshot_time);
            self.books.push(&row.bookmaker_key);
            self.titles.push(&row.bookmaker_title);
            self.markets.push(row.market_key.as_str());
            self.outcomes.push(&row.outcome_name);
            self.prices.push(row.price);
            self.points.push(row.point);
            self.updates.push(row.last_update);
            self.valid.push(row.is_valid);
            self.notes.push(notes_json(&row.validation_notes));
            self.descriptions.push(row.description.as_deref());
        }
    }

    fn len(&self) -> usize {
        self.snapshot_ids.len()
    }

    fn is_empty(&self) -> bool {
        self.snapshot_ids.is_empty()
    }

    fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 13] {
        [
            &self.snapshot_ids,
            &self.event_ids,
            &self.times,
            &self.books,
            &self.titles,
            &self.markets,
            &self.outcomes,
            &self.prices,
            &self.points,
            &self.updates,
            &self.valid,
            &self.notes,
            &self.descriptions,
        ]
    }
}
