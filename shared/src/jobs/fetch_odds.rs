//! fetch-odds: discover games through the free `/events` listing, then, when the planner says
//! a fetch is due, price every game with one `/odds` call per sport and store the slate.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Call, Gate, JobContext, JobError, JobName, WorkReport, credits};
use crate::ingest::ingest_slate;
use crate::lifecycle::reconcile;
use crate::model::{Event, QualityIssue, Severity};
use crate::normalize::parse_odds_value;
use crate::odds_api::{CreditCost, Endpoint, EventsRequest, OddsRequest};
use crate::schedule::planner::{next_odds_fetch, original_next_odds_fetch};
use crate::schedule::{Plan, Policy};

pub(super) async fn gate(ctx: &JobContext, now: DateTime<Utc>) -> Result<Gate, JobError> {
    if ctx.settings.policy == Policy::Original {
        // The original had no free discovery: its /odds calls found the games.
        let plan = plan(ctx, now).await?;
        return Ok(Gate {
            due: plan.is_due(now),
            reason: plan.reason,
            tier: plan.tier,
            events: 0,
        });
    }
    let client = ctx.odds_api()?;
    let window_end = now + ctx.settings.planner.lookahead;
    let mut listed = Vec::new();
    let mut issues = Vec::new();
    for sport in &ctx.settings.sports {
        let request = EventsRequest {
            sport: sport.clone(),
            commence_time_from: Some(now),
            commence_time_to: Some(window_end),
            ..EventsRequest::default()
        };
        let call = Call::start(JobName::FetchOdds, Endpoint::Events, sport, now);
        let result = client.events(&request).await;
        let count = result.as_ref().ok().map(|r| r.data.items.len());
        ctx.log_call(call, &result, count).await;
        let response = result?;
        for skipped in &response.data.skipped {
            issues.push(QualityIssue::new(
                skipped.id.as_deref(),
                Severity::Error,
                "malformed_event",
                format!("/events item {} skipped: {}", skipped.index, skipped.reason),
                json!({ "endpoint": "events", "index": skipped.index }),
            ));
        }
        for event in &response.data.items {
            match event.commence_time_utc() {
                Some(commence) => listed.push(Event::scheduled(
                    &event.id,
                    event.sport_key.as_deref().unwrap_or(sport),
                    &event.home_team,
                    &event.away_team,
                    commence,
                )),
                None => issues.push(QualityIssue::new(
                    Some(&event.id),
                    Severity::Error,
                    "malformed_event",
                    format!(
                        "/events game {} has an unreadable commence_time {:?}",
                        event.id, event.commence_time
                    ),
                    json!({ "endpoint": "events" }),
                )),
            }
        }
    }
    if !issues.is_empty() {
        ctx.store.log_data_quality_issues(&issues).await?;
    }
    let known = ctx.store.known_games(window_end).await?;
    let transitions = reconcile(&known, &listed, now, window_end, &ctx.settings.lifecycle);
    ctx.store.apply_listing(&listed, &transitions, now).await?;

    let plan = plan(ctx, now).await?;
    Ok(Gate {
        due: plan.is_due(now),
        reason: plan.reason,
        tier: plan.tier,
        events: listed.len(),
    })
}

pub(super) async fn run(ctx: &JobContext, now: DateTime<Utc>) -> Result<WorkReport, JobError> {
    let client = ctx.odds_api()?;
    let mut report = WorkReport::default();
    for sport in &ctx.settings.sports {
        let mut request = OddsRequest::for_bookmakers(
            sport.as_str(),
            &ctx.settings.markets,
            &ctx.settings.bookmakers,
        );
        if request.bookmakers.is_empty() {
            request.regions = ctx.settings.regions.clone();
        }
        // Started games are not collected: asking only for later tip-offs also costs nothing
        // when every game of the slate has started.
        request.commence_time_from = Some(now);
        request.commence_time_to = Some(now + ctx.settings.planner.lookahead);
        let call = Call::start(JobName::FetchOdds, Endpoint::Odds, sport, now);
        let result = client.odds(&request).await;
        let count = result
            .as_ref()
            .ok()
            .map(|r| r.data.items.len() + r.data.skipped.len());
        ctx.log_call(call, &result, count).await;
        let response = result?;
        let cost = if response.data.is_empty() {
            0
        } else {
            request.credit_cost()
        };
        report.credits_used += credits(&response.quota, cost);

        let mut slate = match parse_odds_value(&response.raw, now, sport) {
            Ok(slate) => slate,
            Err(e) => {
                ctx.store.log_data_quality_issue(&e.to_issue()).await?;
                continue;
            }
        };
        slate.snapshots.retain(|s| s.event.commence_time > now);
        report.events += slate.snapshots.len();
        let ingested = ingest_slate(&ctx.store, slate, &ctx.settings.ingest).await?;
        report.snapshots_stored += ingested.write.snapshots_stored;
    }
    Ok(report)
}

pub(super) async fn plan(ctx: &JobContext, now: DateTime<Utc>) -> Result<Plan, JobError> {
    let games = ctx.store.collectable_games(now).await?;
    let last = ctx
        .store
        .last_successful_fetch(Endpoint::Odds.as_str())
        .await?;
    Ok(match ctx.settings.policy {
        Policy::Planner => next_odds_fetch(now, &games, last, &ctx.settings.planner),
        Policy::Original => {
            let tipoffs: Vec<DateTime<Utc>> = games.iter().map(|g| g.commence_time).collect();
            original_next_odds_fetch(now, &tipoffs, last)
        }
    })
}
