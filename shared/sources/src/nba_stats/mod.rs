//! NBA.com scores: today's scoreboard from the CDN, final scores of past
//! dates from stats.nba.com, and matching NBA.com games to The Odds API events.

pub mod client;
pub mod game_finder;
pub mod scoreboard;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::http::{Pace, PaceVars, check_base_url};
use odds_core::settings::{ConfigError, Vars};
use odds_core::teams;

pub use client::NbaStatsClient;
pub use scoreboard::{NbaGame, NbaGameStatus, NbaTeamLine, Scoreboard, SkippedGame};

pub const DEFAULT_CDN_BASE_URL: &str = "https://cdn.nba.com";
pub const DEFAULT_STATS_BASE_URL: &str = "https://stats.nba.com";

#[derive(Debug, Clone, PartialEq)]
pub struct NbaStatsSettings {
    pub cdn_base_url: String,
    pub stats_base_url: String,
    pub max_attempts: u32,
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
    /// stats.nba.com publishes no limit and throttles by hanging; reports put the safe pace
    /// well under one call per second, hence a default of one call every two seconds.
    pub rate_per_sec: f64,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// A longer body is refused before it is all in memory.
    pub max_body_bytes: usize,
    /// fetch-scores asks NBA.com (free) for NBA finals, and The Odds API `/scores` only when
    /// NBA.com fails or does not have the game (`NBA_SCORES`).
    pub scores: bool,
}

impl Default for NbaStatsSettings {
    fn default() -> NbaStatsSettings {
        NbaStatsSettings {
            cdn_base_url: DEFAULT_CDN_BASE_URL.to_string(),
            stats_base_url: DEFAULT_STATS_BASE_URL.to_string(),
            max_attempts: 3,
            retry_min_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(10),
            rate_per_sec: 0.5,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            // A season of leaguegamefinder rows is about 1 MB.
            max_body_bytes: 16 * 1024 * 1024,
            scores: true,
        }
    }
}

impl NbaStatsSettings {
    /// Reads `NBA_CDN_BASE_URL`, `NBA_STATS_BASE_URL`, `NBA_MAX_ATTEMPTS`, `NBA_RETRY_MIN_MS`,
    /// `NBA_RETRY_MAX_MS` and `NBA_RATE_PER_SEC`.
    pub fn from_vars(vars: &Vars) -> Result<NbaStatsSettings, ConfigError> {
        let defaults = NbaStatsSettings::default();
        let url = |var: &'static str, default: String| match vars.get(var) {
            Some(raw) => check_base_url(var, raw),
            None => Ok(default),
        };
        let pace = Pace {
            max_attempts: defaults.max_attempts,
            retry_min_delay: defaults.retry_min_delay,
            retry_max_delay: defaults.retry_max_delay,
            rate_per_sec: defaults.rate_per_sec,
        }
        .from_vars(
            vars,
            &PaceVars {
                max_attempts: "NBA_MAX_ATTEMPTS",
                retry_min_ms: "NBA_RETRY_MIN_MS",
                retry_max_ms: "NBA_RETRY_MAX_MS",
                rate_per_sec: "NBA_RATE_PER_SEC",
            },
        )?;
        let max_body_mb = vars.parse_or(
            "NBA_MAX_BODY_MB",
            defaults.max_body_bytes / (1024 * 1024),
            |mb| (1..=64).contains(mb),
        )?;
        Ok(NbaStatsSettings {
            scores: vars.bool_or("NBA_SCORES", defaults.scores)?,
            max_body_bytes: max_body_mb * 1024 * 1024,
            cdn_base_url: url("NBA_CDN_BASE_URL", defaults.cdn_base_url)?,
            stats_base_url: url("NBA_STATS_BASE_URL", defaults.stats_base_url)?,
            max_attempts: pace.max_attempts,
            retry_min_delay: pace.retry_min_delay,
            retry_max_delay: pace.retry_max_delay,
            rate_per_sec: pace.rate_per_sec,
            ..defaults
        })
    }

    /// Both endpoints on one loopback server (tests, the simulator), with short delays.
    pub fn for_base_url(base_url: impl Into<String>) -> NbaStatsSettings {
        let base_url = base_url.into();
        NbaStatsSettings {
            cdn_base_url: base_url.clone(),
            stats_base_url: base_url,
            retry_min_delay: Duration::from_millis(10),
            retry_max_delay: Duration::from_millis(50),
            rate_per_sec: 1_000.0,
            ..NbaStatsSettings::default()
        }
    }
}

/// A failed NBA.com call. URLs carry no secret here, so errors name them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NbaError {
    #[error("{url}: HTTP {status} after {attempts} attempt(s); body starts with {body_start:?}")]
    Status {
        url: String,
        status: u16,
        attempts: u32,
        body_start: String,
    },
    #[error("{url}: timed out after {attempts} attempt(s)")]
    Timeout { url: String, attempts: u32 },
    #[error("{url}: transport error after {attempts} attempt(s): {reason}")]
    Transport {
        url: String,
        attempts: u32,
        reason: String,
    },
    #[error("{url}: undecodable body with HTTP {status} ({reason}); it starts with {body_start:?}")]
    Decode {
        url: String,
        status: u16,
        reason: String,
        body_start: String,
    },
    /// stats.nba.com's own failure body (`{"Message": "An error has occurred."}`).
    #[error("{url}: NBA.com error: {message}")]
    Stats { url: String, message: String },
    #[error("date range {start}..={end} is reversed or longer than the allowed maximum")]
    InvalidRange { start: NaiveDate, end: NaiveDate },
    /// A body longer than the configured limit; not read further.
    #[error("{url}: the response body is over the {limit} byte limit (NBA_MAX_BODY_MB)")]
    TooLarge { url: String, limit: usize },
    #[error("nba client: {0}")]
    Setup(String),
}

impl NbaError {
    /// 429, 5xx, timeouts and connection failures; NBA.com throttles by hanging, so timeouts
    /// are the common case.
    pub fn is_transient(&self) -> bool {
        match self {
            NbaError::Status { status, .. } => *status == 429 || *status >= 500,
            NbaError::Timeout { .. } | NbaError::Transport { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn with_attempts(self, total: u32) -> NbaError {
        match self {
            NbaError::Status {
                url,
                status,
                body_start,
                ..
            } => NbaError::Status {
                url,
                status,
                attempts: total,
                body_start,
            },
            NbaError::Timeout { url, .. } => NbaError::Timeout {
                url,
                attempts: total,
            },
            NbaError::Transport { url, reason, .. } => NbaError::Transport {
                url,
                attempts: total,
                reason,
            },
            other => other,
        }
    }
}

/// A team name that is not one of the 30.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown NBA team name '{0}'")]
pub struct UnknownTeam(pub String);

/// How far apart two instants of the same game may be when NBA.com gives no slate date: the
/// Odds API moves `commence_time` to the actual tip, minutes after the schedule.
const SAME_GAME_WINDOW_HOURS: i64 = 12;

/// The NBA.com game of an Odds API event: same teams on the same US-Eastern date.
///
/// Names go through the 30-team table (so "Los Angeles Clippers" finds NBA.com's "LA"
/// Clippers) and games are compared by team id. `commence_time_utc` is converted to its Eastern
/// date, so a 10:30 pm ET tip-off (03:30 UTC the next day) matches its slate. If no game has
/// that home/away order, the swapped pair is tried, because neutral-site games may be listed
/// with a different home team.
pub fn match_game_by_teams_and_date<'a>(
    games: &'a [NbaGame],
    home_full_name: &str,
    away_full_name: &str,
    commence_time_utc: DateTime<Utc>,
) -> Result<Option<&'a NbaGame>, UnknownTeam> {
    let home = teams::by_name(home_full_name).ok_or_else(|| UnknownTeam(home_full_name.into()))?;
    let away = teams::by_name(away_full_name).ok_or_else(|| UnknownTeam(away_full_name.into()))?;
    let date = odds_core::time::eastern_date(commence_time_utc);
    let same_day = |game: &NbaGame| match (game.game_date, game.game_time_utc) {
        (Some(game_date), _) => game_date == date,
        (None, Some(at)) => (at - commence_time_utc).num_hours().abs() < SAME_GAME_WINDOW_HOURS,
        (None, None) => false,
    };
    let pair = |game: &NbaGame, home_id: i64, away_id: i64| {
        game.home.team().map(|t| t.id) == Some(home_id)
            && game.away.team().map(|t| t.id) == Some(away_id)
    };
    Ok(games
        .iter()
        .find(|g| same_day(g) && pair(g, home.id, away.id))
        .or_else(|| {
            games
                .iter()
                .find(|g| same_day(g) && pair(g, away.id, home.id))
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn line(tricode: &str) -> NbaTeamLine {
        let team = teams::by_tricode(tricode).unwrap();
        NbaTeamLine {
            team_id: team.id,
            tricode: tricode.into(),
            city: team.city.into(),
            name: team.nickname.into(),
            score: Some(100),
        }
    }

    fn game(id: &str, date: Option<&str>, utc: &str, home: &str, away: &str) -> NbaGame {
        NbaGame {
            game_id: id.into(),
            game_date: date.map(|d| d.parse().unwrap()),
            game_time_utc: Some(utc.parse().unwrap()),
            status: NbaGameStatus::Final,
            status_text: "Final".into(),
            period: Some(4),
            home: line(home),
            away: line(away),
        }
    }

    #[test]
    fn late_west_coast_game_matches_its_eastern_date() {
        let games = [
            game(
                "1",
                Some("2025-12-04"),
                "2025-12-05T03:30:00Z",
                "LAC",
                "POR",
            ),
            game(
                "2",
                Some("2025-12-05"),
                "2025-12-06T03:30:00Z",
                "LAC",
                "POR",
            ),
        ];
        let at = "2025-12-06T03:32:18Z".parse().unwrap();
        let found = match_game_by_teams_and_date(
            &games,
            "Los Angeles Clippers",
            "Portland Trail Blazers",
            at,
        )
        .unwrap();
        assert_eq!(found.map(|g| g.game_id.as_str()), Some("2"));
        let swapped =
            match_game_by_teams_and_date(&games, "Portland Trail Blazers", "LA Clippers", at)
                .unwrap();
        assert_eq!(swapped.map(|g| g.game_id.as_str()), Some("2"));
        let other_day = "2025-12-08T00:00:00Z".parse().unwrap();
        assert_eq!(
            match_game_by_teams_and_date(
                &games,
                "Los Angeles Clippers",
                "Portland Trail Blazers",
                other_day
            )
            .unwrap(),
            None
        );
        assert_eq!(
            match_game_by_teams_and_date(
                &games,
                "Seattle SuperSonics",
                "Portland Trail Blazers",
                at
            ),
            Err(UnknownTeam("Seattle SuperSonics".into()))
        );
    }

    #[test]
    fn without_a_date_the_tip_off_instant_decides() {
        let games = [game("3", None, "2025-12-06T00:00:00Z", "PHI", "BKN")];
        let near = "2025-12-06T00:10:00Z".parse().unwrap();
        let far = "2025-12-07T00:10:00Z".parse().unwrap();
        let find = |at| {
            match_game_by_teams_and_date(&games, "Philadelphia 76ers", "Brooklyn Nets", at).unwrap()
        };
        assert!(find(near).is_some());
        assert!(find(far).is_none());
    }

    #[test]
    fn settings_from_the_environment() {
        let map: HashMap<&str, &str> = [
            ("NBA_CDN_BASE_URL", "http://127.0.0.1:1/"),
            ("NBA_RATE_PER_SEC", "2"),
        ]
        .into();
        let s = NbaStatsSettings::from_vars(&Vars(&|n: &str| map.get(n).map(|v| v.to_string())))
            .unwrap();
        assert_eq!(s.cdn_base_url, "http://127.0.0.1:1");
        assert_eq!(s.stats_base_url, DEFAULT_STATS_BASE_URL);
        assert_eq!(s.rate_per_sec, 2.0);
        let bad = NbaStatsSettings::from_vars(&Vars(&|n: &str| {
            (n == "NBA_STATS_BASE_URL").then(|| "file:///etc".to_string())
        }))
        .unwrap_err();
        assert_eq!(bad.var, "NBA_STATS_BASE_URL");
    }
}
