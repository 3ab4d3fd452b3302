//! The one interface every export format implements.

use crate::ExportRow;

/// Why writing an export failed. I/O is kept apart so that the command can say which file.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding the export: {0}")]
    Encode(String),
}

/// A format: fed rows in the export's order, then finished once.
///
/// `finish` flushes what the format buffers (a Parquet row group, a CSV writer's buffer) and
/// writes its footer; a sink dropped without `finish` leaves an incomplete file, which the
/// command removes.
pub trait Sink {
    /// Appends one row.
    fn write_row(&mut self, row: &ExportRow) -> Result<(), SinkError>;
    /// Flushes and closes the format; returns nothing the caller must write after it.
    fn finish(self: Box<Self>) -> Result<(), SinkError>;
}
