//! What a collection policy asks of every game, and the fewest `/odds` calls that give it.
//!
//! One `/odds` call prices every listed game, so a schedule is a set of moments, and each
//! requirement of a game is a stretch of time that must hold one of them:
//! - **gap**: inside a tier window, from the window's start (or the moment the game came into
//!   view), no stretch longer than the tier's interval without a fetch;
//! - **coverage**: at least one fetch inside a tier window;
//! - **closing capture**: one fetch between `earliest` and `latest` before tip-off, aimed at
//!   `aim` before it.
//!
//! Windows are half-open, as [`FetchTier::for_times`] assigns times: the opening window of a
//! game at `T` is `[listed, T-72h)`, early `[T-72h, T-24h)`, and so on to closing `[T-3h, T)`.
//!
//! Each unmet requirement is a [`Need`]: a fetch at some moment in `[opens, deadline]`. Taking
//! the earliest deadline among all needs, fetching then and re-planning gives the fewest
//! fetches that meet every need (the interval-stabbing argument: the earliest-closing interval
//! must hold a fetch, and its last moment serves every interval that the earlier moments do).
//! A gap requirement is the family of every interval of its length inside its window, whose
//! binding member is always the one starting at the latest fetch, so the rule holds for it too.

use std::fmt;

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use crate::model::FetchTier;
use crate::settings::{ConfigError, Vars};

/// One requirement a policy places on every game.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// No stretch longer than the tier's interval without a fetch inside the tier's window.
    Gap(FetchTier),
    /// At least one fetch inside the tier's window.
    Coverage(FetchTier),
    /// One fetch just before tip-off.
    Closing,
    /// One fetch at this many minutes before tip-off, or in the five minutes before that
    /// moment (the historical archive's grid); what `--hours-before` asks of a backfill.
    Before(u32),
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Gap(tier) => write!(f, "{tier} gap"),
            Requirement::Coverage(tier) => write!(f, "{tier} coverage"),
            Requirement::Closing => write!(f, "closing capture"),
            Requirement::Before(m) if m % 60 == 0 => write!(f, "{}h before tip-off", m / 60),
            Requirement::Before(m) => write!(f, "{m}m before tip-off"),
        }
    }
}

/// Which preset a policy came from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum PolicyName {
    /// Every tier's interval as the longest gap, plus the closing capture.
    Standard,
    /// One fetch in each tier window, plus the closing capture.
    Economy,
    /// Gaps per tier from `COLLECTION_INTERVALS`; tiers it does not name get one fetch.
    Custom,
}

named!(PolicyName, "collection policy");

/// The fetch just before tip-off that gives every game a true closing line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClosingCapture {
    /// Planned this long before tip-off...
    pub aim: Duration,
    /// ...and met by a fetch from `earliest` to `latest` before tip-off.
    pub earliest: Duration,
    pub latest: Duration,
}

impl Default for ClosingCapture {
    fn default() -> Self {
        ClosingCapture {
            aim: Duration::minutes(5),
            earliest: Duration::minutes(10),
            latest: Duration::minutes(2),
        }
    }
}

/// What every game must get: per tier an optional longest gap, coverage of each window, and
/// the closing capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionPolicy {
    pub name: PolicyName,
    /// Indexed by tier (`FetchTier as usize`).
    pub gaps: [Option<Duration>; 5],
    pub coverage: bool,
    pub closing: ClosingCapture,
}

impl Default for CollectionPolicy {
    fn default() -> Self {
        CollectionPolicy::standard()
    }
}

impl CollectionPolicy {
    pub fn standard() -> CollectionPolicy {
        let mut gaps = [None; 5];
        for &tier in FetchTier::ALL {
            gaps[tier as usize] = Some(tier.interval());
        }
        CollectionPolicy {
            name: PolicyName::Standard,
            gaps,
            coverage: true,
            closing: ClosingCapture::default(),
        }
    }

    pub fn economy() -> CollectionPolicy {
        CollectionPolicy {
            name: PolicyName::Economy,
            gaps: [None; 5],
            ..CollectionPolicy::standard()
        }
    }

    pub fn preset(name: PolicyName) -> CollectionPolicy {
        match name {
            PolicyName::Standard => CollectionPolicy::standard(),
            PolicyName::Economy | PolicyName::Custom => CollectionPolicy {
                name,
                ..CollectionPolicy::economy()
            },
        }
    }

    /// `COLLECTION_POLICY` (standard, economy or custom) and, for custom,
    /// `COLLECTION_INTERVALS` such as `closing=20m,pregame=2h`; plus the closing capture's
    /// `CLOSING_LEAD_MINUTES`, `CLOSING_WINDOW_START_MINUTES` and `CLOSING_WINDOW_END_MINUTES`.
    pub fn from_vars(vars: &Vars) -> Result<CollectionPolicy, ConfigError> {
        let name = vars
            .named::<PolicyName>("COLLECTION_POLICY")?
            .unwrap_or(PolicyName::Standard);
        let mut policy = CollectionPolicy::preset(name);
        match (name, vars.get("COLLECTION_INTERVALS")) {
            (PolicyName::Custom, Some(raw)) => policy.gaps = parse_intervals(&raw)?,
            (PolicyName::Custom, None) => {
                return Err(ConfigError::new(
                    "COLLECTION_INTERVALS",
                    "is required with COLLECTION_POLICY=custom (for example closing=20m,pregame=2h)",
                ));
            }
            (_, Some(_)) => {
                return Err(ConfigError::new(
                    "COLLECTION_INTERVALS",
                    "is only read with COLLECTION_POLICY=custom",
                ));
            }
            (_, None) => {}
        }
        let d = ClosingCapture::default();
        policy.closing = ClosingCapture {
            aim: vars.minutes_or("CLOSING_LEAD_MINUTES", d.aim, 1..=60)?,
            earliest: vars.minutes_or("CLOSING_WINDOW_START_MINUTES", d.earliest, 1..=120)?,
            latest: vars.minutes_or("CLOSING_WINDOW_END_MINUTES", d.latest, 0..=59)?,
        };
        let c = policy.closing;
        if !(c.earliest > c.aim && c.aim > c.latest) {
            return Err(ConfigError::new(
                "CLOSING_LEAD_MINUTES",
                format!(
                    "must lie between CLOSING_WINDOW_END_MINUTES ({}) and CLOSING_WINDOW_START_MINUTES ({})",
                    c.latest.num_minutes(),
                    c.earliest.num_minutes()
                ),
            ));
        }
        Ok(policy)
    }

    /// The policy's requirements in the order a budget drops them: gaps of the densest tier
    /// first, coverage from opening towards closing next, the closing capture last.
    pub fn drop_order(&self) -> Vec<Requirement> {
        let mut gaps: Vec<(Duration, FetchTier)> = FetchTier::ALL
            .iter()
            .filter_map(|&t| self.gaps[t as usize].map(|g| (g, t)))
            .collect();
        // Densest first; a tie goes to the tier nearer tip-off.
        gaps.sort_by_key(|(g, t)| (*g, std::cmp::Reverse(*t)));
        let mut order: Vec<Requirement> =
            gaps.into_iter().map(|(_, t)| Requirement::Gap(t)).collect();
        if self.coverage {
            order.extend(FetchTier::ALL.iter().map(|&t| Requirement::Coverage(t)));
        }
        order.push(Requirement::Closing);
        order
    }
}

/// `opening=48h,closing=20m`: a longest gap per named tier (minutes `m` or hours `h`).
fn parse_intervals(raw: &str) -> Result<[Option<Duration>; 5], ConfigError> {
    let bad = |message: String| ConfigError::new("COLLECTION_INTERVALS", message);
    let mut gaps = [None; 5];
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (tier, value) = item.split_once('=').ok_or_else(|| {
            bad(format!(
                "'{item}' is not tier=interval (for example closing=20m)"
            ))
        })?;
        let tier: FetchTier = tier
            .parse()
            .map_err(|e: crate::names::ParseEnumError| bad(e.to_string()))?;
        let value = value.trim();
        let (number, unit) = value.split_at(value.len().saturating_sub(1));
        let minutes = number
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|n| match unit {
                "m" => Some(n),
                "h" => n.checked_mul(60),
                _ => None,
            })
            .filter(|m| (5..=7 * 24 * 60).contains(m))
            .ok_or_else(|| {
                bad(format!(
                    "'{value}' for {tier} is not an interval from 5m to 168h (such as 20m or 3h)"
                ))
            })?;
        if gaps[tier as usize]
            .replace(Duration::minutes(minutes))
            .is_some()
        {
            return Err(bad(format!("{tier} is named twice")));
        }
    }
    if gaps.iter().all(Option::is_none) {
        return Err(bad("names no tier".into()));
    }
    Ok(gaps)
}

/// A game still to be played, as the odds planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct GameView {
    pub event_id: String,
    /// `AWAY @ HOME`, for explanations.
    pub matchup: String,
    pub commence_time: DateTime<Utc>,
    /// When the collector first saw it listed: windows before that cannot be covered.
    pub listed_at: DateTime<Utc>,
}

/// What planning follows: the policy, the requirements it still keeps (a budget may drop
/// some), and how far ahead games are looked at.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub policy: &'a CollectionPolicy,
    pub active: &'a [Requirement],
    pub lookahead: Duration,
}

/// An unmet requirement of one game: a fetch is needed in `[opens, deadline]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub requirement: Requirement,
    /// Index into the games the need was computed for.
    pub game: usize,
    pub opens: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// When the requirement's window ends: an unserved need is lost then.
    pub closes: DateTime<Utc>,
}

/// The stretch a requirement of a game concerns, from the moment it came into view.
fn window(
    requirement: Requirement,
    commence: DateTime<Utc>,
    from: DateTime<Utc>,
    closing: &ClosingCapture,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (start, end) = match requirement {
        Requirement::Gap(tier) | Requirement::Coverage(tier) => (
            commence - hours(tier.max_hours()),
            commence - hours(tier.min_hours().max(0.0)),
        ),
        // Inclusive at both ends: the end is nudged past the last moment that counts.
        Requirement::Closing => (
            commence - closing.earliest,
            commence - closing.latest + Duration::nanoseconds(1),
        ),
        Requirement::Before(minutes) => {
            let point = commence - Duration::minutes(i64::from(minutes));
            (point - POINT_TOLERANCE, point + Duration::nanoseconds(1))
        }
    };
    let start = start.max(from);
    (start < end).then_some((start, end))
}

/// How long before its moment a snapshot still counts for a [`Requirement::Before`] point: the
/// archive keeps a snapshot every five minutes and answers with the one at or before the moment.
pub const POINT_TOLERANCE: Duration = Duration::minutes(5);

/// Whether a fetch at `at` is the closing capture of `game`: inside its closing window, with
/// none of the `fetches` before it (sorted) there already.
pub fn is_closing_capture(
    game: &GameView,
    fetches: &[DateTime<Utc>],
    at: DateTime<Utc>,
    closing: &ClosingCapture,
) -> bool {
    let Some((start, end)) = window(
        Requirement::Closing,
        game.commence_time,
        start_of_time(),
        closing,
    ) else {
        return false;
    };
    start <= at && at < end && within(fetches, start, at).is_empty()
}

fn start_of_time() -> DateTime<Utc> {
    DateTime::<Utc>::MIN_UTC
}

/// Fetches inside `[start, end)` of a sorted list.
fn within(fetches: &[DateTime<Utc>], start: DateTime<Utc>, end: DateTime<Utc>) -> &[DateTime<Utc>] {
    let a = fetches.partition_point(|f| *f < start);
    let b = fetches.partition_point(|f| *f < end);
    &fetches[a..b.max(a)]
}

/// Whether `fetches` (sorted) meet a requirement of a game, judged once its window is over.
pub fn met(
    requirement: Requirement,
    game: &GameView,
    fetches: &[DateTime<Utc>],
    policy: &CollectionPolicy,
    lookahead: Duration,
) -> bool {
    let from = game.listed_at.max(game.commence_time - lookahead);
    let Some((start, end)) = window(requirement, game.commence_time, from, &policy.closing) else {
        return true;
    };
    let inside = within(fetches, start, end);
    match requirement {
        Requirement::Coverage(_) | Requirement::Closing | Requirement::Before(_) => {
            !inside.is_empty()
        }
        Requirement::Gap(tier) => {
            let Some(gap) = policy.gaps[tier as usize] else {
                return true;
            };
            let mut last = start;
            for f in inside {
                if *f - last > gap {
                    return false;
                }
                last = *f;
            }
            end - last <= gap
        }
    }
}

/// The unmet needs of one game at `now`, for the requirements in `active`.
pub fn needs_of(
    index: usize,
    game: &GameView,
    fetches: &[DateTime<Utc>],
    now: DateTime<Utc>,
    rules: &Rules,
    out: &mut Vec<Need>,
) {
    let Rules {
        policy,
        active,
        lookahead,
    } = *rules;
    if game.commence_time <= now {
        return;
    }
    let from = game.listed_at.max(game.commence_time - lookahead);
    for &requirement in active {
        let Some((start, end)) = window(requirement, game.commence_time, from, &policy.closing)
        else {
            continue;
        };
        if end <= now {
            continue;
        }
        let inside = within(fetches, start, end);
        let need = |opens: DateTime<Utc>, deadline: DateTime<Utc>| Need {
            requirement,
            game: index,
            opens,
            deadline,
            closes: end,
        };
        let found = match requirement {
            Requirement::Coverage(_) => inside.is_empty().then(|| {
                // The last whole minute inside the window: runs are armed on whole minutes.
                need(start, floor_minute(end - Duration::seconds(1)).max(start))
            }),
            Requirement::Closing => inside.is_empty().then(|| {
                need(
                    start,
                    floor_minute(game.commence_time - policy.closing.aim).max(start),
                )
            }),
            Requirement::Before(minutes) => inside.is_empty().then(|| {
                let point = game.commence_time - Duration::minutes(i64::from(minutes));
                need(start, floor_minute(point).max(start))
            }),
            Requirement::Gap(tier) => policy.gaps[tier as usize].and_then(|gap| {
                let last = inside.last().copied().unwrap_or(start);
                (last + gap < end).then(|| need(last, floor_minute(last + gap).max(last)))
            }),
        };
        out.extend(found);
    }
}

/// A fetch the earliest-deadline rule makes, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedFetch {
    pub at: DateTime<Utc>,
    /// The requirement whose deadline the fetch is.
    pub requirement: Requirement,
    pub event_id: String,
    pub matchup: String,
    pub commence_time: DateTime<Utc>,
    /// Needs and distinct games this one fetch serves.
    pub needs_served: usize,
    pub games_served: usize,
    /// Games whose closing capture this fetch is (each also gets its per-event markets).
    pub closings_served: usize,
    /// Whether it is some game's closing capture (which may use the credits kept in reserve).
    pub closing: bool,
}

/// The earliest-deadline fetch among `needs`, at or after `now`, and what it serves.
pub fn earliest(needs: &[Need], games: &[GameView], now: DateTime<Utc>) -> Option<PlannedFetch> {
    let first = needs
        .iter()
        .min_by_key(|n| (n.deadline, n.requirement != Requirement::Closing))?;
    let at = first.deadline.max(now);
    // Every need has its deadline at or after `at`'s, or is overdue: open is enough.
    let (mut needs_served, mut closing, mut closings_served) = (0, false, 0);
    let mut served_games: Vec<usize> = Vec::new();
    for n in needs.iter().filter(|n| n.opens <= at) {
        needs_served += 1;
        // A game has one closing need at a time.
        if n.requirement == Requirement::Closing {
            closing = true;
            closings_served += 1;
        }
        if !served_games.contains(&n.game) {
            served_games.push(n.game);
        }
    }
    let game = &games[first.game];
    Some(PlannedFetch {
        at,
        requirement: first.requirement,
        event_id: game.event_id.clone(),
        matchup: game.matchup.clone(),
        commence_time: game.commence_time,
        needs_served,
        games_served: served_games.len(),
        closings_served,
        closing,
    })
}

/// Judges a fetch before it is made: `Some(why)` refuses it (a credit budget does).
pub type Refuse<'a> = dyn FnMut(&PlannedFetch) -> Option<String> + 'a;

/// A fetch refused, and why.
pub type Refused = (PlannedFetch, String);

/// The earliest-deadline fetch `refuse` lets through among `needs`, and those it refused on
/// the way: what a refused fetch would have served waits for the next one, or is lost if its
/// window closes first.
pub fn first_allowed(
    needs: &[Need],
    games: &[GameView],
    now: DateTime<Utc>,
    refuse: &mut Refuse,
) -> (Option<PlannedFetch>, Vec<Refused>) {
    // Only a refusal needs a pool of its own, without what the refused fetch would serve.
    let mut pool: Option<Vec<Need>> = None;
    let mut refused = Vec::new();
    while let Some(candidate) = earliest(pool.as_deref().unwrap_or(needs), games, now) {
        match refuse(&candidate) {
            None => return (Some(candidate), refused),
            Some(why) => {
                pool.get_or_insert_with(|| needs.to_vec())
                    .retain(|n| n.opens > candidate.at);
                refused.push((candidate, why));
            }
        }
    }
    (None, refused)
}

/// The next fetch at `now` for `games`, given the fetches made: every game's needs, the
/// earliest deadline `refuse` lets through.
pub fn next_allowed(
    now: DateTime<Utc>,
    games: &[GameView],
    fetches: &[DateTime<Utc>],
    rules: &Rules,
    refuse: &mut Refuse,
) -> (Option<PlannedFetch>, Vec<Refused>) {
    let mut needs = Vec::new();
    for (i, game) in games.iter().enumerate() {
        needs_of(i, game, fetches, now, rules, &mut needs);
    }
    first_allowed(&needs, games, now, refuse)
}

/// The fetches each game has had, as planning sees them, and where a planned fetch goes.
pub trait Fetches {
    /// The fetch moments that count for `game`, sorted.
    fn of(&self, game: usize) -> &[DateTime<Utc>];
    /// Records a planned fetch at `at` that serves `game`.
    fn record(&mut self, game: usize, at: DateTime<Utc>);
}

/// One list for every game: a live `/odds` call prices every listed game.
pub struct SharedFetches(pub Vec<DateTime<Utc>>);

impl Fetches for SharedFetches {
    fn of(&self, _: usize) -> &[DateTime<Utc>] {
        &self.0
    }

    fn record(&mut self, _: usize, at: DateTime<Utc>) {
        insert_sorted(&mut self.0, at);
    }
}

/// A list per game, for a backfill: each game's stored snapshots and the archive moments
/// already asked for (a game missing from an answer was not in the archive then).
pub struct GameFetches(pub Vec<Vec<DateTime<Utc>>>);

impl Fetches for GameFetches {
    fn of(&self, game: usize) -> &[DateTime<Utc>] {
        &self.0[game]
    }

    fn record(&mut self, game: usize, at: DateTime<Utc>) {
        insert_sorted(&mut self.0[game], at);
    }
}

fn insert_sorted(list: &mut Vec<DateTime<Utc>>, at: DateTime<Utc>) {
    if let Err(i) = list.binary_search(&at) {
        list.insert(i, at);
    }
}

/// The fetches the earliest-deadline rule makes from `now` until `until`, assuming each is
/// made when planned and `refuse` is asked first; `fetches` are those already made (sorted).
/// With every game known in advance and nothing refused this is the offline optimum.
pub fn plan_until(
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    games: &[GameView],
    fetches: &[DateTime<Utc>],
    rules: &Rules,
    refuse: &mut Refuse,
) -> Vec<PlannedFetch> {
    let mut made = SharedFetches(fetches.to_vec());
    plan_with(now, until, games, &mut made, rules, refuse)
}

/// [`plan_until`] over any [`Fetches`]; the planned fetches are recorded in `made`.
pub fn plan_with(
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    games: &[GameView],
    made: &mut dyn Fetches,
    rules: &Rules,
    refuse: &mut Refuse,
) -> Vec<PlannedFetch> {
    let mut needs = Vec::new();
    for (i, game) in games.iter().enumerate() {
        needs_of(i, game, made.of(i), now, rules, &mut needs);
    }
    let mut planned: Vec<PlannedFetch> = Vec::new();
    let mut served: Vec<Need> = Vec::new();
    let mut t = now;
    // Kept up to date rather than recomputed: a fetch changes only the needs it serves (a
    // need it does not serve opens after it), and a need is lost when its window closes.
    loop {
        needs.retain(|n| n.closes > t);
        let Some(next) = first_allowed(&needs, games, t, refuse).0 else {
            return planned;
        };
        if next.at > until {
            return planned;
        }
        // A fetch is never planned twice for one moment: whatever it serves is served.
        if planned.last().is_some_and(|l| l.at >= next.at) {
            return planned;
        }
        t = next.at;
        served.clear();
        needs.retain(|n| {
            let hit = n.opens <= t;
            if hit {
                served.push(*n);
            }
            !hit
        });
        for n in &served {
            made.record(n.game, t);
        }
        for n in &served {
            let only = [n.requirement];
            let one = Rules {
                active: &only,
                ..*rules
            };
            needs_of(n.game, &games[n.game], made.of(n.game), t, &one, &mut needs);
        }
        planned.push(next);
    }
}

/// A [`Refuse`] that refuses nothing.
pub fn refuse_nothing(_: &PlannedFetch) -> Option<String> {
    None
}

pub fn floor_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::minutes(1)).unwrap_or(t)
}

/// Hours before tip-off as a duration; the unbounded ends of the opening and closing tiers
/// become ten years.
pub fn hours(h: f64) -> Duration {
    if h.is_infinite() {
        Duration::days(3650) * h.signum() as i32
    } else {
        Duration::minutes((h * 60.0).round() as i64)
    }
}

#[cfg(test)]
#[path = "requirements_tests.rs"]
pub(crate) mod tests;
