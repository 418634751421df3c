//! stats.nba.com `leaguegamefinder`: every team-game row of a date
//! range in one call, two rows per game, paired here into final games.
//!
//! Rows are positional (`headers` + `rowSet`), so columns are looked up by name; a game whose
//! two rows cannot be paired (one missing, no home side, no result yet) is skipped and reported.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::Value;

use odds_core::normalize::json_kind;
use odds_core::teams;

use super::scoreboard::{NbaGame, NbaGameStatus, NbaTeamLine, SkippedGame};

/// The parameters nba_api sends, all blank but the ones set: whether the server accepts fewer
/// is unconfirmed, and the full list is the proven path. Sorted by byte order, as nba_api sorts.
const BLANK_PARAMETERS: [&str; 84] = [
    "Conference",
    "Division",
    "DraftNumber",
    "DraftRound",
    "DraftTeamID",
    "DraftYear",
    "EqAST",
    "EqBLK",
    "EqDD",
    "EqDREB",
    "EqFG3A",
    "EqFG3M",
    "EqFG3_PCT",
    "EqFGA",
    "EqFGM",
    "EqFG_PCT",
    "EqFTA",
    "EqFTM",
    "EqFT_PCT",
    "EqMINUTES",
    "EqOREB",
    "EqPF",
    "EqPTS",
    "EqREB",
    "EqSTL",
    "EqTD",
    "EqTOV",
    "GameID",
    "GtAST",
    "GtBLK",
    "GtDD",
    "GtDREB",
    "GtFG3A",
    "GtFG3M",
    "GtFG3_PCT",
    "GtFGA",
    "GtFGM",
    "GtFG_PCT",
    "GtFTA",
    "GtFTM",
    "GtFT_PCT",
    "GtMINUTES",
    "GtOREB",
    "GtPF",
    "GtPTS",
    "GtREB",
    "GtSTL",
    "GtTD",
    "GtTOV",
    "Location",
    "LtAST",
    "LtBLK",
    "LtDD",
    "LtDREB",
    "LtFG3A",
    "LtFG3M",
    "LtFG3_PCT",
    "LtFGA",
    "LtFGM",
    "LtFG_PCT",
    "LtFTA",
    "LtFTM",
    "LtFT_PCT",
    "LtMINUTES",
    "LtOREB",
    "LtPF",
    "LtPTS",
    "LtREB",
    "LtSTL",
    "LtTD",
    "LtTOV",
    "Outcome",
    "PORound",
    "PlayerID",
    "RookieYear",
    "Season",
    "SeasonSegment",
    "SeasonType",
    "StarterBench",
    "TeamID",
    "VsConference",
    "VsDivision",
    "VsTeamID",
    "YearsExperience",
];

/// The query of a team-game search between two Eastern dates (inclusive), parameters sorted.
pub fn query(start: NaiveDate, end: NaiveDate) -> Vec<(&'static str, String)> {
    let mut params: Vec<(&'static str, String)> = BLANK_PARAMETERS
        .iter()
        .map(|name| (*name, String::new()))
        .collect();
    // MM/DD/YYYY is what the server echoes and what has worked since 2020.
    params.push(("DateFrom", start.format("%m/%d/%Y").to_string()));
    params.push(("DateTo", end.format("%m/%d/%Y").to_string()));
    params.push(("LeagueID", "00".to_string()));
    params.push(("PlayerOrTeam", "T".to_string()));
    params.sort_by(|a, b| a.0.cmp(b.0));
    params
}

/// Final games and the rows that could not become one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GameFinderResult {
    pub games: Vec<NbaGame>,
    pub skipped: Vec<SkippedGame>,
}

/// Parses a `leaguegamefinder` body; fails only when there is no result set to read.
pub fn parse_game_finder(value: &Value) -> Result<GameFinderResult, String> {
    let sets = match value.get("resultSets") {
        Some(Value::Array(sets)) => sets,
        Some(other) => return Err(format!("resultSets is {}, not an array", json_kind(other))),
        None => return Err(format!("no resultSets in {}", json_kind(value))),
    };
    let set = sets
        .iter()
        .find(|s| s.get("name").and_then(Value::as_str) == Some("LeagueGameFinderResults"))
        .or_else(|| sets.first())
        .ok_or("resultSets is empty")?;
    let headers: HashMap<&str, usize> = match set.get("headers") {
        Some(Value::Array(h)) => h
            .iter()
            .enumerate()
            .filter_map(|(i, name)| name.as_str().map(|n| (n, i)))
            .collect(),
        _ => return Err("result set has no headers array".to_string()),
    };
    let Some(Value::Array(rows)) = set.get("rowSet") else {
        return Err("result set has no rowSet array".to_string());
    };
    for column in ["TEAM_ID", "GAME_ID", "GAME_DATE", "MATCHUP", "WL", "PTS"] {
        if !headers.contains_key(column) {
            return Err(format!("result set lacks the {column} column"));
        }
    }
    let cell = |row: &'_ Value, column: &str| -> Option<Value> {
        headers
            .get(column)
            .and_then(|i| row.get(*i))
            .filter(|v| !v.is_null())
            .cloned()
    };

    // Rows come newest first; keep the order in which games first appear.
    let mut order: Vec<String> = Vec::new();
    let mut by_game: HashMap<String, Vec<&Value>> = HashMap::new();
    let mut result = GameFinderResult::default();
    for (index, row) in rows.iter().enumerate() {
        let game_id = cell(row, "GAME_ID").and_then(|v| v.as_str().map(str::to_string));
        match game_id {
            Some(id) if !id.is_empty() => {
                if !by_game.contains_key(&id) {
                    order.push(id.clone());
                }
                by_game.entry(id).or_default().push(row);
            }
            _ => result.skipped.push(SkippedGame {
                index,
                game_id: None,
                reason: "row without a GAME_ID".to_string(),
            }),
        }
    }
    for (index, game_id) in order.into_iter().enumerate() {
        let rows = by_game.remove(&game_id).unwrap_or_default();
        match pair_rows(&game_id, &rows, &cell) {
            Ok(game) => result.games.push(game),
            Err(reason) => result.skipped.push(SkippedGame {
                index,
                game_id: Some(game_id),
                reason,
            }),
        }
    }
    Ok(result)
}

fn pair_rows(
    game_id: &str,
    rows: &[&Value],
    cell: &dyn Fn(&Value, &str) -> Option<Value>,
) -> Result<NbaGame, String> {
    if rows.len() != 2 {
        return Err(format!("{} row(s) instead of 2", rows.len()));
    }
    // "BOS vs. NYK" on the Celtics' row and "NYK @ BOS" on the Knicks' both name Boston as the
    // home team. A neutral-site game can read "MIA @ WAS" on both rows: the text still names
    // Washington, so the row is judged by whether its own team is the one named home.
    let is_home = |row: &Value| {
        let matchup = cell(row, "MATCHUP").and_then(|m| m.as_str().map(str::to_string));
        let own = cell(row, "TEAM_ABBREVIATION").and_then(|m| m.as_str().map(str::to_string));
        match (matchup, own) {
            (Some(matchup), Some(own)) => named_home(&matchup).map(|home| home == own.trim()),
            (Some(matchup), None) => Some(matchup.contains(" vs. ")),
            _ => None,
        }
        .unwrap_or(false)
    };
    let (home, away) = match (is_home(rows[0]), is_home(rows[1])) {
        (true, false) => (rows[0], rows[1]),
        (false, true) => (rows[1], rows[0]),
        _ => return Err("MATCHUP does not tell home from away".to_string()),
    };
    if cell(home, "WL").is_none() || cell(away, "WL").is_none() {
        return Err("no result yet (WL is null)".to_string());
    }
    let game_date = cell(home, "GAME_DATE")
        .and_then(|d| d.as_str().map(str::to_string))
        .and_then(|d| parse_date(&d))
        .ok_or("GAME_DATE is not a date")?;
    Ok(NbaGame {
        game_id: game_id.to_string(),
        game_date: Some(game_date),
        game_time_utc: None,
        status: NbaGameStatus::Final,
        status_text: "Final".to_string(),
        period: None,
        home: team_line(home, cell)?,
        away: team_line(away, cell)?,
    })
}

/// The home team's abbreviation a MATCHUP names: `AWAY @ HOME` or `HOME vs. AWAY`.
fn named_home(matchup: &str) -> Option<&str> {
    if let Some((_, home)) = matchup.split_once(" @ ") {
        return Some(home.trim());
    }
    matchup.split_once(" vs. ").map(|(home, _)| home.trim())
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let day = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(day, "%m/%d/%Y"))
        .ok()
}

fn whole(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn team_line(
    row: &Value,
    cell: &dyn Fn(&Value, &str) -> Option<Value>,
) -> Result<NbaTeamLine, String> {
    let team_id = cell(row, "TEAM_ID")
        .as_ref()
        .and_then(whole)
        .ok_or("TEAM_ID is not a number")?;
    let known = teams::by_id(team_id);
    let text = |column: &str| cell(row, column).and_then(|v| v.as_str().map(str::to_string));
    let score = cell(row, "PTS")
        .as_ref()
        .and_then(whole)
        .and_then(|p| u32::try_from(p).ok())
        .ok_or("PTS is not a score")?;
    Ok(NbaTeamLine {
        team_id,
        tricode: text("TEAM_ABBREVIATION").unwrap_or_default(),
        city: known.map(|t| t.city.to_string()).unwrap_or_default(),
        name: known
            .map(|t| t.nickname.to_string())
            .or_else(|| text("TEAM_NAME"))
            .unwrap_or_default(),
        score: Some(score),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HEADERS: [&str; 10] = [
        "SEASON_ID",
        "TEAM_ID",
        "TEAM_ABBREVIATION",
        "TEAM_NAME",
        "GAME_ID",
        "GAME_DATE",
        "MATCHUP",
        "WL",
        "PTS",
        "PLUS_MINUS",
    ];

    fn body(rows: Vec<Value>) -> Value {
        json!({"resource": "leaguegamefinderparameters", "resultSets": [
            {"name": "LeagueGameFinderResults", "headers": HEADERS, "rowSet": rows}]})
    }

    #[test]
    fn rows_pair_into_games() {
        let parsed = parse_game_finder(&body(vec![
            json!([
                "22024",
                1610612746,
                "LAC",
                "LA Clippers",
                "0022400222",
                "2024-11-13",
                "LAC @ HOU",
                "L",
                103,
                -8.0
            ]),
            json!([
                "22024",
                1610612745,
                "HOU",
                "Houston Rockets",
                "0022400222",
                "2024-11-13",
                "HOU vs. LAC",
                "W",
                111,
                8.0
            ]),
            json!([
                "12023",
                1610612747,
                "LAL",
                "Los Angeles Lakers",
                "0012300001",
                "2023-10-10",
                "LAL vs. GSW",
                null,
                0,
                null
            ]),
            json!([
                "12023",
                1610612744,
                "GSW",
                "Golden State Warriors",
                "0012300001",
                "2023-10-10",
                "GSW @ LAL",
                null,
                0,
                null
            ]),
            json!([
                "22024",
                1610612738,
                "BOS",
                "Boston Celtics",
                "0022400001",
                "2024-10-22",
                "BOS vs. NYK",
                "W",
                "132",
                23
            ]),
            json!(["22024", null, "X", "X", null, "2024-10-22", "?", "W", 1, 0]),
        ]))
        .unwrap();
        assert_eq!(parsed.games.len(), 1);
        let game = &parsed.games[0];
        assert_eq!(game.game_id, "0022400222");
        assert_eq!(game.game_date, NaiveDate::from_ymd_opt(2024, 11, 13));
        assert_eq!(
            (game.home.tricode.as_str(), game.away.tricode.as_str()),
            ("HOU", "LAC")
        );
        assert_eq!(game.away.city, "LA");
        assert_eq!(game.final_score(), Some((111, 103)));
        let reasons: Vec<_> = parsed.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("WL is null")));
        assert!(reasons.iter().any(|r| r.contains("1 row(s)")));
    }

    #[test]
    fn a_neutral_site_game_read_the_same_on_both_rows_is_paired() {
        // The 2025 Mexico City game and its like: both rows read "MIA @ WAS".
        let row = |id: i64, abbr: &str, wl: &str, pts: i64| {
            json!([
                "22024",
                id,
                abbr,
                abbr,
                "0022401111",
                "2024-11-02",
                "MIA @ WAS",
                wl,
                pts,
                0
            ])
        };
        let parsed = parse_game_finder(&body(vec![
            row(1610612748, "MIA", "W", 118),
            row(1610612764, "WAS", "L", 98),
        ]))
        .unwrap();
        assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
        let game = &parsed.games[0];
        assert_eq!(
            (game.home.tricode.as_str(), game.away.tricode.as_str()),
            ("WAS", "MIA")
        );
        assert_eq!(game.final_score(), Some((98, 118)));
        assert_eq!(named_home("LAL vs. GSW"), Some("LAL"));
        assert_eq!(named_home("GSW @ LAL"), Some("LAL"));
        assert_eq!(named_home("GSW - LAL"), None);
    }

    #[test]
    fn shapes_without_rows_are_errors() {
        assert!(parse_game_finder(&json!([])).is_err());
        assert!(parse_game_finder(&json!({"resultSets": []})).is_err());
        assert!(
            parse_game_finder(&json!({"resultSets": [{"headers": ["GAME_ID"], "rowSet": []}]}))
                .is_err()
        );
        assert!(parse_game_finder(&body(vec![])).unwrap().games.is_empty());
    }

    #[test]
    fn the_query_is_sorted_and_complete() {
        let start = NaiveDate::from_ymd_opt(2025, 12, 4).unwrap();
        let end = NaiveDate::from_ymd_opt(2025, 12, 5).unwrap();
        let q = query(start, end);
        assert_eq!(q.len(), 88);
        assert!(q.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(q.contains(&("DateFrom", "12/04/2025".into())));
        assert!(q.contains(&("DateTo", "12/05/2025".into())));
        assert!(q.contains(&("PlayerOrTeam", "T".into())));
        assert!(q.contains(&("LeagueID", "00".into())));
        assert!(q.contains(&("Season", String::new())));
    }
}
