//! A database outage under a live stream, at any scale (issue 17): PostgreSQL unreachable, and
//! separately the SQLite write lock held by another process, while the simulator streams at a
//! steady rate. Through the outage the daemon reads on at full speed into the disk spool; once
//! the database is back the spool drains; and
//!
//! - the simulator never sees the client fall behind: it sends at its nominal rate throughout
//!   (the slowest second of the outage is printed), and its per-connection queue never fills
//!   (`falling_behind_warnings`, `dropped_lines` and `stall_disconnects` all 0; the queue's
//!   peak is printed against its capacity);
//! - archived = sent (its streams ended from the server side, so the count is exact), with no
//!   status archived twice on any connection, and `connections.messages` = archived;
//! - the spool is empty afterwards (no segment left);
//! - the daemon's memory stays flat: its RSS (`/proc/PID/status` VmRSS, sampled every second)
//!   during the outage and the drain stays within [`RSS_GROWTH_KIB`] of its peak before the
//!   outage; VmHWM at the end is printed.
//!
//! CI runs it scaled down (500 events/s, 5 s outages). The full-scale runs of the issue —
//! 3,000 events/s, PostgreSQL out for 10 minutes, the SQLite lock held for 5 — are
//! `scripts/long-outage.sh`, which sets `LONG_OUTAGE_RATE`, `LONG_OUTAGE_PG_SECS`,
//! `LONG_OUTAGE_SQLITE_SECS` and `LONG_OUTAGE_SPOOL_MAX_BYTES` (the spool's `max_bytes`, for an
//! outage longer than the default 4 GiB holds at that rate) and builds with `--release`.

mod common;

use common::TestDb;
use common::daemon::{builtin, simulator, stream};
use common::fault::Fault;
use common::logs::tail;
use common::process::{Proc, ProcConfig};
use std::time::{Duration, Instant};

const PATH: &str = "/1.1/statuses/filter.json";
/// How far the daemon's RSS may rise above its peak before the outage.
const RSS_GROWTH_KIB: u64 = 100 * 1024;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_under_a_live_stream_loses_nothing_and_never_holds_the_server_back() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    run(&db, Duration::from_secs(env("LONG_OUTAGE_PG_SECS", 5))).await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lock_under_a_live_stream_loses_nothing_and_never_holds_the_server_back() {
    let db = TestDb::sqlite().await;
    run(&db, Duration::from_secs(env("LONG_OUTAGE_SQLITE_SECS", 5))).await;
    db.cleanup().await;
}

/// One sample per second.
#[derive(Debug, Clone, Copy)]
struct Sample {
    secs: f64,
    rss_kib: u64,
    sent: u64,
    spool_bytes: u64,
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn segments(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension() == Some("seg".as_ref()))
                .count()
        })
        .unwrap_or(0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn archived(db: &TestDb) -> i64 {
    db.int("SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM rejects)")
        .await
}

async fn run(db: &TestDb, outage: Duration) {
    let rate = env("LONG_OUTAGE_RATE", 500) as f64;
    let work = tempfile::tempdir().unwrap();
    let spool = work.path().join("spool");
    let (mut fault, url) = Fault::new(&db.url).await;
    let sim = simulator(builtin("clean"), rate).await;
    let mut spec = stream("main", &sim, PATH, "");
    spec.url = format!("http://{}{PATH}", sim.addr());
    let mut config = ProcConfig::new(&url, vec![spec]);
    config.extra = format!("\n[spool]\ndir = {:?}\n", spool.display().to_string());
    if let Ok(max) = std::env::var("LONG_OUTAGE_SPOOL_MAX_BYTES") {
        config.extra.push_str(&format!("max_bytes = {max}\n"));
    }
    let load_before = loadavg();
    let mut daemon = Proc::start(work.path(), &config);
    let t0 = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let sample = |daemon: &Proc, samples: &mut Vec<Sample>| {
        samples.push(Sample {
            secs: t0.elapsed().as_secs_f64(),
            rss_kib: daemon.rss_kib().unwrap_or(0),
            sent: sim.stats().totals.lines_sent,
            spool_bytes: dir_bytes(&spool),
        });
    };
    // Warm up: the stream flows and the archive takes it (the baseline of memory).
    let warm = Duration::from_secs((outage.as_secs() / 10).clamp(5, 30));
    while t0.elapsed() < warm {
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(daemon.running(), "{}", tail(&daemon.log_text(), 30));
        sample(&daemon, &mut samples);
    }
    let rss_before = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let cut_at = t0.elapsed().as_secs_f64();
    let sent_at_cut = sim.stats().totals.lines_sent;
    fault.cut().await;
    while t0.elapsed().as_secs_f64() < cut_at + outage.as_secs_f64() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(
            daemon.running(),
            "the daemon exited during the outage:\n{}",
            tail(&daemon.log_text(), 40)
        );
        sample(&daemon, &mut samples);
    }
    let restore_at = t0.elapsed().as_secs_f64();
    let sent_at_restore = sim.stats().totals.lines_sent;
    let spool_peak = samples.iter().map(|s| s.spool_bytes).max().unwrap_or(0);
    fault.restore().await;
    // The drain: the spool empties while the stream goes on.
    let drain_deadline = Duration::from_secs_f64(outage.as_secs_f64() * 3.0 + 120.0);
    let restored = Instant::now();
    while !(segments(&spool) == 0 && daemon.log_text().contains("the spool is drained")) {
        assert!(
            restored.elapsed() < drain_deadline && daemon.running(),
            "the spool did not drain within {drain_deadline:?}:\n{}",
            tail(&daemon.log_text(), 40)
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        sample(&daemon, &mut samples);
    }
    let drained_in = restored.elapsed();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        sample(&daemon, &mut samples);
    }
    let hwm = daemon.peak_rss_kib().unwrap_or(0);
    let cpu = daemon.cpu_secs().unwrap_or(0.0);
    let ran_for = t0.elapsed().as_secs_f64();
    // End the streams from the server side: every line counted reached the daemon.
    let stats = sim.stop().await;
    let sent = stats.totals.lines_sent as i64;
    let deadline = Instant::now() + Duration::from_secs(120);
    while archived(db).await < sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let exit = daemon.stop(Duration::from_secs(30));
    let total = archived(db).await;
    let twice = db
        .int(
            "SELECT CAST(COALESCE(SUM(n - d), 0) AS BIGINT) FROM (SELECT COUNT(*) AS n, COUNT(DISTINCT tweet_id) AS d \
             FROM events WHERE kind = 'tweet' GROUP BY connection_id) AS per_connection",
        )
        .await;
    let unequal = db
        .int(
            "SELECT COUNT(*) FROM connections c WHERE c.messages <> \
             (SELECT COUNT(*) FROM events e WHERE e.connection_id = c.connection_id) + \
             (SELECT COUNT(*) FROM rejects r WHERE r.connection_id = c.connection_id)",
        )
        .await;
    // Figures.
    let during: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.secs > cut_at && s.secs <= restore_at)
        .collect();
    let after: Vec<&Sample> = samples.iter().filter(|s| s.secs > restore_at).collect();
    let rss_max = |ss: &[&Sample]| ss.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let slowest = during
        .windows(2)
        .map(|w| (w[1].sent - w[0].sent) as f64 / (w[1].secs - w[0].secs))
        .fold(f64::INFINITY, f64::min);
    let nominal = (rate * (restore_at - cut_at)) as u64;
    let sent_during = sent_at_restore - sent_at_cut;
    let t = &stats.totals;
    let conn = stats.connections.first();
    println!(
        "{} for {:.0} s under {rate} events/s (load average before {load_before}, after {})",
        fault.name(),
        restore_at - cut_at,
        loadavg()
    );
    println!(
        "  simulator: {sent_during} lines sent during the outage (nominal {nominal}), slowest second {slowest:.0}/s; \
         queue peak {} of {} bytes; falling_behind_warnings {}, dropped_lines {}, stall_disconnects {}; connections {}",
        t.queue_peak_bytes,
        conn.map_or(0, |c| c.queue_capacity_bytes),
        t.falling_behind_warnings,
        t.dropped_lines,
        t.stall_disconnects,
        t.connections
    );
    println!(
        "  spool: {:.1} MiB at most ({:.0} bytes per record spooled); drained {drained_in:.1?} after the restore; \
         segments left {}",
        spool_peak as f64 / 1048576.0,
        spool_peak as f64 / sent_during.max(1) as f64,
        segments(&spool)
    );
    println!(
        "  archive: sent {sent}, archived {total}, statuses twice {twice}, connections with read ≠ archived {unequal}; exit {:?}",
        exit.code
    );
    println!(
        "  daemon RSS: {} MiB at most before the outage, {} MiB during it, {} MiB during the drain and after; \
         VmHWM {} MiB; CPU {cpu:.0} s in {ran_for:.0} s ({:.0} % of a core)",
        rss_before / 1024,
        rss_max(&during) / 1024,
        rss_max(&after) / 1024,
        hwm / 1024,
        100.0 * cpu / ran_for
    );
    println!(
        "  samples (s, RSS MiB, sent, spool MiB), every 10th: {:?}",
        samples
            .iter()
            .step_by(10)
            .map(|s| (
                s.secs.round() as u64,
                s.rss_kib / 1024,
                s.sent,
                s.spool_bytes >> 20
            ))
            .collect::<Vec<_>>()
    );
    assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 40));
    assert_eq!(total, sent, "archived = sent");
    assert_eq!(twice, 0, "no status archived twice");
    assert_eq!(unequal, 0, "connections.messages = archived");
    assert_eq!(segments(&spool), 0, "the spool is empty");
    assert_eq!(
        (
            t.falling_behind_warnings,
            t.dropped_lines,
            t.stall_disconnects
        ),
        (0, 0, 0),
        "the server never saw the client fall behind"
    );
    assert!(
        sent_during as f64 >= nominal as f64 * 0.95,
        "the simulator was held back: {sent_during} lines during the outage, nominal {nominal}"
    );
    let rss_peak = rss_max(&during).max(rss_max(&after));
    assert!(
        rss_peak <= rss_before + RSS_GROWTH_KIB,
        "memory grew from {rss_before} KiB to {rss_peak} KiB"
    );
}
