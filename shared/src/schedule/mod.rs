//! Scheduling: the planner (pure), and the backends that arm the next run.

pub mod planner;

pub use planner::{GameView, PendingGame, Plan, PlanKind, PlannerSettings};
