//! Backfill planning: which archived moments to ask The Odds API's history for.
//!
//! A historical `/odds` call returns every game listed at the moment asked for, so a backfill
//! is planned exactly like live collection: the same per-game requirements, the same
//! earliest-deadline rule ([`plan_with`]). Two things differ. Each game has its own list of
//! moments (its stored snapshots, plus every archive moment already asked for, which it either
//! got or was not listed at), so a rerun plans nothing for what is stored or was asked before.
//! And a credit cap is met by dropping requirements in the policy's drop order until the plan
//! fits, as the monthly budget does.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::requirements::{
    CollectionPolicy, GameFetches, GameView, PlannedFetch, Requirement, Rules, met, plan_with,
    refuse_nothing,
};

/// The first day of the archive's featured markets (h2h, spreads, totals).
pub const ARCHIVE_START: NaiveDate = NaiveDate::from_ymd_opt(2020, 6, 6).unwrap();

/// The points `--hours-before 72,24,12,3,0.5` names, farthest first (the order a credit cap
/// drops them in). Each must be more than zero and within `lookahead`.
pub fn parse_hours_before(raw: &str, lookahead: Duration) -> Result<Vec<Requirement>, String> {
    let mut minutes: Vec<u32> = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let hours: f64 = item
            .parse()
            .map_err(|_| format!("'{item}' is not a number of hours"))?;
        let max = lookahead.num_minutes() as f64 / 60.0;
        if !(hours > 0.0 && hours <= max) {
            return Err(format!(
                "{item} hours is outside (0, {max}] (the planner looks {max} hours ahead)"
            ));
        }
        let m = (hours * 60.0).round() as u32;
        if m == 0 {
            return Err(format!("{item} hours is less than a minute"));
        }
        if !minutes.contains(&m) {
            minutes.push(m);
        }
    }
    if minutes.is_empty() {
        return Err("names no hours".into());
    }
    minutes.sort_unstable_by(|a, b| b.cmp(a));
    Ok(minutes.into_iter().map(Requirement::Before).collect())
}

/// Games to backfill and the moments each already has.
#[derive(Debug, Clone, Default)]
pub struct Backlog {
    pub games: Vec<GameView>,
    /// Per game, sorted: its stored snapshot times and the archive moments asked for.
    pub have: Vec<Vec<DateTime<Utc>>>,
}

impl Backlog {
    /// `calls`: archive moments already asked for (sorted), which count for every game. The
    /// archive may hold a game from before the collector first saw it, so each game counts as
    /// listed from the look-ahead before its tip-off (or earlier, when it was seen earlier).
    pub fn new(
        games: Vec<(GameView, Vec<DateTime<Utc>>)>,
        calls: &[DateTime<Utc>],
        lookahead: Duration,
    ) -> Backlog {
        let mut backlog = Backlog::default();
        for (mut game, mut have) in games {
            let from = game.commence_time - lookahead;
            game.listed_at = game.listed_at.min(from);
            let a = calls.partition_point(|c| *c < from);
            let b = calls.partition_point(|c| *c < game.commence_time);
            have.extend_from_slice(&calls[a..b.max(a)]);
            have.sort_unstable();
            have.dedup();
            backlog.games.push(game);
            backlog.have.push(have);
        }
        backlog
    }

    /// The first moment any game's requirements can ask for.
    pub fn start(&self, lookahead: Duration) -> Option<DateTime<Utc>> {
        self.games.iter().map(|g| g.commence_time - lookahead).min()
    }

    /// The requirements of each game its moments do not meet, for games missing any.
    pub fn missing(
        &self,
        policy: &CollectionPolicy,
        active: &[Requirement],
        lookahead: Duration,
    ) -> Vec<(usize, Vec<Requirement>)> {
        self.games
            .iter()
            .zip(&self.have)
            .enumerate()
            .filter_map(|(i, (game, have))| {
                let unmet: Vec<Requirement> = active
                    .iter()
                    .copied()
                    .filter(|r| !met(*r, game, have, policy, lookahead))
                    .collect();
                (!unmet.is_empty()).then_some((i, unmet))
            })
            .collect()
    }
}

/// A backfill plan that fits its credit cap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    /// The requirements the plan meets.
    pub active: Vec<Requirement>,
    /// The requirements the cap dropped, in the order dropped.
    pub dropped: Vec<Requirement>,
    /// The archive moments to ask for, in time order.
    pub calls: Vec<PlannedFetch>,
    /// Calls of the smallest plan that the cap still left out.
    pub cut: usize,
}

/// The fewest archive calls that meet the requirements in `order` for every game of
/// `backlog`, dropping requirements from the front of `order` until at most `max_calls` remain
/// (`None`: no cap). When even the last requirement alone does not fit, its first `max_calls`
/// calls are kept.
pub fn fit(
    backlog: &Backlog,
    policy: &CollectionPolicy,
    order: &[Requirement],
    lookahead: Duration,
    until: DateTime<Utc>,
    max_calls: Option<usize>,
) -> Fit {
    let Some(start) = backlog.start(lookahead) else {
        return Fit {
            active: order.to_vec(),
            dropped: Vec::new(),
            calls: Vec::new(),
            cut: 0,
        };
    };
    let plan = |active: &[Requirement]| {
        let rules = Rules {
            policy,
            active,
            lookahead,
        };
        let mut made = GameFetches(backlog.have.clone());
        plan_with(
            start,
            until,
            &backlog.games,
            &mut made,
            &rules,
            &mut refuse_nothing,
        )
    };
    let last = order.len().saturating_sub(1);
    for level in 0..=last {
        let calls = plan(&order[level..]);
        let fits = max_calls.is_none_or(|m| calls.len() <= m);
        if fits || level == last {
            let keep = max_calls.map_or(calls.len(), |m| m.min(calls.len()));
            let cut = calls.len() - keep;
            let mut calls = calls;
            calls.truncate(keep);
            return Fit {
                active: order[level..].to_vec(),
                dropped: order[..level].to_vec(),
                calls,
                cut,
            };
        }
    }
    unreachable!("the loop returns at its last level")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FetchTier;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn game(id: &str, commence: &str) -> GameView {
        let commence_time = t(commence);
        GameView {
            event_id: id.into(),
            matchup: format!("{id} away @ {id} home"),
            commence_time,
            listed_at: commence_time - Duration::days(30),
        }
    }

    const WEEK: Duration = Duration::days(7);

    #[test]
    fn hours_before_are_points_farthest_first() {
        let points = parse_hours_before("0.5, 3,72,24,12,3", WEEK).unwrap();
        assert_eq!(
            points,
            [4320, 1440, 720, 180, 30].map(Requirement::Before).to_vec()
        );
        assert_eq!(Requirement::Before(30).to_string(), "30m before tip-off");
        assert_eq!(Requirement::Before(4320).to_string(), "72h before tip-off");
        for bad in ["", "0", "-3", "abc", "169", "3,,x"] {
            assert!(parse_hours_before(bad, WEEK).is_err(), "{bad}");
        }
    }

    #[test]
    fn games_tipping_together_share_every_point() {
        // Two games at 00:00 and one at 00:30: points at T-3h and T-30m give four moments.
        let games = vec![
            (game("a", "2024-01-10T00:00:00Z"), vec![]),
            (game("b", "2024-01-10T00:00:00Z"), vec![]),
            (game("c", "2024-01-10T00:30:00Z"), vec![]),
        ];
        let backlog = Backlog::new(games, &[], WEEK);
        let order = parse_hours_before("3,0.5", WEEK).unwrap();
        let policy = CollectionPolicy::economy();
        let fit = fit(
            &backlog,
            &policy,
            &order,
            WEEK,
            t("2024-01-11T00:00:00Z"),
            None,
        );
        let at: Vec<DateTime<Utc>> = fit.calls.iter().map(|c| c.at).collect();
        assert_eq!(
            at,
            [
                "2024-01-09T21:00:00Z",
                "2024-01-09T21:30:00Z",
                "2024-01-09T23:30:00Z",
                "2024-01-10T00:00:00Z"
            ]
            .map(t)
        );
        assert_eq!(fit.calls[0].games_served, 2);
    }

    #[test]
    fn what_is_stored_or_was_asked_is_not_asked_again() {
        let a = game("a", "2024-01-10T00:00:00Z");
        let order = parse_hours_before("3,0.5", WEEK).unwrap();
        let policy = CollectionPolicy::economy();
        let until = t("2024-01-11T00:00:00Z");
        // A stored snapshot two minutes before the 3h point, and an archive call at the 30m
        // point that did not have the game: nothing is left to ask.
        let backlog = Backlog::new(
            vec![(a.clone(), vec![t("2024-01-09T20:58:00Z")])],
            &[t("2024-01-09T23:30:00Z")],
            WEEK,
        );
        assert!(
            fit(&backlog, &policy, &order, WEEK, until, None)
                .calls
                .is_empty()
        );
        assert!(backlog.missing(&policy, &order, WEEK).is_empty());
        // Without them, both points are missing and planned.
        let empty = Backlog::new(vec![(a, vec![])], &[], WEEK);
        assert_eq!(
            fit(&empty, &policy, &order, WEEK, until, None).calls.len(),
            2
        );
        assert_eq!(empty.missing(&policy, &order, WEEK)[0].1, order);
    }

    #[test]
    fn a_cap_drops_requirements_in_order_then_cuts_the_rest() {
        // Games on three nights: economy wants each tier covered and the closing capture.
        let games: Vec<_> = [
            "2024-01-10T00:00:00Z",
            "2024-01-12T00:00:00Z",
            "2024-01-14T00:00:00Z",
        ]
        .iter()
        .enumerate()
        .map(|(i, c)| (game(&i.to_string(), c), vec![]))
        .collect();
        let backlog = Backlog::new(games, &[], WEEK);
        let policy = CollectionPolicy::economy();
        let order = policy.drop_order();
        let until = t("2024-01-15T00:00:00Z");
        let full = fit(&backlog, &policy, &order, WEEK, until, None);
        assert!(full.dropped.is_empty());
        assert!(backlog.missing(&policy, &order, WEEK).len() == 3);

        let capped = fit(
            &backlog,
            &policy,
            &order,
            WEEK,
            until,
            Some(full.calls.len() - 1),
        );
        assert!(capped.calls.len() < full.calls.len());
        assert_eq!(capped.dropped[0], Requirement::Coverage(FetchTier::Opening));
        assert_eq!(capped.cut, 0);

        // Room for one call: closing captures alone still need three, so two are cut.
        let one = fit(&backlog, &policy, &order, WEEK, until, Some(1));
        assert_eq!(one.active, vec![Requirement::Closing]);
        assert_eq!((one.calls.len(), one.cut), (1, 2));
        assert_eq!(one.calls[0].requirement, Requirement::Closing);
    }
}
