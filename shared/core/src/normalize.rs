//! Turns an `/odds` response into per-game snapshots: the raw JSON of each game exactly as
//! received plus its normalized rows. External data is hostile, so every level (game, book,
//! market, outcome) is parsed on its own: a bad part becomes a [`QualityIssue`] and the rest of
//! the slate goes on.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::model::{
    Event, FetchTier, IssueKind, OddsRow, QualityIssue, RawJson, Severity, Snapshot, hours_between,
};
use crate::text::{json_without_nul, strip_nul};
use crate::time::parse_wire_time;
use crate::wire::ApiOutcome;

/// What a whole response yielded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedSlate {
    /// Elements of the response array, malformed ones included.
    pub games_in_body: usize,
    pub snapshots: Vec<Snapshot>,
    pub issues: Vec<QualityIssue>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SlateError {
    #[error("response body is not JSON ({reason}); it starts with {start:?}")]
    NotJson { reason: String, start: String },
    #[error("response body is JSON but neither an array of games nor one game (got {0})")]
    NotAnArray(&'static str),
}

impl SlateError {
    /// The issue to record when a whole response had to be discarded.
    pub fn to_issue(&self) -> QualityIssue {
        QualityIssue::new(
            None,
            Severity::Critical,
            IssueKind::MalformedResponse,
            self.to_string(),
            json!({}),
        )
    }
}

/// Parses the body of an `/odds` (or historical `data`) response. The body is checked whole,
/// then each game is decoded from its own text, so the slate is never held as one tree and a
/// game's stored JSON is its text as received.
pub fn parse_odds_body(
    body: &[u8],
    snapshot_time: DateTime<Utc>,
    sport_key: &str,
) -> Result<ParsedSlate, SlateError> {
    let not_json = |e: serde_json::Error| SlateError::NotJson {
        reason: e.to_string(),
        start: String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned(),
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        let games: Vec<&RawValue> = serde_json::from_slice(body).map_err(not_json)?;
        return Ok(parse_games(
            games.into_iter().map(Game::Text).collect(),
            snapshot_time,
            sport_key,
        ));
    }
    // One game (the per-event endpoints), or not a slate at all.
    let value: Value = serde_json::from_slice(body).map_err(not_json)?;
    parse_odds_data(value, snapshot_time, sport_key)
}

/// [`parse_odds_body`] for a body already decoded.
pub fn parse_odds_value(
    value: &Value,
    snapshot_time: DateTime<Utc>,
    sport_key: &str,
) -> Result<ParsedSlate, SlateError> {
    parse_odds_data(value.clone(), snapshot_time, sport_key)
}

/// [`parse_odds_value`] taking the value: an array of games, or the single game object the
/// per-event endpoints answer with.
pub fn parse_odds_data(
    value: Value,
    snapshot_time: DateTime<Utc>,
    sport_key: &str,
) -> Result<ParsedSlate, SlateError> {
    match value {
        Value::Array(games) => Ok(parse_games(
            games.into_iter().map(Game::Value).collect(),
            snapshot_time,
            sport_key,
        )),
        Value::Object(game) if game.contains_key("id") && game.contains_key("commence_time") => {
            Ok(parse_games(
                vec![Game::Value(Value::Object(game))],
                snapshot_time,
                sport_key,
            ))
        }
        other => Err(SlateError::NotAnArray(json_kind(&other))),
    }
}

/// Adds the markets of a per-event answer (`/events/{id}/odds`) to the same game of an `/odds`
/// answer, book by book, so one snapshot holds both. A market the game already has is kept as
/// it is; a book it lacks is added whole. Anything not shaped like a game is left alone.
pub fn merge_event_markets(game: &mut Value, event: &Value) {
    let Some(Value::Array(extra)) = event.get("bookmakers") else {
        return;
    };
    let Some(Value::Array(books)) = game.get_mut("bookmakers") else {
        return;
    };
    for book in extra {
        let key = book.get("key").and_then(Value::as_str);
        let Some(existing) = books
            .iter_mut()
            .find(|b| key.is_some() && b.get("key").and_then(Value::as_str) == key)
        else {
            books.push(book.clone());
            continue;
        };
        let (Some(Value::Array(markets)), Some(Value::Array(more))) =
            (existing.get_mut("markets"), book.get("markets"))
        else {
            continue;
        };
        for market in more {
            let mkey = market.get("key");
            if !markets.iter().any(|m| m.get("key") == mkey) {
                markets.push(market.clone());
            }
        }
    }
}

/// One game of a response: its text within the body, or a value already decoded (a slate with
/// per-event markets merged in, an archive snapshot).
enum Game<'a> {
    Text(&'a RawValue),
    Value(Value),
}

impl Game<'_> {
    /// The game decoded, cleaned of NUL characters (true if any were found), and the text to
    /// store for a game read from a body, cleaned the same way; the error when the text decodes
    /// as JSON but not as a value (a number beyond the range of f64).
    fn decode(self) -> (Result<Value, String>, Option<Box<RawValue>>, bool) {
        match self {
            Game::Text(text) => {
                let cleaned = json_without_nul(text.get());
                let value = serde_json::from_str(&cleaned).map_err(|e| e.to_string());
                let (stored, had_nul) = match cleaned {
                    Cow::Borrowed(_) => (text.to_owned(), false),
                    Cow::Owned(cleaned) => (
                        RawValue::from_string(cleaned).expect(
                            "text cut from a checked body, with escapes swapped for escapes",
                        ),
                        true,
                    ),
                };
                (value, Some(stored), had_nul)
            }
            Game::Value(mut value) => {
                let had_nul = strip_nul(&mut value);
                (Ok(value), None, had_nul)
            }
        }
    }
}

fn parse_games(games: Vec<Game>, snapshot_time: DateTime<Utc>, sport_key: &str) -> ParsedSlate {
    let mut slate = ParsedSlate {
        games_in_body: games.len(),
        ..ParsedSlate::default()
    };
    let mut seen = HashSet::new();
    for (index, raw) in games.into_iter().enumerate() {
        let Some(snapshot) =
            normalize_game(raw, index, snapshot_time, sport_key, &mut slate.issues)
        else {
            continue;
        };
        if !seen.insert(snapshot.event.id.clone()) {
            slate.issues.push(QualityIssue::new(
                Some(&snapshot.event.id),
                Severity::Warning,
                IssueKind::DuplicateEvent,
                format!(
                    "game {} appears more than once in one response; the first copy is kept",
                    snapshot.event.id
                ),
                json!({ "index": index }),
            ));
            continue;
        }
        slate.snapshots.push(snapshot);
    }
    slate
}

/// The games of an `/events` listing, built by the same rules as the games of an `/odds` body,
/// with the issues found on the way.
pub fn parse_listing(
    value: &Value,
    default_sport: &str,
) -> Result<(Vec<Event>, Vec<QualityIssue>), SlateError> {
    // A listing has no prices, so the snapshot time only sets tiers that are thrown away.
    let slate = parse_odds_value(value, DateTime::UNIX_EPOCH, default_sport)?;
    Ok((
        slate.snapshots.into_iter().map(|s| s.event).collect(),
        slate.issues,
    ))
}

/// One game of the response; `None` when even its identity (id, teams, tip-off) is unusable.
fn normalize_game(
    game: Game,
    index: usize,
    snapshot_time: DateTime<Utc>,
    default_sport: &str,
    issues: &mut Vec<QualityIssue>,
) -> Option<Snapshot> {
    let snapshot_time = snapshot_time.trunc_subsecs(6);
    let (value, text, had_nul) = game.decode();
    let raw = match value {
        Ok(value) => value,
        Err(reason) => {
            issues.push(QualityIssue::new(
                None,
                Severity::Error,
                IssueKind::MalformedEvent,
                format!("game at index {index} skipped: {reason}"),
                json!({ "index": index, "raw": excerpt(&Value::String(
                    text.as_deref().map_or("", RawValue::get).to_string()
                )) }),
            ));
            return None;
        }
    };
    let event_id = raw.get("id").and_then(Value::as_str).map(str::to_string);
    if had_nul {
        issues.push(QualityIssue::new(
            event_id.as_deref(),
            Severity::Warning,
            IssueKind::NulCharacter,
            "NUL characters, which PostgreSQL cannot store, were replaced by U+FFFD",
            json!({ "index": index }),
        ));
    }
    let event = match parse_header(&raw, default_sport) {
        Ok(event) => event,
        Err(reason) => {
            issues.push(QualityIssue::new(
                event_id.as_deref(),
                Severity::Error,
                IssueKind::MalformedEvent,
                format!("game at index {index} skipped: {reason}"),
                json!({ "index": index, "raw": excerpt(&raw) }),
            ));
            return None;
        }
    };
    let id = event.id.clone();
    let mut odds = Vec::new();
    let mut bookmaker_count = 0;
    match raw.get("bookmakers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(books)) => {
            for (b, book) in books.iter().enumerate() {
                let path = format!("bookmakers[{b}]");
                if normalize_book(book, &path, &id, &mut odds, issues) {
                    bookmaker_count += 1;
                }
            }
        }
        Some(other) => issues.push(malformed(
            &id,
            "bookmakers",
            format!("expected an array, got {}", json_kind(other)),
            other,
        )),
    }
    let hours_until_commence = hours_between(snapshot_time, event.commence_time);
    Some(Snapshot {
        event,
        snapshot_time,
        fetch_tier: FetchTier::for_hours_until(hours_until_commence),
        hours_until_commence,
        bookmaker_count,
        raw: match text {
            Some(text) => RawJson::Text(text),
            None => RawJson::Value(raw),
        },
        odds,
    })
}

fn parse_header(raw: &Value, default_sport: &str) -> Result<Event, String> {
    if !raw.is_object() {
        return Err(format!("expected an object, got {}", json_kind(raw)));
    }
    let text = |field: &str| -> Result<String, String> {
        match raw.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::String(_)) => Err(format!("field '{field}' is empty")),
            None | Some(Value::Null) => Err(format!("missing field '{field}'")),
            Some(other) => Err(format!(
                "field '{field}' should be a string, got {}",
                json_kind(other)
            )),
        }
    };
    let id = text("id")?;
    let home = text("home_team")?;
    let away = text("away_team")?;
    let commence_time = match raw.get("commence_time") {
        Some(value) => parse_wire_time(value)
            .ok_or_else(|| format!("commence_time {value} is not an ISO 8601 or unix time"))?,
        None => return Err("missing field 'commence_time'".into()),
    };
    let sport = raw
        .get("sport_key")
        .and_then(Value::as_str)
        .unwrap_or(default_sport);
    Ok(Event::scheduled(id, sport, home, away, commence_time))
}

/// Appends the rows of one bookmaker; false when the bookmaker itself is unusable.
fn normalize_book(
    book: &Value,
    path: &str,
    event_id: &str,
    odds: &mut Vec<OddsRow>,
    issues: &mut Vec<QualityIssue>,
) -> bool {
    let Some(key) = book
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
    else {
        issues.push(malformed(
            event_id,
            path,
            "bookmaker without a key".into(),
            book,
        ));
        return false;
    };
    let title = book
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or(key)
        .to_string();
    let book_update = timestamp_field(book, "last_update", path, event_id, issues);
    let markets = match book.get("markets") {
        Some(Value::Array(markets)) => markets.as_slice(),
        None | Some(Value::Null) => &[],
        Some(other) => {
            issues.push(malformed(
                event_id,
                &format!("{path}.markets"),
                format!("expected an array, got {}", json_kind(other)),
                other,
            ));
            &[]
        }
    };
    for (m, market) in markets.iter().enumerate() {
        let mpath = format!("{path}.markets[{m}]");
        let Some(market_key) = market
            .get("key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
        else {
            issues.push(malformed(
                event_id,
                &mpath,
                "market without a key".into(),
                market,
            ));
            continue;
        };
        let last_update =
            timestamp_field(market, "last_update", &mpath, event_id, issues).or(book_update);
        let outcomes = match market.get("outcomes") {
            Some(Value::Array(outcomes)) => outcomes.as_slice(),
            other => {
                issues.push(malformed(
                    event_id,
                    &format!("{mpath}.outcomes"),
                    format!(
                        "expected an array, got {}",
                        other.map_or("nothing", json_kind)
                    ),
                    market,
                ));
                &[]
            }
        };
        for (o, outcome) in outcomes.iter().enumerate() {
            match serde_json::from_value::<ApiOutcome>(outcome.clone()) {
                Ok(outcome) => odds.push(OddsRow {
                    bookmaker_key: key.to_string(),
                    bookmaker_title: title.clone(),
                    market_key: market_key.into(),
                    outcome_name: outcome.name,
                    description: outcome.description.filter(|d| !d.is_empty()),
                    price: outcome.price,
                    point: outcome.point,
                    last_update,
                    is_valid: true,
                    validation_notes: Vec::new(),
                }),
                Err(e) => issues.push(malformed(
                    event_id,
                    &format!("{mpath}.outcomes[{o}]"),
                    format!("outcome not stored: {e}"),
                    outcome,
                )),
            }
        }
    }
    true
}

fn timestamp_field(
    value: &Value,
    field: &str,
    path: &str,
    event_id: &str,
    issues: &mut Vec<QualityIssue>,
) -> Option<DateTime<Utc>> {
    match value.get(field) {
        None | Some(Value::Null) => None,
        Some(raw) => {
            let parsed = parse_wire_time(raw);
            if parsed.is_none() {
                issues.push(QualityIssue::new(
                    Some(event_id),
                    Severity::Warning,
                    IssueKind::MalformedTimestamp,
                    format!("{path}.{field} = {raw} is not a time; ignored"),
                    json!({ "path": format!("{path}.{field}"), "value": raw }),
                ));
            }
            parsed
        }
    }
}

fn malformed(event_id: &str, path: &str, reason: String, raw: &Value) -> QualityIssue {
    QualityIssue::new(
        Some(event_id),
        Severity::Error,
        IssueKind::MalformedData,
        format!("{path}: {reason}"),
        json!({ "path": path, "raw": excerpt(raw) }),
    )
}

/// Keeps context rows small: a huge malformed value is cut, not stored twice in full.
fn excerpt(raw: &Value) -> Value {
    let text = raw.to_string();
    if text.len() <= 2_000 {
        raw.clone()
    } else {
        let cut = text
            .char_indices()
            .nth(2_000)
            .map_or(text.len(), |(i, _)| i);
        Value::String(format!("{}…", &text[..cut]))
    }
}

pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-01-10T18:00:00Z".parse().unwrap()
    }

    fn game(bookmakers: Value) -> Value {
        json!({
            "id": "e1", "sport_key": "basketball_nba", "commence_time": "2026-01-11T00:00:00Z",
            "home_team": "Boston Celtics", "away_team": "New York Knicks", "bookmakers": bookmakers
        })
    }

    #[test]
    fn integer_and_null_points_parse() {
        let body = json!([game(json!([{ "key": "fanduel", "title": "FanDuel",
            "last_update": "2026-01-10T17:59:00Z", "markets": [
              { "key": "totals", "outcomes": [
                  { "name": "Over", "price": -110, "point": 221 },
                  { "name": "Under", "price": -110, "point": 221 } ] },
              { "key": "h2h", "outcomes": [
                  { "name": "Boston Celtics", "price": -150, "point": null },
                  { "name": "New York Knicks", "price": 130 } ] } ] }]))]);
        let slate = parse_odds_value(&body, now(), "basketball_nba").unwrap();
        assert!(slate.issues.is_empty(), "{:?}", slate.issues);
        let snap = &slate.snapshots[0];
        assert_eq!(snap.odds.len(), 4);
        assert_eq!(snap.odds[0].point, Some(221.0));
        assert_eq!(snap.odds[2].point, None);
        assert_eq!(snap.fetch_tier, FetchTier::Pregame);
        assert_eq!(snap.hours_until_commence, 6.0);
        assert_eq!(
            snap.odds[0].last_update,
            Some("2026-01-10T17:59:00Z".parse().unwrap())
        );
    }

    #[test]
    fn bad_parts_become_issues_and_the_rest_survives() {
        let body = json!([
            game(json!([{ "key": "fanduel", "markets": [ { "key": "h2h", "outcomes": [
                { "name": "Boston Celtics", "price": "-150" },
                { "name": "New York Knicks", "price": 130 },
                { "price": 100 } ] } ] }, { "title": "no key" }, 7])),
            { "id": "e2", "home_team": "A" },
            "garbage",
        ]);
        let slate = parse_odds_value(&body, now(), "basketball_nba").unwrap();
        assert_eq!(slate.snapshots.len(), 1);
        assert_eq!(slate.snapshots[0].odds.len(), 1);
        let kinds: Vec<&str> = slate.issues.iter().map(|i| i.issue_type.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "malformed_data",
                "malformed_data",
                "malformed_data",
                "malformed_data",
                "malformed_event",
                "malformed_event"
            ]
        );
    }

    #[test]
    fn non_json_and_non_array_bodies_are_clear_errors() {
        let err = parse_odds_body(b"<html>502 Bad Gateway</html>", now(), "x").unwrap_err();
        assert!(err.to_string().contains("<html>"), "{err}");
        let err = parse_odds_body(br#"{"message":"x"}"#, now(), "x").unwrap_err();
        assert_eq!(err, SlateError::NotAnArray("an object"));
        let err = parse_odds_body(br#"[{"id": "a""#, now(), "x").unwrap_err();
        assert!(matches!(err, SlateError::NotJson { .. }));
        assert!(
            parse_odds_body(b"[]", now(), "x")
                .unwrap()
                .snapshots
                .is_empty()
        );
    }

    #[test]
    fn per_event_markets_merge_into_the_slates_game_book_by_book() {
        let mut slate_game = game(json!([
            {"key": "draftkings", "markets": [{"key": "h2h", "outcomes": []}]}
        ]));
        let event = game(json!([
            {"key": "draftkings", "markets": [
                {"key": "h2h", "outcomes": [{"name": "ignored", "price": 100}]},
                {"key": "player_points", "outcomes": []}]},
            {"key": "fanduel", "markets": [{"key": "player_points", "outcomes": []}]}
        ]));
        merge_event_markets(&mut slate_game, &event);
        let books = slate_game["bookmakers"].as_array().unwrap();
        assert_eq!(books.len(), 2);
        let keys: Vec<&str> = books[0]["markets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["h2h", "player_points"]);
        assert_eq!(
            books[0]["markets"][0]["outcomes"],
            json!([]),
            "kept as it was"
        );
        assert_eq!(books[1]["key"], "fanduel");
        // Not a game: nothing happens.
        let before = slate_game.clone();
        merge_event_markets(&mut slate_game, &json!({"message": "x"}));
        assert_eq!(slate_game, before);
    }

    #[test]
    fn a_single_event_body_is_one_game() {
        let one = game(json!([]));
        let slate = parse_odds_data(one.clone(), now(), "basketball_nba").unwrap();
        assert_eq!(slate.games_in_body, 1);
        assert_eq!(slate.snapshots.len(), 1);
        assert_eq!(slate.snapshots[0].raw.to_value(), one);
    }

    #[test]
    fn a_body_is_read_game_by_game_and_each_game_keeps_its_own_text() {
        let first = r#"{ "id": "e1", "sport_key": "basketball_nba",
            "commence_time": "2026-01-11T00:00:00Z", "home_team": "Boston Celtics",
            "away_team": "New York Knicks", "bookmakers": [{ "key": "fan\u0000duel", "markets": [] }] }"#;
        // Valid JSON that no decoded value can hold: that game alone is skipped.
        let second = r#"{"id": "e2", "commence_time": "2026-01-11T00:00:00Z", "n": 1e400}"#;
        let body = format!("[{first}, {second}]");
        let slate = parse_odds_body(body.as_bytes(), now(), "basketball_nba").unwrap();
        assert_eq!(slate.games_in_body, 2);
        assert_eq!(slate.snapshots.len(), 1);
        assert_eq!(
            slate.snapshots[0].raw.text(),
            first.replace("\\u0000", "\\ufffd"),
            "the text as received, the NUL escape aside"
        );
        let kinds: Vec<&str> = slate.issues.iter().map(|i| i.issue_type.as_str()).collect();
        assert_eq!(kinds, ["nul_character", "malformed_event"]);
        assert!(
            slate.issues[1].description.contains("index 1"),
            "{:?}",
            slate.issues[1]
        );
        // The same game decoded first gives the same snapshot.
        let decoded: Value = serde_json::from_str(first).unwrap();
        let from_value = parse_odds_data(json!([decoded]), now(), "basketball_nba").unwrap();
        assert_eq!(from_value.snapshots[0].odds, slate.snapshots[0].odds);
        assert_eq!(from_value.snapshots[0].event, slate.snapshots[0].event);
        assert_eq!(
            from_value.snapshots[0].raw.to_value(),
            slate.snapshots[0].raw.to_value()
        );
    }

    #[test]
    fn nul_characters_are_replaced_and_reported() {
        let body = json!([game(json!([{ "key": "fan\u{0}duel", "markets": [] }]))]);
        let slate = parse_odds_value(&body, now(), "basketball_nba").unwrap();
        assert!(!slate.snapshots[0].raw.text().contains("\\u0000"));
        assert_eq!(slate.issues[0].issue_type, "nul_character");
    }
}
