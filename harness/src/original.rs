//! The original Python system's scheduling rules, replayed by the simulator as the baseline the
//! planner is measured against. Injected as a [`Policy`]; production never sees it.

use chrono::{DateTime, Duration, Utc};
use odds_core::FetchTier;
use odds_core::budget::Spend;
use odds_core::planner::{PendingGame, Plan, PlanKind, PlannerSettings};
use odds_core::requirements::{CollectionPolicy, GameView};
use odds_jobs::{Planner, Policy};
use serde::{Deserialize, Serialize};

/// Which rules a simulation follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyChoice {
    /// The planner with the `standard` collection policy, as in production by default.
    #[default]
    Standard,
    /// The planner with the `economy` collection policy.
    Economy,
    /// The original's rules: every odds fetch is driven by the closest game's tier (discovery
    /// included, so it always calls `/odds`), and scores are fetched every 6 hours while any
    /// game of the last 3 days is not final.
    Original,
}

impl std::str::FromStr for PolicyChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "standard" => Ok(PolicyChoice::Standard),
            "economy" => Ok(PolicyChoice::Economy),
            "original" => Ok(PolicyChoice::Original),
            other => Err(format!(
                "unknown policy '{other}' (standard, economy or original)"
            )),
        }
    }
}

impl PolicyChoice {
    pub fn policy(self) -> std::sync::Arc<dyn Policy> {
        match self {
            PolicyChoice::Standard | PolicyChoice::Economy => std::sync::Arc::new(Planner),
            PolicyChoice::Original => std::sync::Arc::new(Original),
        }
    }

    /// The requirements the run is judged by: the original is held to `standard`.
    pub fn requirements(self) -> CollectionPolicy {
        match self {
            PolicyChoice::Economy => CollectionPolicy::economy(),
            PolicyChoice::Standard | PolicyChoice::Original => CollectionPolicy::standard(),
        }
    }
}

/// The original's rules as a policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Original;

impl Policy for Original {
    /// The original had no free discovery: its `/odds` calls found the games.
    fn discovers_games(&self) -> bool {
        false
    }

    fn next_odds_fetch(
        &self,
        now: DateTime<Utc>,
        games: &[GameView],
        fetches: &[DateTime<Utc>],
        _settings: &PlannerSettings,
        _spend: &Spend,
    ) -> Plan {
        let tipoffs: Vec<DateTime<Utc>> = games.iter().map(|g| g.commence_time).collect();
        original_next_odds_fetch(now, &tipoffs, fetches.last().copied())
    }

    fn next_scores_fetch(
        &self,
        now: DateTime<Utc>,
        pending: &[PendingGame],
        _upcoming: &[DateTime<Utc>],
        last_fetch: Option<DateTime<Utc>>,
        _settings: &PlannerSettings,
    ) -> Plan {
        let recent = pending
            .iter()
            .any(|g| g.commence_time > now - Duration::days(3));
        original_next_scores_fetch(now, recent, last_fetch)
    }
}

/// The original's odds schedule: the closest game's tier interval after the last fetch; with
/// no game known, a daily `/odds` call doubles as discovery.
fn original_next_odds_fetch(
    now: DateTime<Utc>,
    tipoffs: &[DateTime<Utc>],
    last_fetch: Option<DateTime<Utc>>,
) -> Plan {
    let Some(last) = last_fetch else {
        return Plan::new(now, PlanKind::FirstFetch, None, "no fetch yet".into());
    };
    match tipoffs.iter().filter(|c| **c > last).min() {
        Some(c) => {
            let tier = FetchTier::for_times(last, *c);
            Plan::new(
                last + tier.interval(),
                PlanKind::Interval,
                Some(tier),
                format!("{tier} interval of the closest game"),
            )
        }
        None => Plan::new(
            last + Duration::hours(24),
            PlanKind::Interval,
            None,
            "daily check for games".into(),
        ),
    }
}

/// The original's scores schedule: every 6 hours while a game of the last 3 days is unfinished.
fn original_next_scores_fetch(
    now: DateTime<Utc>,
    unfinished_recent: bool,
    last_fetch: Option<DateTime<Utc>>,
) -> Plan {
    let at = last_fetch.map_or(now, |l| l + Duration::hours(6));
    if unfinished_recent {
        Plan::new(
            at.max(now - Duration::minutes(1)),
            PlanKind::ScoresDue,
            None,
            "6-hourly scores".into(),
        )
    } else {
        Plan::new(
            now + Duration::hours(6),
            PlanKind::Idle,
            None,
            "no unfinished recent game".into(),
        )
    }
}
