//! The checks of `tests/hostile.rs` beyond the mixed stream's counts: what the simulator sent
//! per scenario, what the archive holds per stream, and whether the hostile notices, timing and
//! framing came out as issue 16 says.

use super::Failures;
use crate::common::TestDb;
use crate::common::daemon::connections;
use std::collections::BTreeMap;
use std::time::Duration;
use streamvault::simulate::hostile;
use streamvault::simulate::{ConnectionStats, Stats};

/// The generator's first status id: hostile statuses lie in `[ID_BASE, FIRST_GENERATED_ID)`.
const FIRST_GENERATED_ID: u64 = 1_500_000_000_000_000_000;
/// The generator's users start at 10,000; hostile users lie below.
const FIRST_GENERATED_USER: u64 = 10_000;
/// The longest wait a server's header may impose (15 min), plus the policy's 20% jitter.
const MAX_SERVER_WAIT_MS: i64 = 15 * 60 * 1000 * 6 / 5;
/// Subscription updates per second a 1 ms TTL may cause at most.
const MAX_UPDATES_PER_SEC: f64 = 2.0;

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

/// The notices among the hostile lines were applied: no coordinate left in any hostile status a
/// `scrub_geo` covers, float-id deletes applied from `id_str`, no bad
/// country code recorded, DMs erased by their deletes.
pub async fn compliance(db: &TestDb, stats: &Stats, failures: &mut Failures) {
    let sent = &stats.totals.hostile_by_label;
    let n = |label: &str| sent.get(label).copied().unwrap_or(0) as i64;
    let hostile_ids = format!(
        "tweet_id >= {} AND tweet_id < {FIRST_GENERATED_ID}",
        hostile::ID_BASE
    );
    let (lon, lat) = (hostile::GEO_LON, hostile::GEO_LAT);
    let covered = "EXISTS (SELECT 1 FROM geo_scrubs g WHERE g.user_id = tweets.user_id \
                   AND tweets.tweet_id <= g.up_to_status_id)";
    let sql = format!(
        "SELECT COUNT(*) FROM tweets WHERE {hostile_ids} AND {covered} AND \
         (CAST(raw AS TEXT) LIKE '%{lon}%' OR CAST(raw AS TEXT) LIKE '%{lat}%' \
         OR longitude IS NOT NULL OR latitude IS NOT NULL)"
    );
    let left = db.int(&sql).await;
    failures.check(
        left == 0,
        format!("{left} hostile statuses covered by a scrub_geo keep coordinates (columns or raw)"),
    );
    let scrubs = db
        .int(&format!(
            "SELECT COUNT(*) FROM geo_scrubs WHERE user_id < {FIRST_GENERATED_USER}"
        ))
        .await;
    failures.check(
        scrubs == n("hostile/scrub_geo"),
        format!(
            "{scrubs} geo_scrubs rows for {} notices",
            n("hostile/scrub_geo")
        ),
    );
    let deleted = db
        .int(&format!(
            "SELECT COUNT(*) FROM deletions WHERE {hostile_ids}"
        ))
        .await;
    failures.check(
        deleted >= n("hostile/delete_float_id"),
        format!(
            "{deleted} deletions for {} deletes with a float id and a good id_str",
            n("hostile/delete_float_id")
        ),
    );
    let survivors = db
        .int(&format!(
            "SELECT COUNT(*) FROM tweets WHERE {hostile_ids} AND tweet_id IN \
             (SELECT tweet_id FROM deletions)"
        ))
        .await;
    failures.check(
        survivors == 0,
        format!("{survivors} deleted statuses remain"),
    );
    let text = "CAST(withheld_in_countries AS TEXT)";
    let bad = db
        .int(&format!(
            "SELECT COUNT(*) FROM withholdings WHERE {text} LIKE '%\"D\"%' OR {text} LIKE \
             '%\"123\"%' OR {text} LIKE '%de-DE%'"
        ))
        .await;
    failures.check(
        bad == 0,
        format!("{bad} withholdings with a bad country code"),
    );
    for (code, label) in [
        ("XX", "hostile/status_withheld_xx"),
        ("XY", "hostile/user_withheld_xy"),
    ] {
        let got = db
            .int(&format!(
                "SELECT COUNT(*) FROM withholdings WHERE {text} LIKE '%\"{code}\"%'"
            ))
            .await;
        failures.check(
            got >= n(label),
            format!("{got} withholdings with {code} for {} notices", n(label)),
        );
    }
    let dms = db
        .int(
            "SELECT COUNT(*) FROM events WHERE kind = 'direct_message' AND \
             CAST(raw AS TEXT) LIKE '%hostile dm%'",
        )
        .await;
    failures.check(
        dms == 0,
        format!("{dms} deleted direct messages keep their text in events.raw"),
    );
}

/// Timing a server gives is bounded: the 429's wait is capped at 15 min, a 1 ms TTL does not
/// cause a storm of subscription updates.
pub async fn timing(db: &TestDb, stats: &Stats, ran: Duration, failures: &mut Failures) {
    let rows = connections(db, "retry").await;
    match rows.first() {
        Some(first) => {
            failures.check(
                first.http_status == Some(429),
                format!("retry: first answer {:?}, expected 429", first.http_status),
            );
            failures.check(
                first.backoff_ms.is_some_and(|ms| ms <= MAX_SERVER_WAIT_MS),
                format!(
                    "retry: waits {:?} ms after Retry-After: 999999999, at most {MAX_SERVER_WAIT_MS}",
                    first.backoff_ms
                ),
            );
        }
        None => failures.check(false, "retry: no connection recorded"),
    }
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
    let per_sec = updates as f64 / ran.as_secs_f64();
    failures.check(
        per_sec <= MAX_UPDATES_PER_SEC,
        format!("ttl: {updates} subscription updates in {ran:?} ({per_sec:.1}/s) with a 1 ms TTL"),
    );
}

/// The topics streams: every frame sent and every update answered is archived (so the CR-only
/// session opens), and the endless `data:` line costs at most one reject per connection.
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
        let cut = connections
            .iter()
            .filter(|c| c.partial_line_bytes > 0)
            .count() as u64;
        failures.check(
            rejects <= cut,
            format!("{stream}: {rejects} rejects, at most {cut} (one per unfinished line)"),
        );
    }
    let opened = count(db, "live_sessions", "cr").await;
    failures.check(opened >= 1, "cr: no session opened on CR-only SSE");
}
