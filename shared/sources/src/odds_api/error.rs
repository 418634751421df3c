//! Errors of The Odds API client, typed by the API's `error_code` so callers branch on codes, never
//! on message wording (which varies).
//!
//! No variant ever holds a URL with the key: URLs are dropped from transport errors, and every
//! text that came from outside passes through [`scrub`] before it is stored.

use std::fmt;

use odds_core::model::Quota;

use super::Endpoint;

/// Every documented `error_code` of The Odds API, plus whatever new code it invents.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ApiErrorCode {
    MissingKey,
    InvalidKey,
    DeactivatedKey,
    ExceededFreqLimit,
    OutOfUsageCredits,
    MissingRegion,
    InvalidRegion,
    InvalidBookmakers,
    MissingMarket,
    InvalidMarket,
    InvalidMarketCombo,
    InvalidDateFormat,
    InvalidOddsFormat,
    InvalidAllSportsParam,
    InvalidSport,
    UnknownSport,
    InvalidScoresDaysFrom,
    InvalidEventIds,
    InvalidEventId,
    EventNotFound,
    MissingHistoricalTimestamp,
    InvalidHistoricalTimestamp,
    InvalidCommenceTimeFrom,
    InvalidCommenceTimeTo,
    InvalidCommenceTimeRange,
    HistoricalUnavailableOnFreeUsagePlan,
    HistoricalMarketsUnavailableAtDate,
    InvalidParticipantId,
    InvalidIncludeLinks,
    InvalidIncludeSids,
    InvalidIncludeBetLimits,
    InvalidIncludeMultipliers,
    InvalidIncludeRotationNumbers,
    InvalidStatus,
    /// A code this client does not know yet, kept verbatim.
    Unknown(String),
}

impl ApiErrorCode {
    /// Every known code, in the reference's order.
    pub const KNOWN: [ApiErrorCode; 34] = [
        ApiErrorCode::MissingKey,
        ApiErrorCode::InvalidKey,
        ApiErrorCode::DeactivatedKey,
        ApiErrorCode::ExceededFreqLimit,
        ApiErrorCode::OutOfUsageCredits,
        ApiErrorCode::MissingRegion,
        ApiErrorCode::InvalidRegion,
        ApiErrorCode::InvalidBookmakers,
        ApiErrorCode::MissingMarket,
        ApiErrorCode::InvalidMarket,
        ApiErrorCode::InvalidMarketCombo,
        ApiErrorCode::InvalidDateFormat,
        ApiErrorCode::InvalidOddsFormat,
        ApiErrorCode::InvalidAllSportsParam,
        ApiErrorCode::InvalidSport,
        ApiErrorCode::UnknownSport,
        ApiErrorCode::InvalidScoresDaysFrom,
        ApiErrorCode::InvalidEventIds,
        ApiErrorCode::InvalidEventId,
        ApiErrorCode::EventNotFound,
        ApiErrorCode::MissingHistoricalTimestamp,
        ApiErrorCode::InvalidHistoricalTimestamp,
        ApiErrorCode::InvalidCommenceTimeFrom,
        ApiErrorCode::InvalidCommenceTimeTo,
        ApiErrorCode::InvalidCommenceTimeRange,
        ApiErrorCode::HistoricalUnavailableOnFreeUsagePlan,
        ApiErrorCode::HistoricalMarketsUnavailableAtDate,
        ApiErrorCode::InvalidParticipantId,
        ApiErrorCode::InvalidIncludeLinks,
        ApiErrorCode::InvalidIncludeSids,
        ApiErrorCode::InvalidIncludeBetLimits,
        ApiErrorCode::InvalidIncludeMultipliers,
        ApiErrorCode::InvalidIncludeRotationNumbers,
        ApiErrorCode::InvalidStatus,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            ApiErrorCode::MissingKey => "MISSING_KEY",
            ApiErrorCode::InvalidKey => "INVALID_KEY",
            ApiErrorCode::DeactivatedKey => "DEACTIVATED_KEY",
            ApiErrorCode::ExceededFreqLimit => "EXCEEDED_FREQ_LIMIT",
            ApiErrorCode::OutOfUsageCredits => "OUT_OF_USAGE_CREDITS",
            ApiErrorCode::MissingRegion => "MISSING_REGION",
            ApiErrorCode::InvalidRegion => "INVALID_REGION",
            ApiErrorCode::InvalidBookmakers => "INVALID_BOOKMAKERS",
            ApiErrorCode::MissingMarket => "MISSING_MARKET",
            ApiErrorCode::InvalidMarket => "INVALID_MARKET",
            ApiErrorCode::InvalidMarketCombo => "INVALID_MARKET_COMBO",
            ApiErrorCode::InvalidDateFormat => "INVALID_DATE_FORMAT",
            ApiErrorCode::InvalidOddsFormat => "INVALID_ODDS_FORMAT",
            ApiErrorCode::InvalidAllSportsParam => "INVALID_ALL_SPORTS_PARAM",
            ApiErrorCode::InvalidSport => "INVALID_SPORT",
            ApiErrorCode::UnknownSport => "UNKNOWN_SPORT",
            ApiErrorCode::InvalidScoresDaysFrom => "INVALID_SCORES_DAYS_FROM",
            ApiErrorCode::InvalidEventIds => "INVALID_EVENT_IDS",
            ApiErrorCode::InvalidEventId => "INVALID_EVENT_ID",
            ApiErrorCode::EventNotFound => "EVENT_NOT_FOUND",
            ApiErrorCode::MissingHistoricalTimestamp => "MISSING_HISTORICAL_TIMESTAMP",
            ApiErrorCode::InvalidHistoricalTimestamp => "INVALID_HISTORICAL_TIMESTAMP",
            ApiErrorCode::InvalidCommenceTimeFrom => "INVALID_COMMENCE_TIME_FROM",
            ApiErrorCode::InvalidCommenceTimeTo => "INVALID_COMMENCE_TIME_TO",
            ApiErrorCode::InvalidCommenceTimeRange => "INVALID_COMMENCE_TIME_RANGE",
            ApiErrorCode::HistoricalUnavailableOnFreeUsagePlan => {
                "HISTORICAL_UNAVAILABLE_ON_FREE_USAGE_PLAN"
            }
            ApiErrorCode::HistoricalMarketsUnavailableAtDate => {
                "HISTORICAL_MARKETS_UNAVAILABLE_AT_DATE"
            }
            ApiErrorCode::InvalidParticipantId => "INVALID_PARTICIPANT_ID",
            ApiErrorCode::InvalidIncludeLinks => "INVALID_INCLUDE_LINKS",
            ApiErrorCode::InvalidIncludeSids => "INVALID_INCLUDE_SIDS",
            ApiErrorCode::InvalidIncludeBetLimits => "INVALID_INCLUDE_BET_LIMITS",
            ApiErrorCode::InvalidIncludeMultipliers => "INVALID_INCLUDE_MULTIPLIERS",
            ApiErrorCode::InvalidIncludeRotationNumbers => "INVALID_INCLUDE_ROTATION_NUMBERS",
            ApiErrorCode::InvalidStatus => "INVALID_STATUS",
            ApiErrorCode::Unknown(code) => code,
        }
    }

    /// The code of an error body's `error_code`; never fails, unknown codes are kept.
    pub fn parse(code: &str) -> ApiErrorCode {
        let code = code.trim();
        ApiErrorCode::KNOWN
            .into_iter()
            .find(|known| known.as_str().eq_ignore_ascii_case(code))
            .unwrap_or_else(|| ApiErrorCode::Unknown(code.to_string()))
    }

    /// Only the frequency limit is worth another attempt; every other code means the request
    /// (or the account) must change first, and retrying would only burn time.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ApiErrorCode::ExceededFreqLimit)
    }

    /// Codes that stop all paid calls until a person acts (new key, new plan, next month).
    pub fn is_account_problem(&self) -> bool {
        matches!(
            self,
            ApiErrorCode::MissingKey
                | ApiErrorCode::InvalidKey
                | ApiErrorCode::DeactivatedKey
                | ApiErrorCode::OutOfUsageCredits
                | ApiErrorCode::HistoricalUnavailableOnFreeUsagePlan
        )
    }
}

impl fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed call. Each variant names the endpoint; those that got a response carry its status
/// and quota reading so the caller can still write a `fetch_logs` row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OddsApiError {
    /// The API answered with an `error_code` (any 4xx except a 429, and 5xx bodies that carry a
    /// code are reported as `Server`).
    #[error("{endpoint}: HTTP {status} {code}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Api {
        endpoint: Endpoint,
        status: u16,
        code: ApiErrorCode,
        message: Option<String>,
        details_url: Option<String>,
        quota: Quota,
    },
    /// HTTP 429 on every attempt.
    #[error("{endpoint}: rate limited (HTTP 429) after {attempts} attempt(s)")]
    RateLimited {
        endpoint: Endpoint,
        attempts: u32,
        message: Option<String>,
        quota: Quota,
        /// What the API's `Retry-After` asked for.
        retry_after: Option<std::time::Duration>,
    },
    /// A body longer than the configured limit; not read further.
    #[error("{endpoint}: the response body is over the {limit} byte limit (ODDS_API_MAX_BODY_MB)")]
    TooLarge {
        endpoint: Endpoint,
        status: u16,
        limit: usize,
        quota: Quota,
    },
    /// HTTP 5xx on every attempt.
    #[error("{endpoint}: server error HTTP {status} after {attempts} attempt(s)")]
    Server {
        endpoint: Endpoint,
        status: u16,
        attempts: u32,
        body_start: String,
        quota: Quota,
    },
    /// A status the API does not document, without an error body (e.g. an HTML 404 from a proxy).
    #[error("{endpoint}: unexpected HTTP {status}; body starts with {body_start:?}")]
    UnexpectedStatus {
        endpoint: Endpoint,
        status: u16,
        body_start: String,
        quota: Quota,
    },
    /// No complete answer within the timeout, on every attempt.
    #[error("{endpoint}: timed out after {attempts} attempt(s)")]
    Timeout { endpoint: Endpoint, attempts: u32 },
    /// Connection refused, reset, DNS or TLS failure, on every attempt.
    #[error("{endpoint}: transport error after {attempts} attempt(s): {reason}")]
    Transport {
        endpoint: Endpoint,
        attempts: u32,
        reason: String,
    },
    /// A success status with a body that is not the documented JSON (HTML, truncated JSON, an
    /// object where an array belongs).
    #[error(
        "{endpoint}: undecodable body with HTTP {status} ({reason}); it starts with {body_start:?}"
    )]
    Decode {
        endpoint: Endpoint,
        status: u16,
        reason: String,
        body_start: String,
        quota: Quota,
    },
    /// Rejected before sending: the API would have refused it.
    #[error("{endpoint}: invalid request: {reason}")]
    InvalidRequest { endpoint: Endpoint, reason: String },
    /// The client could not be built (no key, bad base URL, TLS set-up).
    #[error("odds api client: {0}")]
    Setup(String),
}

impl OddsApiError {
    pub fn endpoint(&self) -> Option<Endpoint> {
        match self {
            OddsApiError::Api { endpoint, .. }
            | OddsApiError::RateLimited { endpoint, .. }
            | OddsApiError::Server { endpoint, .. }
            | OddsApiError::UnexpectedStatus { endpoint, .. }
            | OddsApiError::Timeout { endpoint, .. }
            | OddsApiError::Transport { endpoint, .. }
            | OddsApiError::Decode { endpoint, .. }
            | OddsApiError::TooLarge { endpoint, .. }
            | OddsApiError::InvalidRequest { endpoint, .. } => Some(*endpoint),
            OddsApiError::Setup(_) => None,
        }
    }

    /// The API's error code, when the response had one (429 reads as `EXCEEDED_FREQ_LIMIT`).
    pub fn code(&self) -> Option<&ApiErrorCode> {
        match self {
            OddsApiError::Api { code, .. } => Some(code),
            OddsApiError::RateLimited { .. } => Some(&ApiErrorCode::ExceededFreqLimit),
            _ => None,
        }
    }

    /// The HTTP status of the last response, if any arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            OddsApiError::Api { status, .. }
            | OddsApiError::Server { status, .. }
            | OddsApiError::UnexpectedStatus { status, .. }
            | OddsApiError::TooLarge { status, .. }
            | OddsApiError::Decode { status, .. } => Some(*status),
            OddsApiError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The quota headers of the last response (all `None` when none arrived).
    pub fn quota(&self) -> Quota {
        match self {
            OddsApiError::Api { quota, .. }
            | OddsApiError::RateLimited { quota, .. }
            | OddsApiError::Server { quota, .. }
            | OddsApiError::UnexpectedStatus { quota, .. }
            | OddsApiError::TooLarge { quota, .. }
            | OddsApiError::Decode { quota, .. } => *quota,
            _ => Quota::default(),
        }
    }

    /// Whether a later call might succeed unchanged: 429, 5xx, timeouts and connection failures.
    /// An `OUT_OF_USAGE_CREDITS` is never transient, whatever status it came with.
    pub fn is_transient(&self) -> bool {
        match self {
            OddsApiError::RateLimited { .. }
            | OddsApiError::Server { .. }
            | OddsApiError::Timeout { .. }
            | OddsApiError::Transport { .. } => true,
            OddsApiError::Api { code, .. } => code.is_retryable(),
            _ => false,
        }
    }
}

/// How much of an unexpected body to keep in an error: enough to recognise an HTML error page.
pub(crate) const BODY_START_CHARS: usize = 120;

/// The first characters of a body, safe to log: the key (if a server echoed it) is masked.
pub(crate) fn body_start(body: &[u8], key: &str) -> String {
    let text = String::from_utf8_lossy(body);
    let start: String = text.chars().take(BODY_START_CHARS).collect();
    scrub(&start, key)
}

/// Masks the key and any `apiKey=` value in a text that came from outside.
pub(crate) fn scrub(text: &str, key: &str) -> String {
    let masked = if key.is_empty() {
        text.to_string()
    } else {
        text.replace(key, "[redacted]")
    };
    odds_core::secret::redact_url_password(&masked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for code in ApiErrorCode::KNOWN {
            assert_eq!(ApiErrorCode::parse(code.as_str()), code);
        }
        assert_eq!(
            ApiErrorCode::parse("SOMETHING_NEW"),
            ApiErrorCode::Unknown("SOMETHING_NEW".into())
        );
    }

    #[test]
    fn only_the_frequency_limit_is_retryable() {
        let retryable: Vec<_> = ApiErrorCode::KNOWN
            .into_iter()
            .filter(ApiErrorCode::is_retryable)
            .collect();
        assert_eq!(retryable, [ApiErrorCode::ExceededFreqLimit]);
    }

    #[test]
    fn scrub_masks_the_key_anywhere() {
        let key = "0123456789abcdef0123456789abcdef";
        let text = format!("GET /v4/sports?apiKey={key}&all=true said {key}");
        let clean = scrub(&text, key);
        assert!(!clean.contains(key), "{clean}");
        assert!(clean.contains("all=true"));
    }
}
