//! What every job run shares, built once per process (per Lambda cold start).

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use odds_core::clock::Clock;
use odds_core::lifecycle::LifecycleRules;
use odds_core::planner::PlannerSettings;
use odds_core::settings::CollectionSettings;
use odds_sources::nba_stats::{NbaStatsClient, NbaStatsSettings};
use odds_sources::odds_api::OddsApiClient;
use odds_store::Store;
use odds_store::ingest::IngestOptions;

use crate::error::JobError;
use crate::policy::{Planner, Policy};
use crate::schedule::SchedulerBackend;

#[derive(Clone)]
pub struct JobContext {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// `None` without an API key: jobs that need it fail with a clear error (and retry).
    pub odds_api: Option<OddsApiClient>,
    /// NBA.com, for free NBA scores; `None` leaves scores to The Odds API.
    pub nba: Option<NbaSource>,
    /// The alert webhook, when one is configured.
    pub alerts: Option<crate::alerts::Notifier>,
    pub backend: Arc<dyn SchedulerBackend>,
    /// When credits are spent; the planner in production.
    pub policy: Arc<dyn Policy>,
    pub settings: Arc<JobSettings>,
}

/// The jobs' own section of the settings.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSettings {
    pub collection: CollectionSettings,
    pub planner: PlannerSettings,
    pub lifecycle: LifecycleRules,
    pub ingest: IngestOptions,
    /// Delays before retrying a failed run; the last repeats.
    pub retry_backoff: Vec<Duration>,
    /// How long a run's lease lasts unless renewed; a running job renews it every quarter of
    /// this, so a killed run blocks its job for at most this long.
    pub lease_ttl: Duration,
    /// Names this process in lease owners (the Lambda log stream, or `local`).
    pub instance: String,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            collection: CollectionSettings::default(),
            planner: PlannerSettings::default(),
            lifecycle: LifecycleRules::default(),
            ingest: IngestOptions::default(),
            retry_backoff: vec![
                Duration::minutes(5),
                Duration::minutes(15),
                Duration::minutes(60),
            ],
            lease_ttl: Duration::minutes(2),
            instance: "local".into(),
        }
    }
}

impl JobSettings {
    pub fn backoff(&self, failures: i32) -> Duration {
        let i = (failures.max(1) as usize - 1).min(self.retry_backoff.len().saturating_sub(1));
        self.retry_backoff
            .get(i)
            .copied()
            .unwrap_or(Duration::minutes(5))
    }
}

/// The NBA.com client, built the first time a run needs it: only fetch-scores does, so the
/// other functions' cold starts do not pay for a second HTTP client.
#[derive(Clone)]
pub struct NbaSource {
    settings: NbaStatsSettings,
    client: Arc<OnceLock<Result<NbaStatsClient, String>>>,
}

impl NbaSource {
    pub fn new(settings: NbaStatsSettings) -> NbaSource {
        NbaSource {
            settings,
            client: Arc::new(OnceLock::new()),
        }
    }

    pub fn client(&self) -> Result<&NbaStatsClient, JobError> {
        self.client
            .get_or_init(|| NbaStatsClient::new(&self.settings).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| JobError::Setup(format!("the NBA.com client: {e}")))
    }
}

impl JobContext {
    /// A context with the production policy.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        odds_api: Option<OddsApiClient>,
        backend: Arc<dyn SchedulerBackend>,
        settings: JobSettings,
    ) -> JobContext {
        JobContext {
            store,
            clock,
            odds_api,
            nba: None,
            alerts: None,
            backend,
            policy: Arc::new(Planner),
            settings: Arc::new(settings),
        }
    }

    pub fn backend_info(&self) -> serde_json::Value {
        self.backend.get_backend_info()
    }

    /// Tip-off times of the games still to be collected.
    pub(crate) async fn upcoming_tipoffs(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, JobError> {
        Ok(self
            .store
            .collectable_games(now)
            .await?
            .iter()
            .map(|g| g.commence_time)
            .collect())
    }

    pub(crate) fn odds_api(&self) -> Result<&OddsApiClient, JobError> {
        self.odds_api
            .as_ref()
            .ok_or_else(|| JobError::Setup("ODDS_API_KEY is not set".into()))
    }
}
