//! The Odds API v4: wire types (and, with the API-clients issue, the HTTP client).

pub mod wire;
