//! Builds everything a process needs to run jobs, once: configuration (with secrets from
//! Secrets Manager under `SCHEDULER_BACKEND=aws`), the database pool, the API client and the
//! scheduler backend. The Lambda functions and the harness share it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::{Config, ConfigError, Lookup, Vars};
use crate::jobs::{JobContext, JobSettings};
use crate::odds_api::{OddsApiClient, OddsApiSettings};
use crate::schedule::aws::EventBridgeScheduler;
use crate::schedule::{Backend, DatabaseScheduler, DryRunScheduler, PlannerSettings};
use crate::secrets::{SecretKind, SecretsClient, SecretsError};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// EventBridge rules (the Lambda deployment).
    Aws,
    /// The harness on a laptop.
    Local,
    /// The harness on Railway (adds the health check).
    Railway,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Aws => "aws",
            BackendKind::Local => "local",
            BackendKind::Railway => "railway",
        }
    }
}

/// Settings of the process itself, as opposed to what it collects.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeSettings {
    pub backend: BackendKind,
    pub dry_run: bool,
    pub rule_prefix: String,
    pub odds_api_key_secret_arn: Option<String>,
    pub database_url_secret_arn: Option<String>,
    /// What the rules invoke, when not the function's own ARN (an alias, or a local
    /// emulator whose ARNs EventBridge would reject); `{job}` is replaced by the job name.
    pub target_arn: Option<String>,
}

impl RuntimeSettings {
    pub fn from_lookup(env: &dyn Lookup) -> Result<RuntimeSettings, ConfigError> {
        let vars = Vars(env);
        let backend = match vars
            .get("SCHEDULER_BACKEND")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("local") => BackendKind::Local,
            Some("aws") => BackendKind::Aws,
            Some("railway") => BackendKind::Railway,
            Some(other) => {
                return Err(ConfigError {
                    var: "SCHEDULER_BACKEND",
                    message: format!("'{other}' is not aws, local or railway"),
                });
            }
        };
        let rule_prefix = vars.get("RULE_PREFIX").unwrap_or_else(|| "odds".into());
        if rule_prefix.len() > 40
            || !rule_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError {
                var: "RULE_PREFIX",
                message: format!("'{rule_prefix}' must be at most 40 letters, digits, - or _"),
            });
        }
        Ok(RuntimeSettings {
            backend,
            dry_run: vars.bool_or("SCHEDULER_DRY_RUN", false)?,
            rule_prefix,
            odds_api_key_secret_arn: vars.get("ODDS_API_KEY_SECRET_ARN"),
            database_url_secret_arn: vars.get("DATABASE_URL_SECRET_ARN"),
            target_arn: vars.get("SCHEDULER_TARGET_ARN"),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("The Odds API client: {0}")]
    Api(String),
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

pub struct Runtime {
    pub config: Config,
    pub settings: RuntimeSettings,
    pub context: JobContext,
}

/// Reads everything once. `pool_size` overrides `DATABASE_POOL_SIZE` (Lambda uses 1).
pub async fn build(
    env: &dyn Lookup,
    clock: Arc<dyn Clock>,
    pool_size: Option<usize>,
) -> Result<Runtime, StartupError> {
    let settings = RuntimeSettings::from_lookup(env)?;
    let mut secrets = HashMap::new();
    if settings.backend == BackendKind::Aws
        && (settings.odds_api_key_secret_arn.is_some()
            || settings.database_url_secret_arn.is_some())
    {
        let client = SecretsClient::from_env().await;
        if let Some(arn) = &settings.odds_api_key_secret_arn {
            let key = client.get(arn, SecretKind::ApiKey).await?;
            secrets.insert("ODDS_API_KEY", key.expose().to_string());
        }
        if let Some(arn) = &settings.database_url_secret_arn {
            let url = client.get(arn, SecretKind::DatabaseUrl).await?;
            secrets.insert("DATABASE_URL", url.expose().to_string());
        }
    }
    let env = Overlay { base: env, secrets };
    let config = Config::from_lookup(&env)?;
    let planner = PlannerSettings::from_vars(&Vars(&env))?;
    let api_settings = OddsApiSettings::from_lookup(&env)?;
    let odds_api = match api_settings.api_key {
        Some(_) => {
            Some(OddsApiClient::new(&api_settings).map_err(|e| StartupError::Api(e.to_string()))?)
        }
        None => None,
    };
    let store = Store::connect(
        &config.database_url,
        pool_size.unwrap_or(config.database_pool_size),
    )?;
    let backend = if settings.dry_run {
        Backend::DryRun(DryRunScheduler)
    } else {
        match settings.backend {
            BackendKind::Aws => {
                Backend::Aws(EventBridgeScheduler::from_env(settings.rule_prefix.clone()).await)
            }
            kind => Backend::Database(DatabaseScheduler::new(store.clone(), kind.as_str())),
        }
    };
    let context = JobContext {
        store,
        clock,
        odds_api,
        backend,
        settings: JobSettings::from_config(&config, planner),
    };
    Ok(Runtime {
        config,
        settings,
        context,
    })
}
