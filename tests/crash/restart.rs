//! After the kill: a daemon restarted on the same archive (the database given back) commits
//! the spool before its stream connects, keeps the purge bound, archives a new connection
//! exactly, and stops with exit 0; then the crashed connection's events must be exactly a
//! prefix of what was sent, holding everything the kill kept.

use super::PURGE_WITHIN_SECS;
use super::drive::{Killed, MARKER};
use super::inspect::{events_of, first_difference, matches_at, orphans, segments, soundness};
use super::plan::{Backend, Phase};
use super::trial::{References, Trial, sqlite_marker};
use crate::common::TestDb;
use crate::common::logs::{offsets_of, tail};
use crate::common::process::{Proc, ProcConfig};
use std::path::Path;
use std::time::{Duration, Instant};
use streamvault::simulate::Simulator;

/// What the daemon logs (at debug level) once a purge is done.
const PURGED: &str = "erased content purged from the store's files";

/// Whether the owed purge has run: on SQLite the marker is in no file; on PostgreSQL nothing
/// is owed any more and `tweets` was vacuumed after the kill.
async fn purged(t: &Trial, db: &TestDb, killed: &Killed) -> bool {
    match t.plan.backend {
        Backend::Sqlite => !sqlite_marker(db),
        Backend::Postgres => {
            let vacuumed = db
                .int(&format!(
                    "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname = 'tweets' \
                     AND schemaname = current_schema() AND last_vacuum > '{}'",
                    killed.at.to_rfc3339()
                ))
                .await;
            vacuumed == 1
        }
    }
}

async fn archived_on(db: &TestDb, id: i64) -> i64 {
    db.int(&format!(
        "SELECT (SELECT COUNT(*) FROM events WHERE connection_id = {id}) + \
         (SELECT COUNT(*) FROM rejects WHERE connection_id = {id})"
    ))
    .await
}

/// Restarts the daemon and checks what it makes of the kill's leftovers.
#[allow(clippy::too_many_arguments)]
pub async fn restart_and_check(
    t: &mut Trial,
    db: &TestDb,
    spool: &Path,
    config: &ProcConfig,
    sim: Simulator,
    crashed: i64,
    killed: &Killed,
    refs: &mut References,
) {
    let started = Instant::now();
    let started_utc = chrono::Utc::now();
    let mut daemon = Proc::start(db.dir.path(), config);
    let purge_trial = t.plan.phase == Phase::DeleteBeforePurge;
    let fresh = format!(
        "SELECT COALESCE(MAX(connection_id), 0) FROM connections WHERE connection_id > {crashed}"
    );
    let mut new_conn = None;
    loop {
        if t.drained_ms.is_none() && segments(spool) == 0 {
            t.drained_ms = Some(started.elapsed().as_millis() as u64);
        }
        if purge_trial && t.purged_ms.is_none() {
            // When the first purge after the restart finished, by the daemon's log; then the
            // files (or the table's statistics) must show it.
            let done = offsets_of(&daemon.log_text(), PURGED, started_utc);
            if let Some(after) = done.first()
                && purged(t, db, killed).await
            {
                let after_ms = (after * 1000.0).max(0.0) as u64;
                let since_delete = killed.delete_seen.map_or(0, |d| {
                    (d.elapsed() - started.elapsed()).as_millis() as u64 + after_ms
                });
                t.purged_ms = Some((after_ms, since_delete));
            }
        }
        if new_conn.is_none() {
            let id = db.int(&fresh).await;
            new_conn = (id > 0).then_some(id);
        }
        let streaming = match new_conn {
            Some(id) => archived_on(db, id).await >= 300,
            None => false,
        };
        let purge_done = !purge_trial
            || t.purged_ms.is_some()
            || started.elapsed() > Duration::from_secs(PURGE_WITHIN_SECS + 3);
        if t.drained_ms.is_some() && streaming && purge_done {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) || !daemon.running() {
            t.fail(format!(
                "the restarted daemon did not drain and stream (drained {:?}, connection {new_conn:?}):\n{}",
                t.drained_ms,
                tail(&daemon.log_text(), 30)
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // End the streams from the server side, so that every line counted reached the daemon.
    let stats = sim.stop().await;
    if let Some(id) = new_conn {
        let next = t.connections_before_kill;
        let sent = stats.connections.get(next).map_or(0, |c| c.lines_sent) as i64;
        let deadline = Instant::now() + Duration::from_secs(30);
        // The connection's end (its `messages`) is committed in a batch after its last events.
        while (archived_on(db, id).await < sent || read_on(db, id).await < sent)
            && Instant::now() < deadline
            && daemon.running()
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        check_new_connection(t, db, id, sent).await;
    }
    if daemon.running() {
        let exit = daemon.stop(Duration::from_secs(30));
        t.restart_exit = exit.code;
        if exit.code != Some(0) {
            t.fail(format!(
                "the restarted daemon exited {:?}:\n{}",
                exit.code,
                tail(&exit.log, 30)
            ));
        }
    }
    check_final(t, db, spool, crashed, refs).await;
}

/// What the `connections` row of connection `id` says it read (-1: no row).
async fn read_on(db: &TestDb, id: i64) -> i64 {
    db.int(&format!(
        "SELECT COALESCE(MAX(messages), -1) FROM connections WHERE connection_id = {id}"
    ))
    .await
}

/// The restarted connection: read = archived = sent, no status twice.
async fn check_new_connection(t: &mut Trial, db: &TestDb, id: i64, sent: i64) {
    let archived = archived_on(db, id).await;
    let read = read_on(db, id).await;
    let twice = db
        .int(&format!(
            "SELECT COUNT(*) - COUNT(DISTINCT tweet_id) FROM events \
             WHERE kind = 'tweet' AND connection_id = {id}"
        ))
        .await;
    if archived != sent || read != sent || twice != 0 {
        t.fail(format!(
            "restarted connection {id}: sent {sent}, read {read}, archived {archived}, {twice} statuses twice"
        ));
    }
}

/// The archive after the restart's stop.
async fn check_final(
    t: &mut Trial,
    db: &TestDb,
    spool: &Path,
    crashed: i64,
    refs: &mut References,
) {
    t.restart_integrity = soundness(db).await;
    if t.restart_integrity != "ok" {
        t.fail(format!("after the restart: {}", t.restart_integrity));
    }
    let events = events_of(db, crashed).await;
    t.final_events = events.len() as i64;
    let reference = refs.get(t.plan.phase, events.len() + 1000).await;
    if t.reconnected.is_some() {
        let twice = db
            .int(&format!(
                "SELECT COUNT(*) - COUNT(DISTINCT tweet_id) FROM events \
                 WHERE kind = 'tweet' AND connection_id = {crashed}"
            ))
            .await;
        if twice != 0 {
            t.fail(format!("{twice} statuses twice on the crashed connection"));
        }
    } else if !matches_at(&events, reference, 0) {
        let twice = events.len() as i64 - t.kept;
        t.fail(format!(
            "the crashed connection's {} events are not exactly a prefix of the stream \
             (kept {}; {twice} more than kept): {}",
            events.len(),
            t.kept,
            first_difference(&events, reference, 0)
        ));
    }
    if t.final_events < t.kept {
        t.fail(format!(
            "lost after the restart: the kill kept {} (archive {} + spool {}, overlap {}), the archive holds {}",
            t.kept, t.archived_at_kill, t.spooled_at_kill, t.overlap, t.final_events
        ));
    }
    let o = if t.reconnected.is_none() {
        orphans(db, crashed, reference).await
    } else {
        0
    };
    if o != 0 {
        t.fail(format!(
            "after the restart, {o} status events without status or deletion"
        ));
    }
    let row = db
        .rows(&format!(
            "SELECT end_reason, CAST(ended_at AS TEXT) FROM connections WHERE connection_id = {crashed}"
        ))
        .await;
    if row.first().map(|r| (r[0].as_deref(), r[1].is_some())) != Some((Some("crash"), true)) {
        t.fail(format!(
            "the crashed connection's row was not closed as `crash`: {row:?}"
        ));
    }
    let left = segments(spool);
    if left != 0 {
        t.fail(format!("{left} spool segments left after the restart"));
    }
    if t.plan.phase == Phase::DeleteBeforePurge {
        match t.purged_ms {
            Some((after_restart, _)) if after_restart <= (PURGE_WITHIN_SECS + 1) * 1000 => {}
            other => t.fail(format!(
                "the purge bound ({PURGE_WITHIN_SECS} s) did not hold after the restart: {other:?}"
            )),
        }
        if t.plan.backend == Backend::Postgres {
            t.marker_tuples_after =
                Some(crate::common::pg_pages::tuples_holding(db, "tweets", MARKER).await);
        }
    }
}
