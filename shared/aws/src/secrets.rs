//! Credentials from AWS Secrets Manager, read once per cold start. A secret may hold the bare
//! value or JSON: `{"api_key": ...}` / `{"url": ...}`, or the `username`/`password`/`host`/
//! `port`/`dbname` object RDS manages. Errors name the secret, never its value.

use serde_json::Value;

use odds_core::secret::Secret;

use crate::aws_error;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read secret {arn}: {message}")]
    Fetch { arn: String, message: String },
    #[error("secret {arn} has no usable value ({expected})")]
    Shape { arn: String, expected: &'static str },
}

/// What a secret holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    ApiKey,
    DatabaseUrl,
    WebhookUrl,
}

pub struct SecretsClient {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsClient {
    pub fn new(config: &aws_config::SdkConfig) -> SecretsClient {
        SecretsClient {
            client: aws_sdk_secretsmanager::Client::new(config),
        }
    }

    pub async fn get(&self, arn: &str, kind: SecretKind) -> Result<Secret, SecretsError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| SecretsError::Fetch {
                arn: arn.to_string(),
                message: aws_error(&e),
            })?;
        let text = output.secret_string().ok_or_else(|| SecretsError::Shape {
            arn: arn.to_string(),
            expected: "a SecretString",
        })?;
        extract(text, kind).ok_or_else(|| SecretsError::Shape {
            arn: arn.to_string(),
            expected: match kind {
                SecretKind::ApiKey => "a key, or JSON with api_key",
                SecretKind::DatabaseUrl => "a URL, JSON with url, or an RDS credentials object",
                SecretKind::WebhookUrl => "a URL, or JSON with url",
            },
        })
    }
}

/// The value inside a secret string.
pub fn extract(text: &str, kind: SecretKind) -> Option<Secret> {
    let text = text.trim();
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return (!text.is_empty()).then(|| Secret::new(text));
    };
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| map.get(*n).and_then(Value::as_str))
            .map(str::to_string)
    };
    match kind {
        SecretKind::ApiKey => field(&["api_key", "ODDS_API_KEY", "apiKey", "key"]).map(Secret::new),
        SecretKind::WebhookUrl => {
            field(&["url", "webhook_url", "ALERT_WEBHOOK_URL"]).map(Secret::new)
        }
        SecretKind::DatabaseUrl => {
            if let Some(url) = field(&["url", "DATABASE_URL", "database_url"]) {
                return Some(Secret::new(url));
            }
            let user = field(&["username"])?;
            let password = field(&["password"])?;
            let host = field(&["host"])?;
            let port = map
                .get("port")
                .and_then(|p| {
                    p.as_u64()
                        .or_else(|| p.as_str().and_then(|s| s.parse().ok()))
                })
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(5432);
            let db = field(&["dbname", "database"]).unwrap_or_else(|| "postgres".into());
            let mut url = url::Url::parse("postgres://localhost/?sslmode=require").ok()?;
            url.set_host(Some(&host)).ok()?;
            url.set_port(Some(port)).ok()?;
            url.set_username(&user).ok()?;
            url.set_password(Some(&password)).ok()?;
            url.set_path(&db);
            Some(Secret::new(url.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_json_secrets() {
        assert_eq!(
            extract(" abc \n", SecretKind::ApiKey).unwrap().expose(),
            "abc"
        );
        assert_eq!(
            extract(r#"{"api_key":"k1"}"#, SecretKind::ApiKey)
                .unwrap()
                .expose(),
            "k1"
        );
        assert_eq!(
            extract(r#"{"url":"postgres://u:p@h/db"}"#, SecretKind::DatabaseUrl)
                .unwrap()
                .expose(),
            "postgres://u:p@h/db"
        );
        assert!(extract("", SecretKind::ApiKey).is_none());
        assert!(extract(r#"{"other":1}"#, SecretKind::ApiKey).is_none());
    }

    #[test]
    fn rds_managed_credentials_become_a_url() {
        let rds = r#"{"username":"odds","password":"p@ss/word","host":"db.abc.rds.amazonaws.com","port":5432,"dbname":"odds","engine":"postgres"}"#;
        let url = extract(rds, SecretKind::DatabaseUrl).unwrap();
        let parsed: tokio_postgres::Config = url.expose().parse().unwrap();
        assert_eq!(parsed.get_user(), Some("odds"));
        assert_eq!(parsed.get_password(), Some(&b"p@ss/word"[..]));
        assert_eq!(parsed.get_dbname(), Some("odds"));
        assert_eq!(parsed.get_ports(), &[5432]);
    }
}
