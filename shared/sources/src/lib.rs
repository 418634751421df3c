//! Outside data: one HTTP layer (retry, backoff, rate limit, transport errors) and the clients
//! of The Odds API v4 and NBA.com.

pub mod http;
pub mod nba_stats;
pub mod odds_api;
