//! A daemon on a SQLite file that the test controls (on a small tmpfs, under a file-size limit),
//! and the phases of the disk-full and file-size-limit tests.

use super::PATH;
use crate::common::daemon::{scenario_toml, simulator, stream, wait_until};
use crate::common::logs::{strip_ansi, tail};
use crate::common::process::{Proc, ProcConfig, ProcExit};
use crate::common::sqlite_inspect::{int, integrity, sqlite_pool};
use crate::common::tmpfs::Tmpfs;
use sqlx::SqlitePool;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use streamvault::simulate::{Simulator, Stats};

/// A daemon on a SQLite file at `path` reading `scenario` (a TOML text) of a fresh simulator.
pub async fn sqlite_daemon(
    dir: &Path,
    path: &Path,
    scenario: &str,
    retry_for_secs: u64,
    file_size_limit: Option<u64>,
) -> (Proc, streamvault::simulate::Simulator, ProcConfig) {
    let name = scenario
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap()
        .to_owned();
    let sim = simulator(scenario_toml(dir, scenario), 1000.0).await;
    let mut spec = stream("main", &sim, PATH, &name);
    spec.url = format!("http://{}{PATH}", sim.addr());
    let mut config = ProcConfig::new(&format!("sqlite://{}", path.display()), vec![spec]);
    config.retry_for_secs = retry_for_secs;
    config.file_size_limit = file_size_limit;
    (Proc::start(dir, &config), sim, config)
}

pub async fn sqlite_archived(pool: &sqlx::SqlitePool) -> i64 {
    int(
        pool,
        "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM rejects)",
    )
    .await
}

/// What the writer did while the disk was full.
pub struct WhileFull {
    pub ballast: PathBuf,
    pub ballast_bytes: u64,
    /// From filling the disk to the SQLITE_FULL error in the log.
    pub error_after: Duration,
    /// Archived when the error was logged, and 3 s later.
    pub stalled_at: i64,
    pub still: i64,
    /// `integrity_check` while full.
    pub integrity: String,
}

/// Fills the disk with a ballast file and waits for the writer to meet SQLITE_FULL; 3 s later
/// the daemon must still be running.
pub async fn fill_until_the_writer_fails(
    fs: &Tmpfs,
    daemon: &mut Proc,
    pool: &SqlitePool,
) -> WhileFull {
    let (ballast, ballast_bytes) = fs.fill("ballast");
    let filled = Instant::now();
    // The next WAL frames do not fit: the writer fails with SQLITE_FULL and retries.
    wait_until(
        "the disk-full error is logged",
        Duration::from_secs(30),
        || {
            let log = daemon.log_text();
            async move { log.contains("database or disk is full") }
        },
    )
    .await;
    let error_after = filled.elapsed();
    let stalled_at = sqlite_archived(pool).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        daemon.running(),
        "the daemon exited on a full disk: {}",
        tail(&daemon.log_text(), 30)
    );
    WhileFull {
        ballast,
        ballast_bytes,
        error_after,
        stalled_at,
        still: sqlite_archived(pool).await,
        integrity: integrity(pool).await,
    }
}

/// Waits (at most 20 s) until `want` events are archived, the daemon running throughout;
/// returns how long it took.
pub async fn wait_for_all_archived(
    pool: &SqlitePool,
    daemon: &mut Proc,
    sim: &Simulator,
    want: i64,
) -> Duration {
    let freed = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sqlite_archived(pool).await < want {
        assert!(
            Instant::now() < deadline && daemon.running(),
            "the 6000 events are not archived {:?} after space returned (archived {}, sent {}); log:\n{}",
            freed.elapsed(),
            sqlite_archived(pool).await,
            sim.stats().totals.lines_sent,
            strip_ansi(&tail(&daemon.log_text(), 20))
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    freed.elapsed()
}

/// The disk-full run's figures.
pub fn print_disk_full(
    full: &WhileFull,
    recovered: Duration,
    exit: &ProcExit,
    stats: &Stats,
    total: i64,
    ok: &str,
    conns: &[(i64, Option<String>, i64)],
) {
    let log = strip_ansi(&exit.log);
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("database operation failed"))
        .collect();
    let (size, stalled_at, still) = (full.ballast_bytes, full.stalled_at, full.still);
    let integrity_while_full = &full.integrity;
    println!(
        "disk full (tmpfs 96 MiB, {size} B ballast): error logged {:?} after filling; archived \
         {stalled_at} then {still} 3 s later (integrity meanwhile: {integrity_while_full}); \
         space freed, all archived {recovered:?} later; exit {:?}; sent {}, archived {total}; \
         integrity {ok}; {} failures logged, first: {:?}; connections {conns:?}",
        full.error_after,
        exit.code,
        stats.totals.lines_sent,
        errors.len(),
        errors.first()
    );
}

/// The file-size-limit run's figures, with what the stream had read when it was closed
/// ("connection closed ... messages=N").
pub fn print_size_limit(
    limit: u64,
    exit: &ProcExit,
    before: i64,
    wal: u64,
    ok: &str,
    conns: &[(i64, Option<String>, Option<String>, i64)],
) {
    let read_at_exit: Vec<String> = strip_ansi(&exit.log)
        .lines()
        .filter(|l| l.contains("connection closed"))
        .filter_map(|l| l.split("messages=").nth(1))
        .filter_map(|m| m.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    println!(
        "file size limit {limit} B: exit {:?} (signal {:?}) after {:?}; archived {before}; WAL {wal} B; \
         integrity {ok}; connections {conns:?}; read before the exit: {:?}; last lines:\n{}",
        exit.code,
        exit.signal,
        exit.took,
        read_at_exit,
        strip_ansi(&tail(&exit.log, 3))
    );
}

/// A daemon restarted on `path` with `config` (no limit) archives 500 more events, stops with
/// exit 0, and leaves the file sound.
pub async fn a_restart_carries_on(dir: &Path, path: &Path, config: &ProcConfig, before: i64) {
    let mut restarted = Proc::start(dir, config);
    let pool = sqlite_pool(path).await;
    wait_until(
        "the restarted daemon archives",
        Duration::from_secs(30),
        || {
            let pool = &pool;
            async move { sqlite_archived(pool).await >= before + 500 }
        },
    )
    .await;
    pool.close().await;
    let exit = restarted.stop(Duration::from_secs(30));
    assert_eq!(exit.code, Some(0), "{}", tail(&exit.log, 30));
    let pool = sqlite_pool(path).await;
    assert_eq!(integrity(&pool).await, "ok");
    pool.close().await;
}
