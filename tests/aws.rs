//! The EventBridge backend and the job driver against moto (the AWS fake) on loopback.

use std::sync::Arc;

use aws_sdk_eventbridge::types::RuleState;
use chrono::{DateTime, Duration, Utc};
use odds_aws::Invocation;
use odds_aws::eventbridge::{EventBridgeScheduler, cron_expression};
use odds_core::clock::{Clock, VirtualClock};
use odds_core::secret::Secret;
use odds_jobs::{JobContext, JobName, JobSettings, RunOutcome, SchedulerBackend, Trigger, invoke};
use odds_sources::odds_api::{OddsApiClient, OddsApiSettings};
use odds_tests::TestDb;
use odds_tests::fake_api::FakeOddsApi;
use odds_tests::fixtures::{odds_slate, slate_time};
use odds_tests::moto::MotoServer;
use serde_json::Value;

const TARGET: &str = "arn:aws:lambda:us-east-1:123456789012:function:fetch-odds";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn eventbridge(moto: &MotoServer) -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::new(&moto.sdk_config().await)
}

async fn scheduler(client: &aws_sdk_eventbridge::Client, prefix: &str) -> EventBridgeScheduler {
    EventBridgeScheduler::new(client.clone(), prefix, TARGET)
}

async fn rule(
    client: &aws_sdk_eventbridge::Client,
    name: &str,
) -> (String, RuleState, Value, String) {
    let rule = client
        .describe_rule()
        .name(name)
        .send()
        .await
        .expect("rule exists");
    let targets = client
        .list_targets_by_rule()
        .rule(name)
        .send()
        .await
        .unwrap();
    let target = &targets.targets()[0];
    let input: Value = serde_json::from_str(target.input().unwrap()).unwrap();
    (
        rule.schedule_expression().unwrap().to_string(),
        rule.state().unwrap().clone(),
        input,
        target.arn().to_string(),
    )
}

#[tokio::test]
async fn the_rule_says_when_what_and_why() {
    let moto = MotoServer::start();
    let client = eventbridge(&moto).await;
    let backend = scheduler(&client, "odds").await;
    let now = t("2026-01-10T18:00:30Z");
    let armed = backend
        .schedule_job(
            JobName::FetchOdds,
            t("2026-01-10T20:59:10Z"),
            now,
            "closing boundary",
        )
        .await
        .unwrap();
    assert_eq!(
        armed,
        t("2026-01-10T21:00:00Z"),
        "rounded up to a whole minute"
    );
    let (expression, state, input, arn) = rule(&client, "odds-fetch-odds").await;
    assert_eq!(expression, "cron(0 21 10 1 ? 2026)");
    assert_eq!(state, RuleState::Enabled);
    assert_eq!(arn, TARGET);
    assert_eq!(input["job"], "fetch-odds");
    assert_eq!(input["reason"], "closing boundary");
    assert_eq!(input["scheduled_for"], "2026-01-10T21:00:00Z");
    let parsed: Invocation = serde_json::from_value(input).unwrap();
    assert_eq!(parsed.kind(), odds_jobs::TriggerKind::Scheduled);

    // A time in the past becomes the next whole minute at least a minute from now.
    let armed = backend
        .schedule_job(
            JobName::FetchOdds,
            t("2026-01-10T09:00:00Z"),
            now,
            "overdue",
        )
        .await
        .unwrap();
    assert_eq!(armed, t("2026-01-10T18:02:00Z"));
    assert_eq!(
        rule(&client, "odds-fetch-odds").await.0,
        cron_expression(armed)
    );

    // Each job has its own rule under the prefix.
    backend
        .schedule_job(
            JobName::FetchScores,
            t("2026-01-11T02:30:00Z"),
            now,
            "games end",
        )
        .await
        .unwrap();
    let names: Vec<String> = client
        .list_rules()
        .name_prefix("odds-")
        .send()
        .await
        .unwrap()
        .rules()
        .iter()
        .filter_map(|r| r.name().map(str::to_string))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[tokio::test]
async fn armed_reads_the_rule_back_and_sees_a_disabled_or_missing_one() {
    let moto = MotoServer::start();
    let client = eventbridge(&moto).await;
    let backend = scheduler(&client, "test").await;
    assert_eq!(backend.armed(JobName::UpdateStatus).await.unwrap(), None);
    let at = backend
        .schedule_job(
            JobName::UpdateStatus,
            t("2030-01-01T00:00:00Z"),
            t("2029-12-31T00:00:00Z"),
            "x",
        )
        .await
        .unwrap();
    let armed = backend.armed(JobName::UpdateStatus).await.unwrap().unwrap();
    assert_eq!((armed.at, armed.enabled), (at, true));
    client
        .disable_rule()
        .name("test-update-status")
        .send()
        .await
        .unwrap();
    assert!(
        !backend
            .armed(JobName::UpdateStatus)
            .await
            .unwrap()
            .unwrap()
            .enabled
    );
}

fn context(
    db: &TestDb,
    api: &FakeOddsApi,
    clock: &Arc<VirtualClock>,
    backend: EventBridgeScheduler,
) -> JobContext {
    JobContext::new(
        db.store.clone(),
        clock.clone(),
        Some(
            OddsApiClient::new(&OddsApiSettings::for_base_url(
                api.url(),
                Secret::new("k".repeat(32)),
            ))
            .unwrap(),
        ),
        Arc::new(backend),
        JobSettings::default(),
    )
}

#[tokio::test]
async fn a_run_arms_its_rule_and_the_watchdog_repairs_a_broken_chain() {
    let moto = MotoServer::start();
    let client = eventbridge(&moto).await;
    let db = TestDb::new().await;
    let api = FakeOddsApi::start().await;
    api.serve_slate(&odds_slate()).await;
    let clock = Arc::new(VirtualClock::new(slate_time()));
    let ctx = context(&db, &api, &clock, scheduler(&client, "odds").await);

    let summary = invoke(&ctx, JobName::FetchOdds, &Trigger::forced()).await;
    assert_eq!(summary.outcome, RunOutcome::Success, "{summary:?}");
    let (expression, state, input, _) = rule(&client, "odds-fetch-odds").await;
    assert_eq!(expression, cron_expression(summary.next_run_at.unwrap()));
    assert_eq!(expression, "cron(0 21 10 1 ? 2026)");
    assert_eq!(state, RuleState::Enabled);
    assert_eq!(input["reason"], summary.next_run_reason.clone().unwrap());

    // Someone disables the rule: the watchdog notices, runs what is due and re-arms.
    client
        .disable_rule()
        .name("odds-fetch-odds")
        .send()
        .await
        .unwrap();
    let watchdog = Invocation {
        watchdog: true,
        ..Invocation::default()
    }
    .trigger(JobName::FetchOdds);
    let repaired = invoke(&ctx, JobName::FetchOdds, &watchdog).await;
    assert!(repaired.next_run_at.is_some(), "{repaired:?}");
    assert_eq!(rule(&client, "odds-fetch-odds").await.1, RuleState::Enabled);
    // With the rule healthy the watchdog leaves it alone.
    let idle = invoke(&ctx, JobName::FetchOdds, &watchdog).await;
    assert!(
        idle.reason.starts_with("watchdog: next run armed"),
        "{idle:?}"
    );
}

#[tokio::test]
async fn when_put_rule_fails_the_data_is_kept_the_failure_recorded_and_the_watchdog_re_arms() {
    let moto = MotoServer::start();
    let db = TestDb::new().await;
    let api = FakeOddsApi::start().await;
    api.serve_slate(&odds_slate()).await;
    let clock = Arc::new(VirtualClock::new(slate_time()));

    // An EventBridge endpoint that refuses connections.
    let broken_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:1")
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "t", "t", None, None, "test",
        ))
        .load()
        .await;
    let broken = aws_sdk_eventbridge::Client::new(&broken_config);
    let ctx = context(&db, &api, &clock, scheduler(&broken, "odds").await);
    let summary = invoke(&ctx, JobName::FetchOdds, &Trigger::forced()).await;
    assert_eq!(summary.outcome, RunOutcome::Failed, "{summary:?}");
    assert!(
        summary
            .error
            .as_deref()
            .unwrap()
            .contains("could not arm the next run"),
        "{summary:?}"
    );
    assert_eq!(summary.snapshots_stored, 14, "the fetched slate is kept");
    assert_eq!(db.count("SELECT count(*) FROM odds_snapshots").await, 14);
    let state = db
        .store
        .job_state(JobName::FetchOdds)
        .await
        .unwrap()
        .unwrap();
    assert!(state.last_error.unwrap().contains("PutRule"));

    // The fixed-rate watchdog (its own rule, not this chain) fires later, with EventBridge back.
    let client = eventbridge(&moto).await;
    let ctx = context(&db, &api, &clock, scheduler(&client, "odds").await);
    clock.advance(Duration::minutes(30));
    let watchdog = Invocation {
        watchdog: true,
        ..Invocation::default()
    }
    .trigger(JobName::FetchOdds);
    let repaired = invoke(&ctx, JobName::FetchOdds, &watchdog).await;
    assert_ne!(repaired.outcome, RunOutcome::Failed, "{repaired:?}");
    let (expression, state, _, _) = rule(&client, "odds-fetch-odds").await;
    assert_eq!(state, RuleState::Enabled);
    assert_eq!(expression, cron_expression(repaired.next_run_at.unwrap()));
    assert_eq!(
        db.count("SELECT count(*) FROM odds_snapshots").await,
        14,
        "no duplicate fetch"
    );
}

#[tokio::test]
async fn a_busy_invocation_on_lambda_still_arms_its_rule() {
    let moto = MotoServer::start();
    let client = eventbridge(&moto).await;
    let db = TestDb::new().await;
    let api = FakeOddsApi::start().await;
    api.serve_slate(&odds_slate()).await;
    let clock = Arc::new(VirtualClock::new(slate_time()));
    let ctx = context(&db, &api, &clock, scheduler(&client, "odds").await);
    // A run killed mid-flight holds the lease; EventBridge delivers the next event anyway.
    db.store
        .try_acquire_lease(
            JobName::FetchOdds,
            "killed-run",
            clock.now(),
            ctx.settings.lease_ttl,
        )
        .await
        .unwrap();
    let busy = invoke(&ctx, JobName::FetchOdds, &Trigger::scheduled()).await;
    assert_eq!(busy.outcome, RunOutcome::Busy, "{busy:?}");
    let (expression, state, input, target) = rule(&client, "odds-fetch-odds").await;
    assert_eq!(expression, cron_expression(busy.next_run_at.unwrap()));
    assert_eq!(state, RuleState::Enabled);
    assert_eq!(target, TARGET);
    assert!(
        input["reason"].as_str().unwrap().contains("lease"),
        "{input}"
    );
}
