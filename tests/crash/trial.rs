//! One kill -9 trial ([`run_trial`]): a daemon on a fresh archive (SQLite file or PostgreSQL
//! schema) reading a live stream, taken into the plan's phase and SIGKILLed; then every check
//! of what the kill left, and of a restarted daemon ([`super::restart`]). A check that fails
//! adds to the trial's failures; the test reports them all together.

use super::drive::{Killed, MARKER, drive_and_kill, purge_scenario};
use super::inspect::{
    Seen, events_of, first_difference, matches_at, orphans, position_in, soundness, spooled,
    stream_kind,
};
use super::plan::{Backend, Phase, Plan};
use super::{PATH, PURGE_WITHIN_SECS, RATE, loss_bound, window_bound_ms};
use crate::common::TestDb;
use crate::common::daemon::{builtin, scenario_toml, simulator, stream};
use crate::common::fault::Fault;
use crate::common::process::{Proc, ProcConfig};
use crate::common::reference::{RefEvent, reference_stream_of};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The simulator's seed in `common::daemon::simulator`.
const SIM_SEED: u64 = 7;

/// What a trial measured, and what failed.
#[derive(Debug, Clone)]
pub struct Trial {
    pub plan: Plan,
    /// Why the trial did not run (PostgreSQL unreachable outside CI).
    pub skipped: Option<String>,
    pub seen_committed: i64,
    /// The crashed connection's events in the archive after the kill.
    pub archived_at_kill: i64,
    /// Its records in the spool after the kill (all appended with `fsync = "always"`).
    pub spooled_at_kill: i64,
    /// The daemon reconnected its stream before the kill (PostgreSQL: the stream's advisory
    /// lock went with a lost database session): the rows and what the log says. The crashed
    /// connection is then the last one, whose stream has no reference: its checks are by
    /// counts (kept ≥ seen, everything kept archived after the restart, no status twice).
    pub reconnected: Option<String>,
    /// Connection rows before the kill (the restarted daemon's is the simulator's next).
    pub connections_before_kill: usize,
    /// Stall disconnects the simulator sent before the kill (its queue for the daemon
    /// overflowed: the server saw the client fall behind), and the lines it dropped then.
    pub stalls: u64,
    pub dropped: u64,
    /// Records both committed and still in the spool (a restart would commit them twice).
    pub overlap: i64,
    /// Lines the simulator sent on the crashed connection (its `FALLING_BEHIND` warnings
    /// excluded: they are counted in `warnings`).
    pub sent: u64,
    /// `FALLING_BEHIND` warnings the simulator raised on the crashed connection: its queue
    /// filled while the daemon did not read (a stalled commit before the spool took over).
    pub warnings: u64,
    /// What the crash kept: the archive and the spool together.
    pub kept: i64,
    pub loss: i64,
    pub window_ms: i64,
    pub integrity: String,
    pub orphans: i64,
    /// delete→purge: whether the marker was still in the files (or a tuple) at the kill.
    pub marker_at_kill: Option<bool>,
    /// The crashed connection's events after the restart.
    pub final_events: i64,
    pub drained_ms: Option<u64>,
    /// delete→purge: from the restart (and from the delete) to the marker gone.
    pub purged_ms: Option<(u64, u64)>,
    /// delete→purge on PostgreSQL: tuples still holding the marker after the purge.
    pub marker_tuples_after: Option<i64>,
    pub restart_exit: Option<i32>,
    pub restart_integrity: String,
    pub failures: Vec<String>,
}

impl Trial {
    fn new(plan: Plan) -> Trial {
        Trial {
            plan,
            skipped: None,
            seen_committed: 0,
            archived_at_kill: 0,
            spooled_at_kill: 0,
            overlap: 0,
            reconnected: None,
            connections_before_kill: 0,
            stalls: 0,
            dropped: 0,
            sent: 0,
            warnings: 0,
            kept: 0,
            loss: 0,
            window_ms: 0,
            integrity: String::new(),
            orphans: 0,
            marker_at_kill: None,
            final_events: 0,
            drained_ms: None,
            purged_ms: None,
            marker_tuples_after: None,
            restart_exit: None,
            restart_integrity: String::new(),
            failures: Vec::new(),
        }
    }

    pub fn fail(&mut self, what: String) {
        self.failures.push(what);
    }
}

/// The reference streams, read once and lengthened on demand.
#[derive(Default)]
pub struct References {
    clean: Vec<RefEvent>,
    purge: Vec<RefEvent>,
}

impl References {
    /// Reads, before any trial runs, as much of each stream as `plans` will need: what the
    /// simulator sends until the kill, with room to spare (reading it takes long enough, in a
    /// debug build, to spoil a trial's timing).
    pub async fn prepare(&mut self, plans: &[Plan]) {
        let rate = RATE as u64;
        for phase in [Phase::Steady, Phase::DeleteBeforePurge] {
            let need = plans
                .iter()
                .filter(|p| {
                    (p.phase == Phase::DeleteBeforePurge) == (phase == Phase::DeleteBeforePurge)
                })
                .map(|p| {
                    let secs = match p.phase {
                        Phase::Steady | Phase::DeleteBeforePurge => 3,
                        Phase::Spooling => 4,
                        Phase::Draining => 10,
                    };
                    (rate * (p.delay_ms + p.outage_ms + secs * 1000) / 1000 + 5000) as usize
                })
                .max();
            if let Some(n) = need {
                self.get(phase, n).await;
            }
        }
    }

    /// At least the first `n` lines of the stream a trial of `phase` reads.
    pub async fn get(&mut self, phase: Phase, n: usize) -> &[RefEvent] {
        let purge = phase == Phase::DeleteBeforePurge;
        let have = if purge { &self.purge } else { &self.clean };
        if have.len() < n {
            let want = n.max(self_len_hint(have.len()));
            let scenario = if purge {
                let dir = tempfile::tempdir().unwrap();
                scenario_toml(dir.path(), &purge_scenario())
            } else {
                builtin("clean")
            };
            let events = reference_stream_of(scenario, SIM_SEED, want).await;
            *(if purge {
                &mut self.purge
            } else {
                &mut self.clean
            }) = events;
        }
        if purge { &self.purge } else { &self.clean }
    }
}

/// A reference read again is read half as long again as before.
fn self_len_hint(had: usize) -> usize {
    had * 3 / 2
}

/// Where a trial's daemon keeps its spool.
fn spool_dir(db: &TestDb) -> PathBuf {
    match db.url.strip_prefix("sqlite://") {
        Some(path) => PathBuf::from(format!("{path}.spool")),
        None => db.dir.path().join("spool"),
    }
}

/// Runs one trial.
pub async fn run_trial(plan: Plan, refs: &mut References) -> Trial {
    let mut t = Trial::new(plan);
    let db = match plan.backend {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => match TestDb::postgres().await {
            Some(db) => db,
            None => {
                t.skipped = Some("PostgreSQL not reachable".into());
                return t;
            }
        },
    };
    let dir = db.dir.path().to_owned();
    let (mut fault, url) = Fault::new(&db.url).await;
    let scenario = match plan.phase {
        Phase::DeleteBeforePurge => scenario_toml(&dir, &purge_scenario()),
        _ => builtin("clean"),
    };
    let sim = simulator(scenario, RATE).await;
    let mut spec = stream("main", &sim, PATH, "");
    spec.url = format!("http://{}{PATH}", sim.addr());
    let mut config = ProcConfig::new(&url, vec![spec]);
    config.flush_interval_ms = super::FLUSH_MS;
    config.purge_within_secs = Some(PURGE_WITHIN_SECS);
    let spool = spool_dir(&db);
    config.extra = match plan.backend {
        Backend::Sqlite => "\n[spool]\nfsync = \"always\"\n".into(),
        Backend::Postgres => format!(
            "\n[spool]\ndir = {:?}\nfsync = \"always\"\n",
            spool.display().to_string()
        ),
    };
    let mut daemon = Proc::start(&dir, &config);
    let killed = match drive_and_kill(&plan, &db, &mut fault, &mut daemon).await {
        Ok(killed) => killed,
        Err(e) => {
            t.fail(e);
            drop(daemon);
            fault.restore().await;
            sim.stop().await;
            db.cleanup().await;
            return t;
        }
    };
    // Let the simulator notice the client is gone before reading what it sent.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let stats = sim.stats();
    let log = daemon.log_text();
    fault.restore().await;
    t.seen_committed = killed.seen_committed;
    let crashed = t
        .check_after_kill(&db, &spool, &killed, &stats, &log, refs)
        .await;
    if let Some(crashed) = crashed {
        super::restart::restart_and_check(
            &mut t, &db, &spool, &config, sim, crashed, &killed, refs,
        )
        .await;
    } else {
        sim.stop().await;
    }
    db.cleanup().await;
    t
}

/// The marker in any file of the SQLite archive (database, WAL, shared memory, spool).
pub fn sqlite_marker(db: &TestDb) -> bool {
    let holds = |path: &Path| {
        std::fs::read(path)
            .is_ok_and(|bytes| memchr::memmem::find(&bytes, MARKER.as_bytes()).is_some())
    };
    std::fs::read_dir(db.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("archive.db"))
        .any(|e| {
            let path = e.path();
            if path.is_dir() {
                std::fs::read_dir(&path)
                    .unwrap()
                    .flatten()
                    .any(|f| holds(&f.path()))
            } else {
                holds(&path)
            }
        })
}

impl Trial {
    /// Every check of what the kill left; returns the crashed connection's id.
    async fn check_after_kill(
        &mut self,
        db: &TestDb,
        spool: &Path,
        killed: &Killed,
        stats: &streamvault::simulate::Stats,
        log: &str,
        refs: &mut References,
    ) -> Option<i64> {
        self.integrity = soundness(db).await;
        if self.integrity != "ok" {
            self.fail(format!("after the kill: {}", self.integrity));
        }
        let ids: Vec<i64> = db
            .rows("SELECT CAST(connection_id AS TEXT) FROM connections ORDER BY connections.connection_id")
            .await
            .into_iter()
            .map(|r| r[0].as_deref().unwrap().parse().unwrap())
            .collect();
        let Some(&crashed) = ids.last() else {
            self.fail("no connection before the kill".into());
            return None;
        };
        self.connections_before_kill = ids.len();
        let all_spooled = spooled(spool);
        if ids.len() > 1 {
            self.earlier_connections(db, &ids, &all_spooled, log).await;
        }
        for c in stats.connections.iter().take(ids.len()) {
            self.stalls += u64::from(c.stall_disconnect);
            self.dropped += c.dropped_lines;
        }
        if let Some(c) = stats.connections.get(ids.len() - 1) {
            self.warnings = c.falling_behind_warnings;
            self.sent = c.lines_sent
                - c.falling_behind_warnings.min(c.lines_sent)
                - u64::from(c.stall_disconnect).min(c.lines_sent);
        }
        let archived = events_of(db, crashed).await;
        let spooled: Vec<Seen> = all_spooled
            .into_iter()
            .filter(|s| s.connection_id == Some(crashed) && stream_kind(&s.kind))
            .collect();
        self.archived_at_kill = archived.len() as i64;
        self.spooled_at_kill = spooled.len() as i64;
        let phase = self.plan.phase;
        let reference = refs
            .get(
                phase,
                archived.len() + spooled.len() + self.sent as usize + 1000,
            )
            .await;
        let first = self.reconnected.is_none();
        if first && !matches_at(&archived, reference, 0) {
            self.fail(format!(
                "after the kill the archive ({} events) is not a prefix of the stream: {}",
                archived.len(),
                first_difference(&archived, reference, 0)
            ));
        }
        if self.archived_at_kill < self.seen_committed {
            self.fail(format!(
                "committed events lost: {} seen committed before the kill, {} after",
                self.seen_committed, self.archived_at_kill
            ));
        }
        self.kept = self.archived_at_kill;
        if !spooled.is_empty() && first {
            self.check_spool(&spooled, reference);
        } else {
            self.kept += self.spooled_at_kill;
        }
        self.loss = self.sent as i64 - self.kept;
        let bound = loss_bound(phase);
        if self.loss < 0 || self.loss > bound {
            self.fail(format!(
                "sent {} on the crashed connection, kept {} (archive and spool): loss {} outside 0..={bound}",
                self.sent, self.kept, self.loss
            ));
        }
        let last = archived
            .last()
            .into_iter()
            .chain(spooled.last())
            .map(|s: &Seen| s.received_at)
            .max();
        self.window_ms = last.map_or(i64::MAX, |l| (killed.at - l).num_milliseconds());
        if self.window_ms > window_bound_ms(phase) {
            self.fail(format!(
                "loss window {} ms exceeds {} ms",
                self.window_ms,
                window_bound_ms(phase)
            ));
        }
        if first {
            self.orphans = orphans(db, crashed, reference).await;
        }
        if self.orphans != 0 {
            self.fail(format!(
                "{} status events without status or deletion",
                self.orphans
            ));
        }
        if phase == Phase::DeleteBeforePurge {
            self.marker_at_kill = Some(match self.plan.backend {
                Backend::Sqlite => sqlite_marker(db),
                Backend::Postgres => {
                    crate::common::pg_pages::enable_pageinspect(db).await;
                    crate::common::pg_pages::tuples_holding(db, "tweets", MARKER).await > 0
                }
            });
        }
        Some(crashed)
    }

    /// Connections before the crashed one (a reconnect before the kill): each closed, with
    /// everything it read archived or spooled.
    async fn earlier_connections(&mut self, db: &TestDb, ids: &[i64], spooled: &[Seen], log: &str) {
        let why: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("connection closed") || l.contains("lock"))
            .take(4)
            .collect();
        let rows = db
            .rows("SELECT CAST(connection_id AS TEXT), end_reason, CAST(messages AS TEXT) FROM connections ORDER BY connections.connection_id")
            .await;
        self.reconnected = Some(format!("{rows:?}; {}", why.join(" / ")));
        for id in &ids[..ids.len() - 1] {
            let archived = db
                .int(&format!(
                    "SELECT (SELECT COUNT(*) FROM events WHERE connection_id = {id}) + \
                     (SELECT COUNT(*) FROM rejects WHERE connection_id = {id})"
                ))
                .await;
            let read = db
                .int(&format!(
                    "SELECT COALESCE(MAX(messages), -1) FROM connections WHERE connection_id = {id}"
                ))
                .await;
            let in_spool = spooled
                .iter()
                .filter(|s| s.connection_id == Some(*id))
                .count() as i64;
            if read != archived + in_spool {
                self.fail(format!(
                    "connection {id}, closed before the kill: read {read}, archived {archived}, spooled {in_spool}"
                ));
            }
        }
    }

    /// The spool holds the crashed connection's records that follow the archive's, in order,
    /// with neither a hole nor (but for a kill between a commit and the cursor's update) an
    /// overlap.
    fn check_spool(&mut self, spooled: &[Seen], reference: &[RefEvent]) {
        let Some(start) = position_in(spooled, reference) else {
            self.fail("the spooled records are not in the stream".into());
            return;
        };
        if !matches_at(spooled, reference, start) {
            self.fail(format!(
                "the {} spooled records are not a run of the stream from line {start}: {}",
                spooled.len(),
                first_difference(spooled, reference, start)
            ));
        }
        let end = (start + spooled.len()) as i64;
        self.overlap = self.archived_at_kill - start as i64;
        if self.overlap < 0 {
            self.fail(format!(
                "a hole: the archive ends at line {}, the spool starts at line {start}",
                self.archived_at_kill
            ));
        }
        self.kept = self.kept.max(end);
    }
}
