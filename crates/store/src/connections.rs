//! The connection log: one `connections` row per attempt, opened when the attempt starts (so
//! its events can name it) and closed with how it ended and the wait chosen after it.
//!
//! The daemon's live streams send these changes through the batch writer as records
//! ([`ConnectionRecord`]), so that they are spooled with the records they frame while the
//! database cannot take writes; their ids are allocated without the database
//! ([`ReservedIds`]). The direct statements below serve the rest (tests, tools).

use super::sql::{Arg, Db, Statements};
use super::{Operation, StoreError};
use chrono::{DateTime, Utc};
use streamvault_core::record::{ConnectionChange, ConnectionRecord};

pub use streamvault_core::record::{ConnectionEnd, EndReason};

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

const BEGIN: &str =
    "INSERT INTO connections (stream, started_at) VALUES ($1, $2) RETURNING connection_id";

/// Opens a row with an id allocated ahead ([`ReservedIds`]); a row already there (a batch
/// written again after its answer was lost) is left as it is. PostgreSQL's identity column
/// takes a given id only when told to.
const OPEN_SQLITE: &str = "INSERT INTO connections (connection_id, stream, started_at) \
     VALUES ($1, $2, $3) ON CONFLICT (connection_id) DO NOTHING";
const OPEN_POSTGRES: &str = "INSERT INTO connections (connection_id, stream, started_at) \
     OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3) ON CONFLICT (connection_id) DO NOTHING";

/// SQLite: the archive has one writer (the lock file), so every id above the highest ever
/// used is free; `sqlite_sequence` remembers ids of rows since deleted.
const HIGHEST_SQLITE: &str = "SELECT MAX(COALESCE((SELECT MAX(connection_id) FROM connections), 0), \
     COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'connections'), 0))";

/// PostgreSQL: several daemons may share the archive, so ids are taken from the identity's
/// sequence, several at a time.
const RESERVE_POSTGRES: &str = "SELECT nextval(pg_get_serial_sequence('connections', 'connection_id')) \
     FROM generate_series(1, $1)";

const UP: &str = "UPDATE connections SET connected_at = $1, http_status = $2, \
     backfill_minutes = $3 WHERE connection_id = $4";

const END: &str = "UPDATE connections SET ended_at = $1, end_reason = $2, \
     http_status = COALESCE($3, http_status), disconnect_code = $4, messages = $5, \
     bytes = $6, backoff_ms = $7 WHERE connection_id = $8";

const CLOSE_ABANDONED: &str = "UPDATE connections SET \
     ended_at = COALESCE((SELECT MAX(e.received_at) FROM events e \
         WHERE e.connection_id = connections.connection_id), connected_at, started_at), \
     end_reason = 'crash', \
     messages = (SELECT COUNT(*) FROM events e WHERE e.connection_id = connections.connection_id) \
         + (SELECT COUNT(*) FROM rejects r WHERE r.connection_id = connections.connection_id) \
     WHERE ended_at IS NULL AND stream = $1";

#[cfg(test)]
pub(crate) const ALL: &[&str] = &[
    BEGIN,
    OPEN_SQLITE,
    OPEN_POSTGRES,
    HIGHEST_SQLITE,
    RESERVE_POSTGRES,
    UP,
    END,
    CLOSE_ABANDONED,
];

/// Opens the row of a new attempt; its id.
pub(super) async fn begin(
    db: Db<'_>,
    stream: &str,
    started_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let args = [Arg::Str(stream), Arg::Time(Some(started_at))];
    let row = db.fetch_one(BEGIN, &args).await;
    let (id,): (i64,) = row.writing("opening the connection log row")?;
    Ok(id)
}

/// Records that the attempt got its stream.
pub(super) async fn up(
    db: Db<'_>,
    id: i64,
    at: DateTime<Utc>,
    http_status: u16,
) -> Result<(), StoreError> {
    let args = [
        Arg::Time(Some(at)),
        Arg::Int(Some(i64::from(http_status))),
        Arg::Int(None),
        Arg::Int(Some(id)),
    ];
    let result = db.execute(UP, &args).await;
    result.writing("recording the connection log row's connection")?;
    Ok(())
}

/// Closes the attempt's row.
pub(super) async fn end(db: Db<'_>, id: i64, end: &ConnectionEnd) -> Result<(), StoreError> {
    let result = db.execute(END, &end_args(id, end)).await;
    result.writing("closing the connection log row")?;
    Ok(())
}

/// Closes the rows of `stream` a crash left open; how many.
pub(super) async fn close_abandoned(db: Db<'_>, stream: &str) -> Result<u64, StoreError> {
    let result = db.execute(CLOSE_ABANDONED, &[Arg::Str(stream)]).await;
    result.writing("closing the connection log rows a crash left open")
}

/// Connection ids this process may use without asking the database again.
#[derive(Debug, Clone, PartialEq)]
pub enum ReservedIds {
    /// Every id from this one up (SQLite: this process is the archive's only writer).
    From(i64),
    /// These ids, taken from the sequence (PostgreSQL: other daemons take theirs beside).
    Taken(Vec<i64>),
}

/// Reserves connection ids: on PostgreSQL `count` of them.
pub(super) async fn reserve(db: Db<'_>, count: u32) -> Result<ReservedIds, StoreError> {
    match db {
        Db::Sqlite(_) => {
            let row = db.fetch_one(HIGHEST_SQLITE, &[]).await;
            let (highest,): (i64,) = row.reading("reading the highest connection id")?;
            Ok(ReservedIds::From(highest.saturating_add(1)))
        }
        Db::Postgres(_) => {
            let rows = db
                .fetch_all(RESERVE_POSTGRES, &[Arg::Int(Some(i64::from(count)))])
                .await;
            let ids: Vec<(i64,)> = rows.writing("reserving connection ids")?;
            Ok(ReservedIds::Taken(
                ids.into_iter().map(|(id,)| id).collect(),
            ))
        }
    }
}

/// Applies the batch's connection-log changes in `tx`, in order (`postgres`: which dialect
/// opens a row with a given id).
pub(crate) async fn apply<T: Statements>(
    tx: &mut T,
    changes: &[ConnectionRecord],
    postgres: bool,
) -> Result<(), StoreError> {
    for c in changes {
        let id = Arg::Int(Some(c.id()));
        let at = Arg::Time(Some(c.origin.received_at));
        match &c.change {
            ConnectionChange::Opened => {
                let open = if postgres { OPEN_POSTGRES } else { OPEN_SQLITE };
                tx.execute(open, &[id, Arg::Str(&c.origin.stream), at])
                    .await?;
            }
            ConnectionChange::Up {
                http_status,
                backfill_minutes,
            } => {
                let status = Arg::Int(Some(i64::from(*http_status)));
                let backfill = Arg::Int(backfill_minutes.map(i64::from));
                tx.execute(UP, &[at, status, backfill, id]).await?;
            }
            ConnectionChange::Ended(end) => {
                tx.execute(END, &end_args(c.id(), end)).await?;
            }
        }
    }
    Ok(())
}

fn end_args(id: i64, end: &ConnectionEnd) -> [Arg<'_>; 8] {
    [
        Arg::Time(Some(end.ended_at)),
        Arg::Str(end.reason.as_str()),
        Arg::Int(end.http_status.map(i64::from)),
        Arg::Int(end.disconnect_code),
        Arg::Int(Some(int(end.messages))),
        Arg::Int(Some(int(end.bytes))),
        Arg::Int(end.backoff_ms.map(int)),
        Arg::Int(Some(id)),
    ]
}
