//! The AWS backend: each job has one EventBridge rule, `${RULE_PREFIX}-${job}`, whose one-time
//! `cron(m h d M ? Y)` expression is rewritten to the next run; its target is the function's own
//! ARN (passed in, from the invocation) with an input naming the job and the reason.

use aws_sdk_eventbridge::types::{RuleState, Target};
use chrono::{DateTime, Datelike, Duration, DurationRound, TimeZone, Timelike, Utc};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use odds_jobs::{Armed, JobName, ScheduleError, SchedulerBackend};

use crate::aws_error;
use crate::invocation::Invocation;

/// The rules of one deployment (one prefix), before a target is known.
#[derive(Debug, Clone)]
pub struct EventBridgeRules {
    client: aws_sdk_eventbridge::Client,
    prefix: String,
}

impl EventBridgeRules {
    pub fn new(config: &aws_config::SdkConfig, prefix: impl Into<String>) -> Self {
        EventBridgeRules {
            client: aws_sdk_eventbridge::Client::new(config),
            prefix: prefix.into(),
        }
    }

    /// The scheduler whose rules invoke `target_arn`.
    pub fn scheduler(&self, target_arn: impl Into<String>) -> EventBridgeScheduler {
        EventBridgeScheduler::new(self.client.clone(), self.prefix.clone(), target_arn)
    }
}

#[derive(Debug, Clone)]
pub struct EventBridgeScheduler {
    client: aws_sdk_eventbridge::Client,
    prefix: String,
    target_arn: String,
}

impl EventBridgeScheduler {
    pub fn new(
        client: aws_sdk_eventbridge::Client,
        prefix: impl Into<String>,
        target_arn: impl Into<String>,
    ) -> Self {
        EventBridgeScheduler {
            client,
            prefix: prefix.into(),
            target_arn: target_arn.into(),
        }
    }

    pub fn rule_name(&self, job: JobName) -> String {
        format!("{}-{}", self.prefix, job)
    }
}

/// EventBridge refuses a rule description over 512 characters and a target input over 8,192.
const MAX_DESCRIPTION_CHARS: usize = 512;
/// Leaves the rest of the input (job, time, flags) well inside the 8,192.
const MAX_INPUT_REASON_CHARS: usize = 2_000;

/// `text` cut to at most `max` characters, an ellipsis marking the cut.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if text.chars().count() > max => format!("{}…", &text[..cut]),
        _ => text.to_string(),
    }
}

/// The rule's description: what runs next and why, within EventBridge's limit whatever the
/// reason (an API error message can be long).
pub fn rule_description(job: JobName, reason: &str) -> String {
    clip(&format!("next {job}: {reason}"), MAX_DESCRIPTION_CHARS)
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

impl SchedulerBackend for EventBridgeScheduler {
    fn schedule_job<'a>(
        &'a self,
        job: JobName,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<DateTime<Utc>, ScheduleError>> {
        async move {
            let when = rule_time(at, now);
            let name = self.rule_name(job);
            self.client
                .put_rule()
                .name(&name)
                .schedule_expression(cron_expression(when))
                .state(RuleState::Enabled)
                .description(rule_description(job, reason))
                .send()
                .await
                .map_err(|e| schedule_error("PutRule", e))?;
            let input =
                Invocation::scheduled(job, &clip(reason, MAX_INPUT_REASON_CHARS), when).to_json();
            let target = Target::builder()
                .id("self")
                .arn(&self.target_arn)
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
                .map_err(|e| schedule_error("PutTargets", e))?;
            if put.failed_entry_count() > 0 {
                return Err(ScheduleError::Aws {
                    operation: "PutTargets",
                    message: format!("{:?}", put.failed_entries()),
                });
            }
            tracing::info!(job = %job, rule = %name, at = %when, reason, "next run armed");
            Ok(when)
        }
        .boxed()
    }

    fn armed(&self, job: JobName) -> BoxFuture<'_, Result<Option<Armed>, ScheduleError>> {
        async move {
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
                Err(e) => return Err(schedule_error("DescribeRule", e)),
            };
            Ok(rule
                .schedule_expression()
                .and_then(parse_cron)
                .map(|at| Armed {
                    at,
                    enabled: rule.state() == Some(&RuleState::Enabled),
                }))
        }
        .boxed()
    }

    fn get_backend_info(&self) -> serde_json::Value {
        serde_json::json!({
            "backend": "aws",
            "rule_prefix": self.prefix,
            "target": self.target_arn,
        })
    }
}

fn schedule_error<E>(operation: &'static str, e: E) -> ScheduleError
where
    E: std::error::Error + aws_sdk_eventbridge::error::ProvideErrorMetadata,
{
    ScheduleError::Aws {
        operation,
        message: aws_error(&e),
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
    fn descriptions_and_inputs_fit_eventbridge_limits() {
        let long = "é".repeat(3_000);
        let description = rule_description(JobName::FetchOdds, &long);
        assert_eq!(description.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(description.starts_with("next fetch-odds: é") && description.ends_with('…'));
        assert_eq!(
            rule_description(JobName::FetchOdds, "closing"),
            "next fetch-odds: closing"
        );
        let input = Invocation::scheduled(
            JobName::UpdateStatus,
            &clip(&long, MAX_INPUT_REASON_CHARS),
            t("2026-01-20T12:00:00Z"),
        )
        .to_json();
        assert!(input.chars().count() <= 8_192, "{}", input.len());
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("abcdef", 3), "ab…");
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
