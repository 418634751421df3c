//! Schedule files: a JSON array of games (`id`, `commence_time`, `home_team`, `away_team`), and
//! generators for a demo game day and a whole regular season.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use odds_core::teams::TEAMS;
use odds_core::time::eastern_midnight_utc;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::simulator::ScheduledGame;

/// Tip-off times (US Eastern) of an ordinary NBA night.
const NIGHT: [&str; 10] = [
    "19:00", "19:00", "19:30", "19:30", "20:00", "20:00", "20:30", "21:00", "22:00", "22:30",
];

pub fn load(path: &std::path::Path) -> anyhow::Result<Vec<ScheduledGame>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read schedule {}: {e}", path.display()))?;
    let games: Vec<ScheduledGame> = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a schedule (a JSON array of {{id, commence_time, home_team, away_team}}): {e}",
            path.display()
        )
    })?;
    anyhow::ensure!(!games.is_empty(), "{} lists no games", path.display());
    let mut ids = std::collections::HashSet::new();
    for g in &games {
        anyhow::ensure!(ids.insert(&g.id), "game id {} appears twice", g.id);
        anyhow::ensure!(
            g.home_team != g.away_team,
            "game {} has the same team twice",
            g.id
        );
    }
    Ok(games)
}

fn id(rng: &mut StdRng) -> String {
    format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
}

fn tip(date: NaiveDate, et: &str) -> DateTime<Utc> {
    let time = NaiveTime::parse_from_str(et, "%H:%M").unwrap_or_default();
    eastern_midnight_utc(date) + Duration::seconds(i64::from(time.num_seconds_from_midnight()))
}

/// `games` games on the US-Eastern date `date`, at the usual tip-off times, no team twice.
pub fn game_day(date: NaiveDate, games: usize, seed: u64) -> Vec<ScheduledGame> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut teams: Vec<usize> = (0..TEAMS.len()).collect();
    teams.shuffle(&mut rng);
    let mut times: Vec<&str> = NIGHT.iter().cycle().take(games.min(15)).copied().collect();
    times.sort_unstable();
    times
        .iter()
        .enumerate()
        .map(|(i, et)| ScheduledGame {
            id: id(&mut rng),
            commence_time: tip(date, et),
            home_team: TEAMS[teams[2 * i]].odds_api_name.to_string(),
            away_team: TEAMS[teams[2 * i + 1]].odds_api_name.to_string(),
        })
        .collect()
}

/// A regular season: `games` games from `start`, with a week off for the All-Star break.
pub fn season(games: usize, start: NaiveDate, seed: u64) -> Vec<ScheduledGame> {
    let mut rng = StdRng::seed_from_u64(seed);
    let break_start = 116;
    let days: Vec<NaiveDate> = (0..175)
        .filter(|d| !(break_start..break_start + 7).contains(d))
        .map(|d| start + Duration::days(d))
        .collect();
    // Nights of 2 to 14 games that add up to the season.
    let mut per_day = vec![games / days.len(); days.len()];
    for slot in per_day.iter_mut().take(games % days.len()) {
        *slot += 1;
    }
    for _ in 0..days.len() * 2 {
        let (a, b) = (
            rng.random_range(0..days.len()),
            rng.random_range(0..days.len()),
        );
        if per_day[a] > 2 && per_day[b] < 14 {
            per_day[a] -= 1;
            per_day[b] += 1;
        }
    }
    days.iter()
        .zip(per_day)
        .flat_map(|(date, n)| game_day(*date, n, rng.random()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_season_has_every_game_with_no_team_twice_a_night_and_a_break() {
        let start = NaiveDate::from_ymd_opt(2026, 10, 20).unwrap();
        let games = season(1230, start, 7);
        assert_eq!(games.len(), 1230);
        let mut by_night: std::collections::HashMap<NaiveDate, Vec<&ScheduledGame>> =
            Default::default();
        for g in &games {
            by_night
                .entry(odds_core::time::eastern_date(g.commence_time))
                .or_default()
                .push(g);
        }
        for (night, list) in &by_night {
            let mut teams: Vec<&str> = list
                .iter()
                .flat_map(|g| [g.home_team.as_str(), g.away_team.as_str()])
                .collect();
            let n = teams.len();
            teams.sort_unstable();
            teams.dedup();
            assert_eq!(teams.len(), n, "a team plays twice on {night}");
        }
        let break_day = start + Duration::days(118);
        assert!(!by_night.contains_key(&break_day));
        assert_eq!(season(1230, start, 7), games, "deterministic");
    }

    #[test]
    fn a_game_day_uses_evening_tip_offs() {
        let day = game_day(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(), 10, 1);
        assert_eq!(day.len(), 10);
        assert_eq!(
            day[0].commence_time,
            "2026-12-06T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            day[9].commence_time,
            "2026-12-06T03:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
