//! A few rows held column by column, the unit the sink hands to the column encoders.

use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;

use crate::ExportRow;

/// The values of one leaf column, in the physical type the schema gives it.
#[derive(Debug)]
enum Values {
    Int64(Vec<i64>),
    Double(Vec<f64>),
    Bytes(Vec<ByteArray>),
}

/// One leaf column of the batch: its non-null values and the levels that place them.
///
/// Definition levels say which rows have a value (1) or are null / an empty list (0);
/// repetition levels, kept for the list column only, say where a new row's list starts (0).
#[derive(Debug)]
struct Column {
    values: Values,
    defs: Vec<i16>,
    reps: Option<Vec<i16>>,
}

impl Column {
    fn new(values: Values) -> Self {
        Self {
            values,
            defs: Vec::new(),
            reps: None,
        }
    }

    fn list(values: Values) -> Self {
        Self {
            values,
            defs: Vec::new(),
            reps: Some(Vec::new()),
        }
    }

    fn clear(&mut self) {
        match &mut self.values {
            Values::Int64(v) => v.clear(),
            Values::Double(v) => v.clear(),
            Values::Bytes(v) => v.clear(),
        }
        self.defs.clear();
        if let Some(reps) = &mut self.reps {
            reps.clear();
        }
    }
}

/// Rows buffered column by column in schema order (schema.rs `MESSAGE_TYPE`).
#[derive(Debug)]
pub struct Batch {
    columns: Vec<Column>,
    rows: usize,
    bytes: usize,
}

/// The physical kind of each leaf, in schema order.
const LAYOUT: [Kind; 21] = {
    use Kind::*;
    [
        I, I, I, S, S, S, I, I, I, S, D, D, L, I, I, I, I, S, S, I, S,
    ]
};

#[derive(Clone, Copy)]
enum Kind {
    I,
    D,
    S,
    L,
}

impl Default for Batch {
    fn default() -> Self {
        let columns = LAYOUT
            .iter()
            .map(|kind| match kind {
                Kind::I => Column::new(Values::Int64(Vec::new())),
                Kind::D => Column::new(Values::Double(Vec::new())),
                Kind::S => Column::new(Values::Bytes(Vec::new())),
                Kind::L => Column::list(Values::Bytes(Vec::new())),
            })
            .collect();
        Self {
            columns,
            rows: 0,
            bytes: 0,
        }
    }
}

impl Batch {
    /// Rows buffered.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes of values buffered (strings by length, numbers by 8).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends one row, each field to its column.
    pub fn push(&mut self, row: &ExportRow) {
        let micros = |t: chrono::DateTime<chrono::Utc>| t.timestamp_micros();
        self.int(0, Some(row.tweet_id));
        self.int(1, row.created_at.map(micros));
        self.int(2, row.user_id);
        self.string(3, row.screen_name.as_deref());
        self.string(4, row.text.as_deref());
        self.string(5, row.lang.as_deref());
        self.int(6, row.in_reply_to_status_id);
        self.int(7, row.retweeted_status_id);
        self.int(8, row.quoted_status_id);
        self.string(9, row.place.as_deref());
        self.double(10, row.longitude);
        self.double(11, row.latitude);
        self.list(12, &row.withheld_in_countries);
        self.int(13, row.retweet_count);
        self.int(14, row.like_count);
        self.int(15, row.reply_count);
        self.int(16, row.quote_count);
        self.string(17, Some(&row.api));
        self.string(18, Some(&row.stream));
        self.int(19, Some(micros(row.first_seen_at)));
        self.string(20, Some(&row.raw));
        self.rows += 1;
    }

    fn int(&mut self, at: usize, value: Option<i64>) {
        let column = &mut self.columns[at];
        if let (Values::Int64(values), Some(v)) = (&mut column.values, value) {
            values.push(v);
            self.bytes += 8;
        }
        column.defs.push(i16::from(value.is_some()));
    }

    fn double(&mut self, at: usize, value: Option<f64>) {
        let column = &mut self.columns[at];
        if let (Values::Double(values), Some(v)) = (&mut column.values, value) {
            values.push(v);
            self.bytes += 8;
        }
        column.defs.push(i16::from(value.is_some()));
    }

    fn string(&mut self, at: usize, value: Option<&str>) {
        let column = &mut self.columns[at];
        if let (Values::Bytes(values), Some(v)) = (&mut column.values, value) {
            values.push(ByteArray::from(v));
            self.bytes += v.len() + 4;
        }
        column.defs.push(i16::from(value.is_some()));
    }

    /// A list row: one level pair per element (the first with repetition 0), or a single
    /// (0, 0) for an empty list.
    fn list(&mut self, at: usize, items: &[String]) {
        let column = &mut self.columns[at];
        let (Values::Bytes(values), Some(reps)) = (&mut column.values, &mut column.reps) else {
            return;
        };
        if items.is_empty() {
            column.defs.push(0);
            reps.push(0);
        }
        for (i, item) in items.iter().enumerate() {
            values.push(ByteArray::from(item.as_str()));
            column.defs.push(1);
            reps.push(i16::from(i > 0));
            self.bytes += item.len() + 4;
        }
    }

    /// Hands every column to its encoder (in the same schema order) and empties the batch.
    pub fn encode_into(
        &mut self,
        writers: &mut [ColumnWriter<'static>],
    ) -> Result<(), ParquetError> {
        if writers.len() != self.columns.len() {
            return Err(ParquetError::General(format!(
                "{} column writers for {} columns",
                writers.len(),
                self.columns.len()
            )));
        }
        for (column, writer) in self.columns.iter_mut().zip(writers.iter_mut()) {
            write_column(column, writer)?;
            column.clear();
        }
        self.rows = 0;
        self.bytes = 0;
        Ok(())
    }
}

/// Writes one column's values and levels to an encoder of the matching physical type.
fn write_column(column: &Column, writer: &mut ColumnWriter<'static>) -> Result<(), ParquetError> {
    let defs = Some(column.defs.as_slice());
    let reps = column.reps.as_deref();
    match (&column.values, writer) {
        (Values::Int64(v), ColumnWriter::Int64ColumnWriter(w)) => w.write_batch(v, defs, reps),
        (Values::Double(v), ColumnWriter::DoubleColumnWriter(w)) => w.write_batch(v, defs, reps),
        (Values::Bytes(v), ColumnWriter::ByteArrayColumnWriter(w)) => w.write_batch(v, defs, reps),
        _ => Err(ParquetError::General(
            "a column writer of another physical type".into(),
        )),
    }?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn row(withheld: &[&str]) -> ExportRow {
        ExportRow {
            tweet_id: 1,
            created_at: None,
            user_id: Some(2),
            screen_name: None,
            text: Some("héllo".into()),
            lang: None,
            in_reply_to_status_id: None,
            retweeted_status_id: None,
            quoted_status_id: None,
            place: None,
            longitude: Some(1.5),
            latitude: None,
            withheld_in_countries: withheld.iter().map(|s| (*s).to_owned()).collect(),
            retweet_count: None,
            like_count: None,
            reply_count: None,
            quote_count: None,
            api: "v2".into(),
            stream: "s".into(),
            first_seen_at: Utc.timestamp_opt(1, 0).single().expect("a time"),
            raw: "{}".into(),
        }
    }

    #[test]
    fn a_list_is_placed_by_its_levels_and_an_empty_list_takes_one_level() {
        let mut batch = Batch::default();
        batch.push(&row(&["DE", "FR"]));
        batch.push(&row(&[]));
        batch.push(&row(&["XX"]));
        let list = &batch.columns[12];
        assert_eq!(list.defs, vec![1, 1, 0, 1]);
        assert_eq!(list.reps, Some(vec![0, 1, 0, 0]));
        let Values::Bytes(values) = &list.values else {
            panic!("a string list")
        };
        assert_eq!(values.len(), 3);
        assert_eq!(batch.rows(), 3);
    }

    #[test]
    fn nulls_take_a_level_and_no_value_and_bytes_are_counted() {
        let mut batch = Batch::default();
        batch.push(&row(&[]));
        let text = &batch.columns[4];
        let Values::Bytes(values) = &text.values else {
            panic!("strings")
        };
        assert_eq!((values.len(), text.defs.as_slice()), (1, &[1][..]));
        let lang = &batch.columns[5];
        let Values::Bytes(values) = &lang.values else {
            panic!("strings")
        };
        assert_eq!((values.len(), lang.defs.as_slice()), (0, &[0][..]));
        // tweet_id, user_id, first_seen_at, longitude (8 each), "héllo", "v2", "s", "{}".
        assert_eq!(batch.bytes(), 4 * 8 + (6 + 4) + (2 + 4) + (1 + 4) + (2 + 4));
    }
}
