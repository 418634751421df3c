//! The Lambda entry point shared by the three functions: build once per cold start, then turn
//! each invocation into a job run and its JSON summary.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use odds_core::clock::SystemClock;
use odds_core::settings::{LogFormat, LogSettings, ProcessEnv, Vars};
use odds_jobs::{JobName, RunOutcome, invoke};
use serde_json::Value;

use crate::invocation::Invocation;
use crate::runtime::LambdaRuntime;

pub async fn run(job: JobName) -> Result<(), Error> {
    let started = std::time::Instant::now();
    let env = ProcessEnv::load();
    // JSON logs unless asked otherwise: CloudWatch reads them as fields. Logging starts before
    // the rest of the settings are read, so a bad setting is logged too.
    let log = LogSettings::from_vars(&Vars(&env)).unwrap_or_default();
    odds_jobs::logging::init(&log.level, log.format_or(LogFormat::Json));

    let runtime = match LambdaRuntime::build(&env, Arc::new(SystemClock), Some(1)).await {
        Ok(runtime) => Arc::new(runtime),
        Err(e) => {
            tracing::error!(job = %job, error = %e, "cold start failed");
            return Err(e.into());
        }
    };
    tracing::info!(
        job = %job,
        backend = %runtime.context.backend_info(),
        init_ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let runtime = Arc::clone(&runtime);
        async move {
            let context = runtime.context_for(job, &event.context.invoked_function_arn);
            let trigger = Invocation::from_value(&event.payload).trigger(job);
            let summary = invoke(&context, job, &trigger).await;
            let body = serde_json::to_value(&summary)?;
            // A failed run is a function error, so alarms and the dead-letter queue see it;
            // the next run is armed either way.
            if summary.outcome == RunOutcome::Failed {
                return Err(Error::from(body.to_string()));
            }
            Ok::<Value, Error>(body)
        }
    }))
    .await
}
