//! Export rates: an archive of `EXPORT_POSTS` v1.1 statuses (default 1,000,000; a fifth of them
//! retweets and a tenth quotes, their originals embedded as the stream sends them, a tenth
//! located, every twentieth deleted, every fiftieth author protected), exported by the real
//! binary in each format. Prints rows/s and the export process's peak RSS (its `VmHWM`, which
//! must stay under 150 MB whatever the archive's size) per format and backend.
//!
//! `cargo bench --bench export` (SQLite in a temporary directory; PostgreSQL too when
//! `STREAMVAULT_BENCH_PG` names a database URL: a schema of its own is created and dropped).
//! `EXPORT_POSTS` changes the size; `EXPORT_FORMATS` (default `ids,jsonl,csv,parquet`) the
//! formats.

mod common;

use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use streamvault::pipeline::PipelineConfig;
use streamvault::replay::{self, ReplayOptions};
use streamvault::store::{self, Backend};
use streamvault::with_store;

/// The peak RSS a format may reach, whatever the archive's size.
const RSS_LIMIT_MB: f64 = 150.0;

fn user(id: u64) -> serde_json::Value {
    json!({"id": id, "id_str": id.to_string(), "screen_name": format!("user{id}"),
           "name": "A researcher's subject", "followers_count": id % 5000,
           "description": "archived for the export benchmark"})
}

fn status(id: u64) -> serde_json::Value {
    let author = id % 9973 + 1;
    let located = id % 10 == 3;
    json!({"id": id, "id_str": id.to_string(),
           "text": format!("status {id}: some words a researcher would analyse, #bench"),
           "created_at": "Wed Oct 10 20:19:24 +0000 2018", "lang": "en",
           "user": user(author), "retweet_count": id % 100, "favorite_count": id % 300,
           "coordinates": if located { json!({"type": "Point", "coordinates": [13.4, 52.5]}) }
                          else { json!(null) },
           "geo": null,
           "place": if located { json!({"id": "p", "full_name": "Berlin, Germany"}) }
                    else { json!(null) }})
}

/// Line `i` of the collection: a status, a retweet (ids from 10^12 on) or a quote.
fn line(id: u64) -> String {
    let mut s = status(id);
    match id % 10 {
        1 | 2 => s["retweeted_status"] = status(id + 1_000_000_000_000),
        5 => s["quoted_status"] = status(id + 2_000_000_000_000),
        _ => {}
    }
    s.to_string()
}

async fn archive(url: &str, dir: &Path, posts: u64) -> Backend {
    let backend = store::open(url).await.unwrap();
    backend.migrate().await.unwrap();
    let input = dir.join("posts.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for id in 1..=posts {
        writeln!(out, "{}", line(id)).unwrap();
        if id % 20 == 7 {
            let author = id % 9973 + 1;
            writeln!(
                out,
                r#"{{"delete":{{"status":{{"id":{id},"id_str":"{id}","user_id":{author},"user_id_str":"{author}"}}}}}}"#
            )
            .unwrap();
        }
    }
    for author in (1..=9973u64).filter(|a| a % 50 == 0) {
        writeln!(
            out,
            r#"{{"data":{{"user_protect":{{"user":{{"id":"{author}"}},"event_at":"2030-01-01T00:00:00.000Z"}}}}}}"#
        )
        .unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let options = ReplayOptions {
        inputs: vec![input.clone()],
        stream: "bench".into(),
        max_line_bytes: 65536,
        max_reject_bytes: 1 << 20,
        progress_bar: false,
    };
    let config = PipelineConfig {
        purge_within: Duration::from_secs(3600),
        ..PipelineConfig::default()
    };
    let started = Instant::now();
    with_store!(backend.clone(), s => replay::replay(s, config, options).await).unwrap();
    println!(
        "archived {posts} statuses in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    std::fs::remove_file(input).unwrap();
    backend
}

/// Waits for `child` and returns whether it succeeded and its peak RSS in MB: its own
/// `VmHWM` (the high-water mark of the memory it mapped after exec), read every 10 ms while it
/// runs. (`ru_maxrss` of a spawned child would also count the parent's memory, shared until
/// the exec.)
fn wait_peak_rss(child: &mut std::process::Child) -> (bool, f64) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Some(status) = child.try_wait().expect("wait for the export") {
            return (status.success(), peak_kib as f64 / 1024.0);
        }
        let hwm = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
        peak_kib = peak_kib.max(hwm.unwrap_or(0));
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn export(name: &str, url: &str, dir: &Path, format: &str) {
    let output = dir.join(format!("export.{format}"));
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamvault"))
        .args(["--database", url, "export", "--format", format, "--output"])
        .arg(&output)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run streamvault export");
    let (ok, rss_mb) = wait_peak_rss(&mut child);
    let secs = started.elapsed().as_secs_f64();
    assert!(ok, "export {format} failed");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}.manifest.json", output.display())).unwrap(),
    )
    .unwrap();
    let written = manifest["counts"]["written"].as_f64().unwrap_or(0.0);
    let bytes = manifest["bytes"].as_f64().unwrap_or(0.0);
    println!(
        "export {name} {format}: {written} rows in {secs:.2} s: {:.0} rows/s, {:.1} MB, \
         peak RSS {rss_mb:.1} MB; left out {}",
        written / secs,
        bytes / 1e6,
        manifest["counts"]["left_out"]
    );
    assert!(rss_mb < RSS_LIMIT_MB, "peak RSS {rss_mb:.1} MB");
    for suffix in ["", ".manifest.json", ".ids"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", output.display()));
    }
}

async fn bench(name: &str, url: &str, dir: &Path, posts: u64, formats: &[String]) {
    let backend = archive(url, dir, posts).await;
    backend.close().await;
    for format in formats {
        export(name, url, dir, format);
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let posts: u64 = common::env("EXPORT_POSTS", "1000000").parse().unwrap();
    let formats: Vec<String> = common::env("EXPORT_FORMATS", "ids,jsonl,csv,parquet")
        .split(',')
        .map(str::to_owned)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (_file, url) = common::fresh_sqlite(dir.path(), "export");
    bench("sqlite", &url, dir.path(), posts, &formats).await;
    if let Ok(pg) = std::env::var("STREAMVAULT_BENCH_PG") {
        let schema = format!("sv_bench_export_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&pg).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        let sep = if pg.contains('?') { '&' } else { '?' };
        let url = format!("{pg}{sep}options=-c%20search_path%3D{schema}");
        bench("postgres", &url, dir.path(), posts, &formats).await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
    }
}
