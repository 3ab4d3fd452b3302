//! The baseline: a bare insert loop over the same rows, schema and batch size as replay, with
//! nothing else done, and the bytes each run made the disk write.

use crate::common::env;
use std::path::Path;
use std::time::{Duration, Instant};
use streamvault::framing::{Line, LineSplitter};
use streamvault::record::{self, Origin};
use streamvault::store::{self, Backend, Batch, Checkpoints, SqliteStore};

/// Records per batch, as replay commits them.
pub const BATCH: usize = 1000;

/// Bytes written to storage so far by this process (`RUSAGE_SELF`) or by its finished children
/// (`RUSAGE_CHILDREN`): the kernel counts a page once, when it is first dirtied, so the figure is
/// what the run made the disk write, free of the machine's noise. PostgreSQL's writes are its
/// server's and not counted.
pub fn written_bytes(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    usage.ru_oublock as f64 * 512.0
}

/// The same rows, same schema, same batch size: the whole stream decoded first, outside the
/// clock, then inserted back to back under it, with nothing else done (no compliance, no
/// channel, no second thread, no input to read while inserting). `BENCH_BARE_CHUNK=N` decodes
/// and inserts N batches at a time instead, to bound the memory this takes (several GB per million
/// events); the pauses between chunks then give the disk time to catch up outside the clock.
pub async fn bare_insert(url: &str, file: &Path, checkpoints: Checkpoints) -> (f64, u64, f64) {
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
