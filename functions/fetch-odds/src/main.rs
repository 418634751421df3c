//! The fetch-odds Lambda function: everything lives in the `odds-aws` and `odds-jobs` crates.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    odds_aws::lambda::run(odds_aws::JobName::FetchOdds).await
}
