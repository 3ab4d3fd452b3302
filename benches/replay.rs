//! Replay throughput against a bare insert loop, on SQLite and PostgreSQL, and the cost of
//! compliance notices. Prints figures; asserts nothing (timing is not a test).
//!
//! `cargo bench --bench replay` — environment: `BENCH_EVENTS` (default 1,000,000),
//! `BENCH_DIR` (default `target/bench-data`), `BENCH_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`; `none` to skip PostgreSQL), `BENCH_COMPLIANCE`
//! (`0` to skip the notice comparison), `BENCH_ROUNDS` (default 4: replay and bare loop pairs,
//! each going first in half of them; medians printed), `BENCH_SETTLE_SECS` (default 15: idle time before each measured run),
//! `BENCH_BARE_CHUNK` (default 0: the bare loop decodes the whole stream before it starts the clock),
//! `BENCH_MIX` (`realistic`, or `quiet`: the replay/bare comparison on a stream without notices).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use streamvault::framing::{Line, LineSplitter};
use streamvault::generate::{Mix, write_stream};
use streamvault::record::{self, Origin};
use streamvault::store::{self, Backend, Batch, Checkpoints, SqliteStore};

const BATCH: usize = 1000;

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

    if env("BENCH_COMPLIANCE", "1") != "0" {
        let quiet = quiet_mix();
        let noisy = Mix {
            delete_pct: 5.0,
            scrub_geo_pct: 0.5,
            ..Mix::default()
        };
        let quiet_file = stream(&dir, "quiet", events, quiet);
        let noisy_file = stream(&dir, "notices", events, noisy);
        println!("\n== compliance cost: 5% deletes + 0.5% scrub_geo vs no notices ==");
        let mut targets = vec![(
            Target::sqlite(&dir, "quiet"),
            Target::sqlite(&dir, "notices"),
        )];
        if pg != "none" {
            targets.push((
                runtime.block_on(Target::postgres(&pg, "quiet")),
                runtime.block_on(Target::postgres(&pg, "notices")),
            ));
        }
        for (q, n) in &targets {
            let base = replay(&q.url, &quiet_file);
            let with = replay(&n.url, &noisy_file);
            heavy_users(&runtime, n);
            println!(
                "{:<10} no notices {:>8.0} ev/s | with notices {:>8.0} ev/s | ratio {:.2} | notices applied {} | latency p50 {} ms, p99 {} ms",
                q.name,
                base.rate,
                with.rate,
                with.rate / base.rate,
                with.notices,
                with.p50.map_or("-".into(), |v| v.to_string()),
                with.p99.map_or("-".into(), |v| v.to_string()),
            );
        }
        for (q, n) in targets {
            runtime.block_on(q.discard(&pg));
            runtime.block_on(n.discard(&pg));
        }
        heavy_scrubs(&runtime, &dir, &noisy_file, &pg);
    }
}

/// A user with 100,000 archived statuses (2% located), then the notice stream with 50 more
/// `scrub_geo` notices for that user woven in: the rate against the same stream without them.
fn heavy_scrubs(runtime: &tokio::runtime::Runtime, dir: &Path, stream_file: &Path, pg: &str) {
    const HEAVY_USER: i64 = 4242;
    const HEAVY: i64 = 100_000;
    const FIRST_ID: i64 = 1_400_000_000_000_000_000;
    let prefill = dir.join("heavy-user.jsonl");
    if !prefill.exists() {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&prefill).unwrap());
        let filler = "lorem ipsum dolor sit amet ".repeat(100);
        for i in 0..HEAVY {
            let id = FIRST_ID + i;
            let geo = if i % 50 == 0 {
                r#""coordinates":{"type":"Point","coordinates":[13.4,52.5]},"geo":{"type":"Point","coordinates":[52.5,13.4]},"place":{"id":"p","full_name":"Berlin"}"#
            } else {
                r#""coordinates":null,"geo":null,"place":null"#
            };
            std::io::Write::write_all(&mut out, format!(
                r#"{{"id":{id},"id_str":"{id}","created_at":"Wed Oct 10 20:19:24 +0000 2018","text":"status {i}","user":{{"id":{HEAVY_USER},"id_str":"{HEAVY_USER}","screen_name":"prolific","description":"{filler}"}},{geo},"lang":"en"}}"#
            ).as_bytes()).unwrap();
            std::io::Write::write_all(&mut out, b"\n").unwrap();
        }
    }
    let woven = dir.join("notices-with-heavy-scrubs.jsonl");
    if !woven.exists() {
        let text = std::fs::read_to_string(stream_file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let every = (lines.len() / 50).max(1);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&woven).unwrap());
        for (n, line) in lines.iter().enumerate() {
            if n % every == every / 2 {
                let up_to = FIRST_ID + HEAVY * (n / every + 1) as i64 / 50;
                std::io::Write::write_all(&mut out, format!(
                    r#"{{"scrub_geo":{{"user_id":{HEAVY_USER},"user_id_str":"{HEAVY_USER}","up_to_status_id":{up_to},"up_to_status_id_str":"{up_to}"}}}}"#
                ).as_bytes()).unwrap();
                std::io::Write::write_all(&mut out, b"\n").unwrap();
            }
            std::io::Write::write_all(&mut out, line.as_bytes()).unwrap();
            std::io::Write::write_all(&mut out, b"\n").unwrap();
        }
    }
    println!(
        "\n== scrub_geo for a user with {HEAVY} archived statuses (50 scrubs woven into the notice stream) =="
    );
    let mut pairs = vec![(
        Target::sqlite(dir, "heavy-base"),
        Target::sqlite(dir, "heavy-scrubs"),
    )];
    if pg != "none" {
        pairs.push((
            runtime.block_on(Target::postgres(pg, "heavy_base")),
            runtime.block_on(Target::postgres(pg, "heavy_scrubs")),
        ));
    }
    for (base, scrubbed) in &pairs {
        replay(&base.url, &prefill);
        replay(&scrubbed.url, &prefill);
        let without = replay(&base.url, stream_file);
        let with = replay(&scrubbed.url, &woven);
        println!(
            "{:<10} without {:>8.0} ev/s | with heavy scrubs {:>8.0} ev/s | ratio {:.2} | notice latency p50 {} ms, p99 {} ms",
            base.name,
            without.rate,
            with.rate,
            with.rate / without.rate,
            with.p50.map_or("-".into(), |v| v.to_string()),
            with.p99.map_or("-".into(), |v| v.to_string()),
        );
    }
    for (a, b) in pairs {
        runtime.block_on(a.discard(pg));
        runtime.block_on(b.discard(pg));
    }
}

/// The realistic stream without any notices.
fn quiet_mix() -> Mix {
    Mix {
        delete_pct: 0.0,
        scrub_geo_pct: 0.0,
        withheld_pct: 0.0,
        limit_pct: 0.0,
        ..Mix::default()
    }
}

fn env(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_owned())
}

/// Generates (once, cached by name and size) a stream file.
fn stream(dir: &Path, name: &str, events: u64, mix: Mix) -> PathBuf {
    let path = dir.join(format!("{name}-{events}.jsonl"));
    if !path.exists() {
        let started = Instant::now();
        let tmp = path.with_extension("partial");
        let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
        let generated = write_stream(file, 42, mix, events, false).unwrap();
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

struct Target {
    name: &'static str,
    url: String,
    schema: Option<String>,
    file: Option<PathBuf>,
}

fn remove_sqlite_files(file: &Path) {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
    }
}

impl Target {
    fn sqlite(dir: &Path, tag: &str) -> Target {
        let file = dir.join(format!("{tag}.db"));
        remove_sqlite_files(&file);
        Target {
            name: "sqlite",
            url: format!("sqlite://{}", file.display()),
            schema: None,
            file: Some(file),
        }
    }

    async fn postgres(admin: &str, tag: &str) -> Target {
        let schema = format!("sv_bench_{tag}");
        let pool = sqlx::PgPool::connect(admin)
            .await
            .expect("PostgreSQL for the benchmark (BENCH_PG=none to skip)");
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let sep = if admin.contains('?') { '&' } else { '?' };
        Target {
            name: "postgres",
            url: format!("{admin}{sep}options=-c%20search_path%3D{schema}"),
            schema: Some(schema),
            file: None,
        }
    }

    /// Removes the archive: the SQLite files, or the PostgreSQL schema.
    async fn discard(&self, admin: &str) {
        if let Some(file) = &self.file {
            remove_sqlite_files(file);
        }
        if let Some(schema) = &self.schema {
            let pool = sqlx::PgPool::connect(admin).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
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

/// Bytes written to storage so far by this process (`RUSAGE_SELF`) or by its finished children
/// (`RUSAGE_CHILDREN`): the kernel counts a page once, when it is first dirtied, so the figure is
/// what the run made the disk write, free of the machine's noise. PostgreSQL's writes are its
/// server's and not counted.
fn written_bytes(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    usage.ru_oublock as f64 * 512.0
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
    let (mut ratios, mut replays, mut bares, mut rss) = (vec![], vec![], vec![], vec![]);
    let (mut threaded, mut threaded_ratios) = (vec![], vec![]);
    let mut name = "";
    for round in 0..rounds {
        let (replay_target, bare_target) = fresh(runtime);
        name = replay_target.name;
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
        let (bare_rate, bare_rows, bare_written) = inline;
        let threaded_text = match background {
            Some((rate, _, written_gb)) => {
                threaded.push(rate);
                threaded_ratios.push(r.rate / rate);
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
        ratios.push(r.rate / bare_rate);
        replays.push(r.rate);
        bares.push(bare_rate);
        rss.push(r.rss_mb);
    }
    println!(
        "{:<10} median: replay {:>8.0} ev/s | bare insert {:>8.0} ev/s | ratio of medians {:.2} | median ratio {:.2} (range {:.2}-{:.2}) | peak RSS max {:.1} MB",
        name,
        median(&mut replays),
        median(&mut bares),
        median(&mut replays) / median(&mut bares),
        median(&mut ratios.clone()),
        ratios.iter().copied().fold(f64::MAX, f64::min),
        ratios.iter().copied().fold(0.0, f64::max),
        rss.iter().copied().fold(0.0, f64::max),
    );
    if !threaded.is_empty() {
        println!(
            "{:<10} median: bare + checkpoint thread {:>8.0} ev/s | ratio of medians {:.2} | median ratio {:.2} (range {:.2}-{:.2})",
            name,
            median(&mut threaded),
            median(&mut replays) / median(&mut threaded),
            median(&mut threaded_ratios.clone()),
            threaded_ratios.iter().copied().fold(f64::MAX, f64::min),
            threaded_ratios.iter().copied().fold(0.0, f64::max),
        );
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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The same rows, same schema, same batch size: the whole stream decoded first, outside the
/// clock, then inserted back to back under it, with nothing else done (no compliance, no
/// channel, no second thread, no input to read while inserting). `BENCH_BARE_CHUNK=N` decodes
/// and inserts N batches at a time instead, to bound the memory this takes (several GB per million
/// events); the pauses between chunks then give the disk time to catch up outside the clock.
async fn bare_insert(url: &str, file: &Path, checkpoints: Checkpoints) -> (f64, u64, f64) {
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite(SqliteStore::open_with(url, checkpoints).await.unwrap())
    } else {
        store::open(url).await.unwrap()
    };
    backend.migrate().await.unwrap();
    let stream: std::sync::Arc<str> = "replay".into();
    let mut decoder = record::Decoder::default();
    let mut timed = Duration::ZERO;
    let mut written = 0.0;
    let mut events = 0u64;
    let mut batch = Batch::default();
    let mut splitter = LineSplitter::new(1 << 20, 1 << 20);
    let mut input = std::fs::File::open(file).unwrap();
    let mut buf = vec![0u8; 1 << 18];
    let chunk: usize = env("BENCH_BARE_CHUNK", "0")
        .parse()
        .expect("BENCH_BARE_CHUNK");
    let chunk = if chunk == 0 { usize::MAX } else { chunk };
    let mut pending: Vec<Batch> = Vec::new();
    loop {
        let n = std::io::Read::read(&mut input, &mut buf).unwrap();
        // Stamped per read, as replay stamps them: a status seen again then really moves its
        // `last_seen_at`. With one constant time every such update would write what the row
        // already holds, which SQLite skips, and the baseline would leave out a real cost.
        let origin = Origin {
            stream: stream.clone(),
            connection_id: None,
            received_at: chrono::Utc::now(),
        };
        let mut emit = |line: Line<'_>| {
            if let Line::Complete(bytes) = line {
                if let Some(rec) = decoder.decode(bytes, &origin) {
                    batch.push(rec);
                    if batch.len() == BATCH {
                        pending.push(std::mem::take(&mut batch));
                    }
                }
            }
        };
        if n == 0 {
            splitter.finish(&mut emit);
        } else {
            splitter.push(&buf[..n], &mut emit);
        }
        if n == 0 && !batch.is_empty() {
            pending.push(std::mem::take(&mut batch));
        }
        if pending.len() >= chunk || (n == 0 && !pending.is_empty()) {
            // Inserted batches are freed after the clock stops, as replay frees them off the
            // writer's thread.
            let mut inserted = Vec::with_capacity(pending.len());
            let started = Instant::now();
            let written_before = written_bytes(libc::RUSAGE_SELF);
            for b in pending.drain(..) {
                events += b.events.len() as u64;
                let b = std::sync::Arc::new(b);
                match &backend {
                    Backend::Sqlite(s) => s.insert_only(&b).await.unwrap(),
                    Backend::Postgres(s) => s.insert_only(&b).await.unwrap(),
                }
                inserted.push(b);
            }
            timed += started.elapsed();
            written += written_bytes(libc::RUSAGE_SELF) - written_before;
            drop(inserted);
        }
        if n == 0 {
            break;
        }
    }
    backend.close().await;
    (events as f64 / timed.as_secs_f64(), events, written / 1e9)
}

/// How many archived statuses the most prolific users have (scrubs of them are the costly ones).
fn heavy_users(runtime: &tokio::runtime::Runtime, target: &Target) {
    let top = runtime.block_on(async {
        let backend = store::open(&target.url).await.unwrap();
        let t = streamvault::query::run(
            &backend,
            "SELECT user_id, COUNT(*) AS tweets FROM tweets GROUP BY user_id ORDER BY tweets DESC LIMIT 3",
        )
        .await
        .unwrap();
        backend.close().await;
        t
    });
    let counts: Vec<String> = top
        .rows
        .iter()
        .map(|r| r[1].clone().unwrap_or_default())
        .collect();
    println!(
        "{:<10} most prolific users' archived statuses: {}",
        target.name,
        counts.join(", ")
    );
}
