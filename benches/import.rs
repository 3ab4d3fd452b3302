//! Importing a collection: the rate of v2 response pages (Posts/s), as twarc2 writes them from
//! search, against replaying the same Posts as v1.1 statuses, into fresh SQLite archives. Prints
//! figures; asserts nothing (timing is not a test).
//!
//! `cargo bench --bench import` — environment: `BENCH_POSTS` (default 100,000: generated
//! statuses, retweets and quotes, no notices), `BENCH_PAGE` (default 100 Posts per page, the
//! search API's largest recent page), `BENCH_ROUNDS` (default 3: each pair alternating which
//! goes first; medians printed), `BENCH_DIR` (default `target/bench-data`).

mod common;
#[path = "replay/v2.rs"]
mod v2;

use common::{env, fresh_sqlite, median, remove_sqlite_files, stream};
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use streamvault::generate::Mix;
use streamvault::pipeline::PipelineConfig;
use streamvault::replay::{ReplayOptions, replay};
use streamvault::store::{SqliteStore, Store};

fn main() {
    let posts: u64 = env("BENCH_POSTS", "100000").parse().expect("BENCH_POSTS");
    let page: usize = env("BENCH_PAGE", "100").parse().expect("BENCH_PAGE");
    let rounds: usize = env("BENCH_ROUNDS", "3").parse().expect("BENCH_ROUNDS");
    let dir = PathBuf::from(env("BENCH_DIR", "target/bench-data"));
    std::fs::create_dir_all(&dir).unwrap();
    let mix = Mix {
        delete_pct: 0.0,
        scrub_geo_pct: 0.0,
        withheld_pct: 0.0,
        limit_pct: 0.0,
        ..Mix::default()
    };
    let generated = stream(&dir, "import-source", posts, mix);
    let v11 = statuses_only(&generated, &dir.join(format!("import-v11-{posts}.jsonl")));
    let pages = paged(
        &v2::converted(&v11),
        &dir.join(format!("import-pages-{posts}-{page}.jsonl")),
        page,
    );
    let count = line_count(&v11);
    let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64 / 1e6;
    println!(
        "\n== import: {count} Posts as v1.1 statuses ({:.1} MB) and as v2 pages of {page} ({:.1} MB), {rounds} rounds ==",
        size(&v11),
        size(&pages)
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut v11_rates, mut page_rates) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut pair = [("v1.1", &v11), ("pages", &pages)];
        if round % 2 == 1 {
            pair.reverse();
        }
        for (name, file) in pair {
            let (posts_read, secs) = runtime.block_on(import_once(&dir, name, file));
            let rate = posts_read as f64 / secs;
            println!(
                "  round {round}: {name:>5}: {posts_read} Posts in {secs:.2} s, {rate:.0} Posts/s"
            );
            if name == "v1.1" {
                v11_rates.push(rate);
            } else {
                page_rates.push(rate);
            }
        }
    }
    let (v11_rate, page_rate) = (median(&mut v11_rates), median(&mut page_rates));
    println!(
        "median: v1.1 {v11_rate:.0} Posts/s, v2 pages {page_rate:.0} Posts/s: pages at {:.2} of v1.1",
        page_rate / v11_rate
    );
}

/// Imports `file` into a fresh archive: the top-level Posts it archived and the seconds taken.
async fn import_once(dir: &Path, tag: &str, file: &Path) -> (u64, f64) {
    let (db, url) = fresh_sqlite(dir, &format!("import-{tag}"));
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    let options = ReplayOptions {
        inputs: vec![file.to_path_buf()],
        stream: "bench".into(),
        max_line_bytes: 16 << 20,
        max_reject_bytes: 1 << 20,
        progress_bar: false,
    };
    let started = Instant::now();
    let summary = replay(store.clone(), PipelineConfig::default(), options)
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    store.close().await;
    remove_sqlite_files(&db);
    assert_eq!(summary.writer.rejects, 0, "{tag}: every line archived");
    (
        summary.writer.posts.new + summary.writer.posts.seen_again,
        secs,
    )
}

/// The statuses of a generated stream (notices and stream messages left out), cached.
fn statuses_only(generated: &Path, out: &Path) -> PathBuf {
    if !out.exists() {
        let tmp = out.with_extension(format!("partial-{}", std::process::id()));
        let mut w = BufWriter::new(std::fs::File::create(&tmp).unwrap());
        for line in std::io::BufReader::new(std::fs::File::open(generated).unwrap()).lines() {
            let line = line.unwrap();
            if line.contains("\"id_str\"") && line.starts_with("{\"created_at\"") {
                writeln!(w, "{line}").unwrap();
            }
        }
        w.flush().unwrap();
        drop(w);
        std::fs::rename(&tmp, out).unwrap();
    }
    out.to_path_buf()
}

/// v2 stream lines grouped into response pages of `size` Posts, as twarc2 writes search results:
/// the page's includes merged (each object once), `meta`, `__twarc`. Cached.
fn paged(lines: &Path, out: &Path, size: usize) -> PathBuf {
    if out.exists() {
        return out.to_path_buf();
    }
    let tmp = out.with_extension(format!("partial-{}", std::process::id()));
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
    let mut data = Vec::new();
    let mut includes: Map<String, Value> = Map::new();
    let mut seen = std::collections::HashSet::new();
    let flush = |data: &mut Vec<Value>, includes: &mut Map<String, Value>, w: &mut BufWriter<_>| {
        if data.is_empty() {
            return;
        }
        let page = json!({"data": std::mem::take(data), "includes": std::mem::take(includes),
            "meta": {"result_count": size}, "__twarc": {"url": "https://api.twitter.com/2/tweets/search/all",
            "version": "2.14.0", "retrieved_at": "2023-01-01T00:00:00+00:00"}});
        serde_json::to_writer(&mut *w, &page).unwrap();
        w.write_all(b"\n").unwrap();
    };
    for line in std::io::BufReader::new(std::fs::File::open(lines).unwrap()).lines() {
        let mut line: Value = serde_json::from_str(&line.unwrap()).unwrap();
        data.push(line["data"].take());
        if let Some(Value::Object(inc)) = line.get_mut("includes").map(Value::take) {
            for (kind, items) in inc {
                let list = includes.entry(kind.clone()).or_insert_with(|| json!([]));
                for item in items.as_array().into_iter().flatten() {
                    let key = format!("{kind}/{}", item["id"]);
                    if seen.insert(key) {
                        list.as_array_mut().unwrap().push(item.clone());
                    }
                }
            }
        }
        if data.len() == size {
            flush(&mut data, &mut includes, &mut w);
            seen.clear();
        }
    }
    flush(&mut data, &mut includes, &mut w);
    w.flush().unwrap();
    drop(w);
    std::fs::rename(&tmp, out).unwrap();
    out.to_path_buf()
}

fn line_count(file: &Path) -> usize {
    std::io::BufReader::new(std::fs::File::open(file).unwrap())
        .lines()
        .count()
}
