//! Twitter's `created_at` times, read by hand for the common layout because every status has one.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Parses Twitter's `Wed Oct 10 20:19:24 +0000 2018` (by hand: it runs for every status;
/// any other layout falls back to chrono's parser, then to RFC 3339). Years outside 1..=9999
/// read as no time: both databases and the archive's text times hold exactly those.
#[inline]
pub fn parse_twitter_time(s: &str) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    fast_twitter_time(s)
        .or_else(|| {
            DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y")
                .or_else(|_| DateTime::parse_from_rfc3339(s))
                .map(|t| t.with_timezone(&Utc))
                .ok()
        })
        .filter(|t| (1..=9999).contains(&t.year()))
}

/// The common layout, read by position. Every piece is taken with `get`: the text is the
/// server's, and a multi-byte character may sit at any offset.
pub(super) fn fast_twitter_time(s: &str) -> Option<DateTime<Utc>> {
    if s.len() != 30 || s.as_bytes().get(19..26) != Some(b" +0000 ".as_slice()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        s.get(r)?.bytes().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = s.get(4..7)?;
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let date = chrono::NaiveDate::from_ymd_opt(num(26..30)? as i32, month, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    Some(NaiveDateTime::new(date, time).and_utc())
}
