//! Helpers both benchmarks use (`benches/replay.rs`, `benches/live.rs`): settings from the
//! environment, the generated input files they share, fresh SQLite archives, medians.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;
use streamvault::generate::{Mix, write_stream};

/// A setting from the environment, or its default.
pub fn env(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_owned())
}

/// Generates (once, cached by name and size) a stream file. The file is written under a name
/// of this process's own and renamed when complete, so two benchmarks started at once (or one
/// interrupted) never read half a file.
pub fn stream(dir: &Path, name: &str, events: u64, mix: Mix) -> PathBuf {
    let path = dir.join(format!("{name}-{events}.jsonl"));
    if !path.exists() {
        let started = Instant::now();
        let tmp = path.with_extension(format!("partial-{}", std::process::id()));
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

/// Removes an SQLite archive's files (database, WAL, shared memory), where present.
pub fn remove_sqlite_files(file: &Path) {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
    }
}

/// A fresh SQLite archive `TAG.db` in `dir`: its file and URL, its old files removed.
pub fn fresh_sqlite(dir: &Path, tag: &str) -> (PathBuf, String) {
    let file = dir.join(format!("{tag}.db"));
    remove_sqlite_files(&file);
    let url = format!("sqlite://{}", file.display());
    (file, url)
}

/// The median (the mean of the middle two for an even count); sorts `v`.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
