//! A daemon whose PostgreSQL goes away for good: run it through the proxy, cut the database
//! off, and check that it gave up after its retry budget and not long after.

use super::PATH;
use super::archive::archived;
use crate::common::TestDb;
use crate::common::daemon::{builtin, simulator, stream, wait_until};
use crate::common::logs::{offsets_of, strip_ansi, tail};
use crate::common::process::{Proc, ProcConfig, ProcExit};
use crate::common::proxy::{Outage, Proxy, pg_server};
use std::time::{Duration, Instant};

/// How a daemon gave up on a database that went away for good.
pub struct GaveUp {
    pub exit: ProcExit,
    /// From the outage to the writer's giving up (its log line "the writer stopped").
    pub writer_gave_up: Option<f64>,
    /// From the outage to the first failure the daemon logged ("database operation failed").
    pub first_failure: Option<f64>,
}

/// Runs a daemon through the proxy with `retry_for_secs = 5`, takes the database away for good
/// with `how`, and returns how it ended.
pub async fn down_for_good(how: Outage) -> Option<GaveUp> {
    let db = TestDb::postgres().await?;
    let proxy = Proxy::start(pg_server(&db.url).await).await;
    let sim = simulator(builtin("clean"), 500.0).await;
    let mut config = ProcConfig::new(
        &proxy.url_for(&db.url),
        vec![stream("main", &sim, PATH, "clean")],
    );
    config.retry_for_secs = 5;
    // The retry budget is the behaviour without a spool (with one, the writer rides it out).
    config.extra = "\n[spool]\nenabled = false\n".into();
    let mut daemon = Proc::start(db.dir.path(), &config);
    wait_until("200 events archived", Duration::from_secs(30), || {
        let db = &db;
        async move { archived(db).await >= 200 }
    })
    .await;
    let cut_utc = chrono::Utc::now();
    let cut = Instant::now();
    proxy.cut(how);
    let exit = daemon.wait_exit(Duration::from_secs(150), cut);
    let writer_gave_up = offsets_of(&exit.log, "the writer stopped", cut_utc)
        .first()
        .copied();
    let failures = offsets_of(&exit.log, "database operation failed", cut_utc);
    println!(
        "database {how:?} for good, retry_for_secs = 5: the writer gave up {writer_gave_up:?} s \
         after the cut, exit {:?} after {:?}; turned away {} connection attempts; failures \
         logged at (s after the cut) {:?}; last lines:\n{}",
        exit.code,
        exit.took,
        proxy.turned_away(),
        failures,
        strip_ansi(&tail(&exit.log, 3))
    );
    drop(sim);
    db.cleanup().await;
    Some(GaveUp {
        exit,
        writer_gave_up,
        first_failure: failures.first().copied(),
    })
}

/// Exit 4 with a clear message; the writer gave up no sooner than `retry_for_secs` after the
/// outage began (the daemon must ride out shorter outages), which the budget guarantees by
/// starting at the writer's first failure (see `pipeline::retrying_for`), and not long after
/// that failure (one more attempt: PostgreSQL's pool acquire timeout, 10 s); the daemon exited
/// within the streams' stop deadline (5 s) after that.
///
/// The first failure may itself come an acquire timeout after the outage (`Outage::Refuse`:
/// the pool waits for a connection), so the upper bound counts from it, not from the cut.
pub fn assert_gave_up_within_budget(g: &GaveUp) {
    let exit = &g.exit;
    assert_eq!(exit.code, Some(4), "{}", tail(&exit.log, 30));
    assert!(
        exit.log.contains("streamvault: database write failed")
            || exit.log.contains("streamvault: cannot open the database")
            // Cut while a commit was in flight: the writer was asking whether it landed.
            || exit
                .log
                .contains("streamvault: database read failed: asking whether a batch's unanswered commit happened"),
        "a clear message names the database failure: {}",
        tail(&exit.log, 10)
    );
    let gave_up = g
        .writer_gave_up
        .expect("the log says when the writer stopped");
    let first = g
        .first_failure
        .expect("the log says when the database first failed");
    // Offsets are whole milliseconds; the slack absorbs only their sum's rounding in f64.
    const ROUNDING: f64 = 1e-6;
    assert!(
        gave_up + ROUNDING >= 5.0 && gave_up + ROUNDING >= first + 5.0,
        "the writer gave up {gave_up} s after the outage began and {} s after its first failure, \
         before retry_for_secs = 5 was spent",
        gave_up - first
    );
    assert!(
        gave_up <= first + 5.0 + 10.0 + 1.0,
        "the writer gave up only {} s after its first failure ({gave_up} s after the outage \
         began), with retry_for_secs = 5",
        gave_up - first
    );
    assert!(
        exit.took.as_secs_f64() <= gave_up + 5.0 + 2.0,
        "exit {:?} after the outage, the writer gave up after {gave_up} s",
        exit.took
    );
}
