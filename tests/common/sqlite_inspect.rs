//! SQLite inspected from outside the daemon, as any other reader would: opening the file
//! (which runs WAL recovery after a crash), `integrity_check`, and consistency queries.

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// A pool on an existing SQLite file (never creates one). Opening it after a crash runs
/// SQLite's WAL recovery, as any reader would.
pub async fn sqlite_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .unwrap()
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("the database {} does not open: {e}", path.display()))
}

/// `PRAGMA integrity_check`, its rows joined (`"ok"` when sound).
pub async fn integrity(pool: &SqlitePool) -> String {
    sqlx::query("PRAGMA integrity_check")
        .fetch_all(pool)
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| r.get::<String, _>(0))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_else(|e| format!("integrity_check failed to run: {e}"))
}

/// One integer from a query.
pub async fn int(pool: &SqlitePool, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get::<Option<i64>, _>(0)
        .unwrap_or(0)
}

/// Status events whose status is neither archived nor deleted: must be 0.
pub const ORPHAN_TWEET_EVENTS: &str = "SELECT COUNT(*) FROM events e WHERE kind = 'tweet' \
     AND NOT EXISTS (SELECT 1 FROM tweets t WHERE t.tweet_id = e.tweet_id) \
     AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.tweet_id = e.tweet_id)";
