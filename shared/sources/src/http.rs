//! The HTTP layer both outside APIs share: a smooth rate limit, exponential backoff with jitter,
//! transport errors without URLs, and base URL checks.

use std::num::NonZeroU32;
use std::time::Duration;

use backon::ExponentialBuilder;
use governor::{DefaultDirectRateLimiter, Quota as RateQuota, RateLimiter};
use odds_core::settings::{ConfigError, Vars};

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the limit (by its `Content-Length`, or as it arrived).
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a response body, refusing one longer than `limit` bytes before it is all in memory: a
/// hostile or broken server cannot make the process hold more than the limit.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<bytes::Bytes, BodyError> {
    let announced = response.content_length();
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    // Sized once when the length is announced: growing by doubling would leave up to twice the
    // body allocated, a cold function's largest single allocation.
    let mut body = bytes::BytesMut::with_capacity(announced.map_or(0, |n| n as usize));
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// How long a `Retry-After` header asks to wait (seconds, or an HTTP date after `now`).
pub fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: std::time::SystemTime,
) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = std::time::SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(at.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or_default())
}

/// An HTTP client builder with the process's one TLS configuration (compiled-in roots, so no
/// certificate file is read) and the given timeouts.
pub fn client_builder(
    connect_timeout: Duration,
    request_timeout: Duration,
) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_backend_preconfigured(odds_tls::http_config())
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
}

/// A smooth limiter so a backfill never bunches calls, with a burst of two:
/// one run's discovery and fetch go out back to back instead of waiting a whole period.
pub fn rate_limiter(per_second: f64) -> DefaultDirectRateLimiter {
    let per_second = if per_second.is_finite() && per_second > 0.0 {
        per_second
    } else {
        1.0
    };
    let period = Duration::from_secs_f64(1.0 / per_second).max(Duration::from_nanos(1));
    let quota = RateQuota::with_period(period)
        .unwrap_or_else(|| RateQuota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
    RateLimiter::direct(quota)
}

/// Exponential backoff with jitter; `max_attempts` counts the first try.
pub fn backoff(max_attempts: u32, min: Duration, max: Duration) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(min)
        .with_max_delay(max)
        .with_max_times(max_attempts.saturating_sub(1) as usize)
        .with_jitter()
}

/// The error text of a transport failure and its causes, without the URL reqwest attaches.
pub fn describe_transport(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Accepts only absolute http(s) URLs without query or credentials, so the key is the only
/// secret ever added to them.
pub fn check_base_url(var: &'static str, raw: String) -> Result<String, ConfigError> {
    let bad = |message: String| ConfigError { var, message };
    let parsed = url::Url::parse(&raw).map_err(|e| bad(format!("'{raw}' is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(format!("'{raw}' must start with http:// or https://")));
    }
    if parsed.query().is_some() || parsed.password().is_some() || !parsed.username().is_empty() {
        return Err(bad(
            "must not carry a query string or credentials".to_string()
        ));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// How hard a client tries: attempts per call, the backoff between them, calls per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Tries per call, the first included.
    pub max_attempts: u32,
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
    /// Calls per second across all clones of one client (fractions allowed, e.g. 0.5).
    pub rate_per_sec: f64,
}

/// The variables a client's [`Pace`] is read from.
pub struct PaceVars {
    pub max_attempts: &'static str,
    pub retry_min_ms: &'static str,
    pub retry_max_ms: &'static str,
    pub rate_per_sec: &'static str,
}

impl Pace {
    /// Reads the four variables; `self` holds the defaults.
    pub fn from_vars(self, vars: &Vars, names: &PaceVars) -> Result<Pace, ConfigError> {
        let ms = |d: Duration| d.as_millis() as u64;
        let max_attempts = vars.parse_or(names.max_attempts, self.max_attempts, |n| {
            (1..=20).contains(n)
        })?;
        let min_ms = vars.parse_or(names.retry_min_ms, ms(self.retry_min_delay), |ms| {
            *ms <= 600_000
        })?;
        let max_ms = vars.parse_or(names.retry_max_ms, ms(self.retry_max_delay), |ms| {
            *ms <= 600_000
        })?;
        if max_ms < min_ms {
            return Err(ConfigError::new(
                names.retry_max_ms,
                format!("{max_ms} is below {} ({min_ms})", names.retry_min_ms),
            ));
        }
        let rate_per_sec = vars.parse_or(names.rate_per_sec, self.rate_per_sec, |r| {
            r.is_finite() && *r > 0.0 && *r <= 1_000.0
        })?;
        Ok(Pace {
            max_attempts,
            retry_min_delay: Duration::from_millis(min_ms),
            retry_max_delay: Duration::from_millis(max_ms),
            rate_per_sec,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("20"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(20)));
        // 2026-01-01T00:00:30Z, 30 s after `now`.
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Thu, 01 Jan 2026 00:00:30 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
