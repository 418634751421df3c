//! The planner on virtual time: a chain of runs is simulated by jumping the clock to each
//! planned time.

use super::*;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn listed(commence: &[DateTime<Utc>], at: DateTime<Utc>) -> Vec<GameView> {
    commence
        .iter()
        .map(|c| GameView {
            commence_time: *c,
            listed_at: at,
        })
        .collect()
}

/// Runs the fetch-odds chain from `start` to `end`: returns the fetches made, with why.
fn simulate(
    games: &[GameView],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, PlanKind)> {
    let s = PlannerSettings::default();
    let mut now = start;
    let mut last = None;
    let mut fetches = Vec::new();
    for _ in 0..10_000 {
        let visible: Vec<GameView> = games
            .iter()
            .copied()
            .filter(|g| g.listed_at <= now)
            .collect();
        let plan = next_odds_fetch(now, &visible, last, &s);
        if plan.is_due(now) {
            fetches.push((now, plan.kind));
            last = Some(now);
            let next = next_odds_fetch(now, &visible, last, &s);
            assert!(
                next.at > now,
                "a fetch never plans another at the same instant: {next:?}"
            );
            now = next.at;
        } else {
            assert!(plan.at > now, "a plan not due lies in the future: {plan:?}");
            // Games listed in between are discovered by the run at the planned time at latest.
            now = plan.at;
        }
        if now >= end {
            break;
        }
    }
    fetches
}

fn in_window(
    fetches: &[(DateTime<Utc>, PlanKind)],
    c: DateTime<Utc>,
    tier: FetchTier,
) -> Vec<DateTime<Utc>> {
    fetches
        .iter()
        .map(|(at, _)| *at)
        .filter(|at| *at < c && FetchTier::for_times(*at, c) == tier)
        .collect()
}

#[test]
fn one_game_is_fetched_in_every_tier_at_every_boundary_and_before_tip_off() {
    let c = t("2026-01-20T00:00:00Z");
    let games = listed(&[c], c - Duration::hours(120));
    let fetches = simulate(&games, c - Duration::hours(120), c);
    for &tier in FetchTier::ALL {
        assert!(
            !in_window(&fetches, c, tier).is_empty(),
            "{tier}: {fetches:?}"
        );
    }
    let times: Vec<DateTime<Utc>> = fetches.iter().map(|f| f.0).collect();
    for boundary in [72, 24, 12, 3] {
        assert!(
            times.contains(&(c - Duration::hours(boundary))),
            "fetch at T-{boundary}h: {times:?}"
        );
    }
    // Within a tier, the cadence is the tier's interval.
    let closing = in_window(&fetches, c, FetchTier::Closing);
    let expected: Vec<DateTime<Utc>> = (0..6)
        .map(|i| c - Duration::hours(3) + Duration::minutes(30 * i))
        .chain([c - Duration::minutes(5)])
        .collect();
    assert_eq!(closing, expected);
    let pregame = in_window(&fetches, c, FetchTier::Pregame);
    assert_eq!(
        pregame,
        [
            c - Duration::hours(12),
            c - Duration::hours(9),
            c - Duration::hours(6)
        ]
    );
    let last = fetches.last().unwrap();
    assert_eq!(
        (last.0, last.1),
        (c - Duration::minutes(5), PlanKind::Closing)
    );
    // 1 opening + early (T-72, T-48) + sharp (T-24, T-12 is pregame) ... a bounded total.
    assert!(
        fetches.len() <= 16,
        "{} fetches: {fetches:?}",
        fetches.len()
    );
}

#[test]
fn a_fetch_just_before_a_boundary_does_not_sleep_through_it() {
    // The original fetched at T-3h05 and next at T-0h05 (pregame interval).
    let c = t("2026-01-20T00:00:00Z");
    let games = listed(&[c], c - Duration::days(3));
    let now = c - Duration::minutes(185);
    let plan = next_odds_fetch(now, &games, Some(now), &PlannerSettings::default());
    assert_eq!(plan.at, c - Duration::hours(3));
    assert_eq!(plan.kind, PlanKind::TierBoundary);
    assert_eq!(plan.tier, Some(FetchTier::Closing));
}

#[test]
fn every_tip_off_time_gets_a_closing_fetch() {
    let day = t("2026-01-20T00:00:00Z");
    let tips: Vec<DateTime<Utc>> = [
        "00:00", "00:00", "00:30", "01:00", "02:00", "03:00", "03:30",
    ]
    .iter()
    .map(|hm| t(&format!("2026-01-20T{hm}:00Z")))
    .collect();
    let games = listed(&tips, day - Duration::days(6));
    let fetches = simulate(&games, day - Duration::days(6), day + Duration::hours(4));
    let s = PlannerSettings::default();
    for c in &tips {
        let closing: Vec<_> = fetches
            .iter()
            .filter(|(at, _)| {
                *at >= *c - s.closing_window_start && *at <= *c - s.closing_window_end
            })
            .collect();
        assert!(!closing.is_empty(), "no closing fetch for {c}: {fetches:?}");
        assert!(
            closing
                .iter()
                .any(|(at, _)| *at == *c - Duration::minutes(5))
        );
    }
    // After the last tip-off nothing more is fetched.
    assert!(
        fetches
            .iter()
            .all(|(at, _)| *at < t("2026-01-20T03:30:00Z"))
    );
}

#[test]
fn off_season_spends_nothing_and_wakes_when_a_game_enters_the_look_ahead() {
    let s = PlannerSettings::default();
    let now = t("2026-07-01T12:00:00Z");
    let plan = next_odds_fetch(now, &[], Some(now - Duration::days(60)), &s);
    assert_eq!(
        (plan.kind, plan.at),
        (PlanKind::Idle, now + Duration::hours(24))
    );
    assert!(!plan.is_due(plan.at), "an idle plan never spends credits");
    assert!(simulate(&[], now, now + Duration::days(60)).is_empty());

    // The schedule for next season is listed months ahead: nothing until 7 days before it.
    let opener = t("2026-10-20T23:30:00Z");
    let games = listed(&[opener], now);
    let fetches = simulate(&games, now, opener);
    assert!(
        fetches.first().unwrap().0 >= opener - s.lookahead,
        "{fetches:?}"
    );
    assert!(fetches.len() <= 16, "{fetches:?}");
}

#[test]
fn the_all_star_break_costs_nothing_until_games_come_back_into_view() {
    let s = PlannerSettings::default();
    let before = t("2026-02-12T00:00:00Z");
    let after = t("2026-02-20T00:00:00Z"); // eight days later
    let games = listed(&[before, after], before - Duration::days(7));
    let fetches = simulate(&games, before - Duration::days(1), after);
    let during: Vec<_> = fetches
        .iter()
        .filter(|(at, _)| *at > before && *at < after - s.lookahead)
        .collect();
    assert!(during.is_empty(), "fetched during the break: {during:?}");
    assert!(fetches.iter().any(|(at, _)| *at >= after - s.lookahead));
}

#[test]
fn a_postponed_game_leaves_the_plan_and_a_moved_one_is_followed() {
    let s = PlannerSettings::default();
    let a = t("2026-01-20T00:00:00Z");
    let b = t("2026-01-20T01:00:00Z");
    let listed_at = a - Duration::days(2);
    let now = a - Duration::minutes(20);
    let both = listed(&[a, b], listed_at);
    assert_eq!(
        next_odds_fetch(now, &both, Some(now), &s).at,
        a - Duration::minutes(5)
    );
    // A postponed: only B's closing remains.
    let only_b = listed(&[b], listed_at);
    let plan = next_odds_fetch(now, &only_b, Some(now), &s);
    assert!(plan.at > a, "{plan:?}");
    // B moved two hours later: its closing fetch moves with it.
    let moved = listed(&[b + Duration::hours(2)], listed_at);
    let fetches = simulate(&moved, now, b + Duration::hours(2));
    assert_eq!(
        fetches.last().unwrap().0,
        b + Duration::hours(2) - Duration::minutes(5)
    );
}

#[test]
fn a_newly_listed_game_is_fetched_at_once() {
    let s = PlannerSettings::default();
    let now = t("2026-01-15T12:00:00Z");
    let old = GameView {
        commence_time: now + Duration::days(4),
        listed_at: now - Duration::days(2),
    };
    let last = now - Duration::hours(1);
    assert!(!next_odds_fetch(now, &[old], Some(last), &s).is_due(now));
    let new = GameView {
        commence_time: now + Duration::days(5),
        listed_at: now,
    };
    let plan = next_odds_fetch(now, &[old, new], Some(last), &s);
    assert_eq!((plan.kind, plan.at), (PlanKind::NewGame, now));
}

#[test]
fn a_regular_fetch_just_before_a_closing_fetch_waits_for_it() {
    let s = PlannerSettings::default();
    let c = t("2026-01-20T00:00:00Z");
    let games = listed(&[c], c - Duration::days(1));
    // Closing interval from a fetch at T-40m would land at T-10m; the closing fetch is at T-5m.
    let last = c - Duration::minutes(40);
    let plan = next_odds_fetch(last, &games, Some(last), &s);
    assert_eq!(
        (plan.kind, plan.at),
        (PlanKind::Closing, c - Duration::minutes(5))
    );
}

#[test]
fn when_the_urgent_game_tips_off_the_cadence_relaxes() {
    let s = PlannerSettings::default();
    let a = t("2026-01-20T00:00:00Z");
    let next_day = a + Duration::hours(20);
    let games = listed(&[a, next_day], a - Duration::days(2));
    let last = a - Duration::minutes(5);
    let plan = next_odds_fetch(last, &games, Some(last), &s);
    // Not 30 minutes later (A has started): the next game is 20 h away, in sharp.
    assert!(plan.at >= a + Duration::hours(4), "{plan:?}");
}

#[test]
fn scores_are_fetched_when_games_should_be_over_and_retried_until_final() {
    let s = PlannerSettings::default();
    let tip = t("2026-01-20T00:00:00Z");
    let end = tip + s.game_duration;
    let live = [PendingGame { commence_time: tip }];
    // During the game: wait for its end.
    let plan = next_scores_fetch(tip + Duration::hours(1), &live, &[], None, &s);
    assert_eq!((plan.kind, plan.at), (PlanKind::ScoresDue, end));
    // Over: due now.
    let plan = next_scores_fetch(end + Duration::minutes(1), &live, &[], None, &s);
    assert!(plan.is_due(end + Duration::minutes(1)));
    // Asked once, still not final: retry later.
    let asked = end + Duration::minutes(1);
    let plan = next_scores_fetch(asked, &live, &[], Some(asked), &s);
    assert_eq!(
        (plan.kind, plan.at),
        (PlanKind::ScoresRetry, asked + s.scores_retry)
    );
    // Nothing pending: after the next game; nothing at all: idle, never due.
    let upcoming = [tip + Duration::days(1)];
    let plan = next_scores_fetch(asked, &[], &upcoming, Some(asked), &s);
    assert_eq!(plan.at, upcoming[0] + s.game_duration);
    let plan = next_scores_fetch(asked, &[], &[], Some(asked), &s);
    assert_eq!(plan.kind, PlanKind::Idle);
    assert!(!plan.is_due(plan.at));
    // Too old for the API: left to the NBA.com backfill.
    let ancient = [PendingGame {
        commence_time: tip - Duration::days(4),
    }];
    assert_eq!(
        next_scores_fetch(tip, &ancient, &[], None, &s).kind,
        PlanKind::Idle
    );
}

#[test]
fn one_scores_call_covers_a_whole_night() {
    let s = PlannerSettings::default();
    let night = [
        t("2026-01-20T00:00:00Z"),
        t("2026-01-20T00:30:00Z"),
        t("2026-01-20T03:30:00Z"),
    ];
    let next_night = t("2026-01-21T00:00:00Z");
    let before = t("2026-01-19T20:00:00Z");
    let mut upcoming = night.to_vec();
    upcoming.push(next_night);
    let plan = next_scores_fetch(before, &[], &upcoming, None, &s);
    assert_eq!(
        plan.at,
        night[2] + s.game_duration,
        "after the night's last game"
    );
    // Mid-night: the early games are pending, the late one still to come.
    let mid = t("2026-01-20T03:00:00Z");
    let pending: Vec<PendingGame> = night[..2]
        .iter()
        .map(|c| PendingGame { commence_time: *c })
        .collect();
    let plan = next_scores_fetch(mid, &pending, &[night[2], next_night], None, &s);
    assert_eq!(plan.at, night[2] + s.game_duration);
    assert!(!plan.is_due(mid));
}

#[test]
fn status_updates_happen_at_tip_off() {
    let s = PlannerSettings::default();
    let now = t("2026-01-19T20:00:00Z");
    let tips = [t("2026-01-20T00:30:00Z"), t("2026-01-20T00:00:00Z")];
    let plan = next_status_update(now, &tips, &s);
    assert_eq!((plan.kind, plan.at), (PlanKind::TipOff, tips[1]));
    assert_eq!(next_status_update(now, &[], &s).kind, PlanKind::Idle);
}

#[test]
fn settings_reject_a_closing_lead_outside_its_window() {
    let env = |name: &str| (name == "CLOSING_LEAD_MINUTES").then(|| "12".to_string());
    let err = PlannerSettings::from_vars(&Vars(&env)).unwrap_err();
    assert_eq!(err.var, "CLOSING_LEAD_MINUTES");
    let none = |_: &str| None;
    assert_eq!(
        PlannerSettings::from_vars(&Vars(&none)).unwrap(),
        PlannerSettings::default()
    );
}

#[test]
fn every_minute_setting_has_a_range() {
    for (var, bad) in [
        ("SCORES_RETRY_MINUTES", "0"),
        ("SCORES_RETRY_MINUTES", "99999999999999999"),
        ("GAME_DURATION_MINUTES", "9223372036854775807"),
        ("GAME_DURATION_MINUTES", "-5"),
        ("CLOSING_LEAD_MINUTES", "0"),
        ("CLOSING_WINDOW_START_MINUTES", "100000"),
        ("CLOSING_WINDOW_END_MINUTES", "60"),
        ("SCHEDULER_LOOKAHEAD_DAYS", "61"),
    ] {
        let env = move |name: &str| (name == var).then(|| bad.to_string());
        let err = PlannerSettings::from_vars(&Vars(&env)).unwrap_err();
        assert_eq!(err.var, var, "{var}={bad}: {err}");
        let line = err.to_string();
        assert!(
            line.contains(bad) && line.contains("..=") && !line.contains('\n'),
            "{line}"
        );
    }
}
