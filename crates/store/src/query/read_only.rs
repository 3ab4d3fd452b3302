//! `streamvault query` against the archive a URL names, read-only: one statement, no migration,
//! no file created.
//!
//! A look at the archive must never change it: a `DELETE` typed by mistake, a second statement
//! smuggled after a `;`, or a mistyped path that would create a new, empty archive. Each backend
//! is asked to refuse writes itself (SQLite opened `mode=ro`, PostgreSQL in a read-only
//! transaction), and the statement is checked to be exactly one by the database's own parser.

use super::{Table, pg_value, table};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Executor};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Why a read-only query did not run.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("database URL {url:?} is not usable for query: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("no archive at {path}: query never creates one; check --database or database.url")]
    Missing { path: String },
    #[error("no SQL statement given")]
    Empty,
    #[error(
        "query runs exactly one SQL statement and this text holds more than one: run them one at a time"
    )]
    MultipleStatements,
    #[error("query only reads the archive, and this statement would write: {0}")]
    ReadOnly(String),
    /// The database could not be reached or opened (exit 4, like any unusable database).
    #[error("cannot open the archive read-only: {0}")]
    Open(String),
    #[error("query failed: {0}")]
    Sql(String),
}

impl QueryError {
    /// Whether the database itself was unusable, rather than the request (exit 4, not 2).
    pub fn is_unusable_database(&self) -> bool {
        matches!(self, QueryError::Open(_))
    }
}

/// Runs one read-only statement against the archive named by `url`, never migrating it.
pub async fn read_only(url: &str, sql: &str) -> Result<Table, QueryError> {
    if sql.trim().is_empty() {
        return Err(QueryError::Empty);
    }
    if url.starts_with("sqlite:") {
        let path = sqlite_path(url)?;
        let sql = sql.to_owned();
        tokio::task::spawn_blocking(move || sqlite_query(&path, &sql))
            .await
            .map_err(|e| QueryError::Sql(format!("the query thread failed: {e}")))?
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        pg_query(url, sql).await
    } else {
        Err(QueryError::BadUrl {
            url: crate::redact_url(url),
            reason: "expected sqlite://PATH or postgres://USER@HOST/DB".into(),
        })
    }
}

/// The archive file a `sqlite://` URL names, which must exist.
fn sqlite_path(url: &str) -> Result<PathBuf, QueryError> {
    let bad = |reason: String| QueryError::BadUrl {
        url: url.to_owned(),
        reason,
    };
    if url.contains(":memory:") {
        return Err(bad("an in-memory database holds no archive".into()));
    }
    let options = SqliteConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
    let path = options.get_filename().to_path_buf();
    if !path.is_file() {
        return Err(QueryError::Missing {
            path: path.display().to_string(),
        });
    }
    Ok(path)
}

/// Reads the SQLite archive at `path` without writing any file.
///
/// An archive that is being written has a `-wal` (and a `-shm`, which a reader needs too): it
/// is read `mode=ro` through them, so what the running daemon committed is seen. An archive
/// without a `-wal` was closed cleanly and everything is in the main file: it is read as
/// `immutable`, because a `mode=ro` open would leave behind an empty `-wal` and `-shm` owned by
/// whoever ran the query (which a daemon running as another user then cannot open). Should a
/// writer have started meanwhile (its `-wal` appears), the answer is discarded and read again
/// through the WAL.
fn sqlite_query(path: &Path, sql: &str) -> Result<Table, QueryError> {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    if !wal.exists() {
        let table = sqlite_open(path, true).and_then(|c| sqlite_run(&c, sql))?;
        if !wal.exists() {
            return Ok(table);
        }
    }
    sqlite_open(path, false).and_then(|c| sqlite_run(&c, sql))
}

fn sqlite_open(path: &Path, immutable: bool) -> Result<rusqlite::Connection, QueryError> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mode = if immutable {
        "mode=ro&immutable=1"
    } else {
        "mode=ro"
    };
    let uri = format!("{}?{mode}", file_uri(path));
    let open_error = |e: rusqlite::Error| {
        QueryError::Open(format!(
            "{}: {e} (a WAL archive's reader needs its -shm file: run query as the daemon's user)",
            path.display()
        ))
    };
    let conn = rusqlite::Connection::open_with_flags(uri, flags).map_err(open_error)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(open_error)?;
    // A read-only connection cannot checkpoint anyway; say so, so its close never tries.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .map_err(open_error)?;
    Ok(conn)
}

/// A `file:` URI for `path`: `%`, `?` and `#` escaped, an absolute path behind an empty authority.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    let text = path.to_string_lossy();
    if text.starts_with('/') {
        uri.push_str("//");
    }
    for c in text.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri
}

/// Prepares exactly one statement (SQLite's parser says where it ends), refuses one that
/// would write, and renders its rows.
fn sqlite_run(conn: &rusqlite::Connection, sql: &str) -> Result<Table, QueryError> {
    let mut statements = rusqlite::Batch::new(conn, sql);
    let mut stmt = statements
        .next()
        .map_err(sqlite_error)?
        .ok_or(QueryError::Empty)?;
    // Whatever follows must be blank or comments: a second statement, even a malformed one, is refused.
    if !matches!(statements.next(), Ok(None)) {
        return Err(QueryError::MultipleStatements);
    }
    if !stmt.readonly() {
        return Err(QueryError::ReadOnly(first_words(sql)));
    }
    let columns: Vec<String> = stmt
        .column_names()
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let mut rows = stmt.query([]).map_err(sqlite_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite_error)? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).ok().and_then(sqlite_text))
            .collect();
        out.push(values);
    }
    Ok(Table { columns, rows: out })
}

fn sqlite_text(value: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(v) => Some(v.to_string()),
        ValueRef::Real(v) => Some(v.to_string()),
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    }
}

fn sqlite_error(e: rusqlite::Error) -> QueryError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ReadOnly) => QueryError::ReadOnly(e.to_string()),
        _ => QueryError::Sql(e.to_string()),
    }
}

/// The statement's opening words, to name it in an error.
fn first_words(sql: &str) -> String {
    sql.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Runs the statement in a read-only transaction on a session whose every transaction is
/// read-only. The extended protocol's prepared statement refuses more than one statement.
async fn pg_query(url: &str, sql: &str) -> Result<Table, QueryError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| QueryError::BadUrl {
            url: crate::redact_url(url),
            reason: e.to_string(),
        })?
        .options([("default_transaction_read_only", "on")]);
    let mut conn = sqlx::PgConnection::connect_with(&options)
        .await
        .map_err(|e| QueryError::Open(e.to_string()))?;
    let open = |e: sqlx::Error| QueryError::Open(e.to_string());
    conn.execute("BEGIN TRANSACTION READ ONLY")
        .await
        .map_err(open)?;
    // A first query takes the snapshot, after which `SET TRANSACTION READ WRITE` is refused.
    conn.execute("SELECT 1").await.map_err(open)?;
    let result = sqlx::query(sql)
        .persistent(false)
        .fetch_all(&mut conn)
        .await;
    let _ = conn.execute("ROLLBACK").await;
    let _ = conn.close().await;
    let rows = result.map_err(pg_error)?;
    Ok(table(&rows, pg_value))
}

fn pg_error(e: sqlx::Error) -> QueryError {
    if let sqlx::Error::Database(db) = &e {
        if db.code().as_deref() == Some("25006") {
            return QueryError::ReadOnly(db.message().to_owned());
        }
        if db.message().contains("multiple commands") {
            return QueryError::MultipleStatements;
        }
        return QueryError::Sql(db.message().to_owned());
    }
    QueryError::Sql(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_escape_what_sqlite_would_parse() {
        assert_eq!(file_uri(Path::new("/a/b.db")), "file:///a/b.db");
        assert_eq!(file_uri(Path::new("x?y#z%.db")), "file:x%3fy%23z%25.db");
    }

    fn archive() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);",
        )
        .unwrap();
        drop(c);
        (dir, path)
    }

    #[test]
    fn one_reading_statement_runs_and_leaves_no_file_behind() {
        let (dir, path) = archive();
        let t = sqlite_query(&path, "  SELECT x FROM t ORDER BY x; -- done\n").unwrap();
        assert_eq!(t.columns, ["x"]);
        assert_eq!(t.rows, [[Some("1".to_owned())], [Some("2".to_owned())]]);
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1, "no -wal or -shm left: {files:?}");
    }

    #[test]
    fn writes_and_second_statements_are_refused() {
        let (_dir, path) = archive();
        for sql in [
            "SELECT 1; DROP TABLE t",
            "SELECT 1; nonsense",
            "SELECT 1;SELECT 2",
        ] {
            assert!(
                matches!(
                    sqlite_query(&path, sql),
                    Err(QueryError::MultipleStatements)
                ),
                "{sql}"
            );
        }
        for sql in [
            "DELETE FROM t",
            "VACUUM INTO '/tmp/copy.db'",
            "CREATE TABLE u(y)",
        ] {
            assert!(
                matches!(sqlite_query(&path, sql), Err(QueryError::ReadOnly(_))),
                "{sql}"
            );
        }
        assert!(matches!(
            sqlite_query(&path, "-- nothing"),
            Err(QueryError::Empty)
        ));
        let t = sqlite_query(&path, "SELECT COUNT(*) FROM t").unwrap();
        assert_eq!(t.rows, [[Some("2".to_owned())]]);
    }
}
