use super::*;
use crate::settings::lookup_from_pairs;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn game(commence: DateTime<Utc>, listed: DateTime<Utc>) -> GameView {
    GameView {
        event_id: format!("g{}", commence.timestamp()),
        matchup: "Away @ Home".into(),
        commence_time: commence,
        listed_at: listed,
    }
}

/// A repeatable stream of numbers below `n` for random slates (a linear congruential step).
pub(crate) fn seeded(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    }
}

fn policy(pairs: &[(&str, &str)]) -> Result<CollectionPolicy, ConfigError> {
    CollectionPolicy::from_vars(&Vars(&lookup_from_pairs(pairs)))
}

#[test]
fn presets_and_custom_intervals_come_from_configuration() {
    assert_eq!(policy(&[]).unwrap(), CollectionPolicy::standard());
    assert_eq!(
        policy(&[("COLLECTION_POLICY", "Economy")]).unwrap(),
        CollectionPolicy::economy()
    );
    let custom = policy(&[
        ("COLLECTION_POLICY", "custom"),
        ("COLLECTION_INTERVALS", "closing=20m, pregame=2h"),
    ])
    .unwrap();
    assert_eq!(custom.name, PolicyName::Custom);
    assert_eq!(
        custom.gaps[FetchTier::Closing as usize],
        Some(Duration::minutes(20))
    );
    assert_eq!(
        custom.gaps[FetchTier::Pregame as usize],
        Some(Duration::hours(2))
    );
    assert_eq!(custom.gaps[FetchTier::Opening as usize], None);
    assert!(custom.coverage);
}

#[test]
fn a_bad_policy_setting_names_the_variable_in_one_line() {
    for (pairs, var, needle) in [
        (
            vec![("COLLECTION_POLICY", "lavish")],
            "COLLECTION_POLICY",
            "lavish",
        ),
        (
            vec![("COLLECTION_POLICY", "custom")],
            "COLLECTION_INTERVALS",
            "required",
        ),
        (
            vec![("COLLECTION_INTERVALS", "closing=20m")],
            "COLLECTION_INTERVALS",
            "only read",
        ),
        (
            vec![
                ("COLLECTION_POLICY", "custom"),
                ("COLLECTION_INTERVALS", "closing=2m"),
            ],
            "COLLECTION_INTERVALS",
            "2m",
        ),
        (
            vec![
                ("COLLECTION_POLICY", "custom"),
                ("COLLECTION_INTERVALS", "dawn=2h"),
            ],
            "COLLECTION_INTERVALS",
            "dawn",
        ),
        (
            vec![
                ("COLLECTION_POLICY", "custom"),
                ("COLLECTION_INTERVALS", "sharp=1h,sharp=2h"),
            ],
            "COLLECTION_INTERVALS",
            "twice",
        ),
        (
            vec![
                ("COLLECTION_POLICY", "custom"),
                ("COLLECTION_INTERVALS", "sharp"),
            ],
            "COLLECTION_INTERVALS",
            "tier=interval",
        ),
    ] {
        let err = policy(&pairs).unwrap_err();
        assert_eq!(err.var, var, "{pairs:?}");
        let line = err.to_string();
        assert!(line.contains(needle) && !line.contains('\n'), "{line}");
    }
}

#[test]
fn a_budget_drops_the_densest_gaps_first_and_the_closing_capture_last() {
    use FetchTier::*;
    use Requirement::{Coverage, Gap};
    assert_eq!(
        CollectionPolicy::standard().drop_order(),
        [
            Gap(Closing),
            Gap(Pregame),
            Gap(Sharp),
            Gap(Early),
            Gap(Opening),
            Coverage(Opening),
            Coverage(Early),
            Coverage(Sharp),
            Coverage(Pregame),
            Coverage(Closing),
            Requirement::Closing,
        ]
    );
    assert_eq!(
        CollectionPolicy::economy().drop_order()[0],
        Coverage(Opening)
    );
}

#[test]
fn met_judges_gaps_coverage_and_the_close_by_hand_computed_cases() {
    let s = CollectionPolicy::standard();
    let c = t("2026-01-20T00:00:00Z");
    let g = game(c, c - Duration::hours(120));
    let week = Duration::days(7);
    let at = |minutes_before: i64| c - Duration::minutes(minutes_before);
    let gap = Requirement::Gap(FetchTier::Closing);
    // 30 min gaps from T-3h: T-150, T-120, T-90, T-60, T-30 meet it exactly.
    let exact = [at(150), at(120), at(90), at(60), at(30)];
    assert!(met(gap, &g, &exact, &s, week));
    // One missing in the middle leaves a 60 minute hole.
    assert!(!met(gap, &g, &[at(150), at(120), at(60), at(30)], &s, week));
    // The last stretch counts too: nothing after T-31 is 31 minutes to tip-off.
    assert!(!met(
        gap,
        &g,
        &[at(150), at(120), at(90), at(60), at(31)],
        &s,
        week
    ));
    // The close is met from T-10 to T-2, both included, and not outside.
    let close = Requirement::Closing;
    assert!(met(close, &g, &[at(10)], &s, week));
    assert!(met(close, &g, &[at(2)], &s, week));
    assert!(!met(close, &g, &[at(11)], &s, week));
    assert!(!met(close, &g, &[at(1)], &s, week));
    // Windows are half-open: T-3h belongs to closing, not pregame.
    let pregame = Requirement::Coverage(FetchTier::Pregame);
    assert!(!met(pregame, &g, &[at(180)], &s, week));
    assert!(met(pregame, &g, &[at(181)], &s, week));
    // A game listed inside the sharp window has no opening or early requirement.
    let late = game(c, c - Duration::hours(20));
    assert!(met(
        Requirement::Coverage(FetchTier::Early),
        &late,
        &[],
        &s,
        week
    ));
    assert!(!met(
        Requirement::Coverage(FetchTier::Sharp),
        &late,
        &[],
        &s,
        week
    ));
}

/// Small random slates: the earliest-deadline plan meets every requirement, and no fetch of
/// it can be left out without breaking one (it is minimal; optimality is the stabbing
/// argument in the module docs).
#[test]
fn the_plan_meets_every_requirement_and_every_fetch_is_needed() {
    let mut next = seeded(7);
    let start = t("2026-01-10T00:00:00Z");
    for round in 0..30 {
        let policy = if round % 2 == 0 {
            CollectionPolicy::standard()
        } else {
            CollectionPolicy::economy()
        };
        let games: Vec<GameView> = (0..1 + next(5))
            .map(|i| {
                let commence = start
                    + Duration::hours(24 + next(150) as i64)
                    + Duration::minutes(30 * next(2) as i64);
                let mut g = game(commence, start + Duration::hours(next(48) as i64));
                g.event_id = format!("{round}-{i}");
                g
            })
            .collect();
        let week = Duration::days(7);
        let active = policy.drop_order();
        let plan = plan_until(
            start,
            start + Duration::days(30),
            &games,
            &[],
            &Rules {
                policy: &policy,
                active: &active,
                lookahead: week,
            },
            &mut refuse_nothing,
        );
        let made: Vec<DateTime<Utc>> = plan.iter().map(|p| p.at).collect();
        let all_met = |fetches: &[DateTime<Utc>]| {
            games
                .iter()
                .all(|g| active.iter().all(|r| met(*r, g, fetches, &policy, week)))
        };
        assert!(all_met(&made), "round {round}: {plan:#?}");
        for i in 0..made.len() {
            let mut fewer = made.clone();
            fewer.remove(i);
            assert!(
                !all_met(&fewer),
                "round {round}: the fetch at {} is not needed",
                made[i]
            );
        }
    }
}

#[test]
fn a_plan_explains_each_fetch_by_the_requirement_whose_deadline_it_is() {
    let c = t("2026-01-20T00:00:00Z");
    let a = game(c, c - Duration::hours(120));
    let mut b = game(c + Duration::minutes(30), c - Duration::hours(120));
    b.matchup = "Second @ Game".into();
    let policy = CollectionPolicy::economy();
    let plan = plan_until(
        c - Duration::hours(4),
        c + Duration::hours(1),
        &[a, b],
        &[],
        &Rules {
            policy: &policy,
            active: &policy.drop_order(),
            lookahead: Duration::days(7),
        },
        &mut refuse_nothing,
    );
    let summary: Vec<(Requirement, &str, usize)> = plan
        .iter()
        .map(|p| (p.requirement, p.matchup.as_str(), p.games_served))
        .collect();
    assert_eq!(
        summary,
        [
            // Pregame coverage of the first game serves the second's too.
            (Requirement::Coverage(FetchTier::Pregame), "Away @ Home", 2),
            (Requirement::Closing, "Away @ Home", 2),
            (Requirement::Closing, "Second @ Game", 1),
        ]
    );
}
