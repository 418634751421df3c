//! Text as PostgreSQL takes it: `text` and `jsonb` cannot hold the NUL character, so outside
//! text is cleaned of it before it is stored, and nothing else about it changes.

use std::borrow::Cow;

use serde_json::Value;

/// `text` with each NUL character replaced by U+FFFD.
pub fn without_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// JSON text with each escaped NUL (`\u0000`, the only form valid JSON text can carry one in)
/// replaced by the escape of U+FFFD: what [`strip_nul`] does to a decoded value, done to the
/// text. Borrowed when there is nothing to replace.
pub fn json_without_nul(json: &str) -> Cow<'_, str> {
    const NUL: &str = "\\u0000";
    if !json.contains(NUL) {
        return Cow::Borrowed(json);
    }
    let bytes = json.as_bytes();
    let mut cleaned = String::new();
    let (mut copied, mut at) = (0, 0);
    while let Some(found) = json[at..].find('\\') {
        let start = at + found;
        let end = start + bytes[start..].iter().take_while(|&&b| b == b'\\').count();
        // Backslashes pair up as escaped backslashes; an odd run ends in an escape's own.
        let escape = end - 1;
        if (end - start) % 2 == 1 && json[escape..].starts_with(NUL) {
            cleaned.push_str(&json[copied..escape]);
            cleaned.push_str("\\ufffd");
            copied = escape + NUL.len();
            at = copied;
        } else {
            at = end;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(json);
    }
    cleaned.push_str(&json[copied..]);
    Cow::Owned(cleaned)
}

/// Replaces NUL characters in every string (keys included); true if any was found.
pub fn strip_nul(value: &mut Value) -> bool {
    fn clean(s: &mut String) -> bool {
        if s.contains('\0') {
            *s = s.replace('\0', "\u{FFFD}");
            true
        } else {
            false
        }
    }
    match value {
        Value::String(s) => clean(s),
        Value::Array(items) => items.iter_mut().fold(false, |acc, v| strip_nul(v) | acc),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
                for (mut k, mut v) in entries {
                    clean(&mut k);
                    strip_nul(&mut v);
                    map.insert(k, v);
                }
                true
            } else {
                map.values_mut().fold(false, |acc, v| strip_nul(v) | acc)
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_characters_are_replaced_everywhere() {
        assert_eq!(without_nul("a\0b"), "a\u{FFFD}b");
        assert!(matches!(without_nul("clean"), Cow::Borrowed("clean")));
        let mut value = json!({"k\0": ["x\0", {"y": "z\0"}], "ok": 1});
        assert!(strip_nul(&mut value));
        assert!(!value.to_string().contains("\\u0000"), "{value}");
        assert!(!strip_nul(&mut value));
    }

    #[test]
    fn escaped_nuls_are_replaced_in_json_text_and_escaped_backslashes_are_not() {
        let text = r#"{"k\u0000": ["x\u0000y", "\\u0000", "\\\u0000", "\u00001"]}"#;
        let cleaned = json_without_nul(text);
        assert_eq!(
            cleaned,
            r#"{"k\ufffd": ["x\ufffdy", "\\u0000", "\\\ufffd", "\ufffd1"]}"#
        );
        // The same answer as cleaning the decoded value.
        let mut value: Value = serde_json::from_str(text).unwrap();
        assert!(strip_nul(&mut value));
        assert_eq!(serde_json::from_str::<Value>(&cleaned).unwrap(), value);
        // Only escaped backslashes: nothing to do.
        assert!(matches!(
            json_without_nul(r#"["\\u0000"]"#),
            Cow::Borrowed(_)
        ));
        assert!(matches!(json_without_nul("[1]"), Cow::Borrowed(_)));
    }
}
