//! The parameters of each endpoint of The Odds API v4. The credit cost function reads the same
//! structs, so what is sent and what is budgeted cannot disagree.

use chrono::{DateTime, SecondsFormat, Utc};

pub use odds_core::model::Endpoint;

/// The API rejects fractional seconds (`INVALID_COMMENCE_TIME_FROM`), so every time goes out as
/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn api_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `GET /v4/sports` (free).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SportsRequest {
    /// Include out-of-season sports.
    pub all: bool,
}

/// `GET /v4/sports/{sport}/events` (free).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsRequest {
    pub sport: String,
    pub event_ids: Vec<String>,
    pub commence_time_from: Option<DateTime<Utc>>,
    pub commence_time_to: Option<DateTime<Utc>>,
    pub include_rotation_numbers: bool,
}

/// `GET /v4/sports/{sport}/odds`. Odds always come in American format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OddsRequest {
    pub sport: String,
    /// Ignored by the API (and by the cost) when `bookmakers` is not empty.
    pub regions: Vec<String>,
    /// Empty means the API default, `h2h`.
    pub markets: Vec<String>,
    pub bookmakers: Vec<String>,
    pub event_ids: Vec<String>,
    pub commence_time_from: Option<DateTime<Utc>>,
    pub commence_time_to: Option<DateTime<Utc>>,
    pub include_links: bool,
    pub include_sids: bool,
    pub include_bet_limits: bool,
    pub include_rotation_numbers: bool,
}

impl OddsRequest {
    /// The collector's usual request: featured markets from a named list of books.
    pub fn for_bookmakers(
        sport: impl Into<String>,
        markets: &[impl AsRef<str>],
        bookmakers: &[impl AsRef<str>],
    ) -> OddsRequest {
        OddsRequest {
            sport: sport.into(),
            markets: markets.iter().map(|m| m.as_ref().to_string()).collect(),
            bookmakers: bookmakers.iter().map(|b| b.as_ref().to_string()).collect(),
            ..OddsRequest::default()
        }
    }
}

/// `GET /v4/sports/{sport}/events/{eventId}/odds`: any market key is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventOddsRequest {
    pub sport: String,
    pub event_id: String,
    pub regions: Vec<String>,
    pub markets: Vec<String>,
    pub bookmakers: Vec<String>,
    pub include_links: bool,
    pub include_sids: bool,
    pub include_bet_limits: bool,
    pub include_rotation_numbers: bool,
    pub include_multipliers: bool,
}

/// `GET /v4/sports/{sport}/scores`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScoresRequest {
    pub sport: String,
    /// 1 to 3: also return games completed that many days back (and cost 2 instead of 1).
    pub days_from: Option<u8>,
    pub event_ids: Vec<String>,
}

/// `GET /v4/historical/sports/{sport}/odds`: the snapshot at or before `date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalOddsRequest {
    pub date: DateTime<Utc>,
    pub odds: OddsRequest,
}

/// `GET /v4/historical/sports/{sport}/events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalEventsRequest {
    pub date: DateTime<Utc>,
    pub events: EventsRequest,
}

/// `GET /v4/historical/sports/{sport}/events/{eventId}/odds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalEventOddsRequest {
    pub date: DateTime<Utc>,
    pub event_odds: EventOddsRequest,
}

/// Query parameters without the key, in the order they are sent.
pub(crate) type Params = Vec<(&'static str, String)>;

fn push_list(params: &mut Params, name: &'static str, values: &[String]) {
    let cleaned: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    if !cleaned.is_empty() {
        params.push((name, cleaned.join(",")));
    }
}

fn push_flag(params: &mut Params, name: &'static str, on: bool) {
    // The API defaults every include flag to false; sending only `true` keeps URLs short.
    if on {
        params.push((name, "true".to_string()));
    }
}

fn push_time(params: &mut Params, name: &'static str, at: Option<DateTime<Utc>>) {
    if let Some(at) = at {
        params.push((name, api_time(at)));
    }
}

fn check_range(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<(), &'static str> {
    match (from, to) {
        (Some(from), Some(to)) if to <= from => {
            Err("commence_time_to must be later than commence_time_from")
        }
        _ => Ok(()),
    }
}

fn check_path_segment(what: &'static str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err(format!("{what} is empty"))
    } else {
        Ok(())
    }
}

fn has_any(values: &[String]) -> bool {
    values.iter().any(|v| !v.trim().is_empty())
}

impl SportsRequest {
    pub(crate) fn params(&self) -> Params {
        let mut p = Params::new();
        push_flag(&mut p, "all", self.all);
        p
    }
}

impl EventsRequest {
    pub(crate) fn validate(&self) -> Result<(), String> {
        check_path_segment("sport", &self.sport)?;
        check_range(self.commence_time_from, self.commence_time_to).map_err(str::to_string)
    }

    pub(crate) fn params(&self) -> Params {
        let mut p = vec![("dateFormat", "iso".to_string())];
        push_list(&mut p, "eventIds", &self.event_ids);
        push_time(&mut p, "commenceTimeFrom", self.commence_time_from);
        push_time(&mut p, "commenceTimeTo", self.commence_time_to);
        push_flag(
            &mut p,
            "includeRotationNumbers",
            self.include_rotation_numbers,
        );
        p
    }
}

impl OddsRequest {
    pub(crate) fn validate(&self) -> Result<(), String> {
        check_path_segment("sport", &self.sport)?;
        if !has_any(&self.regions) && !has_any(&self.bookmakers) {
            return Err("regions or bookmakers must be given".into());
        }
        check_range(self.commence_time_from, self.commence_time_to).map_err(str::to_string)
    }

    pub(crate) fn params(&self) -> Params {
        let mut p = Params::new();
        // `bookmakers` wins over `regions` at the API; sending only one keeps the cost obvious.
        if has_any(&self.bookmakers) {
            push_list(&mut p, "bookmakers", &self.bookmakers);
        } else {
            push_list(&mut p, "regions", &self.regions);
        }
        push_list(&mut p, "markets", &self.markets);
        p.push(("oddsFormat", "american".to_string()));
        p.push(("dateFormat", "iso".to_string()));
        push_list(&mut p, "eventIds", &self.event_ids);
        push_time(&mut p, "commenceTimeFrom", self.commence_time_from);
        push_time(&mut p, "commenceTimeTo", self.commence_time_to);
        push_flag(&mut p, "includeLinks", self.include_links);
        push_flag(&mut p, "includeSids", self.include_sids);
        push_flag(&mut p, "includeBetLimits", self.include_bet_limits);
        push_flag(
            &mut p,
            "includeRotationNumbers",
            self.include_rotation_numbers,
        );
        p
    }
}

impl EventOddsRequest {
    pub(crate) fn validate(&self) -> Result<(), String> {
        check_path_segment("sport", &self.sport)?;
        check_path_segment("event_id", &self.event_id)?;
        if !has_any(&self.regions) && !has_any(&self.bookmakers) {
            return Err("regions or bookmakers must be given".into());
        }
        Ok(())
    }

    pub(crate) fn params(&self) -> Params {
        let mut p = Params::new();
        if has_any(&self.bookmakers) {
            push_list(&mut p, "bookmakers", &self.bookmakers);
        } else {
            push_list(&mut p, "regions", &self.regions);
        }
        push_list(&mut p, "markets", &self.markets);
        p.push(("oddsFormat", "american".to_string()));
        p.push(("dateFormat", "iso".to_string()));
        push_flag(&mut p, "includeLinks", self.include_links);
        push_flag(&mut p, "includeSids", self.include_sids);
        push_flag(&mut p, "includeBetLimits", self.include_bet_limits);
        push_flag(
            &mut p,
            "includeRotationNumbers",
            self.include_rotation_numbers,
        );
        push_flag(&mut p, "includeMultipliers", self.include_multipliers);
        p
    }
}

impl ScoresRequest {
    pub(crate) fn validate(&self) -> Result<(), String> {
        check_path_segment("sport", &self.sport)?;
        match self.days_from {
            Some(days) if !(1..=3).contains(&days) => {
                Err(format!("days_from must be 1 to 3, not {days}"))
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn params(&self) -> Params {
        let mut p = vec![("dateFormat", "iso".to_string())];
        if let Some(days) = self.days_from {
            p.push(("daysFrom", days.to_string()));
        }
        push_list(&mut p, "eventIds", &self.event_ids);
        p
    }
}

impl HistoricalOddsRequest {
    pub(crate) fn params(&self) -> Params {
        let mut p = self.odds.params();
        p.push(("date", api_time(self.date)));
        p
    }
}

impl HistoricalEventsRequest {
    pub(crate) fn params(&self) -> Params {
        let mut p = self.events.params();
        p.push(("date", api_time(self.date)));
        p
    }
}

impl HistoricalEventOddsRequest {
    pub(crate) fn params(&self) -> Params {
        let mut p = self.event_odds.params();
        p.push(("date", api_time(self.date)));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_whole_seconds() {
        let at: DateTime<Utc> = "2025-12-05T11:58:14.290Z".parse().unwrap();
        assert_eq!(api_time(at), "2025-12-05T11:58:14Z");
    }

    #[test]
    fn odds_params_prefer_bookmakers_and_ask_for_american_odds() {
        let mut req = OddsRequest::for_bookmakers(
            "basketball_nba",
            &["h2h", "spreads"],
            &["draftkings", " fanduel "],
        );
        req.regions = vec!["us".into()];
        req.commence_time_from = Some("2025-12-05T00:00:00.5Z".parse().unwrap());
        let p = req.params();
        assert!(p.contains(&("bookmakers", "draftkings,fanduel".into())));
        assert!(!p.iter().any(|(k, _)| *k == "regions"));
        assert!(p.contains(&("oddsFormat", "american".into())));
        assert!(p.contains(&("dateFormat", "iso".into())));
        assert!(p.contains(&("commenceTimeFrom", "2025-12-05T00:00:00Z".into())));
    }

    #[test]
    fn requests_the_api_would_refuse_are_caught() {
        let req = OddsRequest {
            sport: "basketball_nba".into(),
            ..OddsRequest::default()
        };
        assert!(req.validate().is_err());
        let scores = ScoresRequest {
            sport: "basketball_nba".into(),
            days_from: Some(4),
            ..ScoresRequest::default()
        };
        assert!(scores.validate().is_err());
        let t: DateTime<Utc> = "2025-12-05T00:00:00Z".parse().unwrap();
        let events = EventsRequest {
            sport: "basketball_nba".into(),
            commence_time_from: Some(t),
            commence_time_to: Some(t),
            ..EventsRequest::default()
        };
        assert!(events.validate().is_err());
    }
}
