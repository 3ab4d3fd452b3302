//! The statements both backends run, written once.
//!
//! SQLite and PostgreSQL agree on most of the archive's SQL; what differs is how a value is
//! stored (a time is `TIMESTAMPTZ` in PostgreSQL and fixed-width text in SQLite, a JSON
//! document `jsonb` or text) and which text PostgreSQL cannot hold. So a shared statement binds
//! [`Arg`]s, which each backend encodes its own way (`sqlite::args`, `postgres::args`), and
//! reads [`Timestamp`]s, which each backend decodes its own way. Placeholders are `$1`, `$2`,
//! ...: PostgreSQL's own, and to SQLite a named parameter that sqlx binds by its number and
//! rusqlite by its first appearance, so in a shared statement each `$n` first appears in order
//! (`numbered_in_order` checks every statement here).
//!
//! A statement is a backend's own only where the dialects differ or a measured difference
//! says so (PostgreSQL's multi-row `UNNEST` inserts, SQLite's one probe per key); each such
//! place says why.

mod compliance;
mod detail;

pub use compliance::Compliance;
pub(crate) use detail::detail_insert;

use super::StoreError;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Arguments, Database, Encode, FromRow, PgPool, Postgres, Sqlite, SqlitePool, Type};
use std::future::Future;

/// A value bound to a shared statement.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// An integer; NULL when `None`.
    Int(Option<i64>),
    /// Text of our own (a stream's name, a kind), bound as it is.
    Str(&'a str),
    /// Text as a server sent it: PostgreSQL, which cannot hold NUL, gets U+FFFD instead.
    Text(Option<&'a str>),
    /// A JSON document of our own (`serde_json`'s): `jsonb` in PostgreSQL, text in SQLite.
    Json(&'a str),
    /// A JSON document as a server sent it: PostgreSQL's `jsonb` gets what it cannot hold
    /// replaced first (see `postgres::json`); SQLite stores it as it is.
    RawJson(&'a str),
    /// A time; NULL when `None`.
    Time(Option<DateTime<Utc>>),
}

/// A time as the archive stores it: `TIMESTAMPTZ` in PostgreSQL, fixed-width ISO-8601 text in
/// SQLite ([`super::sqlite_time`]), so that text order is time order. Read by either backend
/// into the same [`DateTime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

/// A row a shared query reads, decodable from either backend's rows.
pub trait SharedRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> SharedRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A pool of either backend, for the shared statements that run outside a batch (the
/// connection log, the report).
#[derive(Debug, Clone, Copy)]
pub enum Db<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

impl Db<'_> {
    /// Runs a statement; how many rows it changed.
    pub async fn execute(self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => sqlx::query_with(sql, arguments::<Sqlite>(args)?)
                .execute(p)
                .await?
                .rows_affected(),
            Db::Postgres(p) => sqlx::query_with(sql, arguments::<Postgres>(args)?)
                .execute(p)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query; its rows.
    pub async fn fetch_all<T: SharedRow>(
        self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => {
                sqlx::query_as_with(sql, arguments::<Sqlite>(args)?)
                    .fetch_all(p)
                    .await?
            }
            Db::Postgres(p) => {
                sqlx::query_as_with(sql, arguments::<Postgres>(args)?)
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// Runs a query that returns exactly one row.
    pub async fn fetch_one<T: SharedRow>(
        self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<T, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => {
                sqlx::query_as_with(sql, arguments::<Sqlite>(args)?)
                    .fetch_one(p)
                    .await?
            }
            Db::Postgres(p) => {
                sqlx::query_as_with(sql, arguments::<Postgres>(args)?)
                    .fetch_one(p)
                    .await?
            }
        })
    }
}

/// `args` as a backend's bind arguments.
pub(crate) fn arguments<'q, DB: Database>(
    args: &[Arg<'q>],
) -> Result<<DB as Database>::Arguments<'q>, StoreError>
where
    Arg<'q>: Encode<'q, DB> + Type<DB>,
{
    let mut out = <DB as Database>::Arguments::<'q>::default();
    out.reserve(args.len(), 0);
    for &arg in args {
        out.add(arg)
            .map_err(|e| StoreError::internal(format_args!("cannot bind a value: {e}")))?;
    }
    Ok(out)
}

/// The statements of a batch's transaction that both backends share, run by the backend's
/// own transaction type (SQLite: prepared statements on the writer's handle; PostgreSQL: sqlx).
pub trait Statements: Send {
    /// Runs a statement; how many rows it changed.
    fn execute(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Reads a `withheld_in_countries` column: the first row's list, if there is a row.
    fn countries(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> impl Future<Output = Result<Option<Vec<String>>, StoreError>> + Send;
}

/// Countries as the JSON array `withheld_in_countries` holds.
pub(crate) fn countries_json(c: &[String]) -> String {
    if c.is_empty() {
        return "[]".into();
    }
    serde_json::to_string(c).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
pub(crate) mod tests {
    /// Every `$n` of `sql` first appears after `$1` .. `$n-1` (rusqlite binds by appearance).
    pub(crate) fn numbered_in_order(sql: &str) -> bool {
        let mut next = 1;
        let mut rest = sql;
        while let Some(at) = rest.find('$') {
            let digits: String = rest[at + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            rest = &rest[at + 1..];
            match digits.parse::<usize>() {
                Ok(n) if n == next => next += 1,
                Ok(n) if n < next => {}
                _ => return false,
            }
        }
        true
    }

    /// The statements rusqlite runs bind by first appearance, sqlx's by number: every shared
    /// statement must mean the same to both.
    #[test]
    fn shared_statements_number_their_placeholders_in_order() {
        let all = super::compliance::ALL
            .iter()
            .chain(super::detail::ALL)
            .chain(crate::connections::ALL)
            .chain(crate::rules::ALL);
        for sql in all {
            assert!(numbered_in_order(sql), "{sql}");
        }
    }

    #[test]
    fn placeholders_are_checked() {
        assert!(numbered_in_order("SELECT $1, $2, $1, $3"));
        assert!(!numbered_in_order("SELECT $2, $1"));
        assert!(!numbered_in_order("SELECT $1, $3"));
    }
}
