//! `--format ids`: one status id per line, the form datasets are shared in ("dehydrated"),
//! which others hydrate through the platform's API, so that what was deleted since stays gone.

use crate::{ExportRow, Sink, SinkError};
use std::io::Write;

/// Writes each row's id and a line feed.
pub struct IdsSink {
    out: Box<dyn Write + Send>,
}

impl IdsSink {
    /// A sink writing to `out` (buffered by the caller).
    pub fn new(out: Box<dyn Write + Send>) -> IdsSink {
        IdsSink { out }
    }
}

impl Sink for IdsSink {
    fn write_row(&mut self, row: &ExportRow) -> Result<(), SinkError> {
        writeln!(self.out, "{}", row.tweet_id)?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), SinkError> {
        self.out.flush()?;
        Ok(())
    }
}
