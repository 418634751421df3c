//! Serves a fake historical archive and NBA.com's `leaguegamefinder` on loopback until killed,
//! for trying `odds backfill` by hand without a key or credits: two weeks of generated games
//! from 2024-01-08 (US Eastern). Prints the base URL on the first line; point both
//! `ODDS_API_BASE_URL` and `NBA_STATS_BASE_URL` at it.

use odds_tests::fake_archive::{FakeArchive, season_stretch};

#[tokio::main]
async fn main() {
    let first = chrono::NaiveDate::from_ymd_opt(2024, 1, 8).expect("a date");
    let archive = FakeArchive::start(season_stretch(first, 14)).await;
    archive.serve_game_finder().await;
    println!("{}", archive.url());
    tokio::signal::ctrl_c().await.ok();
}
