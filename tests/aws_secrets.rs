//! Under SCHEDULER_BACKEND=aws the API key and the database URL come from Secrets Manager
//! (moto here). Its own test binary: it sets process environment variables for the AWS SDK.

use std::collections::HashMap;
use std::sync::Arc;

use odds_aws::runtime::LambdaRuntime;
use odds_core::clock::SystemClock;
use odds_jobs::{BackendKind, JobName};
use odds_tests::TestDb;
use odds_tests::moto::MotoServer;

#[tokio::test]
async fn secrets_are_read_once_at_start_and_never_printed() {
    let moto = MotoServer::start();
    // SAFETY: this binary has one test, and no other thread reads the environment yet.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL", moto.url());
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
    let db = TestDb::new().await;
    let client = aws_sdk_secretsmanager::Client::new(&moto.sdk_config().await);
    let key = "feedfacefeedfacefeedfacefeedface";
    let key_arn = client
        .create_secret()
        .name("odds/api-key")
        .secret_string(format!(r#"{{"api_key":"{key}"}}"#))
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let url_arn = client
        .create_secret()
        .name("odds/database-url")
        .secret_string(db.url.expose())
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();

    let env: HashMap<&str, String> = HashMap::from([
        ("SCHEDULER_BACKEND", "aws".to_string()),
        ("ODDS_API_KEY_SECRET_ARN", key_arn.clone()),
        ("DATABASE_URL_SECRET_ARN", url_arn),
        ("RULE_PREFIX", "odds-test".to_string()),
    ]);
    let lookup = move |name: &str| env.get(name).cloned();
    let runtime = LambdaRuntime::build(&lookup, Arc::new(SystemClock), Some(1))
        .await
        .expect("runtime");
    assert_eq!(runtime.settings.scheduler.backend, BackendKind::Aws);
    let invoked = "arn:aws:lambda:us-east-1:123456789012:function:fetch-odds";
    let context = runtime.context_for(JobName::FetchOdds, invoked);
    assert_eq!(context.backend_info()["backend"], "aws");
    assert_eq!(context.backend_info()["target"], invoked);
    assert_eq!(runtime.settings.database.url.expose(), db.url.expose());
    assert!(runtime.context.odds_api.is_some());
    // The database from the secret answers.
    runtime.context.store.migrate().await.unwrap();
    let shown = format!("{:?} {:?}", runtime.settings, runtime.context.odds_api);
    assert!(!shown.contains(key), "{shown}");

    // A missing secret is a clear start-up error naming it.
    let bad: HashMap<&str, String> = HashMap::from([
        ("SCHEDULER_BACKEND", "aws".to_string()),
        (
            "ODDS_API_KEY_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope".to_string(),
        ),
        ("DATABASE_URL", db.url.expose().to_string()),
    ]);
    let lookup = move |name: &str| bad.get(name).cloned();
    let err = LambdaRuntime::build(&lookup, Arc::new(SystemClock), Some(1))
        .await
        .err()
        .expect("fails");
    let text = err.to_string();
    assert!(text.contains("secret:nope"), "{text}");
}
