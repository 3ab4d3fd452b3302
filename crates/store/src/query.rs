//! `streamvault query`: plain SQL against the archive, on either backend, printed as a table.
//!
//! Users query the archive with SQL; this saves them a separate client (and its connection
//! settings) for a quick look. Values are shown as text; JSON as compact JSON. The command line
//! goes through [`read_only`]: one statement, never a write, never a migration or a new file.

mod read_only;

pub use read_only::{QueryError, read_only};

use crate::{Backend, Operation, StoreError};
use sqlx::{Column, Row, TypeInfo, ValueRef};

/// A query result: column names and rows of rendered values (`None` for SQL NULL).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// The operation a failure of [`run`] names.
const OP: &str = "running the statement";

/// Runs SQL through an opened archive's own pools and renders every value as text: for tests
/// and benchmarks, which hold the archive already. It is not read-only; see [`read_only`].
pub async fn run(backend: &Backend, sql: &str) -> Result<Table, StoreError> {
    match backend {
        Backend::Sqlite(s) => {
            let rows = sqlx::query(sql).fetch_all(s.pool()).await.reading(OP)?;
            Ok(table(&rows, sqlite_value))
        }
        Backend::Postgres(s) => {
            let rows = sqlx::query(sql).fetch_all(s.pool()).await.reading(OP)?;
            Ok(table(&rows, pg_value))
        }
    }
}

fn table<R: Row>(rows: &[R], value: fn(&R, usize) -> Option<String>) -> Table {
    let columns = rows
        .first()
        .map(|r| r.columns().iter().map(|c| c.name().to_owned()).collect())
        .unwrap_or_default();
    let rows = rows
        .iter()
        .map(|r| (0..r.len()).map(|i| value(r, i)).collect())
        .collect();
    Table { columns, rows }
}

fn sqlite_value(row: &sqlx::sqlite::SqliteRow, i: usize) -> Option<String> {
    let raw = row.try_get_raw(i).ok()?;
    if raw.is_null() {
        return None;
    }
    let kind = raw.type_info().name().to_owned();
    match kind.as_str() {
        "INTEGER" | "BOOLEAN" => row.try_get::<i64, _>(i).ok().map(|v| v.to_string()),
        "REAL" => row.try_get::<f64, _>(i).ok().map(|v| v.to_string()),
        "BLOB" => row
            .try_get::<Vec<u8>, _>(i)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        _ => row.try_get::<String, _>(i).ok(),
    }
}

fn pg_value(row: &sqlx::postgres::PgRow, i: usize) -> Option<String> {
    let raw = row.try_get_raw(i).ok()?;
    if raw.is_null() {
        return None;
    }
    let kind = raw.type_info().name().to_owned();
    let text = match kind.as_str() {
        "INT8" => row.try_get::<i64, _>(i).map(|v| v.to_string()),
        "INT4" => row.try_get::<i32, _>(i).map(|v| v.to_string()),
        "INT2" => row.try_get::<i16, _>(i).map(|v| v.to_string()),
        "FLOAT8" => row.try_get::<f64, _>(i).map(|v| v.to_string()),
        "FLOAT4" => row.try_get::<f32, _>(i).map(|v| v.to_string()),
        "BOOL" => row.try_get::<bool, _>(i).map(|v| v.to_string()),
        "TIMESTAMPTZ" => row
            .try_get::<chrono::DateTime<chrono::Utc>, _>(i)
            .map(|v| v.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        "JSON" | "JSONB" => row
            .try_get::<serde_json::Value, _>(i)
            .map(|v| v.to_string()),
        "BYTEA" => row
            .try_get::<Vec<u8>, _>(i)
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        _ => row.try_get::<String, _>(i),
    };
    Some(text.unwrap_or_else(|_| format!("<{kind}>")))
}

impl Table {
    /// Aligned columns for a terminal; long values are cut so a row stays on one line.
    pub fn render(&self) -> String {
        const MAX: usize = 60;
        let cell = |v: &Option<String>| {
            let s = v
                .as_deref()
                .unwrap_or("NULL")
                .replace(['\n', '\r', '\t'], " ");
            if s.chars().count() > MAX {
                format!("{}…", s.chars().take(MAX - 1).collect::<String>())
            } else {
                s
            }
        };
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(cell).collect())
            .collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|c| {
                cells
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.columns[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |vals: Vec<&str>| {
            vals.iter()
                .zip(&widths)
                .map(|(v, w)| format!("{v:<w$}", w = *w))
                .collect::<Vec<_>>()
                .join(" | ")
                .trim_end()
                .to_owned()
        };
        let mut out = String::new();
        out.push_str(&line(self.columns.iter().map(String::as_str).collect()));
        out.push('\n');
        out.push_str(
            &widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("-+-"),
        );
        out.push('\n');
        for r in &cells {
            out.push_str(&line(r.iter().map(String::as_str).collect()));
            out.push('\n');
        }
        out.push_str(&format!(
            "({} row{})\n",
            self.rows.len(),
            if self.rows.len() == 1 { "" } else { "s" }
        ));
        out
    }
}
