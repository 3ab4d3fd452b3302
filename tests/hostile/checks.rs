//! The checks of `tests/hostile.rs` beyond the mixed stream's counts: what the simulator sent
//! per scenario, what the archive holds per stream, SQL helpers that splice no text, and whether
//! the timing and framing came out as issue 16 says (the notices are in `notices.rs`).

use super::Failures;
use crate::common::TestDb;
use crate::common::daemon::connections;
use std::collections::BTreeMap;
use std::time::Duration;
use streamvault::simulate::{ConnectionStats, Stats};

/// The generator's first status id: hostile statuses lie in `[ID_BASE, FIRST_GENERATED_ID)`.
pub const FIRST_GENERATED_ID: u64 = 1_500_000_000_000_000_000;
/// The generator's users start at 10,000; hostile users lie below.
pub const FIRST_GENERATED_USER: u64 = 10_000;
/// The wait after a 429 with `Retry-After: 999999999`: the policy's maximum (15 min), taken
/// without jitter (the server said when), times the test daemon's backoff scale (0.01).
const CAPPED_WAIT_MS: i64 = 15 * 60 * 1000 / 100;
/// The daemon's warning when it cuts a server's wait.
const CAP_WARNING: &str = "the server asked for a longer wait than the reconnect policy's maximum";
/// Renewals a 1 ms TTL may cause per second: one (`RENEW_FLOOR`), with 20% for timer slack.
const MAX_RENEWALS_PER_SEC: f64 = 1.2;
/// The reason of what the connection's end left of the endless `data:` line.
const UNFINISHED: &str = "unfinished frame: the connection ended after ";

/// The connections that ran `scenario`.
pub fn served<'a>(stats: &'a Stats, scenario: &str) -> Vec<&'a ConnectionStats> {
    let of = |c: &&ConnectionStats| c.scenario == scenario;
    stats.connections.iter().filter(of).collect()
}

/// Lines sent by kind (hostile labels included) over `connections`.
pub fn by_kind(connections: &[&ConnectionStats]) -> BTreeMap<String, u64> {
    let mut kinds = BTreeMap::new();
    for c in connections {
        for (kind, n) in &c.by_kind {
            *kinds.entry(kind.clone()).or_default() += n;
        }
    }
    kinds
}

pub async fn count(db: &TestDb, table: &str, stream: &str) -> u64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE stream = '{stream}'");
    db.int(&sql).await as u64
}

pub async fn archived_kinds(db: &TestDb, stream: &str) -> BTreeMap<String, u64> {
    let sql = format!(
        "SELECT kind, CAST(COUNT(*) AS TEXT) FROM events WHERE stream = '{stream}' GROUP BY kind"
    );
    let rows = db.rows(&sql).await.into_iter();
    rows.map(|r| {
        (
            r[0].clone().unwrap(),
            r[1].as_ref().unwrap().parse().unwrap(),
        )
    })
    .collect()
}

/// Rejects whose raw bytes are `bytes` (`whole`) or contain them.
pub async fn reject_count(db: &TestDb, bytes: &[u8], whole: bool) -> u64 {
    // The bytes go in as hex literals: nothing of the line is spliced into the SQL as text.
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let (plain, with_cr) = (hex(bytes), hex(&[bytes, b"\r"].concat()));
    let lit = |h: &str| {
        if db.is_postgres() {
            format!("'\\x{h}'::bytea")
        } else {
            format!("X'{h}'")
        }
    };
    // A line keeps the `\r` of its `\r\n` ending, as received.
    let sql = match (db.is_postgres(), whole) {
        (_, true) => format!(
            "SELECT COUNT(*) FROM rejects WHERE raw = {} OR raw = {}",
            lit(&plain),
            lit(&with_cr)
        ),
        (true, false) => format!(
            "SELECT COUNT(*) FROM rejects WHERE position({} in raw) > 0",
            lit(&plain)
        ),
        (false, false) => format!(
            "SELECT COUNT(*) FROM rejects WHERE instr(raw, {}) > 0",
            lit(&plain)
        ),
    };
    db.int(&sql).await as u64
}

/// `needle` as an SQL text literal, written in hex: no text is spliced into the SQL as is.
pub fn text_lit(db: &TestDb, needle: &str) -> String {
    let hex: String = needle.bytes().map(|x| format!("{x:02x}")).collect();
    if db.is_postgres() {
        format!("convert_from('\\x{hex}'::bytea, 'UTF8')")
    } else {
        format!("CAST(X'{hex}' AS TEXT)")
    }
}

/// An SQL condition: the text `column` contains `needle`.
pub fn contains(db: &TestDb, column: &str, needle: &str) -> String {
    if db.is_postgres() {
        format!(
            "position({} in CAST({column} AS TEXT)) > 0",
            text_lit(db, needle)
        )
    } else {
        format!(
            "instr(CAST({column} AS TEXT), {}) > 0",
            text_lit(db, needle)
        )
    }
}

/// Rejects of `stream` whose reason contains `reason`.
pub async fn reason_count(db: &TestDb, stream: &str, reason: &str) -> u64 {
    let sql = format!(
        "SELECT COUNT(*) FROM rejects WHERE stream = '{stream}' AND {}",
        contains(db, "reason", reason)
    );
    db.int(&sql).await as u64
}

/// The reasons of `stream`'s rejects with their counts, cut to their first `width` characters
/// (sizes and offsets vary), for failure messages.
pub async fn reasons(db: &TestDb, stream: &str, width: usize) -> BTreeMap<String, u64> {
    let sql = format!(
        "SELECT reason, CAST(COUNT(*) AS TEXT) FROM rejects WHERE stream = '{stream}' GROUP BY reason"
    );
    let mut reasons = BTreeMap::new();
    for r in db.rows(&sql).await {
        let reason: String = r[0]
            .clone()
            .unwrap_or_default()
            .chars()
            .take(width)
            .collect();
        *reasons.entry(reason).or_default() += r[1].as_ref().map_or(0, |n| n.parse().unwrap());
    }
    reasons
}

/// Whether the retry stream got its 429 and, after the wait, connected again: the run is long
/// enough for [`timing`] to judge the wait. (The daemon may start slowly on a loaded machine, so
/// a fixed run length is not enough.)
pub async fn retry_done(db: &TestDb) -> bool {
    let rows = connections(db, "retry").await;
    let answered = rows
        .iter()
        .position(|r| r.http_status == Some(429) && r.ended_at.is_some());
    answered.is_some_and(|i| rows.len() > i + 1)
}

/// Timing a server gives is bounded: the 429's wait is capped at 15 min (with a warning), a 1 ms
/// TTL renews at most once a second.
pub async fn timing(db: &TestDb, stats: &Stats, ran: Duration, log: &str, failures: &mut Failures) {
    retry(db, stats, log, failures).await;
    let sessions = served(stats, "hostile-ttl");
    let ids: Vec<&str> = sessions
        .iter()
        .filter_map(|c| c.session_id.as_deref())
        .collect();
    let updates: usize = stats
        .sessions
        .iter()
        .filter(|s| ids.contains(&s.session_id.as_str()))
        .map(|s| s.updates.len())
        .sum();
    // Each session's first subscription is not a renewal.
    let renewals = updates.saturating_sub(ids.len());
    let per_sec = renewals as f64 / ran.as_secs_f64();
    failures.check(
        per_sec <= MAX_RENEWALS_PER_SEC,
        format!(
            "ttl: {updates} subscription updates in {} sessions in {ran:?} ({per_sec:.2} renewals/s, \
             at most {MAX_RENEWALS_PER_SEC}) with a 1 ms TTL",
            ids.len()
        ),
    );
}

/// The retry stream: its first connection got the simulator's 429 and recorded it, every later
/// answer was a 200; the wait after the 429 is exactly the capped one, observed, and logged.
async fn retry(db: &TestDb, stats: &Stats, log: &str, failures: &mut Failures) {
    let rows = connections(db, "retry").await;
    let given: Vec<u16> = served(stats, "hostile-retry")
        .iter()
        .map(|c| c.http_status)
        .collect();
    let recorded: Vec<i64> = rows.iter().filter_map(|r| r.http_status).collect();
    failures.check(
        given.first() == Some(&429)
            && rows.first().and_then(|r| r.http_status) == Some(429)
            && recorded.iter().skip(1).all(|s| *s == 200),
        format!(
            "retry: first answer {:?}, expected 429; answers recorded {recorded:?}, the simulator \
             gave {given:?}; rows {rows:?}",
            rows.first().map(|r| r.http_status)
        ),
    );
    let Some(at) = rows.iter().position(|r| r.http_status == Some(429)) else {
        return failures.check(false, "retry: no 429 recorded");
    };
    let (limited, next) = (&rows[at], rows.get(at + 1));
    failures.check(
        limited.backoff_ms == Some(CAPPED_WAIT_MS),
        format!(
            "retry: waits {:?} ms after Retry-After: 999999999, expected {CAPPED_WAIT_MS}",
            limited.backoff_ms
        ),
    );
    // The wait is also what the daemon did: the next attempt began no earlier.
    let waited = match (limited.ended_at, next) {
        (Some(ended), Some(next)) => Some((next.started_at - ended).num_milliseconds()),
        _ => None,
    };
    failures.check(
        waited.is_some_and(|ms| ms >= CAPPED_WAIT_MS - 10),
        format!(
            "retry: the next attempt came {waited:?} ms after the 429, expected {CAPPED_WAIT_MS}"
        ),
    );
    failures.check(
        log.contains(CAP_WARNING),
        "retry: no warning that Retry-After was cut",
    );
}

/// The topics streams: every frame sent and every update answered is archived (so the CR-only
/// session opens), and the endless `data:` line costs exactly one reject, `unfinished frame`,
/// per connection it was cut on; nothing else is refused.
pub async fn topics_streams(db: &TestDb, stats: &Stats, failures: &mut Failures) {
    for (stream, scenario) in [
        ("ttl", "hostile-ttl"),
        ("cr", "hostile-cr"),
        ("endless", "hostile-endless"),
    ] {
        let connections = served(stats, scenario);
        let frames: u64 = connections.iter().map(|c| c.frames_sent).sum();
        // The daemon also keeps each answered subscription update as a `subscriptions` event.
        let ids: Vec<&str> = connections
            .iter()
            .filter_map(|c| c.session_id.as_deref())
            .collect();
        let answered = stats
            .sessions
            .iter()
            .filter(|s| ids.contains(&s.session_id.as_str()))
            .flat_map(|s| &s.updates)
            .filter(|u| u.status == 200)
            .count() as u64;
        let events = count(db, "events", stream).await;
        failures.check(
            events == frames + answered,
            format!(
                "{stream}: {events} events for {frames} frames sent and {answered} updates answered"
            ),
        );
        let rejects = count(db, "rejects", stream).await;
        let unfinished = reason_count(db, stream, UNFINISHED).await;
        let cut = connections
            .iter()
            .filter(|c| c.partial_line_bytes > 0)
            .count() as u64;
        failures.check(
            (rejects, unfinished) == (cut, cut),
            format!(
                "{stream}: {rejects} rejects, {unfinished} `unfinished frame`, expected {cut} \
                 (one per connection cut in an unfinished line)"
            ),
        );
        if stream == "endless" {
            failures.check(cut >= 1, "endless: the endless line was never sent");
        }
    }
    let opened = count(db, "live_sessions", "cr").await;
    failures.check(opened >= 1, "cr: no session opened on CR-only SSE");
}
