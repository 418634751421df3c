//! The settings tree: every variable the collector reads, read once per process (the
//! environment plus `.env`), each section handed to the part it configures. Defaults live with
//! their sections; every error is one line that names its variable.

use odds_core::planner::PlannerSettings;
use odds_core::settings::{CollectionSettings, ConfigError, LogSettings, Lookup, ProcessEnv, Vars};
use odds_sources::nba_stats::NbaStatsSettings;
use odds_sources::odds_api::OddsApiSettings;
use odds_store::DatabaseSettings;
use odds_store::ingest::IngestOptions;

use crate::context::JobSettings;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub collection: CollectionSettings,
    pub ingest: IngestOptions,
    pub planner: PlannerSettings,
    pub odds_api: OddsApiSettings,
    pub nba_stats: NbaStatsSettings,
    pub scheduler: SchedulerSettings,
    pub alerts: crate::alerts::AlertSettings,
    pub log: LogSettings,
    pub process: ProcessSettings,
}

impl Settings {
    /// The process environment (after `.env`).
    pub fn load() -> Result<Settings, ConfigError> {
        Settings::from_lookup(&ProcessEnv::load())
    }

    pub fn from_lookup(env: &dyn Lookup) -> Result<Settings, ConfigError> {
        let vars = Vars(env);
        let collection = CollectionSettings::from_vars(&vars)?;
        Ok(Settings {
            database: DatabaseSettings::from_vars(&vars)?,
            ingest: IngestOptions::from_vars(&vars, &collection)?,
            collection,
            planner: PlannerSettings::from_vars(&vars)?,
            odds_api: OddsApiSettings::from_vars(&vars)?,
            nba_stats: NbaStatsSettings::from_vars(&vars)?,
            scheduler: SchedulerSettings::from_vars(&vars)?,
            alerts: crate::alerts::AlertSettings::from_vars(&vars)?,
            log: LogSettings::from_vars(&vars)?,
            process: ProcessSettings::from_vars(&vars)?,
        })
    }

    /// The jobs' section.
    pub fn jobs(&self) -> JobSettings {
        JobSettings {
            collection: self.collection.clone(),
            planner: self.planner.clone(),
            ingest: self.ingest.clone(),
            instance: self.process.instance.clone(),
            ..JobSettings::default()
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "lowercase")]
pub enum BackendKind {
    /// EventBridge rules (the Lambda deployment).
    Aws,
    /// The harness on a laptop.
    Local,
    /// The harness on Railway (adds the health check).
    Railway,
}

odds_core::named!(BackendKind, "scheduler backend");

/// Where runs are armed, and the AWS names the Lambda deployment needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerSettings {
    pub backend: BackendKind,
    pub dry_run: bool,
    pub rule_prefix: String,
    pub odds_api_key_secret_arn: Option<String>,
    pub database_url_secret_arn: Option<String>,
    pub alert_webhook_secret_arn: Option<String>,
    /// What the rules invoke, when not the function's own ARN (an alias, or a local
    /// emulator whose ARNs EventBridge would reject); `{job}` is replaced by the job name.
    pub target_arn: Option<String>,
}

impl SchedulerSettings {
    /// Reads `SCHEDULER_BACKEND`, `SCHEDULER_DRY_RUN`, `RULE_PREFIX`, `SCHEDULER_TARGET_ARN`,
    /// `ODDS_API_KEY_SECRET_ARN`, `DATABASE_URL_SECRET_ARN` and `ALERT_WEBHOOK_URL_SECRET_ARN`.
    pub fn from_vars(vars: &Vars) -> Result<SchedulerSettings, ConfigError> {
        let backend = vars
            .named::<BackendKind>("SCHEDULER_BACKEND")?
            .unwrap_or(BackendKind::Local);
        let rule_prefix = vars.get("RULE_PREFIX").unwrap_or_else(|| "odds".into());
        if rule_prefix.len() > 40
            || !rule_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::new(
                "RULE_PREFIX",
                format!("'{rule_prefix}' must be at most 40 letters, digits, - or _"),
            ));
        }
        Ok(SchedulerSettings {
            backend,
            dry_run: vars.bool_or("SCHEDULER_DRY_RUN", false)?,
            rule_prefix,
            odds_api_key_secret_arn: vars.get("ODDS_API_KEY_SECRET_ARN"),
            database_url_secret_arn: vars.get("DATABASE_URL_SECRET_ARN"),
            alert_webhook_secret_arn: vars.get("ALERT_WEBHOOK_URL_SECRET_ARN"),
            target_arn: vars.get("SCHEDULER_TARGET_ARN"),
        })
    }
}

/// The process itself: its name in lease owners and the port of the health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSettings {
    pub instance: String,
    pub port: u16,
}

impl ProcessSettings {
    /// Reads `AWS_LAMBDA_LOG_STREAM_NAME` (set by Lambda) and `PORT` (set by Railway).
    pub fn from_vars(vars: &Vars) -> Result<ProcessSettings, ConfigError> {
        let instance = vars
            .get("AWS_LAMBDA_LOG_STREAM_NAME")
            .and_then(|s| s.rsplit(']').next().map(str::to_string))
            .unwrap_or_else(|| "local".into());
        Ok(ProcessSettings {
            instance,
            port: vars.parse_or("PORT", 8080u16, |p| *p > 0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use odds_core::settings::lookup_from_pairs;

    const URL: (&str, &str) = ("DATABASE_URL", "postgres://odds:s3cret@localhost/odds");

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_lookup(&lookup_from_pairs(pairs))
    }

    #[test]
    fn the_tree_reads_every_section_with_its_defaults() {
        let s = settings(&[URL]).unwrap();
        assert_eq!(s.database.pool_size, 5);
        assert_eq!(s.collection, CollectionSettings::default());
        assert_eq!(s.ingest, IngestOptions::default());
        assert_eq!(s.planner, PlannerSettings::default());
        assert_eq!(s.odds_api, OddsApiSettings::default());
        assert_eq!(s.nba_stats, NbaStatsSettings::default());
        assert_eq!(s.scheduler.backend, BackendKind::Local);
        assert_eq!(s.scheduler.rule_prefix, "odds");
        assert_eq!(s.process.port, 8080);
        assert_eq!(s.process.instance, "local");
        assert_eq!(s.jobs().collection.bookmakers.len(), 8);
    }

    #[test]
    fn every_section_names_its_variable() {
        for (pair, var) in [
            (("DATABASE_POOL_SIZE", "0"), "DATABASE_POOL_SIZE"),
            (("MARKETS", "corners"), "MARKETS"),
            (("ENABLE_VALIDATION", "maybe"), "ENABLE_VALIDATION"),
            (("REJECT_INVALID_ODDS", "2"), "REJECT_INVALID_ODDS"),
            (
                ("SCHEDULER_LOOKAHEAD_DAYS", "0"),
                "SCHEDULER_LOOKAHEAD_DAYS",
            ),
            (("ODDS_API_MAX_ATTEMPTS", "0"), "ODDS_API_MAX_ATTEMPTS"),
            (("NBA_RATE_PER_SEC", "0"), "NBA_RATE_PER_SEC"),
            (("SCHEDULER_BACKEND", "k8s"), "SCHEDULER_BACKEND"),
            (("RULE_PREFIX", "a b"), "RULE_PREFIX"),
            (("LOG_FORMAT", "xml"), "LOG_FORMAT"),
            (("PORT", "abc"), "PORT"),
        ] {
            let err = settings(&[URL, pair]).unwrap_err();
            assert_eq!(err.var, var, "{err}");
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn the_lambda_log_stream_names_the_instance() {
        let s = settings(&[
            URL,
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/20/[$LATEST]abc123"),
        ])
        .unwrap();
        assert_eq!(s.process.instance, "abc123");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = settings(&[URL, ("ODDS_API_KEY", "feedfacefeedface")]).unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("feedface"),
            "{shown}"
        );
    }
}
