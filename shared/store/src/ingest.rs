//! The path from an `/odds` response to the database: normalize, validate against the previous
//! lines, apply the reject policy, and store the slate atomically. Live slates are written in
//! one set-based transaction; archive snapshots of a backfill through binary COPY.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::{LineKey, SlateWrite, Store, StoreError};
use odds_core::model::{IssueKind, QualityIssue, Severity};
use odds_core::normalize::{ParsedSlate, SlateError, parse_odds_body, parse_odds_data};
use odds_core::settings::{CollectionSettings, ConfigError, Vars};
use odds_core::validate::{ValidationRules, Validator, is_rejectable};

#[derive(Debug, Clone, PartialEq)]
pub struct IngestOptions {
    /// `None` turns validation off (`ENABLE_VALIDATION=false`).
    pub validation: Option<ValidationRules>,
    /// Hold back a game's snapshot when any of its rows is flagged (`REJECT_INVALID_ODDS`).
    pub reject_invalid: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            validation: Some(ValidationRules::default()),
            reject_invalid: false,
        }
    }
}

impl IngestOptions {
    /// Reads `ENABLE_VALIDATION` and `REJECT_INVALID_ODDS`; the validator expects the books
    /// being collected.
    pub fn from_vars(
        vars: &Vars,
        collection: &CollectionSettings,
    ) -> Result<IngestOptions, ConfigError> {
        let enabled = vars.bool_or("ENABLE_VALIDATION", true)?;
        Ok(IngestOptions {
            validation: enabled.then(|| ValidationRules {
                bookmakers: collection.bookmakers.clone(),
                markets: collection
                    .markets
                    .iter()
                    .chain(&collection.event_markets)
                    .cloned()
                    .collect(),
                ..ValidationRules::default()
            }),
            reject_invalid: vars.bool_or("REJECT_INVALID_ODDS", false)?,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestReport {
    /// Elements of the response array, malformed ones included.
    pub games_in_body: usize,
    /// Games read from the response that had not tipped off at the snapshot time.
    pub games_in_response: usize,
    /// Games skipped because they had started: only pre-game lines are collected.
    pub games_started: usize,
    pub snapshots_rejected: usize,
    pub issues_found: usize,
    #[serde(flatten)]
    pub write: SlateWrite,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Slate(#[from] SlateError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The one door from an `/odds` body (live, or a historical snapshot's `data`) to the database:
/// decodes it once, game by game, validates it and stores it. A body that is not a JSON array is
/// logged as a critical quality issue and returned as an error; nothing else is lost.
pub async fn ingest_odds_body(
    store: &Store,
    body: &[u8],
    snapshot_time: DateTime<Utc>,
    sport_key: &str,
    options: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let slate = parsed(store, parse_odds_body(body, snapshot_time, sport_key)).await?;
    Ok(ingest_slate(store, slate, options).await?)
}

/// [`ingest_odds_body`] for a body already decoded (a slate with per-event markets merged in).
pub async fn ingest_odds_data(
    store: &Store,
    data: serde_json::Value,
    snapshot_time: DateTime<Utc>,
    sport_key: &str,
    options: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let slate = parsed(store, parse_odds_data(data, snapshot_time, sport_key)).await?;
    Ok(ingest_slate(store, slate, options).await?)
}

/// The door for a historical snapshot's `data`, already decoded: the same checks as a live
/// slate, the rows written through binary COPY. `snapshot_time` is the archive's own timestamp.
pub async fn ingest_archived(
    store: &Store,
    data: serde_json::Value,
    snapshot_time: DateTime<Utc>,
    sport_key: &str,
    options: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let slate = parsed(store, parse_odds_data(data, snapshot_time, sport_key)).await?;
    let (slate, mut report) = prepare(store, slate, options).await?;
    report.write = store
        .bulk_insert_historical(&slate.snapshots, &slate.issues)
        .await?;
    Ok(report)
}

/// A body that is not a slate is logged as a critical issue and returned as the error.
async fn parsed(
    store: &Store,
    result: Result<ParsedSlate, SlateError>,
) -> Result<ParsedSlate, IngestError> {
    match result {
        Ok(slate) => Ok(slate),
        Err(e) => {
            tracing::error!(error = %e, "odds response discarded");
            store.log_data_quality_issue(&e.to_issue()).await?;
            Err(e.into())
        }
    }
}

/// Validates and stores an already parsed slate. Games that had tipped off at their snapshot
/// time are left out.
pub async fn ingest_slate(
    store: &Store,
    slate: ParsedSlate,
    options: &IngestOptions,
) -> Result<IngestReport, StoreError> {
    let (slate, mut report) = prepare(store, slate, options).await?;
    report.write = store.store_slate(&slate.snapshots, &slate.issues).await?;
    Ok(report)
}

/// Everything before the write: started games left out, validation, the reject policy.
async fn prepare(
    store: &Store,
    mut slate: ParsedSlate,
    options: &IngestOptions,
) -> Result<(ParsedSlate, IngestReport), StoreError> {
    let parsed = slate.snapshots.len();
    slate
        .snapshots
        .retain(|s| s.event.commence_time > s.snapshot_time);
    let games_in_response = slate.snapshots.len();
    let games_started = parsed - games_in_response;
    if let Some(rules) = &options.validation {
        let validator = Validator::new(rules.clone());
        // Only spreads and totals have points whose movement is checked.
        let lines: Vec<LineKey> = slate
            .snapshots
            .iter()
            .flat_map(|s| {
                s.odds
                    .iter()
                    .filter(|r| r.market_key.has_points())
                    .map(|r| LineKey {
                        event_id: s.event.id.clone(),
                        market_key: r.market_key.clone(),
                        bookmaker_key: r.bookmaker_key.clone(),
                    })
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        // Snapshots of one slate share their time; the earliest is the safe bound otherwise.
        let earliest = slate.snapshots.iter().map(|s| s.snapshot_time).min();
        let mut previous = match earliest {
            Some(t) => store.previous_lines(&lines, t).await?,
            None => Default::default(),
        };
        for snapshot in &mut slate.snapshots {
            let prev = previous.remove(&snapshot.event.id).unwrap_or_default();
            slate.issues.extend(validator.validate(snapshot, &prev));
        }
    }
    let issues_found = slate.issues.len();

    let mut rejected = 0;
    if options.reject_invalid {
        let (keep, reject): (Vec<_>, Vec<_>) = slate
            .snapshots
            .into_iter()
            .partition(|s| !is_rejectable(s, &slate.issues));
        for snapshot in &reject {
            let reasons: Vec<&str> = slate
                .issues
                .iter()
                .filter(|i| i.event_id.as_deref() == Some(&snapshot.event.id))
                .map(|i| i.issue_type.as_str())
                .collect();
            slate.issues.push(QualityIssue::new(
                Some(&snapshot.event.id),
                Severity::Error,
                IssueKind::RejectedSnapshot,
                format!(
                    "snapshot of {} at {} not stored (REJECT_INVALID_ODDS): {}",
                    snapshot.event.id,
                    snapshot.snapshot_time,
                    reasons.join(", ")
                ),
                json!({ "snapshot_time": snapshot.snapshot_time, "reasons": reasons }),
            ));
        }
        rejected = reject.len();
        slate.snapshots = keep;
    }

    for issue in &slate.issues {
        match issue.severity {
            Severity::Info => {}
            Severity::Warning => {
                tracing::warn!(event_id = ?issue.event_id, kind = %issue.issue_type, "{}", issue.description)
            }
            _ => {
                tracing::error!(event_id = ?issue.event_id, kind = %issue.issue_type, "{}", issue.description)
            }
        }
    }
    let report = IngestReport {
        games_in_body: slate.games_in_body,
        games_in_response,
        games_started,
        snapshots_rejected: rejected,
        issues_found,
        write: SlateWrite::default(),
    };
    Ok((slate, report))
}
