//! Game lifecycle rules, every transition decided here: postponements and restorations from what
//! the free `/events` listing shows ([`reconcile`]), and tip-offs and cancellations from the
//! clock ([`advance`]). Pure; the store applies the transitions it is given. `final` comes only
//! from a score feed.
//!
//! - **Moved**: a scheduled game listed with a tip-off more than `postpone_shift` (3 h) away
//!   from the stored one is `postponed`; its original tip-off is kept and it is collected at
//!   the new time. A shift within 3 h is an ordinary schedule correction.
//! - **Vanished**: a scheduled game whose tip-off is inside the listing window (and more than
//!   30 minutes away) but that the listing no longer shows is marked missing; still missing
//!   `vanish_grace` (2 h) later, it is `postponed`. Books pull games briefly, hence the grace.
//! - **Re-listed**: a postponed game listed again within 3 h of its original tip-off was a
//!   false alarm and goes back to `scheduled`.
//! - **Cancelled**: a postponed game that is not listed is `cancelled` once `cancel_after`
//!   (24 h) has passed since its tip-off.
//! - **Live**: a scheduled game, or a postponed one that is listed, turns `live` at tip-off;
//!   `final` comes only from a score feed.

use chrono::{DateTime, Duration, Utc};

use crate::model::{Event, EventStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleRules {
    pub postpone_shift: Duration,
    pub vanish_grace: Duration,
    /// Games this close to tip-off are not judged missing: books pull lines before tip.
    pub vanish_min_lead: Duration,
    pub cancel_after: Duration,
}

impl Default for LifecycleRules {
    fn default() -> Self {
        LifecycleRules {
            postpone_shift: Duration::hours(3),
            vanish_grace: Duration::hours(2),
            vanish_min_lead: Duration::minutes(30),
            cancel_after: Duration::hours(24),
        }
    }
}

/// What the store knows of a game that can still change status.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownGame {
    pub id: String,
    pub status: EventStatus,
    pub commence_time: DateTime<Utc>,
    pub original_commence_time: Option<DateTime<Utc>>,
    pub missing_since: Option<DateTime<Utc>>,
}

impl KnownGame {
    /// Whether the game's odds are still collected: scheduled, or postponed and listed again at
    /// a new time (not missing from the listing).
    pub fn is_collectable(&self) -> bool {
        is_collectable(self.status, self.missing_since)
    }
}

/// See [`KnownGame::is_collectable`].
pub fn is_collectable(status: EventStatus, missing_since: Option<DateTime<Utc>>) -> bool {
    match status {
        EventStatus::Scheduled => true,
        EventStatus::Postponed => missing_since.is_none(),
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Postpone {
        id: String,
        original_commence: DateTime<Utc>,
        reason: String,
    },
    Restore {
        id: String,
        reason: String,
    },
    MarkMissing {
        id: String,
    },
    /// Tip-off has passed.
    GoLive {
        id: String,
    },
    /// Postponed, never listed again, and `cancel_after` past its tip-off.
    Cancel {
        id: String,
    },
}

/// What the clock alone decides at `now`: collectable games whose tip-off has passed go live,
/// and postponed games that stayed unlisted are cancelled once `cancel_after` has passed since
/// their original tip-off.
pub fn advance(known: &[KnownGame], now: DateTime<Utc>, rules: &LifecycleRules) -> Vec<Transition> {
    known
        .iter()
        .filter_map(|game| {
            let original = game.original_commence_time.unwrap_or(game.commence_time);
            if game.is_collectable() && game.commence_time <= now {
                Some(Transition::GoLive {
                    id: game.id.clone(),
                })
            } else if game.status == EventStatus::Postponed
                && game.missing_since.is_some()
                && original <= now - rules.cancel_after
            {
                Some(Transition::Cancel {
                    id: game.id.clone(),
                })
            } else {
                None
            }
        })
        .collect()
}

/// Compares a listing covering tip-offs up to `window_end` with the known games.
pub fn reconcile(
    known: &[KnownGame],
    listed: &[Event],
    now: DateTime<Utc>,
    window_end: DateTime<Utc>,
    rules: &LifecycleRules,
) -> Vec<Transition> {
    let mut out = Vec::new();
    for game in known {
        match listed.iter().find(|e| e.id == game.id) {
            Some(listing) => {
                let shift = (listing.commence_time - game.commence_time).abs();
                match game.status {
                    EventStatus::Scheduled if shift > rules.postpone_shift => {
                        out.push(Transition::Postpone {
                            id: game.id.clone(),
                            original_commence: game.commence_time,
                            reason: format!(
                                "tip-off moved from {} to {}",
                                game.commence_time, listing.commence_time
                            ),
                        })
                    }
                    EventStatus::Postponed => {
                        let original = game.original_commence_time.unwrap_or(game.commence_time);
                        if (listing.commence_time - original).abs() <= rules.postpone_shift {
                            out.push(Transition::Restore {
                                id: game.id.clone(),
                                reason: format!(
                                    "listed again at {} (original tip-off {original})",
                                    listing.commence_time
                                ),
                            });
                        }
                    }
                    _ => {}
                }
            }
            None => {
                let judged = matches!(game.status, EventStatus::Scheduled | EventStatus::Postponed)
                    && game.commence_time > now + rules.vanish_min_lead
                    && game.commence_time <= window_end;
                if !judged {
                    continue;
                }
                match game.missing_since {
                    None => out.push(Transition::MarkMissing {
                        id: game.id.clone(),
                    }),
                    Some(since)
                        if game.status == EventStatus::Scheduled
                            && now - since >= rules.vanish_grace =>
                    {
                        out.push(Transition::Postpone {
                            id: game.id.clone(),
                            original_commence: game.commence_time,
                            reason: format!("no longer listed since {since}"),
                        })
                    }
                    Some(_) => {}
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn known(id: &str, status: EventStatus, commence: &str) -> KnownGame {
        KnownGame {
            id: id.into(),
            status,
            commence_time: t(commence),
            original_commence_time: None,
            missing_since: None,
        }
    }

    fn listing(id: &str, commence: &str) -> Event {
        Event::scheduled(id, "basketball_nba", "Home", "Away", t(commence))
    }

    const NOW: &str = "2026-01-20T12:00:00Z";
    const END: &str = "2026-01-27T12:00:00Z";

    #[test]
    fn a_small_shift_is_a_correction_and_a_large_one_a_postponement() {
        let games = [known("a", EventStatus::Scheduled, "2026-01-21T00:00:00Z")];
        let rules = LifecycleRules::default();
        let small = reconcile(
            &games,
            &[listing("a", "2026-01-21T01:30:00Z")],
            t(NOW),
            t(END),
            &rules,
        );
        assert!(small.is_empty());
        let large = reconcile(
            &games,
            &[listing("a", "2026-01-23T00:00:00Z")],
            t(NOW),
            t(END),
            &rules,
        );
        assert!(
            matches!(&large[..], [Transition::Postpone { original_commence, .. }] if *original_commence == t("2026-01-21T00:00:00Z"))
        );
    }

    #[test]
    fn a_vanished_game_is_postponed_after_the_grace_period_and_restored_if_it_returns() {
        let rules = LifecycleRules::default();
        let mut game = known("a", EventStatus::Scheduled, "2026-01-21T00:00:00Z");
        assert_eq!(
            reconcile(&[game.clone()], &[], t(NOW), t(END), &rules),
            [Transition::MarkMissing { id: "a".into() }]
        );
        game.missing_since = Some(t(NOW));
        assert!(
            reconcile(
                &[game.clone()],
                &[],
                t(NOW) + Duration::hours(1),
                t(END),
                &rules
            )
            .is_empty()
        );
        let later = reconcile(
            &[game.clone()],
            &[],
            t(NOW) + Duration::hours(2),
            t(END),
            &rules,
        );
        assert!(matches!(&later[..], [Transition::Postpone { .. }]));

        game.status = EventStatus::Postponed;
        game.original_commence_time = Some(game.commence_time);
        let back = reconcile(
            &[game],
            &[listing("a", "2026-01-21T00:30:00Z")],
            t(NOW),
            t(END),
            &rules,
        );
        assert!(matches!(&back[..], [Transition::Restore { .. }]));
    }

    #[test]
    fn the_clock_turns_games_live_and_cancels_postponed_games_that_never_returned() {
        let rules = LifecycleRules::default();
        let now = t(NOW);
        let mut relisted = known("relisted", EventStatus::Postponed, "2026-01-20T11:00:00Z");
        relisted.original_commence_time = Some(t("2026-01-18T00:00:00Z"));
        let mut gone = known("gone", EventStatus::Postponed, "2026-01-19T11:00:00Z");
        gone.missing_since = Some(t("2026-01-19T08:00:00Z"));
        let mut recent = known("recent", EventStatus::Postponed, "2026-01-20T00:00:00Z");
        recent.missing_since = Some(t("2026-01-19T20:00:00Z"));
        let games = [
            known("started", EventStatus::Scheduled, "2026-01-20T11:59:00Z"),
            known("later", EventStatus::Scheduled, "2026-01-20T13:00:00Z"),
            relisted,
            gone,
            recent,
            known("live", EventStatus::Live, "2026-01-20T10:00:00Z"),
        ];
        assert_eq!(
            advance(&games, now, &rules),
            [
                Transition::GoLive {
                    id: "started".into()
                },
                Transition::GoLive {
                    id: "relisted".into()
                },
                Transition::Cancel { id: "gone".into() },
            ]
        );
    }

    #[test]
    fn games_outside_the_window_or_about_to_start_are_not_judged() {
        let rules = LifecycleRules::default();
        let games = [
            known("soon", EventStatus::Scheduled, "2026-01-20T12:20:00Z"),
            known("far", EventStatus::Scheduled, "2026-02-10T00:00:00Z"),
            known("live", EventStatus::Live, "2026-01-20T13:00:00Z"),
        ];
        assert!(reconcile(&games, &[], t(NOW), t(END), &rules).is_empty());
    }
}
