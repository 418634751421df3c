//! The Odds API v4: wire types, request parameters, credit costs, errors and the HTTP client.

pub mod client;
pub mod cost;
pub mod error;
pub mod request;
pub mod settings;
pub use odds_core::wire;

pub use client::{ApiResponse, OddsApiClient, ParsedList, SkippedItem, read_quota};
pub use cost::CreditCost;
pub use error::{ApiErrorCode, OddsApiError};
pub use request::{
    Endpoint, EventOddsRequest, EventsRequest, HistoricalEventOddsRequest, HistoricalEventsRequest,
    HistoricalOddsRequest, OddsRequest, ScoresRequest, SportsRequest, api_time,
};
pub use settings::OddsApiSettings;
