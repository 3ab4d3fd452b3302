//! The Parquet format: the typed columns (INT64 ids, UTC timestamps, UTF-8 strings, a list of
//! withheld countries) and `raw`, in row groups sized for analysis, in bounded memory.
//!
//! # Layout
//! - `schema`: the message type and the writer's settings (codec, dictionaries, statistics).
//! - `batch`: a few rows held column by column until they are encoded.
//! - `chunk`: the row group being built, its columns encoded and compressed in memory.
//!
//! Built on the `parquet` crate's low-level writer (no `arrow`), which compiles in a fraction of
//! the arrow writer's time for the same file (docs/export.md, Parquet).

mod batch;
mod chunk;
mod schema;

use std::io::Write;
use std::sync::{Arc, Mutex};

use parquet::errors::ParquetError;
use parquet::file::writer::SerializedFileWriter;

use crate::{ExportRow, Sink, SinkError};
use batch::Batch;
use chunk::RowGroup;

/// How many rows a row group holds at most: DuckDB and polars parallelise by row group and
/// skip row groups by their statistics, and about 100k rows is the size they work best with.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// How many bytes (encoded and compressed) a row group holds at most before it is written out.
/// The row group being built is held in memory, so this bounds the sink's memory whatever the
/// size of `raw`: with ~3 KB statuses a row group closes at this size, after ~100k rows; the
/// whole writer then peaks at ~75 MB RSS (docs/export.md, Parquet).
pub const ROW_GROUP_BYTES: usize = 32 << 20;

/// When buffered rows are encoded and when a row group is written out.
#[derive(Debug, Clone, Copy)]
struct Limits {
    group_rows: usize,
    group_bytes: usize,
    /// Rows per batch: enough that the encoders' per-call work is amortised.
    batch_rows: usize,
    /// Value bytes per batch, so that a run of large `raw` values is compressed as it comes
    /// instead of piling up uncompressed.
    batch_bytes: usize,
}

const LIMITS: Limits = Limits {
    group_rows: ROW_GROUP_ROWS,
    group_bytes: ROW_GROUP_BYTES,
    batch_rows: 1024,
    batch_bytes: 4 << 20,
};

/// Writes the export as one Parquet file.
///
/// Memory is bounded by one row group's compressed size ([`ROW_GROUP_BYTES`]) plus one batch of
/// rows (4 MB), whatever the number of rows or the size of `raw`: a row group is closed and
/// written when it reaches [`ROW_GROUP_ROWS`] rows or that many bytes, whichever comes first.
pub struct ParquetSink {
    file: SerializedFileWriter<IoTap>,
    batch: Batch,
    group: Option<RowGroup>,
    limits: Limits,
    /// The writer's first I/O error, which the parquet crate reports only as text.
    io_error: IoSlot,
}

type IoSlot = Arc<Mutex<Option<std::io::Error>>>;

/// The caller's writer, keeping its first error so that a full disk is reported as an I/O
/// error (with its kind) rather than as the parquet crate's message about it.
struct IoTap {
    inner: Box<dyn Write + Send>,
    error: IoSlot,
}

impl IoTap {
    fn keep(&self, error: std::io::Error) -> std::io::Error {
        if error.kind() == std::io::ErrorKind::Interrupted {
            return error; // retried by the writer above, not a failure
        }
        let copy = std::io::Error::new(error.kind(), error.to_string());
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(error);
        }
        copy
    }
}

impl Write for IoTap {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.keep(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().map_err(|e| self.keep(e))
    }
}

impl ParquetSink {
    /// Starts the file on `writer` (its magic bytes are written at once); the footer, which
    /// makes it readable, is written by [`Sink::finish`]. The writer is not buffered here: the
    /// file writer buffers what it writes.
    pub fn new(writer: Box<dyn Write + Send>) -> Result<Self, SinkError> {
        Self::with_limits(writer, LIMITS)
    }

    fn with_limits(writer: Box<dyn Write + Send>, limits: Limits) -> Result<Self, SinkError> {
        let io_error = IoSlot::default();
        let tap = IoTap {
            inner: writer,
            error: Arc::clone(&io_error),
        };
        let fail = |e| sink_error(&io_error, e);
        let schema = schema::schema().map_err(fail)?;
        let props = Arc::new(schema::properties().map_err(fail)?);
        let file = SerializedFileWriter::new(tap, schema, props).map_err(fail)?;
        Ok(Self {
            file,
            batch: Batch::default(),
            group: None,
            limits,
            io_error,
        })
    }

    /// Encodes the buffered rows into the row group, and writes the row group out once it is
    /// full.
    fn encode_batch(&mut self) -> Result<(), ParquetError> {
        if self.batch.rows() == 0 {
            return Ok(());
        }
        let group = match &mut self.group {
            Some(group) => group,
            None => self.group.insert(RowGroup::new(
                self.file.schema_descr(),
                self.file.properties(),
            )),
        };
        let rows = self.batch.rows();
        self.batch.encode_into(group.writers())?;
        group.add_rows(rows);
        if group.rows() >= self.limits.group_rows || group.memory_bytes() >= self.limits.group_bytes
        {
            self.write_group()?;
        }
        Ok(())
    }

    /// Writes the row group under construction, if any, to the file.
    fn write_group(&mut self) -> Result<(), ParquetError> {
        match self.group.take() {
            Some(group) => group.write_to(&mut self.file),
            None => Ok(()),
        }
    }
}

impl Sink for ParquetSink {
    fn write_row(&mut self, row: &ExportRow) -> Result<(), SinkError> {
        self.batch.push(row);
        let group_rows = self.group.as_ref().map_or(0, RowGroup::rows);
        let full = self.batch.rows() >= self.limits.batch_rows
            || self.batch.bytes() >= self.limits.batch_bytes
            || group_rows + self.batch.rows() >= self.limits.group_rows;
        if full {
            self.encode_batch()
                .map_err(|e| sink_error(&self.io_error, e))?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), SinkError> {
        let io_error = Arc::clone(&self.io_error);
        let fail = |e| sink_error(&io_error, e);
        self.encode_batch().map_err(fail)?;
        self.write_group().map_err(fail)?;
        let mut writer = self.file.into_inner().map_err(fail)?;
        writer.flush()?;
        Ok(())
    }
}

/// I/O failures stay I/O errors (the command names the file): the writer's own error where it
/// kept one, else one the parquet crate passed on; everything else is an encoding failure.
fn sink_error(io_error: &IoSlot, error: ParquetError) -> SinkError {
    if let Some(io) = io_error.lock().ok().and_then(|mut slot| slot.take()) {
        return SinkError::Io(io);
    }
    match error {
        ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(io) => SinkError::Io(*io),
            Err(other) => SinkError::Encode(other.to_string()),
        },
        other => SinkError::Encode(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
