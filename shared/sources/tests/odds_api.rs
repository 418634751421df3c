//! The Odds API client against wiremock on loopback, with fixtures from tests/fixtures/odds_api.
//! Every test captures the log output and checks that the API key never appears in it.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use odds_core::model::Quota;
use odds_core::secret::Secret;
use odds_core::wire::ApiEvent;
use odds_sources::odds_api::cost::event_odds_billed;
use odds_sources::odds_api::{
    ApiErrorCode, CreditCost, Endpoint, EventOddsRequest, EventsRequest,
    HistoricalEventOddsRequest, HistoricalEventsRequest, HistoricalOddsRequest, OddsApiClient,
    OddsApiError, OddsApiSettings, OddsRequest, ScoresRequest, SportsRequest,
};
use serde_json::Value;
use tracing::subscriber::DefaultGuard;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "5ca1ab1e0ddba11c0ffeefeedfacade5";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/odds_api");
const BOOKS: [&str; 8] = [
    "pinnacle",
    "draftkings",
    "fanduel",
    "betmgm",
    "williamhill_us",
    "betrivers",
    "bovada",
    "betonlineag",
];

/// `/events` of the NBA: decoded by the client, where `/odds` is not.
fn nba_events_request() -> EventsRequest {
    EventsRequest {
        sport: "basketball_nba".into(),
        ..EventsRequest::default()
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}"))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// A log sink shared between the subscriber and the test.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

struct Harness {
    server: MockServer,
    client: OddsApiClient,
    logs: Logs,
    _guard: DefaultGuard,
}

impl Harness {
    async fn new() -> Harness {
        Harness::with(|_| {}).await
    }

    async fn with(adjust: impl FnOnce(&mut OddsApiSettings)) -> Harness {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        let server = MockServer::start().await;
        let mut settings = OddsApiSettings::for_base_url(server.uri(), Secret::new(KEY));
        adjust(&mut settings);
        let client = OddsApiClient::new(&settings).unwrap();
        Harness {
            server,
            client,
            logs,
            _guard: guard,
        }
    }

    async fn requests(&self) -> usize {
        self.server.received_requests().await.map_or(0, |r| r.len())
    }

    /// Something was logged, and the key is nowhere in it.
    fn assert_key_absent(&self) {
        let logs = self.logs.text();
        assert!(!logs.is_empty(), "nothing was logged");
        assert!(!logs.contains(KEY), "the key leaked into the logs:\n{logs}");
    }

    fn assert_error_clean(&self, err: &OddsApiError) {
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains(KEY),
            "the key leaked into an error: {shown}"
        );
        self.assert_key_absent();
    }
}

fn ok_json(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

fn with_quota(
    template: ResponseTemplate,
    remaining: &str,
    used: &str,
    last: &str,
) -> ResponseTemplate {
    template
        .insert_header("x-requests-remaining", remaining)
        .insert_header("x-requests-used", used)
        .insert_header("x-requests-last", last)
}

fn nba_odds_request() -> OddsRequest {
    OddsRequest::for_bookmakers("basketball_nba", &["h2h", "spreads", "totals"], &BOOKS)
}

fn time(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[tokio::test]
async fn sports_are_parsed_and_the_key_is_sent_only_on_the_wire() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v4/sports"))
        .and(query_param("apiKey", KEY))
        .and(query_param("all", "true"))
        .respond_with(with_quota(ok_json(fixture("sports.json")), "497", "3", "0"))
        .expect(1)
        .mount(&h.server)
        .await;
    let response = h.client.sports(&SportsRequest { all: true }).await.unwrap();
    assert_eq!(response.endpoint, Endpoint::Sports);
    assert_eq!(response.status, 200);
    assert_eq!(response.attempts, 1);
    assert_eq!(
        response.quota,
        Quota {
            remaining: Some(497),
            used: Some(3),
            last: Some(0)
        }
    );
    let keys: Vec<_> = response.data.items.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "basketball_nba",
            "basketball_nba_championship_winner",
            "basketball_wnba"
        ]
    );
    assert_eq!(response.data.items[2].description.as_deref(), Some(""));
    assert_eq!(response.raw, fixture_json("sports.json"));
    assert!(h.logs.text().contains("/v4/sports"));
    h.assert_key_absent();
}

#[tokio::test]
async fn events_send_whole_second_times() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v4/sports/basketball_nba/events"))
        .and(query_param("commenceTimeFrom", "2025-12-05T05:00:00Z"))
        .and(query_param("commenceTimeTo", "2025-12-06T05:00:00Z"))
        .and(query_param("dateFormat", "iso"))
        .respond_with(ok_json(fixture("events_2025-12-05.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    let request = EventsRequest {
        sport: "basketball_nba".into(),
        commence_time_from: Some(time("2025-12-05T05:00:00.123Z")),
        commence_time_to: Some(
            time("2025-12-06T04:59:59.999999Z") + chrono::Duration::microseconds(1),
        ),
        ..EventsRequest::default()
    };
    assert_eq!(request.credit_cost(), 0);
    let response = h.client.events(&request).await.unwrap();
    assert_eq!(response.data.items.len(), 6);
    assert!(response.data.skipped.is_empty());
    assert!(response.data.items.iter().all(|e| e.bookmakers.is_empty()));
    // No quota headers at all: every reading is absent, not zero.
    assert_eq!(response.quota, Quota::default());
    h.assert_key_absent();
}

#[tokio::test]
async fn odds_are_parsed_typed_and_raw_in_american_format() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v4/sports/basketball_nba/odds"))
        .and(query_param("bookmakers", BOOKS.join(",")))
        .and(query_param_is_missing("regions"))
        .and(query_param("markets", "h2h,spreads,totals"))
        .and(query_param("oddsFormat", "american"))
        .and(query_param("dateFormat", "iso"))
        .respond_with(with_quota(
            ok_json(fixture("odds_2025-12-05.json")),
            "-60",
            "5000060",
            "3",
        ))
        .expect(1)
        .mount(&h.server)
        .await;
    let request = nba_odds_request();
    let response = h.client.odds(&request).await.unwrap();
    // Eight books are one region-equivalent: the cost known in advance is what the API charged.
    assert_eq!(
        i64::from(request.credit_cost()),
        response.quota.last.unwrap()
    );
    assert_eq!(response.quota.remaining, Some(-60));
    assert_eq!(response.quota.used, Some(5_000_060));
    // The body comes back as the API sent it, for the ingest path to decode once.
    let events: Vec<ApiEvent> = serde_json::from_slice(&response.data).unwrap();
    assert_eq!(events.len(), 6);
    let sixers = &events[0];
    assert_eq!(sixers.home_team, "Philadelphia 76ers");
    assert_eq!(sixers.bookmakers.len(), 2);
    let h2h = &sixers.bookmakers[0].markets[0];
    assert_eq!((h2h.key.as_str(), h2h.outcomes[1].price), ("h2h", -120.0));
    let totals = &sixers.bookmakers[0].markets[2];
    assert_eq!(totals.outcomes[0].point, Some(221.5));
    // An integer-valued line (228) parses as a number too.
    assert_eq!(
        events[1].bookmakers[0].markets[2].outcomes[0].point,
        Some(228.0)
    );
    assert!(
        sixers.bookmakers[1]
            .markets
            .iter()
            .any(|m| m.key == "h2h_lay")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&response.data).unwrap(),
        fixture_json("odds_2025-12-05.json")
    );
    // The body feeds the storage side's normalizer unchanged.
    let slate = odds_core::normalize::parse_odds_body(
        &response.data,
        time("2025-12-05T22:00:00Z"),
        "basketball_nba",
    )
    .unwrap();
    assert_eq!(slate.snapshots.len(), 6);
    assert!(response.duration > Duration::ZERO);
    let logs = h.logs.text();
    assert!(
        logs.contains("odds api call") && logs.contains("credits"),
        "{logs}"
    );
    h.assert_key_absent();
}

#[tokio::test]
async fn malformed_games_are_skipped_not_fatal() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/events"))
        .respond_with(ok_json(fixture("odds_malformed_items.json")))
        .mount(&h.server)
        .await;
    // `/events` is decoded by the client (`/odds` bodies go undecoded to the ingest path).
    let request = EventsRequest {
        sport: "basketball_nba".into(),
        ..EventsRequest::default()
    };
    let response = h.client.events(&request).await.unwrap();
    let ids: Vec<_> = response
        .data
        .items
        .iter()
        .map(|e| e.home_team.as_str())
        .collect();
    assert_eq!(ids, ["Philadelphia 76ers", "Los Angeles Clippers"]);
    let skipped: Vec<_> = response.data.skipped.iter().map(|s| s.index).collect();
    assert_eq!(skipped, [1, 2, 3, 4]);
    assert!(response.data.skipped[0].id.is_some());
    assert_eq!(response.data.skipped[3].id, None);
    assert_eq!(response.raw.as_array().map(Vec::len), Some(6));
    assert!(h.logs.text().contains("malformed items skipped"));
    h.assert_key_absent();
}

#[tokio::test]
async fn an_empty_slate_is_an_empty_answer() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/odds"))
        .respond_with(with_quota(ok_json("[]".into()), "497", "3", "0"))
        .mount(&h.server)
        .await;
    let response = h.client.odds(&nba_odds_request()).await.unwrap();
    assert_eq!(&response.data[..], b"[]");
    assert_eq!(response.quota.last, Some(0));
    h.assert_key_absent();
}

#[tokio::test]
async fn event_odds_are_one_object_billed_by_returned_markets() {
    let h = Harness::new().await;
    let id = "9e6fd9b4eb1f8e6aedb54a9c6fca1c1c";
    Mock::given(path(format!("/v4/sports/basketball_nba/events/{id}/odds")))
        .and(query_param("regions", "us"))
        .and(query_param("markets", "h2h,player_points,player_rebounds"))
        .respond_with(ok_json(fixture("event_odds.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    let request = EventOddsRequest {
        sport: "basketball_nba".into(),
        event_id: id.into(),
        regions: vec!["us".into()],
        markets: vec![
            "h2h".into(),
            "player_points".into(),
            "player_rebounds".into(),
        ],
        ..EventOddsRequest::default()
    };
    let response = h.client.event_odds(&request).await.unwrap();
    assert_eq!(response.data.home_team, "Los Angeles Clippers");
    let props = &response.data.bookmakers[0].markets[1];
    assert_eq!(
        props.outcomes[0].description.as_deref(),
        Some("James Harden")
    );
    assert_eq!(request.credit_cost(), 3);
    assert_eq!(event_odds_billed(&request, &response.data), 2);
    h.assert_key_absent();
}

#[tokio::test]
async fn scores_without_days_from_cost_one_and_may_be_null() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/scores"))
        .and(query_param_is_missing("daysFrom"))
        .respond_with(ok_json(fixture("scores.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    let request = ScoresRequest {
        sport: "basketball_nba".into(),
        ..ScoresRequest::default()
    };
    assert_eq!(request.credit_cost(), 1);
    let response = h.client.scores(&request).await.unwrap();
    let games = &response.data.items;
    assert_eq!(games.len(), 4);
    assert!(games.iter().all(|g| !g.completed));
    let sixers = games[0].scores.as_ref().unwrap();
    assert_eq!(sixers[0].points(), Some(88));
    assert_eq!(games[3].scores, None);
    assert_eq!(games[3].last_update, None);
    h.assert_key_absent();
}

#[tokio::test]
async fn scores_with_days_from_cost_two_and_accept_integer_points() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/scores"))
        .and(query_param("daysFrom", "1"))
        .respond_with(ok_json(fixture("scores_days_from_2025-12-05.json")))
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/v4/sports/basketball_nba/scores"))
        .and(query_param("daysFrom", "2"))
        .respond_with(ok_json(fixture("scores_integer_points.json")))
        .mount(&h.server)
        .await;
    let mut request = ScoresRequest {
        sport: "basketball_nba".into(),
        days_from: Some(1),
        ..ScoresRequest::default()
    };
    assert_eq!(request.credit_cost(), 2);
    let response = h.client.scores(&request).await.unwrap();
    assert_eq!(response.data.items.len(), 6);
    assert!(response.data.items.iter().all(|g| g.completed));
    request.days_from = Some(2);
    let integers = h.client.scores(&request).await.unwrap();
    assert!(integers.data.skipped.is_empty());
    let points: Vec<Option<u32>> = integers.data.items[0]
        .scores
        .iter()
        .flatten()
        .map(|s| s.points())
        .collect();
    assert_eq!(points, [Some(118), Some(104)]);
    h.assert_key_absent();
}

#[tokio::test]
async fn historical_endpoints_unwrap_their_snapshots() {
    let h = Harness::new().await;
    let date = time("2025-12-05T22:00:00.250Z");
    Mock::given(path("/v4/historical/sports/basketball_nba/odds"))
        .and(query_param("date", "2025-12-05T22:00:00Z"))
        .and(query_param("oddsFormat", "american"))
        .respond_with(ok_json(fixture("historical_odds_2025-12-05T22-00.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/v4/historical/sports/basketball_nba/events"))
        .and(query_param("date", "2025-12-05T22:00:00Z"))
        .respond_with(ok_json(fixture("historical_events_2025-12-05T22-00.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    let id = "9e6fd9b4eb1f8e6aedb54a9c6fca1c1c";
    Mock::given(path(format!(
        "/v4/historical/sports/basketball_nba/events/{id}/odds"
    )))
    .respond_with(ok_json(fixture(
        "historical_event_odds_2025-12-05T22-00.json",
    )))
    .expect(1)
    .mount(&h.server)
    .await;

    let odds_request = HistoricalOddsRequest {
        date,
        odds: nba_odds_request(),
    };
    assert_eq!(odds_request.credit_cost(), 30);
    let odds = h.client.historical_odds(&odds_request).await.unwrap();
    assert_eq!(odds.data.timestamp.as_deref(), Some("2025-12-05T21:59:41Z"));
    assert_eq!(
        odds.data.previous_timestamp.as_deref(),
        Some("2025-12-05T21:54:40Z")
    );
    assert_eq!(
        odds.data.next_timestamp.as_deref(),
        Some("2025-12-05T22:04:41Z")
    );
    assert_eq!(odds.data.data.as_array().map(Vec::len), Some(2));

    let events = h
        .client
        .historical_events(&HistoricalEventsRequest {
            date,
            events: EventsRequest {
                sport: "basketball_nba".into(),
                ..EventsRequest::default()
            },
        })
        .await
        .unwrap();
    assert_eq!(events.data.data.items.len(), 6);

    let event_odds = h
        .client
        .historical_event_odds(&HistoricalEventOddsRequest {
            date,
            event_odds: EventOddsRequest {
                sport: "basketball_nba".into(),
                event_id: id.into(),
                bookmakers: vec!["draftkings".into()],
                markets: vec!["player_points".into()],
                ..EventOddsRequest::default()
            },
        })
        .await
        .unwrap();
    let event = event_odds.data.data.unwrap();
    assert_eq!(event.away_team, "Portland Trail Blazers");
    h.assert_key_absent();
}

#[tokio::test]
async fn a_date_before_the_archive_gives_an_empty_snapshot() {
    let h = Harness::new().await;
    Mock::given(path("/v4/historical/sports/basketball_nba/odds"))
        .respond_with(ok_json(fixture("historical_odds_before_archive.json")))
        .mount(&h.server)
        .await;
    let response = h
        .client
        .historical_odds(&HistoricalOddsRequest {
            date: time("2019-01-01T00:00:00Z"),
            odds: nba_odds_request(),
        })
        .await
        .unwrap();
    assert_eq!(response.data.timestamp, None);
    assert_eq!(response.data.previous_timestamp, None);
    assert_eq!(
        response.data.next_timestamp.as_deref(),
        Some("2020-06-27T03:55:00Z")
    );
    assert_eq!(response.data.data, serde_json::json!([]));
    h.assert_key_absent();
}

#[tokio::test]
async fn unreadable_quota_headers_read_as_absent() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports"))
        .respond_with(
            ok_json("[]".into())
                .insert_header("x-requests-remaining", "lots")
                .insert_header("x-requests-used", " 12 ")
                .insert_header("x-requests-last", "-0"),
        )
        .mount(&h.server)
        .await;
    let response = h.client.sports(&SportsRequest::default()).await.unwrap();
    assert_eq!(
        response.quota,
        Quota {
            remaining: None,
            used: Some(12),
            last: Some(0)
        }
    );
    h.assert_key_absent();
}

#[tokio::test]
async fn every_documented_error_code_maps_to_its_error() {
    let h = Harness::new().await;
    let cases = fixture_json("errors.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), ApiErrorCode::KNOWN.len());
    for case in cases {
        let status = case["status"].as_u64().unwrap() as u16;
        let code_text = case["body"]["error_code"].as_str().unwrap();
        h.server.reset().await;
        Mock::given(path("/v4/sports/basketball_nba/odds"))
            .respond_with(
                with_quota(ResponseTemplate::new(status), "10", "490", "0")
                    .set_body_raw(case["body"].to_string(), "application/json"),
            )
            .mount(&h.server)
            .await;
        let err = h.client.odds(&nba_odds_request()).await.unwrap_err();
        let code = ApiErrorCode::parse(code_text);
        assert!(!matches!(code, ApiErrorCode::Unknown(_)), "{code_text}");
        assert_eq!(err.code(), Some(&code), "{code_text}: {err}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.endpoint(), Some(Endpoint::Odds));
        assert_eq!(err.quota().remaining, Some(10));
        if code == ApiErrorCode::ExceededFreqLimit {
            assert!(
                matches!(err, OddsApiError::RateLimited { attempts: 3, .. }),
                "{err:?}"
            );
            assert_eq!(h.requests().await, 3, "{code_text} is retried");
        } else {
            match &err {
                OddsApiError::Api {
                    message,
                    details_url,
                    ..
                } => {
                    assert_eq!(
                        message.as_deref(),
                        Some(&*format!("Fixture message for {code_text}"))
                    );
                    assert!(details_url.is_some());
                }
                other => panic!("{code_text}: {other:?}"),
            }
            assert_eq!(h.requests().await, 1, "{code_text} must not be retried");
            assert!(!err.is_transient());
        }
        h.assert_error_clean(&err);
    }
}

#[tokio::test]
async fn an_unknown_error_code_is_kept() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports"))
        .respond_with(
            ResponseTemplate::new(418)
                .set_body_raw(r#"{"error_code":"TEAPOT_MODE"}"#, "application/json"),
        )
        .mount(&h.server)
        .await;
    let err = h
        .client
        .sports(&SportsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&ApiErrorCode::Unknown("TEAPOT_MODE".into()))
    );
    assert!(matches!(err, OddsApiError::Api { message: None, .. }));
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn two_server_errors_then_success() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/odds"))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .up_to_n_times(2)
        .mount(&h.server)
        .await;
    Mock::given(path("/v4/sports/basketball_nba/odds"))
        .respond_with(with_quota(
            ok_json(fixture("odds_2025-12-05.json")),
            "494",
            "6",
            "3",
        ))
        .mount(&h.server)
        .await;
    let response = h.client.odds(&nba_odds_request()).await.unwrap();
    assert_eq!(response.attempts, 3);
    assert_eq!(
        serde_json::from_slice::<Vec<ApiEvent>>(&response.data)
            .unwrap()
            .len(),
        6
    );
    assert_eq!(h.requests().await, 3);
    assert!(h.logs.text().contains("retrying"));
    h.assert_key_absent();
}

#[tokio::test]
async fn server_errors_give_up_after_the_configured_attempts() {
    let h = Harness::with(|s| s.max_attempts = 2).await;
    Mock::given(path("/v4/sports/basketball_nba/scores"))
        .respond_with(
            ResponseTemplate::new(503).set_body_raw(fixture("html_error_page.html"), "text/html"),
        )
        .mount(&h.server)
        .await;
    let request = ScoresRequest {
        sport: "basketball_nba".into(),
        ..ScoresRequest::default()
    };
    let err = h.client.scores(&request).await.unwrap_err();
    match &err {
        OddsApiError::Server {
            status: 503,
            attempts: 2,
            body_start,
            ..
        } => assert!(body_start.starts_with("<!DOCTYPE html>")),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.requests().await, 2);
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn invalid_key_fails_at_once_and_is_visible() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/odds"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            r#"{"message":"API key is not valid. Get an API key at https://the-odds-api.com","error_code":"INVALID_KEY","details_url":"https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html"}"#,
            "application/json",
        ))
        .mount(&h.server)
        .await;
    let err = h.client.odds(&nba_odds_request()).await.unwrap_err();
    assert_eq!(err.code(), Some(&ApiErrorCode::InvalidKey));
    assert!(err.to_string().contains("INVALID_KEY"), "{err}");
    assert!(err.code().unwrap().is_account_problem());
    // 401 INVALID_KEY comes without quota headers.
    assert_eq!(err.quota(), Quota::default());
    assert_eq!(h.requests().await, 1);
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn rate_limited_calls_are_retried() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/events"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/v4/sports/basketball_nba/events"))
        .respond_with(ok_json(fixture("events_2025-12-05.json")))
        .mount(&h.server)
        .await;
    let request = EventsRequest {
        sport: "basketball_nba".into(),
        ..EventsRequest::default()
    };
    let response = h.client.events(&request).await.unwrap();
    assert_eq!(response.attempts, 2);
    assert_eq!(h.requests().await, 2);
    h.assert_key_absent();
}

#[tokio::test]
async fn out_of_credits_is_never_retried_whatever_the_status() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/odds"))
        .respond_with(ResponseTemplate::new(429).set_body_raw(
            r#"{"message":"Usage quota has been reached.","error_code":"OUT_OF_USAGE_CREDITS"}"#,
            "application/json",
        ))
        .mount(&h.server)
        .await;
    let err = h.client.odds(&nba_odds_request()).await.unwrap_err();
    assert_eq!(err.code(), Some(&ApiErrorCode::OutOfUsageCredits));
    assert_eq!(h.requests().await, 1);
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn html_with_status_200_is_a_decode_error() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/events"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(fixture("html_error_page.html"), "text/html"),
        )
        .mount(&h.server)
        .await;
    let err = h.client.events(&nba_events_request()).await.unwrap_err();
    match &err {
        OddsApiError::Decode {
            status: 200,
            body_start,
            ..
        } => assert!(body_start.contains("Bad Gateway")),
        other => panic!("{other:?}"),
    }
    assert!(!err.is_transient());
    assert_eq!(h.requests().await, 1);
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn truncated_json_is_a_decode_error() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/events"))
        .respond_with(ok_json(fixture("odds_truncated.json")))
        .mount(&h.server)
        .await;
    let err = h.client.events(&nba_events_request()).await.unwrap_err();
    assert!(
        matches!(&err, OddsApiError::Decode { reason, .. } if reason.contains("not JSON")),
        "{err:?}"
    );
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn an_object_where_an_array_belongs_is_a_decode_error() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/events"))
        .respond_with(ok_json(fixture("event_odds.json")))
        .mount(&h.server)
        .await;
    Mock::given(path("/v4/historical/sports/basketball_nba/odds"))
        .respond_with(ok_json(fixture("odds_2025-12-05.json")))
        .mount(&h.server)
        .await;
    let err = h.client.events(&nba_events_request()).await.unwrap_err();
    assert!(
        matches!(&err, OddsApiError::Decode { reason, .. } if reason.contains("expected an array")),
        "{err:?}"
    );
    let err = h
        .client
        .historical_odds(&HistoricalOddsRequest {
            date: time("2025-12-05T22:00:00Z"),
            odds: nba_odds_request(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, OddsApiError::Decode { .. }), "{err:?}");
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn an_html_404_is_an_unexpected_status() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports"))
        .respond_with(ResponseTemplate::new(404).set_body_raw("<html>nope</html>", "text/html"))
        .mount(&h.server)
        .await;
    let err = h
        .client
        .sports(&SportsRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, OddsApiError::UnexpectedStatus { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(h.requests().await, 1);
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn a_server_that_echoes_the_key_does_not_leak_it() {
    let h = Harness::with(|s| s.max_attempts = 1).await;
    Mock::given(path("/v4/sports"))
        .respond_with(
            ResponseTemplate::new(502)
                .set_body_string(format!("upstream failed for /v4/sports?apiKey={KEY}")),
        )
        .mount(&h.server)
        .await;
    let err = h
        .client
        .sports(&SportsRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(err, OddsApiError::Server { .. }), "{err:?}");
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let h = Harness::with(|s| {
        s.request_timeout = Duration::from_millis(100);
        s.max_attempts = 2;
    })
    .await;
    Mock::given(path("/v4/sports"))
        .respond_with(ok_json("[]".into()).set_delay(Duration::from_secs(2)))
        .mount(&h.server)
        .await;
    let err = h
        .client
        .sports(&SportsRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, OddsApiError::Timeout { attempts: 2, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported_without_the_url() {
    let h = Harness::new().await;
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings =
        OddsApiSettings::for_base_url(format!("http://127.0.0.1:{port}"), Secret::new(KEY));
    let client = OddsApiClient::new(&settings).unwrap();
    let err = client.odds(&nba_odds_request()).await.unwrap_err();
    assert!(
        matches!(err, OddsApiError::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn requests_the_api_would_refuse_are_not_sent() {
    let h = Harness::new().await;
    let request = ScoresRequest {
        sport: "basketball_nba".into(),
        days_from: Some(5),
        ..ScoresRequest::default()
    };
    let err = h.client.scores(&request).await.unwrap_err();
    assert!(
        matches!(err, OddsApiError::InvalidRequest { .. }),
        "{err:?}"
    );
    assert_eq!(h.requests().await, 0);
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_keeps_it() {
    let h = Harness::new().await;
    Mock::given(path("/simulator/v4/sports"))
        .respond_with(ok_json(fixture("sports.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    let settings =
        OddsApiSettings::for_base_url(format!("{}/simulator/", h.server.uri()), Secret::new(KEY));
    let client = OddsApiClient::new(&settings).unwrap();
    let response = client.sports(&SportsRequest::default()).await.unwrap();
    assert_eq!(response.data.items.len(), 3);
    h.assert_key_absent();
}

#[tokio::test]
async fn debug_output_hides_the_key() {
    let h = Harness::new().await;
    let shown = format!("{:?}", h.client);
    assert!(shown.contains("[redacted]"), "{shown}");
    assert!(!shown.contains(KEY), "{shown}");
    let missing = OddsApiClient::new(&OddsApiSettings::default()).unwrap_err();
    assert!(matches!(missing, OddsApiError::Setup(_)));
}

#[tokio::test]
async fn a_burst_is_held_to_the_configured_rate() {
    let h = Harness::with(|s| s.rate_per_sec = 10.0).await;
    Mock::given(path("/v4/sports"))
        .respond_with(ok_json("[]".into()))
        .mount(&h.server)
        .await;
    let started = Instant::now();
    let calls = (0..20).map(|_| {
        let client = h.client.clone();
        async move { client.sports(&SportsRequest::default()).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let elapsed = started.elapsed();
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(h.requests().await, 20);
    // 20 calls at 10 per second after a burst of two: the 20th may leave no sooner than 1.8 s in.
    assert!(elapsed >= Duration::from_millis(1_750), "{elapsed:?}");
    h.assert_key_absent();
}

#[tokio::test]
async fn retry_after_is_honoured_and_counts_against_the_call_budget() {
    let h = Harness::new().await;
    Mock::given(path("/v4/sports/basketball_nba/events"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    Mock::given(path("/v4/sports/basketball_nba/events"))
        .respond_with(ok_json(fixture("events_2025-12-05.json")))
        .mount(&h.server)
        .await;
    let started = Instant::now();
    let response = h.client.events(&nba_events_request()).await.unwrap();
    // The backoff here is 10-50 ms; the API asked for a second.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(response.attempts, 2);

    // A wait longer than what is left of the call's budget is not started.
    let h = Harness::with(|s| s.call_budget = Duration::from_secs(5)).await;
    Mock::given(path("/v4/sports/basketball_nba/events"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "20"))
        .mount(&h.server)
        .await;
    let started = Instant::now();
    let err = h.client.events(&nba_events_request()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            err,
            OddsApiError::RateLimited {
                attempts: 1,
                retry_after: Some(wait),
                ..
            } if wait == Duration::from_secs(20)
        ),
        "{err:?}"
    );
    assert_eq!(h.requests().await, 1);
    h.assert_error_clean(&err);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_without_reading_it_all() {
    let h = Harness::with(|s| s.max_body_bytes = 64 * 1024).await;
    let big = format!("[{}]", vec!["{\"id\":\"x\"}"; 20_000].join(","));
    Mock::given(path("/v4/sports/basketball_nba/odds"))
        .respond_with(with_quota(ok_json(big), "490", "10", "3"))
        .mount(&h.server)
        .await;
    let err = h.client.odds(&nba_odds_request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            OddsApiError::TooLarge {
                status: 200,
                limit: 65_536,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_transient(), "not retried");
    assert_eq!(h.requests().await, 1);
    // What the call cost is still known.
    assert_eq!(err.quota().last, Some(3));
    assert!(err.to_string().contains("ODDS_API_MAX_BODY_MB"), "{err}");
    h.assert_error_clean(&err);
}
