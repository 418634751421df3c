//! Is the collector healthy? Pure checks over what the store knows, and the rule that turns
//! their changes into alerts.
//!
//! A monitor is worth having only if it speaks when something is wrong, once, and stays silent
//! otherwise, so every check judges against what the collector promised: a chain is late only
//! past its armed time, data is stale only past its tier's own interval (a quiet 48-hour
//! opening window is not stale), and data-quality counts take only the checks that flag bad
//! data (errors), not the warnings that normal sharp-book margins raise.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{FetchTier, JobName};
use crate::requirements::CollectionPolicy;

/// How bad a check is; the exit code of `odds health` is the worst one's.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Level {
    Ok,
    Warning,
    Critical,
}

crate::named!(Level, "health level");

impl Level {
    pub fn exit_code(self) -> i32 {
        self as i32
    }
}

/// What a check is about; one alert state is kept per check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// A job's chain of runs: armed, not overdue.
    Chain(JobName),
    /// Snapshots as fresh as the policy promised.
    Freshness,
    /// Calls to The Odds API failing in a row.
    ApiFailures,
    /// Credits left on the plan, and the month against its budget.
    Credits,
    /// Data-quality errors in the last 24 hours.
    DataQuality,
}

impl fmt::Display for CheckName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckName::Chain(job) => write!(f, "chain:{job}"),
            CheckName::Freshness => f.write_str("freshness"),
            CheckName::ApiFailures => f.write_str("api_failures"),
            CheckName::Credits => f.write_str("credits"),
            CheckName::DataQuality => f.write_str("data_quality"),
        }
    }
}

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    #[serde(skip)]
    pub check: CheckName,
    pub level: Level,
    pub message: String,
    /// Another failing check that explains this one (stale data while the API is down): it is
    /// shown, but not alerted on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl Check {
    fn new(check: CheckName, level: Level, message: impl Into<String>) -> Check {
        Check {
            name: check.to_string(),
            check,
            level,
            message: message.into(),
            cause: None,
        }
    }
}

/// A job's chain as the store records it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainState {
    pub job: JobName,
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i32,
    pub last_error: Option<String>,
}

/// A game inside a tier window whose policy promises a longest gap.
#[derive(Debug, Clone, PartialEq)]
pub struct GameFreshness {
    pub matchup: String,
    pub commence_time: DateTime<Utc>,
    /// When the game came into view (its listing, or the look-ahead before tip-off).
    pub in_view_since: DateTime<Utc>,
    pub last_snapshot: Option<DateTime<Utc>>,
}

/// Everything the checks read.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthInputs {
    pub now: DateTime<Utc>,
    pub chains: Vec<ChainState>,
    pub games: Vec<GameFreshness>,
    /// Calls to The Odds API failing at the end of its log, and the last one's error.
    pub api_failures_in_a_row: usize,
    pub last_api_error: Option<String>,
    /// From the last `x-requests-*` headers.
    pub credits_remaining: Option<i64>,
    pub credits_used: Option<i64>,
    /// The month's projected spend and its budget, when one is set.
    pub month_projected: Option<(i64, i64)>,
    pub closing_reserve: i64,
    pub quality_errors_24h: i64,
}

/// Tolerances: how late is late.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthSettings {
    /// Added to every promise before it counts as broken.
    pub slack: Duration,
    /// Odds API failures in a row that make the check critical.
    pub failures_critical: usize,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            slack: Duration::minutes(15),
            failures_critical: 3,
        }
    }
}

/// Every check, judged at `inputs.now`.
pub fn evaluate(
    inputs: &HealthInputs,
    policy: &CollectionPolicy,
    settings: &HealthSettings,
) -> Vec<Check> {
    let now = inputs.now;
    let mut checks = Vec::new();

    let api = if inputs.api_failures_in_a_row >= settings.failures_critical {
        Check::new(
            CheckName::ApiFailures,
            Level::Critical,
            format!(
                "{} calls to The Odds API failed in a row; last error: {}",
                inputs.api_failures_in_a_row,
                inputs.last_api_error.as_deref().unwrap_or("unknown")
            ),
        )
    } else {
        Check::new(
            CheckName::ApiFailures,
            Level::Ok,
            match inputs.api_failures_in_a_row {
                0 => "the last call to The Odds API succeeded".to_string(),
                n => format!("{n} failed call(s) in a row, under the limit"),
            },
        )
    };
    let api_down = api.level != Level::Ok;

    for chain in &inputs.chains {
        let name = CheckName::Chain(chain.job);
        let mut check = match chain.next_run_at {
            // A job that never ran is starting, not stopped: said, not alerted.
            None if chain.last_run_at.is_none() => Check {
                cause: Some("the job has not started yet".into()),
                ..Check::new(name, Level::Warning, "has not run yet")
            },
            None => Check::new(name, Level::Critical, "no next run is armed"),
            Some(at) if at + settings.slack < now => Check::new(
                name,
                Level::Critical,
                format!(
                    "overdue: the run armed for {at} has not happened (last run {})",
                    chain
                        .last_run_at
                        .map_or("never".to_string(), |t| t.to_string())
                ),
            ),
            Some(at) if chain.consecutive_failures >= 3 => Check::new(
                name,
                Level::Warning,
                format!(
                    "{} failed runs in a row (retry armed for {at}): {}",
                    chain.consecutive_failures,
                    chain.last_error.as_deref().unwrap_or("unknown error")
                ),
            ),
            Some(at) => Check::new(name, Level::Ok, format!("next run armed for {at}")),
        };
        if check.level == Level::Warning && api_down {
            check.cause = Some(CheckName::ApiFailures.to_string());
        }
        checks.push(check);
    }

    let mut stale: Vec<String> = Vec::new();
    for game in &inputs.games {
        if game.commence_time <= now {
            continue;
        }
        let hours = (game.commence_time - now).num_seconds() as f64 / 3600.0;
        let tier = FetchTier::for_hours_until(hours);
        let Some(gap) = policy.gaps[tier as usize] else {
            continue;
        };
        // The promise runs from the later of the window's start and the game's coming into view.
        let window_start = game.commence_time - crate::requirements::hours(tier.max_hours());
        let since = game
            .last_snapshot
            .unwrap_or(game.in_view_since)
            .max(window_start)
            .max(game.in_view_since);
        if now - since > gap + settings.slack {
            stale.push(format!(
                "{} ({tier}: last snapshot {})",
                game.matchup,
                game.last_snapshot.map_or("never".to_string(), |t| t
                    .format("%Y-%m-%d %H:%M UTC")
                    .to_string())
            ));
        }
    }
    let mut freshness = if stale.is_empty() {
        Check::new(
            CheckName::Freshness,
            Level::Ok,
            "every game has the snapshots its tier promises",
        )
    } else {
        let shown: Vec<&str> = stale.iter().take(3).map(String::as_str).collect();
        Check::new(
            CheckName::Freshness,
            Level::Warning,
            format!(
                "{} game(s) staler than their tier's interval: {}{}",
                stale.len(),
                shown.join("; "),
                if stale.len() > 3 { "; ..." } else { "" }
            ),
        )
    };
    if freshness.level != Level::Ok && api_down {
        freshness.cause = Some(CheckName::ApiFailures.to_string());
    }
    checks.push(freshness);
    checks.push(api);

    let mut credits = Check::new(CheckName::Credits, Level::Ok, "credits are fine");
    if let Some(remaining) = inputs.credits_remaining {
        let plan = inputs.credits_used.map(|u| u + remaining);
        credits.message = match plan {
            Some(plan) => format!("{remaining} of the plan's {plan} credits remain"),
            None => format!("{remaining} credits remain"),
        };
        if remaining < inputs.closing_reserve {
            credits.level = Level::Critical;
            credits.message = format!(
                "{remaining} credits remain, under the {} kept for closing captures",
                inputs.closing_reserve
            );
        } else if plan.is_some_and(|plan| plan > 0 && remaining * 10 < plan) {
            credits.level = Level::Warning;
            credits.message = format!("{} (under 10%)", credits.message);
        }
    }
    if let Some((projected, budget)) = inputs.month_projected
        && projected > budget
        && credits.level == Level::Ok
    {
        credits.level = Level::Warning;
        credits.message =
            format!("the month is projected at {projected} credits, over its budget of {budget}");
    }
    checks.push(credits);

    checks.push(if inputs.quality_errors_24h > 0 {
        Check::new(
            CheckName::DataQuality,
            Level::Warning,
            format!(
                "{} data-quality errors in the last 24 hours (see `odds quality`)",
                inputs.quality_errors_24h
            ),
        )
    } else {
        Check::new(
            CheckName::DataQuality,
            Level::Ok,
            "no data-quality errors in the last 24 hours",
        )
    });
    checks
}

/// The worst level among `checks`.
pub fn overall(checks: &[Check]) -> Level {
    checks.iter().map(|c| c.level).max().unwrap_or(Level::Ok)
}

/// What an alert channel last said about a check.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertState {
    /// The level the last message was about (`Ok` before any, or after a resolution).
    pub notified: Level,
    pub last_sent_at: Option<DateTime<Utc>>,
}

/// At most one message per check in this long.
pub const ALERT_INTERVAL: Duration = Duration::minutes(30);

/// Whether to send a message for `check` now: its level differs from the last one told, no
/// message about it went out in the last 30 minutes, and it is not explained by another failing
/// check. A level that changes back within the interval is never told.
pub fn should_alert(check: &Check, state: Option<&AlertState>, now: DateTime<Utc>) -> bool {
    let notified = state.map_or(Level::Ok, |s| s.notified);
    if check.cause.is_some() && check.level != Level::Ok {
        return false;
    }
    if check.level == notified {
        return false;
    }
    state
        .and_then(|s| s.last_sent_at)
        .is_none_or(|sent| now - sent >= ALERT_INTERVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn inputs(now: &str) -> HealthInputs {
        HealthInputs {
            now: t(now),
            chains: vec![ChainState {
                job: JobName::FetchOdds,
                next_run_at: Some(t(now) + Duration::hours(1)),
                last_run_at: Some(t(now) - Duration::hours(1)),
                consecutive_failures: 0,
                last_error: None,
            }],
            games: Vec::new(),
            api_failures_in_a_row: 0,
            last_api_error: None,
            credits_remaining: Some(15_000),
            credits_used: Some(5_000),
            month_projected: None,
            closing_reserve: 30,
            quality_errors_24h: 0,
        }
    }

    fn level(checks: &[Check], name: &str) -> Level {
        checks.iter().find(|c| c.name == name).unwrap().level
    }

    #[test]
    fn a_healthy_collector_is_ok_everywhere() {
        let checks = evaluate(
            &inputs("2026-01-10T12:00:00Z"),
            &CollectionPolicy::standard(),
            &HealthSettings::default(),
        );
        assert_eq!(overall(&checks), Level::Ok, "{checks:#?}");
        assert_eq!(checks.len(), 5);
    }

    #[test]
    fn a_quiet_opening_window_is_not_stale_but_a_silent_closing_tier_is() {
        let mut i = inputs("2026-01-10T12:00:00Z");
        // Five days out (opening, 48 h interval): last snapshot 40 hours ago is fine.
        i.games.push(GameFreshness {
            matchup: "A @ B".into(),
            commence_time: t("2026-01-15T12:00:00Z"),
            in_view_since: t("2026-01-08T12:00:00Z"),
            last_snapshot: Some(t("2026-01-08T20:00:00Z")),
        });
        let policy = CollectionPolicy::standard();
        let checks = evaluate(&i, &policy, &HealthSettings::default());
        assert_eq!(level(&checks, "freshness"), Level::Ok);
        // Two hours out (closing, 30 min interval), nothing for 50 minutes: stale.
        i.games.push(GameFreshness {
            matchup: "C @ D".into(),
            commence_time: t("2026-01-10T14:00:00Z"),
            in_view_since: t("2026-01-05T12:00:00Z"),
            last_snapshot: Some(t("2026-01-10T11:10:00Z")),
        });
        let checks = evaluate(&i, &policy, &HealthSettings::default());
        let fresh = checks.iter().find(|c| c.name == "freshness").unwrap();
        assert_eq!(fresh.level, Level::Warning);
        assert!(fresh.message.contains("C @ D"), "{}", fresh.message);
        // The economy policy promises no gaps: nothing is stale.
        let checks = evaluate(&i, &CollectionPolicy::economy(), &HealthSettings::default());
        assert_eq!(level(&checks, "freshness"), Level::Ok);
    }

    #[test]
    fn chains_credits_failures_and_quality() {
        let mut i = inputs("2026-01-10T12:00:00Z");
        i.chains[0].next_run_at = Some(t("2026-01-10T11:00:00Z"));
        i.credits_remaining = Some(20);
        i.quality_errors_24h = 2;
        i.api_failures_in_a_row = 4;
        i.last_api_error = Some("HTTP 503".into());
        let checks = evaluate(
            &i,
            &CollectionPolicy::standard(),
            &HealthSettings::default(),
        );
        assert_eq!(level(&checks, "chain:fetch-odds"), Level::Critical);
        assert_eq!(level(&checks, "credits"), Level::Critical);
        assert_eq!(level(&checks, "data_quality"), Level::Warning);
        let api = checks.iter().find(|c| c.name == "api_failures").unwrap();
        assert_eq!(api.level, Level::Critical);
        assert!(api.message.contains("HTTP 503"));
        assert_eq!(overall(&checks), Level::Critical);
        assert_eq!(Level::Critical.exit_code(), 2);

        i.chains[0].next_run_at = None;
        let checks = evaluate(
            &i,
            &CollectionPolicy::standard(),
            &HealthSettings::default(),
        );
        assert!(checks[0].message.contains("no next run"));
        assert!(should_alert(&checks[0], None, i.now));
        // Never ran: starting, not stopped; shown, not alerted.
        i.chains[0].last_run_at = None;
        let checks = evaluate(
            &i,
            &CollectionPolicy::standard(),
            &HealthSettings::default(),
        );
        assert_eq!(checks[0].level, Level::Warning);
        assert!(!should_alert(&checks[0], None, i.now));
        // Under 10% of the plan: a warning; the month over its budget: a warning.
        let mut i = inputs("2026-01-10T12:00:00Z");
        i.credits_remaining = Some(900);
        i.credits_used = Some(19_100);
        let checks = evaluate(
            &i,
            &CollectionPolicy::standard(),
            &HealthSettings::default(),
        );
        assert_eq!(level(&checks, "credits"), Level::Warning);
        let mut i = inputs("2026-01-10T12:00:00Z");
        i.month_projected = Some((1_200, 1_000));
        let checks = evaluate(
            &i,
            &CollectionPolicy::standard(),
            &HealthSettings::default(),
        );
        assert_eq!(level(&checks, "credits"), Level::Warning);
    }

    #[test]
    fn stale_data_while_the_api_is_down_is_explained_by_it() {
        let mut i = inputs("2026-01-10T12:00:00Z");
        i.api_failures_in_a_row = 5;
        i.chains[0].consecutive_failures = 5;
        i.games.push(GameFreshness {
            matchup: "C @ D".into(),
            commence_time: t("2026-01-10T14:00:00Z"),
            in_view_since: t("2026-01-05T12:00:00Z"),
            last_snapshot: Some(t("2026-01-10T10:00:00Z")),
        });
        let checks = evaluate(
            &i,
            &CollectionPolicy::standard(),
            &HealthSettings::default(),
        );
        let now = i.now;
        let alerted: Vec<&str> = checks
            .iter()
            .filter(|c| should_alert(c, None, now))
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(alerted, ["api_failures"]);
    }

    #[test]
    fn one_message_per_change_at_most_every_thirty_minutes() {
        let now = t("2026-01-10T12:00:00Z");
        let bad = Check::new(CheckName::Freshness, Level::Warning, "stale");
        let good = Check::new(CheckName::Freshness, Level::Ok, "fine");
        assert!(should_alert(&bad, None, now));
        assert!(!should_alert(&good, None, now), "nothing to resolve");
        let told = AlertState {
            notified: Level::Warning,
            last_sent_at: Some(now),
        };
        assert!(
            !should_alert(&bad, Some(&told), now + Duration::minutes(5)),
            "said already"
        );
        assert!(
            !should_alert(&good, Some(&told), now + Duration::minutes(10)),
            "too soon"
        );
        assert!(
            should_alert(&good, Some(&told), now + Duration::minutes(30)),
            "resolved"
        );
    }
}
