//! `streamvault replay`: recorded streams archived through the same pipeline as live input.
//!
//! Files (or `-` for stdin, `.gz` decompressed on the fly) are read on a blocking thread, split
//! into lines, parsed into records and sent into the [`Pipeline`]; the channel's bound keeps
//! memory flat whatever the input size.

use crate::pipeline::{BatchFeed, Chunk, Pipeline, PipelineConfig, WriterStats};
use chrono::Utc;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod progress;
mod tally;

use progress::Progress;
use streamvault_core::ingest::{Ingest, IngestCounts};
use streamvault_core::record::Origin;
use streamvault_store::Batch;
use streamvault_store::{Store, StoreError};
pub use tally::ImportTally;
use tokio::sync::mpsc;

/// What to replay and how.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Files to read in order; `-` is stdin.
    pub inputs: Vec<PathBuf>,
    /// Recorded as `stream` on every row.
    pub stream: String,
    pub max_line_bytes: usize,
    pub max_reject_bytes: usize,
    /// Draw a progress bar (on a terminal) instead of periodic log lines.
    pub progress_bar: bool,
}

/// Why a replay failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read {path}: {source}")]
    Input {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a replay read and stored.
#[derive(Debug, Clone, Default)]
pub struct ReplaySummary {
    pub files: usize,
    pub lines: u64,
    pub bytes: u64,
    pub keepalives: u64,
    pub rejects_read: u64,
    pub elapsed: Duration,
    pub writer: WriterStats,
    /// Peak resident memory of this process, in KiB (Linux), if known.
    pub peak_rss_kib: Option<u64>,
    /// Rejects by reason and the v2 `errors` entries recorded, as read.
    pub read: ImportTally,
}

impl ReplaySummary {
    /// Messages per second over the whole run.
    pub fn events_per_sec(&self) -> f64 {
        self.lines.saturating_sub(self.keepalives) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Input megabytes (10^6) per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

#[derive(Default)]
struct ReadCounters {
    lines: AtomicU64,
    bytes: AtomicU64,
    keepalives: AtomicU64,
    rejects: AtomicU64,
    /// Written by the reader thread only; read once it is done.
    tally: std::sync::Mutex<ImportTally>,
}

impl ReadCounters {
    /// Adds what one input read since `before`.
    fn add(&self, now: &IngestCounts, before: &IngestCounts) {
        self.lines
            .fetch_add(now.lines - before.lines, Ordering::Relaxed);
        self.bytes
            .fetch_add(now.bytes - before.bytes, Ordering::Relaxed);
        self.keepalives
            .fetch_add(now.keepalives - before.keepalives, Ordering::Relaxed);
        self.rejects
            .fetch_add(now.rejects - before.rejects, Ordering::Relaxed);
    }
}

/// Replays `options.inputs` into `store`.
pub async fn replay<S: Store>(
    store: S,
    config: PipelineConfig,
    options: ReplayOptions,
) -> Result<ReplaySummary, ReplayError> {
    let started = Instant::now();
    let (pipeline, feed) = Pipeline::start_with_feed(store, config);
    let counters = Arc::new(ReadCounters::default());
    let total_bytes = input_size(&options.inputs);
    let progress = Progress::start(options.progress_bar, total_bytes, counters.clone());
    let reader = {
        // Files are read as fast as the disk allows: the reader makes whole batches itself.
        // A pipe may pause for as long as its producer likes, so its lines go as they come,
        // through the pipeline's regrouping and its flush interval.
        let output = if options.inputs.iter().all(|p| is_file(p)) {
            Output::Batches(feed)
        } else {
            Output::Chunks(pipeline.sender(), feed)
        };
        let (counters, options) = (counters.clone(), options.clone());
        let (done, result) = tokio::sync::oneshot::channel();
        // A thread of its own rather than one from the blocking pool: it is marked as batch
        // work for its whole life, and the pool's threads also run the writer's transactions.
        std::thread::Builder::new()
            .name("replay-reader".into())
            .spawn(move || {
                crate::sched::mark_current_thread_batch();
                let _ = done.send(read_all(&options, &output, &counters));
            })
            .expect("spawn the replay reader thread");
        result
    };
    let read_result = reader.await.expect("replay reader thread panicked");
    let writer = pipeline.finish().await;
    progress.finish().await;
    read_result?;
    let writer = writer?;
    Ok(ReplaySummary {
        files: options.inputs.len(),
        lines: counters.lines.load(Ordering::Relaxed),
        bytes: counters.bytes.load(Ordering::Relaxed),
        keepalives: counters.keepalives.load(Ordering::Relaxed),
        rejects_read: counters.rejects.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        writer,
        peak_rss_kib: peak_rss_kib(),
        read: std::mem::take(&mut *counters.tally.lock().expect("tally lock")),
    })
}

/// Where the reader puts what it read. Either way the committed batches come back through the
/// feed, for the reader to free (see [`BatchFeed`]).
enum Output {
    /// Whole batches, made on the reader's thread.
    Batches(BatchFeed),
    /// A chunk per read, regrouped by the pipeline.
    Chunks(mpsc::Sender<Chunk>, BatchFeed),
}

impl Output {
    /// Hands over what `pending` holds: whole batches only, unless `end`; everything read so
    /// far for chunks. False once the pipeline is gone.
    fn send(&self, pending: &mut Chunk, batch: &mut Batch, end: bool) -> bool {
        match self {
            Output::Batches(feed) => {
                for record in pending.drain(..) {
                    batch.push(record);
                    if feed.is_full(batch) && !feed.blocking_send(std::mem::take(batch)) {
                        return false;
                    }
                }
                !end || feed.blocking_send(std::mem::take(batch))
            }
            Output::Chunks(sender, feed) => {
                feed.free_spent();
                let records = std::mem::take(pending);
                records.is_empty() || sender.blocking_send(records).is_ok()
            }
        }
    }
}

/// Whether `path` names a regular file (all of it readable now), `.gz` or not.
fn is_file(path: &Path) -> bool {
    path.as_os_str() != "-" && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Reads every input in turn on the calling thread.
fn read_all(
    options: &ReplayOptions,
    output: &Output,
    counters: &ReadCounters,
) -> Result<(), ReplayError> {
    let stream: Arc<str> = options.stream.as_str().into();
    let mut batch = Batch::default();
    let mut read = || {
        for path in &options.inputs {
            let name = path.display().to_string();
            let failed = |source| ReplayError::Input {
                path: name.clone(),
                source,
            };
            let input = open_input(path).map_err(failed)?;
            let finished =
                read_one(input, options, &stream, output, &mut batch, counters).map_err(failed)?;
            if !finished {
                return Ok(false); // the writer stopped; its error is reported by the pipeline
            }
            tracing::debug!(file = %name, "input read");
        }
        Ok(true)
    };
    let result = read();
    // What was read before an input failed is archived all the same.
    if !matches!(result, Ok(false)) {
        output.send(&mut Chunk::new(), &mut batch, true);
    }
    result.map(drop)
}

fn open_input(path: &Path) -> std::io::Result<Box<dyn Read + Send>> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(crate::input::InputFile::open(path)?)
    };
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 16, raw),
        )))
    } else {
        Ok(raw)
    }
}

/// Reads one input to its end; false if the pipeline closed early.
fn read_one(
    mut input: Box<dyn Read + Send>,
    options: &ReplayOptions,
    stream: &Arc<str>,
    output: &Output,
    batch: &mut Batch,
    counters: &ReadCounters,
) -> std::io::Result<bool> {
    // Collected files: a line that says when it was collected is archived as received then.
    let mut ingest = Ingest::for_import(options.max_line_bytes, options.max_reject_bytes);
    let mut buf = vec![0u8; 1 << 18];
    let mut chunk = Chunk::new();
    let mut reported = IngestCounts::default();
    // After every read: false once the pipeline is gone.
    let mut send = |chunk: &mut Chunk, batch: &mut Batch, now: IngestCounts| {
        counters.add(&now, &reported);
        counters.tally.lock().expect("tally lock").count(chunk);
        reported = now;
        output.send(chunk, batch, false)
    };
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        ingest.push(&buf[..n], &origin(stream), &mut chunk);
        if !send(&mut chunk, batch, ingest.counts()) {
            return Ok(false);
        }
    }
    ingest.finish(&origin(stream), &mut chunk);
    Ok(send(&mut chunk, batch, ingest.counts()))
}

/// Where replayed lines come from: no connection, received now.
fn origin(stream: &Arc<str>) -> Origin {
    Origin {
        stream: stream.clone(),
        connection_id: None,
        received_at: Utc::now(),
    }
}

/// Total size of the plain files among the inputs, for a progress bar with an end.
fn input_size(inputs: &[PathBuf]) -> Option<u64> {
    inputs
        .iter()
        .map(|p| {
            let plain = p.as_os_str() != "-" && p.extension().is_none_or(|e| e != "gz");
            plain
                .then(|| std::fs::metadata(p).ok().map(|m| m.len()))
                .flatten()
        })
        .sum()
}

/// Peak resident set size from `/proc/self/status` (`VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
