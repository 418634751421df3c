//! What a simulated run achieved, read back from the database and the simulator's call log:
//! credits, closing-line capture and tier coverage per game.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use odds_core::FetchTier;
use odds_core::planner::Dropped;
use odds_core::requirements::{
    CollectionPolicy, GameView, Requirement, Rules, met, plan_until, refuse_nothing,
};
use odds_store::Store;
use serde::Serialize;

use crate::simulator::{CallRecord, LISTING_LEAD_HOURS, ScheduledGame};

/// One game's record in a run.
#[derive(Debug, Clone, Serialize)]
pub struct GameReport {
    pub id: String,
    pub matchup: String,
    pub commence_time: DateTime<Utc>,
    pub snapshots_per_tier: [i64; 5],
    /// Minutes between the last snapshot and tip-off.
    pub closing_minutes: Option<f64>,
    pub status: String,
    pub score: Option<(i32, i32)>,
    /// Tier windows the game was listed for, and whether each has a snapshot.
    pub windows: Vec<(FetchTier, bool)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub games: usize,
    pub calls: usize,
    pub calls_by_endpoint: Vec<(String, usize)>,
    pub credits: i64,
    pub closing_median_minutes: Option<f64>,
    pub closing_p95_minutes: Option<f64>,
    pub closing_within_10_min: f64,
    /// Per tier: share of the games listed during the tier window that have a snapshot in it.
    pub tier_coverage: Vec<(FetchTier, f64)>,
    pub games_final: usize,
    /// Paid `/odds` calls (those that priced at least one game).
    pub odds_calls: usize,
    /// The fewest `/odds` calls that meet every requirement of the policy the run is judged
    /// by, for the same games, listed when the collector first saw them.
    pub optimum_odds_calls: Option<usize>,
    /// Share of games whose every requirement was met by their stored snapshots.
    pub requirements_met: Option<f64>,
    /// Requirements not met, with how many games missed each.
    pub unmet: Vec<(String, usize)>,
    /// Credits per calendar month (UTC), `YYYY-MM`.
    pub credits_by_month: Vec<(String, i64)>,
    /// Requirements a budget dropped for every game, with the number of days it did.
    pub dropped_days: Vec<(String, usize)>,
    /// Fetches a budget or the reserve refused, as the number of games per requirement.
    pub refused_games: Vec<(String, usize)>,
    #[serde(skip)]
    pub per_game: Vec<GameReport>,
}

pub async fn game_reports(
    store: &Store,
    games: &[ScheduledGame],
    started_at: DateTime<Utc>,
) -> anyhow::Result<Vec<GameReport>> {
    let client = store.pool().get().await?;
    let ids: Vec<&str> = games.iter().map(|g| g.id.as_str()).collect();
    let rows = client
        .query(
            "SELECT event_id, fetch_tier, snapshot_time FROM odds_snapshots WHERE event_id = ANY($1)",
            &[&ids],
        )
        .await?;
    let mut snapshots: HashMap<String, Vec<(FetchTier, DateTime<Utc>)>> = HashMap::new();
    for r in &rows {
        let tier: String = r.get(1);
        snapshots
            .entry(r.get(0))
            .or_default()
            .push((tier.parse().unwrap_or(FetchTier::Opening), r.get(2)));
    }
    let statuses = client
        .query(
            "SELECT id, status, home_score, away_score FROM events WHERE id = ANY($1)",
            &[&ids],
        )
        .await?;
    let status: HashMap<String, (String, Option<i32>, Option<i32>)> = statuses
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect();
    Ok(games
        .iter()
        .map(|g| {
            let taken = snapshots.get(&g.id).cloned().unwrap_or_default();
            let mut per_tier = [0i64; 5];
            for (tier, _) in &taken {
                per_tier[*tier as usize] += 1;
            }
            let last = taken
                .iter()
                .map(|(_, t)| *t)
                .filter(|t| *t < g.commence_time)
                .max();
            let listed = (g.commence_time - Duration::hours(LISTING_LEAD_HOURS)).max(started_at);
            let windows = FetchTier::ALL
                .iter()
                .copied()
                .filter(|tier| {
                    let end = g.commence_time - hours(tier.min_hours().max(0.0));
                    listed < end
                })
                .map(|tier| (tier, per_tier[tier as usize] > 0))
                .collect();
            let (state, home, away) = status
                .get(&g.id)
                .cloned()
                .unwrap_or_else(|| ("unknown".into(), None, None));
            GameReport {
                id: g.id.clone(),
                matchup: format!("{} @ {}", g.away_team, g.home_team),
                commence_time: g.commence_time,
                snapshots_per_tier: per_tier,
                closing_minutes: last.map(|t| (g.commence_time - t).num_seconds() as f64 / 60.0),
                status: state,
                score: home.zip(away),
                windows,
            }
        })
        .collect())
}

fn hours(h: f64) -> Duration {
    Duration::minutes((h * 60.0).round() as i64)
}

fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

pub fn summarize(per_game: Vec<GameReport>, calls: &[CallRecord]) -> RunReport {
    let mut closing: Vec<f64> = per_game.iter().filter_map(|g| g.closing_minutes).collect();
    closing.sort_by(f64::total_cmp);
    let within = per_game
        .iter()
        .filter(|g| g.closing_minutes.is_some_and(|m| m <= 10.0))
        .count();
    let tier_coverage = FetchTier::ALL
        .iter()
        .copied()
        .map(|tier| {
            let listed: Vec<bool> = per_game
                .iter()
                .filter_map(|g| {
                    g.windows
                        .iter()
                        .find(|(t, _)| *t == tier)
                        .map(|(_, ok)| *ok)
                })
                .collect();
            let share = if listed.is_empty() {
                1.0
            } else {
                listed.iter().filter(|ok| **ok).count() as f64 / listed.len() as f64
            };
            (tier, share)
        })
        .collect();
    let mut by_endpoint: HashMap<&str, usize> = HashMap::new();
    for c in calls {
        *by_endpoint.entry(c.endpoint).or_default() += 1;
    }
    let mut calls_by_endpoint: Vec<(String, usize)> = by_endpoint
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    calls_by_endpoint.sort();
    RunReport {
        games: per_game.len(),
        calls: calls.len(),
        calls_by_endpoint,
        credits: calls.iter().map(|c| c.credits).sum(),
        closing_median_minutes: percentile(&closing, 0.5),
        closing_p95_minutes: percentile(&closing, 0.95),
        closing_within_10_min: if per_game.is_empty() {
            0.0
        } else {
            within as f64 / per_game.len() as f64
        },
        tier_coverage,
        games_final: per_game.iter().filter(|g| g.status == "final").count(),
        odds_calls: calls
            .iter()
            .filter(|c| c.endpoint == "odds" && c.credits > 0)
            .count(),
        optimum_odds_calls: None,
        requirements_met: None,
        unmet: Vec::new(),
        credits_by_month: {
            let mut months: std::collections::BTreeMap<String, i64> = Default::default();
            for c in calls {
                *months.entry(c.at.format("%Y-%m").to_string()).or_default() += c.credits;
            }
            months.into_iter().collect()
        },
        dropped_days: Vec::new(),
        refused_games: Vec::new(),
        per_game,
    }
}

impl RunReport {
    /// Holds the run to `policy`: each game's stored snapshots against its requirements, from
    /// when the collector first listed it, and the offline optimum for those games.
    pub async fn judge(
        &mut self,
        store: &Store,
        games: &[ScheduledGame],
        policy: &CollectionPolicy,
        lookahead: Duration,
    ) -> anyhow::Result<()> {
        let client = store.pool().get().await?;
        let ids: Vec<&str> = games.iter().map(|g| g.id.as_str()).collect();
        let rows = client
            .query(
                "SELECT e.id, e.commence_time, COALESCE(e.listed_at, e.created_at),
                        array_remove(array_agg(s.snapshot_time ORDER BY s.snapshot_time), NULL)
                   FROM events e LEFT JOIN odds_snapshots s ON s.event_id = e.id
                  WHERE e.id = ANY($1)
                  GROUP BY e.id",
                &[&ids],
            )
            .await?;
        let mut views = Vec::new();
        let mut unmet: HashMap<Requirement, usize> = HashMap::new();
        let mut all_met = 0;
        let requirements = policy.drop_order();
        for r in &rows {
            let view = GameView {
                event_id: r.get(0),
                matchup: String::new(),
                commence_time: r.get(1),
                listed_at: r.get(2),
            };
            let snapshots: Vec<DateTime<Utc>> = r.get(3);
            let missed: Vec<Requirement> = requirements
                .iter()
                .copied()
                .filter(|q| !met(*q, &view, &snapshots, policy, lookahead))
                .collect();
            if missed.is_empty() {
                all_met += 1;
            }
            for q in missed {
                *unmet.entry(q).or_default() += 1;
            }
            views.push(view);
        }
        // Games the collector never listed have no requirement it could meet.
        let never_listed = games.len() - rows.len();
        let start = views.iter().map(|g| g.listed_at).min().unwrap_or_default();
        let end = views
            .iter()
            .map(|g| g.commence_time)
            .max()
            .unwrap_or_default();
        let rules = Rules {
            policy,
            active: &requirements,
            lookahead,
        };
        let optimum = plan_until(start, end, &views, &[], &rules, &mut refuse_nothing);
        self.optimum_odds_calls = Some(optimum.len());
        self.requirements_met = Some(if games.is_empty() {
            1.0
        } else {
            all_met as f64 / games.len() as f64
        });
        let mut unmet: Vec<(String, usize)> =
            unmet.into_iter().map(|(q, n)| (q.to_string(), n)).collect();
        if never_listed > 0 {
            unmet.push(("never listed".into(), never_listed));
        }
        unmet.sort();
        self.unmet = unmet;
        Ok(())
    }

    /// What a budget left out, read back from the runs' summaries.
    pub async fn budget_effects(&mut self, store: &Store) -> anyhow::Result<()> {
        let client = store.pool().get().await?;
        let rows = client
            .query(
                "SELECT started_at, summary->'dropped' FROM job_runs
                  WHERE job_name = 'fetch-odds' AND summary ? 'dropped'",
                &[],
            )
            .await?;
        let mut days: HashMap<String, std::collections::HashSet<chrono::NaiveDate>> =
            HashMap::new();
        let mut refused: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
        for r in &rows {
            let at: DateTime<Utc> = r.get(0);
            let dropped: Vec<Dropped> =
                serde_json::from_value(r.get::<_, serde_json::Value>(1)).unwrap_or_default();
            for d in dropped {
                match d.event_id {
                    None => {
                        days.entry(d.requirement.to_string())
                            .or_default()
                            .insert(at.date_naive());
                    }
                    Some(id) => {
                        refused
                            .entry(d.requirement.to_string())
                            .or_default()
                            .insert(id);
                    }
                }
            }
        }
        self.dropped_days = days.into_iter().map(|(k, v)| (k, v.len())).collect();
        self.dropped_days.sort();
        self.refused_games = refused.into_iter().map(|(k, v)| (k, v.len())).collect();
        self.refused_games.sort();
        Ok(())
    }

    pub fn print(&self, label: &str) {
        let fmt = |m: Option<f64>| m.map_or("-".to_string(), |m| format!("{m:.1}"));
        println!("{label}");
        println!("  games: {} ({} final)", self.games, self.games_final);
        let endpoints: Vec<String> = self
            .calls_by_endpoint
            .iter()
            .map(|(e, n)| format!("{e} {n}"))
            .collect();
        println!("  API calls: {} ({})", self.calls, endpoints.join(", "));
        println!("  credits: {}", self.credits);
        println!(
            "  closing capture, minutes from the last snapshot to tip-off: median {}, p95 {}, within 10 min {:.1}%",
            fmt(self.closing_median_minutes),
            fmt(self.closing_p95_minutes),
            self.closing_within_10_min * 100.0
        );
        let coverage: Vec<String> = self
            .tier_coverage
            .iter()
            .map(|(t, share)| format!("{t} {:.1}%", share * 100.0))
            .collect();
        println!(
            "  games with a snapshot in each tier window they were listed for: {}",
            coverage.join(", ")
        );
        if let (Some(optimum), Some(share)) = (self.optimum_odds_calls, self.requirements_met) {
            println!(
                "  paid /odds calls: {} against an offline optimum of {optimum} for the same requirements; every requirement met for {:.1}% of games",
                self.odds_calls,
                share * 100.0
            );
            for (requirement, games) in &self.unmet {
                println!("    not met: {requirement} for {games} games");
            }
        }
        let months: Vec<String> = self
            .credits_by_month
            .iter()
            .map(|(m, c)| format!("{m} {c}"))
            .collect();
        println!("  credits by month: {}", months.join(", "));
        for (requirement, days) in &self.dropped_days {
            println!("  budget dropped {requirement} on {days} days");
        }
        for (requirement, games) in &self.refused_games {
            println!("  budget refused the {requirement} fetch of {games} games");
        }
    }
}
