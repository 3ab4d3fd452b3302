//! A PostgreSQL stream claim lost while its daemon lives (issue 17): the claim is a session
//! advisory lock, and `pg_terminate_backend` on the claim's session (what a server restart or a
//! network cut does to it) ends the lock without a word to the daemon. The daemon checks the
//! session every few seconds and:
//!
//! - [`a_lost_claim_nobody_took_is_taken_again_and_the_connection_goes_on`]: takes the claim
//!   again on a new session, logs a warning naming the stream, and keeps its connection (no
//!   other daemon can have run the stream while nobody else holds the claim): a second daemon
//!   started afterwards waits;
//! - [`a_lost_claim_another_daemon_took_closes_the_connection_and_waits`]: when a waiting
//!   daemon took the claim first, closes its own connection (`claim_lost`), logs a warning
//!   naming the stream and the holder, waits like a standby, and takes the stream over again
//!   once the other stops. At no moment do both daemons stay connected.

mod common;

use common::TestDb;
use common::daemon::*;
use std::time::Duration;

const PATH: &str = "/1.1/statuses/filter.json";

async fn wait_connected(db: &TestDb, rows: usize) {
    wait_until(
        &format!("{rows} connection(s), the last connected"),
        Duration::from_secs(30),
        || async {
            // By start: each daemon takes its ids from its own reserved range.
            let mut all = connections(db, "live").await;
            all.sort_by_key(|r| r.started_at);
            all.len() == rows
                && all
                    .last()
                    .is_some_and(|r| r.connected && r.ended_at.is_none())
        },
    )
    .await;
}

/// The backend pid of the session holding `daemon`'s claim (named in `application_name`).
async fn claim_backend(db: &TestDb, daemon: &Daemon) -> Option<i64> {
    let sql = format!(
        "SELECT CAST(a.pid AS TEXT) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid \
         WHERE l.locktype = 'advisory' AND l.granted \
         AND a.application_name LIKE 'streamvault pid {} on %'",
        daemon.pid()
    );
    let rows = db.rows(&sql).await;
    rows.first()
        .and_then(|r| r[0].as_deref())
        .map(|p| p.parse().unwrap())
}

async fn terminate(db: &TestDb, pid: i64) {
    let done = db
        .int(&format!(
            "SELECT CAST(pg_terminate_backend({pid}) AS INTEGER)"
        ))
        .await;
    assert_eq!(done, 1, "backend {pid} terminated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_claim_nobody_took_is_taken_again_and_the_connection_goes_on() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let sim = simulator(builtin("clean"), 200.0).await;
    let streams = [stream("live", &sim, PATH, "clean")];
    let mut first = Daemon::start(&db, &streams, 0.01);
    wait_connected(&db, 1).await;
    let before = claim_backend(&db, &first)
        .await
        .expect("the claim's session");
    terminate(&db, before).await;
    wait_until("the claim is taken again", Duration::from_secs(20), || {
        let log = first.log_text();
        async move { log.contains("is taken again") }
    })
    .await;
    assert!(first.running());
    let log = first.log_text();
    let line = log.lines().find(|l| l.contains("is taken again")).unwrap();
    assert!(line.contains("live"), "the stream is named: {line}");
    let after = claim_backend(&db, &first)
        .await
        .expect("a new claim session");
    assert_ne!(after, before, "a new session holds the claim");
    let rows = connections(&db, "live").await;
    assert_eq!(rows.len(), 1, "the connection went on: {rows:?}");
    assert!(rows[0].ended_at.is_none());

    // The claim holds: a second daemon waits for the stream.
    let second = Daemon::start(&db, &streams, 0.01);
    wait_until("the second daemon waits", Duration::from_secs(20), || {
        let log = second.log_text();
        async move { log.contains("another daemon runs this stream") }
    })
    .await;
    assert_eq!(connections(&db, "live").await.len(), 1);
    let exit = second.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let exit = first.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let rows = connections(&db, "live").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].end_reason.as_deref(), Some("shutdown"));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_claim_another_daemon_took_closes_the_connection_and_waits() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let sim = simulator(builtin("clean"), 200.0).await;
    let streams = [stream("live", &sim, PATH, "clean")];
    let mut first = Daemon::start(&db, &streams, 0.01);
    wait_connected(&db, 1).await;
    let second = Daemon::start(&db, &streams, 0.01);
    wait_until("the second daemon waits", Duration::from_secs(20), || {
        let log = second.log_text();
        async move { log.contains("another daemon runs this stream") }
    })
    .await;
    let pid = claim_backend(&db, &first)
        .await
        .expect("the claim's session");
    terminate(&db, pid).await;
    // The waiting daemon asks every 2 s and gets the claim; the first finds it lost (checked
    // every 3 s), closes its connection and waits in turn.
    wait_connected(&db, 2).await;
    // The new holder closes the row it found open as `crash` (it cannot tell a lost claim from
    // a dead daemon); the first's own end, a check later, says what happened.
    wait_until("the first lets go", Duration::from_secs(20), || async {
        connections(&db, "live").await[0].end_reason.as_deref() == Some("claim_lost")
    })
    .await;
    let rows = connections(&db, "live").await;
    assert_eq!(
        rows[0].end_reason.as_deref(),
        Some("claim_lost"),
        "{rows:?}"
    );
    assert!(first.running(), "the first waits rather than exits");
    let log = first.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("another daemon holds it now"))
        .unwrap_or_else(|| panic!("the loss is logged: {log}"));
    assert!(line.contains("live"), "the stream is named: {line}");
    assert!(
        line.contains(&format!("streamvault pid {} on ", second.pid())),
        "the holder is named: {line}"
    );
    let open = rows.iter().filter(|r| r.ended_at.is_none()).count();
    assert_eq!(open, 1, "one daemon connected: {rows:?}");

    // The second stops: the first takes the stream over again.
    let exit = second.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    wait_connected(&db, 3).await;
    let exit = first.stop(Duration::from_secs(15));
    assert_eq!(exit.code, Some(0), "{}", exit.log);
    let mut rows = connections(&db, "live").await;
    rows.sort_by_key(|r| r.started_at);
    let reasons: Vec<_> = rows.iter().map(|r| r.end_reason.as_deref()).collect();
    assert_eq!(
        reasons,
        [Some("claim_lost"), Some("shutdown"), Some("shutdown")],
        "{rows:?}"
    );
    db.cleanup().await;
}
