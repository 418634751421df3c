//! Settings of The Odds API client, read from the environment with one-line errors that name the
//! variable.

use std::time::Duration;

use odds_core::secret::Secret;
use odds_core::settings::{ConfigError, Vars};

use crate::http::{Pace, PaceVars, check_base_url};

pub const DEFAULT_BASE_URL: &str = "https://api.the-odds-api.com";

/// Connection, retry and rate-limit settings. `Debug` shows the key as `[redacted]`.
#[derive(Debug, Clone, PartialEq)]
pub struct OddsApiSettings {
    /// Scheme, host and optional path prefix; `/v4/...` is appended.
    pub base_url: String,
    /// Absent when `ODDS_API_KEY` is unset: free local runs and the simulator may not need one,
    /// so the caller decides whether that is an error.
    pub api_key: Option<Secret>,
    /// Tries per call, the first included.
    pub max_attempts: u32,
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
    /// Calls per second across all clones of one client (fractions allowed, e.g. 0.5).
    pub rate_per_sec: f64,
    pub connect_timeout: Duration,
    /// The whole request, body included.
    pub request_timeout: Duration,
    /// One call, retries and their waits included: past it no retry starts, so a run fits in
    /// the function's time.
    pub call_budget: Duration,
    /// A longer body is refused before it is all in memory. Storing a slate takes about 13
    /// times its body in memory: the default 2 MiB keeps a function inside its 128 MB, and is
    /// ten times the largest real slate (15 games of 24 books: 0.2 MiB).
    pub max_body_bytes: usize,
}

impl Default for OddsApiSettings {
    fn default() -> OddsApiSettings {
        OddsApiSettings {
            base_url: DEFAULT_BASE_URL.to_string(),
            api_key: None,
            max_attempts: 3,
            retry_min_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(10),
            rate_per_sec: 5.0,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            call_budget: Duration::from_secs(100),
            max_body_bytes: 2 * MIB,
        }
    }
}

const MIB: usize = 1024 * 1024;

impl OddsApiSettings {
    /// Reads `ODDS_API_KEY`, `ODDS_API_BASE_URL`, `ODDS_API_MAX_ATTEMPTS`,
    /// `ODDS_API_RETRY_MIN_MS`, `ODDS_API_RETRY_MAX_MS`, `ODDS_API_RATE_PER_SEC`,
    /// `ODDS_API_CALL_BUDGET_SECONDS` and `ODDS_API_MAX_BODY_MB`.
    pub fn from_vars(vars: &Vars) -> Result<OddsApiSettings, ConfigError> {
        let defaults = OddsApiSettings::default();
        let api_key = vars.get("ODDS_API_KEY").map(Secret::new);
        let base_url = match vars.get("ODDS_API_BASE_URL") {
            // The error quotes the URL: never with the key in it.
            Some(url) => check_base_url("ODDS_API_BASE_URL", url).map_err(|e| match &api_key {
                Some(key) if !key.is_empty() => {
                    ConfigError::new(e.var, e.message.replace(key.expose(), "[redacted]"))
                }
                _ => e,
            })?,
            None => defaults.base_url.clone(),
        };
        let pace = defaults.pace().from_vars(
            vars,
            &PaceVars {
                max_attempts: "ODDS_API_MAX_ATTEMPTS",
                retry_min_ms: "ODDS_API_RETRY_MIN_MS",
                retry_max_ms: "ODDS_API_RETRY_MAX_MS",
                rate_per_sec: "ODDS_API_RATE_PER_SEC",
            },
        )?;
        let call_budget = vars.parse_or(
            "ODDS_API_CALL_BUDGET_SECONDS",
            defaults.call_budget.as_secs(),
            |s| (5..=280).contains(s),
        )?;
        let max_body_mb = vars.parse_or(
            "ODDS_API_MAX_BODY_MB",
            defaults.max_body_bytes / MIB,
            |mb| (1..=64).contains(mb),
        )?;
        Ok(OddsApiSettings {
            base_url,
            call_budget: Duration::from_secs(call_budget),
            max_body_bytes: max_body_mb * MIB,
            api_key,
            max_attempts: pace.max_attempts,
            retry_min_delay: pace.retry_min_delay,
            retry_max_delay: pace.retry_max_delay,
            rate_per_sec: pace.rate_per_sec,
            ..defaults
        })
    }

    fn pace(&self) -> Pace {
        Pace {
            max_attempts: self.max_attempts,
            retry_min_delay: self.retry_min_delay,
            retry_max_delay: self.retry_max_delay,
            rate_per_sec: self.rate_per_sec,
        }
    }

    /// Settings for a server on loopback (tests, the simulator): short retry delays.
    pub fn for_base_url(base_url: impl Into<String>, api_key: Secret) -> OddsApiSettings {
        OddsApiSettings {
            base_url: base_url.into(),
            api_key: Some(api_key),
            retry_min_delay: Duration::from_millis(10),
            retry_max_delay: Duration::from_millis(50),
            rate_per_sec: 1_000.0,
            ..OddsApiSettings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<OddsApiSettings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OddsApiSettings::from_vars(&Vars(&move |name: &str| map.get(name).cloned()))
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s, OddsApiSettings::default());
        assert_eq!(s.base_url, "https://api.the-odds-api.com");
        assert_eq!(s.api_key, None);
        assert_eq!(s.max_attempts, 3);
        assert_eq!(s.retry_min_delay, Duration::from_secs(1));
        assert_eq!(s.retry_max_delay, Duration::from_secs(10));
        assert_eq!(s.rate_per_sec, 5.0);
        assert_eq!(s.connect_timeout, Duration::from_secs(5));
        assert_eq!(s.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn values_are_read_and_the_key_stays_hidden() {
        let s = settings(&[
            ("ODDS_API_KEY", "feedfacefeedfacefeedfacefeedface"),
            ("ODDS_API_BASE_URL", "http://127.0.0.1:9999/"),
            ("ODDS_API_MAX_ATTEMPTS", "5"),
            ("ODDS_API_RETRY_MIN_MS", "10"),
            ("ODDS_API_RETRY_MAX_MS", "20"),
            ("ODDS_API_RATE_PER_SEC", "0.5"),
        ])
        .unwrap();
        assert_eq!(s.base_url, "http://127.0.0.1:9999");
        assert_eq!(s.max_attempts, 5);
        assert_eq!(s.retry_max_delay, Duration::from_millis(20));
        assert_eq!(s.rate_per_sec, 0.5);
        let shown = format!("{s:?}");
        assert!(!shown.contains("feedface"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("ODDS_API_BASE_URL", "ftp://x")], "ODDS_API_BASE_URL"),
            (&[("ODDS_API_BASE_URL", "not a url")], "ODDS_API_BASE_URL"),
            (
                &[("ODDS_API_BASE_URL", "http://h/?apiKey=x")],
                "ODDS_API_BASE_URL",
            ),
            (&[("ODDS_API_MAX_ATTEMPTS", "0")], "ODDS_API_MAX_ATTEMPTS"),
            (&[("ODDS_API_RETRY_MIN_MS", "-1")], "ODDS_API_RETRY_MIN_MS"),
            (
                &[
                    ("ODDS_API_RETRY_MIN_MS", "500"),
                    ("ODDS_API_RETRY_MAX_MS", "100"),
                ],
                "ODDS_API_RETRY_MAX_MS",
            ),
            (&[("ODDS_API_RATE_PER_SEC", "0")], "ODDS_API_RATE_PER_SEC"),
            (&[("ODDS_API_RATE_PER_SEC", "NaN")], "ODDS_API_RATE_PER_SEC"),
            (
                &[
                    ("ODDS_API_KEY", "feedfacefeedfacefeedfacefeedface"),
                    (
                        "ODDS_API_BASE_URL",
                        "gopher://feedfacefeedfacefeedfacefeedface@h",
                    ),
                ],
                "ODDS_API_BASE_URL",
            ),
            (&[("ODDS_API_MAX_BODY_MB", "0")], "ODDS_API_MAX_BODY_MB"),
            (
                &[("ODDS_API_MAX_BODY_MB", "100000")],
                "ODDS_API_MAX_BODY_MB",
            ),
            (
                &[("ODDS_API_CALL_BUDGET_SECONDS", "1")],
                "ODDS_API_CALL_BUDGET_SECONDS",
            ),
        ];
        for (pairs, var) in cases {
            let err = settings(pairs).unwrap_err();
            assert_eq!(err.var, *var, "{pairs:?}");
            assert!(!err.to_string().contains('\n'));
            assert!(!err.to_string().contains("feedface"), "{err}");
        }
    }
}
