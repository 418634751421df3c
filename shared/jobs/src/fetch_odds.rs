//! fetch-odds: discover games through the free `/events` listing and apply the lifecycle rules,
//! then, when the policy says a fetch is due, price every game with one `/odds` call per sport
//! and ingest the slate. A fetch that is a game's closing capture also asks the per-event
//! endpoint for that game's `EVENT_MARKETS`, merged into the game's snapshot.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use odds_core::lifecycle::reconcile;
use odds_core::model::Event;
use odds_core::normalize::{merge_event_markets, parse_listing};
use odds_core::planner::Plan;
use odds_core::requirements::is_closing_capture;
use odds_core::settings::CollectionSettings;
use odds_sources::odds_api::{
    ApiErrorCode, CreditCost, Endpoint, EventsRequest, OddsApiError, OddsRequest,
};
use odds_store::ingest::{IngestError, IngestReport, ingest_odds_body, ingest_odds_data};

use crate::calls::{Answer, Call, credits};
use crate::context::JobContext;
use crate::error::JobError;
use crate::job::{Gate, JobName, Steps, WorkReport};
use crate::outlook::{event_markets_request, planning_inputs};

pub(crate) static STEPS: Steps = Steps {
    gate: |ctx, now| discover_then_judge(ctx, now).boxed(),
    run: |ctx, now| fetch_slates(ctx, now).boxed(),
    plan: |ctx, now| plan(ctx, now).boxed(),
};

/// The free part: list the games, record new ones and lifecycle changes, then ask the policy.
async fn discover_then_judge(ctx: &JobContext, now: DateTime<Utc>) -> Result<Gate, JobError> {
    let mut listed = 0;
    if ctx.policy.discovers_games() {
        listed = discover(ctx, now).await?;
    }
    Ok(Gate::from_plan(plan(ctx, now).await?, now, listed))
}

/// Reads the free `/events` listing of every sport, stores what it shows and applies the
/// lifecycle transitions it implies. Returns how many games are listed.
async fn discover(ctx: &JobContext, now: DateTime<Utc>) -> Result<usize, JobError> {
    let client = ctx.odds_api()?;
    let window_end = now + ctx.settings.planner.lookahead;
    let mut listed: Vec<Event> = Vec::new();
    let mut issues = Vec::new();
    for sport in &ctx.settings.collection.sports {
        let request = EventsRequest {
            sport: sport.clone(),
            commence_time_from: Some(now),
            commence_time_to: Some(window_end),
            ..EventsRequest::default()
        };
        let call = Call::start(JobName::FetchOdds, Endpoint::Events, sport, now);
        let result = client.events(&request).await;
        let count = result.as_ref().ok().map(|r| r.data.items.len());
        call.log(&ctx.store, Answer::of(&result, count)).await;
        let response = match result {
            Ok(response) => response,
            Err(e) if skips_unknown_sport(ctx, sport, &e) => continue,
            Err(e) => return Err(e.into()),
        };
        // The same rules build a game from a listing as from an `/odds` body.
        match parse_listing(&response.raw, sport) {
            Ok((events, found)) => {
                listed.extend(events);
                issues.extend(found);
            }
            Err(e) => issues.push(e.to_issue()),
        }
    }
    if !issues.is_empty() {
        ctx.store.log_data_quality_issues(&issues).await?;
    }
    let known = ctx.store.known_games(window_end).await?;
    let transitions = reconcile(&known, &listed, now, window_end, &ctx.settings.lifecycle);
    ctx.store.apply_listing(&listed, &transitions, now).await?;
    Ok(listed.len())
}

/// The paid part: one `/odds` call per sport, each body ingested as it arrives.
async fn fetch_slates(ctx: &JobContext, now: DateTime<Utc>) -> Result<WorkReport, JobError> {
    let client = ctx.odds_api()?;
    let collection = &ctx.settings.collection;
    let mut report = WorkReport::default();
    let closing = closing_captures(ctx, now).await?;
    for sport in &collection.sports {
        let mut request = slate_request(collection, sport);
        // Started games are not collected: asking only for later tip-offs also costs nothing
        // when every game of the slate has started.
        request.commence_time_from = Some(now);
        request.commence_time_to = Some(now + ctx.settings.planner.lookahead);
        let call = Call::start(JobName::FetchOdds, Endpoint::Odds, sport, now);
        let result = client.odds(&request).await;
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                call.log(&ctx.store, Answer::failed(&e)).await;
                if skips_unknown_sport(ctx, sport, &e) {
                    continue;
                }
                return Err(e.into());
            }
        };
        let ingested = if closing.is_empty() {
            ingest_odds_body(&ctx.store, &response.data, now, sport, &ctx.settings.ingest).await
        } else {
            let (ingested, credits) =
                with_event_markets(ctx, sport, &response.data, &closing, now).await;
            report.credits_used += credits;
            ingested
        };
        let answer = Answer {
            status: Some(response.status),
            quota: response.quota,
            events: ingested.as_ref().ok().map(|r| r.games_in_body),
            error: ingested.as_ref().err().map(|e| e.to_string()),
        };
        call.log(&ctx.store, answer).await;
        let ingested = ingested?;
        let cost = if ingested.games_in_body == 0 {
            0
        } else {
            request.credit_cost()
        };
        report.credits_used += credits(&response.quota, cost);
        report.events += ingested.games_in_response;
        report.snapshots_stored += ingested.write.snapshots_stored;
    }
    Ok(report)
}

/// The games this fetch is the closing capture of, when per-event markets are collected.
async fn closing_captures(
    ctx: &JobContext,
    now: DateTime<Utc>,
) -> Result<HashSet<String>, JobError> {
    let settings = &ctx.settings;
    if settings.collection.event_markets.is_empty() {
        return Ok(HashSet::new());
    }
    let inputs = planning_inputs(&ctx.store, &settings.planner, &settings.collection, now).await?;
    let closing = &settings.planner.policy.closing;
    Ok(inputs
        .games
        .iter()
        .filter(|g| is_closing_capture(g, &inputs.fetches, now, closing))
        .map(|g| g.event_id.clone())
        .collect())
}

/// Asks the per-event endpoint for the `EVENT_MARKETS` of each closing game of the slate,
/// merges the answers into the slate and ingests it; returns the credits the calls cost. A
/// failed per-event call is logged and leaves its game with the featured markets only.
async fn with_event_markets(
    ctx: &JobContext,
    sport: &str,
    body: &[u8],
    closing: &HashSet<String>,
    now: DateTime<Utc>,
) -> (Result<IngestReport, IngestError>, i64) {
    let settings = &ctx.settings;
    let Ok(mut slate) = serde_json::from_slice::<serde_json::Value>(body) else {
        // Not JSON: the usual door records why.
        return (
            ingest_odds_body(&ctx.store, body, now, sport, &settings.ingest).await,
            0,
        );
    };
    let mut spent = 0;
    if let (Ok(client), Some(games)) = (ctx.odds_api(), slate.as_array_mut()) {
        for game in games.iter_mut() {
            let Some(id) = game.get("id").and_then(|v| v.as_str()).map(str::to_string) else {
                continue;
            };
            if !closing.contains(&id) {
                continue;
            }
            let request = event_markets_request(&settings.collection, sport, &id);
            let call = Call::start(JobName::FetchOdds, Endpoint::EventOdds, sport, now);
            let result = client.event_odds(&request).await;
            call.log(&ctx.store, Answer::of(&result, Some(1))).await;
            match result {
                Ok(answer) => {
                    spent += credits(&answer.quota, request.credit_cost());
                    merge_event_markets(game, &answer.raw);
                }
                Err(e) => {
                    spent += e.quota().last.unwrap_or(0);
                    tracing::warn!(event_id = %id, error = %e, "per-event markets not collected");
                }
            }
        }
    }
    (
        ingest_odds_data(&ctx.store, slate, now, sport, &settings.ingest).await,
        spent,
    )
}

/// Whether a failed call is skipped: a sport the API does not know will not come back by
/// retrying, so while other sports are collected it is logged (the call is in `fetch_logs` too)
/// and left out of this run.
fn skips_unknown_sport(ctx: &JobContext, sport: &str, e: &OddsApiError) -> bool {
    let unknown = matches!(
        e.code(),
        Some(ApiErrorCode::UnknownSport | ApiErrorCode::InvalidSport)
    );
    let skipped = unknown && ctx.settings.collection.sports.len() > 1;
    if skipped {
        tracing::error!(sport, error = %e, "sport skipped: The Odds API does not know it");
    }
    skipped
}

async fn plan(ctx: &JobContext, now: DateTime<Utc>) -> Result<Plan, JobError> {
    let settings = &ctx.settings;
    let inputs = planning_inputs(&ctx.store, &settings.planner, &settings.collection, now).await?;
    Ok(ctx.policy.next_odds_fetch(
        now,
        &inputs.games,
        &inputs.fetches,
        &settings.planner,
        &inputs.spend,
    ))
}

/// The `/odds` request of one sport's slate: the chosen books, or the regions when none is.
pub(crate) fn slate_request(collection: &CollectionSettings, sport: &str) -> OddsRequest {
    let mut request =
        OddsRequest::for_bookmakers(sport, &collection.markets, &collection.bookmakers);
    if request.bookmakers.is_empty() {
        request.regions = collection.regions.clone();
    }
    request
}
