//! The lines of a recorded stream for a `file` step, read on a blocking thread (gzip included)
//! and handed over in large batches, so that an unpaced replay runs at socket speed.

use super::body::{BodyWriter, End};
use super::pace::Pacer;
use super::registry::Tally;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Size of a batch read ahead, and of the reader's buffer.
const BATCH_BYTES: usize = 256 * 1024;
/// Most bytes handed to hyper per chunk.
const CHUNK_BYTES: usize = 256 * 1024;

/// A `file` step on an ndjson or v2 stream: the file's lines as they are, paced like generated
/// events (as fast as the client reads when unpaced), keep-alives after `keepalive` of silence.
pub(crate) async fn serve(
    path: &Path,
    writer: &mut BodyWriter,
    pacer: &mut Pacer,
    keepalive: Duration,
) -> Result<(), End> {
    let mut file = LineFile::open(path);
    pacer.restart();
    loop {
        let due = loop {
            let due = pacer.due(Instant::now());
            if due > 0 {
                break due;
            }
            writer.pause(Some(pacer.next_due), Some(keepalive)).await?;
        };
        let mut out = Vec::new();
        let mut tally = Tally::default();
        let more = file
            .take(due, CHUNK_BYTES, &mut out, &mut tally)
            .await
            .map_err(|e| End::Error(e.to_string()))?;
        if !out.is_empty() {
            writer.offer(out, &tally).await?;
        }
        pacer.consumed(tally.lines);
        if !more {
            return Ok(());
        }
    }
}

/// Lines already framed with `\r\n`, and where each ends.
struct Batch {
    data: Vec<u8>,
    /// End offset (past the terminator) of each line, and whether it is blank.
    ends: Vec<(usize, bool)>,
}

/// The lines of one file, read ahead by a blocking task.
pub(crate) struct LineFile {
    rx: mpsc::Receiver<io::Result<Batch>>,
    current: Option<Batch>,
    /// Next line of `current` to hand out, and the offset where it starts.
    line: usize,
    offset: usize,
}

impl LineFile {
    /// Starts reading `path` (`.gz`: decompressed) on the blocking pool; errors arrive through
    /// [`LineFile::take`].
    pub fn open(path: &Path) -> LineFile {
        let (tx, rx) = mpsc::channel(2);
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = read_batches(&path, &tx) {
                let context = format!("reading {}: {e}", path.display());
                let _ = tx.blocking_send(Err(io::Error::new(e.kind(), context)));
            }
        });
        LineFile {
            rx,
            current: None,
            line: 0,
            offset: 0,
        }
    }

    /// Appends to `out` up to `max_events` non-blank lines (blank lines ride along as
    /// keep-alives) or about `max_bytes`, counting them in `tally`. `Ok(false)`: the file is done.
    pub async fn take(
        &mut self,
        max_events: u64,
        max_bytes: usize,
        out: &mut Vec<u8>,
        tally: &mut Tally,
    ) -> io::Result<bool> {
        let mut events = 0;
        while events < max_events && out.len() < max_bytes {
            let batch = match &self.current {
                Some(batch) if self.line < batch.ends.len() => batch,
                _ => match self.rx.recv().await {
                    Some(batch) => {
                        self.current = Some(batch?);
                        self.line = 0;
                        self.offset = 0;
                        continue;
                    }
                    None => return Ok(false),
                },
            };
            let (end, blank) = batch.ends[self.line];
            out.extend_from_slice(&batch.data[self.offset..end]);
            self.line += 1;
            self.offset = end;
            if blank {
                tally.keepalive();
            } else {
                tally.line("file");
                events += 1;
            }
        }
        Ok(true)
    }
}

/// Reads the file line by line into batches until it ends or nobody listens any more.
fn read_batches(path: &PathBuf, tx: &mpsc::Sender<io::Result<Batch>>) -> io::Result<()> {
    let file = File::open(path)?;
    let raw: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut reader = BufReader::with_capacity(BATCH_BYTES, raw);
    let mut line = Vec::new();
    let mut batch = new_batch();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let mut content = line.as_slice();
        content = content.strip_suffix(b"\n").unwrap_or(content);
        content = content.strip_suffix(b"\r").unwrap_or(content);
        batch.data.extend_from_slice(content);
        batch.data.extend_from_slice(b"\r\n");
        batch.ends.push((batch.data.len(), content.is_empty()));
        if batch.data.len() >= BATCH_BYTES {
            let full = std::mem::replace(&mut batch, new_batch());
            if tx.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.ends.is_empty() {
        let _ = tx.blocking_send(Ok(batch));
    }
    Ok(())
}

fn new_batch() -> Batch {
    Batch {
        data: Vec::with_capacity(BATCH_BYTES + 16 * 1024),
        ends: Vec::new(),
    }
}
