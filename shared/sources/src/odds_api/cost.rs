//! Credit costs, known before a request is sent.
//!
//! Every figure is the cost *if the response is non-empty*: an empty array (or empty historical
//! `data`) costs 0, and error responses have been observed to cost 0 as well. For the event-odds
//! endpoints the API bills only the markets it returns, so the figure here is the upper bound;
//! [`event_odds_billed`] gives the exact charge once the response is known.

use std::collections::HashSet;

use super::request::{
    EventOddsRequest, EventsRequest, HistoricalEventOddsRequest, HistoricalEventsRequest,
    HistoricalOddsRequest, OddsRequest, ScoresRequest, SportsRequest,
};
use super::wire::ApiEvent;

/// Historical snapshots cost ten times their live equivalent.
pub const HISTORICAL_MULTIPLIER: u32 = 10;

/// The API bills every started group of ten bookmakers as one region.
pub const BOOKMAKERS_PER_REGION: usize = 10;

/// The credits a request costs if its response is non-empty.
pub trait CreditCost {
    fn credit_cost(&self) -> u32;
}

fn distinct(values: &[String]) -> usize {
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect::<HashSet<_>>()
        .len()
}

/// Regions, or `ceil(books / 10)` when bookmakers are listed (they take priority at the API).
pub fn region_equivalents(regions: &[String], bookmakers: &[String]) -> u32 {
    let books = distinct(bookmakers);
    let count = if books > 0 {
        books.div_ceil(BOOKMAKERS_PER_REGION)
    } else {
        distinct(regions)
    };
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Markets as billed: an empty list is the API default, `h2h`, i.e. one market.
pub fn market_count(markets: &[String]) -> u32 {
    u32::try_from(distinct(markets).max(1)).unwrap_or(u32::MAX)
}

impl CreditCost for SportsRequest {
    fn credit_cost(&self) -> u32 {
        0
    }
}

impl CreditCost for EventsRequest {
    fn credit_cost(&self) -> u32 {
        0
    }
}

impl CreditCost for OddsRequest {
    /// markets x region-equivalents.
    fn credit_cost(&self) -> u32 {
        market_count(&self.markets)
            .saturating_mul(region_equivalents(&self.regions, &self.bookmakers))
    }
}

impl CreditCost for EventOddsRequest {
    /// Upper bound: every requested market returned.
    fn credit_cost(&self) -> u32 {
        market_count(&self.markets)
            .saturating_mul(region_equivalents(&self.regions, &self.bookmakers))
    }
}

impl CreditCost for ScoresRequest {
    fn credit_cost(&self) -> u32 {
        if self.days_from.is_some() { 2 } else { 1 }
    }
}

impl CreditCost for HistoricalOddsRequest {
    fn credit_cost(&self) -> u32 {
        HISTORICAL_MULTIPLIER.saturating_mul(self.odds.credit_cost())
    }
}

impl CreditCost for HistoricalEventsRequest {
    fn credit_cost(&self) -> u32 {
        1
    }
}

impl CreditCost for HistoricalEventOddsRequest {
    fn credit_cost(&self) -> u32 {
        HISTORICAL_MULTIPLIER.saturating_mul(self.event_odds.credit_cost())
    }
}

/// What an event-odds response is billed: unique market keys returned x region-equivalents.
pub fn event_odds_billed(request: &EventOddsRequest, response: &ApiEvent) -> u32 {
    let returned = response
        .bookmakers
        .iter()
        .flat_map(|b| b.markets.iter().map(|m| m.key.as_str()))
        .collect::<HashSet<_>>()
        .len();
    u32::try_from(returned)
        .unwrap_or(u32::MAX)
        .saturating_mul(region_equivalents(&request.regions, &request.bookmakers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use odds_core::wire::{ApiBookmaker, ApiMarket};

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    fn odds(markets: &[&str], regions: &[&str], books: &[&str]) -> OddsRequest {
        OddsRequest {
            sport: "basketball_nba".into(),
            markets: strings(markets),
            regions: strings(regions),
            bookmakers: strings(books),
            ..OddsRequest::default()
        }
    }

    const FEATURED: [&str; 3] = ["h2h", "spreads", "totals"];

    #[test]
    fn odds_examples_of_the_reference() {
        // Markets x regions: 1/1 = 1, 3/1 = 3, 1/3 = 3, 3/3 = 9.
        assert_eq!(odds(&["h2h"], &["us"], &[]).credit_cost(), 1);
        assert_eq!(odds(&FEATURED, &["us"], &[]).credit_cost(), 3);
        assert_eq!(odds(&["h2h"], &["us", "uk", "eu"], &[]).credit_cost(), 3);
        assert_eq!(odds(&FEATURED, &["us", "uk", "eu"], &[]).credit_cost(), 9);
        // Default market is h2h.
        assert_eq!(odds(&[], &["us"], &[]).credit_cost(), 1);
    }

    #[test]
    fn bookmakers_count_as_started_groups_of_ten() {
        let seven = [
            "pinnacle",
            "draftkings",
            "fanduel",
            "betmgm",
            "williamhill_us",
            "betrivers",
            "bovada",
        ];
        // What this collector asks for.
        assert_eq!(odds(&FEATURED, &["us"], &seven).credit_cost(), 3);
        assert_eq!(odds(&FEATURED, &["us", "eu"], &[]).credit_cost(), 6);
        let books: Vec<String> = (0..21).map(|i| format!("book{i}")).collect();
        let books: Vec<&str> = books.iter().map(String::as_str).collect();
        assert_eq!(odds(&["h2h"], &[], &books[..10]).credit_cost(), 1);
        assert_eq!(odds(&["h2h"], &[], &books[..11]).credit_cost(), 2);
        assert_eq!(odds(&["h2h"], &[], &books[..20]).credit_cost(), 2);
        assert_eq!(odds(&["h2h"], &[], &books).credit_cost(), 3);
    }

    #[test]
    fn historical_is_ten_times() {
        let date = "2023-11-29T22:42:00Z".parse().unwrap();
        let cost = |m: &[&str], r: &[&str]| {
            HistoricalOddsRequest {
                date,
                odds: odds(m, r, &[]),
            }
            .credit_cost()
        };
        // Historical odds cost 10 per market per region: 1/1 = 10, 3/1 = 30, 1/3 = 30, 3/3 = 90.
        assert_eq!(cost(&["h2h"], &["us"]), 10);
        assert_eq!(cost(&FEATURED, &["us"]), 30);
        assert_eq!(cost(&["h2h"], &["us", "uk", "eu"]), 30);
        assert_eq!(cost(&FEATURED, &["us", "uk", "eu"]), 90);
        let events = HistoricalEventsRequest {
            date,
            events: EventsRequest::default(),
        };
        assert_eq!(events.credit_cost(), 1);
        let event_odds = HistoricalEventOddsRequest {
            date,
            event_odds: EventOddsRequest {
                markets: strings(&["player_points", "h2h_q1"]),
                regions: strings(&["us"]),
                ..EventOddsRequest::default()
            },
        };
        assert_eq!(event_odds.credit_cost(), 20);
    }

    #[test]
    fn free_and_fixed_endpoints() {
        assert_eq!(SportsRequest { all: true }.credit_cost(), 0);
        assert_eq!(EventsRequest::default().credit_cost(), 0);
        let mut scores = ScoresRequest::default();
        assert_eq!(scores.credit_cost(), 1);
        for days in 1..=3 {
            scores.days_from = Some(days);
            assert_eq!(scores.credit_cost(), 2);
        }
    }

    #[test]
    fn event_odds_bill_only_returned_markets() {
        // One event's odds bill the markets returned: 5 requested, 2 returned, 1 region -> 2.
        let request = EventOddsRequest {
            markets: strings(&["h2h", "spreads", "totals", "player_points", "team_totals"]),
            regions: strings(&["us"]),
            ..EventOddsRequest::default()
        };
        assert_eq!(request.credit_cost(), 5);
        let market = |key: &str| ApiMarket {
            key: key.into(),
            last_update: None,
            outcomes: vec![],
        };
        let book = |markets: Vec<ApiMarket>| ApiBookmaker {
            key: "draftkings".into(),
            title: None,
            last_update: None,
            markets,
        };
        let response = ApiEvent {
            id: "e".into(),
            sport_key: None,
            sport_title: None,
            commence_time: "2025-12-06T00:00:00Z".into(),
            home_team: "Philadelphia 76ers".into(),
            away_team: "Brooklyn Nets".into(),
            home_rotation: None,
            away_rotation: None,
            bookmakers: vec![
                book(vec![market("h2h"), market("player_points")]),
                book(vec![market("h2h")]),
            ],
        };
        assert_eq!(event_odds_billed(&request, &response), 2);
    }
}
