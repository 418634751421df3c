//! When to run each job next: pure functions of `now`, the known games and the last fetch.
//!
//! Odds. One `/odds` call prices every game, so the schedule is global. The next fetch is the
//! earliest of:
//! - **interval**: the last fetch plus the interval of the most urgent game's tier (the original
//!   rule), re-evaluated when that game tips off before the interval ends so a finished game
//!   does not keep the cadence tight;
//! - **tier boundary**: the moment the most urgent game crosses into a tighter tier (T-72 h,
//!   T-24 h, T-12 h, T-3 h), so a tier never starts without a fresh line;
//! - **window coverage**: every game must get a snapshot in every tier window it is listed for;
//!   a window with no fetch yet is fetched before it closes;
//! - **closing**: a fetch a few minutes before every distinct tip-off time, so every game has a
//!   true closing line.
//!
//! A regular fetch falling just before a closing fetch is moved onto it, to spend one call
//! instead of two. With no game within the look-ahead no credits are spent: the job only
//! rediscovers games through the free `/events` endpoint, at most daily.
//!
//! Scores are fetched when games should have ended, then retried until final. Status changes
//! (scheduled to live) happen at tip-off and cost nothing.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::FetchTier;
use crate::settings::{ConfigError, Vars};

#[derive(Debug, Clone, PartialEq)]
pub struct PlannerSettings {
    /// Games further out than this are ignored (no credits spent on them).
    pub lookahead: Duration,
    /// The closing fetch aims at this long before tip-off...
    pub closing_lead: Duration,
    /// ...and counts when it falls between `closing_window_start` and `closing_window_end`
    /// before tip-off.
    pub closing_window_start: Duration,
    pub closing_window_end: Duration,
    /// A regular fetch due at most this long before a closing fetch waits for it.
    pub merge_window: Duration,
    /// How often to look for games when none is within the look-ahead.
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
            closing_lead: Duration::minutes(5),
            closing_window_start: Duration::minutes(10),
            closing_window_end: Duration::minutes(2),
            merge_window: Duration::minutes(15),
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
        let minutes = |name: &'static str,
                       default: Duration,
                       range: std::ops::RangeInclusive<i64>|
         -> Result<Duration, ConfigError> {
            vars.parse_or(name, default.num_minutes(), |m| range.contains(m))
                .map_err(|e| {
                    ConfigError::new(
                        name,
                        format!(
                            "{} ({}..={} minutes)",
                            e.message,
                            range.start(),
                            range.end()
                        ),
                    )
                })
                .map(Duration::minutes)
        };
        let settings = PlannerSettings {
            lookahead: Duration::days(
                vars.parse_or("SCHEDULER_LOOKAHEAD_DAYS", d.lookahead.num_days(), |n| {
                    (1..=60).contains(n)
                })
                .map_err(|e| ConfigError::new(e.var, format!("{} (1..=60 days)", e.message)))?,
            ),
            closing_lead: minutes("CLOSING_LEAD_MINUTES", d.closing_lead, 1..=60)?,
            closing_window_start: minutes(
                "CLOSING_WINDOW_START_MINUTES",
                d.closing_window_start,
                1..=120,
            )?,
            closing_window_end: minutes(
                "CLOSING_WINDOW_END_MINUTES",
                d.closing_window_end,
                0..=59,
            )?,
            merge_window: d.merge_window,
            idle_check: d.idle_check,
            game_duration: minutes("GAME_DURATION_MINUTES", d.game_duration, 60..=600)?,
            scores_retry: minutes("SCORES_RETRY_MINUTES", d.scores_retry, 5..=1_440)?,
            scores_batch: d.scores_batch,
            scores_give_up: d.scores_give_up,
        };
        if !(settings.closing_window_start > settings.closing_lead
            && settings.closing_lead > settings.closing_window_end)
        {
            return Err(ConfigError {
                var: "CLOSING_LEAD_MINUTES",
                message: format!(
                    "must lie between CLOSING_WINDOW_END_MINUTES ({}) and CLOSING_WINDOW_START_MINUTES ({})",
                    settings.closing_window_end.num_minutes(),
                    settings.closing_window_start.num_minutes()
                ),
            });
        }
        Ok(settings)
    }
}

/// Why a run is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    FirstFetch,
    NewGame,
    Interval,
    TierBoundary,
    WindowCoverage,
    Closing,
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
    /// The most urgent game's tier at `at`, for odds plans.
    pub tier: Option<FetchTier>,
    pub reason: String,
}

impl Plan {
    pub fn new(at: DateTime<Utc>, kind: PlanKind, tier: Option<FetchTier>, reason: String) -> Plan {
        Plan {
            at,
            kind,
            tier,
            reason,
        }
    }

    /// Whether a job invoked at `now` should do the paid work of this plan. EventBridge fires
    /// on whole minutes, so a minute of slack.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.kind != PlanKind::Idle && self.at <= now + Duration::seconds(60)
    }
}

/// The tier of the most urgent game still to tip off at `at`.
pub fn overall_tier(at: DateTime<Utc>, tipoffs: &[DateTime<Utc>]) -> Option<FetchTier> {
    tipoffs
        .iter()
        .filter(|c| **c > at)
        .min()
        .map(|c| FetchTier::for_times(at, *c))
}

/// A game still to be played, as the odds planner sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GameView {
    pub commence_time: DateTime<Utc>,
    /// When the collector first saw it listed: windows before that cannot be covered.
    pub listed_at: DateTime<Utc>,
}

/// The next `/odds` fetch for the scheduled games, given the last successful `/odds` call.
pub fn next_odds_fetch(
    now: DateTime<Utc>,
    games: &[GameView],
    last_fetch: Option<DateTime<Utc>>,
    s: &PlannerSettings,
) -> Plan {
    let tipoffs: Vec<DateTime<Utc>> = games.iter().map(|g| g.commence_time).collect();
    let mut in_view: Vec<DateTime<Utc>> = tipoffs
        .iter()
        .copied()
        .filter(|c| *c > now && *c <= now + s.lookahead)
        .collect();
    in_view.sort();
    in_view.dedup();

    let Some(&first) = in_view.first() else {
        // Off-season or a break: wake when the next known game enters the look-ahead, and at
        // least daily to discover new ones.
        let entering = tipoffs
            .iter()
            .filter(|c| **c > now)
            .min()
            .map(|c| *c - s.lookahead);
        let at = entering
            .filter(|t| *t > now)
            .map_or(now + s.idle_check, |t| t.min(now + s.idle_check));
        return Plan::new(
            at,
            PlanKind::Idle,
            None,
            format!(
                "no game within {} days: no credits spent",
                s.lookahead.num_days()
            ),
        );
    };
    let tier_now = FetchTier::for_times(now, first);
    let Some(last) = last_fetch else {
        return Plan::new(
            now,
            PlanKind::FirstFetch,
            Some(tier_now),
            "no fetch yet".into(),
        );
    };
    let tier_at = |t: DateTime<Utc>| overall_tier(t, &in_view);
    let mut candidates: Vec<Plan> = Vec::new();

    // Interval, widened when the urgent game tips off before it ends.
    let mut at = last + tier_now.interval();
    for _ in 0..8 {
        match tier_at(at) {
            Some(tier) if last + tier.interval() > at => at = last + tier.interval(),
            _ => break,
        }
    }
    if tier_at(at).is_some() {
        candidates.push(Plan::new(
            at.max(now),
            PlanKind::Interval,
            tier_at(at),
            format!(
                "{} interval since the last fetch",
                tier_at(at).unwrap_or(tier_now)
            ),
        ));
    }

    // Tier boundaries of whichever game is the most urgent when it crosses.
    for c in &in_view {
        for tier in [
            FetchTier::Early,
            FetchTier::Sharp,
            FetchTier::Pregame,
            FetchTier::Closing,
        ] {
            let t = *c - hours(tier.max_hours());
            let before = tier_at(t - Duration::seconds(1));
            if t > last && tier_at(t) == Some(tier) && before.is_some_and(|b| b < tier) {
                candidates.push(Plan::new(
                    t.max(now),
                    PlanKind::TierBoundary,
                    Some(tier),
                    format!("most urgent game enters {tier} (tip-off {c})"),
                ));
            }
        }
    }

    // A newly listed game gets its opening line now.
    if let Some(game) = games.iter().find(|g| {
        g.listed_at > last && g.commence_time > now && g.commence_time <= now + s.lookahead
    }) {
        candidates.push(Plan::new(
            now,
            PlanKind::NewGame,
            Some(tier_now),
            format!("new game listed (tip-off {})", game.commence_time),
        ));
    }

    // Every tier window of every game, from when it was listed, gets at least one fetch.
    for game in games.iter().filter(|g| in_view.contains(&g.commence_time)) {
        let c = &game.commence_time;
        for &tier in FetchTier::ALL {
            let start = (*c - hours(tier.max_hours().min(s.lookahead.num_hours() as f64)))
                .max(game.listed_at);
            let end = *c - hours(tier.min_hours().max(0.0));
            if end <= now || last >= start || start >= end {
                continue;
            }
            let margin = Duration::minutes(10).min((end - start) / 4);
            candidates.push(Plan::new(
                (end - margin).max(start).max(now),
                PlanKind::WindowCoverage,
                tier_at((end - margin).max(now)),
                format!("{tier} window of the game at {c} has no snapshot yet"),
            ));
        }
    }

    // A closing line for every tip-off time.
    let mut closings = Vec::new();
    for c in &in_view {
        let window_start = *c - s.closing_window_start;
        let window_end = *c - s.closing_window_end;
        if last >= window_start || now > window_end {
            continue;
        }
        let at = (*c - s.closing_lead).max(now);
        closings.push(at);
        candidates.push(Plan::new(
            at,
            PlanKind::Closing,
            Some(FetchTier::Closing),
            format!("closing line before the {c} tip-off"),
        ));
    }

    let Some(mut best) = candidates
        .into_iter()
        .min_by_key(|p| (p.at, p.kind != PlanKind::Closing))
    else {
        // Every listed game has had its closing fetch; only new listings can change that.
        return Plan::new(
            (first + Duration::minutes(1)).min(now + s.idle_check),
            PlanKind::Idle,
            None,
            "every listed game has its closing line".into(),
        );
    };
    if best.kind != PlanKind::Closing
        && let Some(closing) = closings
            .iter()
            .filter(|t| **t > best.at && **t <= best.at + s.merge_window)
            .min()
    {
        best = Plan::new(
            *closing,
            PlanKind::Closing,
            Some(FetchTier::Closing),
            format!("{} (merged with the closing fetch)", best.reason),
        );
    }
    best
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

fn hours(h: f64) -> Duration {
    if h.is_infinite() {
        Duration::days(3650)
    } else {
        Duration::minutes((h * 60.0).round() as i64)
    }
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
