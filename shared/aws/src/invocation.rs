//! What a function is invoked with. One shape covers the three sources: the self-scheduling
//! rule's input (`job`, `reason`, `scheduled_for`), the watchdog (EventBridge's "Scheduled
//! Event" envelope, or `{"watchdog": true}`), and a manual `{}` (what `cargo lambda invoke`
//! sends).

use chrono::{DateTime, Utc};
use odds_jobs::{JobName, Trigger, TriggerKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Do the paid work even when the plan says it is not due.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub watchdog: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(
        default,
        rename = "detail-type",
        skip_serializing_if = "Option::is_none"
    )]
    pub detail_type: Option<String>,
}

impl Invocation {
    /// The input a job's own rule carries.
    pub fn scheduled(job: JobName, reason: &str, at: DateTime<Utc>) -> Invocation {
        Invocation {
            job: Some(job.to_string()),
            reason: Some(reason.to_string()),
            scheduled_for: Some(at),
            ..Invocation::default()
        }
    }

    /// Tolerant: an unknown shape is treated as a manual invocation.
    pub fn from_value(value: &serde_json::Value) -> Invocation {
        serde_json::from_value(value.clone()).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "unrecognised invocation input; treated as manual");
            Invocation::default()
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    pub fn kind(&self) -> TriggerKind {
        if self.watchdog
            || self.detail_type.as_deref() == Some("Scheduled Event")
            || self.source.as_deref() == Some("aws.events")
        {
            TriggerKind::Watchdog
        } else if self.job.is_some() {
            TriggerKind::Scheduled
        } else {
            TriggerKind::Manual
        }
    }

    /// What the driver is told for the function of `job`.
    pub fn trigger(&self, job: JobName) -> Trigger {
        if let Some(other) = self.job.as_deref().filter(|j| *j != job.as_str()) {
            tracing::warn!(job = %job, input_job = other, "input names another job; running this function's own");
        }
        Trigger {
            kind: self.kind(),
            force: self.force,
        }
    }
}
