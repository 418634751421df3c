//! The Lambda entry point shared by the three functions: build once per cold start, then turn
//! each invocation into a job run and its JSON summary.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

use crate::clock::SystemClock;
use crate::config::{LogFormat, ProcessEnv};
use crate::jobs::{self, Invocation, JobName, RunOutcome};
use crate::schedule::Backend;

pub async fn run(job: JobName) -> Result<(), Error> {
    let started = std::time::Instant::now();
    let env = ProcessEnv::load();
    // JSON logs unless asked otherwise: CloudWatch reads them as fields.
    let format = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("pretty") => LogFormat::Pretty,
        _ => LogFormat::Json,
    };
    let level = std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into());
    crate::logging::init(&level, format);

    let runtime = match crate::runtime::build(&env, Arc::new(SystemClock), Some(1)).await {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(job = %job, error = %e, "cold start failed");
            return Err(e.into());
        }
    };
    let target_override = runtime
        .settings
        .target_arn
        .as_ref()
        .map(|arn| arn.replace("{job}", job.as_str()));
    let context = Arc::new(runtime.context);
    tracing::info!(
        job = %job,
        backend = %context.backend_info(),
        init_ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let context = Arc::clone(&context);
        let target_override = target_override.clone();
        async move {
            if let Backend::Aws(scheduler) = &context.backend {
                scheduler.set_target(
                    target_override
                        .as_deref()
                        .unwrap_or(&event.context.invoked_function_arn),
                );
            }
            let invocation = Invocation::from_value(&event.payload);
            let summary = jobs::invoke(&context, job, &invocation).await;
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
