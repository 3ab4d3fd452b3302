//! `--format jsonl`: one message per line in its source shape, as twarc and its plugins read.
//!
//! The command hands this sink rows whose `raw` the [`crate::assemble`] step has already made
//! whole (embedded statuses restored, a v2 Post wrapped as `{"data", "includes"}`): the sink
//! only frames them. A `raw` holding a line break would break the framing; serialized JSON
//! never does, and such a row is refused rather than written torn.

use crate::{ExportRow, Sink, SinkError};
use std::io::Write;

/// Writes each row's message and a line feed.
pub struct JsonlSink {
    out: Box<dyn Write + Send>,
}

impl JsonlSink {
    /// A sink writing to `out` (buffered by the caller).
    pub fn new(out: Box<dyn Write + Send>) -> JsonlSink {
        JsonlSink { out }
    }
}

impl Sink for JsonlSink {
    fn write_row(&mut self, row: &ExportRow) -> Result<(), SinkError> {
        if row.raw.contains(['\n', '\r']) {
            return Err(SinkError::Encode(format!(
                "status {} is not one line of JSON",
                row.tweet_id
            )));
        }
        self.out.write_all(row.raw.as_bytes())?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), SinkError> {
        self.out.flush()?;
        Ok(())
    }
}
