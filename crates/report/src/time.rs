//! Times and durations of the report: parsing `--since`/`--until`, and writing times and
//! durations the same way in every format.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::Serializer;

/// Parses a `--since`/`--until` value: RFC 3339 (`2026-11-23T12:00:00Z`), a date
/// (`2026-11-23`, midnight UTC), a UTC date and time (`2026-11-23T12:00`, seconds optional), or
/// an age counted back from now (`30m`, `24h`, `7d`; also `s` and `w`). Operators think in
/// "the last day" as often as in dates, and both must be exact.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    parse_time_at(s, Utc::now())
}

/// [`parse_time`] with ages counted back from `now`.
pub(crate) fn parse_time_at(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if let Some(midnight) = date.and_hms_opt(0, 0, 0) {
            return Ok(midnight.and_utc());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(dt.and_utc());
        }
    }
    if let Some(age) = parse_age(t) {
        return now
            .checked_sub_signed(age)
            .ok_or_else(|| format!("{s:?} reaches before the earliest representable time"));
    }
    Err(format!(
        "{s:?} is not a time: use RFC 3339 (2026-11-23T12:00:00Z), a date (2026-11-23), \
         a UTC date and time (2026-11-23T12:00), or an age such as 30m, 24h or 7d"
    ))
}

/// `30m`, `24h`, `7d`, ...: a whole number and a unit.
fn parse_age(t: &str) -> Option<Duration> {
    let unit = t.chars().last()?;
    let number: i64 = t[..t.len() - unit.len_utf8()].parse().ok()?;
    if number < 0 {
        return None;
    }
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    Duration::try_seconds(number.checked_mul(seconds)?)
}

/// The one RFC 3339 form of the report: UTC, `Z`, microseconds (the archive's precision).
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A time for people: `2026-11-23 12:00:00.123` (UTC, said once in each format's header).
pub(crate) fn human(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// Milliseconds of a duration, the unit of every duration in the report (truncated).
pub(crate) fn ms(d: Duration) -> i64 {
    d.num_milliseconds()
}

/// A duration for people: `850 ms`, `12.5 s`, `3 min 05 s`, `2 h 03 min`, `4 d 02 h`.
pub(crate) fn human_ms(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    let s = ms / 1000;
    let text = if ms < 1000 {
        format!("{ms} ms")
    } else if s < 60 {
        format!("{}.{} s", s, (ms % 1000) / 100)
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} d {:02} h", s / 86_400, (s % 86_400) / 3600)
    };
    format!("{sign}{text}")
}

/// Serializes a time as [`rfc3339`].
pub(crate) fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

/// Serializes an optional time as [`rfc3339`] or `null`.
pub(crate) fn ser_opt_time<S: Serializer>(
    t: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// Serializes a 64-bit id as a string, as the API's `id_str` does.
pub(crate) fn ser_id<S: Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

/// Serializes an optional 64-bit id as a string or `null`.
pub(crate) fn ser_opt_id<S: Serializer>(id: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.serialize_str(&id.to_string()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_documented_form_parses() {
        let now = at("2026-11-23T12:00:00Z");
        let p = |s| parse_time_at(s, now).unwrap();
        assert_eq!(p("2026-11-20T08:30:00+01:00"), at("2026-11-20T07:30:00Z"));
        assert_eq!(p("2026-11-20"), at("2026-11-20T00:00:00Z"));
        assert_eq!(p("2026-11-20T08:30"), at("2026-11-20T08:30:00Z"));
        assert_eq!(p("2026-11-20 08:30:15"), at("2026-11-20T08:30:15Z"));
        assert_eq!(p("30m"), at("2026-11-23T11:30:00Z"));
        assert_eq!(p("24h"), at("2026-11-22T12:00:00Z"));
        assert_eq!(p("7d"), at("2026-11-16T12:00:00Z"));
        for bad in ["", "yesterday", "7x", "-3h", "2026-13-01", "h"] {
            let err = parse_time_at(bad, now).unwrap_err();
            assert!(
                err.contains("RFC 3339") || err.contains("earliest"),
                "{err}"
            );
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_ms(850), "850 ms");
        assert_eq!(human_ms(12_500), "12.5 s");
        assert_eq!(human_ms(185_000), "3 min 05 s");
        assert_eq!(human_ms(7_380_000), "2 h 03 min");
        assert_eq!(human_ms(-1500), "-1.5 s");
    }
}
