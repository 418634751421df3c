//! A Lambda function's state, built once per cold start: one AWS configuration shared by
//! Secrets Manager and EventBridge, the settings tree read with the secrets laid over the
//! environment, a pool of one connection, and the job context.

use std::collections::HashMap;
use std::sync::Arc;

use odds_core::clock::Clock;
use odds_core::settings::{ConfigError, Lookup, Vars};
use odds_jobs::runtime::{StartupError, build, connect, local_backend};
use odds_jobs::settings::SchedulerSettings;
use odds_jobs::{BackendKind, DryRunScheduler, JobContext, JobName, SchedulerBackend, Settings};

use crate::eventbridge::EventBridgeRules;
use crate::secrets::{SecretKind, SecretsClient, SecretsError};

#[derive(Debug, thiserror::Error)]
pub enum LambdaStartupError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

impl From<ConfigError> for LambdaStartupError {
    fn from(e: ConfigError) -> Self {
        LambdaStartupError::Startup(e.into())
    }
}

/// Environment variables with secret values laid over them.
struct Overlay<'a> {
    base: &'a dyn Lookup,
    secrets: HashMap<&'static str, String>,
}

impl Lookup for Overlay<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.secrets
            .get(name)
            .cloned()
            .or_else(|| self.base.get(name))
    }
}

pub struct LambdaRuntime {
    pub settings: Settings,
    /// The context every invocation starts from; on AWS its backend is replaced by
    /// [`LambdaRuntime::context_for`].
    pub context: JobContext,
    /// The deployment's rules, under `SCHEDULER_BACKEND=aws` without a dry run.
    rules: Option<EventBridgeRules>,
}

impl LambdaRuntime {
    /// Reads everything once. `pool_size` overrides `DATABASE_POOL_SIZE` (Lambda uses 1).
    pub async fn build(
        env: &dyn Lookup,
        clock: Arc<dyn Clock>,
        pool_size: Option<usize>,
    ) -> Result<LambdaRuntime, LambdaStartupError> {
        // The secrets' names come first: the rest of the tree may live inside them.
        let scheduler = SchedulerSettings::from_vars(&Vars(env))?;
        let on_aws = scheduler.backend == BackendKind::Aws;
        let needs_secrets = on_aws
            && (scheduler.odds_api_key_secret_arn.is_some()
                || scheduler.database_url_secret_arn.is_some()
                || scheduler.alert_webhook_secret_arn.is_some());
        let needs_rules = on_aws && !scheduler.dry_run;
        // Loaded once, and only when a client will use it.
        let sdk = if needs_secrets || needs_rules {
            Some(crate::sdk_config().await)
        } else {
            None
        };
        let mut secrets = HashMap::new();
        if let Some(sdk) = sdk.as_ref().filter(|_| needs_secrets) {
            let client = SecretsClient::new(sdk);
            if let Some(arn) = &scheduler.odds_api_key_secret_arn {
                let key = client.get(arn, SecretKind::ApiKey).await?;
                secrets.insert("ODDS_API_KEY", key.expose().to_string());
            }
            if let Some(arn) = &scheduler.database_url_secret_arn {
                let url = client.get(arn, SecretKind::DatabaseUrl).await?;
                secrets.insert("DATABASE_URL", url.expose().to_string());
            }
            if let Some(arn) = &scheduler.alert_webhook_secret_arn {
                let url = client.get(arn, SecretKind::WebhookUrl).await?;
                secrets.insert("ALERT_WEBHOOK_URL", url.expose().to_string());
            }
        }
        let settings = Settings::from_lookup(&Overlay { base: env, secrets })?;
        let store = connect(&settings, pool_size)?;
        let rules = sdk
            .filter(|_| needs_rules)
            .map(|sdk| EventBridgeRules::new(&sdk, settings.scheduler.rule_prefix.clone()));
        // On AWS every invocation gets the rules of its own target (see `context_for`).
        let backend: Arc<dyn SchedulerBackend> = match rules {
            Some(_) => Arc::new(DryRunScheduler),
            None => local_backend(&settings, &store),
        };
        let context = build(&settings, clock, store, backend)?;
        Ok(LambdaRuntime {
            settings,
            context,
            rules,
        })
    }

    /// The context of one invocation of `job`'s function, invoked as `invoked_arn`: on AWS its
    /// rules target that ARN (or `SCHEDULER_TARGET_ARN`).
    pub fn context_for(&self, job: JobName, invoked_arn: &str) -> JobContext {
        let Some(rules) = &self.rules else {
            return self.context.clone();
        };
        let target = match &self.settings.scheduler.target_arn {
            Some(arn) => arn.replace("{job}", job.as_str()),
            None => invoked_arn.to_string(),
        };
        JobContext {
            backend: Arc::new(rules.scheduler(target)),
            ..self.context.clone()
        }
    }
}
