//! Replay throughput against a bare insert loop, on SQLite and PostgreSQL, and the cost of
//! compliance notices. Prints figures; asserts nothing (timing is not a test).
//!
//! `cargo bench --bench replay` — environment: `BENCH_EVENTS` (default 1,000,000),
//! `BENCH_DIR` (default `target/bench-data`), `BENCH_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`; `none` to skip PostgreSQL), `BENCH_COMPLIANCE`
//! (`0` to skip the notice comparison), `BENCH_ROUNDS` (default 4: replay and bare loop pairs,
//! each going first in half of them; medians printed), `BENCH_SETTLE_SECS` (default 15: idle time before each measured run),
//! `BENCH_BARE_CHUNK` (default 0: the bare loop decodes the whole stream before it starts the clock),
//! `BENCH_MIX` (`realistic`, or `quiet`: the replay/bare comparison on a stream without notices),
//! `BENCH_V2` (`0` to skip replaying the same content as X API v2 lines beside v1.1's).

#[path = "replay/bare.rs"]
mod bare;
mod common;
#[path = "replay/compliance.rs"]
mod compliance;
#[path = "replay/target.rs"]
mod target;
#[path = "replay/v2.rs"]
mod v2;

use bare::{BATCH, bare_insert, written_bytes};
use common::{env, median, stream};
use compliance::{compliance_cost, quiet_mix};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use streamvault::generate::Mix;
use streamvault::store::Checkpoints;
use target::Target;

fn main() {
    let events: u64 = env("BENCH_EVENTS", "1000000")
        .parse()
        .expect("BENCH_EVENTS");
    let dir = PathBuf::from(env("BENCH_DIR", "target/bench-data"));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = env("BENCH_PG", "postgres://postgres@127.0.0.1:5432/test");
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let rounds: usize = env("BENCH_ROUNDS", "4").parse().expect("BENCH_ROUNDS");

    // `quiet`: the same stream without notices, to tell what compliance adds to replay (the
    // bare loop applies none).
    let mix_name = env("BENCH_MIX", "realistic");
    let mix = match mix_name.as_str() {
        "realistic" => Mix::default(),
        "quiet" => quiet_mix(),
        other => panic!("BENCH_MIX: `realistic` or `quiet`, not `{other}`"),
    };
    let compared = stream(&dir, &mix_name, events, mix);
    println!(
        "\n== replay vs bare insert ({events} {mix_name} events, batch {BATCH}, {rounds} rounds, order alternating) =="
    );
    compare(&runtime, &compared, rounds, &pg, |_| {
        (Target::sqlite(&dir, "replay"), Target::sqlite(&dir, "bare"))
    });
    if pg != "none" {
        compare(&runtime, &compared, rounds, &pg, |rt| {
            (
                rt.block_on(Target::postgres(&pg, "replay")),
                rt.block_on(Target::postgres(&pg, "bare")),
            )
        });
    }

    if env("BENCH_V2", "1") != "0" {
        v1_1_and_v2(&runtime, &compared, &pg, &dir);
    }

    if env("BENCH_COMPLIANCE", "1") != "0" {
        compliance_cost(&runtime, &dir, events, &pg);
    }
}

/// Replay of the same content as v1.1 and as v2 lines (see `v2`), each once per backend on a
/// fresh archive, v1.1 first.
fn v1_1_and_v2(runtime: &tokio::runtime::Runtime, v11: &Path, pg: &str, dir: &Path) {
    let v2 = v2::converted(v11);
    let size = |p: &Path| std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1e9);
    println!(
        "\n== the same content as v1.1 and as v2 lines ({:.2} GB and {:.2} GB) ==",
        size(v11),
        size(&v2)
    );
    let mut targets = vec![
        ("v1.1", Target::sqlite(dir, "v11")),
        ("v2", Target::sqlite(dir, "v2")),
    ];
    if pg != "none" {
        targets.push(("v1.1", runtime.block_on(Target::postgres(pg, "v11"))));
        targets.push(("v2", runtime.block_on(Target::postgres(pg, "v2"))));
    }
    for (api, target) in targets {
        settle();
        let file = if api == "v2" { &v2 } else { v11 };
        let r = replay(&target.url, file);
        runtime.block_on(target.discard(pg));
        println!(
            "{:<10} {api:<4} replay {:>8.0} ev/s {:>6.1} MB/s peak RSS {:>6.1} MB",
            target.name, r.rate, r.mb_per_sec, r.rss_mb
        );
    }
}

struct Replayed {
    rate: f64,
    mb_per_sec: f64,
    rss_mb: f64,
    notices: u64,
    p50: Option<i64>,
    p99: Option<i64>,
    /// Bytes the run wrote to storage (SQLite: the archive's WAL and database files).
    written_gb: f64,
}

/// Runs the real binary, as a user would, and reads its JSON summary.
fn replay(url: &str, file: &Path) -> Replayed {
    let before = written_bytes(libc::RUSAGE_CHILDREN);
    let out = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["replay", "--json", "--database", url])
        .arg(file)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run streamvault");
    assert!(
        out.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Replayed {
        rate: s["events_per_sec"].as_f64().unwrap(),
        mb_per_sec: s["mb_per_sec"].as_f64().unwrap(),
        rss_mb: s["peak_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0,
        notices: s["notices_applied"].as_u64().unwrap_or(0),
        p50: s["notice_latency_ms_p50"].as_i64(),
        p99: s["notice_latency_ms_p99"].as_i64(),
        written_gb: (written_bytes(libc::RUSAGE_CHILDREN) - before) / 1e9,
    }
}

/// Replay and the bare loop on fresh targets, `rounds` times, alternating which goes first
/// (the machine is noisy: a single pair of runs can be off by a third either way, so use an
/// even number of rounds).
///
/// On SQLite the bare loop checkpoints the WAL as SQLite does by itself, inside its commits
/// (what the comparison is defined against: a loop that inserts and does nothing else), and runs
/// a second time with the store's checkpoint thread, which replay uses, so that the figures show
/// what that thread alone is worth.
/// Prints every round, then the medians and the ratio of the median rates.
fn compare(
    runtime: &tokio::runtime::Runtime,
    file: &Path,
    rounds: usize,
    admin: &str,
    fresh: impl Fn(&tokio::runtime::Runtime) -> (Target, Target),
) {
    if rounds == 0 {
        return; // only the streams were wanted (generated and cached)
    }
    let mut all = Rounds::default();
    let mut name = "";
    for round in 0..rounds {
        let (replay_target, bare_target) = fresh(runtime);
        name = replay_target.name;
        let (r, inline, background) =
            one_round(runtime, file, admin, round, &replay_target, &bare_target);
        let (bare_rate, bare_rows, bare_written) = inline;
        let threaded_text = match background {
            Some((rate, _, written_gb)) => {
                all.threaded.push(rate);
                all.threaded_ratios.push(r.rate / rate);
                format!(
                    " | bare + checkpoint thread {rate:>8.0} ev/s{} | ratio {:.2}",
                    written(written_gb),
                    r.rate / rate
                )
            }
            None => String::new(),
        };
        println!(
            "{:<10} round {} replay {:>8.0} ev/s {:>6.1} MB/s peak RSS {:>6.1} MB{} | bare insert {:>8.0} ev/s ({} events){} | ratio {:.2}{}",
            name,
            round + 1,
            r.rate,
            r.mb_per_sec,
            r.rss_mb,
            written(r.written_gb),
            bare_rate,
            bare_rows,
            written(bare_written),
            r.rate / bare_rate,
            threaded_text,
        );
        all.ratios.push(r.rate / bare_rate);
        all.replays.push(r.rate);
        all.bares.push(bare_rate);
        all.rss.push(r.rss_mb);
    }
    all.print_medians(name);
}

/// A bare loop's figures: events/s, events, GB written.
type Bare = (f64, u64, f64);

/// One round: replay and the bare loop (on SQLite a second time with the checkpoint thread),
/// replay first in even rounds; each run's archive is removed before the next starts.
fn one_round(
    runtime: &tokio::runtime::Runtime,
    file: &Path,
    admin: &str,
    round: usize,
    replay_target: &Target,
    bare_target: &Target,
) -> (Replayed, Bare, Option<Bare>) {
    let sqlite = bare_target.file.is_some();
    let bare = |checkpoints| {
        settle();
        let measured = runtime.block_on(bare_insert(&bare_target.url, file, checkpoints));
        runtime.block_on(bare_target.discard(admin));
        measured
    };
    let bares_now = || {
        let inline = bare(Checkpoints::Inline);
        let background = sqlite.then(|| bare(Checkpoints::default()));
        (inline, background)
    };
    let run_replay = || {
        settle();
        let r = replay(&replay_target.url, file);
        // Each run's archive is removed before the next run starts, so all start from the
        // same disk and page cache: with an earlier run's archive left in place, whichever
        // ran later was measured up to a third slower.
        runtime.block_on(replay_target.discard(admin));
        r
    };
    let (r, (inline, background)) = if round % 2 == 0 {
        let r = run_replay();
        (r, bares_now())
    } else {
        let b = bares_now();
        (run_replay(), b)
    };
    (r, inline, background)
}

/// The figures of every round, for the medians.
#[derive(Default)]
struct Rounds {
    ratios: Vec<f64>,
    replays: Vec<f64>,
    bares: Vec<f64>,
    rss: Vec<f64>,
    threaded: Vec<f64>,
    threaded_ratios: Vec<f64>,
}

impl Rounds {
    /// The medians and the ratio of the median rates.
    fn print_medians(&mut self, name: &str) {
        let Rounds {
            ratios,
            replays,
            bares,
            rss,
            threaded,
            threaded_ratios,
        } = self;
        println!(
            "{:<10} median: replay {:>8.0} ev/s | bare insert {:>8.0} ev/s | ratio of medians {:.2} | median ratio {:.2} (range {:.2}-{:.2}) | peak RSS max {:.1} MB",
            name,
            median(replays),
            median(bares),
            median(replays) / median(bares),
            median(&mut ratios.clone()),
            ratios.iter().copied().fold(f64::MAX, f64::min),
            ratios.iter().copied().fold(0.0, f64::max),
            rss.iter().copied().fold(0.0, f64::max),
        );
        if !threaded.is_empty() {
            println!(
                "{:<10} median: bare + checkpoint thread {:>8.0} ev/s | ratio of medians {:.2} | median ratio {:.2} (range {:.2}-{:.2})",
                name,
                median(threaded),
                median(replays) / median(threaded),
                median(&mut threaded_ratios.clone()),
                threaded_ratios.iter().copied().fold(f64::MAX, f64::min),
                threaded_ratios.iter().copied().fold(0.0, f64::max),
            );
        }
    }
}

/// ", wrote N GB" where the figure is known (SQLite; PostgreSQL's server does its own writing).
fn written(gb: f64) -> String {
    if gb > 0.0 {
        format!(", wrote {gb:.2} GB")
    } else {
        String::new()
    }
}

/// Starts a measurement with nothing left for the disk to write: the run before it wrote
/// gigabytes that the kernel flushes for seconds after it ends, and whichever run came second
/// paid for them (measured: the same bare loop at 37,000 ev/s second and 60,000 first).
fn settle() {
    let _ = Command::new("sync").status();
    let secs = env("BENCH_SETTLE_SECS", "15")
        .parse()
        .expect("BENCH_SETTLE_SECS");
    std::thread::sleep(Duration::from_secs(secs));
}
