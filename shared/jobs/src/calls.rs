//! Bookkeeping of outside calls: one `fetch_logs` row per API call, successful or not, and the
//! credits a response cost.

use std::time::Instant;

use chrono::{DateTime, Utc};
use odds_core::model::{FetchLog, Quota};
use odds_sources::odds_api::{ApiResponse, Endpoint, OddsApiError};

use odds_store::Store;

use crate::job::JobName;

/// Where and when an API call was made, for its `fetch_logs` row.
pub(crate) struct Call<'a> {
    /// `None` for calls a command makes (a backfill).
    job: Option<JobName>,
    endpoint: Endpoint,
    sport: &'a str,
    at: DateTime<Utc>,
    started: Instant,
}

impl<'a> Call<'a> {
    pub(crate) fn start(
        job: impl Into<Option<JobName>>,
        endpoint: Endpoint,
        sport: &'a str,
        at: DateTime<Utc>,
    ) -> Self {
        Call {
            job: job.into(),
            endpoint,
            sport,
            at,
            started: Instant::now(),
        }
    }

    /// Writes the call's `fetch_logs` row; a logging failure never fails the job.
    pub(crate) async fn log(self, store: &Store, answer: Answer) {
        let log = FetchLog {
            fetched_at: self.at,
            job_name: self.job,
            endpoint: self.endpoint,
            sport_key: Some(self.sport.to_string()),
            http_status: answer.status.map(i32::from),
            success: answer.error.is_none(),
            events_count: answer.events.map(|n| n as i32),
            quota: answer.quota,
            duration_ms: self.started.elapsed().as_millis() as i64,
            error: answer.error,
        };
        if let Err(e) = store.log_fetch(&log).await {
            tracing::error!(error = %e, endpoint = %self.endpoint, "could not write fetch log");
        }
    }
}

/// How a call ended, as its `fetch_logs` row records it. A call succeeds only when what it
/// brought was used: an answer whose body could not be stored is a failed call.
pub(crate) struct Answer {
    pub status: Option<u16>,
    pub quota: Quota,
    pub events: Option<usize>,
    pub error: Option<String>,
}

impl Answer {
    pub(crate) fn of<T>(
        result: &Result<ApiResponse<T>, OddsApiError>,
        events: Option<usize>,
    ) -> Answer {
        match result {
            Ok(response) => Answer {
                status: Some(response.status),
                quota: response.quota,
                events,
                error: None,
            },
            Err(e) => Answer::failed(e),
        }
    }

    pub(crate) fn failed(e: &OddsApiError) -> Answer {
        Answer {
            status: e.status(),
            quota: e.quota(),
            events: None,
            error: Some(e.to_string()),
        }
    }
}

/// Credits a response cost: the API's own count when it sent one.
pub(crate) fn credits(quota: &Quota, estimate: u32) -> i64 {
    quota.last.unwrap_or(i64::from(estimate))
}
