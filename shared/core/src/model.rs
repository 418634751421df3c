//! Domain types: events and their lifecycle, fetch tiers, normalized odds rows, snapshots and
//! data-quality issues.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The lifecycle of a game. Odds are collected only while it is `Scheduled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    Scheduled,
    Live,
    Final,
    Cancelled,
    Postponed,
}

impl EventStatus {
    pub const ALL: [EventStatus; 5] = [
        EventStatus::Scheduled,
        EventStatus::Live,
        EventStatus::Final,
        EventStatus::Cancelled,
        EventStatus::Postponed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Scheduled => "scheduled",
            EventStatus::Live => "live",
            EventStatus::Final => "final",
            EventStatus::Cancelled => "cancelled",
            EventStatus::Postponed => "postponed",
        }
    }

    /// No further data will be collected for a game in a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            EventStatus::Final | EventStatus::Cancelled | EventStatus::Postponed
        )
    }
}

impl fmt::Display for EventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}' (expected one of: {expected})")]
pub struct ParseEnumError {
    kind: &'static str,
    value: String,
    expected: &'static str,
}

impl FromStr for EventStatus {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventStatus::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseEnumError {
                kind: "event status",
                value: s.to_string(),
                expected: "scheduled, live, final, cancelled, postponed",
            })
    }
}

/// How close the most urgent game is, which sets how often odds are fetched.
///
/// | tier    | hours before tip-off | interval |
/// |---------|----------------------|----------|
/// | opening | over 72              | 48 h     |
/// | early   | over 24, up to 72    | 24 h     |
/// | sharp   | over 12, up to 24    | 12 h     |
/// | pregame | over 3, up to 12     | 3 h      |
/// | closing | 3 and less           | 30 min   |
///
/// A window includes its upper bound, so the fetch made exactly at T-3h, when the planner
/// crosses into the closing tier, counts as the first closing snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FetchTier {
    Opening,
    Early,
    Sharp,
    Pregame,
    Closing,
}

impl FetchTier {
    /// From the least to the most urgent.
    pub const ALL: [FetchTier; 5] = [
        FetchTier::Opening,
        FetchTier::Early,
        FetchTier::Sharp,
        FetchTier::Pregame,
        FetchTier::Closing,
    ];

    /// The tier of a game `hours` before its tip-off: a game exactly 3 hours out is already
    /// `Closing`; a game already started counts as `Closing` too.
    pub fn for_hours_until(hours: f64) -> FetchTier {
        FetchTier::ALL
            .into_iter()
            .find(|tier| hours > tier.min_hours())
            .unwrap_or(FetchTier::Closing)
    }

    pub fn for_times(now: DateTime<Utc>, commence_time: DateTime<Utc>) -> FetchTier {
        FetchTier::for_hours_until(hours_between(now, commence_time))
    }

    /// The exclusive lower bound of the tier's window, in hours before tip-off.
    pub fn min_hours(self) -> f64 {
        match self {
            FetchTier::Opening => 72.0,
            FetchTier::Early => 24.0,
            FetchTier::Sharp => 12.0,
            FetchTier::Pregame => 3.0,
            FetchTier::Closing => f64::NEG_INFINITY,
        }
    }

    /// The inclusive upper bound of the tier's window, in hours before tip-off.
    pub fn max_hours(self) -> f64 {
        match self {
            FetchTier::Opening => f64::INFINITY,
            FetchTier::Early => 72.0,
            FetchTier::Sharp => 24.0,
            FetchTier::Pregame => 12.0,
            FetchTier::Closing => 3.0,
        }
    }

    /// How long to wait between fetches while the most urgent game is in this tier.
    pub fn interval(self) -> Duration {
        match self {
            FetchTier::Opening => Duration::hours(48),
            FetchTier::Early => Duration::hours(24),
            FetchTier::Sharp => Duration::hours(12),
            FetchTier::Pregame => Duration::hours(3),
            FetchTier::Closing => Duration::minutes(30),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FetchTier::Opening => "opening",
            FetchTier::Early => "early",
            FetchTier::Sharp => "sharp",
            FetchTier::Pregame => "pregame",
            FetchTier::Closing => "closing",
        }
    }
}

impl fmt::Display for FetchTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FetchTier {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FetchTier::ALL
            .into_iter()
            .find(|tier| tier.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseEnumError {
                kind: "fetch tier",
                value: s.to_string(),
                expected: "opening, early, sharp, pregame, closing",
            })
    }
}

/// Hours from `now` until `then` (negative once `then` has passed).
pub fn hours_between(now: DateTime<Utc>, then: DateTime<Utc>) -> f64 {
    (then - now).num_milliseconds() as f64 / 3_600_000.0
}

/// The three featured markets this system collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Market {
    H2h,
    Spreads,
    Totals,
}

impl Market {
    pub const ALL: [Market; 3] = [Market::H2h, Market::Spreads, Market::Totals];

    pub fn as_str(self) -> &'static str {
        match self {
            Market::H2h => "h2h",
            Market::Spreads => "spreads",
            Market::Totals => "totals",
        }
    }

    /// `None` for keys outside the three featured markets (such as `h2h_lay`).
    pub fn from_key(key: &str) -> Option<Market> {
        Market::ALL.into_iter().find(|m| m.as_str() == key)
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The eight books of the design and The Odds API's key for each.
pub const DEFAULT_BOOKMAKERS: [&str; 8] = [
    "pinnacle",
    "circasports",
    "draftkings",
    "fanduel",
    "betmgm",
    "williamhill_us",
    "betrivers",
    "bovada",
];

/// A game as stored in `events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub sport_key: String,
    pub home_team: String,
    pub away_team: String,
    pub commence_time: DateTime<Utc>,
    pub status: EventStatus,
    pub home_score: Option<i32>,
    pub away_score: Option<i32>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl Event {
    pub fn scheduled(
        id: impl Into<String>,
        sport_key: impl Into<String>,
        home_team: impl Into<String>,
        away_team: impl Into<String>,
        commence_time: DateTime<Utc>,
    ) -> Event {
        Event {
            id: id.into(),
            sport_key: sport_key.into(),
            home_team: home_team.into(),
            away_team: away_team.into(),
            commence_time,
            status: EventStatus::Scheduled,
            home_score: None,
            away_score: None,
            completed_at: None,
        }
    }
}

/// One bookmaker's price for one outcome of one market, as normalized from a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OddsRow {
    pub bookmaker_key: String,
    pub bookmaker_title: String,
    pub market_key: String,
    pub outcome_name: String,
    /// American format (e.g. -110, +145).
    pub price: f64,
    /// Handicap (spreads) or line (totals); `None` for h2h.
    pub point: Option<f64>,
    /// When the book last changed this market (falls back to the book's own `last_update`).
    pub last_update: Option<DateTime<Utc>>,
    pub is_valid: bool,
    pub validation_notes: Vec<String>,
}

impl OddsRow {
    pub fn flag(&mut self, note: impl Into<String>) {
        self.is_valid = false;
        let note = note.into();
        if !self.validation_notes.contains(&note) {
            self.validation_notes.push(note);
        }
    }
}

/// Everything one fetch learnt about one game: the raw JSON exactly as received and its
/// normalized rows. Written to the database as one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub event: Event,
    pub snapshot_time: DateTime<Utc>,
    pub fetch_tier: FetchTier,
    pub hours_until_commence: f64,
    pub bookmaker_count: i32,
    pub raw: serde_json::Value,
    pub odds: Vec<OddsRow>,
}

/// A stored odds row read back with its snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOdds {
    pub event_id: String,
    pub snapshot_time: DateTime<Utc>,
    #[serde(flatten)]
    pub row: OddsRow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem found in incoming data; stored in `data_quality_logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityIssue {
    pub event_id: Option<String>,
    pub severity: Severity,
    /// A stable machine-readable kind, e.g. `price_out_of_range`.
    pub issue_type: String,
    pub description: String,
    pub context: serde_json::Value,
}

impl QualityIssue {
    pub fn new(
        event_id: Option<&str>,
        severity: Severity,
        issue_type: &str,
        description: impl Into<String>,
        context: serde_json::Value,
    ) -> QualityIssue {
        QualityIssue {
            event_id: event_id.map(str::to_string),
            severity,
            issue_type: issue_type.to_string(),
            description: description.into(),
            context,
        }
    }
}

/// Credits as reported by The Odds API's `x-requests-*` headers; each may be missing, and
/// `remaining` goes negative after overspending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub remaining: Option<i64>,
    pub used: Option<i64>,
    /// Credits charged for the call the response belongs to.
    pub last: Option<i64>,
}

/// One call to an outside API, successful or not; stored in `fetch_logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchLog {
    pub fetched_at: DateTime<Utc>,
    pub job_name: Option<String>,
    /// `odds`, `events`, `scores`, `historical_odds`, ...
    pub endpoint: String,
    pub sport_key: Option<String>,
    pub http_status: Option<i32>,
    pub success: bool,
    pub events_count: Option<i32>,
    pub quota: Quota,
    pub duration_ms: i64,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_seed_table_with_inclusive_upper_bounds() {
        let cases = [
            (200.0, FetchTier::Opening),
            (72.01, FetchTier::Opening),
            (72.0, FetchTier::Early),
            (24.01, FetchTier::Early),
            (24.0, FetchTier::Sharp),
            (12.01, FetchTier::Sharp),
            (12.0, FetchTier::Pregame),
            (3.01, FetchTier::Pregame),
            (3.0, FetchTier::Closing),
            (0.0, FetchTier::Closing),
            (-1.0, FetchTier::Closing),
        ];
        for (hours, tier) in cases {
            assert_eq!(FetchTier::for_hours_until(hours), tier, "{hours} h");
        }
        assert_eq!(FetchTier::Opening.interval(), Duration::hours(48));
        assert_eq!(FetchTier::Early.interval(), Duration::hours(24));
        assert_eq!(FetchTier::Sharp.interval(), Duration::hours(12));
        assert_eq!(FetchTier::Pregame.interval(), Duration::hours(3));
        assert_eq!(FetchTier::Closing.interval(), Duration::minutes(30));
    }

    #[test]
    fn tier_windows_tile_the_line_without_gaps() {
        for pair in FetchTier::ALL.windows(2) {
            assert_eq!(pair[0].min_hours(), pair[1].max_hours());
        }
    }

    #[test]
    fn enums_round_trip_through_their_names() {
        for status in EventStatus::ALL {
            assert_eq!(status.as_str().parse::<EventStatus>().unwrap(), status);
        }
        for tier in FetchTier::ALL {
            assert_eq!(tier.as_str().parse::<FetchTier>().unwrap(), tier);
        }
        let err = "halftime".parse::<EventStatus>().unwrap_err().to_string();
        assert!(
            err.contains("halftime") && err.contains("scheduled"),
            "{err}"
        );
    }
}
