//! A monthly credit budget: project the billing month's spend from the known schedule, drop
//! requirements in the policy's stated order until the projection fits, and never make a paid
//! call the month (or the reserve kept for closing captures) cannot afford.
//!
//! The projection counts the credits already spent this billing month, the fetches the
//! earliest-deadline rule plans for the known games, and, past what the listing shows, the
//! plan's own daily rate for the rest of the month. The listing shows a few days ahead, so the
//! rate is taken over the first half of the look-ahead, where every known game's whole
//! closing tier is planned.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::requirements::{
    CollectionPolicy, GameView, PlannedFetch, Requirement, Rules, plan_until, refuse_nothing,
};
use crate::settings::{ConfigError, Vars};
use crate::time::utc_midnight;

/// `ODDS_API_MONTHLY_CREDITS`, `ODDS_API_BILLING_DAY` and `ODDS_API_CLOSING_RESERVE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BudgetSettings {
    /// Credits the user will spend per billing month; `None` is no budget.
    pub monthly_credits: Option<i64>,
    /// The day of the month (UTC) a billing month starts.
    pub billing_day: u32,
    /// Credits of the plan's quota (`x-requests-remaining`) only closing captures may use.
    pub closing_reserve: i64,
}

impl Default for BudgetSettings {
    fn default() -> Self {
        BudgetSettings {
            monthly_credits: None,
            billing_day: 1,
            closing_reserve: 30,
        }
    }
}

impl BudgetSettings {
    pub fn from_vars(vars: &Vars) -> Result<BudgetSettings, ConfigError> {
        let d = BudgetSettings::default();
        let ranged = |name: &'static str, what: &'static str| {
            move |e: ConfigError| ConfigError::new(name, format!("{} ({what})", e.message))
        };
        let monthly_credits = match vars.get("ODDS_API_MONTHLY_CREDITS") {
            None => None,
            Some(_) => Some(
                vars.parse_or("ODDS_API_MONTHLY_CREDITS", 0i64, |n| {
                    (1..=100_000_000).contains(n)
                })
                .map_err(ranged("ODDS_API_MONTHLY_CREDITS", "1..=100000000 credits"))?,
            ),
        };
        Ok(BudgetSettings {
            monthly_credits,
            billing_day: vars
                .parse_or("ODDS_API_BILLING_DAY", d.billing_day, |n| {
                    (1..=28).contains(n)
                })
                .map_err(ranged("ODDS_API_BILLING_DAY", "1..=28"))?,
            closing_reserve: vars
                .parse_or("ODDS_API_CLOSING_RESERVE", d.closing_reserve, |n| {
                    (0..=1_000_000).contains(n)
                })
                .map_err(ranged("ODDS_API_CLOSING_RESERVE", "0..=1000000 credits"))?,
        })
    }

    /// The billing month holding `now`: from the billing day (00:00 UTC) to the next.
    pub fn month_of(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let day = self.billing_day.clamp(1, 28);
        let this = NaiveDate::from_ymd_opt(now.year(), now.month(), day).unwrap_or_default();
        let start = if now.date_naive() >= this {
            this
        } else {
            this - chrono::Months::new(1)
        };
        let end = start + chrono::Months::new(1);
        (utc_midnight(start), utc_midnight(end))
    }
}

/// What has been spent, and what a call costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Spend {
    /// Credits used since the billing month started, every endpoint.
    pub month_spent: i64,
    /// The last `x-requests-remaining` seen.
    pub remaining: Option<i64>,
    /// What one `/odds` round (every sport) costs.
    pub credits_per_fetch: i64,
    /// What the per-event markets (`EVENT_MARKETS`) of one game's closing capture cost at most;
    /// 0 without them.
    pub credits_per_closing: i64,
}

impl Spend {
    /// What a planned fetch costs: the round, and the per-event markets of the games it is the
    /// closing capture of.
    pub fn cost_of(&self, fetch: &PlannedFetch) -> i64 {
        self.credits_per_fetch + fetch.closings_served as i64 * self.credits_per_closing
    }
}

/// The month's spend as projected for one set of requirements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    pub month_start: DateTime<Utc>,
    pub month_end: DateTime<Utc>,
    pub spent: i64,
    /// Fetches planned for the known games inside the month and the rate span.
    pub planned_fetches: usize,
    pub planned_credits: i64,
    /// The plan's daily rate carried over the month's days the listing does not show yet.
    pub extrapolated_credits: i64,
}

impl Projection {
    pub fn total(&self) -> i64 {
        self.spent + self.planned_credits + self.extrapolated_credits
    }
}

/// Projects the billing month's credits for `rules`.
pub fn project(
    now: DateTime<Utc>,
    games: &[GameView],
    fetches: &[DateTime<Utc>],
    rules: &Rules,
    spend: &Spend,
    budget: &BudgetSettings,
) -> Projection {
    let (month_start, month_end) = budget.month_of(now);
    let rate_span = rules.lookahead / 2;
    let shown_until = now + rate_span;
    // Only the rate span is counted, and a plan's early fetches do not depend on its later
    // ones: planning stops there (the budget runs this at several levels per decision).
    let plan = plan_until(now, shown_until, games, fetches, rules, &mut refuse_nothing);
    let in_rate_span: Vec<&PlannedFetch> = plan.iter().filter(|p| p.at < shown_until).collect();
    let unseen = (month_end - shown_until).max(Duration::zero());
    let extrapolated = in_rate_span.iter().map(|p| spend.cost_of(p)).sum::<i64>()
        * unseen.num_minutes()
        / rate_span.num_minutes().max(1);
    // Fetches the listing shows past the rate span are replaced by the rate.
    let counted: Vec<&PlannedFetch> = in_rate_span
        .into_iter()
        .filter(|p| p.at < month_end)
        .collect();
    Projection {
        month_start,
        month_end,
        spent: spend.month_spent,
        planned_fetches: counted.len(),
        planned_credits: counted.iter().map(|p| spend.cost_of(p)).sum(),
        extrapolated_credits: extrapolated,
    }
}

/// The requirements kept under the budget, those dropped, and the projection that chose them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allotment {
    pub active: Vec<Requirement>,
    pub dropped: Vec<Requirement>,
    /// `None` without a budget.
    pub projection: Option<Projection>,
    /// Even the closing captures alone are projected over the budget: they are paced.
    pub paced: bool,
}

/// Drops the fewest requirements, in the policy's order, whose projection fits the budget.
pub fn allot(
    now: DateTime<Utc>,
    games: &[GameView],
    fetches: &[DateTime<Utc>],
    policy: &CollectionPolicy,
    lookahead: Duration,
    spend: &Spend,
    budget: &BudgetSettings,
) -> Allotment {
    let order = policy.drop_order();
    let Some(limit) = budget.monthly_credits else {
        return Allotment {
            active: order,
            dropped: Vec::new(),
            projection: None,
            paced: false,
        };
    };
    let projected = |level: usize| {
        let rules = Rules {
            policy,
            active: &order[level..],
            lookahead,
        };
        project(now, games, fetches, &rules, spend, budget)
    };
    // Spend falls as requirements are dropped: the first level that fits, by bisection.
    let last = order.len() - 1;
    let (mut lo, mut hi) = (0, last);
    let mut at_hi = projected(hi);
    if at_hi.total() <= limit {
        while lo < hi {
            let mid = (lo + hi) / 2;
            let p = projected(mid);
            if p.total() <= limit {
                hi = mid;
                at_hi = p;
            } else {
                lo = mid + 1;
            }
        }
    }
    let paced = at_hi.total() > limit;
    Allotment {
        active: order[hi..].to_vec(),
        dropped: order[..hi].to_vec(),
        projection: Some(at_hi),
        paced,
    }
}

/// Why a paid fetch cannot be made now, if it cannot.
pub fn refusal(
    now: DateTime<Utc>,
    fetch: &PlannedFetch,
    spend: &Spend,
    budget: &BudgetSettings,
    paced: bool,
) -> Option<String> {
    let closing = fetch.closing;
    let cost = spend.cost_of(fetch);
    if let Some(remaining) = spend.remaining {
        let floor = if closing { 0 } else { budget.closing_reserve };
        if remaining - cost < floor {
            return Some(format!(
                "{remaining} credits remain on the plan and {floor} are kept for closing captures"
            ));
        }
    }
    let limit = budget.monthly_credits?;
    if spend.month_spent + cost > limit {
        return Some(format!(
            "the month's budget of {limit} credits is spent ({} used)",
            spend.month_spent
        ));
    }
    if paced {
        // Spread what is left over the month: no more than its share of the days so far.
        let (start, end) = budget.month_of(now);
        let days = (end - start).num_days().max(1);
        let elapsed = (now - start).num_days() + 1;
        let allowance = limit * elapsed / days;
        if spend.month_spent + cost > allowance {
            return Some(format!(
                "paced: {} of the {allowance} credits allowed by day {elapsed} of {days} are used",
                spend.month_spent
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::lookup_from_pairs;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn billing_months_start_on_the_billing_day() {
        let b = BudgetSettings {
            billing_day: 15,
            ..BudgetSettings::default()
        };
        assert_eq!(
            b.month_of(t("2026-12-20T10:00:00Z")),
            (t("2026-12-15T00:00:00Z"), t("2027-01-15T00:00:00Z"))
        );
        assert_eq!(
            b.month_of(t("2026-12-14T23:59:00Z")),
            (t("2026-11-15T00:00:00Z"), t("2026-12-15T00:00:00Z"))
        );
        let calendar = BudgetSettings::default();
        assert_eq!(
            calendar.month_of(t("2027-02-28T12:00:00Z")),
            (t("2027-02-01T00:00:00Z"), t("2027-03-01T00:00:00Z"))
        );
    }

    #[test]
    fn budget_settings_are_checked() {
        let read =
            |pairs: &[(&str, &str)]| BudgetSettings::from_vars(&Vars(&lookup_from_pairs(pairs)));
        assert_eq!(read(&[]).unwrap(), BudgetSettings::default());
        assert_eq!(
            read(&[("ODDS_API_MONTHLY_CREDITS", "500")])
                .unwrap()
                .monthly_credits,
            Some(500)
        );
        for (var, bad) in [
            ("ODDS_API_MONTHLY_CREDITS", "0"),
            ("ODDS_API_MONTHLY_CREDITS", "lots"),
            ("ODDS_API_BILLING_DAY", "31"),
            ("ODDS_API_CLOSING_RESERVE", "-1"),
        ] {
            let err = read(&[(var, bad)]).unwrap_err();
            assert_eq!(err.var, var);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn a_call_is_refused_past_the_budget_and_into_the_reserve_except_for_the_close() {
        let b = BudgetSettings {
            monthly_credits: Some(100),
            ..BudgetSettings::default()
        };
        let now = t("2026-12-10T12:00:00Z");
        let fetch = |closings_served| PlannedFetch {
            at: now,
            requirement: Requirement::Closing,
            event_id: "e".into(),
            matchup: "A @ B".into(),
            commence_time: now,
            needs_served: 1,
            games_served: 1,
            closings_served,
            closing: closings_served > 0,
        };
        let (gap, close) = (&fetch(0), &fetch(1));
        let spend = |month_spent, remaining| Spend {
            month_spent,
            remaining,
            credits_per_fetch: 3,
            credits_per_closing: 0,
        };
        assert_eq!(refusal(now, gap, &spend(97, None), &b, false), None);
        assert!(
            refusal(now, gap, &spend(98, None), &b, false)
                .unwrap()
                .contains("budget of 100")
        );
        // 31 remaining: a gap fetch would leave 28, under the reserve of 30; a close may.
        assert!(
            refusal(now, gap, &spend(0, Some(31)), &b, false)
                .unwrap()
                .contains("kept for closing")
        );
        assert_eq!(refusal(now, close, &spend(0, Some(31)), &b, false), None);
        assert!(refusal(now, close, &spend(0, Some(2)), &b, false).is_some());
        // Paced: by day 10 of 31, at most 100 * 10 / 31 = 32 credits.
        assert_eq!(refusal(now, close, &spend(29, None), &b, true), None);
        assert!(
            refusal(now, close, &spend(30, None), &b, true)
                .unwrap()
                .contains("paced")
        );
    }

    #[test]
    fn a_closing_capture_costs_its_per_event_markets_too() {
        let b = BudgetSettings {
            monthly_credits: Some(100),
            ..BudgetSettings::default()
        };
        let now = t("2026-12-10T12:00:00Z");
        let three_closings = PlannedFetch {
            at: now,
            requirement: Requirement::Closing,
            event_id: "e".into(),
            matchup: "A @ B".into(),
            commence_time: now,
            needs_served: 3,
            games_served: 3,
            closings_served: 3,
            closing: true,
        };
        // Three games' player props at 2 credits each, on top of the 3-credit round.
        let spend = Spend {
            month_spent: 91,
            remaining: None,
            credits_per_fetch: 3,
            credits_per_closing: 2,
        };
        assert_eq!(spend.cost_of(&three_closings), 9);
        assert_eq!(refusal(now, &three_closings, &spend, &b, false), None);
        let spend = Spend {
            month_spent: 92,
            ..spend
        };
        assert!(refusal(now, &three_closings, &spend, &b, false).is_some());
    }
}
