//! [`StoreError`]: what went wrong with the archive, of which kind, during which operation.
//!
//! An operator reading "database write failed" while a report ran would look for the wrong
//! problem, so a failure says whether a read, a write, decoding the database's answer or our
//! own machinery (a writer thread that panicked) failed, and names the operation. The operation
//! is named once, at the boundary of each public store or report function ([`Operation`]),
//! not at every `?`: an error raised deeper carries no name yet and takes the first one given.

use std::fmt;

/// Why the archive could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {url:?} is not usable: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot open the database: {0}")]
    Open(#[source] sqlx::Error),
    #[error("cannot migrate the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A statement that reads failed (a report's query, `streamvault query`).
    #[error("database read failed: {}{source}", named(op))]
    Read { op: &'static str, source: DbError },
    /// A statement that writes failed, or a read inside a write's transaction.
    #[error("database write failed: {}{source}", named(op))]
    Write { op: &'static str, source: DbError },
    /// The database answered with a value we cannot read (a malformed stored time, a column
    /// of an unexpected type): the data or the schema, not the connection.
    #[error("cannot decode the database's answer: {}{reason}", named(op))]
    Decode { op: &'static str, reason: String },
    /// Our own machinery failed (a writer thread panicked, a lock it held is poisoned, a value
    /// could not be bound): a defect, not a database problem.
    #[error("internal failure: {}{reason}", named(op))]
    Internal { op: &'static str, reason: String },
    /// The writer task panicked: a defect, not a database problem (exit 1).
    #[error("the writer panicked: {0}")]
    Panicked(String),
}

/// The database failure under a [`StoreError::Read`] or [`StoreError::Write`]: sqlx's, or
/// rusqlite's on SQLite's batch path (which drives the connection sqlx opened directly).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// `"op: "`, or nothing while the operation is not named yet.
fn named(op: &str) -> String {
    if op.is_empty() {
        String::new()
    } else {
        format!("{op}: ")
    }
}

impl StoreError {
    /// A failure of our own machinery, named later by the operation it interrupted.
    pub fn internal(reason: impl fmt::Display) -> Self {
        StoreError::Internal {
            op: "",
            reason: reason.to_string(),
        }
    }

    /// The database failure under a read or a write, if that is what this is.
    pub fn database(&self) -> Option<&DbError> {
        match self {
            StoreError::Read { source, .. } | StoreError::Write { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether the database answered with an error of its own (it refused a statement), as
    /// opposed to not answering (a broken connection) or failing on our side.
    pub fn is_database_answer(&self) -> bool {
        matches!(
            self.database(),
            Some(DbError::Sqlx(sqlx::Error::Database(_)))
        )
    }

    /// Names the operation, if none is named yet; a failure not yet classified as a read or
    /// a write becomes a `Read` when `read` says so.
    fn during(self, name: &'static str, read: bool) -> Self {
        match self {
            StoreError::Write { op: "", source } if read => StoreError::Read { op: name, source },
            StoreError::Write { op: "", source } => StoreError::Write { op: name, source },
            StoreError::Read { op: "", source } => StoreError::Read { op: name, source },
            StoreError::Decode { op: "", reason } => StoreError::Decode { op: name, reason },
            StoreError::Internal { op: "", reason } => StoreError::Internal { op: name, reason },
            other => other,
        }
    }
}

impl StoreError {
    /// Errors that a later attempt may not meet (a dropped connection, a busy database, a full
    /// pool); everything else is a defect or a schema problem that retrying cannot heal.
    pub fn is_retriable(&self) -> bool {
        let err = match self {
            StoreError::Open(e) => e,
            StoreError::Read { source, .. } | StoreError::Write { source, .. } => match source {
                DbError::Sqlx(e) => e,
                DbError::Sqlite(e) => {
                    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, DiskFull};
                    return matches!(
                        e.sqlite_error_code(),
                        Some(DatabaseBusy | DatabaseLocked | DiskFull)
                    );
                }
            },
            _ => return false,
        };
        match err {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // SQLite: 5 BUSY, 6 LOCKED, 13 FULL, with their extended variants (the primary
                // code is the low byte). PostgreSQL: class 08 connection, 53 resources,
                // 57P01-03 shutdown, 40001/40P01 serialization and deadlock.
                let sqlite_primary = code.parse::<i64>().ok().map(|c| c & 0xff);
                matches!(sqlite_primary, Some(5 | 6 | 13))
                    || matches!(code.as_ref(), "40001" | "40P01")
                    || code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P")
            }
            _ => false,
        }
    }

    /// Errors that the rows written may have caused, so that writing fewer of them may succeed:
    /// PostgreSQL's data exceptions (class 22: bad JSON, numbers out of range), integrity
    /// violations (23) and program limits (54, a value too large); SQLite's constraint, type
    /// mismatch and too-big errors, and its JSON functions refusing a stored document. Schema,
    /// connection and permission problems are not: no subset of the batch would get through.
    pub fn is_data_error(&self) -> bool {
        match self.database() {
            Some(DbError::Sqlx(sqlx::Error::Database(db))) => {
                let code = db.code().unwrap_or_default();
                // SQLSTATEs are digits too (`22003`): tell the backends apart by type.
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some()
                {
                    ["22", "23", "54"].iter().any(|c| code.starts_with(c))
                } else {
                    let primary = code.parse::<i64>().unwrap_or_default();
                    sqlite_data_error(primary, db.message())
                }
            }
            Some(DbError::Sqlite(rusqlite::Error::SqliteFailure(e, message))) => {
                sqlite_data_error(i64::from(e.extended_code), message.as_deref().unwrap_or(""))
            }
            _ => false,
        }
    }

    /// The database's own words, without the wrapper's prefix (for a reject's reason).
    pub fn database_message(&self) -> String {
        match self {
            StoreError::Read { source, .. } | StoreError::Write { source, .. } => match source {
                DbError::Sqlx(sqlx::Error::Database(db)) => db.message().to_owned(),
                DbError::Sqlite(rusqlite::Error::SqliteFailure(_, Some(message))) => {
                    message.clone()
                }
                e => e.to_string(),
            },
            StoreError::Open(e) => e.to_string(),
            StoreError::Decode { reason, .. } | StoreError::Internal { reason, .. } => {
                reason.clone()
            }
            other => other.to_string(),
        }
    }
}

/// SQLite: 18 TOOBIG, 19 CONSTRAINT, 20 MISMATCH, 25 RANGE (by primary code), and a plain
/// ERROR when it comes from a JSON function (`malformed JSON`, nesting too deep).
fn sqlite_data_error(code: i64, message: &str) -> bool {
    match code & 0xff {
        18 | 19 | 20 | 25 => true,
        1 => message.contains("JSON"),
        _ => false,
    }
}

/// Names the operation a failure interrupted, at the boundary of a public store or report
/// function: `.writing("writing a batch")`, `.reading("reading the report's connections")`.
pub trait Operation<T> {
    /// The operation reads: a database failure not yet named becomes a [`StoreError::Read`].
    fn reading(self, op: &'static str) -> Result<T, StoreError>;
    /// The operation writes: a database failure not yet named stays a [`StoreError::Write`].
    fn writing(self, op: &'static str) -> Result<T, StoreError>;
}

impl<T, E: Into<StoreError>> Operation<T> for Result<T, E> {
    fn reading(self, op: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| e.into().during(op, true))
    }

    fn writing(self, op: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| e.into().during(op, false))
    }
}

/// A database failure not named yet: decoding failures are [`StoreError::Decode`], the rest
/// a write until [`Operation::reading`] says otherwise.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error::{ColumnDecode, ColumnIndexOutOfBounds, ColumnNotFound, Decode};
        match e {
            ColumnDecode { .. } | Decode(_) | ColumnNotFound(_) | ColumnIndexOutOfBounds { .. } => {
                StoreError::Decode {
                    op: "",
                    reason: e.to_string(),
                }
            }
            e => StoreError::Write {
                op: "",
                source: DbError::Sqlx(e),
            },
        }
    }
}

/// As for sqlx: rusqlite's conversion failures are decoding, the rest database failures.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::Error::{
            FromSqlConversionFailure, IntegralValueOutOfRange, InvalidColumnType,
        };
        match e {
            FromSqlConversionFailure(..) | InvalidColumnType(..) | IntegralValueOutOfRange(..) => {
                StoreError::Decode {
                    op: "",
                    reason: e.to_string(),
                }
            }
            e => StoreError::Write {
                op: "",
                source: DbError::Sqlite(e),
            },
        }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
