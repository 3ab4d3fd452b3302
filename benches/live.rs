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
//! - The ratio live/replay is printed against both replay figures (goal: ≥ 0.95). CPU seconds of
//!   each process, of the simulator (this process), and of the daemon's and replay's threads by
//!   name show where the time goes when the ratio falls short (on a 2-core machine the
//!   simulator competes with the daemon for the cores; replay reads its file itself).
//!
//! - Both families, on the same content: the v1.1 file, and the same statuses as X API v2 lines
//!   (`benches/replay/v2.rs` converts it, as the replay benchmark does; notices stay as they
//!   are). The simulator serves the v2 file on `/2/tweets/sample/stream` and the daemon reads it
//!   as a `family = "v2"` stream; each round runs replay and live of v1.1, then of v2, and a
//!   last table puts the two families side by side.
//!
//! `cargo bench --bench live` — environment: `BENCH_EVENTS` (default 200,000), `BENCH_DIR`
//! (default `target/bench-data`; the generated file `realistic-N.jsonl` and its v2 form are
//! shared with `benches/replay.rs` and reused when present), `BENCH_ROUNDS` (default 1: replay
//! then live, repeated, each pair printing its ratio, since figures on a busy machine are
//! noisy), `BENCH_V2` (`0`: v1.1 only), `BENCH_SPOOL` (default `both`: each replay is
//! followed by a live run with the daemon's default spool and one with `[spool] enabled =
//! false`, each printing its ratio; `1` or `0`: only the one).
//!
//! `BENCH_ROUNDS` (default 1) and the order of the runs: replay first, then live, in each
//! round; ratios are taken within a round, so that a machine whose load changes between rounds
//! compares like with like.

mod common;
#[path = "live/daemon.rs"]
mod daemon;
#[path = "live/print.rs"]
mod print;
#[path = "live/procfs.rs"]
mod procfs;
#[path = "replay/v2.rs"]
mod v2;

use common::{env, fresh_sqlite, median, stream};
use daemon::{DaemonChild, check_archive, poll_until_archived};
use print::{print_families, print_round};
use procfs::{ThreadCpu, children_cpu, clock_ticks, proc_cpu, proc_status_kib, self_cpu};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use streamvault::generate::Mix;
use streamvault::simulate::{Scenario, Simulator, SimulatorConfig};

/// How often the archive is polled during the live run: the resolution of its end time.
const POLL: Duration = Duration::from_millis(200);
/// How often the daemon's resident set is sampled.
const RSS_EVERY: Duration = Duration::from_secs(1);
/// A live run whose archive has not grown for this long has failed.
const NO_PROGRESS: Duration = Duration::from_secs(120);
/// The two stream families, archiving the same content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V11,
    V2,
}

impl Api {
    /// How the figures name it.
    pub fn name(self) -> &'static str {
        match self {
            Api::V11 => "v1.1",
            Api::V2 => "v2",
        }
    }

    /// The daemon's `family`.
    pub fn family(self) -> &'static str {
        match self {
            Api::V11 => "ndjson",
            Api::V2 => "v2",
        }
    }

    /// The path the daemon's stream asks the simulator for.
    pub fn path(self) -> &'static str {
        match self {
            Api::V11 => "/1.1/statuses/sample.json",
            Api::V2 => "/2/tweets/sample/stream",
        }
    }
}

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
    let v11 = stream(&dir, "realistic", events, Mix::default());
    let mut apis = vec![(Api::V11, v11.clone())];
    if env("BENCH_V2", "1") != "0" {
        apis.push((Api::V2, v2::converted(&v11)));
    }
    let inputs: Vec<Input> = apis.iter().map(|(_, file)| Input::of(file)).collect();
    let tick = clock_ticks();
    let runtime = tokio::runtime::Runtime::new().unwrap();

    for ((api, _), input) in apis.iter().zip(&inputs) {
        println!(
            "\n== {}: live (simulator → HTTP → `streamvault run`) vs replay: {} lines, {:.1} MB, SQLite ==",
            api.name(),
            input.lines,
            input.bytes as f64 / 1e6
        );
    }
    let spools: &[bool] = match env("BENCH_SPOOL", "both").as_str() {
        "0" => &[false],
        "1" => &[true],
        _ => &[true, false],
    };
    let mut failures = Vec::new();
    let mut pairs: Vec<Pair> = Vec::new();
    for round in 1..=rounds.max(1) {
        for ((api, file), input) in apis.iter().zip(&inputs) {
            let what = format!("round {round}, {}", api.name());
            let replayed = match replay(&dir, file, input, tick) {
                Ok(r) => std::rc::Rc::new(r),
                Err(e) => {
                    failures.push(format!("{what}, replay: {e}"));
                    continue;
                }
            };
            for &spool in spools {
                let what = format!("{what}, {}", spool_name(spool));
                let live = match runtime.block_on(live(&dir, file, input, tick, *api, spool)) {
                    Ok(l) => l,
                    Err(e) => {
                        failures.push(format!("{what}, live: {e}"));
                        continue;
                    }
                };
                print_round(&what, &replayed, &live);
                pairs.push(Pair {
                    api: *api,
                    spool,
                    replayed: replayed.clone(),
                    live,
                });
            }
        }
    }
    print_medians(&apis, spools, &pairs);
    print_families(&pairs);
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            eprintln!("\n!!!!!!!! LIVE BENCHMARK FAILED: {f}");
        }
        ExitCode::FAILURE
    }
}

/// One live run and the replay of its round.
pub struct Pair {
    pub api: Api,
    /// Whether the daemon ran with its default spool.
    pub spool: bool,
    pub replayed: std::rc::Rc<Replayed>,
    pub live: Live,
}

/// How the figures name a live run's spool setting.
pub fn spool_name(spool: bool) -> &'static str {
    if spool { "spool" } else { "no spool" }
}

/// The median ratios of each family and spool setting over the rounds.
fn print_medians(apis: &[(Api, PathBuf)], spools: &[bool], pairs: &[Pair]) {
    for (api, _) in apis {
        for &spool in spools {
            let of: Vec<&Pair> = (pairs.iter())
                .filter(|p| p.api == *api && p.spool == spool)
                .collect();
            if of.len() < 2 {
                continue;
            }
            let ratio = |f: &dyn Fn(&Pair) -> f64| {
                let mut v: Vec<f64> = of.iter().map(|p| f(p)).collect();
                median(&mut v)
            };
            println!(
                "\n{}, {} over {} rounds: ratio live/replay median {:.2} (vs replay's own figure), {:.2} (vs its wall time); peak RSS median live {:.0} MB, replay {:.0} MB",
                api.name(),
                spool_name(spool),
                of.len(),
                ratio(&|p| p.live.rate / p.replayed.own_rate),
                ratio(&|p| p.live.rate / p.replayed.wall_rate),
                ratio(&|p| p.live.peak_rss_mb),
                ratio(&|p| p.replayed.rss_mb),
            );
        }
    }
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

/// One replay run's figures.
pub struct Replayed {
    /// The binary's own events/s (its pipeline's run, start-up excluded).
    pub own_rate: f64,
    /// Lines over the process's wall time.
    pub wall_rate: f64,
    pub mb_per_sec: f64,
    pub wall: Duration,
    pub rss_mb: f64,
    pub cpu_secs: f64,
    pub threads: BTreeMap<String, f64>,
}

/// Runs `streamvault replay --json` as a user would; its JSON summary and what `/proc` says.
fn replay(dir: &Path, file: &Path, input: &Input, tick: f64) -> Result<Replayed, String> {
    let (_, url) = fresh_sqlite(dir, "live-bench-replay");
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

/// One live run's figures.
pub struct Live {
    pub rate: f64,
    pub mb_per_sec: f64,
    /// Daemon spawn to everything archived.
    pub took: Duration,
    /// Daemon spawn to the first archived event.
    pub first_event: Duration,
    pub peak_rss_mb: f64,
    /// (seconds since spawn, VmRSS MB)
    pub rss: Vec<(f64, f64)>,
    pub daemon_cpu_secs: f64,
    pub simulator_cpu_secs: f64,
    pub threads: BTreeMap<String, f64>,
    pub stop_took: Duration,
}

/// The simulator in this process, the daemon as a child: see the module documentation.
async fn live(
    dir: &Path,
    file: &Path,
    input: &Input,
    tick: f64,
    api: Api,
    spool: bool,
) -> Result<Live, String> {
    let (db_file, url) = fresh_sqlite(dir, "live-bench-daemon");
    let sim = serve_unpaced(file).await?;
    let self_cpu_before = self_cpu(tick);
    let started = Instant::now();
    let mut daemon = DaemonChild::spawn(dir, &url, &sim, api, spool)?;
    let pid = daemon.child.id();
    let polled = match poll_until_archived(&mut daemon, &sim, &db_file, input, started).await {
        Ok(polled) => polled,
        Err(why) => return Err(daemon.fail(why)),
    };
    let took = polled.took;
    // Everything is archived: what the daemon used to get there, then the stop.
    let peak_rss_mb = proc_status_kib(pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0;
    let daemon_cpu_secs = proc_cpu(&format!("/proc/{pid}/stat"), tick).unwrap_or(0.0);
    let simulator_cpu_secs = self_cpu(tick) - self_cpu_before;
    let mut threads = ThreadCpu::default();
    threads.sample(pid, tick);
    let asked = Instant::now();
    let status = match daemon.stop(asked).await {
        Ok(status) => status,
        Err(why) => return Err(daemon.fail(why)),
    };
    let stop_took = asked.elapsed();
    let stats = sim.stop().await;
    if !status.success() {
        return Err(daemon.fail(format!("the daemon exited with {status}")));
    }
    check_archive(&url, input, &stats).await?;
    let sent = stats.totals.lines_sent;
    Ok(Live {
        rate: sent as f64 / took.as_secs_f64(),
        mb_per_sec: stats.totals.bytes_sent as f64 / 1e6 / took.as_secs_f64(),
        took,
        first_event: polled.first_event.unwrap_or(took),
        peak_rss_mb,
        rss: polled.rss,
        daemon_cpu_secs,
        simulator_cpu_secs,
        threads: threads.by_name(),
        stop_took,
    })
}

/// A simulator on loopback that serves `file` unpaced on one connection (on any path, v2 ones
/// included), then idles.
async fn serve_unpaced(file: &Path) -> Result<Simulator, String> {
    let scenario = Scenario::from_toml_str(&format!(
        "name = \"bench-live\"\nrate = 0.0\n\n[[connection]]\nsteps = [{{ file = {:?} }}, {{ idle = \"forever\" }}]\n",
        file.display().to_string()
    ))
    .map_err(|e| e.to_string())?;
    Simulator::start(SimulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        scenario,
        rate: 0.0,
        seed: 7,
        keepalive: Duration::from_secs(30),
        ..SimulatorConfig::default()
    })
    .await
    .map_err(|e| format!("the simulator does not start: {e}"))
}
