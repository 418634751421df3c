//! Why a job run failed.

use odds_sources::odds_api::OddsApiError;
use odds_store::StoreError;
use odds_store::ingest::IngestError;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("The Odds API: {0}")]
    Api(Box<OddsApiError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("{0}")]
    Setup(String),
}

impl From<OddsApiError> for JobError {
    fn from(e: OddsApiError) -> Self {
        JobError::Api(Box::new(e))
    }
}
