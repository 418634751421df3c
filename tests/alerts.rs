//! Alerts end to end: the jobs against a fake Odds API, a webhook faked with wiremock, a real
//! PostgreSQL and a virtual clock.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use odds_core::clock::VirtualClock;
use odds_core::secret::Secret;
use odds_jobs::alerts::{AlertFormat, AlertSettings, Notifier};
use odds_jobs::{DatabaseScheduler, JobContext, JobName, JobSettings, RunOutcome, Trigger, invoke};
use odds_sources::odds_api::{OddsApiClient, OddsApiSettings};
use odds_tests::TestDb;
use odds_tests::fake_api::FakeOddsApi;
use odds_tests::fixtures::{odds_slate, slate_time};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "0123456789abcdef0123456789abcdef";
const HOOK_SECRET: &str = "hook-secret-token-9f8e7d";

fn context(
    db: &TestDb,
    api: &FakeOddsApi,
    clock: &Arc<VirtualClock>,
    hook: &str,
    format: AlertFormat,
) -> JobContext {
    let mut settings = OddsApiSettings::for_base_url(api.url(), Secret::new(KEY));
    settings.max_attempts = 1;
    let alerts = AlertSettings {
        webhook: Some(Secret::new(hook)),
        format,
        timeout: std::time::Duration::from_secs(1),
    };
    JobContext {
        alerts: Notifier::new(&alerts),
        ..JobContext::new(
            db.store.clone(),
            clock.clone(),
            Some(OddsApiClient::new(&settings).unwrap()),
            Arc::new(DatabaseScheduler::new(db.store.clone(), "local")),
            JobSettings::default(),
        )
    }
}

async fn webhook(status: u16, delay: std::time::Duration) -> (MockServer, String) {
    let server = MockServer::start().await;
    let route = format!("/services/T0/B0/{HOOK_SECRET}");
    Mock::given(method("POST"))
        .and(path(route.clone()))
        .respond_with(ResponseTemplate::new(status).set_delay(delay))
        .mount(&server)
        .await;
    let url = format!("{}{route}", server.uri());
    (server, url)
}

async fn messages(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

fn at(minutes: i64) -> DateTime<Utc> {
    slate_time() + Duration::minutes(minutes)
}

#[tokio::test]
async fn an_outage_is_told_once_and_its_end_once() {
    let db = TestDb::new().await;
    let api = FakeOddsApi::start().await;
    api.fail_everything(503).await;
    let clock = Arc::new(VirtualClock::new(at(0)));
    let (hook, url) = webhook(200, std::time::Duration::ZERO).await;
    let ctx = context(&db, &api, &clock, &url, AlertFormat::Slack);

    // Three failed runs in a row: one critical message, in Slack's shape.
    for minute in 0..3 {
        clock.set(at(minute));
        let run = invoke(&ctx, JobName::FetchOdds, &Trigger::forced()).await;
        assert_eq!(run.outcome, RunOutcome::Failed);
    }
    let told = messages(&hook).await;
    assert_eq!(told.len(), 1, "{told:?}");
    let text = told[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("[critical] odds collector api_failures"),
        "{text}"
    );
    assert!(text.contains("503"), "{text}");
    // The stale chain follows from the outage: not told separately. Still failing later:
    // nothing new.
    clock.set(at(3));
    invoke(&ctx, JobName::FetchOdds, &Trigger::forced()).await;
    assert_eq!(messages(&hook).await.len(), 1);

    // Back at minute 10: fine again, but too soon after the alert to speak.
    api.serve_slate(&odds_slate()).await;
    clock.set(at(10));
    let run = invoke(&ctx, JobName::FetchOdds, &Trigger::forced()).await;
    assert_eq!(run.outcome, RunOutcome::Success, "{run:?}");
    assert_eq!(messages(&hook).await.len(), 1);
    // At minute 31 any run tells the resolution, once.
    for minute in [31, 33] {
        clock.set(at(minute));
        invoke(&ctx, JobName::UpdateStatus, &Trigger::manual()).await;
    }
    let told = messages(&hook).await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(
        told[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("[resolved] odds collector api_failures"),
        "{told:?}"
    );
}

#[tokio::test]
async fn a_failing_or_hanging_webhook_never_fails_a_run_nor_shows_its_url() {
    let logs = odds_tests::logs::CapturedLogs::start();
    let db = TestDb::new().await;
    let api = FakeOddsApi::start().await;
    api.fail_everything(500).await;
    let clock = Arc::new(VirtualClock::new(at(0)));
    // A hook that hangs far beyond the one-second timeout, in Discord's shape.
    let (hook, url) = webhook(200, std::time::Duration::from_secs(30)).await;
    let ctx = context(&db, &api, &clock, &url, AlertFormat::Discord);
    for minute in 0..3 {
        clock.set(at(minute));
        let run = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            invoke(&ctx, JobName::FetchOdds, &Trigger::forced()),
        )
        .await
        .expect("the run is not held by the webhook");
        assert_eq!(
            run.outcome,
            RunOutcome::Failed,
            "the API's failure, not the hook's"
        );
        assert!(!run.error.unwrap_or_default().contains("webhook"));
    }
    let told = messages(&hook).await;
    assert_eq!(told.len(), 1, "the third run tried: {told:?}");
    assert!(
        told[0]["content"]
            .as_str()
            .unwrap()
            .contains("api_failures"),
        "{told:?}"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM alert_state").await,
        0,
        "undelivered: not recorded, so it is tried again"
    );
    let logged = logs.text();
    assert!(logged.contains("alert not delivered"), "{logged}");
    assert!(
        !logged.contains(HOOK_SECRET),
        "the webhook URL was logged: {logged}"
    );
    // Nor in the settings' Debug output.
    let settings = AlertSettings {
        webhook: Some(Secret::new(url.clone())),
        ..AlertSettings::default()
    };
    assert!(!format!("{settings:?}").contains(HOOK_SECRET));
    assert!(!format!("{:?}", Notifier::new(&settings)).contains(HOOK_SECRET));
}

#[tokio::test]
async fn the_watchdog_tells_of_a_dead_chain_once() {
    let db = TestDb::new().await;
    let api = FakeOddsApi::start().await;
    api.serve_slate(&odds_slate()).await;
    let clock = Arc::new(VirtualClock::new(at(0)));
    let (hook, url) = webhook(200, std::time::Duration::ZERO).await;
    let ctx = context(&db, &api, &clock, &url, AlertFormat::Slack);
    for job in [
        JobName::FetchOdds,
        JobName::FetchScores,
        JobName::UpdateStatus,
    ] {
        invoke(&ctx, job, &Trigger::forced()).await;
    }
    assert_eq!(messages(&hook).await.len(), 0, "healthy: silent");
    // The fetch-odds rule is deleted (here: its armed time cleared).
    db.client()
        .await
        .execute(
            "UPDATE job_state SET next_run_at = NULL WHERE job_name = 'fetch-odds'",
            &[],
        )
        .await
        .unwrap();
    clock.set(at(5));
    let watch = invoke(&ctx, JobName::FetchOdds, &Trigger::watchdog()).await;
    assert!(watch.next_run_at.is_some(), "re-armed: {watch:?}");
    let told = messages(&hook).await;
    assert_eq!(told.len(), 1, "{told:?}");
    let text = told[0]["text"].as_str().unwrap();
    assert!(
        text.contains("chain:fetch-odds") && text.contains("re-armed"),
        "{text}"
    );
    // The next watchdog pass finds it armed: nothing more.
    clock.set(at(10));
    invoke(&ctx, JobName::FetchOdds, &Trigger::watchdog()).await;
    assert_eq!(messages(&hook).await.len(), 1);
}
