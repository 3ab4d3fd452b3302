//! End to end, live against replay: the same events archived into SQLite once by
//! `streamvault replay` and once by `streamvault run` (the real release binary) reading them
//! from the in-process simulator over loopback HTTP. Prints figures; asserts nothing about
//! timing (timing is not a test), but checks that every line sent was archived and exits
//! non-zero, loudly, when not.
//!
//! - **Replay**: `streamvault replay --json` of the file into a fresh archive: its own events/s
//!   (from its summary, start-up excluded), its wall time (process start to exit, start-up and
//!   migration included) and its peak RSS (`VmHWM`, from its summary).
//! - **Live**: the simulator serves the file unpaced (`rate = 0`) on one connection, then idles;
//!   the daemon is started on a fresh archive and the archive is polled (`MAX(event_id)` +
//!   `MAX(reject_id)` on a read-only connection, every [`POLL`]) until every non-blank line the
//!   simulator sent is archived. Events/s and MB/s run from the daemon's spawn to that moment
//!   (so start-up and migration count, as in replay's wall time; exact to within one poll).
//!   Then the daemon's peak RSS (`VmHWM`) and CPU time are read from `/proc` and it is stopped
//!   with SIGTERM. Its RSS (`VmRSS`) is sampled every second; min and max after the first 10% of
//!   the run show whether it is flat.
//! - The ratio live/replay is printed against both replay figures (goal: ≥ 0.9). CPU seconds of
//!   each process, of the simulator (this process), and of the daemon's and replay's threads by
//!   name show where the time goes when the ratio falls short (on a 2-core machine the
//!   simulator competes with the daemon for the cores; replay reads its file itself).
//!
//! `cargo bench --bench live` — environment: `BENCH_EVENTS` (default 200,000), `BENCH_DIR`
//! (default `target/bench-data`; the generated file `realistic-N.jsonl` is shared with
//! `benches/replay.rs` and reused when present), `BENCH_ROUNDS` (default 1: replay then live,
//! repeated, each pair printing its ratio, since figures on a busy machine are noisy).

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, Row as _, SqliteConnection};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::str::FromStr as _;
use std::time::{Duration, Instant};
use streamvault::generate::{Mix, write_stream};
use streamvault::simulate::{Scenario, Simulator, SimulatorConfig};

/// How often the archive is polled during the live run: the resolution of its end time.
const POLL: Duration = Duration::from_millis(200);
/// How often the daemon's resident set is sampled.
const RSS_EVERY: Duration = Duration::from_secs(1);
/// A live run whose archive has not grown for this long has failed.
const NO_PROGRESS: Duration = Duration::from_secs(120);
/// The path the daemon's stream asks the simulator for.
const PATH: &str = "/1.1/statuses/sample.json";

fn main() -> ExitCode {
    let events: u64 = env("BENCH_EVENTS", "200000")
        .parse()
        .expect("BENCH_EVENTS is a number");
    let rounds: u32 = env("BENCH_ROUNDS", "1")
        .parse()
        .expect("BENCH_ROUNDS is a number");
    let dir = PathBuf::from(env("BENCH_DIR", "target/bench-data"));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = std::path::absolute(&dir).unwrap();
    let file = stream(&dir, "realistic", events);
    let input = Input::of(&file);
    let tick = clock_ticks();
    let runtime = tokio::runtime::Runtime::new().unwrap();

    println!(
        "\n== live (simulator → HTTP → `streamvault run`) vs replay: {} lines, {:.1} MB, SQLite ==",
        input.lines,
        input.bytes as f64 / 1e6
    );
    let mut failures = Vec::new();
    let mut pairs = Vec::new();
    for round in 1..=rounds.max(1) {
        let replayed = match replay(&dir, &file, &input, tick) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("round {round}, replay: {e}"));
                continue;
            }
        };
        let live = match runtime.block_on(live(&dir, &file, &input, tick)) {
            Ok(l) => l,
            Err(e) => {
                failures.push(format!("round {round}, live: {e}"));
                continue;
            }
        };
        print_round(round, &replayed, &live);
        pairs.push((replayed, live));
    }
    if pairs.len() > 1 {
        let mut own: Vec<f64> = pairs.iter().map(|(r, l)| l.rate / r.own_rate).collect();
        let mut wall: Vec<f64> = pairs.iter().map(|(r, l)| l.rate / r.wall_rate).collect();
        println!(
            "\nover {} rounds: ratio live/replay median {:.2} (vs replay's own figure), {:.2} (vs its wall time)",
            pairs.len(),
            median(&mut own),
            median(&mut wall)
        );
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            eprintln!("\n!!!!!!!! LIVE BENCHMARK FAILED: {f}");
        }
        ExitCode::FAILURE
    }
}

fn env(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_owned())
}

/// Generates (once, cached by name and size) a stream file, as `benches/replay.rs` does.
fn stream(dir: &Path, name: &str, events: u64) -> PathBuf {
    let path = dir.join(format!("{name}-{events}.jsonl"));
    if !path.exists() {
        let started = Instant::now();
        let tmp = path.with_extension(format!("partial-{}", std::process::id()));
        let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
        let generated = write_stream(file, 42, Mix::default(), events, false).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        println!(
            "generated {name}: {} lines, {:.2} GB in {:.1} s: {:?}",
            generated.lines,
            generated.bytes as f64 / 1e9,
            started.elapsed().as_secs_f64(),
            generated.by_kind
        );
    }
    path
}

/// What the input file holds: what must be archived.
struct Input {
    /// Non-blank lines: each is an event or a reject once archived.
    lines: u64,
    bytes: u64,
}

impl Input {
    fn of(file: &Path) -> Input {
        use std::io::BufRead as _;
        let mut reader =
            std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(file).unwrap());
        let (mut lines, mut bytes, mut line) = (0, 0, Vec::new());
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).unwrap();
            if n == 0 {
                break;
            }
            bytes += n as u64;
            let content = line.strip_suffix(b"\n").unwrap_or(&line);
            if !content.strip_suffix(b"\r").unwrap_or(content).is_empty() {
                lines += 1;
            }
        }
        Input { lines, bytes }
    }
}

/// A fresh SQLite archive in `dir`: its URL, its old files removed.
fn fresh_db(dir: &Path, tag: &str) -> (PathBuf, String) {
    let file = dir.join(format!("{tag}.db"));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
    }
    let url = format!("sqlite://{}", file.display());
    (file, url)
}

struct Replayed {
    /// The binary's own events/s (its pipeline's run, start-up excluded).
    own_rate: f64,
    /// Lines over the process's wall time.
    wall_rate: f64,
    mb_per_sec: f64,
    wall: Duration,
    rss_mb: f64,
    cpu_secs: f64,
    threads: BTreeMap<String, f64>,
}

/// Runs `streamvault replay --json` as a user would; its JSON summary and what `/proc` says.
fn replay(dir: &Path, file: &Path, input: &Input, tick: f64) -> Result<Replayed, String> {
    let (_, url) = fresh_db(dir, "live-bench-replay");
    let cpu_before = children_cpu(tick);
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["replay", "--json", "--database", &url])
        .arg(file)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run streamvault: {e}"))?;
    // Per-thread CPU, sampled while it runs (the last POLL of each thread is missed).
    let mut threads = ThreadCpu::default();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        threads.sample(child.id(), tick);
        std::thread::sleep(POLL);
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let cpu_secs = children_cpu(tick) - cpu_before;
    if !out.status.success() {
        return Err(format!(
            "replay exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let s: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("replay's summary is not JSON: {e}"))?;
    let count = |k: &str| s[k].as_u64().unwrap_or(0);
    let archived = count("events") + count("rejects");
    if archived != input.lines {
        return Err(format!(
            "replay archived {archived} events + rejects of {} lines",
            input.lines
        ));
    }
    Ok(Replayed {
        own_rate: s["events_per_sec"].as_f64().unwrap_or(0.0),
        wall_rate: input.lines as f64 / wall.as_secs_f64(),
        mb_per_sec: s["mb_per_sec"].as_f64().unwrap_or(0.0),
        wall,
        rss_mb: s["peak_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0,
        cpu_secs,
        threads: threads.by_name(),
    })
}

struct Live {
    rate: f64,
    mb_per_sec: f64,
    /// Daemon spawn to everything archived.
    took: Duration,
    /// Daemon spawn to the first archived event.
    first_event: Duration,
    peak_rss_mb: f64,
    /// (seconds since spawn, VmRSS MB)
    rss: Vec<(f64, f64)>,
    daemon_cpu_secs: f64,
    simulator_cpu_secs: f64,
    threads: BTreeMap<String, f64>,
    stop_took: Duration,
}

/// The simulator in this process, the daemon as a child: see the module documentation.
async fn live(dir: &Path, file: &Path, input: &Input, tick: f64) -> Result<Live, String> {
    let (db_file, url) = fresh_db(dir, "live-bench-daemon");
    let scenario = Scenario::from_toml_str(&format!(
        "name = \"bench-live\"\nrate = 0.0\n\n[[connection]]\nsteps = [{{ file = {:?} }}, {{ idle = \"forever\" }}]\n",
        file.display().to_string()
    ))
    .map_err(|e| e.to_string())?;
    let sim = Simulator::start(SimulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        scenario,
        rate: 0.0,
        seed: 7,
        keepalive: Duration::from_secs(30),
        ..SimulatorConfig::default()
    })
    .await
    .map_err(|e| format!("the simulator does not start: {e}"))?;
    let config = dir.join("live-bench.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = {url:?}\n\n[[stream]]\nname = \"sample\"\nfamily = \"ndjson\"\nurl = \"http://{}{PATH}\"\nstall_timeout_secs = 90\n",
            sim.addr()
        ),
    )
    .unwrap();
    let log_path = dir.join("live-bench-daemon.log");
    let log = std::fs::File::create(&log_path).unwrap();

    let self_cpu_before = self_cpu(tick);
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "info")
        .env_remove("STREAMVAULT__DATABASE__URL")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot run streamvault: {e}"))?;
    let pid = child.id();
    let fail = |child: &mut std::process::Child, why: String| {
        let _ = child.kill();
        let _ = child.wait();
        let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!("{why}; daemon log tail:\n{}", tail.join("\n")))
    };

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
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return fail(&mut child, format!("the daemon exited early with {status}"));
        }
        let sent = sim.stats().totals.lines_sent;
        let archived = archived_so_far(&db_file, &mut archive).await;
        if archived > 0 && first_event.is_none() {
            first_event = Some(now);
        }
        if sent == input.lines && archived >= sent {
            break now;
        }
        if archived > last_growth.0 {
            last_growth = (archived, Instant::now());
        } else if last_growth.1.elapsed() > NO_PROGRESS {
            return fail(
                &mut child,
                format!(
                    "no progress for {NO_PROGRESS:?}: {archived} archived, {sent} of {} lines sent",
                    input.lines
                ),
            );
        }
        tokio::time::sleep(POLL).await;
    };
    // Everything is archived: what the daemon used to get there, then the stop.
    let peak_rss_mb = proc_status_kib(pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0;
    let daemon_cpu_secs = proc_cpu(&format!("/proc/{pid}/stat"), tick).unwrap_or(0.0);
    let simulator_cpu_secs = self_cpu(tick) - self_cpu_before;
    let mut threads = ThreadCpu::default();
    threads.sample(pid, tick);
    if let Some(c) = archive.take() {
        let _ = c.close().await;
    }
    let asked = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    if !killed.success() {
        return fail(&mut child, "kill -TERM failed".into());
    }
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if asked.elapsed() > Duration::from_secs(30) {
            return fail(&mut child, "the daemon did not stop within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let stop_took = asked.elapsed();
    let stats = sim.stop().await;
    if !status.success() {
        return fail(&mut child, format!("the daemon exited with {status}"));
    }

    // Correctness: exactly what was sent, on one connection, ended by the shutdown.
    let mut db = SqliteConnectOptions::from_str(&url)
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
    if !wrong.is_empty() {
        return Err(wrong.join("; "));
    }
    Ok(Live {
        rate: sent as f64 / took.as_secs_f64(),
        mb_per_sec: stats.totals.bytes_sent as f64 / 1e6 / took.as_secs_f64(),
        took,
        first_event: first_event.unwrap_or(took),
        peak_rss_mb,
        rss,
        daemon_cpu_secs,
        simulator_cpu_secs,
        threads: threads.by_name(),
        stop_took,
    })
}

/// One integer from the archive.
async fn count(db: &mut SqliteConnection, sql: &str) -> Result<i64, String> {
    sqlx::query(sql)
        .fetch_one(db)
        .await
        .map(|r| r.get::<i64, _>(0))
        .map_err(|e| format!("{sql}: {e}"))
}

/// Events plus rejects archived so far: both ids are AUTOINCREMENT and rows are never removed
/// from those tables, so the maxima are the counts, read from the end of each b-tree. Zero
/// while the daemon has not created the archive yet.
async fn archived_so_far(db_file: &Path, archive: &mut Option<SqliteConnection>) -> u64 {
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

fn print_round(round: u32, r: &Replayed, l: &Live) {
    let after = l.took.as_secs_f64() * 0.1;
    let flat: Vec<f64> = l
        .rss
        .iter()
        .filter(|(t, _)| *t >= after)
        .map(|(_, mb)| *mb)
        .collect();
    let (lo, hi) = flat.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    println!("\n-- round {round} --");
    println!(
        "{:<28} {:>10} {:>8} {:>8} {:>7} {:>13}",
        "", "events/s", "MB/s", "wall s", "CPU s", "peak RSS MB"
    );
    println!(
        "{:<28} {:>10.0} {:>8.1} {:>8} {:>7} {:>13.1}",
        "replay (binary's figure)", r.own_rate, r.mb_per_sec, "", "", r.rss_mb
    );
    println!(
        "{:<28} {:>10.0} {:>8} {:>8.2} {:>7.2} {:>13}",
        "replay (process wall time)",
        r.wall_rate,
        "",
        r.wall.as_secs_f64(),
        r.cpu_secs,
        ""
    );
    println!(
        "{:<28} {:>10.0} {:>8.1} {:>8.2} {:>7.2} {:>13.1}",
        "live (spawn → all archived)",
        l.rate,
        l.mb_per_sec,
        l.took.as_secs_f64(),
        l.daemon_cpu_secs,
        l.peak_rss_mb
    );
    println!(
        "{:<28} {:>10} {:>8} {:>8} {:>7.2} {:>13}",
        "  simulator (this process)", "", "", "", l.simulator_cpu_secs, ""
    );
    let mark = |x: f64| if x >= 0.9 { "ok" } else { "BELOW GOAL" };
    let (own, wall) = (l.rate / r.own_rate, l.rate / r.wall_rate);
    println!(
        "ratio live/replay: {own:.2} vs the binary's figure ({}), {wall:.2} vs its wall time ({}); goal >= 0.90",
        mark(own),
        mark(wall)
    );
    println!(
        "live RSS after the first 10% ({} samples at 1 s): min {lo:.1} MB, max {hi:.1} MB; series: {}",
        flat.len(),
        l.rss
            .iter()
            .map(|(_, mb)| format!("{mb:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "live: first event archived {:.2} s after spawn; SIGTERM to exit {:.2} s",
        l.first_event.as_secs_f64(),
        l.stop_took.as_secs_f64()
    );
    println!("CPU s by thread   replay: {}", threads(&r.threads));
    println!("CPU s by thread   daemon: {}", threads(&l.threads));
}

fn threads(by_name: &BTreeMap<String, f64>) -> String {
    let mut v: Vec<_> = by_name.iter().filter(|(_, s)| **s >= 0.01).collect();
    v.sort_by(|a, b| b.1.total_cmp(a.1));
    v.iter()
        .map(|(n, s)| format!("{n} {s:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Clock ticks per second of `/proc/*/stat` times.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The fields of a `/proc/.../stat` line after the command name (field 3, the state, first).
fn stat_fields(path: &str) -> Option<Vec<u64>> {
    let text = std::fs::read_to_string(path).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    Some(
        rest.split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// utime + stime of a process or thread, in seconds.
fn proc_cpu(path: &str, tick: f64) -> Option<f64> {
    let f = stat_fields(path)?;
    Some((f.get(11)? + f.get(12)?) as f64 / tick)
}

/// This process's own CPU time (the simulator, plus the cheap polling).
fn self_cpu(tick: f64) -> f64 {
    proc_cpu("/proc/self/stat", tick).unwrap_or(0.0)
}

/// CPU time of this process's children that have been waited for (cutime + cstime).
fn children_cpu(tick: f64) -> f64 {
    stat_fields("/proc/self/stat")
        .and_then(|f| Some((f.get(13)? + f.get(14)?) as f64 / tick))
        .unwrap_or(0.0)
}

/// A `kB` line of `/proc/PID/status` (`VmRSS:`, `VmHWM:`).
fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The last CPU time seen of every thread of a process.
#[derive(Default)]
struct ThreadCpu {
    by_tid: HashMap<String, (String, f64)>,
}

impl ThreadCpu {
    fn sample(&mut self, pid: u32, tick: f64) {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return;
        };
        for task in tasks.flatten() {
            let dir = task.path();
            let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if let Some(cpu) = proc_cpu(&dir.join("stat").display().to_string(), tick) {
                let tid = task.file_name().to_string_lossy().into_owned();
                self.by_tid.insert(tid, (name.trim().to_owned(), cpu));
            }
        }
    }

    fn by_name(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (name, cpu) in self.by_tid.values() {
            *out.entry(name.clone()).or_insert(0.0) += cpu;
        }
        out
    }
}
