//! Reading what a killed daemon left, from outside, on both backends: the archive's events of
//! a connection in order, its soundness (SQLite `integrity_check`; PostgreSQL `amcheck` on
//! every table and index of the schema), and the spool's records (read from a copy, so that
//! the restarted daemon finds the directory exactly as the kill left it).

use crate::common::TestDb;
use crate::common::reference::RefEvent;
use crate::common::sqlite_inspect::{integrity, sqlite_pool};
use std::path::Path;
use streamvault::record::Record;
use streamvault::spool::{Spool, SpoolConfig};
use streamvault::store::Backend as Store;

/// One archived or spooled event: what the reference stream is compared with.
#[derive(Debug, Clone)]
pub struct Seen {
    pub kind: String,
    pub tweet_id: Option<i64>,
    pub connection_id: Option<i64>,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

pub fn parse_time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .unwrap_or_else(|e| panic!("time {s:?}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// Whether an event of this kind is part of the generated stream: the simulator's own
/// `FALLING_BEHIND` warnings and its stall disconnect are not (the trial counts them apart).
pub fn stream_kind(kind: &str) -> bool {
    kind != "warning" && kind != "disconnect"
}

/// The events of connection `id` that are part of the generated stream ([`stream_kind`]), in
/// `event_id` order.
pub async fn events_of(db: &TestDb, id: i64) -> Vec<Seen> {
    db.rows(&format!(
        "SELECT kind, CAST(tweet_id AS TEXT), CAST(received_at AS TEXT) FROM events \
         WHERE connection_id = {id} AND kind NOT IN ('warning', 'disconnect') \
         ORDER BY events.event_id"
    ))
    .await
    .into_iter()
    .map(|r| Seen {
        kind: r[0].clone().unwrap(),
        tweet_id: r[1].as_deref().map(|t| t.parse().unwrap()),
        connection_id: Some(id),
        received_at: parse_time(r[2].as_deref().unwrap()),
    })
    .collect()
}

/// The first place where `seen` differs from `reference[from..]`: its index in `seen`, what
/// was seen and what the stream has there.
pub fn first_difference(seen: &[Seen], reference: &[RefEvent], from: usize) -> String {
    for (i, s) in seen.iter().enumerate() {
        match reference.get(from + i) {
            None => return format!("at {i}: the reference ends ({} lines)", reference.len()),
            Some(r) if s.kind != r.kind || (r.kind == "tweet" && s.tweet_id != r.tweet_id) => {
                return format!(
                    "at {i}: {} {:?}, the stream has {} {:?}",
                    s.kind, s.tweet_id, r.kind, r.tweet_id
                );
            }
            Some(_) => {}
        }
    }
    "none".into()
}

/// Whether `seen` is exactly `reference[from..from + seen.len()]` (kinds, and status ids).
pub fn matches_at(seen: &[Seen], reference: &[RefEvent], from: usize) -> bool {
    from + seen.len() <= reference.len()
        && seen
            .iter()
            .zip(&reference[from..])
            .all(|(s, r)| s.kind == r.kind && (r.kind != "tweet" || s.tweet_id == r.tweet_id))
}

/// Where in `reference` the run `seen` starts, found by its first status (ids are unique).
pub fn position_in(seen: &[Seen], reference: &[RefEvent]) -> Option<usize> {
    let (offset, first) = seen.iter().enumerate().find(|(_, s)| s.kind == "tweet")?;
    let at = reference
        .iter()
        .position(|r| r.kind == "tweet" && r.tweet_id == first.tweet_id)?;
    at.checked_sub(offset)
}

/// The records a spool directory holds, from its cursor on, read from a copy of it (every
/// kind, every connection).
pub fn spooled(dir: &Path) -> Vec<Seen> {
    if !dir.exists() {
        return Vec::new();
    }
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
        }
    }
    let mut spool = Spool::open(SpoolConfig::new(copy.path()), Default::default()).unwrap();
    let mut out: Vec<Seen> = Vec::new();
    while spool.has_unread() {
        let (records, _) = spool.read_batch(10_000, 64 << 20).unwrap();
        // Connection-log changes are spooled too; they are not events.
        out.extend(records.iter().filter_map(|record| {
            let origin = record.origin();
            let (kind, tweet_id) = match record {
                Record::Message(m) => (m.kind.as_str().to_owned(), m.tweet_id),
                Record::Reject(_) => ("reject".to_owned(), None),
                Record::Connection(_) => return None,
            };
            Some(Seen {
                kind,
                tweet_id,
                connection_id: origin.connection_id,
                received_at: origin.received_at,
            })
        }));
    }
    out
}

/// Segment files left in a spool directory.
pub fn segments(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| e.as_ref().unwrap().path().extension() == Some("seg".as_ref()))
                .count()
        })
        .unwrap_or(0)
}

/// `"ok"` when the archive is sound: SQLite's `PRAGMA integrity_check` on a fresh connection
/// (which runs WAL recovery after a crash); on PostgreSQL, `amcheck`'s `verify_heapam` on
/// every table and `bt_index_check` on every B-tree index of the test schema.
pub async fn soundness(db: &TestDb) -> String {
    match &db.backend {
        Store::Sqlite(_) => {
            let path = db.url.strip_prefix("sqlite://").unwrap();
            let pool = sqlite_pool(Path::new(path)).await;
            let ok = integrity(&pool).await;
            pool.close().await;
            ok
        }
        Store::Postgres(pg) => {
            let pool = pg.pool();
            // Installed once per database; tests in parallel may race to create it.
            for _ in 0..5 {
                if sqlx::query("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public")
                    .execute(pool)
                    .await
                    .is_ok()
                {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            let heap = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, \
                 LATERAL public.verify_heapam(c.oid) WHERE n.nspname = current_schema() \
                 AND c.relkind = 'r'",
            )
            .fetch_one(pool)
            .await;
            let indexes = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM (SELECT public.bt_index_check(c.oid) FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = c.relam \
                 WHERE n.nspname = current_schema() AND c.relkind = 'i' AND am.amname = 'btree') AS checked",
            )
            .fetch_one(pool)
            .await;
            match (heap, indexes) {
                (Ok(0), Ok(_)) => "ok".into(),
                (Ok(0), Err(e)) | (Err(e), _) => format!("amcheck: {e}"),
                (Ok(n), _) => format!("verify_heapam: {n} corrupt tuples"),
            }
        }
    }
}

/// Status events whose status is gone without a deletion of it or of the status it retweets
/// (the contract erases a pure retweet with its original), among the events of connection
/// `id`, whose stream `reference` is: must be 0.
pub async fn orphans(db: &TestDb, id: i64, reference: &[RefEvent]) -> i64 {
    let orphans: Vec<i64> = db
        .rows(&format!(
            "SELECT CAST(e.tweet_id AS TEXT) FROM events e WHERE kind = 'tweet' \
             AND e.connection_id = {id} \
             AND NOT EXISTS (SELECT 1 FROM tweets t WHERE t.tweet_id = e.tweet_id) \
             AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.tweet_id = e.tweet_id)"
        ))
        .await
        .into_iter()
        .map(|r| r[0].as_deref().unwrap().parse().unwrap())
        .collect();
    if orphans.is_empty() {
        return 0;
    }
    let deleted: std::collections::HashSet<i64> = db
        .rows("SELECT CAST(tweet_id AS TEXT) FROM deletions")
        .await
        .into_iter()
        .map(|r| r[0].as_deref().unwrap().parse().unwrap())
        .collect();
    let carried: std::collections::HashMap<i64, i64> = reference
        .iter()
        .filter_map(|r| Some((r.tweet_id?, r.retweet_of?)))
        .collect();
    orphans
        .iter()
        .filter(|id| !carried.get(id).is_some_and(|o| deleted.contains(o)))
        .count() as i64
}
