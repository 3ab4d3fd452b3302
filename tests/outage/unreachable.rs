//! The phases of `postgres_unreachable_mid_stream_loses_nothing`: PostgreSQL cut off while a
//! stream flows, the daemon watched throughout; then the restore, the catch-up, and the figures.

use super::archive::{archived, check_connections, longest_gap};
use crate::common::TestDb;
use crate::common::daemon::wait_until;
use crate::common::logs::tail;
use crate::common::process::{Proc, ProcExit};
use crate::common::proxy::{Outage, Proxy};
use std::time::{Duration, Instant};
use streamvault::simulate::{Simulator, Stats};

/// What the stream and the daemon did while PostgreSQL was unreachable.
pub struct DuringOutage {
    pub cut_utc: chrono::DateTime<chrono::Utc>,
    /// Daemon RSS in KiB before the cut, and the most seen during the outage.
    pub rss_before: u64,
    pub rss_max: u64,
    pub sent_at_cut: u64,
    pub archived_at_cut: i64,
    /// (seconds after the cut, lines sent so far), every half second.
    pub sent_samples: Vec<(f64, u64)>,
    pub sent_at_restore: u64,
    pub archived_at_restore: i64,
}

/// Refuses PostgreSQL for `outage`, checking every half second that the daemon still runs,
/// sampling its memory and what the simulator could send; the proxy is left cut.
pub async fn ride_out(
    db: &TestDb,
    proxy: &Proxy,
    sim: &Simulator,
    daemon: &mut Proc,
    outage: Duration,
) -> DuringOutage {
    let rss_before = daemon.rss_kib().unwrap_or(0);
    let sent_at_cut = sim.stats().totals.lines_sent;
    let archived_at_cut = archived(db).await;
    let cut_utc = chrono::Utc::now();
    let cut = Instant::now();
    proxy.cut(Outage::Refuse);
    let mut rss_max = rss_before;
    let mut sent_samples = Vec::new();
    while cut.elapsed() < outage {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            daemon.running(),
            "the daemon exited during a {outage:?} outage ({:?} in); log:\n{}",
            cut.elapsed(),
            tail(&daemon.log_text(), 40)
        );
        rss_max = rss_max.max(daemon.rss_kib().unwrap_or(0));
        sent_samples.push((cut.elapsed().as_secs_f64(), sim.stats().totals.lines_sent));
    }
    DuringOutage {
        cut_utc,
        rss_before,
        rss_max,
        sent_at_cut,
        archived_at_cut,
        sent_samples,
        sent_at_restore: sim.stats().totals.lines_sent,
        archived_at_restore: archived(db).await,
    }
}

/// How the archive came back after the restore.
pub struct Recovery {
    /// From the restore to the backlog committed and 500 new events after it.
    pub caught_up: Duration,
    pub stats: Stats,
    /// Lines the simulator sent in all (its streams ended from the server side: exact).
    pub sent: i64,
    pub exit: ProcExit,
    pub total: i64,
    /// Every connection, as text (each checked: read = archived).
    pub rows: Vec<String>,
    /// The longest silence in `events.received_at` (ms) and when it began.
    pub gap: (i64, Option<String>),
}

/// Restores the proxy, waits for the backlog and for everything sent, stops the daemon (exit 0)
/// and the simulator, and reads the archive.
pub async fn restore(
    db: &TestDb,
    proxy: &Proxy,
    sim: Simulator,
    mut daemon: Proc,
    sent_at_restore: u64,
) -> Recovery {
    proxy.restore();
    let restored = Instant::now();
    // The stream resumes: the backlog is committed and new events follow.
    wait_until(
        "the backlog is committed after the restore",
        Duration::from_secs(60),
        || async move { archived(db).await >= sent_at_restore as i64 + 500 },
    )
    .await;
    let caught_up = restored.elapsed();
    // End the streams from the server side, so that every line counted reached the daemon.
    let stats = sim.stop().await;
    let sent = stats.totals.lines_sent as i64;
    wait_until(
        "everything sent is archived",
        Duration::from_secs(30),
        || async move { archived(db).await >= sent },
    )
    .await;
    let exit = daemon.stop(Duration::from_secs(30));
    assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 40));
    Recovery {
        caught_up,
        stats,
        sent,
        exit,
        total: archived(db).await,
        rows: check_connections(db).await,
        gap: longest_gap(db).await,
    }
}

/// Prints the outage's figures: what was sent and archived when, memory, the silence.
pub fn print_figures(outage: Duration, rate: f64, d: &DuringOutage, r: &Recovery) {
    let failures = r
        .exit
        .log
        .lines()
        .filter(|l| l.contains("database operation failed"))
        .count();
    let during = d.sent_at_restore - d.sent_at_cut;
    let nominal = (rate * outage.as_secs_f64()) as u64;
    let (cut_utc, sent_at_cut, sent_at_restore) = (d.cut_utc, d.sent_at_cut, d.sent_at_restore);
    let (archived_at_cut, archived_at_restore) = (d.archived_at_cut, d.archived_at_restore);
    let (rss_before, rss_max) = (d.rss_before, d.rss_max);
    let (caught_up, sent, total) = (r.caught_up, r.sent, r.total);
    let (gap_ms, gap_from) = &r.gap;
    println!(
        "outage: PostgreSQL refused for {outage:?} from {cut_utc} (proxy listener closed, connections cut)"
    );
    println!(
        "  daemon running throughout: yes; exit after SIGTERM: {:?}; database failures logged: {failures}",
        r.exit.code
    );
    println!(
        "  sent by the simulator: {sent_at_cut} at the cut, {sent_at_restore} at the restore \
         ({during} during the outage, {nominal} at the nominal rate); samples (s, sent): {:?}",
        d.sent_samples
            .iter()
            .step_by(4)
            .map(|(t, s)| (format!("{t:.0}"), *s))
            .collect::<Vec<_>>()
    );
    println!(
        "  archived: {archived_at_cut} at the cut, {archived_at_restore} at the restore, \
         caught up {caught_up:?} after the restore; total sent {sent}, archived {total}"
    );
    println!(
        "  daemon RSS: {rss_before} KiB before, {rss_max} KiB at most during the outage; \
         longest silence in events.received_at: {gap_ms} ms from {gap_from:?}"
    );
    println!(
        "  simulator connections: {:?}",
        r.stats
            .connections
            .iter()
            .map(|c| (c.lines_sent, c.ended.clone()))
            .collect::<Vec<_>>()
    );
    for row in &r.rows {
        println!("  {row}");
    }
}
