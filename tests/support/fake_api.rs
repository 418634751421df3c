//! A fake The Odds API on loopback (wiremock), serving a slate the way the real one would:
//! `/events` without bookmakers (free), `/odds` with them (3 credits), `/scores` (2 credits).

use std::sync::Mutex;

use serde_json::Value;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub struct FakeOddsApi {
    pub server: MockServer,
    state: Mutex<(Value, Value)>,
}

pub const SPORT_PATH: &str = "/v4/sports/basketball_nba";

fn json(body: &Value, credits: u32, used: u32) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/json")
        .insert_header("x-requests-last", credits.to_string())
        .insert_header("x-requests-used", used.to_string())
        .insert_header("x-requests-remaining", (20_000 - used).to_string())
        .set_body_json(body)
}

/// The `/events` view of an `/odds` slate.
pub fn events_of(slate: &Value) -> Value {
    let mut events = slate.clone();
    for game in events.as_array_mut().into_iter().flatten() {
        if let Some(obj) = game.as_object_mut() {
            obj.remove("bookmakers");
        }
    }
    events
}

impl FakeOddsApi {
    pub async fn start() -> FakeOddsApi {
        FakeOddsApi {
            server: MockServer::start().await,
            state: Mutex::new((Value::Array(vec![]), Value::Array(vec![]))),
        }
    }

    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Serves `slate` from `/odds` and its listing from `/events`, replacing what was served.
    pub async fn serve_slate(&self, slate: &Value) {
        self.state.lock().unwrap().0 = slate.clone();
        self.mount().await;
    }

    /// Serves `scores` from `/scores`, replacing what was served.
    pub async fn serve_scores(&self, scores: &Value) {
        self.state.lock().unwrap().1 = scores.clone();
        self.mount().await;
    }

    async fn mount(&self) {
        let (slate, scores) = self.state.lock().unwrap().clone();
        let slate = &slate;
        self.server.reset().await;
        let odds_credits = if slate.as_array().is_some_and(|a| a.is_empty()) {
            0
        } else {
            3
        };
        Mock::given(method("GET"))
            .and(path(format!("{SPORT_PATH}/events")))
            .respond_with(json(&events_of(slate), 0, 100))
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{SPORT_PATH}/odds")))
            .respond_with(json(slate, odds_credits, 103))
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{SPORT_PATH}/scores")))
            .respond_with(json(&scores, 2, 105))
            .mount(&self.server)
            .await;
    }

    /// Serves `/events/{id}/odds` with a `player_points` market of two players at one book,
    /// for any game of the slate (1 credit: one market, one region-equivalent). Mounted until
    /// the next `serve_*` call.
    pub async fn serve_event_markets(&self) {
        let slate = self.state.lock().unwrap().0.clone();
        Mock::given(method("GET"))
            .and(path_regex(format!("^{SPORT_PATH}/events/[^/]+/odds$")))
            .respond_with(EventMarkets(slate))
            .mount(&self.server)
            .await;
    }

    /// Every call fails with `status` (an outage).
    pub async fn fail_everything(&self, status: u16) {
        self.server.reset().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("content-type", "text/html")
                    .set_body_string("<html><body>upstream unavailable</body></html>"),
            )
            .mount(&self.server)
            .await;
    }

    /// How many requests reached `endpoint` (`events`, `odds`, `scores`).
    pub async fn calls(&self, endpoint: &str) -> usize {
        let suffix = format!("/{endpoint}");
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().ends_with(&suffix))
            .count()
    }
}

/// Answers `/events/{id}/odds` for a game of the slate.
struct EventMarkets(Value);

impl Respond for EventMarkets {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request.url.path().split('/').nth(5).unwrap_or_default();
        let Some(game) = self
            .0
            .as_array()
            .and_then(|games| games.iter().find(|g| g["id"] == id))
        else {
            return ResponseTemplate::new(404).set_body_json(serde_json::json!({
                "message": "Event not found", "error_code": "EVENT_NOT_FOUND"}));
        };
        let prop = |player: &str, point: f64| {
            [
                serde_json::json!({"name": "Over", "description": player, "price": -115, "point": point}),
                serde_json::json!({"name": "Under", "description": player, "price": -105, "point": point}),
            ]
        };
        let mut outcomes = prop("First Player", 24.5).to_vec();
        outcomes.extend(prop("Second Player", 18.5));
        let mut event = game.clone();
        event["bookmakers"] = serde_json::json!([{
            "key": "draftkings", "title": "DraftKings",
            "markets": [{"key": "player_points", "last_update": game["commence_time"].clone(),
                         "outcomes": outcomes}]
        }]);
        // A market's last_update at tip-off would be in the future: use the first book's.
        if let Some(update) = game["bookmakers"][0]["last_update"].as_str() {
            event["bookmakers"][0]["markets"][0]["last_update"] = Value::String(update.into());
        }
        json(&event, 1, 110)
    }
}
