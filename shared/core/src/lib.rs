//! The pure domain of the NBA odds pipeline: events, tiers and odds rows; teams; prices;
//! The Odds API's JSON shapes and their normalization; validation; game lifecycle rules; the
//! collection policy's requirements, the credit budget and the planner; settings sections. Nothing here does I/O: time comes in as `now` or a [`Clock`].

#[macro_use]
pub mod names;

pub mod backfill;
pub mod budget;
pub mod clock;
pub mod health;
pub mod lifecycle;
pub mod model;
pub mod normalize;
pub mod planner;
pub mod price;
pub mod requirements;
pub mod secret;
pub mod settings;
pub mod teams;
pub mod text;
pub mod time;
pub mod validate;
pub mod wire;

pub use clock::Clock;
pub use model::{Event, EventStatus, FetchTier, OddsRow, QualityIssue, Severity, Snapshot};
