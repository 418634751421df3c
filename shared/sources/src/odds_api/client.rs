//! The HTTP client of The Odds API v4.
//!
//! The key travels in the query string, so URLs are built twice: a loggable one without the key
//! (used in logs and errors) and the wire one with `apiKey` appended just before sending.
//! Transport errors lose their URL before they are wrapped, and any outside text kept in an error
//! is scrubbed of the key.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use governor::DefaultDirectRateLimiter;
use serde::de::DeserializeOwned;
use serde_json::Value;

use odds_core::model::Quota;
use odds_core::normalize::json_kind;
use odds_core::secret::Secret;

use crate::http::{
    BodyError, backoff, client_builder, describe_transport, rate_limiter, read_capped, retry_after,
};

use super::error::{ApiErrorCode, OddsApiError, body_start, scrub};
use super::request::{
    EventOddsRequest, EventsRequest, HistoricalEventOddsRequest, HistoricalEventsRequest,
    HistoricalOddsRequest, OddsRequest, Params, ScoresRequest, SportsRequest,
};
use super::settings::OddsApiSettings;
use super::wire::{ApiErrorBody, ApiEvent, HistoricalSnapshot, ScoreEvent, Sport};
use super::{CreditCost, Endpoint};

/// A successful call: the typed data, the raw JSON for storage, and the call's bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse<T> {
    pub endpoint: Endpoint,
    pub data: T,
    /// The whole body as decoded JSON; `Null` for `/odds`, whose body goes undecoded in `data`.
    pub raw: Value,
    pub quota: Quota,
    /// Round trip of the attempt that succeeded (rate-limit waits and retry sleeps excluded).
    pub duration: Duration,
    pub status: u16,
    /// Attempts made, the successful one included.
    pub attempts: u32,
}

/// An array response parsed item by item: one malformed game must not cost the whole slate.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedList<T> {
    pub items: Vec<T>,
    pub skipped: Vec<SkippedItem>,
}

impl<T> ParsedList<T> {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.skipped.is_empty()
    }
}

/// An array element that did not fit the documented shape.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedItem {
    pub index: usize,
    /// The element's `id`, when it had a string one.
    pub id: Option<String>,
    pub reason: String,
}

/// The Odds API client. Cheap to clone; clones share the connection pool and the rate limit.
#[derive(Clone)]
pub struct OddsApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: url::Url,
    key: Secret,
    limiter: DefaultDirectRateLimiter,
    backoff: ExponentialBuilder,
    max_attempts: u32,
    retry_max_delay: Duration,
    call_budget: Duration,
    max_body_bytes: usize,
}

/// The longest `Retry-After` honoured; the API asks for seconds, and a run has minutes.
const RETRY_AFTER_CEILING: Duration = Duration::from_secs(60);

impl fmt::Debug for OddsApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OddsApiClient")
            .field("base_url", &self.inner.base.as_str())
            .field("api_key", &self.inner.key)
            .field("max_attempts", &self.inner.max_attempts)
            .finish_non_exhaustive()
    }
}

fn header_i64(headers: &reqwest::header::HeaderMap, name: &str) -> Option<i64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
}

/// The `x-requests-*` headers; each may be missing, and `remaining` may be negative.
pub fn read_quota(headers: &reqwest::header::HeaderMap) -> Quota {
    Quota {
        remaining: header_i64(headers, "x-requests-remaining"),
        used: header_i64(headers, "x-requests-used"),
        last: header_i64(headers, "x-requests-last"),
    }
}

/// A response that passed the status checks and parsed as JSON.
struct RawResponse {
    value: Value,
    status: u16,
    quota: Quota,
    duration: Duration,
    attempts: u32,
}

/// A response that passed the status checks, its body not decoded yet.
struct BodyResponse {
    body: Bytes,
    status: u16,
    quota: Quota,
    duration: Duration,
    attempts: u32,
}

impl OddsApiClient {
    /// Fails when `settings.api_key` is absent or the base URL is unusable.
    pub fn new(settings: &OddsApiSettings) -> Result<OddsApiClient, OddsApiError> {
        let key = settings
            .api_key
            .clone()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| OddsApiError::Setup("ODDS_API_KEY is not set".into()))?;
        let mut base = url::Url::parse(&settings.base_url)
            .map_err(|e| OddsApiError::Setup(format!("base URL is not a URL: {e}")))?;
        if base.cannot_be_a_base() {
            return Err(OddsApiError::Setup("base URL cannot take a path".into()));
        }
        base.set_query(None);
        let http = client_builder(settings.connect_timeout, settings.request_timeout)
            .user_agent(concat!("odds/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OddsApiError::Setup(describe_transport(e)))?;
        Ok(OddsApiClient {
            inner: Arc::new(Inner {
                http,
                base,
                key,
                limiter: rate_limiter(settings.rate_per_sec),
                backoff: backoff(
                    settings.max_attempts,
                    settings.retry_min_delay,
                    settings.retry_max_delay,
                ),
                max_attempts: settings.max_attempts.max(1),
                retry_max_delay: settings.retry_max_delay,
                call_budget: settings.call_budget,
                max_body_bytes: settings.max_body_bytes,
            }),
        })
    }

    /// `GET /v4/sports` (free; the way to read the balance without spending).
    pub async fn sports(
        &self,
        request: &SportsRequest,
    ) -> Result<ApiResponse<ParsedList<Sport>>, OddsApiError> {
        let raw = self
            .call(Endpoint::Sports, &["sports"], request.params(), 0)
            .await?;
        self.list_response(Endpoint::Sports, raw)
    }

    /// `GET /v4/sports/{sport}/events` (free).
    pub async fn events(
        &self,
        request: &EventsRequest,
    ) -> Result<ApiResponse<ParsedList<ApiEvent>>, OddsApiError> {
        self.check(Endpoint::Events, request.validate())?;
        let path = ["sports", request.sport.as_str(), "events"];
        let raw = self
            .call(
                Endpoint::Events,
                &path,
                request.params(),
                request.credit_cost(),
            )
            .await?;
        self.list_response(Endpoint::Events, raw)
    }

    /// `GET /v4/sports/{sport}/odds`. The body is handed on undecoded: the ingest path decodes
    /// it once, game by game, so one malformed game costs only itself.
    pub async fn odds(&self, request: &OddsRequest) -> Result<ApiResponse<Bytes>, OddsApiError> {
        self.check(Endpoint::Odds, request.validate())?;
        let path = ["sports", request.sport.as_str(), "odds"];
        let response = self
            .call_body(
                Endpoint::Odds,
                &path,
                request.params(),
                request.credit_cost(),
            )
            .await?;
        Ok(ApiResponse {
            endpoint: Endpoint::Odds,
            data: response.body,
            raw: Value::Null,
            quota: response.quota,
            duration: response.duration,
            status: response.status,
            attempts: response.attempts,
        })
    }

    /// `GET /v4/sports/{sport}/events/{eventId}/odds`: one event object.
    pub async fn event_odds(
        &self,
        request: &EventOddsRequest,
    ) -> Result<ApiResponse<ApiEvent>, OddsApiError> {
        self.check(Endpoint::EventOdds, request.validate())?;
        let path = [
            "sports",
            request.sport.as_str(),
            "events",
            request.event_id.as_str(),
            "odds",
        ];
        let raw = self
            .call(
                Endpoint::EventOdds,
                &path,
                request.params(),
                request.credit_cost(),
            )
            .await?;
        let data = self.decode_as::<ApiEvent>(Endpoint::EventOdds, &raw, &raw.value)?;
        Ok(respond(Endpoint::EventOdds, data, raw))
    }

    /// `GET /v4/sports/{sport}/scores`, with or without `daysFrom`.
    pub async fn scores(
        &self,
        request: &ScoresRequest,
    ) -> Result<ApiResponse<ParsedList<ScoreEvent>>, OddsApiError> {
        self.check(Endpoint::Scores, request.validate())?;
        let path = ["sports", request.sport.as_str(), "scores"];
        let raw = self
            .call(
                Endpoint::Scores,
                &path,
                request.params(),
                request.credit_cost(),
            )
            .await?;
        self.list_response(Endpoint::Scores, raw)
    }

    /// `GET /v4/historical/sports/{sport}/odds`. `data` is the snapshot's array of games,
    /// undecoded: like a live `/odds` body it goes to ingest, which reads it game by game.
    pub async fn historical_odds(
        &self,
        request: &HistoricalOddsRequest,
    ) -> Result<ApiResponse<HistoricalSnapshot<Value>>, OddsApiError> {
        let endpoint = Endpoint::HistoricalOdds;
        self.check(endpoint, request.odds.validate())?;
        let path = ["historical", "sports", request.odds.sport.as_str(), "odds"];
        let mut raw = self
            .call(endpoint, &path, request.params(), request.credit_cost())
            .await?;
        let (snapshot, data) = self.snapshot_parts(endpoint, &raw)?;
        if !matches!(data, Value::Array(_)) {
            return Err(self.decode_error(
                endpoint,
                &raw,
                format!("snapshot data is {}, not an array", json_kind(data)),
            ));
        }
        let data = raw.value["data"].take();
        raw.value = Value::Null;
        Ok(respond(endpoint, snapshot.with_data(data), raw))
    }

    /// `GET /v4/historical/sports/{sport}/events`.
    pub async fn historical_events(
        &self,
        request: &HistoricalEventsRequest,
    ) -> Result<ApiResponse<HistoricalSnapshot<ParsedList<ApiEvent>>>, OddsApiError> {
        let endpoint = Endpoint::HistoricalEvents;
        self.check(endpoint, request.events.validate())?;
        let path = [
            "historical",
            "sports",
            request.events.sport.as_str(),
            "events",
        ];
        let raw = self
            .call(endpoint, &path, request.params(), request.credit_cost())
            .await?;
        let (snapshot, data) = self.snapshot_parts(endpoint, &raw)?;
        let data = self.decode_list(endpoint, &raw, data)?;
        Ok(respond(endpoint, snapshot.with_data(data), raw))
    }

    /// `GET /v4/historical/sports/{sport}/events/{eventId}/odds`. `data` is `None` when the
    /// snapshot holds no event (before the archive starts, or an empty object).
    pub async fn historical_event_odds(
        &self,
        request: &HistoricalEventOddsRequest,
    ) -> Result<ApiResponse<HistoricalSnapshot<Option<ApiEvent>>>, OddsApiError> {
        let endpoint = Endpoint::HistoricalEventOdds;
        self.check(endpoint, request.event_odds.validate())?;
        let path = [
            "historical",
            "sports",
            request.event_odds.sport.as_str(),
            "events",
            request.event_odds.event_id.as_str(),
            "odds",
        ];
        let raw = self
            .call(endpoint, &path, request.params(), request.credit_cost())
            .await?;
        let (snapshot, data) = self.snapshot_parts(endpoint, &raw)?;
        let event = match data {
            Value::Null => None,
            Value::Object(fields) if fields.is_empty() => None,
            other => Some(self.decode_as::<ApiEvent>(endpoint, &raw, other)?),
        };
        Ok(respond(endpoint, snapshot.with_data(event), raw))
    }

    fn check(&self, endpoint: Endpoint, valid: Result<(), String>) -> Result<(), OddsApiError> {
        valid.map_err(|reason| {
            tracing::warn!(endpoint = %endpoint, reason = %reason, "odds api request refused before sending");
            OddsApiError::InvalidRequest { endpoint, reason }
        })
    }

    fn list_response<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        raw: RawResponse,
    ) -> Result<ApiResponse<ParsedList<T>>, OddsApiError> {
        let data = self.decode_list(endpoint, &raw, &raw.value)?;
        Ok(respond(endpoint, data, raw))
    }

    fn decode_error(&self, endpoint: Endpoint, raw: &RawResponse, reason: String) -> OddsApiError {
        OddsApiError::Decode {
            endpoint,
            status: raw.status,
            reason: scrub(&reason, self.inner.key.expose()),
            body_start: body_start(raw.value.to_string().as_bytes(), self.inner.key.expose()),
            quota: raw.quota,
        }
    }

    fn decode_as<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        raw: &RawResponse,
        value: &Value,
    ) -> Result<T, OddsApiError> {
        T::deserialize(value).map_err(|e| self.decode_error(endpoint, raw, e.to_string()))
    }

    fn decode_list<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        raw: &RawResponse,
        value: &Value,
    ) -> Result<ParsedList<T>, OddsApiError> {
        let Value::Array(elements) = value else {
            return Err(self.decode_error(
                endpoint,
                raw,
                format!("expected an array, got {}", json_kind(value)),
            ));
        };
        let mut list = ParsedList {
            items: Vec::with_capacity(elements.len()),
            skipped: Vec::new(),
        };
        for (index, element) in elements.iter().enumerate() {
            match T::deserialize(element) {
                Ok(item) => list.items.push(item),
                Err(e) => list.skipped.push(SkippedItem {
                    index,
                    id: element
                        .get("id")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    reason: scrub(&e.to_string(), self.inner.key.expose()),
                }),
            }
        }
        if !list.skipped.is_empty() {
            tracing::warn!(
                endpoint = %endpoint,
                skipped = list.skipped.len(),
                parsed = list.items.len(),
                "malformed items skipped"
            );
        }
        Ok(list)
    }

    /// The historical wrapper's timestamps (tolerant: a non-string reads as `None`) and `data`.
    fn snapshot_parts<'a>(
        &self,
        endpoint: Endpoint,
        raw: &'a RawResponse,
    ) -> Result<(HistoricalSnapshot<()>, &'a Value), OddsApiError> {
        let Value::Object(fields) = &raw.value else {
            return Err(self.decode_error(
                endpoint,
                raw,
                format!("expected a snapshot object, got {}", json_kind(&raw.value)),
            ));
        };
        let Some(data) = fields.get("data") else {
            return Err(self.decode_error(endpoint, raw, "snapshot has no data field".into()));
        };
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_string);
        let snapshot = HistoricalSnapshot {
            timestamp: text("timestamp"),
            previous_timestamp: text("previous_timestamp"),
            next_timestamp: text("next_timestamp"),
            data: (),
        };
        Ok((snapshot, data))
    }

    /// One logical call whose body must be JSON.
    async fn call(
        &self,
        endpoint: Endpoint,
        path: &[&str],
        params: Params,
        expected_credits: u32,
    ) -> Result<RawResponse, OddsApiError> {
        let response = self
            .call_body(endpoint, path, params, expected_credits)
            .await?;
        match serde_json::from_slice::<Value>(&response.body) {
            Ok(value) => Ok(RawResponse {
                value,
                status: response.status,
                quota: response.quota,
                duration: response.duration,
                attempts: response.attempts,
            }),
            Err(e) => Err(OddsApiError::Decode {
                endpoint,
                status: response.status,
                reason: format!("not JSON: {e}"),
                body_start: body_start(&response.body, self.inner.key.expose()),
                quota: response.quota,
            }),
        }
    }

    /// One logical call: rate limit, send, retry transient failures with backoff.
    async fn call_body(
        &self,
        endpoint: Endpoint,
        path: &[&str],
        params: Params,
        expected_credits: u32,
    ) -> Result<BodyResponse, OddsApiError> {
        let loggable = self.loggable_url(path, &params);
        let attempts = AtomicU32::new(0);
        let max_delay = self.inner.retry_max_delay;
        let budget = self.inner.call_budget;
        let started = Instant::now();
        let result = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(endpoint, &loggable).await
        })
        .retry(self.inner.backoff)
        .sleep(tokio::time::sleep)
        .when(OddsApiError::is_transient)
        .adjust(move |err, delay| {
            // The API's own Retry-After wins over the backoff, up to the ceiling; jitter may
            // push a delay past the ceiling, and the ceiling is the promise.
            let wait = match err {
                OddsApiError::RateLimited {
                    retry_after: Some(asked),
                    ..
                } => delay.map(|_| (*asked).min(RETRY_AFTER_CEILING)),
                _ => delay.map(|d| d.min(max_delay)),
            }?;
            // A wait that would outlast the call's time budget is not worth starting: the run
            // fails now and its own retry comes later.
            (started.elapsed() + wait <= budget).then_some(wait)
        })
        .notify(|err, delay| {
            tracing::warn!(
                endpoint = %endpoint,
                url = %loggable,
                error = %err,
                retry_in_ms = delay.as_millis() as u64,
                "odds api call failed; retrying"
            );
        })
        .await;
        let attempts = attempts.load(Ordering::Relaxed);
        match result {
            Ok(mut raw) => {
                raw.attempts = attempts;
                tracing::info!(
                    endpoint = %endpoint,
                    url = %loggable,
                    status = raw.status,
                    expected_credits,
                    credits = ?raw.quota.last,
                    remaining = ?raw.quota.remaining,
                    duration_ms = raw.duration.as_millis() as u64,
                    attempts,
                    "odds api call"
                );
                Ok(raw)
            }
            Err(err) => {
                let err = with_attempts(err, attempts);
                tracing::warn!(
                    endpoint = %endpoint,
                    url = %loggable,
                    status = ?err.status(),
                    code = ?err.code().map(ApiErrorCode::as_str),
                    attempts,
                    error = %err,
                    "odds api call failed"
                );
                Err(err)
            }
        }
    }

    /// The URL without the key: what logs and errors may show.
    fn loggable_url(&self, path: &[&str], params: &Params) -> url::Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("v4").extend(path);
        }
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params.iter());
        }
        url
    }

    async fn attempt(
        &self,
        endpoint: Endpoint,
        loggable: &url::Url,
    ) -> Result<BodyResponse, OddsApiError> {
        self.inner.limiter.until_ready().await;
        let mut wire = loggable.clone();
        wire.query_pairs_mut()
            .append_pair("apiKey", self.inner.key.expose());
        let started = Instant::now();
        let response = self
            .inner
            .http
            .get(wire)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.transport_error(endpoint, e))?;
        let status = response.status().as_u16();
        let quota = read_quota(response.headers());
        let retry_after = retry_after(response.headers(), std::time::SystemTime::now());
        let body = read_capped(response, self.inner.max_body_bytes)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => OddsApiError::TooLarge {
                    endpoint,
                    status,
                    limit: self.inner.max_body_bytes,
                    quota,
                },
                BodyError::Transport(e) => self.transport_error(endpoint, e),
            })?;
        let duration = started.elapsed();
        tracing::debug!(
            endpoint = %endpoint,
            url = %loggable,
            status,
            bytes = body.len(),
            duration_ms = duration.as_millis() as u64,
            "odds api response"
        );
        self.classify(endpoint, status, quota, duration, body, retry_after)
    }

    fn transport_error(&self, endpoint: Endpoint, err: reqwest::Error) -> OddsApiError {
        if err.is_timeout() {
            OddsApiError::Timeout {
                endpoint,
                attempts: 1,
            }
        } else {
            OddsApiError::Transport {
                endpoint,
                attempts: 1,
                reason: scrub(&describe_transport(err), self.inner.key.expose()),
            }
        }
    }

    fn classify(
        &self,
        endpoint: Endpoint,
        status: u16,
        quota: Quota,
        duration: Duration,
        body: Bytes,
        retry_after: Option<Duration>,
    ) -> Result<BodyResponse, OddsApiError> {
        let key = self.inner.key.expose();
        // The key can come back inside a body (an echoing proxy, a game field): masked here, it
        // cannot reach a log, an error, an issue or a stored snapshot.
        let body = mask_key(body, key);
        if (200..300).contains(&status) {
            return Ok(BodyResponse {
                body,
                status,
                quota,
                duration,
                attempts: 1,
            });
        }
        let body = &body[..];
        let error_body = serde_json::from_slice::<ApiErrorBody>(body).ok();
        let code = error_body
            .as_ref()
            .and_then(|b| b.error_code.as_deref())
            .map(ApiErrorCode::parse);
        let message = error_body
            .as_ref()
            .and_then(|b| b.message.as_deref())
            .map(|m| scrub(m, key));
        let details_url = error_body.and_then(|b| b.details_url);
        match (status, code) {
            // Whatever the status, a spent quota will not come back by retrying.
            (_, Some(ApiErrorCode::OutOfUsageCredits)) => Err(OddsApiError::Api {
                endpoint,
                status,
                code: ApiErrorCode::OutOfUsageCredits,
                message,
                details_url,
                quota,
            }),
            (429, _) | (_, Some(ApiErrorCode::ExceededFreqLimit)) => {
                Err(OddsApiError::RateLimited {
                    endpoint,
                    attempts: 1,
                    message,
                    quota,
                    retry_after,
                })
            }
            (500..=599, _) => Err(OddsApiError::Server {
                endpoint,
                status,
                attempts: 1,
                body_start: body_start(body, key),
                quota,
            }),
            (_, Some(code)) => Err(OddsApiError::Api {
                endpoint,
                status,
                code,
                message,
                details_url,
                quota,
            }),
            _ => Err(OddsApiError::UnexpectedStatus {
                endpoint,
                status,
                body_start: body_start(body, key),
                quota,
            }),
        }
    }
}

/// `body` with every occurrence of `key` replaced by `[redacted]`.
fn mask_key(body: Bytes, key: &str) -> Bytes {
    if key.is_empty() {
        return body;
    }
    let finder = memchr::memmem::Finder::new(key.as_bytes());
    if finder.find(&body).is_none() {
        return body;
    }
    let mut masked = Vec::with_capacity(body.len());
    let mut rest = &body[..];
    while let Some(at) = finder.find(rest) {
        masked.extend_from_slice(&rest[..at]);
        masked.extend_from_slice(b"[redacted]");
        rest = &rest[at + key.len()..];
    }
    masked.extend_from_slice(rest);
    Bytes::from(masked)
}

fn respond<T>(endpoint: Endpoint, data: T, raw: RawResponse) -> ApiResponse<T> {
    ApiResponse {
        endpoint,
        data,
        raw: raw.value,
        quota: raw.quota,
        duration: raw.duration,
        status: raw.status,
        attempts: raw.attempts,
    }
}

fn with_attempts(err: OddsApiError, total: u32) -> OddsApiError {
    match err {
        OddsApiError::RateLimited {
            endpoint,
            message,
            quota,
            retry_after,
            ..
        } => OddsApiError::RateLimited {
            endpoint,
            attempts: total,
            message,
            quota,
            retry_after,
        },
        OddsApiError::Server {
            endpoint,
            status,
            body_start,
            quota,
            ..
        } => OddsApiError::Server {
            endpoint,
            status,
            attempts: total,
            body_start,
            quota,
        },
        OddsApiError::Timeout { endpoint, .. } => OddsApiError::Timeout {
            endpoint,
            attempts: total,
        },
        OddsApiError::Transport {
            endpoint, reason, ..
        } => OddsApiError::Transport {
            endpoint,
            attempts: total,
            reason,
        },
        other => other,
    }
}
