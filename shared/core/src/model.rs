//! Domain types: events and their lifecycle, fetch tiers, normalized odds rows, snapshots and
//! data-quality issues.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The lifecycle of a game. Odds are collected only while it is `Scheduled`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum EventStatus {
    Scheduled,
    Live,
    Final,
    Cancelled,
    Postponed,
}
named!(EventStatus, "event status");

impl EventStatus {
    pub const ALL: &[EventStatus] = <EventStatus as strum::VariantArray>::VARIANTS;

    /// No further data will be collected for a game in a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            EventStatus::Final | EventStatus::Cancelled | EventStatus::Postponed
        )
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
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum FetchTier {
    Opening,
    Early,
    Sharp,
    Pregame,
    Closing,
}

named!(FetchTier, "fetch tier");

impl FetchTier {
    /// From the least to the most urgent.
    pub const ALL: &[FetchTier] = <FetchTier as strum::VariantArray>::VARIANTS;

    /// The tier of a game `hours` before its tip-off: a game exactly 3 hours out is already
    /// `Closing`; a game already started counts as `Closing` too.
    pub fn for_hours_until(hours: f64) -> FetchTier {
        FetchTier::ALL
            .iter()
            .copied()
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
}

/// Hours from `now` until `then` (negative once `then` has passed).
pub fn hours_between(now: DateTime<Utc>, then: DateTime<Utc>) -> f64 {
    (then - now).num_milliseconds() as f64 / 3_600_000.0
}

/// The three featured markets this system collects.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Market {
    H2h,
    Spreads,
    Totals,
}
named!(Market, "market");

impl Market {
    pub const ALL: &[Market] = <Market as strum::VariantArray>::VARIANTS;

    /// `None` for keys outside the three featured markets (such as `h2h_lay`).
    pub fn from_key(key: &str) -> Option<Market> {
        Market::ALL.iter().copied().find(|m| m.as_str() == key)
    }

    /// Spreads and totals carry a point (handicap or line); moneylines do not.
    pub fn has_points(self) -> bool {
        matches!(self, Market::Spreads | Market::Totals)
    }
}

/// A market as The Odds API keys it: one of the featured three, or any other market (alternate
/// lines, periods, player props, `h2h_lay`), kept exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum MarketKey {
    Featured(Market),
    Other(String),
}

impl MarketKey {
    pub fn as_str(&self) -> &str {
        match self {
            MarketKey::Featured(market) => market.as_str(),
            MarketKey::Other(key) => key,
        }
    }

    pub fn featured(&self) -> Option<Market> {
        match self {
            MarketKey::Featured(market) => Some(*market),
            MarketKey::Other(_) => None,
        }
    }

    /// Whether the market's outcomes carry points whose movement is checked.
    pub fn has_points(&self) -> bool {
        self.featured().is_some_and(Market::has_points)
    }
}

impl From<&str> for MarketKey {
    fn from(key: &str) -> MarketKey {
        match Market::from_key(key) {
            Some(market) => MarketKey::Featured(market),
            None => MarketKey::Other(key.to_string()),
        }
    }
}

impl From<String> for MarketKey {
    fn from(key: String) -> MarketKey {
        match Market::from_key(&key) {
            Some(market) => MarketKey::Featured(market),
            None => MarketKey::Other(key),
        }
    }
}

impl From<Market> for MarketKey {
    fn from(market: Market) -> MarketKey {
        MarketKey::Featured(market)
    }
}

impl From<MarketKey> for String {
    fn from(key: MarketKey) -> String {
        key.as_str().to_string()
    }
}

impl fmt::Display for MarketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for MarketKey {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
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

/// The three jobs; the name is the function's and the rule's.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum JobName {
    FetchOdds,
    FetchScores,
    UpdateStatus,
}
named!(JobName, "job");

impl JobName {
    pub const ALL: &[JobName] = <JobName as strum::VariantArray>::VARIANTS;
}

/// How a job run ended.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum RunOutcome {
    /// The paid work ran.
    Success,
    /// Not due: nothing spent.
    Skipped,
    /// Another invocation holds the job's lease.
    Busy,
    Failed,
}
named!(RunOutcome, "run outcome");

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
    pub market_key: MarketKey,
    pub outcome_name: String,
    /// The outcome's subject where the name alone does not say it: the player of a prop
    /// (`Over` of "LeBron James"). Part of the line's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
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
    pub raw: RawJson,
    pub odds: Vec<OddsRow>,
}

/// One game's JSON as received (NUL characters aside), stored as `jsonb` as it is: its text when
/// it was read from a body, which is not decoded into a tree and encoded again; its value when it
/// came decoded (a slate with per-event markets merged in, an archive snapshot), encoded once.
#[derive(Debug, Clone)]
pub enum RawJson {
    Text(Box<serde_json::value::RawValue>),
    Value(serde_json::Value),
}

impl RawJson {
    /// The JSON text (encoded here for a decoded value).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            RawJson::Text(text) => std::borrow::Cow::Borrowed(text.get()),
            RawJson::Value(value) => std::borrow::Cow::Owned(value.to_string()),
        }
    }

    /// The decoded value; `Null` for text that a decoded value cannot hold (a number beyond the
    /// range of f64).
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            RawJson::Text(text) => {
                serde_json::from_str(text.get()).unwrap_or(serde_json::Value::Null)
            }
            RawJson::Value(value) => value.clone(),
        }
    }
}

/// Equal when they hold the same JSON, text or value.
impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (RawJson::Text(a), RawJson::Text(b)) => a.get() == b.get(),
            (RawJson::Value(a), RawJson::Value(b)) => a == b,
            _ => self.to_value() == other.to_value(),
        }
    }
}

impl Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RawJson::Text(text) => text.serialize(serializer),
            RawJson::Value(value) => value.serialize(serializer),
        }
    }
}

/// A stored odds row read back with its snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOdds {
    pub event_id: String,
    pub snapshot_time: DateTime<Utc>,
    #[serde(flatten)]
    pub row: OddsRow,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}
named!(Severity, "severity");

/// The kinds of problem `data_quality_logs.issue_type` records.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IssueKind {
    /// A whole response had to be discarded (not JSON, not an array).
    MalformedResponse,
    /// A game whose identity (id, teams, tip-off) is unusable.
    MalformedEvent,
    /// A bookmaker, market or outcome that does not fit the documented shape.
    MalformedData,
    MalformedTimestamp,
    NulCharacter,
    DuplicateEvent,
    MissingScore,
    GamePostponed,
    GameRestored,
    PriceOutOfRange,
    FutureTimestamp,
    VigOutOfRange,
    MissingField,
    ExcessiveLineMovement,
    OutcomeMismatch,
    UnknownMarket,
    UnknownBookmaker,
    RejectedSnapshot,
}
named!(IssueKind, "issue kind");

impl PartialEq<&str> for IssueKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A problem found in incoming data; stored in `data_quality_logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityIssue {
    pub event_id: Option<String>,
    pub severity: Severity,
    /// A stable machine-readable kind, e.g. `price_out_of_range`.
    pub issue_type: IssueKind,
    pub description: String,
    pub context: serde_json::Value,
}

impl QualityIssue {
    pub fn new(
        event_id: Option<&str>,
        severity: Severity,
        issue_type: IssueKind,
        description: impl Into<String>,
        context: serde_json::Value,
    ) -> QualityIssue {
        // Issues quote outside data, which may hold what PostgreSQL cannot store.
        let mut context = context;
        crate::text::strip_nul(&mut context);
        QualityIssue {
            event_id: event_id.map(|id| crate::text::without_nul(id).into_owned()),
            severity,
            issue_type,
            description: crate::text::without_nul(&description.into()).into_owned(),
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

/// The endpoints of The Odds API v4; the name is what `fetch_logs.endpoint` records.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Endpoint {
    Sports,
    Events,
    Odds,
    EventOdds,
    Scores,
    HistoricalOdds,
    HistoricalEvents,
    HistoricalEventOdds,
    /// NBA.com's scoreboards (free): the live CDN file and `scoreboardv3`.
    NbaScoreboard,
}
named!(Endpoint, "endpoint");

/// One call to an outside API, successful or not; stored in `fetch_logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchLog {
    pub fetched_at: DateTime<Utc>,
    pub job_name: Option<JobName>,
    pub endpoint: Endpoint,
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
        for &status in EventStatus::ALL {
            assert_eq!(status.as_str().parse::<EventStatus>().unwrap(), status);
        }
        for &tier in FetchTier::ALL {
            assert_eq!(tier.as_str().parse::<FetchTier>().unwrap(), tier);
        }
        let err = "halftime".parse::<EventStatus>().unwrap_err().to_string();
        assert!(
            err.contains("halftime") && err.contains("scheduled"),
            "{err}"
        );
    }
}
