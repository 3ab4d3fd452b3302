//! One kill -9 trial ([`run_trial`]): heavy ingest into a fresh SQLite file, SIGKILL after a
//! delay, then every check of the file as the crash left it and after a restart. A check that
//! fails adds to the trial's failures; the test reports them all together.

use super::{FLUSH_MS, LOSS_BOUND, PATH, RATE, WINDOW_BOUND_MS};
use crate::common::daemon::{builtin, simulator, stream, wait_until};
use crate::common::logs::tail;
use crate::common::process::{Proc, ProcConfig};
use crate::common::reference::RefEvent;
use crate::common::sqlite_inspect::{ORPHAN_TWEET_EVENTS, int, integrity, sqlite_pool};
use sqlx::SqlitePool;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Default, Clone)]
pub struct Trial {
    pub n: usize,
    pub delay_ms: u64,
    /// Events seen committed by an outside reader just before the kill.
    pub seen_committed: i64,
    pub sent: u64,
    pub archived: i64,
    pub loss: i64,
    pub window_ms: i64,
    pub integrity: String,
    /// Status events whose status is missing, not deleted, not a retweet of a deleted one.
    pub orphans: i64,
    /// Status events of retweets erased with their deleted original (as the contract says).
    pub retweets_of_deleted: i64,
    pub prefix_ok: bool,
    pub restart_events: i64,
    pub restart_exit: Option<i32>,
    pub restart_integrity: String,
    /// The crashed attempt's `connections` row after the restart: `ended_at`, `end_reason`.
    pub crashed_row: (Option<String>, Option<String>),
    pub failures: Vec<String>,
}

/// Runs trial `n`: the daemon killed `delay_ms` after the stream started flowing.
pub async fn run_trial(n: usize, delay_ms: u64, reference: &[RefEvent]) -> Trial {
    let mut t = Trial {
        n,
        delay_ms,
        ..Trial::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.db");
    let url = format!("sqlite://{}", path.display());
    let sim = simulator(builtin("clean"), RATE).await;
    let mut config = ProcConfig::new(&url, vec![stream("main", &sim, PATH, "clean")]);
    config.flush_interval_ms = FLUSH_MS;
    let mut daemon = Proc::start(dir.path(), &config);
    // Heavy ingest: wait for the first committed events, then a random delay, reading along.
    wait_until("the stream flows", Duration::from_secs(30), || {
        let flowing = sim.stats().totals.lines_sent > 0 && path.exists();
        async move { flowing }
    })
    .await;
    let killed_at = t.read_along_until_the_kill(&path, &mut daemon).await;
    // Let the simulator notice the client is gone before reading what it sent.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let stats = sim.stats();
    t.sent = stats.connections.first().map(|c| c.lines_sent).unwrap_or(0);

    // The file after the crash.
    let pool = sqlite_pool(&path).await;
    t.check_integrity(&pool).await;
    t.check_orphans(&pool, reference).await;
    t.check_nothing_committed_lost(&pool).await;
    t.check_prefix(&pool, reference).await;
    t.check_loss(&pool, killed_at).await;
    let crashed_conn = int(&pool, "SELECT MAX(connection_id) FROM connections").await;
    let max_event = int(&pool, "SELECT MAX(event_id) FROM events").await;
    pool.close().await;

    // A restarted daemon carries on.
    let fresh = format!("SELECT COUNT(*) FROM events WHERE connection_id > {crashed_conn}");
    t.restart(dir.path(), &path, &config, &fresh).await;
    let pool = sqlite_pool(&path).await;
    t.check_after_restart(&pool, &fresh, crashed_conn, max_event)
        .await;
    pool.close().await;
    sim.stop().await;
    t
}

fn parse_time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("time {s:?}: {e}"))
        .with_timezone(&chrono::Utc)
}

impl Trial {
    /// Reads what is committed from outside until the trial's delay is over, then SIGKILLs the
    /// daemon; returns the instant just before the signal.
    async fn read_along_until_the_kill(
        &mut self,
        path: &Path,
        daemon: &mut Proc,
    ) -> chrono::DateTime<chrono::Utc> {
        let pool = sqlite_pool(path).await;
        let kill_at = Instant::now() + Duration::from_millis(self.delay_ms);
        while Instant::now() < kill_at {
            if let Ok(row) = sqlx::query_scalar::<_, i64>(
                "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM rejects)",
            )
            .fetch_one(&pool)
            .await
            {
                self.seen_committed = row;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let killed_at = daemon.kill9();
        pool.close().await;
        killed_at
    }

    async fn check_integrity(&mut self, pool: &SqlitePool) {
        self.integrity = integrity(pool).await;
        if self.integrity != "ok" {
            self.failures
                .push(format!("integrity_check: {}", self.integrity));
        }
    }

    /// Status events without their status and without a deletion of it: the contract erases
    /// a pure retweet together with the status it carries, so those are explained by a
    /// deletion of the original (the reference stream tells which status a retweet carries).
    async fn check_orphans(&mut self, pool: &SqlitePool, reference: &[RefEvent]) {
        let orphans: Vec<i64> =
            sqlx::query_scalar(&ORPHAN_TWEET_EVENTS.replace("COUNT(*)", "e.tweet_id"))
                .fetch_all(pool)
                .await
                .unwrap();
        let deleted: std::collections::HashSet<i64> =
            sqlx::query_scalar::<_, i64>("SELECT tweet_id FROM deletions")
                .fetch_all(pool)
                .await
                .unwrap()
                .into_iter()
                .collect();
        let carried: std::collections::HashMap<i64, i64> = reference
            .iter()
            .filter_map(|r| Some((r.tweet_id?, r.retweet_of?)))
            .collect();
        self.retweets_of_deleted = orphans
            .iter()
            .filter(|id| carried.get(id).is_some_and(|o| deleted.contains(o)))
            .count() as i64;
        self.orphans = orphans.len() as i64 - self.retweets_of_deleted;
        if self.orphans != 0 {
            self.failures.push(format!(
                "{} tweet events without their status and without a deletion of it or of the \
                 status it retweets",
                self.orphans
            ));
        }
    }

    /// No rejects from a clean stream, and everything seen committed before the kill is there.
    async fn check_nothing_committed_lost(&mut self, pool: &SqlitePool) {
        let events = int(pool, "SELECT COUNT(*) FROM events").await;
        let rejects = int(pool, "SELECT COUNT(*) FROM rejects").await;
        self.archived = events + rejects;
        if rejects != 0 {
            self.failures
                .push(format!("{rejects} rejects from a clean stream"));
        }
        if self.archived < self.seen_committed {
            self.failures.push(format!(
                "committed batches lost: {} events seen committed before the kill, {} after",
                self.seen_committed, self.archived
            ));
        }
    }

    /// A prefix of what was sent, in order, with no hole.
    async fn check_prefix(&mut self, pool: &SqlitePool, reference: &[RefEvent]) {
        let rows: Vec<(String, Option<i64>)> =
            sqlx::query_as("SELECT kind, tweet_id FROM events ORDER BY event_id")
                .fetch_all(pool)
                .await
                .unwrap();
        let span = int(pool, "SELECT MAX(event_id) - MIN(event_id) + 1 FROM events").await;
        self.prefix_ok = rows.len() <= reference.len()
            && span == rows.len() as i64
            && rows
                .iter()
                .zip(reference)
                .all(|((kind, id), r)| *kind == r.kind && (r.kind != "tweet" || *id == r.tweet_id));
        if !self.prefix_ok {
            let first_diff = rows.iter().zip(reference).position(|((kind, id), r)| {
                *kind != r.kind || (r.kind == "tweet" && *id != r.tweet_id)
            });
            self.failures.push(format!(
                "the archive is not a prefix of the stream: {} rows, event_id span {span}, reference {}, first difference at {first_diff:?}",
                rows.len(),
                reference.len()
            ));
        }
    }

    /// The loss in events (sent − archived) and in time (the kill less the last event's
    /// `received_at`) within their bounds.
    async fn check_loss(&mut self, pool: &SqlitePool, killed_at: chrono::DateTime<chrono::Utc>) {
        self.loss = self.sent as i64 - self.archived;
        if self.loss < 0 {
            self.failures.push(format!(
                "archived {} events but the simulator sent {}",
                self.archived, self.sent
            ));
        }
        if self.loss > LOSS_BOUND {
            self.failures.push(format!(
                "lost {} events, more than the bound {LOSS_BOUND}",
                self.loss
            ));
        }
        let last: Option<String> = sqlx::query_scalar("SELECT MAX(received_at) FROM events")
            .fetch_one(pool)
            .await
            .unwrap();
        self.window_ms = match last {
            Some(last) => (killed_at - parse_time(&last)).num_milliseconds(),
            None => i64::MAX,
        };
        if self.window_ms > WINDOW_BOUND_MS {
            self.failures.push(format!(
                "loss window {} ms exceeds {WINDOW_BOUND_MS} ms",
                self.window_ms
            ));
        }
    }

    /// Restarts the daemon on the same file, waits for 500 new events (`fresh` counts them),
    /// and stops it with SIGTERM: exit 0.
    async fn restart(&mut self, dir: &Path, path: &Path, config: &ProcConfig, fresh: &str) {
        let mut restarted = Proc::start(dir, config);
        let pool = sqlite_pool(path).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while int(&pool, fresh).await < 500 {
            if Instant::now() > deadline || !restarted.running() {
                self.failures.push(format!(
                    "the restarted daemon archived nothing new; log:\n{}",
                    tail(&restarted.log_text(), 30)
                ));
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        pool.close().await;
        let exit = if restarted.running() {
            Some(restarted.stop(Duration::from_secs(15)))
        } else {
            None
        };
        self.restart_exit = exit.as_ref().and_then(|e| e.code);
        if self.restart_exit != Some(0) {
            self.failures.push(format!(
                "the restarted daemon exited {:?}: {}",
                self.restart_exit,
                exit.map(|e| tail(&e.log, 30)).unwrap_or_default()
            ));
        }
    }

    /// After the restart: the file is sound, the crashed connection's row is closed as
    /// `crash`, the new connection read what it archived, and new events follow the old ones.
    async fn check_after_restart(
        &mut self,
        pool: &SqlitePool,
        fresh: &str,
        crashed_conn: i64,
        max_event: i64,
    ) {
        self.restart_integrity = integrity(pool).await;
        if self.restart_integrity != "ok" {
            self.failures.push(format!(
                "integrity_check after the restart: {}",
                self.restart_integrity
            ));
        }
        self.restart_events = int(pool, fresh).await;
        self.check_connection_rows(pool, crashed_conn).await;
        let min_new = int(
            pool,
            &format!("SELECT MIN(event_id) FROM events WHERE connection_id > {crashed_conn}"),
        )
        .await;
        if self.restart_events > 0 && min_new <= max_event {
            self.failures.push(format!(
                "new events do not follow the old ones: {min_new} <= {max_event}"
            ));
        }
    }

    /// The crashed attempt's row closed as `crash`; the restarted one ended by `shutdown`, its
    /// messages read all archived.
    async fn check_connection_rows(&mut self, pool: &SqlitePool, crashed_conn: i64) {
        let conns: Vec<(i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT connection_id, end_reason, messages FROM connections ORDER BY connection_id",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        self.crashed_row = sqlx::query_as(&format!(
            "SELECT ended_at, end_reason FROM connections WHERE connection_id = {crashed_conn}"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        if self.crashed_row.1.as_deref() != Some("crash") || self.crashed_row.0.is_none() {
            self.failures.push(format!(
                "the crashed connection's row was not closed as `crash` at restart: {:?}",
                self.crashed_row
            ));
        }
        let new_conn = conns.iter().find(|c| c.0 > crashed_conn);
        match new_conn {
            None => self
                .failures
                .push("the restarted daemon opened no connections row".into()),
            Some((id, reason, messages)) => {
                let archived = int(
                    pool,
                    &format!(
                        "SELECT (SELECT COUNT(*) FROM events WHERE connection_id = {id}) + \
                         (SELECT COUNT(*) FROM rejects WHERE connection_id = {id})"
                    ),
                )
                .await;
                if reason.as_deref() != Some("shutdown") || *messages != archived {
                    self.failures.push(format!(
                        "restarted connection {id}: end {reason:?}, {messages} messages read, {archived} archived"
                    ));
                }
            }
        }
    }
}
