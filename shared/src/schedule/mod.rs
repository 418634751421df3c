//! Scheduling: the planner (pure), and the backends that arm the next run.

pub mod aws;
pub mod backend;
pub mod planner;

pub use backend::{
    Armed, Backend, DatabaseScheduler, DryRunScheduler, ScheduleError, SchedulerBackend,
};
pub use planner::{GameView, PendingGame, Plan, PlanKind, PlannerSettings, Policy};
