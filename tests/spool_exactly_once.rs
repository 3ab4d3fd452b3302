//! Every spooled record is committed exactly once (issue 17: "0 duplicates"), under the real
//! binary on both backends, with its fault hooks (`STREAMVAULT_FAILPOINT`, the `failpoints`
//! feature the tests build with):
//!
//! - [`a_kill_between_a_drains_commit_and_its_cursor`] (window 1): the database is cut while a
//!   stream flows, then given back; the writer hangs right after committing spooled records,
//!   before the spool's cursor moves past them, and is killed with SIGKILL there. The next
//!   start finds those records both in the archive and in the spool, skips them, and the
//!   archive holds everything sent, once.
//! - [`a_commit_abandoned_at_the_deadline_that_landed`] (window 2): every commit lands but its
//!   answer never comes; SIGTERM's deadline abandons the commit in flight and spools its batch.
//!   The next start skips that batch and commits the rest: everything sent, once.

mod common;

use common::TestDb;
use common::daemon::wait_until;
use common::fault::Fault;
use common::logs::*;
use common::process::*;
use common::spool_fault::*;
use std::time::Duration;

const FAILPOINT: &str = "STREAMVAULT_FAILPOINT";

both_backends!(crash_after_a_drain, |db| {
    a_kill_between_a_drains_commit_and_its_cursor(&db)
});

async fn a_kill_between_a_drains_commit_and_its_cursor(db: &TestDb) {
    const SENDS: u64 = 2000;
    let work = tempfile::tempdir().unwrap();
    let spool_dir = work.path().join("spool");
    let (mut fault, url) = Fault::new(&db.url).await;
    let (sim, mut config) = setup(work.path(), &url, 1000.0, SENDS, "").await;
    config.env = vec![(FAILPOINT.into(), "drain-committed".into())];
    let mut daemon = Proc::start(work.path(), &config);
    wait_until(
        "300 events archived",
        Duration::from_secs(30),
        || async move { archived(db).await >= 300 },
    )
    .await;
    fault.cut().await;
    wait_until("everything is sent", Duration::from_secs(30), || {
        let n = sim.stats().totals.lines_sent;
        async move { n >= SENDS }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(segments(&spool_dir) > 0, "the outage is spooled");
    fault.restore().await;
    wait_until(
        "the writer hangs after a drain's commit",
        Duration::from_secs(60),
        || {
            let reached = daemon.log_text().contains("failpoint reached");
            async move { reached }
        },
    )
    .await;
    daemon.kill9();
    let in_archive = archived(db).await;
    let in_spool = spooled(&spool_dir);
    println!(
        "kill -9 after a drain's commit ({}): {in_archive} archived + {in_spool} still \
         spooled of {SENDS} sent",
        fault.name()
    );
    assert!(
        in_archive + in_spool as i64 > SENDS as i64,
        "the kill left committed records in the spool (the window this test is about)"
    );
    config.env.clear();
    let mut again = Proc::start(work.path(), &config);
    wait_until(
        "the spool is committed",
        Duration::from_secs(60),
        || async move { archived(db).await >= SENDS as i64 },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let exit = again.stop(Duration::from_secs(30));
    let stats = sim.stop().await;
    let total = archived(db).await;
    let dups = duplicates(db).await;
    println!("  restart: total {total}, duplicate statuses {dups}");
    assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 40));
    assert!(
        exit.log.contains("in the archive already: skipped"),
        "{}",
        tail(&exit.log, 40)
    );
    assert_eq!(stats.totals.lines_sent, SENDS);
    assert_eq!(total, SENDS as i64, "archived = sent");
    assert_eq!(dups, 0);
    assert_eq!(segments(&spool_dir), 0, "the spool is empty");
}

both_backends!(abandoned_commit_landed, |db| {
    a_commit_abandoned_at_the_deadline_that_landed(&db)
});

async fn a_commit_abandoned_at_the_deadline_that_landed(db: &TestDb) {
    // Few enough that the daemon reads them all while its writer waits for the first answer:
    // not spooling (see below), it takes nothing more, and lines left unread at the stop are
    // not the daemon's (see docs/operations.md).
    const SENDS: u64 = 100;
    const BOUND: u64 = 2;
    let work = tempfile::tempdir().unwrap();
    let spool_dir = work.path().join("spool");
    // The stalled commit is not spooled before the deadline: the stop abandons it.
    let extra = format!("spool_after_ms = 600000\n\n[daemon]\nshutdown_timeout_secs = {BOUND}\n");
    let (sim, mut config) = setup(work.path(), &db.url, 1000.0, SENDS, &extra).await;
    config.env = vec![(FAILPOINT.into(), "commit-ack-delay".into())];
    let daemon_log = {
        let mut daemon = Proc::start(work.path(), &config);
        wait_until("everything is sent", Duration::from_secs(30), || {
            let n = sim.stats().totals.lines_sent;
            async move { n >= SENDS }
        })
        .await;
        wait_until(
            "a commit landed without its answer",
            Duration::from_secs(30),
            || {
                let reached = daemon.log_text().contains("failpoint reached");
                async move { reached }
            },
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let exit = daemon.stop(Duration::from_secs(BOUND + 20));
        assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 40));
        assert!(
            exit.took <= Duration::from_millis(BOUND * 1000 + 1000),
            "the stop took {:?}",
            exit.took
        );
        exit.log
    };
    let in_archive = archived(db).await;
    let in_spool = spooled(&spool_dir);
    println!(
        "SIGTERM with a commit landed but unanswered: {in_archive} archived + {in_spool} \
         spooled of {SENDS} sent"
    );
    assert!(in_archive > 0, "{}", tail(&daemon_log, 40));
    assert!(
        in_archive + in_spool as i64 > SENDS as i64,
        "the abandoned batch is both in the archive and in the spool"
    );
    config.env.clear();
    let mut again = Proc::start(work.path(), &config);
    wait_until(
        "the spool is committed",
        Duration::from_secs(60),
        || async move { archived(db).await >= SENDS as i64 },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let exit = again.stop(Duration::from_secs(30));
    let stats = sim.stop().await;
    let total = archived(db).await;
    let dups = duplicates(db).await;
    println!("  restart: total {total}, duplicate statuses {dups}");
    assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 40));
    assert!(
        exit.log.contains("in the archive already: skipped"),
        "{}",
        tail(&exit.log, 40)
    );
    assert_eq!(stats.totals.lines_sent, SENDS);
    assert_eq!(total, SENDS as i64, "archived = sent");
    assert_eq!(dups, 0);
    assert_eq!(segments(&spool_dir), 0, "the spool is empty");
}
