//! Builds a job context from the settings, once per process: the database pool, the API client
//! and the scheduler backend. The harness uses it as it is; the Lambda entry adds secrets and
//! EventBridge.

use std::sync::Arc;

use odds_core::clock::Clock;
use odds_core::settings::ConfigError;
use odds_sources::odds_api::{OddsApiClient, OddsApiSettings};
use odds_store::{Store, StoreError};

use crate::context::{JobContext, NbaSource};
use crate::schedule::{DatabaseScheduler, DryRunScheduler, SchedulerBackend};
use crate::settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("The Odds API client: {0}")]
    Api(String),
}

/// The database pool; `pool_size` overrides `DATABASE_POOL_SIZE` (Lambda uses 1).
pub fn connect(settings: &Settings, pool_size: Option<usize>) -> Result<Store, StartupError> {
    Ok(Store::connect(
        &settings.database.url,
        pool_size.unwrap_or(settings.database.pool_size),
    )?)
}

/// The Odds API client, `None` without a key.
pub fn odds_api_client(settings: &OddsApiSettings) -> Result<Option<OddsApiClient>, StartupError> {
    match settings.api_key {
        Some(_) => Ok(Some(
            OddsApiClient::new(settings).map_err(|e| StartupError::Api(e.to_string()))?,
        )),
        None => Ok(None),
    }
}

/// The backend of a process without EventBridge: the database schedule, or the dry run.
pub fn local_backend(settings: &Settings, store: &Store) -> Arc<dyn SchedulerBackend> {
    if settings.scheduler.dry_run {
        Arc::new(DryRunScheduler)
    } else {
        Arc::new(DatabaseScheduler::new(
            store.clone(),
            settings.scheduler.backend.as_str(),
        ))
    }
}

/// The job context of the harness (and of a Lambda function given its backend).
pub fn build(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    store: Store,
    backend: Arc<dyn SchedulerBackend>,
) -> Result<JobContext, StartupError> {
    let nba = settings
        .nba_stats
        .scores
        .then(|| NbaSource::new(settings.nba_stats.clone()));
    Ok(JobContext {
        nba,
        alerts: crate::alerts::Notifier::new(&settings.alerts),
        ..JobContext::new(
            store,
            clock,
            odds_api_client(&settings.odds_api)?,
            backend,
            settings.jobs(),
        )
    })
}
