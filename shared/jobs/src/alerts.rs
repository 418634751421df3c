//! Health checks against the store, and alerts through a webhook when a check changes state.
//!
//! The jobs and the watchdog call [`after_run`] when they end: it evaluates every check and
//! sends one message per check whose level changed since the channel last heard of it, at most
//! one per check per 30 minutes (the state is kept in `alert_state`). A webhook that fails or
//! hangs costs the run at most its timeout and never fails it; the URL is a secret and appears
//! in no log or error.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use odds_core::health::{Check, HealthInputs, HealthSettings, Level, evaluate, should_alert};
use odds_core::planner::PlannerSettings;
use odds_core::secret::Secret;
use odds_core::settings::{CollectionSettings, ConfigError, Vars};
use odds_store::{Store, StoreError};

use crate::outlook::allotment;

/// The message shape the webhook takes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "lowercase")]
pub enum AlertFormat {
    /// `{"content": ...}`
    Discord,
    /// `{"text": ...}`
    Slack,
}

odds_core::named!(AlertFormat, "alert format");

/// `ALERT_WEBHOOK_URL` (a secret; on AWS from Secrets Manager), `ALERT_FORMAT` (by default
/// from the URL: Discord's hosts take Discord's shape, anything else Slack's) and
/// `ALERT_TIMEOUT_SECONDS`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    pub webhook: Option<Secret>,
    pub format: AlertFormat,
    pub timeout: StdDuration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            webhook: None,
            format: AlertFormat::Slack,
            timeout: StdDuration::from_secs(5),
        }
    }
}

impl AlertSettings {
    pub fn from_vars(vars: &Vars) -> Result<AlertSettings, ConfigError> {
        let webhook = vars.get("ALERT_WEBHOOK_URL").map(Secret::new);
        if let Some(url) = &webhook {
            let ok = url::Url::parse(url.expose())
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
            if !ok {
                // The value is a secret: the error names the variable, not its value.
                return Err(ConfigError::new(
                    "ALERT_WEBHOOK_URL",
                    "is not an http(s) URL".to_string(),
                ));
            }
        }
        let by_url = webhook.as_ref().map_or(AlertFormat::Slack, |url| {
            if url.expose().contains("discord") {
                AlertFormat::Discord
            } else {
                AlertFormat::Slack
            }
        });
        let seconds = vars.parse_or("ALERT_TIMEOUT_SECONDS", 5u64, |s| (1..=30).contains(s))?;
        Ok(AlertSettings {
            webhook,
            format: vars.named::<AlertFormat>("ALERT_FORMAT")?.unwrap_or(by_url),
            timeout: StdDuration::from_secs(seconds),
        })
    }
}

/// The webhook, ready to post.
#[derive(Clone)]
pub struct Notifier {
    http: reqwest::Client,
    url: Secret,
    format: AlertFormat,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("url", &self.url)
            .field("format", &self.format)
            .finish()
    }
}

impl Notifier {
    /// `None` without a webhook.
    pub fn new(settings: &AlertSettings) -> Option<Notifier> {
        let url = settings.webhook.clone()?;
        let http = odds_sources::http::client_builder(settings.timeout, settings.timeout)
            .build()
            .map_err(|e| tracing::error!(error = %e.without_url(), "alert client not built"))
            .ok()?;
        Some(Notifier {
            http,
            url,
            format: settings.format,
        })
    }

    /// The body of one message.
    pub fn payload(&self, text: &str) -> serde_json::Value {
        match self.format {
            AlertFormat::Discord => json!({ "content": text }),
            AlertFormat::Slack => json!({ "text": text }),
        }
    }

    /// Posts one message; the error says what failed, never where.
    pub async fn send(&self, text: &str) -> Result<(), String> {
        let response = self
            .http
            .post(self.url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(self.payload(text).to_string())
            .send()
            .await
            .map_err(odds_sources::http::describe_transport)?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "the webhook answered HTTP {}",
                response.status().as_u16()
            ))
        }
    }
}

/// The text of a message about a check.
pub fn message(check: &Check) -> String {
    match check.level {
        Level::Ok => format!(
            "[resolved] odds collector {}: {}",
            check.name, check.message
        ),
        level => format!("[{level}] odds collector {}: {}", check.name, check.message),
    }
}

/// Every health check at `now`.
pub async fn health(
    store: &Store,
    planner: &PlannerSettings,
    collection: &CollectionSettings,
    now: DateTime<Utc>,
) -> Result<Vec<Check>, StoreError> {
    let (api_failures_in_a_row, last_api_error) = store.api_failures_in_a_row().await?;
    let quota = store.latest_quota().await?;
    let month_projected = match planner.budget.monthly_credits {
        Some(budget) => {
            let (_, allotment) = allotment(store, planner, collection, now).await?;
            allotment.projection.map(|p| (p.total(), budget))
        }
        None => None,
    };
    let inputs = HealthInputs {
        now,
        chains: store.chain_states().await?,
        games: store.game_freshness(now, planner.lookahead).await?,
        api_failures_in_a_row,
        last_api_error,
        credits_remaining: quota.as_ref().and_then(|q| q.remaining),
        credits_used: quota.as_ref().and_then(|q| q.used),
        month_projected,
        closing_reserve: planner.budget.closing_reserve,
        quality_errors_24h: store.quality_errors_since(now - Duration::days(1)).await?,
    };
    Ok(evaluate(
        &inputs,
        &planner.policy,
        &HealthSettings::default(),
    ))
}

/// Sends what changed since the channel last heard; returns the messages sent. Failures are
/// logged, never returned: alerting must not fail a run.
pub async fn notify(
    store: &Store,
    notifier: &Notifier,
    checks: &[Check],
    now: DateTime<Utc>,
) -> usize {
    let states = match store.alert_states().await {
        Ok(states) => states,
        Err(e) => {
            tracing::warn!(error = %e, "alert state unreadable; no alert sent");
            return 0;
        }
    };
    let mut sent = 0;
    for check in checks {
        if !should_alert(check, states.get(&check.name), now) {
            continue;
        }
        let text = message(check);
        match notifier.send(&text).await {
            Ok(()) => {
                sent += 1;
                if let Err(e) = store
                    .record_alert(&check.name, check.level, now, &text)
                    .await
                {
                    tracing::warn!(check = %check.name, error = %e, "alert sent but not recorded");
                }
            }
            Err(e) => tracing::warn!(check = %check.name, error = %e, "alert not delivered"),
        }
    }
    sent
}

/// What a run does when it ends: check health and tell the webhook what changed, within the
/// webhook's timeout per message. Nothing without a webhook.
pub async fn after_run(
    store: &Store,
    notifier: Option<&Notifier>,
    planner: &PlannerSettings,
    collection: &CollectionSettings,
    now: DateTime<Utc>,
) -> usize {
    let Some(notifier) = notifier else {
        return 0;
    };
    match health(store, planner, collection, now).await {
        Ok(checks) => notify(store, notifier, &checks, now).await,
        Err(e) => {
            tracing::warn!(error = %e, "health not checked");
            0
        }
    }
}

/// The dead-man's switch: the watchdog found `job`'s chain broken (its rule deleted, disabled,
/// or its time passed without a run) and re-armed it. Told at once, whatever the checks say
/// after the re-arming; the chain's check tells the resolution once it has run again.
pub async fn dead_chain(
    store: &Store,
    notifier: &Notifier,
    job: crate::JobName,
    broken: &str,
    now: DateTime<Utc>,
) {
    let check = odds_core::health::CheckName::Chain(job).to_string();
    let state = store.alert_states().await.unwrap_or_default();
    let recent = state
        .get(&check)
        .and_then(|s| s.last_sent_at)
        .is_some_and(|t| now - t < odds_core::health::ALERT_INTERVAL);
    if recent {
        return;
    }
    let text = format!("[critical] odds collector {check}: {broken}; the watchdog re-armed it");
    match notifier.send(&text).await {
        Ok(()) => {
            if let Err(e) = store
                .record_alert(&check, Level::Critical, now, &text)
                .await
            {
                tracing::warn!(check = %check, error = %e, "alert sent but not recorded");
            }
        }
        Err(e) => tracing::warn!(check = %check, error = %e, "alert not delivered"),
    }
}
