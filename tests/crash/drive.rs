//! Driving the daemon into a trial's phase and killing it there, with an outside reader
//! counting what is committed until the kill.

use super::plan::{Phase, Plan};
use crate::common::TestDb;
use crate::common::fault::Fault;
use crate::common::logs::tail;
use crate::common::process::Proc;
use std::time::{Duration, Instant};

/// The marker status of delete→purge trials: its text must leave the files within the bound.
pub const MARKER: &str = "ZQX-crash-trial-purge-marker-7f3e";
pub const MARKER_ID: i64 = 1_111_222_333_444_555_666;

/// The scenario of delete→purge trials: the marker status among generated ones, its delete
/// 300 events later, then generated events for good; later connections get generated events.
pub fn purge_scenario() -> String {
    let tweet = crate::common::tweet(MARKER_ID, 4242, MARKER);
    let delete = crate::common::delete(MARKER_ID, 4242);
    format!(
        "name = \"purge-trial\"\n[[connection]]\nsteps = [{{ send = 1500 }}, {{ raw = '{tweet}' }}, \
         {{ send = 300 }}, {{ raw = '{delete}' }}, {{ send = \"forever\" }}]\n\
         [[connection]]\nsteps = [{{ send = \"forever\" }}]\n"
    )
}

/// How the kill went.
pub struct Killed {
    pub at: chrono::DateTime<chrono::Utc>,
    /// Events an outside reader saw committed last before the kill.
    pub seen_committed: i64,
    /// When the marker's delete was seen committed (delete→purge trials).
    pub delete_seen: Option<Instant>,
}

/// Counts the committed events every 10 ms until `until`.
async fn read_along(db: &TestDb, until: Instant, seen: &mut i64) {
    loop {
        *seen = db
            .int("SELECT COUNT(*) FROM events WHERE kind NOT IN ('warning', 'disconnect')")
            .await;
        if Instant::now() >= until {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (reading along) until the daemon's log contains `needle`.
async fn until_logged(
    db: &TestDb,
    daemon: &mut Proc,
    needle: &str,
    within: Duration,
    seen: &mut i64,
) -> Result<(), String> {
    let deadline = Instant::now() + within;
    while !daemon.log_text().contains(needle) {
        if Instant::now() > deadline || !daemon.running() {
            return Err(format!(
                "the log did not say {needle:?} within {within:?}:\n{}",
                tail(&daemon.log_text(), 20)
            ));
        }
        read_along(db, Instant::now() + Duration::from_millis(20), seen).await;
    }
    Ok(())
}

/// Takes the running daemon into `plan.phase` and SIGKILLs it at the planned moment. The
/// fault is left as it was at the kill (the caller restores it).
pub async fn drive_and_kill(
    plan: &Plan,
    db: &TestDb,
    fault: &mut Fault,
    daemon: &mut Proc,
) -> Result<Killed, String> {
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.int("SELECT COUNT(*) FROM events").await < 500 {
        if Instant::now() > deadline || !daemon.running() {
            return Err(format!(
                "500 events not archived within 30 s:\n{}",
                tail(&daemon.log_text(), 20)
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delay = Duration::from_millis(plan.delay_ms);
    let spooling = "spooling what is read";
    let mut delete_seen = None;
    match plan.phase {
        Phase::Steady => {}
        Phase::Spooling => {
            fault.cut().await;
            until_logged(db, daemon, spooling, Duration::from_secs(30), &mut seen).await?;
        }
        Phase::Draining => {
            fault.cut().await;
            until_logged(db, daemon, spooling, Duration::from_secs(30), &mut seen).await?;
            let outage = Instant::now() + Duration::from_millis(plan.outage_ms);
            read_along(db, outage, &mut seen).await;
            fault.restore().await;
            let draining = "draining the spool";
            until_logged(db, daemon, draining, Duration::from_secs(30), &mut seen).await?;
        }
        Phase::DeleteBeforePurge => {
            let sql = format!("SELECT COUNT(*) FROM deletions WHERE tweet_id = {MARKER_ID}");
            let deadline = Instant::now() + Duration::from_secs(30);
            while db.int(&sql).await == 0 {
                if Instant::now() > deadline || !daemon.running() {
                    return Err(format!(
                        "the marker's delete was not committed within 30 s:\n{}",
                        tail(&daemon.log_text(), 20)
                    ));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            delete_seen = Some(Instant::now());
        }
    }
    read_along(db, Instant::now() + delay, &mut seen).await;
    if !daemon.running() {
        return Err(format!(
            "the daemon exited before the kill:\n{}",
            tail(&daemon.log_text(), 20)
        ));
    }
    let at = daemon.kill9();
    Ok(Killed {
        at,
        seen_committed: seen,
        delete_seen,
    })
}
