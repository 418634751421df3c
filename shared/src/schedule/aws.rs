//! The AWS backend: each job has one EventBridge rule, `${RULE_PREFIX}-${job}`, whose one-time
//! `cron(m h d M ? Y)` expression is rewritten to the next run; its target is the function's own
//! ARN with an input naming the job and the reason.

use std::sync::{Arc, Mutex};

use aws_sdk_eventbridge::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_eventbridge::types::{RuleState, Target};
use chrono::{DateTime, Datelike, Duration, DurationRound, TimeZone, Timelike, Utc};

use super::backend::{Armed, ScheduleError, SchedulerBackend};
use crate::jobs::{Invocation, JobName};

#[derive(Debug, Clone)]
pub struct EventBridgeScheduler {
    client: aws_sdk_eventbridge::Client,
    prefix: String,
    target_arn: Arc<Mutex<Option<String>>>,
}

impl EventBridgeScheduler {
    pub fn new(client: aws_sdk_eventbridge::Client, prefix: impl Into<String>) -> Self {
        EventBridgeScheduler {
            client,
            prefix: prefix.into(),
            target_arn: Arc::new(Mutex::new(None)),
        }
    }

    /// Uses the standard AWS configuration chain, which honours `AWS_ENDPOINT_URL` (moto in
    /// tests).
    pub async fn from_env(prefix: impl Into<String>) -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(aws_sdk_eventbridge::Client::new(&config), prefix)
    }

    /// The function's own ARN, from the invocation context: the rule's target.
    pub fn set_target(&self, arn: &str) {
        *self.target_arn.lock().unwrap_or_else(|e| e.into_inner()) = Some(arn.to_string());
    }

    pub fn rule_name(&self, job: JobName) -> String {
        format!("{}-{}", self.prefix, job)
    }

    fn target(&self) -> Option<String> {
        self.target_arn
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The time a rule is set for: `at` rounded up to a whole minute, and never earlier than one
/// minute from `now` (EventBridge cannot fire in the past).
pub fn rule_time(at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    ceil_minute(at).max(ceil_minute(now + Duration::minutes(1)))
}

fn ceil_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = t.duration_trunc(Duration::minutes(1)).unwrap_or(t);
    if floor == t {
        t
    } else {
        floor + Duration::minutes(1)
    }
}

pub fn cron_expression(at: DateTime<Utc>) -> String {
    format!(
        "cron({} {} {} {} ? {})",
        at.minute(),
        at.hour(),
        at.day(),
        at.month(),
        at.year()
    )
}

/// Reads back a one-time expression written by [`cron_expression`]; `None` for anything else
/// (a rate rule, a recurring cron).
pub fn parse_cron(expression: &str) -> Option<DateTime<Utc>> {
    let inner = expression.strip_prefix("cron(")?.strip_suffix(')')?;
    let parts: Vec<&str> = inner.split_whitespace().collect();
    let [minute, hour, day, month, "?", year] = parts.as_slice() else {
        return None;
    };
    Utc.with_ymd_and_hms(
        year.parse().ok()?,
        month.parse().ok()?,
        day.parse().ok()?,
        hour.parse().ok()?,
        minute.parse().ok()?,
        0,
    )
    .single()
}

/// A service error as its code and message; anything else (timeouts, refused connections)
/// with its cause chain. The SDK's full context also dumps the raw HTTP response.
fn aws_error<E: std::error::Error + ProvideErrorMetadata>(
    operation: &'static str,
    e: E,
) -> ScheduleError {
    let message = match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => DisplayErrorContext(&e).to_string(),
    };
    ScheduleError::Aws { operation, message }
}

impl SchedulerBackend for EventBridgeScheduler {
    async fn schedule_job(
        &self,
        job: JobName,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<DateTime<Utc>, ScheduleError> {
        let target = self.target().ok_or(ScheduleError::NoTarget)?;
        let when = rule_time(at, now);
        let name = self.rule_name(job);
        self.client
            .put_rule()
            .name(&name)
            .schedule_expression(cron_expression(when))
            .state(RuleState::Enabled)
            .description(format!("next {job}: {reason}"))
            .send()
            .await
            .map_err(|e| aws_error("PutRule", e))?;
        let input = Invocation::scheduled(job, reason, when).to_json();
        let target = Target::builder()
            .id("self")
            .arn(target)
            .input(input)
            .build()
            .map_err(|e| ScheduleError::Aws {
                operation: "PutTargets",
                message: e.to_string(),
            })?;
        let put = self
            .client
            .put_targets()
            .rule(&name)
            .targets(target)
            .send()
            .await
            .map_err(|e| aws_error("PutTargets", e))?;
        if put.failed_entry_count() > 0 {
            return Err(ScheduleError::Aws {
                operation: "PutTargets",
                message: format!("{:?}", put.failed_entries()),
            });
        }
        tracing::info!(job = %job, rule = %name, at = %when, reason, "next run armed");
        Ok(when)
    }

    async fn armed(&self, job: JobName) -> Result<Option<Armed>, ScheduleError> {
        let rule = match self
            .client
            .describe_rule()
            .name(self.rule_name(job))
            .send()
            .await
        {
            Ok(rule) => rule,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(aws_error("DescribeRule", e)),
        };
        Ok(rule
            .schedule_expression()
            .and_then(parse_cron)
            .map(|at| Armed {
                at,
                enabled: rule.state() == Some(&RuleState::Enabled),
            }))
    }

    fn get_backend_info(&self) -> serde_json::Value {
        serde_json::json!({
            "backend": "aws",
            "rule_prefix": self.prefix,
            "target": self.target(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn times_round_up_to_a_whole_minute_at_least_a_minute_ahead() {
        let now = t("2026-01-20T10:00:30Z");
        assert_eq!(
            rule_time(t("2026-01-20T12:34:10Z"), now),
            t("2026-01-20T12:35:00Z")
        );
        assert_eq!(
            rule_time(t("2026-01-20T12:34:00Z"), now),
            t("2026-01-20T12:34:00Z")
        );
        assert_eq!(
            rule_time(t("2026-01-19T09:00:00Z"), now),
            t("2026-01-20T10:02:00Z")
        );
        assert_eq!(rule_time(now, now), t("2026-01-20T10:02:00Z"));
        let whole = t("2026-01-20T10:00:00Z");
        assert_eq!(rule_time(whole, whole), t("2026-01-20T10:01:00Z"));
    }

    #[test]
    fn cron_expressions_round_trip() {
        let at = t("2026-12-31T23:05:00Z");
        assert_eq!(cron_expression(at), "cron(5 23 31 12 ? 2026)");
        assert_eq!(parse_cron(&cron_expression(at)), Some(at));
        assert_eq!(parse_cron("rate(6 hours)"), None);
        assert_eq!(parse_cron("cron(0 */6 * * ? *)"), None);
    }
}
