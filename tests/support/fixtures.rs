//! Fixtures written for this project (see `fixtures/make_odds_slate.py`) and synthetic slates
//! for benchmarks.

use chrono::{DateTime, Duration, Utc};
use odds_core::model::{
    DEFAULT_BOOKMAKERS, Event, FetchTier, OddsRow, RawJson, Snapshot, hours_between,
};
use serde_json::Value;

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

/// When the fixture slate was "fetched": six hours before the first tip-off.
pub fn slate_time() -> DateTime<Utc> {
    "2026-01-10T18:00:00Z".parse().expect("valid time")
}

pub fn odds_slate_bytes() -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/odds_slate.json")).expect("odds_slate.json")
}

/// The 14-game, 8-book, 3-market `/odds` response.
pub fn odds_slate() -> Value {
    serde_json::from_slice(&odds_slate_bytes()).expect("fixture is JSON")
}

/// Walks every outcome of a slate, e.g. to move lines for a later snapshot.
pub fn for_each_outcome(slate: &mut Value, mut f: impl FnMut(&str, &str, &mut Value)) {
    for game in slate.as_array_mut().into_iter().flatten() {
        for book in game["bookmakers"].as_array_mut().into_iter().flatten() {
            let book_key = book["key"].as_str().unwrap_or_default().to_string();
            for market in book["markets"].as_array_mut().into_iter().flatten() {
                let market_key = market["key"].as_str().unwrap_or_default().to_string();
                for outcome in market["outcomes"].as_array_mut().into_iter().flatten() {
                    f(&book_key, &market_key, outcome);
                }
            }
        }
    }
}

/// One outcome of a synthetic book, its price 30 seconds old at `taken_at`.
fn synthetic_row(
    book: &str,
    taken_at: DateTime<Utc>,
    market: &str,
    name: &str,
    price: f64,
    point: Option<f64>,
) -> OddsRow {
    OddsRow {
        description: None,
        bookmaker_key: book.to_string(),
        bookmaker_title: book.to_string(),
        market_key: market.into(),
        outcome_name: name.to_string(),
        price,
        point,
        last_update: Some(taken_at - Duration::seconds(30)),
        is_valid: true,
        validation_notes: Vec::new(),
    }
}

/// A deterministic slate of `games` games with every default book and market, built directly as
/// snapshots (no JSON parsing), for benchmarks and volume seeding.
pub fn synthetic_slate(games: usize, taken_at: DateTime<Utc>, salt: u64) -> Vec<Snapshot> {
    (0..games)
        .map(|g| {
            let commence = taken_at + Duration::hours(6) + Duration::minutes(30 * (g as i64 % 6));
            let id = format!("{:016x}{:016x}", salt, g as u64);
            let home = format!("Home {g}");
            let away = format!("Away {g}");
            let event = Event::scheduled(id, "basketball_nba", &home, &away, commence);
            let hours = hours_between(taken_at, commence);
            let mut odds = Vec::with_capacity(DEFAULT_BOOKMAKERS.len() * 6);
            for (b, book) in DEFAULT_BOOKMAKERS.iter().enumerate() {
                let wiggle = ((salt as usize + g + b) % 5) as f64 * 0.5;
                let row = |market: &str, name: &str, price: f64, point: Option<f64>| {
                    synthetic_row(book, taken_at, market, name, price, point)
                };
                odds.push(row("h2h", &home, -150.0 - wiggle * 10.0, None));
                odds.push(row("h2h", &away, 130.0 + wiggle * 10.0, None));
                odds.push(row("spreads", &home, -110.0, Some(-3.5 - wiggle)));
                odds.push(row("spreads", &away, -110.0, Some(3.5 + wiggle)));
                odds.push(row("totals", "Over", -110.0, Some(221.5 + wiggle)));
                odds.push(row("totals", "Under", -110.0, Some(221.5 + wiggle)));
            }
            Snapshot {
                event,
                snapshot_time: taken_at,
                fetch_tier: FetchTier::for_hours_until(hours),
                hours_until_commence: hours,
                bookmaker_count: DEFAULT_BOOKMAKERS.len() as i32,
                raw: RawJson::Value(serde_json::json!({ "id": g, "synthetic": true })),
                odds,
            }
        })
        .collect()
}

/// The lead times of a season's snapshots of each game: 15, from three days out to the close.
const SEASON_LEADS_MINUTES: [i64; 15] = [
    4320, 2880, 1440, 720, 360, 180, 120, 90, 60, 45, 30, 20, 15, 10, 5,
];

/// A season of `games` games, ten a night from `first_night` (tip-offs 30 minutes apart), each
/// with 15 snapshots of every default book and featured market whose prices drift by book and
/// time (so some prices beat the others' no-vig), built directly as snapshots.
pub fn season_snapshots(games: usize, first_night: DateTime<Utc>) -> Vec<Snapshot> {
    let mut out = Vec::with_capacity(games * SEASON_LEADS_MINUTES.len());
    for g in 0..games {
        let commence =
            first_night + Duration::days((g / 10) as i64) + Duration::minutes(30 * (g % 10) as i64);
        let id = format!("{:016x}{:016x}", 0x5ea5_0000u64, g as u64);
        let (home, away) = (format!("Home {}", g % 30), format!("Away {}", (g + 7) % 30));
        for (s, lead) in SEASON_LEADS_MINUTES.iter().enumerate() {
            let taken_at = commence - Duration::minutes(*lead);
            let hours = hours_between(taken_at, commence);
            let mut odds = Vec::with_capacity(DEFAULT_BOOKMAKERS.len() * 6);
            for (b, book) in DEFAULT_BOOKMAKERS.iter().enumerate() {
                let drift = ((g * 7 + b * 3 + s) % 9) as f64 * 5.0;
                let juice = if *book == "pinnacle" { -105.0 } else { -110.0 };
                let row = |market: &str, name: &str, price: f64, point: Option<f64>| {
                    synthetic_row(book, taken_at, market, name, price, point)
                };
                odds.push(row("h2h", &home, -170.0 + drift, None));
                odds.push(row("h2h", &away, 130.0 + drift, None));
                odds.push(row("spreads", &home, juice, Some(-4.5)));
                odds.push(row("spreads", &away, juice, Some(4.5)));
                odds.push(row("totals", "Over", juice, Some(224.5)));
                odds.push(row("totals", "Under", juice, Some(224.5)));
            }
            out.push(Snapshot {
                event: Event::scheduled(&id, "basketball_nba", &home, &away, commence),
                snapshot_time: taken_at,
                fetch_tier: FetchTier::for_hours_until(hours),
                hours_until_commence: hours,
                bookmaker_count: DEFAULT_BOOKMAKERS.len() as i32,
                raw: RawJson::Value(serde_json::json!({ "id": id, "synthetic": true })),
                odds,
            });
        }
    }
    out
}

/// The fixture slate moved in time so that its first tip-off is at `first_tip` (every
/// `commence_time` and `last_update` shifts by the same amount).
pub fn slate_with_first_tip(first_tip: DateTime<Utc>) -> Value {
    let original: DateTime<Utc> = "2026-01-11T00:00:00Z".parse().expect("valid time");
    let shift = first_tip - original;
    let mut slate = odds_slate();
    let move_time = |v: &mut Value| {
        if let Some(t) = v.as_str().and_then(|s| s.parse::<DateTime<Utc>>().ok()) {
            *v = Value::String((t + shift).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
    };
    for game in slate.as_array_mut().into_iter().flatten() {
        move_time(&mut game["commence_time"]);
        for book in game["bookmakers"].as_array_mut().into_iter().flatten() {
            move_time(&mut book["last_update"]);
            for market in book["markets"].as_array_mut().into_iter().flatten() {
                move_time(&mut market["last_update"]);
            }
        }
    }
    slate
}
