//! The row group being built: one encoder per column, each writing its compressed pages to
//! memory, spliced into the file when the row group is complete.
//!
//! A Parquet file stores a row group column after column, but rows arrive one at a time. Rather
//! than keep a row group's values as they are (a few KB of `raw` per row), each column is
//! encoded and compressed as batches arrive, into its own buffer; closing the row group copies
//! the buffers into the file in column order (`SerializedRowGroupWriter::append_column`). The
//! memory a row group holds is its compressed size, which the sink bounds.

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use parquet::column::page::{CompressedPage, PageWriteSpec, PageWriter};
use parquet::column::writer::{ColumnCloseResult, ColumnWriter, get_column_writer};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterPropertiesPtr;
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::types::SchemaDescriptor;

/// One column chunk's encoded pages, shared between its encoder (which appends pages) and the
/// row group (which takes them when the chunk is closed).
type PageBuffer = Arc<Mutex<TrackedWrite<Vec<u8>>>>;

/// A [`PageWriter`] that serialises pages (header and data) into memory, at offsets counted
/// from the start of its own buffer; `append_column` moves them to their place in the file.
struct MemoryPages(PageBuffer);

impl PageWriter for MemoryPages {
    fn write_page(&mut self, page: CompressedPage) -> Result<PageWriteSpec, ParquetError> {
        let mut buffer = lock(&self.0)?;
        SerializedPageWriter::new(&mut buffer).write_page(page)
    }

    fn close(&mut self) -> Result<(), ParquetError> {
        lock(&self.0)?.flush()?;
        Ok(())
    }
}

fn lock(
    buffer: &PageBuffer,
) -> Result<std::sync::MutexGuard<'_, TrackedWrite<Vec<u8>>>, ParquetError> {
    buffer
        .lock()
        .map_err(|_| ParquetError::General("a column buffer was poisoned by a panic".into()))
}

/// The row group under construction.
pub struct RowGroup {
    writers: Vec<ColumnWriter<'static>>,
    buffers: Vec<PageBuffer>,
    rows: usize,
}

impl RowGroup {
    /// One encoder per leaf column, with the file's settings.
    pub fn new(schema: &SchemaDescriptor, props: &WriterPropertiesPtr) -> Self {
        let mut writers = Vec::with_capacity(schema.num_columns());
        let mut buffers = Vec::with_capacity(schema.num_columns());
        for column in schema.columns() {
            let buffer: PageBuffer = Arc::new(Mutex::new(TrackedWrite::new(Vec::new())));
            let pages = Box::new(MemoryPages(Arc::clone(&buffer)));
            writers.push(get_column_writer(column.clone(), props.clone(), pages));
            buffers.push(buffer);
        }
        Self {
            writers,
            buffers,
            rows: 0,
        }
    }

    /// The encoders, in schema order, for a batch to be written to.
    pub fn writers(&mut self) -> &mut [ColumnWriter<'static>] {
        &mut self.writers
    }

    /// Counts rows a batch added.
    pub fn add_rows(&mut self, rows: usize) {
        self.rows += rows;
    }

    /// Rows in the row group so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The compressed pages the row group holds in memory. Not counted, and bounded by the
    /// writer's page and dictionary size limits (1 MB each per column) rather than by the row
    /// group: each encoder's page in progress, and the dictionary columns' few small pages held
    /// back until their dictionary is written.
    pub fn memory_bytes(&self) -> usize {
        let bytes: u64 = self.writers.iter().map(pages_written).sum();
        usize::try_from(bytes).unwrap_or(usize::MAX)
    }

    /// Closes every column chunk and writes them, in order, as the file's next row group.
    pub fn write_to<W: Write + Send>(
        self,
        file: &mut SerializedFileWriter<W>,
    ) -> Result<(), ParquetError> {
        let mut group = file.next_row_group()?;
        for (writer, buffer) in self.writers.into_iter().zip(self.buffers) {
            let closed: ColumnCloseResult = writer.close()?;
            let pages = std::mem::replace(&mut *lock(&buffer)?, TrackedWrite::new(Vec::new()));
            let pages = Bytes::from(pages.into_inner()?);
            group.append_column(&pages, closed)?;
        }
        group.close()?;
        Ok(())
    }
}

/// The bytes of pages one column's encoder has written to its buffer (the schema has these
/// three physical types).
fn pages_written(writer: &ColumnWriter<'static>) -> u64 {
    match writer {
        ColumnWriter::Int64ColumnWriter(w) => w.get_total_bytes_written(),
        ColumnWriter::DoubleColumnWriter(w) => w.get_total_bytes_written(),
        ColumnWriter::ByteArrayColumnWriter(w) => w.get_total_bytes_written(),
        _ => 0,
    }
}
