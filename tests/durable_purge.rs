//! Durable purges: a purge owed by an erasure is recorded with it, so the bound
//! `purge_within_secs` holds across a kill -9 between a delete's commit and its purge.

mod common;

use common::daemon::{Daemon, StreamSpec, wait_until};
use common::{BIG, TestDb, delete, tweet};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MARKER: &str = "ZQX-durable-purge-marker-51c9";
const PURGE_WITHIN_SECS: u64 = 4;

/// `streamvault replay -` reading from a pipe the test writes.
fn replay_from_stdin(db: &TestDb) -> Child {
    Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["--database", &db.url, "replay", "--json", "-"])
        .env(
            "STREAMVAULT__DATABASE__PURGE_WITHIN_SECS",
            PURGE_WITHIN_SECS.to_string(),
        )
        .env("STREAMVAULT__DATABASE__FLUSH_INTERVAL_MS", "50")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start replay")
}

/// Archives a status, then (in a later batch) its delete, and kills the writer with -9 as soon
/// as the delete is committed: long before its purge is due.
async fn erase_then_kill(db: &TestDb) -> Instant {
    let mut writer = replay_from_stdin(db);
    let mut stdin = writer.stdin.take().unwrap();
    writeln!(stdin, "{}", tweet(BIG, 7, MARKER)).unwrap();
    stdin.flush().unwrap();
    wait_until(
        "the status is committed",
        Duration::from_secs(20),
        || async { db.count("tweets").await == 1 },
    )
    .await;
    writeln!(stdin, "{}", delete(BIG, 7)).unwrap();
    stdin.flush().unwrap();
    wait_until(
        "the delete is committed",
        Duration::from_secs(20),
        || async { db.count("deletions").await == 1 },
    )
    .await;
    writer.kill().unwrap(); // SIGKILL
    let killed = Instant::now();
    writer.wait().unwrap();
    assert_eq!(db.count("tweets").await, 0);
    assert_eq!(
        db.count("purges_due").await,
        1,
        "the owed purge was committed with the delete"
    );
    killed
}

/// A daemon that archives nothing (its stream's server is not there): only the owed purge can
/// clear the files.
fn restart(db: &TestDb) -> Daemon {
    let nowhere = StreamSpec {
        name: "nowhere".into(),
        family: "ndjson",
        url: "http://127.0.0.1:9/1.1/statuses/filter.json".into(),
        extra: String::new(),
    };
    let within = PURGE_WITHIN_SECS.to_string();
    Daemon::start_with(
        db,
        &[nowhere],
        1.0,
        "",
        &[("STREAMVAULT__DATABASE__PURGE_WITHIN_SECS", within.as_str())],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_kill_9_between_a_delete_and_its_purge_keeps_the_bound() {
    let db = TestDb::sqlite().await;
    erase_then_kill(&db).await;
    assert!(
        !db.files_containing(MARKER).is_empty(),
        "the kill came before the purge: the text is still in the WAL"
    );
    let mut daemon = restart(&db);
    let started = Instant::now();
    wait_until(
        "the deleted text leaves the files",
        Duration::from_secs(PURGE_WITHIN_SECS + 3),
        || async { db.files_containing(MARKER).is_empty() },
    )
    .await;
    let took = started.elapsed();
    assert!(
        daemon.running(),
        "purged by the running daemon, not by a stop"
    );
    assert!(
        took <= Duration::from_secs(PURGE_WITHIN_SECS + 1),
        "within the bound: {took:?}"
    );
    wait_until(
        "the owed purge is forgotten",
        Duration::from_secs(5),
        || async { db.count("purges_due").await == 0 },
    )
    .await;
    assert!(daemon.log_text().contains("the archive owes a purge"));
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_kill_9_between_a_delete_and_its_purge_keeps_the_bound() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let killed_at = chrono::Utc::now();
    erase_then_kill(&db).await;
    let daemon = restart(&db);
    // The server's files are out of reach: the purge is seen as the VACUUM of `tweets` it runs.
    let vacuumed = "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname = 'tweets' \
                    AND schemaname = current_schema() AND last_vacuum > ";
    let sql = format!("{vacuumed}'{}'", killed_at.to_rfc3339());
    wait_until(
        "the restarted daemon purges and forgets the owed purge",
        Duration::from_secs(PURGE_WITHIN_SECS + 3),
        || async { db.count("purges_due").await == 0 },
    )
    .await;
    assert_eq!(db.int(&sql).await, 1, "tweets was vacuumed after the kill");
    let exit = daemon.stop(Duration::from_secs(10));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    db.cleanup().await;
}
