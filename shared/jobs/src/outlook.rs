//! What the planner sees and foresees. fetch-odds plans its next call from the same inputs
//! `odds plan` shows ahead: the collectable games, the `/odds` fetches made since they came
//! into view, and what this billing month has spent.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use odds_core::budget::{Allotment, Projection, Spend, allot, project, refusal};
use odds_core::planner::PlannerSettings;
use odds_core::requirements::{GameView, PlannedFetch, Requirement, Rules, plan_until};
use odds_core::settings::CollectionSettings;
use odds_core::time::utc_midnight;
use odds_sources::odds_api::{CreditCost, Endpoint, EventOddsRequest};
use odds_store::{Store, StoreError};
use serde::Serialize;

use crate::fetch_odds::slate_request;

pub struct PlanningInputs {
    pub games: Vec<GameView>,
    /// Successful `/odds` calls since the earliest game came into view, oldest first.
    pub fetches: Vec<DateTime<Utc>>,
    pub spend: Spend,
}

pub async fn planning_inputs(
    store: &Store,
    planner: &PlannerSettings,
    collection: &CollectionSettings,
    now: DateTime<Utc>,
) -> Result<PlanningInputs, StoreError> {
    let games = store.collectable_games(now).await?;
    // Requirements start when a game comes into view, at most the look-ahead before tip-off.
    let since = games
        .iter()
        .map(|g| g.listed_at.max(g.commence_time - planner.lookahead))
        .min()
        .unwrap_or(now)
        .min(now - planner.lookahead);
    let fetches = store.successful_fetches(Endpoint::Odds, since).await?;
    let (month_start, _) = planner.budget.month_of(now);
    let month_spent = store
        .credit_use(month_start)
        .await?
        .iter()
        .map(|c| c.credits)
        .sum();
    let remaining = store.latest_quota().await?.and_then(|q| q.remaining);
    Ok(PlanningInputs {
        games,
        fetches,
        spend: Spend {
            month_spent,
            remaining,
            credits_per_fetch: round_cost(collection),
            credits_per_closing: closing_cost(collection),
        },
    })
}

/// The credits of one `/odds` round: one call per sport.
pub fn round_cost(collection: &CollectionSettings) -> i64 {
    collection
        .sports
        .iter()
        .map(|sport| i64::from(slate_request(collection, sport).credit_cost()))
        .sum()
}

impl Outlook {
    /// What one planned fetch costs, its closing captures' per-event markets included.
    pub fn credits_of(&self, fetch: &PlannedFetch) -> i64 {
        Spend {
            credits_per_fetch: self.credits_per_fetch,
            credits_per_closing: self.credits_per_closing,
            ..Spend::default()
        }
        .cost_of(fetch)
    }
}

/// The most the per-event markets of one game's closing capture cost: markets x regions.
pub fn closing_cost(collection: &CollectionSettings) -> i64 {
    match collection.sports.first() {
        Some(sport) if !collection.event_markets.is_empty() => {
            i64::from(event_markets_request(collection, sport, "").credit_cost())
        }
        _ => 0,
    }
}

/// The per-event request of one game's `EVENT_MARKETS`: the chosen books, or the regions.
pub(crate) fn event_markets_request(
    collection: &CollectionSettings,
    sport: &str,
    event_id: &str,
) -> EventOddsRequest {
    let slate = slate_request(collection, sport);
    EventOddsRequest {
        sport: sport.to_string(),
        event_id: event_id.to_string(),
        regions: slate.regions,
        markets: collection.event_markets.clone(),
        bookmakers: slate.bookmakers,
        ..EventOddsRequest::default()
    }
}

/// The coming fetches and the credits they project.
#[derive(Debug, Clone, Serialize)]
pub struct Outlook {
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub policy: String,
    pub credits_per_fetch: i64,
    /// The per-event markets of one game's closing capture (0 without `EVENT_MARKETS`).
    pub credits_per_closing: i64,
    pub fetches: Vec<PlannedFetch>,
    /// Requirements a monthly budget leaves out.
    pub dropped: Vec<Requirement>,
    /// The billing month, as the budget projects it.
    pub month: Projection,
    pub monthly_budget: Option<i64>,
    /// The season to 30 June: spent since 1 July, and the month's daily rate carried on.
    pub season_spent: i64,
    pub season_projected: i64,
    pub season_end: DateTime<Utc>,
}

/// The planning inputs at `now` and what the month's budget allots them.
pub async fn allotment(
    store: &Store,
    planner: &PlannerSettings,
    collection: &CollectionSettings,
    now: DateTime<Utc>,
) -> Result<(PlanningInputs, Allotment), StoreError> {
    let inputs = planning_inputs(store, planner, collection, now).await?;
    let allotment = allot(
        now,
        &inputs.games,
        &inputs.fetches,
        &planner.policy,
        planner.lookahead,
        &inputs.spend,
        &planner.budget,
    );
    Ok((inputs, allotment))
}

/// What the planner would do over the next `days`, if every fetch were made when planned.
pub async fn outlook(
    store: &Store,
    planner: &PlannerSettings,
    collection: &CollectionSettings,
    now: DateTime<Utc>,
    days: i64,
) -> Result<Outlook, StoreError> {
    let (inputs, allotment) = allotment(store, planner, collection, now).await?;
    let rules = Rules {
        policy: &planner.policy,
        active: &allotment.active,
        lookahead: planner.lookahead,
    };
    let until = now + Duration::days(days);
    // Each fetch as the planner will judge it then: against that month's spend so far.
    let budget = &planner.budget;
    let mut spend = inputs.spend;
    let mut month_start = budget.month_of(now).0;
    let mut refuse = |f: &PlannedFetch| {
        let this_month = budget.month_of(f.at).0;
        if this_month != month_start {
            month_start = this_month;
            spend.month_spent = 0;
        }
        let why = refusal(f.at, f, &spend, budget, allotment.paced);
        if why.is_none() {
            let cost = spend.cost_of(f);
            spend.month_spent += cost;
            spend.remaining = spend.remaining.map(|r| r - cost);
        }
        why
    };
    let fetches = plan_until(
        now,
        until,
        &inputs.games,
        &inputs.fetches,
        &rules,
        &mut refuse,
    );
    let month = project(
        now,
        &inputs.games,
        &inputs.fetches,
        &rules,
        &inputs.spend,
        &planner.budget,
    );
    let season_start_year = if now.month() >= 7 {
        now.year()
    } else {
        now.year() - 1
    };
    let day = |y: i32, m: u32| utc_midnight(NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default());
    let season_start = day(season_start_year, 7);
    let season_end = day(season_start_year + 1, 7);
    let season_spent: i64 = store
        .credit_use(season_start)
        .await?
        .iter()
        .map(|c| c.credits)
        .sum();
    // The month's forward rate (planned and extrapolated credits per day still to come).
    let ahead = (month.month_end - now).num_minutes().max(1);
    let month_ahead = month.planned_credits + month.extrapolated_credits;
    let rest = (season_end - month.month_end).num_minutes().max(0);
    let season_projected = season_spent + month_ahead + month_ahead * rest / ahead;
    Ok(Outlook {
        now,
        until,
        policy: planner.policy.name.to_string(),
        credits_per_fetch: inputs.spend.credits_per_fetch,
        credits_per_closing: inputs.spend.credits_per_closing,
        fetches,
        dropped: allotment.dropped,
        month,
        monthly_budget: planner.budget.monthly_credits,
        season_spent,
        season_projected,
        season_end,
    })
}
