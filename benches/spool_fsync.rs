//! What each `spool.fsync` policy costs a spooling writer: 2,000 appends of a 5-record batch
//! (~1 KiB) into a spool in the current directory (so on the disk the archive would use), per
//! policy. Prints appends/s and records/s; `BENCH_APPENDS` changes the count.
//!
//! `cargo bench --bench spool_fsync` (run it from a directory on the archive's disk).

use chrono::Utc;
use std::time::Instant;
use streamvault::record::{Origin, reject};
use streamvault::spool::{FsyncPolicy, Spool, SpoolConfig, codec};

fn main() {
    let appends: usize = std::env::var("BENCH_APPENDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let origin = Origin {
        stream: "s".into(),
        connection_id: Some(7),
        received_at: Utc::now(),
    };
    let mut chunk = Vec::new();
    for i in 0..5 {
        let line = format!("line {i} {}", "x".repeat(200));
        codec::encode_into(&mut chunk, &reject(line.as_bytes(), &origin, &"r"));
    }
    for fsync in [FsyncPolicy::Always, FsyncPolicy::Batch, FsyncPolicy::Never] {
        let dir = tempfile::tempdir_in(".").expect("a temporary directory here");
        let config = SpoolConfig {
            fsync,
            ..SpoolConfig::new(dir.path())
        };
        let mut spool = Spool::open(config, Default::default()).expect("spool opens");
        let started = Instant::now();
        for _ in 0..appends {
            spool.append(&chunk, 5).expect("append");
        }
        let took = started.elapsed();
        println!(
            "fsync = {fsync:?}: {appends} appends of {} B in {took:.2?} ({:.0} appends/s, {:.0} records/s)",
            chunk.len(),
            appends as f64 / took.as_secs_f64(),
            (appends * 5) as f64 / took.as_secs_f64()
        );
    }
}
