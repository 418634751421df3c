//! Time as the outside world writes it: the one parser for timestamps on the wire, and the US
//! Eastern calendar that NBA slate dates follow.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::America::New_York;
use serde_json::Value;

/// An RFC 3339 / ISO 8601 instant with an offset (`2026-01-20T00:10:00Z`), surrounding blanks
/// ignored; `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(storable)
}

/// A JSON time field: ISO 8601 text, or seconds since the epoch (what `dateFormat=unix` sends).
pub fn parse_wire_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(s) => parse_rfc3339(s),
        Value::Number(n) => n
            .as_i64()
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .filter(storable),
        _ => None,
    }
}

/// Years 1 to 9999: what RFC 3339 can write, and inside what PostgreSQL stores (4713 BC to
/// 294276 AD). chrono takes years far outside both from epoch seconds; such a time is no time.
fn storable(at: &DateTime<Utc>) -> bool {
    (1..=9999).contains(&at.year())
}

/// The UTC offset of US Eastern time at an instant, in hours (-4 in daylight time, -5 otherwise).
pub fn eastern_offset_hours(at: DateTime<Utc>) -> i64 {
    i64::from(
        New_York
            .offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc(),
    ) / 3600
}

/// The US-Eastern calendar date of an instant: the NBA slate date of a game tipping off then.
/// A 10:30 pm ET tip-off is 03:30 UTC the next day, but belongs to this date.
pub fn eastern_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&New_York).date_naive()
}

/// The UTC instant of midnight starting a UTC calendar date (billing days and months).
pub fn utc_midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The UTC instant of midnight starting an Eastern calendar date.
pub fn eastern_midnight_utc(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    // US daylight-time switches happen at 02:00, so local midnight always exists exactly once;
    // the fallback reads it as standard time should a rule ever change that.
    New_York
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight) + Duration::hours(5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn wire_times_in_both_formats() {
        let t = utc("2026-01-20T00:10:00Z");
        assert_eq!(parse_wire_time(&json!("2026-01-20T00:10:00Z")), Some(t));
        assert_eq!(
            parse_wire_time(&json!(" 2026-01-19T19:10:00-05:00 ")),
            Some(t)
        );
        assert_eq!(parse_wire_time(&json!(t.timestamp())), Some(t));
        assert_eq!(parse_wire_time(&json!("tomorrow")), None);
        assert_eq!(parse_wire_time(&json!("2026-01-20")), None);
        assert_eq!(parse_wire_time(&json!(null)), None);
        assert_eq!(parse_wire_time(&json!(1.5)), None);
        // Seconds chrono accepts but PostgreSQL would refuse (about 30,000 BC), or years past
        // what RFC 3339 can write.
        assert_eq!(parse_wire_time(&json!(-1_000_000_000_000i64)), None);
        assert_eq!(parse_wire_time(&json!(300_000_000_000i64)), None);
        assert_eq!(parse_rfc3339("0000-12-31T00:00:00Z"), None);
    }

    #[test]
    fn eastern_dates_follow_daylight_time() {
        assert_eq!(
            eastern_date(utc("2025-12-06T03:30:00Z")),
            NaiveDate::from_ymd_opt(2025, 12, 5).unwrap()
        );
        assert_eq!(
            eastern_date(utc("2025-05-08T02:00:00Z")),
            NaiveDate::from_ymd_opt(2025, 5, 7).unwrap()
        );
        assert_eq!(eastern_offset_hours(utc("2025-03-09T06:59:59Z")), -5);
        assert_eq!(eastern_offset_hours(utc("2025-03-09T07:00:00Z")), -4);
        assert_eq!(eastern_offset_hours(utc("2025-11-02T05:59:59Z")), -4);
        assert_eq!(eastern_offset_hours(utc("2025-11-02T06:00:00Z")), -5);
        assert_eq!(eastern_offset_hours(utc("2026-03-08T06:59:59Z")), -5);
        assert_eq!(eastern_offset_hours(utc("2026-03-08T07:00:00Z")), -4);
        assert_eq!(eastern_offset_hours(utc("2026-11-01T06:00:00Z")), -5);
    }

    #[test]
    fn eastern_midnight() {
        let d = NaiveDate::from_ymd_opt(2025, 12, 5).unwrap();
        assert_eq!(eastern_midnight_utc(d), utc("2025-12-05T05:00:00Z"));
        let d = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        assert_eq!(eastern_midnight_utc(d), utc("2025-07-01T04:00:00Z"));
        // The days the clocks change.
        let d = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        assert_eq!(eastern_midnight_utc(d), utc("2026-03-08T05:00:00Z"));
        let d = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(eastern_midnight_utc(d), utc("2026-11-01T04:00:00Z"));
    }
}
