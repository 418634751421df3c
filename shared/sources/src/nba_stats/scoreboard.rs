//! Parsing of NBA.com scoreboards: the live `todaysScoreboard_00.json` and `scoreboardv3`, which
//! share one `{meta, scoreboard: {gameDate, games[]}}` shape.
//!
//! Each game is read field by field from the JSON value: a game that lacks its id or teams is
//! skipped and reported, the rest of the slate survives, and nothing panics on hostile data.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use odds_core::model::EventStatus;
use odds_core::normalize::json_kind;
use odds_core::teams;

/// `gameStatus` with the postponement that hides behind status 1 (`gameStatusText == "PPD"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NbaGameStatus {
    Scheduled,
    Live,
    Final,
    Postponed,
    /// A status number no sample has shown; kept so it is visible, never treated as final.
    Unknown(i64),
}

impl NbaGameStatus {
    pub fn from_code(code: i64, text: &str) -> NbaGameStatus {
        match code {
            1 if text.trim().eq_ignore_ascii_case("PPD") => NbaGameStatus::Postponed,
            1 => NbaGameStatus::Scheduled,
            2 => NbaGameStatus::Live,
            3 => NbaGameStatus::Final,
            other => NbaGameStatus::Unknown(other),
        }
    }

    /// The domain status; `None` for an unknown code, which must not move a game's state.
    pub fn event_status(self) -> Option<EventStatus> {
        match self {
            NbaGameStatus::Scheduled => Some(EventStatus::Scheduled),
            NbaGameStatus::Live => Some(EventStatus::Live),
            NbaGameStatus::Final => Some(EventStatus::Final),
            NbaGameStatus::Postponed => Some(EventStatus::Postponed),
            NbaGameStatus::Unknown(_) => None,
        }
    }
}

/// One side of a game.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NbaTeamLine {
    pub team_id: i64,
    pub tricode: String,
    pub city: String,
    pub name: String,
    /// `None` before tip-off (NBA.com sends 0 then) and when the feed has no usable number.
    pub score: Option<u32>,
}

impl NbaTeamLine {
    /// The franchise in the 30-team table, if the id (or failing that the tricode) is known.
    pub fn team(&self) -> Option<&'static teams::Team> {
        teams::by_id(self.team_id).or_else(|| teams::by_tricode(&self.tricode))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NbaGame {
    pub game_id: String,
    /// The US-Eastern slate date: from `gameCode`, else from `gameTimeUTC`, else the
    /// scoreboard's `gameDate`.
    pub game_date: Option<NaiveDate>,
    pub game_time_utc: Option<DateTime<Utc>>,
    pub status: NbaGameStatus,
    pub status_text: String,
    pub period: Option<u32>,
    pub home: NbaTeamLine,
    pub away: NbaTeamLine,
}

impl NbaGame {
    /// Bets settle only on a final game with both scores.
    pub fn final_score(&self) -> Option<(u32, u32)> {
        match (self.status, self.home.score, self.away.score) {
            (NbaGameStatus::Final, Some(home), Some(away)) => Some((home, away)),
            _ => None,
        }
    }
}

/// A game the parser had to leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedGame {
    pub index: usize,
    pub game_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scoreboard {
    /// `scoreboard.gameDate`: the slate the file holds, which can lag "today".
    pub game_date: Option<NaiveDate>,
    pub games: Vec<NbaGame>,
    pub skipped: Vec<SkippedGame>,
}

/// Parses a scoreboard value; fails only when there is no `scoreboard.games` array at all.
pub fn parse_scoreboard(value: &Value) -> Result<Scoreboard, String> {
    let Some(board) = value.get("scoreboard") else {
        return Err(format!(
            "expected an object with a scoreboard field, got {}",
            describe(value)
        ));
    };
    let games = match board.get("games") {
        Some(Value::Array(games)) => games,
        Some(other) => {
            return Err(format!(
                "scoreboard.games is {}, not an array",
                json_kind(other)
            ));
        }
        None => return Err("scoreboard has no games field".to_string()),
    };
    let slate_date = board
        .get("gameDate")
        .and_then(Value::as_str)
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
    let mut parsed = Scoreboard {
        game_date: slate_date,
        ..Scoreboard::default()
    };
    for (index, raw) in games.iter().enumerate() {
        match parse_game(raw, slate_date) {
            Ok(game) => parsed.games.push(game),
            Err(reason) => parsed.skipped.push(SkippedGame {
                index,
                game_id: text(raw, "gameId"),
                reason,
            }),
        }
    }
    Ok(parsed)
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "an object without it",
        other => json_kind(other),
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    match value.get(field)? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A whole number sent as a JSON integer, an integer-valued float or a digit string.
fn integer(value: &Value, field: &str) -> Option<i64> {
    match value.get(field)? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn parse_game(raw: &Value, slate_date: Option<NaiveDate>) -> Result<NbaGame, String> {
    let game_id = text(raw, "gameId")
        .filter(|id| !id.is_empty())
        .ok_or("no gameId")?;
    let status_text = text(raw, "gameStatusText").unwrap_or_default();
    let status = match integer(raw, "gameStatus") {
        Some(code) => NbaGameStatus::from_code(code, &status_text),
        None => return Err(format!("game {game_id}: no usable gameStatus")),
    };
    let game_time_utc = text(raw, "gameTimeUTC").and_then(|t| t.parse::<DateTime<Utc>>().ok());
    let code_date = text(raw, "gameCode").and_then(|code| {
        code.get(..8)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
    });
    let game_date = code_date
        .or_else(|| game_time_utc.map(odds_core::time::eastern_date))
        .or(slate_date);
    let scored = matches!(
        status,
        NbaGameStatus::Live | NbaGameStatus::Final | NbaGameStatus::Unknown(_)
    );
    let home = parse_team(raw, "homeTeam", scored).map_err(|e| format!("game {game_id}: {e}"))?;
    let away = parse_team(raw, "awayTeam", scored).map_err(|e| format!("game {game_id}: {e}"))?;
    Ok(NbaGame {
        game_id,
        game_date,
        game_time_utc,
        status,
        status_text,
        period: integer(raw, "period").and_then(|p| u32::try_from(p).ok()),
        home,
        away,
    })
}

fn parse_team(game: &Value, side: &str, scored: bool) -> Result<NbaTeamLine, String> {
    let Some(raw) = game.get(side).filter(|v| v.is_object()) else {
        return Err(format!("no {side} object"));
    };
    let tricode = text(raw, "teamTricode").unwrap_or_default();
    let team_id = integer(raw, "teamId")
        .or_else(|| teams::by_tricode(&tricode).map(|t| t.id))
        .ok_or_else(|| format!("{side} has neither a teamId nor a known tricode"))?;
    let score = if scored {
        integer(raw, "score").and_then(|s| u32::try_from(s).ok())
    } else {
        None
    };
    Ok(NbaTeamLine {
        team_id,
        tricode,
        city: text(raw, "teamCity").unwrap_or_default(),
        name: text(raw, "teamName").unwrap_or_default(),
        score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn team(id: i64, tri: &str, score: Value) -> Value {
        json!({"teamId": id, "teamTricode": tri, "teamCity": "X", "teamName": "Y", "score": score})
    }

    fn game(status: i64, text: &str, home_score: Value) -> Value {
        json!({
            "gameId": "0022500330", "gameCode": "20251205/PORLAC",
            "gameStatus": status, "gameStatusText": text, "period": 4,
            "gameTimeUTC": "2025-12-06T03:30:00Z",
            "homeTeam": team(1610612746, "LAC", home_score),
            "awayTeam": team(1610612757, "POR", json!(101)),
        })
    }

    fn board(games: Vec<Value>) -> Value {
        json!({"meta": {"code": 200}, "scoreboard": {"gameDate": "2025-12-05", "games": games}})
    }

    #[test]
    fn statuses_and_late_tip_off_date() {
        let parsed = parse_scoreboard(&board(vec![
            game(3, "Final", json!(110)),
            game(1, "PPD", json!(0)),
            game(1, "10:30 pm ET", json!(0)),
            game(2, "Q3 6:01", json!(77)),
        ]))
        .unwrap();
        let statuses: Vec<_> = parsed.games.iter().map(|g| g.status).collect();
        assert_eq!(
            statuses,
            [
                NbaGameStatus::Final,
                NbaGameStatus::Postponed,
                NbaGameStatus::Scheduled,
                NbaGameStatus::Live
            ]
        );
        let late = &parsed.games[0];
        assert_eq!(late.game_date, NaiveDate::from_ymd_opt(2025, 12, 5));
        assert_eq!(late.final_score(), Some((110, 101)));
        assert_eq!(parsed.games[1].home.score, None);
        assert_eq!(parsed.games[3].final_score(), None);
        assert_eq!(
            NbaGameStatus::Postponed.event_status(),
            Some(EventStatus::Postponed)
        );
        assert_eq!(NbaGameStatus::Unknown(9).event_status(), None);
    }

    #[test]
    fn hostile_games_are_skipped_not_fatal() {
        let mut no_teams = game(3, "Final", json!(1));
        no_teams["homeTeam"] = json!(null);
        let parsed = parse_scoreboard(&board(vec![
            json!("not a game"),
            json!({"gameStatus": 3}),
            no_teams,
            game(3, "Final", json!("112")),
            game(3, "Final", json!(null)),
            game(3, "Final", json!(-4)),
            game(3, "Final", json!(109.0)),
        ]))
        .unwrap();
        assert_eq!(parsed.skipped.len(), 3, "{:?}", parsed.skipped);
        let scores: Vec<_> = parsed.games.iter().map(|g| g.home.score).collect();
        assert_eq!(scores, [Some(112), None, None, Some(109)]);
    }

    #[test]
    fn wrong_shapes_are_errors() {
        assert!(parse_scoreboard(&json!([])).is_err());
        assert!(parse_scoreboard(&json!({"Message": "An error has occurred."})).is_err());
        assert!(parse_scoreboard(&json!({"scoreboard": {"games": {}}})).is_err());
        let empty =
            parse_scoreboard(&json!({"scoreboard": {"gameDate": "2025-07-15", "games": []}}))
                .unwrap();
        assert!(empty.games.is_empty() && empty.skipped.is_empty());
    }
}
