//! Reading the archive for an export: two connections on one consistent view, the rows
//! streamed one at a time (memory bounded whatever the archive's size), decoded into
//! [`ExportRow`]s.
//!
//! The main connection streams the export's one statement; the side connection answers the
//! point look-ups that JSONL needs (embedded statuses, authors) and the compliance state. On
//! PostgreSQL both run in read-only repeatable-read transactions on one exported snapshot, so
//! the rows, the look-ups and the manifest's compliance state describe the same moment. On
//! SQLite the statement reads one snapshot for as long as it runs; the side connection may see
//! a later commit of a running daemon, which can only leave more out.

use crate::ExportRow;
use crate::sql::{Dialect, Param, Statement};
use chrono::{DateTime, Utc};
use futures_util::stream::{BoxStream, StreamExt};
use sqlx::pool::PoolConnection;
use sqlx::{Executor, Postgres, Row, Sqlite};
use streamvault_store::Backend;

/// Why reading the archive failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading the archive: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("the archive holds a value the export cannot read ({what}): {detail}")]
    Value { what: &'static str, detail: String },
}

/// One connection of the read, on either backend.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// A row as read: the status and, when it may not be shared, the rule it breaks.
pub type Verdict = (ExportRow, Option<String>);

/// The two connections of one export or check.
pub struct Snapshot {
    pub main: Conn,
    pub side: Conn,
}

impl Snapshot {
    /// Takes two connections of `backend` and puts them on one view of the archive.
    pub async fn open(backend: &Backend) -> Result<Snapshot, ReadError> {
        match backend {
            Backend::Sqlite(s) => Ok(Snapshot {
                main: Conn::Sqlite(s.pool().acquire().await?),
                side: Conn::Sqlite(s.pool().acquire().await?),
            }),
            Backend::Postgres(s) => {
                let mut main = s.pool().acquire().await?;
                main.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?;
                let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
                    .fetch_one(&mut *main)
                    .await?;
                // The server's snapshot id (hex and dashes) is the one value SET TRANSACTION
                // SNAPSHOT takes only as a literal: checked, never a user's text.
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                    return Err(ReadError::Value {
                        what: "snapshot id",
                        detail: id,
                    });
                }
                let mut side = s.pool().acquire().await?;
                side.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?;
                side.execute(format!("SET TRANSACTION SNAPSHOT '{id}'").as_str())
                    .await?;
                Ok(Snapshot {
                    main: Conn::Postgres(main),
                    side: Conn::Postgres(side),
                })
            }
        }
    }

    /// Ends the read transactions (nothing was written) and returns the connections.
    pub async fn close(self) {
        for conn in [self.main, self.side] {
            if let Conn::Postgres(mut c) = conn {
                let _ = c.execute("ROLLBACK").await;
            }
        }
    }
}

impl Conn {
    /// The dialect of this connection's archive.
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Streams the rows of an export statement (its last column the verdict), one at a time.
    pub fn statuses<'c>(
        &'c mut self,
        st: &'c Statement,
    ) -> BoxStream<'c, Result<Verdict, ReadError>> {
        match self {
            Conn::Sqlite(c) => sqlite_query(st)
                .fetch(&mut **c)
                .map(|r| r.map_err(ReadError::from).and_then(|r| decode_sqlite(&r)))
                .boxed(),
            Conn::Postgres(c) => pg_query(st)
                .fetch(&mut **c)
                .map(|r| r.map_err(ReadError::from).and_then(|r| decode_pg(&r)))
                .boxed(),
        }
    }

    /// The first row of an export-shaped statement, if any.
    pub async fn status(&mut self, st: &Statement) -> Result<Option<Verdict>, ReadError> {
        Ok(match self {
            Conn::Sqlite(c) => match sqlite_query(st).fetch_optional(&mut **c).await? {
                Some(r) => Some(decode_sqlite(&r)?),
                None => None,
            },
            Conn::Postgres(c) => match pg_query(st).fetch_optional(&mut **c).await? {
                Some(r) => Some(decode_pg(&r)?),
                None => None,
            },
        })
    }

    /// The first column of the first row as text, if any.
    pub async fn text(&mut self, st: &Statement) -> Result<Option<String>, ReadError> {
        Ok(self
            .texts(st)
            .await?
            .and_then(|r| r.into_iter().next().flatten()))
    }

    /// The first row, every column text (the SQL casts what is not), if any.
    pub async fn texts(
        &mut self,
        st: &Statement,
    ) -> Result<Option<Vec<Option<String>>>, ReadError> {
        Ok(match self {
            Conn::Sqlite(c) => match sqlite_query(st).fetch_optional(&mut **c).await? {
                Some(r) => Some(texts_of(&r)?),
                None => None,
            },
            Conn::Postgres(c) => match pg_query(st).fetch_optional(&mut **c).await? {
                Some(r) => Some(texts_of(&r)?),
                None => None,
            },
        })
    }

    /// Every row, every column text: for statements whose rows are bounded (a check's chunk).
    pub async fn all_texts(
        &mut self,
        st: &Statement,
    ) -> Result<Vec<Vec<Option<String>>>, ReadError> {
        Ok(match self {
            Conn::Sqlite(c) => sqlite_query(st)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(texts_of)
                .collect::<Result<_, _>>()?,
            Conn::Postgres(c) => pg_query(st)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(texts_of)
                .collect::<Result<_, _>>()?,
        })
    }

    /// The first column of the first row as an integer, if any and not NULL.
    pub async fn int(&mut self, st: &Statement) -> Result<Option<i64>, ReadError> {
        Ok(match self {
            Conn::Sqlite(c) => sqlite_query(st)
                .fetch_optional(&mut **c)
                .await?
                .map(|r| r.try_get::<Option<i64>, _>(0))
                .transpose()?
                .flatten(),
            Conn::Postgres(c) => pg_query(st)
                .fetch_optional(&mut **c)
                .await?
                .map(|r| r.try_get::<Option<i64>, _>(0))
                .transpose()?
                .flatten(),
        })
    }
}

/// Every column of a row as text.
fn texts_of<R: Row>(r: &R) -> Result<Vec<Option<String>>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..r.len())
        .map(|i| r.try_get::<Option<String>, _>(i))
        .collect()
}

/// `st` with its parameters bound for SQLite.
pub fn sqlite_query(
    st: &Statement,
) -> sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
    let mut q = sqlx::query(&st.sql);
    for p in &st.params {
        q = match p {
            Param::Int(v) => q.bind(*v),
            Param::Text(v) => q.bind(v.clone()),
            Param::Time(v) => q.bind(crate::sql::sqlite_time(v)),
            Param::Texts(v) => q.bind(serde_json::Value::from(v.clone()).to_string()),
            Param::Ints(v) => q.bind(serde_json::Value::from(v.clone()).to_string()),
        };
    }
    q
}

/// `st` with its parameters bound for PostgreSQL.
pub fn pg_query(st: &Statement) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
    let mut q = sqlx::query(&st.sql);
    for p in &st.params {
        q = match p {
            Param::Int(v) => q.bind(*v),
            Param::Text(v) => q.bind(v.clone()),
            Param::Time(v) => q.bind(*v),
            Param::Texts(v) => q.bind(v.clone()),
            Param::Ints(v) => q.bind(v.clone()),
        };
    }
    q
}

/// The columns both backends decode the same way, in `sql::columns` order from `place` on.
struct Common {
    place: Option<String>,
    withheld: String,
    api: String,
    stream: String,
    raw: String,
    left_out: Option<String>,
}

fn decode_sqlite(r: &sqlx::sqlite::SqliteRow) -> Result<Verdict, ReadError> {
    let created: Option<String> = r.try_get(1)?;
    let first_seen: String = r.try_get(15)?;
    let common = Common {
        place: r.try_get(9)?,
        withheld: r.try_get(12)?,
        api: r.try_get(13)?,
        stream: r.try_get(14)?,
        raw: r.try_get(16)?,
        left_out: r.try_get(17)?,
    };
    // An unreadable `created_at` is NULL in the archive already; text that does not parse
    // here is treated the same rather than failing the export.
    let created_at = created.and_then(|t| parse_time(&t).ok());
    let first_seen_at = parse_time(&first_seen)?;
    finish(r, created_at, first_seen_at, common)
}

fn decode_pg(r: &sqlx::postgres::PgRow) -> Result<Verdict, ReadError> {
    let common = Common {
        place: r.try_get(9)?,
        withheld: r.try_get(12)?,
        api: r.try_get(13)?,
        stream: r.try_get(14)?,
        raw: r.try_get(16)?,
        left_out: r.try_get(17)?,
    };
    finish(r, r.try_get(1)?, r.try_get(15)?, common)
}

/// The columns whose types both backends decode alike, and the counts read from `raw`.
fn finish<'r, R>(
    r: &'r R,
    created_at: Option<DateTime<Utc>>,
    first_seen_at: DateTime<Utc>,
    c: Common,
) -> Result<Verdict, ReadError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let withheld_in_countries: Vec<String> =
        serde_json::from_str(&c.withheld).map_err(|e| ReadError::Value {
            what: "withheld_in_countries",
            detail: e.to_string(),
        })?;
    let counts = crate::counts::Counts::of(&c.api, &c.raw);
    let row = ExportRow {
        tweet_id: r.try_get(0)?,
        created_at,
        user_id: r.try_get(2)?,
        screen_name: r.try_get(3)?,
        text: r.try_get(4)?,
        lang: r.try_get(5)?,
        in_reply_to_status_id: r.try_get(6)?,
        retweeted_status_id: r.try_get(7)?,
        quoted_status_id: r.try_get(8)?,
        place: c.place,
        longitude: r.try_get(10)?,
        latitude: r.try_get(11)?,
        withheld_in_countries,
        retweet_count: counts.retweet,
        like_count: counts.like,
        reply_count: counts.reply,
        quote_count: counts.quote,
        api: c.api,
        stream: c.stream,
        first_seen_at,
        raw: c.raw,
    };
    Ok((row, c.left_out))
}

/// A SQLite archive's time text (RFC 3339, as the store writes it).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, ReadError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ReadError::Value {
            what: "time",
            detail: format!("{text:?}: {e}"),
        })
}
