//! What the archive holds while and after its database fails: counts of what was archived (in
//! total, per connection), the longest silence in `received_at`, per-connection agreement.

use crate::common::TestDb;
use crate::common::daemon::connections;

/// Events + rejects archived.
pub async fn archived(db: &TestDb) -> i64 {
    db.int("SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM rejects)")
        .await
}

/// Events + rejects archived for one connection.
pub async fn archived_on(db: &TestDb, connection_id: i64) -> i64 {
    db.int(&format!(
        "SELECT (SELECT COUNT(*) FROM events WHERE connection_id = {connection_id}) + \
         (SELECT COUNT(*) FROM rejects WHERE connection_id = {connection_id})"
    ))
    .await
}

/// The longest silence between consecutive archived events, in ms, and when it started.
pub async fn longest_gap(db: &TestDb) -> (i64, Option<String>) {
    let times: Vec<Vec<Option<String>>> = db
        .rows("SELECT CAST(received_at AS TEXT) FROM events ORDER BY event_id")
        .await;
    let parse = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z"))
            .unwrap()
    };
    let mut best = (0, None);
    for pair in times.windows(2) {
        let (a, b) = (
            pair[0][0].as_deref().unwrap(),
            pair[1][0].as_deref().unwrap(),
        );
        let gap = (parse(b) - parse(a)).num_milliseconds();
        if gap > best.0 {
            best = (gap, Some(a.to_owned()));
        }
    }
    best
}

/// Every `connections` row and its archived count agree; returns the rows as text.
pub async fn check_connections(db: &TestDb) -> Vec<String> {
    let mut out = Vec::new();
    for row in connections(db, "main").await {
        let got = archived_on(db, row.id).await;
        out.push(format!(
            "connection {}: {:?} -> {:?}, end {:?}, {} messages read, {got} archived",
            row.id, row.started_at, row.ended_at, row.end_reason, row.messages
        ));
        assert_eq!(
            row.messages, got,
            "connection {} read {} messages but {got} are archived",
            row.id, row.messages
        );
    }
    out
}
