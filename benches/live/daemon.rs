//! The daemon under measurement: started as a child on its own config, the archive polled until
//! everything sent is archived, stopped with SIGTERM, and the archive checked for exactly what
//! was sent.

use super::procfs::proc_status_kib;
use super::{Api, Input, NO_PROGRESS, POLL, RSS_EVERY};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, Row as _, SqliteConnection};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr as _;
use std::time::{Duration, Instant};
use streamvault::simulate::{Simulator, Stats};

/// The daemon under measurement, and its log for failure messages.
pub struct DaemonChild {
    pub child: std::process::Child,
    pub log_path: PathBuf,
}

impl DaemonChild {
    /// `streamvault run` archiving `sim`'s sample stream of the `api` family into `url`, with
    /// its default spool unless `spool` is false (`[spool] enabled = false`).
    pub fn spawn(
        dir: &Path,
        url: &str,
        sim: &Simulator,
        api: Api,
        spool: bool,
    ) -> Result<DaemonChild, String> {
        let config = dir.join("live-bench.toml");
        let spool = if spool {
            ""
        } else {
            "\n[spool]\nenabled = false\n"
        };
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = {url:?}\n{spool}\n[[stream]]\nname = \"sample\"\nfamily = \"{}\"\nurl = \"http://{}{}\"\nstall_timeout_secs = 90\n",
                api.family(),
                sim.addr(),
                api.path()
            ),
        )
        .unwrap();
        let log_path = dir.join("live-bench-daemon.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
            .arg("run")
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "info")
            .env_remove("STREAMVAULT__DATABASE__URL")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run streamvault: {e}"))?;
        Ok(DaemonChild { child, log_path })
    }

    /// Kills the daemon and returns `why` with the tail of its log.
    pub fn fail(&mut self, why: String) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let tail = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("{why}; daemon log tail:\n{}", tail.join("\n"))
    }

    /// SIGTERM, then waits at most 30 s for the exit (`asked`: when the stop was asked for).
    pub async fn stop(&mut self, asked: Instant) -> Result<std::process::ExitStatus, String> {
        let pid = self.child.id();
        let killed = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .map_err(|e| e.to_string())?;
        if !killed.success() {
            return Err("kill -TERM failed".into());
        }
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status);
            }
            if asked.elapsed() > Duration::from_secs(30) {
                return Err("the daemon did not stop within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// What polling the archive saw until everything sent was archived.
pub struct Polled {
    /// Daemon spawn to everything archived.
    pub took: Duration,
    /// Daemon spawn to the first archived event.
    pub first_event: Option<Duration>,
    /// (seconds since spawn, VmRSS MB)
    pub rss: Vec<(f64, f64)>,
}

/// Polls the archive every [`POLL`] (sampling the daemon's RSS every [`RSS_EVERY`]) until every
/// line of the input is sent and archived; fails if the daemon exits or makes no progress for
/// [`NO_PROGRESS`].
pub async fn poll_until_archived(
    daemon: &mut DaemonChild,
    sim: &Simulator,
    db_file: &Path,
    input: &Input,
    started: Instant,
) -> Result<Polled, String> {
    let pid = daemon.child.id();
    let mut archive: Option<SqliteConnection> = None;
    let mut rss = Vec::new();
    let mut next_rss = Duration::ZERO;
    let mut first_event = None;
    let mut last_growth = (0u64, Instant::now());
    let took = loop {
        let now = started.elapsed();
        if now >= next_rss {
            if let Some(kib) = proc_status_kib(pid, "VmRSS:") {
                rss.push((now.as_secs_f64(), kib as f64 / 1024.0));
            }
            next_rss += RSS_EVERY;
        }
        if let Some(status) = daemon.child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("the daemon exited early with {status}"));
        }
        let sent = sim.stats().totals.lines_sent;
        let archived = archived_so_far(db_file, &mut archive).await;
        if archived > 0 && first_event.is_none() {
            first_event = Some(now);
        }
        if sent == input.lines && archived >= sent {
            break now;
        }
        if archived > last_growth.0 {
            last_growth = (archived, Instant::now());
        } else if last_growth.1.elapsed() > NO_PROGRESS {
            return Err(format!(
                "no progress for {NO_PROGRESS:?}: {archived} archived, {sent} of {} lines sent",
                input.lines
            ));
        }
        tokio::time::sleep(POLL).await;
    };
    if let Some(c) = archive.take() {
        let _ = c.close().await;
    }
    Ok(Polled {
        took,
        first_event,
        rss,
    })
}

/// Correctness: exactly what was sent, on one connection, ended by the shutdown.
pub async fn check_archive(url: &str, input: &Input, stats: &Stats) -> Result<(), String> {
    let mut db = SqliteConnectOptions::from_str(url)
        .map_err(|e| e.to_string())?
        .read_only(true)
        .connect()
        .await
        .map_err(|e| format!("cannot open the archive: {e}"))?;
    let events = count(&mut db, "SELECT COUNT(*) FROM events").await?;
    let rejects = count(&mut db, "SELECT COUNT(*) FROM rejects").await?;
    let connections = count(&mut db, "SELECT COUNT(*) FROM connections").await?;
    let shutdown = count(
        &mut db,
        "SELECT COUNT(*) FROM connections WHERE end_reason = 'shutdown'",
    )
    .await?;
    let _ = db.close().await;
    let sent = stats.totals.lines_sent;
    let mut wrong = Vec::new();
    if sent != input.lines {
        wrong.push(format!(
            "the simulator sent {sent} lines of {}",
            input.lines
        ));
    }
    if (events + rejects) as u64 != sent {
        wrong.push(format!(
            "archived {events} events + {rejects} rejects = {}, sent {sent}",
            events + rejects
        ));
    }
    if connections != 1 || shutdown != 1 || stats.totals.connections != 1 {
        wrong.push(format!(
            "{connections} connection rows ({shutdown} ended by shutdown), {} requests: expected one",
            stats.totals.connections
        ));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// One integer from the archive.
pub async fn count(db: &mut SqliteConnection, sql: &str) -> Result<i64, String> {
    sqlx::query(sql)
        .fetch_one(db)
        .await
        .map(|r| r.get::<i64, _>(0))
        .map_err(|e| format!("{sql}: {e}"))
}

/// Events plus rejects archived so far: both ids are AUTOINCREMENT and rows are never removed
/// from those tables, so the maxima are the counts, read from the end of each b-tree. Zero
/// while the daemon has not created the archive yet.
pub async fn archived_so_far(db_file: &Path, archive: &mut Option<SqliteConnection>) -> u64 {
    if archive.is_none() && db_file.exists() {
        let url = format!("sqlite://{}", db_file.display());
        if let Ok(options) = SqliteConnectOptions::from_str(&url) {
            *archive = options.read_only(true).connect().await.ok();
        }
    }
    let Some(db) = archive.as_mut() else {
        return 0;
    };
    sqlx::query(
        "SELECT COALESCE((SELECT MAX(event_id) FROM events), 0) \
         + COALESCE((SELECT MAX(reject_id) FROM rejects), 0)",
    )
    .fetch_one(db)
    .await
    .map(|r| r.get::<i64, _>(0) as u64)
    .unwrap_or(0) // the schema is not there yet
}
