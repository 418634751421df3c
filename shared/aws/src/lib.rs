//! The NBA odds pipeline on AWS: the EventBridge scheduler backend, secrets from Secrets
//! Manager, the Lambda invocation envelope and the entry point the three functions share. The
//! only crate that links the AWS SDK and the Lambda runtime.

pub mod eventbridge;
pub mod invocation;
pub mod lambda;
pub mod runtime;
pub mod secrets;

pub use invocation::Invocation;
pub use odds_jobs::JobName;

use aws_sdk_eventbridge::error::{DisplayErrorContext, ProvideErrorMetadata};

/// The AWS configuration chain (region, credentials, `AWS_ENDPOINT_URL` for moto in tests),
/// loaded once per cold start and shared by every client.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// A service error as its code and message; anything else (timeouts, refused connections)
/// with its cause chain. The SDK's full context also dumps the raw HTTP response.
pub(crate) fn aws_error<E: std::error::Error + ProvideErrorMetadata>(e: &E) -> String {
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => DisplayErrorContext(e).to_string(),
    }
}
