//! The batch compliance sweep's rate: an archive of `SWEEP_POSTS` Posts (default 100,000)
//! swept against the simulator's jobs API, every tenth Post deleted by its verdict, in one job
//! (`chunk_ids` = the archive). Prints the sweep's ids/s end to end (export, upload, polls,
//! download, verdicts applied, ids marked verified) and checks that exactly the condemned Posts
//! are gone.
//!
//! `cargo bench --bench sweep` (SQLite in a temporary directory; PostgreSQL too when
//! `STREAMVAULT_BENCH_PG` names a database URL). `SWEEP_POSTS` changes the size.

mod common;

use std::time::{Duration, Instant};
use streamvault::pipeline::PipelineConfig;
use streamvault::replay::{self, ReplayOptions};
use streamvault::simulate::jobs::JobsSettings;
use streamvault::simulate::{Simulator, SimulatorConfig};
use streamvault::source::secrets::Secret;
use streamvault::store::{self, Backend};
use streamvault::sweep::{JobsApi, SweepOptions, sweep};
use streamvault::sweep_results::JobType;
use streamvault::with_store;

/// Every this-many-th Post id is condemned by the simulator.
const DELETE_EVERY: u64 = 10;

fn post(id: u64) -> String {
    serde_json::json!({
        "id": id, "id_str": id.to_string(), "text": format!("post {id} of the sweep benchmark"),
        "lang": "en", "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "user": {"id": id % 997 + 1, "id_str": (id % 997 + 1).to_string(), "screen_name": "u"},
        "coordinates": null, "geo": null, "place": null
    })
    .to_string()
}

async fn archive(url: &str, dir: &std::path::Path, posts: u64) -> Backend {
    let backend = store::open(url).await.unwrap();
    backend.migrate().await.unwrap();
    let input = dir.join("posts.jsonl");
    let mut text = String::with_capacity(posts as usize * 300);
    for id in 1..=posts {
        text.push_str(&post(id));
        text.push('\n');
    }
    std::fs::write(&input, text).unwrap();
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
    with_store!(backend.clone(), s => replay::replay(s, config, options).await).unwrap();
    std::fs::remove_file(input).unwrap();
    backend
}

async fn count(backend: &Backend, sql: &str) -> i64 {
    let table = streamvault::query::run(backend, sql).await.unwrap();
    table.rows[0][0].as_deref().unwrap_or("0").parse().unwrap()
}

async fn bench(name: &str, url: &str, dir: &std::path::Path, posts: u64) {
    let backend = archive(url, dir, posts).await;
    let sim = Simulator::start(SimulatorConfig {
        jobs: JobsSettings {
            delete_every: DELETE_EVERY,
            ..JobsSettings::default()
        },
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let api = JobsApi::new(&format!("http://{}", sim.addr()), Secret::new("bench")).unwrap();
    let options = SweepOptions {
        job_type: JobType::Tweets,
        since: None,
        chunk_ids: posts,
        max_attempts: 1,
        poll_max: Duration::from_secs(2),
        // Polls 20 ms apart: the simulator completes a job as soon as its ids are uploaded.
        scale: 0.01,
    };
    let started = Instant::now();
    let summary = with_store!(backend.clone(), s => sweep(&s, &api, &options).await).unwrap();
    let secs = started.elapsed().as_secs_f64();
    let condemned = (posts / DELETE_EVERY) as i64;
    assert_eq!(summary.verdicts_applied, condemned);
    let left = count(&backend, "SELECT COUNT(*) FROM tweets").await;
    assert_eq!(
        left,
        posts as i64 - condemned,
        "exactly the condemned Posts are erased"
    );
    println!(
        "sweep {name}: {posts} ids, {condemned} deletes applied, {:.2} s: {:.0} ids/s ({} job)",
        secs,
        posts as f64 / secs,
        sim.jobs().0
    );
    backend.close().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let posts: u64 = common::env("SWEEP_POSTS", "100000").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_file, url) = common::fresh_sqlite(dir.path(), "sweep");
    bench("sqlite", &url, dir.path(), posts).await;
    if let Ok(pg) = std::env::var("STREAMVAULT_BENCH_PG") {
        bench("postgres", &pg, dir.path(), posts).await;
    }
}
