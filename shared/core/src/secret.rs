//! Wrappers that keep credentials out of logs, errors and `Debug` output.

use std::fmt;

/// A secret string (an API key, a password). `Debug` and `Display` print `[redacted]`; the value
/// is reachable only through [`Secret::expose`], so every use is visible in review.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A PostgreSQL connection URL whose password never leaves through `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(Secret);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(Secret::new(url))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The URL with any password replaced by `***`, safe to log.
    pub fn redacted(&self) -> String {
        redact_url_password(self.expose())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replaces the password of a URL (`scheme://user:password@host/...`) and any `password=`
/// query or keyword value with `***`.
pub fn redact_url_password(url: &str) -> String {
    let mut out = match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        // Not a URL (perhaps a keyword string): hide everything between ':' and '@' to be safe.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let userinfo = &url[scheme + 3..at];
                match userinfo.find(':') {
                    Some(colon) => format!(
                        "{}{}:***{}",
                        &url[..scheme + 3],
                        &userinfo[..colon],
                        &url[at..]
                    ),
                    None => url.to_string(),
                }
            }
            _ => url.to_string(),
        },
    };
    for key in ["password=", "apiKey=", "api_key="] {
        while let Some(start) = out.find(key).map(|i| i + key.len()) {
            let end = out[start..]
                .find(['&', ' '])
                .map_or(out.len(), |i| start + i);
            if &out[start..end] == "***" {
                break;
            }
            out.replace_range(start..end, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let key = Secret::new("0123456789abcdef0123456789abcdef");
        assert_eq!(format!("{key:?} {key}"), "[redacted] [redacted]");
    }

    #[test]
    fn database_url_hides_password_only() {
        let url = DatabaseUrl::new("postgres://odds:hunter2@db.example.com:5432/odds");
        let shown = format!("{url:?} {url}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.example.com"), "{shown}");
        assert_eq!(
            redact_url_password("host=x password=hunter2 user=y"),
            "host=x password=*** user=y"
        );
        assert_eq!(
            redact_url_password("http://h/v4?apiKey=abc&x=1"),
            "http://h/v4?apiKey=***&x=1"
        );
    }
}
