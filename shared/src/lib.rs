//! The NBA odds pipeline: domain types, configuration, The Odds API wire types, normalization,
//! validation and PostgreSQL storage.

pub mod clock;
pub mod config;
pub mod ingest;
pub mod jobs;
pub mod lambda;
pub mod lifecycle;
pub mod logging;
pub mod model;
pub mod nba_stats;
pub mod normalize;
pub mod odds_api;
pub mod price;
pub mod runtime;
pub mod schedule;
pub mod secret;
pub mod secrets;
pub mod store;
pub mod teams;
pub mod validate;

pub use config::Config;
pub use model::{Event, EventStatus, FetchTier, OddsRow, QualityIssue, Severity, Snapshot};
pub use store::Store;
