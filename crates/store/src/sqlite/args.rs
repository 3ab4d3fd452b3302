//! How SQLite stores the shared statements' values ([`Arg`]) and reads their times
//! ([`Timestamp`]): times as fixed-width text ([`sqlite_time`]), JSON as text, text as it came.
//! Both through sqlx (the connection log, reports) and through rusqlite (the batch path).

use super::{SqliteTx, parse_countries};
use crate::sql::{Arg, Statements, Timestamp};
use crate::{StoreError, sqlite_time};
use chrono::{DateTime, Utc};
use rusqlite::types::{Null, ToSqlOutput};
use rusqlite::{OptionalExtension, ToSql, params_from_iter};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Sqlite, Type};

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Arg::Int(v) => v.to_sql(),
            Arg::Str(s) | Arg::Json(s) | Arg::RawJson(s) => s.to_sql(),
            Arg::Text(s) => s.to_sql(),
            Arg::Time(Some(t)) => Ok(ToSqlOutput::from(sqlite_time(*t))),
            Arg::Time(None) => Ok(ToSqlOutput::from(Null)),
            Arg::Bool(b) => Ok(ToSqlOutput::from(i64::from(*b))),
        }
    }
}

impl Type<Sqlite> for Arg<'_> {
    fn type_info() -> SqliteTypeInfo {
        <&str as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for Arg<'q> {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        match *self {
            Arg::Int(v) => Encode::<Sqlite>::encode(v, buf),
            Arg::Str(s) | Arg::Json(s) | Arg::RawJson(s) => Encode::<Sqlite>::encode(s, buf),
            Arg::Text(s) => Encode::<Sqlite>::encode(s, buf),
            Arg::Time(t) => Encode::<Sqlite>::encode(t.map(sqlite_time), buf),
            Arg::Bool(b) => Encode::<Sqlite>::encode(i64::from(b), buf),
        }
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <&str as Decode<Sqlite>>::decode(value)?;
        DateTime::parse_from_rfc3339(s)
            .map(|t| Timestamp(t.with_timezone(&Utc)))
            .map_err(|e| format!("cannot read the time {s:?}: {e}").into())
    }
}

impl SqliteTx {
    /// Runs a shared statement, prepared once per connection; how many rows it changed.
    pub(super) fn run(&self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError> {
        Ok(self
            .db
            .prepare_cached(sql)?
            .execute(params_from_iter(args))?)
    }
}

// Synchronous, as every statement of a SQLite batch (see `SqliteStore::in_transaction`).
impl Statements for SqliteTx {
    async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        Ok(self.run(sql, args)? as u64)
    }

    async fn ints(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.db.prepare_cached(sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| r.get::<_, i64>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    async fn countries(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<Vec<String>>, StoreError> {
        let found: Option<String> = self
            .db
            .prepare_cached(sql)?
            .query_row(params_from_iter(args), |r| r.get(0))
            .optional()?;
        Ok(found.map(|c| parse_countries(&c)))
    }
}
