use super::*;

const HOME: &str = "Boston Celtics";
const AWAY: &str = "Golden State Warriors";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A line of `book`; `reference` books price their own lines fair at `fair`.
fn line(
    book: &str,
    market: &str,
    outcome: &str,
    point: Option<f64>,
    price: f64,
    fair: Option<f64>,
) -> ClosingLine {
    ClosingLine {
        event_id: String::new(),
        book: book.into(),
        market: market.into(),
        outcome: outcome.into(),
        description: None,
        point,
        price,
        taken_at: t("2026-01-10T23:00:00Z"),
        book_fair_probability: fair,
        fair_probability: fair,
        reference: fair.map(|_| "pinnacle".to_string()),
    }
}

fn game(id: &str, commence: &str, score: Option<(i32, i32)>, quotes: Vec<ClosingLine>) -> GameData {
    let commence_time = t(commence);
    let mut quotes = quotes;
    for q in &mut quotes {
        q.event_id = id.into();
    }
    GameData {
        event_id: id.into(),
        home_team: HOME.into(),
        away_team: AWAY.into(),
        commence_time,
        final_score: score,
        decision_time: commence_time - chrono::Duration::hours(1),
        closes: quotes.clone(),
        quotes,
    }
}

/// Pinnacle -110/-110 on the moneyline, and on a spread of home -7.5.
fn even_market() -> Vec<ClosingLine> {
    vec![
        line("pinnacle", "h2h", HOME, None, -110.0, Some(0.5)),
        line("pinnacle", "h2h", AWAY, None, -110.0, Some(0.5)),
        line("pinnacle", "spreads", HOME, Some(-7.5), -110.0, Some(0.5)),
        line("pinnacle", "spreads", AWAY, Some(7.5), -110.0, Some(0.5)),
    ]
}

fn flat(stake: f64) -> BacktestSettings {
    BacktestSettings {
        sizing: Sizing::Flat { stake },
        bankroll: 1_000.0,
        max_night_exposure: 1.0,
    }
}

#[test]
fn away_plus_seven_and_a_half_losing_by_five_is_a_win() {
    // Home 105, away 100: the Warriors +7.5 cover.
    let g = game("g", "2026-01-11T00:00:00Z", Some((105, 100)), even_market());
    let strategy = FlatSide {
        side: Choice::Away,
        filter: Filter {
            market: Some("spreads".into()),
            book: None,
        },
    };
    let report = run(&[g], &strategy, &flat(110.0));
    let bet = &report.bets[0];
    assert_eq!((bet.outcome.as_str(), bet.point), (AWAY, Some(7.5)));
    assert_eq!(bet.result, Some(Outcome::Win));
    assert_eq!(bet.profit, Some(100.0));
    assert_eq!(report.summary.final_bankroll, 1_100.0);
}

#[test]
fn the_closing_baseline_has_zero_price_clv_and_loses_the_margin() {
    let g = game("g", "2026-01-11T00:00:00Z", Some((100, 90)), even_market());
    let strategy = AtTheClose {
        side: Choice::Home,
        filter: Filter::default(),
    };
    let report = run(&[g], &strategy, &flat(100.0));
    let bet = &report.bets[0];
    assert_eq!(bet.clv_price, Some(0.0));
    assert!((bet.clv.unwrap() - (0.5 - 110.0 / 210.0)).abs() < 1e-12);
}

#[test]
fn a_nights_bets_are_sized_from_its_opening_bankroll_and_its_exposure_capped() {
    // Two games the same Eastern night, one the next: DraftKings +120 against a fair 50%.
    let quotes = || {
        let mut q = even_market();
        q.push(line("draftkings", "h2h", HOME, None, 120.0, None));
        for l in &mut q {
            if l.book == "draftkings" {
                l.fair_probability = Some(0.5);
                l.reference = Some("pinnacle".into());
            }
        }
        q
    };
    let games = vec![
        game("a", "2026-01-11T00:00:00Z", Some((100, 90)), quotes()),
        game("b", "2026-01-11T03:00:00Z", Some((90, 100)), quotes()),
        game("c", "2026-01-12T00:00:00Z", Some((100, 90)), quotes()),
    ];
    let strategy = ExpectedValue {
        min_edge: 0.02,
        filter: Filter::default(),
    };
    // Kelly at +120 with p = 0.5: (0.5·2.2 − 1)/1.2 = 1/12; a half Kelly is 1/24 of 1,000.
    let settings = BacktestSettings {
        sizing: Sizing::Kelly {
            fraction: 0.5,
            cap: 1.0,
        },
        bankroll: 1_000.0,
        max_night_exposure: 0.05,
    };
    let report = run(&games, &strategy, &settings);
    assert_eq!(report.bets.len(), 3);
    // Night one: 41.67 each would be 83.33, over the 5% cap of 50: both scaled to 25.
    assert!((report.bets[0].stake - 25.0).abs() < 1e-9);
    assert!((report.bets[1].stake - 25.0).abs() < 1e-9);
    // +30 on a, -25 on b: night two opens at 1,005 and stakes 1,005/24 (under the cap).
    assert!((report.curve[0].1 - 1_005.0).abs() < 1e-9);
    assert!((report.bets[2].stake - 1_005.0 / 24.0).abs() < 1e-9);
    assert!(
        report
            .bets
            .iter()
            .all(|b| (b.edge.unwrap() - 0.1).abs() < 1e-12)
    );
    assert_eq!(report.summary.totals.record.wins, 2);
    // Yield and return on bankroll are different numbers.
    let profit = report.summary.totals.profit;
    assert!(
        (report.summary.totals.roi_on_turnover.unwrap() - profit / report.summary.totals.turnover)
            .abs()
            < 1e-12
    );
    assert!((report.summary.return_on_bankroll.unwrap() - profit / 1_000.0).abs() < 1e-12);
    // Deterministic.
    assert_eq!(run(&games, &strategy, &settings), report);
}

#[test]
fn no_edge_no_bet() {
    // DraftKings -110 against a fair 50%: negative edge, whatever the minimum.
    let mut quotes = even_market();
    quotes.push(line("draftkings", "h2h", HOME, None, -105.0, Some(0.5)));
    let g = game("g", "2026-01-11T00:00:00Z", Some((100, 90)), quotes);
    for min_edge in [0.0, -1.0] {
        let strategy = ExpectedValue {
            min_edge,
            filter: Filter::default(),
        };
        let report = run(std::slice::from_ref(&g), &strategy, &flat(10.0));
        assert!(report.bets.is_empty(), "{:?}", report.bets);
    }
}

#[test]
fn arbitrage_matches_mirrored_points_and_balances_the_payouts() {
    let quotes = vec![
        line("a", "h2h", HOME, None, 110.0, None),
        line("b", "h2h", AWAY, None, 110.0, None),
        line("a", "spreads", HOME, Some(-3.5), 105.0, None),
        line("b", "spreads", AWAY, Some(3.5), 100.0, None),
        // Not mirrored: +4.5 against -3.5 is a middle, not an arbitrage.
        line("c", "spreads", AWAY, Some(4.5), 150.0, None),
        line("a", "totals", "Over", Some(220.5), -110.0, None),
        line("b", "totals", "Under", Some(221.5), 130.0, None),
    ];
    let g = game("g", "2026-01-11T00:00:00Z", Some((100, 96)), quotes);
    let report = run(
        &[g],
        &Arbitrage {
            filter: Filter::default(),
        },
        &flat(100.0),
    );
    let markets: Vec<&str> = report.bets.iter().map(|b| b.market.as_str()).collect();
    assert_eq!(markets, ["h2h", "h2h", "spreads", "spreads"]);
    let spread: Vec<&BetRecord> = report
        .bets
        .iter()
        .filter(|b| b.market == "spreads")
        .collect();
    assert_eq!(spread[1].point, Some(3.5));
    // Either leg pays the same: stake × decimal equal.
    let pay = |b: &BetRecord| b.stake * american_to_decimal(b.price).unwrap();
    assert!((pay(spread[0]) - pay(spread[1])).abs() < 1e-9);
    assert!((spread[0].stake + spread[1].stake - 100.0).abs() < 1e-9);
    // Home won by 4: home -3.5 wins, away +3.5 loses; the pair still profits.
    let pair: f64 = spread.iter().map(|b| b.profit.unwrap()).sum();
    assert!(pair > 0.0);
}

#[test]
fn games_not_final_are_reported_not_graded() {
    let games = vec![
        game(
            "done",
            "2026-01-11T00:00:00Z",
            Some((100, 90)),
            even_market(),
        ),
        game("pending", "2026-01-11T01:00:00Z", None, even_market()),
    ];
    let strategy = FlatSide {
        side: Choice::Favourite,
        filter: Filter::default(),
    };
    let report = run(&games, &strategy, &flat(110.0));
    assert_eq!(report.bets.len(), 2);
    assert_eq!(report.summary.ungraded, 1);
    assert_eq!(report.summary.totals.turnover, 110.0);
    assert_eq!(report.bets[1].result, None);
    assert_eq!(report.by_month["2026-01"].bets, 2);
}
