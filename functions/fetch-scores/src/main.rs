//! The fetch-scores Lambda function: everything lives in the `odds` crate.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    odds::lambda::run(odds::jobs::JobName::FetchScores).await
}
