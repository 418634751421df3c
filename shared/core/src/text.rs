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
}
