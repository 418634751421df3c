//! The EventBridge emulator: sleeps until the earliest armed job is due, runs it through the
//! same driver and input shape as the Lambda functions, and lets the job arm its own next run
//! in `job_state`. The schedule lives in PostgreSQL, so a restart resumes where it stopped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use odds_core::clock::VirtualClock;
use odds_jobs::{JobContext, JobName, JobSummary, RunOutcome, Trigger, invoke};
use tokio::sync::watch;

/// How the harness waits for the next run.
#[derive(Clone)]
pub enum Pacing {
    /// The wall clock: sleep, waking early when a job is rescheduled.
    RealTime,
    /// A virtual clock that jumps straight to the next run (the season simulator).
    Instant(Arc<VirtualClock>),
    /// A virtual clock that runs `speed` times faster than the wall clock (the demo).
    Scaled(Arc<VirtualClock>, f64),
}

pub struct Emulator {
    pub context: Arc<JobContext>,
    pub pacing: Pacing,
    pub shutdown: watch::Receiver<bool>,
}

/// How often a lost LISTEN connection is tried again.
const RELISTEN_EVERY: StdDuration = StdDuration::from_secs(30);

/// When to stop, judged before each run.
pub type StopWhen<'a> = dyn Fn(DateTime<Utc>) -> bool + Send + Sync + 'a;

impl Emulator {
    fn now(&self) -> DateTime<Utc> {
        self.context.clock.now()
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Arms every job that has no next run yet, for now.
    pub async fn arm_unarmed(&self) -> anyhow::Result<()> {
        let now = self.now();
        let states = self.context.store.job_states().await?;
        for &job in JobName::ALL {
            let armed = states
                .iter()
                .any(|s| s.job_name == job && s.next_run_at.is_some());
            if !armed {
                self.context
                    .store
                    .set_next_run(job, now, "armed at harness start")
                    .await?;
                tracing::info!(job = %job, "armed at start");
            }
        }
        Ok(())
    }

    /// Runs due jobs until `stop` says so or shutdown is requested; calls `on_run` after each
    /// run. A job in flight always finishes.
    pub async fn run(
        &self,
        stop: &StopWhen<'_>,
        on_run: &mut (dyn FnMut(&JobSummary) + Send),
    ) -> anyhow::Result<()> {
        let mut wake = self.listen().await;
        let mut relisten_at = Instant::now() + RELISTEN_EVERY;
        // Runs whose job could not arm its next run wait here instead of spinning.
        let mut held: HashMap<JobName, DateTime<Utc>> = HashMap::new();
        loop {
            if self.stopping() {
                return Ok(());
            }
            // A LISTEN connection the database dropped (a restart) is opened again.
            if wake.is_none()
                && matches!(self.pacing, Pacing::RealTime)
                && Instant::now() >= relisten_at
            {
                wake = self.listen().await;
                relisten_at = Instant::now() + RELISTEN_EVERY;
            }
            let states = match self.context.store.job_states().await {
                Ok(states) => states,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the schedule; retrying");
                    self.pause(StdDuration::from_secs(5)).await;
                    continue;
                }
            };
            let next = JobName::ALL
                .iter()
                .copied()
                .filter_map(|job| {
                    let armed = states
                        .iter()
                        .find(|s| s.job_name == job)
                        .and_then(|s| s.next_run_at)?;
                    Some((job, held.get(&job).copied().map_or(armed, |h| h.max(armed))))
                })
                .min_by_key(|(_, at)| *at);
            let Some((job, at)) = next else {
                if let Err(e) = self.arm_unarmed().await {
                    tracing::error!(error = %e, "cannot arm the jobs; retrying");
                    self.pause(StdDuration::from_secs(5)).await;
                }
                continue;
            };
            if stop(at) {
                return Ok(());
            }
            let now = self.now();
            if at > now {
                if !self.wait_until(at, wake.as_mut()).await {
                    tracing::warn!(
                        "the LISTEN connection ended; waiting on the timer until it is back"
                    );
                    wake = None;
                }
                continue;
            }
            let summary = invoke(&self.context, job, &Trigger::scheduled()).await;
            on_run(&summary);
            match summary.outcome {
                RunOutcome::Busy => {
                    // Another harness runs it and will arm the next run.
                    held.insert(job, self.now() + Duration::seconds(2));
                }
                _ if summary.next_run_at.is_none() => {
                    let retry = self.now() + Duration::minutes(1);
                    tracing::warn!(job = %job, retry = %retry, "next run not armed; holding");
                    held.insert(job, retry);
                }
                _ => {
                    held.remove(&job);
                }
            }
        }
    }

    /// The schedule's notification channel, or `None` (the timer alone) when it cannot be had.
    async fn listen(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<String>> {
        if !matches!(self.pacing, Pacing::RealTime) {
            return None;
        }
        match self.context.store.listen("odds_schedule").await {
            Ok(rx) => Some(rx),
            Err(e) => {
                tracing::warn!(error = %e, "no LISTEN connection; relying on the timer");
                None
            }
        }
    }

    /// Waits until `at` (or a wake-up notification, or shutdown). Returns false when the
    /// notification channel has closed: the wait then goes on on the timer alone, so a dropped
    /// connection never turns the loop into a spin.
    pub(crate) async fn wait_until(
        &self,
        at: DateTime<Utc>,
        wake: Option<&mut tokio::sync::mpsc::UnboundedReceiver<String>>,
    ) -> bool {
        let now = self.now();
        match &self.pacing {
            Pacing::Instant(clock) => clock.set(at),
            Pacing::Scaled(clock, speed) => {
                let real = (at - now)
                    .to_std()
                    .unwrap_or_default()
                    .div_f64(speed.max(1.0));
                self.pause(real).await;
                if !self.stopping() {
                    clock.set(at);
                }
            }
            Pacing::RealTime => {
                // Capped, so a missed notification costs at most a minute.
                let sleep = (at - now)
                    .to_std()
                    .unwrap_or_default()
                    .min(StdDuration::from_secs(60));
                let deadline = tokio::time::Instant::now() + sleep;
                let mut shutdown = self.shutdown.clone();
                if let Some(rx) = wake {
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => return true,
                        message = rx.recv() => if message.is_some() { return true },
                        _ = shutdown.changed() => return true,
                    }
                    // Closed: sleep out the wait.
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => {}
                        _ = shutdown.changed() => {}
                    }
                    return false;
                }
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        true
    }

    /// Sleeps on the wall clock unless shutdown is requested first.
    async fn pause(&self, duration: StdDuration) {
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(duration) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// A shutdown flag raised by SIGTERM or Ctrl+C.
pub fn shutdown_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen for SIGTERM");
                        let _ = tokio::signal::ctrl_c().await;
                        let _ = tx.send(true);
                        return;
                    }
                };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested: finishing the job in flight");
        let _ = tx.send(true);
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;
    use odds_core::clock::SystemClock;
    use odds_core::secret::DatabaseUrl;
    use odds_jobs::{DryRunScheduler, JobSettings};
    use odds_store::Store;

    #[tokio::test]
    async fn a_closed_listener_is_waited_out_on_the_timer_not_spun_on() {
        // Nothing connects: the pool is lazy, and waiting needs no database.
        let store = Store::connect(&DatabaseUrl::new("postgres://x@127.0.0.1:1/x"), 1).unwrap();
        let context = JobContext::new(
            store,
            Arc::new(SystemClock),
            None,
            Arc::new(DryRunScheduler),
            JobSettings::default(),
        );
        let (_keep, shutdown) = watch::channel(false);
        let emulator = Emulator {
            context: Arc::new(context),
            pacing: Pacing::RealTime,
            shutdown,
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        drop(tx);
        let started = std::time::Instant::now();
        let at = emulator.now() + Duration::milliseconds(300);
        assert!(
            !emulator.wait_until(at, Some(&mut rx)).await,
            "the closed channel is reported"
        );
        assert!(
            started.elapsed() >= StdDuration::from_millis(250),
            "{:?}",
            started.elapsed()
        );
    }
}
