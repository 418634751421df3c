//! Wire types of The Odds API v4, tolerant by design: every field the reference marks optional
//! or uncertain is an `Option`, unknown fields are ignored, and market keys stay strings because
//! new ones (e.g. `h2h_lay`) appear without notice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One sport from `/v4/sports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sport {
    pub key: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub has_outrights: bool,
}

/// An event as listed by `/events` (no bookmakers) or `/odds` (with bookmakers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiEvent {
    pub id: String,
    #[serde(default)]
    pub sport_key: Option<String>,
    #[serde(default)]
    pub sport_title: Option<String>,
    /// ISO 8601 as requested with `dateFormat=iso`.
    pub commence_time: String,
    pub home_team: String,
    pub away_team: String,
    #[serde(default)]
    pub home_rotation: Option<i64>,
    #[serde(default)]
    pub away_rotation: Option<i64>,
    #[serde(default)]
    pub bookmakers: Vec<ApiBookmaker>,
}

impl ApiEvent {
    /// `commence_time` as an instant; `None` if the API sent something other than ISO 8601.
    pub fn commence_time_utc(&self) -> Option<DateTime<Utc>> {
        crate::time::parse_rfc3339(&self.commence_time)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiBookmaker {
    pub key: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub last_update: Option<String>,
    #[serde(default)]
    pub markets: Vec<ApiMarket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiMarket {
    pub key: String,
    #[serde(default)]
    pub last_update: Option<String>,
    #[serde(default)]
    pub outcomes: Vec<ApiOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiOutcome {
    pub name: String,
    pub price: f64,
    /// Integer-valued JSON numbers (`221`) parse as `f64` too.
    #[serde(default)]
    pub point: Option<f64>,
    #[serde(default)]
    pub description: Option<String>,
}

/// One game from `/scores`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreEvent {
    pub id: String,
    #[serde(default)]
    pub sport_key: Option<String>,
    #[serde(default)]
    pub sport_title: Option<String>,
    pub commence_time: String,
    #[serde(default)]
    pub completed: bool,
    pub home_team: String,
    pub away_team: String,
    /// `null` before tip-off.
    #[serde(default)]
    pub scores: Option<Vec<TeamScore>>,
    #[serde(default)]
    pub last_update: Option<String>,
}

impl ScoreEvent {
    pub fn commence_time_utc(&self) -> Option<DateTime<Utc>> {
        crate::time::parse_rfc3339(&self.commence_time)
    }

    /// A team's points, found by name because the API does not promise an order.
    pub fn points_of(&self, team: &str) -> Option<u32> {
        self.scores
            .iter()
            .flatten()
            .find(|s| s.name == team)
            .and_then(TeamScore::points)
    }
}

/// The API sends the score as a JSON string (`"113"`); a JSON number is accepted too, since a
/// silent format change there must not drop a final score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamScore {
    pub name: String,
    #[serde(deserialize_with = "score_text")]
    pub score: String,
}

impl TeamScore {
    /// The score as points; `None` when it is not a whole non-negative number.
    pub fn points(&self) -> Option<u32> {
        self.score.trim().parse().ok()
    }
}

fn score_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Score {
        Text(String),
        Integer(i64),
        Number(f64),
    }
    Ok(match Score::deserialize(deserializer)? {
        Score::Text(text) => text,
        Score::Integer(n) => n.to_string(),
        Score::Number(n) => n.to_string(),
    })
}

/// The wrapper of every historical endpoint; `data` is an array for odds and events and an
/// object for one event's odds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoricalSnapshot<T> {
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub previous_timestamp: Option<String>,
    #[serde(default)]
    pub next_timestamp: Option<String>,
    pub data: T,
}

impl HistoricalSnapshot<()> {
    /// The same timestamps around other data.
    pub fn with_data<T>(self, data: T) -> HistoricalSnapshot<T> {
        HistoricalSnapshot {
            timestamp: self.timestamp,
            previous_timestamp: self.previous_timestamp,
            next_timestamp: self.next_timestamp,
            data,
        }
    }
}

/// The JSON body of an API error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub details_url: Option<String>,
}
