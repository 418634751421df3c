//! The jobs of the NBA odds pipeline and the one driver that runs them, the scheduler backends
//! that need no cloud (the database and the dry run), the settings tree, and the runtime that
//! builds a job context once per process. The Lambda functions (through the AWS crate) and the
//! harness call [`invoke`].

pub mod alerts;
pub mod backfill;
mod calls;
pub mod context;
pub mod coverage;
pub mod driver;
pub mod error;
mod fetch_odds;
mod fetch_scores;
pub mod job;
pub mod logging;
pub mod outlook;
pub mod policy;
pub mod research;
pub mod runtime;
pub mod schedule;
pub mod settings;
mod update_status;

pub use context::{JobContext, JobSettings};
pub use driver::{JobSummary, RunOutcome, Trigger, TriggerKind, invoke};
pub use error::JobError;
pub use job::{Gate, JobName, WorkReport};
pub use policy::{Planner, Policy};
pub use schedule::{Armed, DatabaseScheduler, DryRunScheduler, ScheduleError, SchedulerBackend};
pub use settings::{BackendKind, Settings};
