//! The NBA.com client: the live CDN scoreboard and the stats `scoreboardv3` endpoint, with the
//! browser-like headers NBA.com insists on, timeouts, retries and a slow rate limit.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use chrono::{Duration as Days, NaiveDate};
use governor::DefaultDirectRateLimiter;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::http::{
    BodyError, backoff, client_builder, describe_transport, rate_limiter, read_capped,
};

use super::game_finder::{self, parse_game_finder};
use super::scoreboard::{NbaGame, Scoreboard, parse_scoreboard};
use super::{NbaError, NbaStatsSettings};

/// How much of an unexpected body an error keeps.
const BODY_START_CHARS: usize = 120;

/// A backfill longer than this is almost certainly a mistake (a swapped year), and would hammer
/// stats.nba.com for hours.
pub const MAX_RANGE_DAYS: i64 = 400;

const USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/145.0.0.0 Safari/537.36";

/// The header block nba_api's working client sent in Feb 2026; stats.nba.com
/// hangs on requests that look less like a browser. `Host` and `Accept-Encoding` are set by
/// reqwest itself.
fn browser_headers() -> HeaderMap {
    let pairs: [(&str, &str); 10] = [
        ("accept", "application/json, text/plain, */*"),
        ("accept-language", "en-US,en;q=0.5"),
        ("referer", "https://www.nba.com/"),
        ("origin", "https://www.nba.com"),
        ("pragma", "no-cache"),
        ("cache-control", "no-cache"),
        (
            "sec-ch-ua",
            "\"Not:A-Brand\";v=\"99\", \"Google Chrome\";v=\"145\", \"Chromium\";v=\"145\"",
        ),
        ("sec-ch-ua-mobile", "?0"),
        ("sec-fetch-dest", "empty"),
        ("connection", "keep-alive"),
    ];
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    headers
}

/// NBA.com client. Cheap to clone; clones share the connection pool and the rate limit.
#[derive(Clone, Debug)]
pub struct NbaStatsClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    cdn_base: String,
    stats_base: String,
    limiter: DefaultDirectRateLimiter,
    backoff: ExponentialBuilder,
    retry_max_delay: Duration,
    max_body_bytes: usize,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NbaStatsClient")
            .field("cdn_base", &self.cdn_base)
            .field("stats_base", &self.stats_base)
            .finish_non_exhaustive()
    }
}

impl NbaStatsClient {
    pub fn new(settings: &NbaStatsSettings) -> Result<NbaStatsClient, NbaError> {
        let http = client_builder(settings.connect_timeout, settings.request_timeout)
            .user_agent(USER_AGENT)
            .default_headers(browser_headers())
            .build()
            .map_err(|e| NbaError::Setup(describe_transport(e)))?;
        Ok(NbaStatsClient {
            inner: Arc::new(Inner {
                http,
                cdn_base: settings.cdn_base_url.trim_end_matches('/').to_string(),
                stats_base: settings.stats_base_url.trim_end_matches('/').to_string(),
                limiter: rate_limiter(settings.rate_per_sec),
                backoff: backoff(
                    settings.max_attempts,
                    settings.retry_min_delay,
                    settings.retry_max_delay,
                ),
                retry_max_delay: settings.retry_max_delay,
                max_body_bytes: settings.max_body_bytes,
            }),
        })
    }

    /// Today's slate from the CDN, live and final games alike. The file can still hold the
    /// previous Eastern day for a while after midnight: read `game_date`, do not assume it.
    pub async fn get_live_scores(&self) -> Result<Scoreboard, NbaError> {
        let url = format!(
            "{}/static/json/liveData/scoreboard/todaysScoreboard_00.json",
            self.inner.cdn_base
        );
        self.scoreboard(url).await
    }

    /// One Eastern date from `scoreboardv3` (an empty slate is `games: []`, not an error).
    pub async fn get_scoreboard(&self, date: NaiveDate) -> Result<Scoreboard, NbaError> {
        // Parameters in alphabetical order, as nba_api sends them.
        let url = format!(
            "{}/stats/scoreboardv3?GameDate={}&LeagueID=00",
            self.inner.stats_base,
            date.format("%Y-%m-%d")
        );
        self.scoreboard(url).await
    }

    /// Final games of every Eastern date from `start` to `end` inclusive, one rate-limited call
    /// per date. Games not final (scheduled, live, postponed) are left out; a game listed on
    /// two dates is kept once.
    pub async fn get_historical_scores(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<NbaGame>, NbaError> {
        let days = (end - start).num_days();
        if !(0..MAX_RANGE_DAYS).contains(&days) {
            return Err(NbaError::InvalidRange { start, end });
        }
        let mut finals: Vec<NbaGame> = Vec::new();
        let mut seen = HashSet::new();
        for offset in 0..=days {
            let date = start + Days::days(offset);
            let board = self.get_scoreboard(date).await?;
            for game in board.games {
                if game.final_score().is_some() && seen.insert(game.game_id.clone()) {
                    finals.push(game);
                }
            }
        }
        Ok(finals)
    }

    /// Final games from `start` to `end` (Eastern dates, inclusive) in one `leaguegamefinder`
    /// call: far fewer calls than [`Self::get_historical_scores`] for a month or a season, at
    /// the price of no tip-off times (`game_time_utc` is `None`; matching uses the date).
    pub async fn get_league_game_finder(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<NbaGame>, NbaError> {
        let days = (end - start).num_days();
        if !(0..MAX_RANGE_DAYS).contains(&days) {
            return Err(NbaError::InvalidRange { start, end });
        }
        let mut url = url::Url::parse(&format!("{}/stats/leaguegamefinder", self.inner.stats_base))
            .map_err(|e| NbaError::Setup(format!("stats base URL: {e}")))?;
        url.query_pairs_mut()
            .extend_pairs(game_finder::query(start, end));
        let url = url.to_string();
        let (status, value) = self.get_json(&url).await?;
        let found =
            parse_game_finder(&value).map_err(|reason| unparsed(&url, status, &value, reason))?;
        if !found.skipped.is_empty() {
            tracing::warn!(url = %url, skipped = found.skipped.len(), "unpaired or unfinished NBA.com game rows skipped");
        }
        tracing::info!(url = %url, games = found.games.len(), "nba league game finder");
        Ok(found.games)
    }

    async fn scoreboard(&self, url: String) -> Result<Scoreboard, NbaError> {
        let (status, value) = self.get_json(&url).await?;
        let board =
            parse_scoreboard(&value).map_err(|reason| unparsed(&url, status, &value, reason))?;
        if !board.skipped.is_empty() {
            tracing::warn!(url = %url, skipped = board.skipped.len(), "malformed NBA.com games skipped");
        }
        tracing::info!(url = %url, games = board.games.len(), game_date = ?board.game_date, "nba scoreboard");
        Ok(board)
    }

    async fn get_json(&self, url: &str) -> Result<(u16, Value), NbaError> {
        let attempts = AtomicU32::new(0);
        let max_delay = self.inner.retry_max_delay;
        let result = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(url).await
        })
        .retry(self.inner.backoff)
        .sleep(tokio::time::sleep)
        .when(NbaError::is_transient)
        .adjust(move |_, delay| delay.map(|d| d.min(max_delay)))
        .notify(|err, delay| {
            tracing::warn!(url = %url, error = %err, retry_in_ms = delay.as_millis() as u64, "NBA.com call failed; retrying");
        })
        .await;
        result.map_err(|err| {
            let err = err.with_attempts(attempts.load(Ordering::Relaxed));
            tracing::warn!(url = %url, error = %err, "NBA.com call failed");
            err
        })
    }

    async fn attempt(&self, url: &str) -> Result<(u16, Value), NbaError> {
        self.inner.limiter.until_ready().await;
        let started = Instant::now();
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                NbaError::Timeout {
                    url: url.to_string(),
                    attempts: 1,
                }
            } else {
                NbaError::Transport {
                    url: url.to_string(),
                    attempts: 1,
                    reason: describe_transport(e),
                }
            }
        };
        let response = self.inner.http.get(url).send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = read_capped(response, self.inner.max_body_bytes)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => NbaError::TooLarge {
                    url: url.to_string(),
                    limit: self.inner.max_body_bytes,
                },
                BodyError::Transport(e) => transport(e),
            })?;
        tracing::debug!(url = %url, status, bytes = body.len(), duration_ms = started.elapsed().as_millis() as u64, "NBA.com response");
        if !(200..300).contains(&status) {
            return Err(NbaError::Status {
                url: url.to_string(),
                status,
                attempts: 1,
                body_start: start_of(&body),
            });
        }
        serde_json::from_slice::<Value>(&body)
            .map(|value| (status, value))
            .map_err(|e| NbaError::Decode {
                url: url.to_string(),
                status,
                reason: format!("not JSON: {e}"),
                body_start: start_of(&body),
            })
    }
}

/// stats.nba.com's failure body, `{"Message": "An error has occurred."}`.
fn stats_message(value: &Value) -> Option<String> {
    value
        .get("Message")
        .or_else(|| value.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn start_of(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(BODY_START_CHARS)
        .collect()
}

/// A body that did not parse: the stats endpoint's own error message when it sent one,
/// otherwise a decode error with the start of the body.
fn unparsed(url: &str, status: u16, value: &serde_json::Value, reason: String) -> NbaError {
    match stats_message(value) {
        Some(message) => NbaError::Stats {
            url: url.to_string(),
            message,
        },
        None => NbaError::Decode {
            url: url.to_string(),
            status,
            reason,
            body_start: start_of(value.to_string().as_bytes()),
        },
    }
}
