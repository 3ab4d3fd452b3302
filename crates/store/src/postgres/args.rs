//! How PostgreSQL stores the shared statements' values ([`Arg`]) and reads their times
//! ([`Timestamp`]): times as `TIMESTAMPTZ`, JSON as `jsonb`, and received text and JSON made
//! storable first ([`storable`], [`pg_json`]), since one value it cannot hold fails a batch.

use super::{PgTx, countries_of_value, pg_json, storable};
use crate::StoreError;
use crate::sql::{Arg, Statements, Timestamp, arguments};
use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::types::JsonValue;
use sqlx::{Decode, Encode, Postgres, Type};

/// A JSON text in `jsonb`'s binary form: a version byte, then the text.
fn encode_jsonb(s: &str, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
    buf.push(1);
    buf.extend_from_slice(s.as_bytes());
    Ok(IsNull::No)
}

impl Type<Postgres> for Arg<'_> {
    fn type_info() -> PgTypeInfo {
        <&str as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Arg<'_> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match *self {
            Arg::Int(v) => Encode::<Postgres>::encode(v, buf),
            Arg::Str(s) => Encode::<Postgres>::encode(s, buf),
            Arg::Text(s) => Encode::<Postgres>::encode(s.map(storable), buf),
            Arg::Json(s) => encode_jsonb(s, buf),
            Arg::RawJson(s) => encode_jsonb(&pg_json(s), buf),
            Arg::Time(t) => Encode::<Postgres>::encode(t, buf),
            Arg::Bool(b) => Encode::<Postgres>::encode(b, buf),
        }
    }

    /// The type each value is sent as (the statement's parameter types follow from them).
    fn produces(&self) -> Option<PgTypeInfo> {
        Some(match self {
            Arg::Int(_) => <i64 as Type<Postgres>>::type_info(),
            Arg::Str(_) | Arg::Text(_) => <&str as Type<Postgres>>::type_info(),
            Arg::Json(_) | Arg::RawJson(_) => <JsonValue as Type<Postgres>>::type_info(),
            Arg::Time(_) => <DateTime<Utc> as Type<Postgres>>::type_info(),
            Arg::Bool(_) => <bool as Type<Postgres>>::type_info(),
        })
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Timestamp(<DateTime<Utc> as Decode<Postgres>>::decode(
            value,
        )?))
    }
}

impl Statements for PgTx {
    async fn execute(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let done = sqlx::query_with(sql, arguments::<Postgres>(args)?)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected())
    }

    async fn ints(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar_with(sql, arguments::<Postgres>(args)?)
            .fetch_all(&mut *self.0)
            .await?)
    }

    async fn countries(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Option<Vec<String>>, StoreError> {
        let found: Option<JsonValue> = sqlx::query_scalar_with(sql, arguments::<Postgres>(args)?)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(found.map(countries_of_value))
    }
}
