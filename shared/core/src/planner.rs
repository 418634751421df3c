//! When to run each job next: pure functions of `now`, the known games and the fetches made.
//!
//! Odds. The collection policy ([`crate::requirements`]) says what every game needs; the next
//! `/odds` call is the earliest deadline among every known game's unmet needs, which gives the
//! fewest calls that meet them all. Between fetches the job wakes every `rediscover` to look
//! for new listings and tip-off changes through the free `/events` endpoint, and re-plans.
//!
//! Scores are fetched when games should have ended, then retried until final. Status changes
//! (scheduled to live) happen at tip-off and cost nothing.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::budget::{BudgetSettings, Spend, allot, refusal};
use crate::model::FetchTier;
use crate::requirements::{
    CollectionPolicy, GameView, PlannedFetch, Requirement, Rules, next_allowed,
};
use crate::settings::{ConfigError, Vars};
use crate::time::utc_midnight;

#[derive(Debug, Clone, PartialEq)]
pub struct PlannerSettings {
    /// Games further out than this are ignored (no credits spent on them).
    pub lookahead: Duration,
    /// What every game must get.
    pub policy: CollectionPolicy,
    /// The monthly credit budget, if any, and the reserve kept for closing captures.
    pub budget: BudgetSettings,
    /// How often fetch-odds looks for new games and tip-off changes (free) between fetches.
    pub rediscover: Duration,
    /// How often to look for games when none is known.
    pub idle_check: Duration,
    /// When a game should be over, counted from tip-off.
    pub game_duration: Duration,
    /// How long to wait before asking again for a game that should be over but is not final.
    pub scores_retry: Duration,
    /// Games tipping within this long of a night's first game are scored together.
    pub scores_batch: Duration,
    /// The Odds API keeps completed games for 3 days; older ones are left to the NBA.com
    /// backfill.
    pub scores_give_up: Duration,
}

impl Default for PlannerSettings {
    fn default() -> Self {
        PlannerSettings {
            lookahead: Duration::days(7),
            policy: CollectionPolicy::standard(),
            budget: BudgetSettings::default(),
            rediscover: Duration::hours(6),
            idle_check: Duration::hours(24),
            game_duration: Duration::minutes(150),
            scores_retry: Duration::minutes(20),
            scores_batch: Duration::hours(8),
            scores_give_up: Duration::days(3),
        }
    }
}

impl PlannerSettings {
    pub fn from_vars(vars: &Vars) -> Result<PlannerSettings, ConfigError> {
        let d = PlannerSettings::default();
        // Every value has a range: zero or absurd values would spin a job or overflow a time.
        let settings = PlannerSettings {
            lookahead: Duration::days(
                vars.parse_or("SCHEDULER_LOOKAHEAD_DAYS", d.lookahead.num_days(), |n| {
                    (1..=60).contains(n)
                })
                .map_err(|e| ConfigError::new(e.var, format!("{} (1..=60 days)", e.message)))?,
            ),
            policy: CollectionPolicy::from_vars(vars)?,
            budget: BudgetSettings::from_vars(vars)?,
            rediscover: vars.minutes_or("REDISCOVER_MINUTES", d.rediscover, 10..=1_440)?,
            idle_check: d.idle_check,
            game_duration: vars.minutes_or("GAME_DURATION_MINUTES", d.game_duration, 60..=600)?,
            scores_retry: vars.minutes_or("SCORES_RETRY_MINUTES", d.scores_retry, 5..=1_440)?,
            scores_batch: d.scores_batch,
            scores_give_up: d.scores_give_up,
        };
        Ok(settings)
    }
}

/// Why a run is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// The original system's rules (simulator only).
    FirstFetch,
    Interval,
    /// An `/odds` fetch at the deadline of a game's requirement.
    Requirement,
    /// A free look at the listing; the next fetch is later.
    Discover,
    /// Nothing to spend credits on; look again later.
    Idle,
    ScoresDue,
    ScoresRetry,
    TipOff,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub at: DateTime<Utc>,
    pub kind: PlanKind,
    /// The tier of the game whose requirement the fetch serves, at `at`.
    pub tier: Option<FetchTier>,
    pub reason: String,
    /// For an `/odds` fetch: the requirement whose deadline it is.
    pub requirement: Option<Requirement>,
    /// What the budget left out: dropped requirements, and fetches refused.
    pub dropped: Vec<Dropped>,
}

/// A requirement the credit budget left out: for every game (dropped to fit the month's
/// projection), or for one game whose fetch the budget or the reserve refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    pub requirement: Requirement,
    pub event_id: Option<String>,
    pub why: String,
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.requirement, self.why)
    }
}

impl Plan {
    pub fn new(at: DateTime<Utc>, kind: PlanKind, tier: Option<FetchTier>, reason: String) -> Plan {
        Plan {
            at,
            kind,
            tier,
            reason,
            requirement: None,
            dropped: Vec::new(),
        }
    }

    /// Whether a job invoked at `now` should do the paid work of this plan. EventBridge fires
    /// on whole minutes, so a minute of slack.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        !matches!(self.kind, PlanKind::Idle | PlanKind::Discover)
            && self.at <= now + Duration::seconds(60)
    }
}

/// The next `/odds` fetch for the collectable games, given the successful `/odds` calls made
/// (sorted; those since the earliest game came into view are enough) and what has been spent.
pub fn next_odds_fetch(
    now: DateTime<Utc>,
    games: &[GameView],
    fetches: &[DateTime<Utc>],
    s: &PlannerSettings,
    spend: &Spend,
) -> Plan {
    let allotment = allot(
        now,
        games,
        fetches,
        &s.policy,
        s.lookahead,
        spend,
        &s.budget,
    );
    let rules = Rules {
        policy: &s.policy,
        active: &allotment.active,
        lookahead: s.lookahead,
    };
    let mut dropped: Vec<Dropped> = allotment
        .dropped
        .iter()
        .map(|r| Dropped {
            requirement: *r,
            event_id: None,
            why: "dropped to fit the month's budget".into(),
        })
        .collect();
    let mut refuse = |f: &PlannedFetch| refusal(now, f, spend, &s.budget, allotment.paced);
    let (next, refused) = next_allowed(now, games, fetches, &rules, &mut refuse);
    dropped.extend(refused.into_iter().map(|(f, why)| Dropped {
        requirement: f.requirement,
        event_id: Some(f.event_id),
        why: format!("{}: {why}", f.matchup),
    }));
    // A refusal may lift when the spend allowed grows (each UTC day, and each billing month):
    // look again then, not a whole rediscovery later.
    let wake = if dropped.iter().any(|d| d.event_id.is_some()) {
        (now + s.rediscover).min(utc_midnight(now.date_naive() + chrono::Days::new(1)))
    } else {
        now + s.rediscover
    };
    let mut plan = match next {
        // A look at the listing never lands within a minute before the fetch, where
        // `Plan::is_due` would take the fetch early.
        Some(next) if next.at <= wake + Duration::seconds(60) => fetch_plan(&next),
        Some(next) => Plan::new(
            wake,
            PlanKind::Discover,
            None,
            format!(
                "look for new games; the next fetch is at {} ({} of {})",
                next.at, next.requirement, next.matchup
            ),
        ),
        None if games.is_empty() => Plan::new(
            now + s.idle_check,
            PlanKind::Idle,
            None,
            "no game listed: no credits spent".into(),
        ),
        None if dropped.is_empty() => Plan::new(
            wake,
            PlanKind::Idle,
            None,
            "every listed game has what the policy asks".into(),
        ),
        None => Plan::new(
            wake,
            PlanKind::Idle,
            None,
            "nothing the budget affords".into(),
        ),
    };
    if let Some(projection) = &allotment.projection {
        plan.reason = format!(
            "{}; month projected at {} of {} credits",
            plan.reason,
            projection.total(),
            s.budget.monthly_credits.unwrap_or_default()
        );
    }
    if !dropped.is_empty() {
        // The reason is a line of `odds status`: the first few, and how many more.
        let mut listed: Vec<String> = dropped.iter().take(3).map(|d| d.to_string()).collect();
        if dropped.len() > 3 {
            listed.push(format!("and {} more", dropped.len() - 3));
        }
        plan.reason = format!("{}; left out: {}", plan.reason, listed.join(", "));
    }
    plan.dropped = dropped;
    plan
}

/// The plan of a fetch, explained by the requirement whose deadline it is.
fn fetch_plan(next: &PlannedFetch) -> Plan {
    Plan {
        requirement: Some(next.requirement),
        ..Plan::new(
            next.at,
            PlanKind::Requirement,
            Some(FetchTier::for_times(next.at, next.commence_time)),
            explain(next),
        )
    }
}

fn explain(next: &PlannedFetch) -> String {
    let also = match (next.needs_served, next.games_served) {
        (0 | 1, _) => String::new(),
        (n, g) => format!("; serves {n} requirements of {g} games"),
    };
    format!(
        "{} of {} (tip-off {}){also}",
        next.requirement,
        next.matchup,
        next.commence_time.format("%Y-%m-%d %H:%MZ")
    )
}

/// A game that has tipped off and is not final yet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PendingGame {
    pub commence_time: DateTime<Utc>,
}

/// The next `/scores` call. One call (with `daysFrom`) reports every game of a night, so it is
/// made when the night's last game should be over (games tipping within `scores_batch` of the
/// night's first game are one night), then every `scores_retry` while any is not final. Games
/// older than `scores_give_up` are not asked for (the API no longer has them).
pub fn next_scores_fetch(
    now: DateTime<Utc>,
    pending: &[PendingGame],
    upcoming: &[DateTime<Utc>],
    last_fetch: Option<DateTime<Utc>>,
    s: &PlannerSettings,
) -> Plan {
    let askable: Vec<DateTime<Utc>> = pending
        .iter()
        .map(|g| g.commence_time)
        .filter(|c| *c > now - s.scores_give_up)
        .collect();
    let upcoming: Vec<DateTime<Utc>> = upcoming
        .iter()
        .copied()
        .filter(|c| *c > now && *c <= now + s.lookahead)
        .collect();
    let night_end = |first: DateTime<Utc>| {
        askable
            .iter()
            .chain(&upcoming)
            .filter(|c| **c >= first && **c <= first + s.scores_batch)
            .map(|c| *c + s.game_duration)
            .max()
            .unwrap_or(first + s.game_duration)
    };
    if let Some(first) = askable.iter().min().copied() {
        let end = night_end(first);
        if end <= now {
            let (at, kind) = match last_fetch {
                Some(last) if last >= end => {
                    ((last + s.scores_retry).max(now), PlanKind::ScoresRetry)
                }
                _ => (now, PlanKind::ScoresDue),
            };
            return Plan::new(
                at,
                kind,
                None,
                format!("{} game(s) should be over and are not final", askable.len()),
            );
        }
        return Plan::new(
            end,
            PlanKind::ScoresDue,
            None,
            format!("the night's last game should end at {end}"),
        );
    }
    match upcoming.iter().min().copied() {
        Some(first) => Plan::new(
            night_end(first),
            PlanKind::ScoresDue,
            None,
            format!("the games from {first} should be over then"),
        ),
        None => Plan::new(
            now + s.idle_check,
            PlanKind::Idle,
            None,
            "no game pending or within the look-ahead".into(),
        ),
    }
}

/// The next status pass: at the next tip-off, or daily when none is near.
pub fn next_status_update(
    now: DateTime<Utc>,
    upcoming: &[DateTime<Utc>],
    s: &PlannerSettings,
) -> Plan {
    match upcoming.iter().filter(|c| **c > now).min() {
        Some(c) if *c <= now + s.idle_check => {
            Plan::new(*c, PlanKind::TipOff, None, format!("tip-off at {c}"))
        }
        _ => Plan::new(
            now + s.idle_check,
            PlanKind::Idle,
            None,
            "no tip-off within a day".into(),
        ),
    }
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
