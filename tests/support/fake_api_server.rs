//! Serves the fixture slate as a fake The Odds API on loopback until killed, with its first
//! tip-off a given number of minutes from now; prints the base URL on the first line. Used by
//! the `cargo lambda` end-to-end check, where the functions run on the wall clock.

use chrono::{Duration, Utc};
use odds_tests::fake_api::FakeOddsApi;
use odds_tests::fixtures::slate_with_first_tip;

#[tokio::main]
async fn main() {
    let minutes: i64 = std::env::args()
        .nth(1)
        .map(|m| m.parse().expect("minutes until the first tip-off"))
        .unwrap_or(360);
    let api = FakeOddsApi::start().await;
    api.serve_slate(&slate_with_first_tip(
        Utc::now() + Duration::minutes(minutes),
    ))
    .await;
    println!("{}", api.url());
    tokio::signal::ctrl_c().await.ok();
}
