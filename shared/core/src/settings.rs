//! Reading settings: variables by name from the environment (and an optional `.env` file), typed
//! accessors whose errors are one line naming the variable, and the sections that belong to the
//! pure domain (what to collect, logging). Each crate reads its own section through [`Vars`]; the
//! jobs crate assembles the whole tree once per process.

use std::fmt;

use crate::model::{DEFAULT_BOOKMAKERS, Market};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(var: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            var,
            message: message.into(),
        }
    }
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

/// The process environment, after `.env` (if any) has filled in what is not already set. The
/// only reader of the process environment.
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

/// Typed accessors over a [`Lookup`]; blank values count as unset.
pub struct Vars<'a>(pub &'a dyn Lookup);

impl Vars<'_> {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
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

    /// A whole number of minutes inside `range`, named in the error when it is not.
    pub fn minutes_or(
        &self,
        name: &'static str,
        default: chrono::Duration,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<chrono::Duration, ConfigError> {
        self.parse_or(name, default.num_minutes(), |m| range.contains(m))
            .map_err(|e| {
                ConfigError::new(
                    name,
                    format!(
                        "{} ({}..={} minutes)",
                        e.message,
                        range.start(),
                        range.end()
                    ),
                )
            })
            .map(chrono::Duration::minutes)
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
        // A key listed twice would be fetched (and paid for) twice.
        let mut items = items;
        let mut seen = std::collections::HashSet::new();
        items.retain(|item| seen.insert(item.clone()));
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

    /// A named enum's value (case-insensitive), or `None` when unset.
    pub fn named<T>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: std::str::FromStr<Err = crate::names::ParseEnumError>,
    {
        self.get(name)
            .map(|raw| {
                raw.parse::<T>().map_err(|e| {
                    ConfigError::new(name, format!("'{raw}' is not one of {}", e.expected))
                })
            })
            .transpose()
    }

    /// One of `choices` (case-insensitive), or `None` when unset.
    pub fn choice<T: Copy>(
        &self,
        name: &'static str,
        choices: &[(&str, T)],
    ) -> Result<Option<T>, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        let raw = raw.to_ascii_lowercase();
        choices
            .iter()
            .find(|(key, _)| *key == raw)
            .map(|(_, value)| Some(*value))
            .ok_or_else(|| {
                let names: Vec<&str> = choices.iter().map(|(key, _)| *key).collect();
                ConfigError::new(name, format!("'{raw}' is not one of {}", names.join(", ")))
            })
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// What is collected: sports, books, markets and regions.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSettings {
    pub sports: Vec<String>,
    pub bookmakers: Vec<String>,
    pub markets: Vec<String>,
    pub regions: Vec<String>,
    /// Markets only the per-event endpoint serves (alternate lines, periods, player props),
    /// collected at each game's closing capture; empty by default.
    pub event_markets: Vec<String>,
}

impl Default for CollectionSettings {
    fn default() -> Self {
        CollectionSettings {
            sports: vec!["basketball_nba".into()],
            bookmakers: DEFAULT_BOOKMAKERS.iter().map(|s| s.to_string()).collect(),
            markets: Market::ALL.iter().map(|m| m.as_str().to_string()).collect(),
            regions: vec!["us".into()],
            event_markets: Vec::new(),
        }
    }
}

impl CollectionSettings {
    /// Reads `SPORTS`, `BOOKMAKERS`, `MARKETS`, `REGIONS` and `EVENT_MARKETS`.
    pub fn from_vars(vars: &Vars) -> Result<CollectionSettings, ConfigError> {
        let d = CollectionSettings::default();
        let settings = CollectionSettings {
            sports: vars.list_or("SPORTS", &strs(&d.sports))?,
            bookmakers: vars.list_or("BOOKMAKERS", &strs(&d.bookmakers))?,
            markets: vars.list_or("MARKETS", &strs(&d.markets))?,
            regions: vars.list_or("REGIONS", &strs(&d.regions))?,
            event_markets: vars.list_or("EVENT_MARKETS", &[])?,
        };
        for market in &settings.event_markets {
            let bad = |why: &str| ConfigError::new("EVENT_MARKETS", format!("'{market}' {why}"));
            if Market::from_key(market).is_some() {
                return Err(bad("is a featured market, collected by /odds (MARKETS)"));
            }
            if !market
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(bad("is not a market key (such as player_points or h2h_q1)"));
            }
        }
        if let Some(bad) = settings
            .markets
            .iter()
            .find(|m| Market::from_key(m).is_none())
        {
            return Err(ConfigError::new(
                "MARKETS",
                format!("'{bad}' is not one of h2h, spreads, totals"),
            ));
        }
        Ok(settings)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// `LOG_LEVEL` and `LOG_FORMAT`. The format stays `None` when unset: each kind of process has
/// its own default (JSON on Lambda, where CloudWatch reads fields; compact text elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub level: String,
    pub format: Option<LogFormat>,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: "info".into(),
            format: None,
        }
    }
}

impl LogSettings {
    pub fn from_vars(vars: &Vars) -> Result<LogSettings, ConfigError> {
        let level = vars
            .choice(
                "LOG_LEVEL",
                &[
                    ("trace", "trace"),
                    ("debug", "debug"),
                    ("info", "info"),
                    ("warn", "warn"),
                    ("error", "error"),
                ],
            )?
            .unwrap_or("info");
        let format = vars.choice(
            "LOG_FORMAT",
            &[("json", LogFormat::Json), ("pretty", LogFormat::Pretty)],
        )?;
        Ok(LogSettings {
            level: level.to_string(),
            format,
        })
    }

    /// The format, or `default` when `LOG_FORMAT` is unset.
    pub fn format_or(&self, default: LogFormat) -> LogFormat {
        self.format.unwrap_or(default)
    }
}

/// Pairs as a [`Lookup`], for tests and for processes that configure themselves.
pub fn lookup_from_pairs(pairs: &[(&str, &str)]) -> impl Lookup + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(pairs: &[(&str, &str)]) -> Result<CollectionSettings, ConfigError> {
        CollectionSettings::from_vars(&Vars(&lookup_from_pairs(pairs)))
    }

    fn log(pairs: &[(&str, &str)]) -> Result<LogSettings, ConfigError> {
        LogSettings::from_vars(&Vars(&lookup_from_pairs(pairs)))
    }

    #[test]
    fn defaults_match_the_design() {
        let c = collection(&[]).unwrap();
        assert_eq!(c.sports, ["basketball_nba"]);
        assert_eq!(c.bookmakers.len(), 8);
        assert!(c.bookmakers.contains(&"williamhill_us".to_string()));
        assert_eq!(c.markets, ["h2h", "spreads", "totals"]);
        assert_eq!(c.regions, ["us"]);
        let l = log(&[]).unwrap();
        assert_eq!((l.level.as_str(), l.format), ("info", None));
        assert_eq!(l.format_or(LogFormat::Pretty), LogFormat::Pretty);
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("MARKETS", "h2h,player_points")], "MARKETS"),
            (&[("BOOKMAKERS", " , ")], "BOOKMAKERS"),
            (&[("BOOKMAKERS", "draft kings")], "BOOKMAKERS"),
        ];
        for (pairs, var) in cases {
            let err = collection(pairs).unwrap_err();
            assert_eq!(err.var, *var);
            let line = err.to_string();
            assert!(line.starts_with(var) && !line.contains('\n'), "{line}");
        }
        for (pairs, var) in [
            (&[("LOG_LEVEL", "loud")], "LOG_LEVEL"),
            (&[("LOG_FORMAT", "xml")], "LOG_FORMAT"),
        ] {
            let err = log(pairs).unwrap_err();
            assert_eq!(err.var, var);
            let line = err.to_string();
            assert!(line.starts_with(var) && !line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn lists_are_trimmed_and_lowercased() {
        let c = collection(&[("BOOKMAKERS", " Pinnacle, fanduel ,")]).unwrap();
        assert_eq!(c.bookmakers, ["pinnacle", "fanduel"]);
    }

    #[test]
    fn a_key_listed_twice_counts_once() {
        let c = collection(&[
            ("SPORTS", "basketball_nba,BASKETBALL_NBA, basketball_wnba"),
            ("MARKETS", "h2h,h2h"),
        ])
        .unwrap();
        assert_eq!(c.sports, ["basketball_nba", "basketball_wnba"]);
        assert_eq!(c.markets, ["h2h"]);
    }

    #[test]
    fn choices_are_case_insensitive() {
        let l = log(&[("LOG_LEVEL", "DEBUG"), ("LOG_FORMAT", "Json")]).unwrap();
        assert_eq!(
            (l.level.as_str(), l.format),
            ("debug", Some(LogFormat::Json))
        );
    }
}
