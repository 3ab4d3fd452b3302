//! Multi-row INSERTs for SQLite: statement shapes, chunking and the column lists of the bulk tables.

use super::SqliteTx;
use crate::store::StoreError;
use sqlx::sqlite::SqliteArguments;

/// Rows per multi-row INSERT at most; remainders go out in power-of-two chunks so that only a
/// handful of distinct statements are ever prepared. Every statement is a round trip to sqlx's
/// SQLite worker thread, so fewer, larger statements matter (17 columns × 256 rows stays well
/// under SQLite's 32766 bound parameters).
const MAX_ROWS_PER_STATEMENT: usize = 256;

/// `INSERT INTO table (cols) VALUES (?, ...), ... suffix` for `rows` rows.
pub(super) fn insert_sql(table: &str, cols: &[&str], rows: usize, suffix: &str) -> String {
    let one = format!("({})", vec!["?"; cols.len()].join(","));
    format!(
        "INSERT INTO {table} ({}) VALUES {} {suffix}",
        cols.join(","),
        vec![one; rows].join(",")
    )
}

/// Splits `n` rows into statement sizes: full chunks, then powers of two.
pub(super) fn chunk_sizes(mut n: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    while n >= MAX_ROWS_PER_STATEMENT {
        sizes.push(MAX_ROWS_PER_STATEMENT);
        n -= MAX_ROWS_PER_STATEMENT;
    }
    let mut p = MAX_ROWS_PER_STATEMENT / 2;
    while n > 0 {
        if n >= p {
            sizes.push(p);
            n -= p;
        }
        p /= 2;
    }
    sizes
}

pub(super) const TWEET_COLS: &[&str] = &[
    "tweet_id",
    "user_id",
    "created_at",
    "text",
    "lang",
    "in_reply_to_status_id",
    "retweeted_status_id",
    "quoted_status_id",
    "longitude",
    "latitude",
    "place",
    "withheld_in_countries",
    "geo_scrubbed",
    "stream",
    "first_seen_at",
    "last_seen_at",
    "raw",
];
pub(super) const TWEET_UPSERT: &str =
    "ON CONFLICT (tweet_id) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)";
pub(super) const USER_COLS: &[&str] = &[
    "user_id",
    "screen_name",
    "withheld_in_countries",
    "raw",
    "updated_at",
];
pub(super) const USER_UPSERT: &str = "ON CONFLICT (user_id) DO UPDATE SET screen_name = excluded.screen_name, \
     raw = excluded.raw, updated_at = excluded.updated_at";
pub(super) const EVENT_COLS: &[&str] = &[
    "stream",
    "connection_id",
    "received_at",
    "kind",
    "for_user",
    "tweet_id",
    "raw",
];
pub(super) const REJECT_COLS: &[&str] =
    &["stream", "connection_id", "received_at", "reason", "raw"];

impl SqliteTx {
    /// Runs one multi-row INSERT per chunk, binding each item with `bind`.
    pub(super) async fn insert_many<'q, T: Sync>(
        &mut self,
        table: &str,
        cols: &[&str],
        suffix: &str,
        items: &'q [T],
        bind: impl Fn(&mut SqliteArguments<'q>, &'q T) -> Result<(), sqlx::error::BoxDynError>,
    ) -> Result<(), StoreError> {
        let mut at = 0;
        for size in chunk_sizes(items.len()) {
            let sql = insert_sql(table, cols, size, suffix);
            let mut args = SqliteArguments::default();
            for item in &items[at..at + size] {
                bind(&mut args, item).map_err(|e| StoreError::Write(sqlx::Error::Encode(e)))?;
            }
            sqlx::query_with(&sql, args).execute(&mut *self.0).await?;
            at += size;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_with_few_shapes() {
        for n in 0..300 {
            let sizes = chunk_sizes(n);
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(
                sizes
                    .iter()
                    .all(|s| s.is_power_of_two() && *s <= MAX_ROWS_PER_STATEMENT)
            );
        }
    }
}
