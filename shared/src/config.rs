//! Typed configuration from environment variables (and an optional `.env` file), validated once
//! at start. Every error is one line that names the variable.

use std::fmt;

use crate::model::{DEFAULT_BOOKMAKERS, Market};
use crate::secret::DatabaseUrl;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(var: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            var,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub database_pool_size: usize,
    pub sports: Vec<String>,
    pub bookmakers: Vec<String>,
    pub markets: Vec<String>,
    pub regions: Vec<String>,
    pub enable_validation: bool,
    pub reject_invalid_odds: bool,
    pub log_level: String,
    pub log_format: LogFormat,
}

/// Reads variables by name; lets tests configure without touching the process environment.
pub trait Lookup {
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The process environment, after `.env` (if any) has filled in what is not already set.
pub struct ProcessEnv;

impl ProcessEnv {
    pub fn load() -> ProcessEnv {
        // A missing .env is the normal case in production.
        let _ = dotenvy::dotenv();
        ProcessEnv
    }
}

impl Lookup for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(&ProcessEnv::load())
    }

    pub fn from_lookup(env: &dyn Lookup) -> Result<Config, ConfigError> {
        let vars = Vars(env);
        let config = Config {
            database_url: DatabaseUrl::new(vars.database_url()?),
            database_pool_size: vars.parse_or("DATABASE_POOL_SIZE", 5usize, |n| *n >= 1)?,
            sports: vars.list_or("SPORTS", &["basketball_nba"])?,
            bookmakers: vars.list_or("BOOKMAKERS", &DEFAULT_BOOKMAKERS)?,
            markets: vars.list_or("MARKETS", &["h2h", "spreads", "totals"])?,
            regions: vars.list_or("REGIONS", &["us"])?,
            enable_validation: vars.bool_or("ENABLE_VALIDATION", true)?,
            reject_invalid_odds: vars.bool_or("REJECT_INVALID_ODDS", false)?,
            log_level: vars.log_level()?,
            log_format: vars.log_format()?,
        };
        if let Some(bad) = config
            .markets
            .iter()
            .find(|m| Market::from_key(m).is_none())
        {
            return Err(ConfigError::new(
                "MARKETS",
                format!("'{bad}' is not one of h2h, spreads, totals"),
            ));
        }
        Ok(config)
    }
}

/// Typed accessors over a [`Lookup`]; blank values count as unset.
pub struct Vars<'a>(pub &'a dyn Lookup);

impl Vars<'_> {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn database_url(&self) -> Result<String, ConfigError> {
        let url = self.get("DATABASE_URL").ok_or_else(|| {
            ConfigError::new(
                "DATABASE_URL",
                "is not set (e.g. postgres://postgres@127.0.0.1:5432/odds)",
            )
        })?;
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must start with postgres:// or postgresql://",
            ));
        }
        url.parse::<tokio_postgres::Config>()
            .map_err(|e| ConfigError::new("DATABASE_URL", format!("is not a valid URL: {e}")))?;
        Ok(url)
    }

    pub fn parse_or<T>(
        &self,
        name: &'static str,
        default: T,
        valid: impl Fn(&T) -> bool,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<T>()
                .ok()
                .filter(|v| valid(v))
                .ok_or_else(|| ConfigError::new(name, format!("'{raw}' is not a valid value"))),
        }
    }

    pub fn bool_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["true", "1", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["false", "0", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(ConfigError::new(
                name,
                format!("'{v}' is not a boolean (true or false)"),
            )),
        }
    }

    pub fn list_or(
        &self,
        name: &'static str,
        default: &[&str],
    ) -> Result<Vec<String>, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(default.iter().map(|s| s.to_string()).collect());
        };
        let items: Vec<String> = raw
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            return Err(ConfigError::new(name, "is an empty list"));
        }
        if let Some(bad) = items
            .iter()
            .find(|s| !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(ConfigError::new(
                name,
                format!("'{bad}' is not a valid key (letters, digits and _ only)"),
            ));
        }
        Ok(items)
    }

    fn log_level(&self) -> Result<String, ConfigError> {
        let level = self
            .get("LOG_LEVEL")
            .unwrap_or_else(|| "info".to_string())
            .to_ascii_lowercase();
        if ["trace", "debug", "info", "warn", "error"].contains(&level.as_str()) {
            Ok(level)
        } else {
            Err(ConfigError::new(
                "LOG_LEVEL",
                format!("'{level}' is not one of trace, debug, info, warn, error"),
            ))
        }
    }

    fn log_format(&self) -> Result<LogFormat, ConfigError> {
        match self
            .get("LOG_FORMAT")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("pretty") => Ok(LogFormat::Pretty),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(ConfigError::new(
                "LOG_FORMAT",
                format!("'{other}' is not json or pretty"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&move |name: &str| map.get(name).cloned())
    }

    const URL: (&str, &str) = ("DATABASE_URL", "postgres://odds:s3cret@localhost/odds");

    #[test]
    fn defaults_match_the_design() {
        let c = config(&[URL]).unwrap();
        assert_eq!(c.sports, ["basketball_nba"]);
        assert_eq!(c.bookmakers.len(), 8);
        assert!(c.bookmakers.contains(&"williamhill_us".to_string()));
        assert_eq!(c.markets, ["h2h", "spreads", "totals"]);
        assert_eq!(c.regions, ["us"]);
        assert!(c.enable_validation && !c.reject_invalid_odds);
        assert_eq!(c.log_format, LogFormat::Pretty);
        assert_eq!(c.database_pool_size, 5);
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "DATABASE_URL"),
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (&[URL, ("DATABASE_POOL_SIZE", "zero")], "DATABASE_POOL_SIZE"),
            (&[URL, ("DATABASE_POOL_SIZE", "0")], "DATABASE_POOL_SIZE"),
            (&[URL, ("ENABLE_VALIDATION", "maybe")], "ENABLE_VALIDATION"),
            (&[URL, ("REJECT_INVALID_ODDS", "2")], "REJECT_INVALID_ODDS"),
            (&[URL, ("MARKETS", "h2h,player_points")], "MARKETS"),
            (&[URL, ("BOOKMAKERS", " , ")], "BOOKMAKERS"),
            (&[URL, ("BOOKMAKERS", "draft kings")], "BOOKMAKERS"),
            (&[URL, ("LOG_LEVEL", "loud")], "LOG_LEVEL"),
            (&[URL, ("LOG_FORMAT", "xml")], "LOG_FORMAT"),
        ];
        for (pairs, var) in cases {
            let err = config(pairs).unwrap_err();
            assert_eq!(err.var, *var);
            let line = err.to_string();
            assert!(line.starts_with(var) && !line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let c = config(&[URL]).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("localhost"));
    }

    #[test]
    fn lists_are_trimmed_and_lowercased() {
        let c = config(&[URL, ("BOOKMAKERS", " Pinnacle, fanduel ,")]).unwrap();
        assert_eq!(c.bookmakers, ["pinnacle", "fanduel"]);
    }
}
