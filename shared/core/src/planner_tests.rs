//! The planner on virtual time: a chain of runs is simulated by jumping the clock to each
//! planned time.

use super::*;
use crate::budget::Spend;
use crate::requirements::{CollectionPolicy, GameView, Requirement};
use crate::settings::Vars;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn listed(commence: &[DateTime<Utc>], at: DateTime<Utc>) -> Vec<GameView> {
    commence
        .iter()
        .enumerate()
        .map(|(i, c)| GameView {
            event_id: format!("game-{i}"),
            matchup: format!("Away {i} @ Home {i}"),
            commence_time: *c,
            listed_at: at,
        })
        .collect()
}

/// Runs the fetch-odds chain from `start` to `end` as the jobs do: each run discovers the
/// games listed by then, fetches when the plan is due and re-plans. Returns the fetches.
fn simulate(
    games: &[GameView],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    s: &PlannerSettings,
) -> Vec<(DateTime<Utc>, Option<Requirement>)> {
    let mut now = start;
    let mut made: Vec<DateTime<Utc>> = Vec::new();
    let mut fetches = Vec::new();
    for _ in 0..10_000 {
        let visible: Vec<GameView> = games
            .iter()
            .filter(|g| g.listed_at <= now)
            .cloned()
            .collect();
        let plan = next_odds_fetch(now, &visible, &made, s, &Spend::default());
        if plan.is_due(now) {
            fetches.push((now, plan.requirement));
            made.push(now);
            let next = next_odds_fetch(now, &visible, &made, s, &Spend::default());
            assert!(
                next.at > now,
                "a fetch never plans another at the same instant: {next:?}"
            );
            now = next.at;
        } else {
            assert!(plan.at > now, "a plan not due lies in the future: {plan:?}");
            now = plan.at;
        }
        if now >= end {
            break;
        }
    }
    fetches
}

fn times(fetches: &[(DateTime<Utc>, Option<Requirement>)]) -> Vec<DateTime<Utc>> {
    fetches.iter().map(|f| f.0).collect()
}

fn h(hours: i64) -> Duration {
    Duration::hours(hours)
}

fn m(minutes: i64) -> Duration {
    Duration::minutes(minutes)
}

#[test]
fn standard_fetches_one_game_at_each_deadline_and_nowhere_else() {
    let c = t("2026-01-20T00:00:00Z");
    let games = listed(&[c], c - h(120));
    let fetches = simulate(&games, c - h(120), c, &PlannerSettings::default());
    use FetchTier::*;
    use Requirement::{Coverage, Gap};
    // Hand-computed: opening is covered at its last minute (its 48 h gap fits the window);
    // early's 24 h gap falls due at T-48h; sharp's window is 12 h long, so one fetch by its
    // last minute; pregame's 3 h gaps at T-9h and T-6h; closing's 30 min gaps from T-3h,
    // then the closing capture at T-5min.
    let expected = vec![
        (c - h(72) - m(1), Some(Coverage(Opening))),
        (c - h(48), Some(Gap(Early))),
        (c - h(12) - m(1), Some(Coverage(Sharp))),
        (c - h(9), Some(Gap(Pregame))),
        (c - h(6), Some(Gap(Pregame))),
        (c - m(150), Some(Gap(Closing))),
        (c - m(120), Some(Gap(Closing))),
        (c - m(90), Some(Gap(Closing))),
        (c - m(60), Some(Gap(Closing))),
        (c - m(30), Some(Gap(Closing))),
        (c - m(5), Some(Requirement::Closing)),
    ];
    assert_eq!(fetches, expected);
}

#[test]
fn economy_fetches_once_per_tier_window_and_the_close() {
    let c = t("2026-01-20T00:00:00Z");
    let games = listed(&[c], c - h(120));
    let s = PlannerSettings {
        policy: CollectionPolicy::economy(),
        ..PlannerSettings::default()
    };
    let fetches = simulate(&games, c - h(120), c, &s);
    assert_eq!(
        times(&fetches),
        [
            c - h(72) - m(1),
            c - h(24) - m(1),
            c - h(12) - m(1),
            c - h(3) - m(1),
            c - m(5)
        ]
    );
    // The closing capture also covers the closing window.
    for &tier in FetchTier::ALL {
        assert!(
            fetches
                .iter()
                .any(|(at, _)| FetchTier::for_times(*at, c) == tier),
            "{tier}"
        );
    }
}

#[test]
fn one_fetch_serves_every_game_whose_window_is_open() {
    let s = PlannerSettings::default();
    let a = t("2026-01-20T00:00:00Z");
    let b = a + m(30);
    let games = listed(&[a, b], a - h(120));
    let fetches = simulate(&games, a - h(120), b, &s);
    // Each game alone needs 11; together they share everything but the closing tier.
    assert!(fetches.len() < 22, "{}", fetches.len());
    let closing: Vec<_> = times(&fetches)
        .into_iter()
        .filter(|at| *at >= a - h(3))
        .collect();
    // Two closing captures, and B's 30 min gaps ride on A's fetches.
    assert!(closing.contains(&(a - m(5))) && closing.contains(&(b - m(5))));
    for g in &games {
        let made = times(&fetches);
        for r in s.policy.drop_order() {
            assert!(
                crate::requirements::met(r, g, &made, &s.policy, s.lookahead),
                "{r} of {}",
                g.event_id
            );
        }
    }
}

#[test]
fn off_season_spends_nothing_and_wakes_when_a_game_enters_the_look_ahead() {
    let s = PlannerSettings::default();
    let now = t("2026-07-01T12:00:00Z");
    let plan = next_odds_fetch(now, &[], &[now - Duration::days(60)], &s, &Spend::default());
    assert_eq!((plan.kind, plan.at), (PlanKind::Idle, now + h(24)));
    assert!(!plan.is_due(plan.at), "an idle plan never spends credits");
    assert!(simulate(&[], now, now + Duration::days(60), &s).is_empty());

    // Next season's schedule is listed months ahead: nothing until 7 days before it, and then
    // its opening window starts there.
    let opener = t("2026-10-20T23:30:00Z");
    let games = listed(&[opener], now);
    let plan = next_odds_fetch(now, &games, &[], &s, &Spend::default());
    assert_eq!(plan.kind, PlanKind::Discover);
    assert!(!plan.is_due(now));
    let fetches = simulate(&games, now, opener, &s);
    assert_eq!(fetches[0].0, opener - s.lookahead + h(48), "{fetches:?}");
}

#[test]
fn the_all_star_break_costs_nothing_until_games_come_back_into_view() {
    let s = PlannerSettings::default();
    let before = t("2026-02-12T00:00:00Z");
    let after = t("2026-02-20T00:00:00Z"); // eight days later
    let games = listed(&[before, after], before - Duration::days(7));
    let fetches = simulate(&games, before - Duration::days(1), after, &s);
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
    let now = a - m(20);
    let both = listed(&[a, b], listed_at);
    let made = [a - m(30)];
    assert_eq!(
        next_odds_fetch(now, &both, &made, &s, &Spend::default()).at,
        a - m(5)
    );
    // A postponed: B's next 30 min gap is the next fetch.
    let only_b = vec![both[1].clone()];
    let plan = next_odds_fetch(now, &only_b, &made, &s, &Spend::default());
    assert_eq!(plan.at, a, "{plan:?}");
    // B moved two hours later: its closing capture moves with it.
    let mut moved = only_b.clone();
    moved[0].commence_time = b + h(2);
    let fetches = simulate(&moved, now, b + h(2), &s);
    assert_eq!(fetches.last().unwrap().0, b + h(2) - m(5));
}

#[test]
fn a_newly_listed_game_re_plans_from_its_listing() {
    let s = PlannerSettings::default();
    let now = t("2026-01-15T12:00:00Z");
    let old = listed(&[now + Duration::days(4)], now - Duration::days(2));
    let made = [now - h(1)];
    let before = next_odds_fetch(now, &old, &made, &s, &Spend::default());
    // A game listed now 25 hours out: its early window ends in an hour.
    let mut both = old.clone();
    both.extend(listed(&[now + h(25)], now));
    let plan = next_odds_fetch(now, &both, &made, &s, &Spend::default());
    assert!(plan.at < before.at);
    assert_eq!(plan.at, now + h(1) - m(1));
    assert_eq!(
        plan.requirement,
        Some(Requirement::Coverage(FetchTier::Early))
    );
    assert!(
        plan.reason.contains("early coverage of Away 0 @ Home 0"),
        "{}",
        plan.reason
    );
}

#[test]
fn a_missed_deadline_is_fetched_at_once() {
    let s = PlannerSettings::default();
    let c = t("2026-01-20T00:00:00Z");
    let games = listed(&[c], c - h(120));
    // The collector was down from T-5h to T-1h: the closing tier's gap is overdue.
    let now = c - h(1);
    let plan = next_odds_fetch(now, &games, &[c - h(5)], &s, &Spend::default());
    assert_eq!(plan.at, now);
    assert!(plan.is_due(now));
}

#[test]
fn a_far_deadline_is_waited_for_with_free_looks_at_the_listing() {
    let s = PlannerSettings::default();
    let c = t("2026-01-20T00:00:00Z");
    let games = listed(&[c], c - h(120));
    let now = c - h(119);
    let plan = next_odds_fetch(now, &games, &[], &s, &Spend::default());
    assert_eq!(
        (plan.kind, plan.at),
        (PlanKind::Discover, now + s.rediscover)
    );
    assert!(plan.reason.contains("opening coverage"), "{}", plan.reason);
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
        ("REDISCOVER_MINUTES", "5"),
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

#[test]
fn a_budget_too_small_for_the_policy_drops_the_densest_gaps_first() {
    let c = t("2026-01-20T00:00:00Z");
    let now = c - h(20);
    // A night of 8 games at two tip-off times, listed two days ahead.
    let mut games = listed(&[c; 4], now - h(28));
    games.extend(listed(&[c + m(90); 4], now - h(28)));
    let spend = Spend {
        month_spent: 0,
        remaining: None,
        credits_per_fetch: 3,
        credits_per_closing: 0,
    };
    let unlimited = next_odds_fetch(now, &games, &[], &PlannerSettings::default(), &spend);
    assert!(unlimited.dropped.is_empty());
    let mut s = PlannerSettings::default();
    // The standard plan of this night alone costs more than 20 credits.
    s.budget.monthly_credits = Some(20);
    let plan = next_odds_fetch(now, &games, &[], &s, &spend);
    let dropped: Vec<Requirement> = plan
        .dropped
        .iter()
        .filter(|d| d.event_id.is_none())
        .map(|d| d.requirement)
        .collect();
    assert_eq!(dropped[0], Requirement::Gap(FetchTier::Closing), "{plan:?}");
    assert!(!dropped.contains(&Requirement::Closing), "{plan:?}");
    assert!(
        plan.reason.contains("left out: closing gap"),
        "{}",
        plan.reason
    );
    assert!(
        plan.reason.contains("month projected at"),
        "{}",
        plan.reason
    );
}

#[test]
fn a_spent_budget_refuses_the_fetch_and_looks_again_at_the_next_utc_day() {
    let c = t("2026-01-20T00:00:00Z");
    let games = listed(&[c], c - h(30));
    let now = c - m(5);
    let mut s = PlannerSettings::default();
    s.budget.monthly_credits = Some(100);
    let spent = Spend {
        month_spent: 99,
        remaining: None,
        credits_per_fetch: 3,
        credits_per_closing: 0,
    };
    let plan = next_odds_fetch(now, &games, &[c - m(30)], &s, &spent);
    assert!(!plan.is_due(now), "{plan:?}");
    assert_eq!(plan.at, c, "the spend allowed can change at midnight UTC");
    let refused = plan.dropped.iter().find(|d| d.event_id.is_some()).unwrap();
    assert_eq!(refused.requirement, Requirement::Closing);
    assert!(refused.why.contains("budget of 100"), "{refused:?}");
    // With credits to spare it is made (the month's projection, 58 + 3 and this one game's
    // rate over the rest of the month, fits: no pacing).
    let spare = Spend {
        month_spent: 58,
        ..spent
    };
    assert!(next_odds_fetch(now, &games, &[c - m(30)], &s, &spare).is_due(now));
}

#[test]
fn the_reserve_is_kept_for_closing_captures() {
    let c = t("2026-01-20T00:00:00Z");
    let games = listed(&[c], c - h(30));
    let s = PlannerSettings::default();
    let low = Spend {
        month_spent: 0,
        remaining: Some(s.budget.closing_reserve + 2),
        credits_per_fetch: 3,
        credits_per_closing: 0,
    };
    // T-60: the closing tier's gap is due, but it would dip into the reserve.
    let now = c - m(60);
    let plan = next_odds_fetch(now, &games, &[c - m(90)], &s, &low);
    assert!(!plan.is_due(now), "{plan:?}");
    assert!(
        plan.dropped
            .iter()
            .any(|d| d.why.contains("kept for closing"))
    );
    // The closing capture may use it (this fetch also makes up the overdue gap).
    let now = c - m(5);
    let plan = next_odds_fetch(now, &games, &[c - m(90)], &s, &low);
    assert!(plan.is_due(now), "{plan:?}");
    assert!(plan.dropped.is_empty(), "{plan:?}");
}

#[test]
fn the_offline_plan_is_the_online_chain_of_runs() {
    use crate::requirements::{Rules, plan_until, refuse_nothing};
    let start = t("2026-01-10T00:00:00Z");
    let mut next = crate::requirements::tests::seeded(11);
    for round in 0..12 {
        let s = PlannerSettings {
            policy: if round % 2 == 0 {
                CollectionPolicy::standard()
            } else {
                CollectionPolicy::economy()
            },
            ..PlannerSettings::default()
        };
        // Listed five days ahead, as the simulator lists them, over two weeks.
        let games: Vec<GameView> = (0..20 + next(20))
            .map(|i| {
                let tip =
                    start + Duration::days(5 + next(10) as i64) + h(23) + m(30 * next(7) as i64);
                let mut g = listed(&[tip], tip - h(120)).remove(0);
                g.event_id = format!("{round}-{i}");
                g
            })
            .collect();
        let end = start + Duration::days(16);
        let online = times(&simulate(&games, start, end, &s));
        let rules = Rules {
            policy: &s.policy,
            active: &s.policy.drop_order(),
            lookahead: s.lookahead,
        };
        let offline: Vec<DateTime<Utc>> =
            plan_until(start, end, &games, &[], &rules, &mut refuse_nothing)
                .iter()
                .map(|p| p.at)
                .collect();
        assert_eq!(online, offline, "round {round}");
    }
}
