//! `local-harness`: the three jobs in one long-lived process, with an EventBridge emulator
//! that keeps the schedule in PostgreSQL; plus a simulated Odds API for the demo and the season
//! simulator. It runs the very job code the Lambda functions run.

pub mod emulator;
pub mod health;
pub mod modes;
pub mod original;
pub mod report;
pub mod season;
pub mod simulator;
