//! Opening an archive only to read it (`streamvault report`): no file created, no migration,
//! nothing written, and the schema checked to be the one this binary knows.
//!
//! SQLite is opened `mode=ro`, or `immutable` when the archive has no `-wal` (closed cleanly):
//! a `mode=ro` open of a WAL archive would leave an empty `-wal` and `-shm` behind, owned by
//! whoever ran the report (see `query::read_only`, which reads the same way). Should a writer
//! start meanwhile, [`ReadOnlyArchive::went_stale`] says so and the caller reads again.
//! PostgreSQL sessions default to read-only transactions.

use crate::{Backend, PgStore, SqliteStore, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Why an archive was not opened for reading.
#[derive(Debug, thiserror::Error)]
pub enum ReadOpenError {
    #[error("no archive at {path}: nothing was created; check --database or database.url")]
    Missing { path: String },
    #[error(
        "the archive's schema is behind this streamvault ({have}; this binary's is at migration \
         {want}): run `streamvault migrate` first (with the daemon stopped)"
    )]
    Behind { have: String, want: i64 },
    #[error(
        "the archive's schema is newer than this streamvault (migration {version} is unknown to \
         it): use the streamvault that migrated it"
    )]
    Ahead { version: i64 },
    /// The URL is unusable (exit 2) or the database cannot be reached or read (exit 4).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An archive opened read-only, its schema checked.
#[derive(Debug)]
pub struct ReadOnlyArchive {
    backend: Backend,
    /// The `-wal` of a SQLite archive opened `immutable`: if it appears, a writer started.
    wal: Option<PathBuf>,
}

impl ReadOnlyArchive {
    /// The archive, for queries.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Whether a writer started on a SQLite archive opened as immutable: what was read may
    /// be torn, so close this and open it again (it is then read through the WAL).
    pub fn went_stale(&self) -> bool {
        self.wal.as_ref().is_some_and(|w| w.exists())
    }

    /// Closes the pool (without the checkpoint a writable SQLite store does at close).
    pub async fn close(self) {
        match &self.backend {
            Backend::Sqlite(s) => s.pool().close().await,
            Backend::Postgres(s) => s.pool().close().await,
        }
    }
}

/// Opens the archive `url` names to read it, never creating, migrating or writing it; refuses
/// a missing SQLite file and a schema other than this binary's.
pub async fn open_read_only(url: &str) -> Result<ReadOnlyArchive, ReadOpenError> {
    let archive = if url.starts_with("sqlite:") {
        open_sqlite(url).await?
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        open_postgres(url).await?
    } else {
        return Err(StoreError::BadUrl {
            url: crate::redact_url(url),
            reason: "expected sqlite://PATH or postgres://USER@HOST/DB".into(),
        }
        .into());
    };
    if let Err(e) = check_schema(&archive.backend).await {
        archive.close().await;
        return Err(e);
    }
    Ok(archive)
}

async fn open_sqlite(url: &str) -> Result<ReadOnlyArchive, ReadOpenError> {
    let bad = |reason: String| StoreError::BadUrl {
        url: crate::redact_url(url),
        reason,
    };
    if url.contains(":memory:") {
        return Err(bad("an in-memory database holds no archive".into()).into());
    }
    let options = SqliteConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
    let path = options.get_filename().to_path_buf();
    if !path.is_file() {
        return Err(ReadOpenError::Missing {
            path: path.display().to_string(),
        });
    }
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let immutable = !wal.exists();
    let options = options
        .create_if_missing(false)
        .read_only(true)
        .immutable(immutable)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .map_err(StoreError::Open)?;
    Ok(ReadOnlyArchive {
        backend: Backend::Sqlite(SqliteStore::read_only(pool)),
        wal: immutable.then_some(wal),
    })
}

async fn open_postgres(url: &str) -> Result<ReadOnlyArchive, ReadOpenError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::BadUrl {
            url: crate::redact_url(url),
            reason: e.to_string(),
        })?
        .options([("default_transaction_read_only", "on")]);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(StoreError::Open)?;
    Ok(ReadOnlyArchive {
        backend: Backend::Postgres(PgStore::read_only(pool)),
        wal: None,
    })
}

/// Compares the migrations the archive records with this binary's.
async fn check_schema(backend: &Backend) -> Result<(), ReadOpenError> {
    let (known, applied) = match backend {
        Backend::Sqlite(s) => {
            let exists: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            )
            .fetch_one(s.pool())
            .await
            .map_err(|e| read_error(e.into()))?;
            let applied = if exists == 0 {
                Vec::new()
            } else {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(s.pool())
                    .await
                    .map_err(|e| read_error(e.into()))?
            };
            (versions(&crate::sqlite::MIGRATOR), applied)
        }
        Backend::Postgres(s) => {
            let exists: bool =
                sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(s.pool())
                    .await
                    .map_err(|e| read_error(e.into()))?;
            let applied = if exists {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(s.pool())
                    .await
                    .map_err(|e| read_error(e.into()))?
            } else {
                Vec::new()
            };
            (versions(&crate::postgres::MIGRATOR), applied)
        }
    };
    compare(&known, &applied.into_iter().collect())
}

fn read_error(source: crate::DbError) -> ReadOpenError {
    StoreError::Read {
        op: "reading the archive's schema version",
        source,
    }
    .into()
}

/// The versions of a migrator's up migrations.
fn versions(migrator: &sqlx::migrate::Migrator) -> BTreeSet<i64> {
    migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect()
}

/// `Ok` when the archive has applied exactly the migrations this binary knows.
fn compare(known: &BTreeSet<i64>, applied: &BTreeSet<i64>) -> Result<(), ReadOpenError> {
    if let Some(version) = applied.difference(known).next() {
        return Err(ReadOpenError::Ahead { version: *version });
    }
    let want = known.last().copied().unwrap_or(0);
    match known.difference(applied).next() {
        None => Ok(()),
        Some(missing) => Err(ReadOpenError::Behind {
            have: match applied.last() {
                None => "it has no schema at all".into(),
                Some(last) => format!("at migration {last}, without {missing}"),
            },
            want,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[i64]) -> BTreeSet<i64> {
        v.iter().copied().collect()
    }

    #[test]
    fn the_schema_must_be_exactly_this_binarys() {
        let known = set(&[1, 2, 5, 6, 7]);
        assert!(compare(&known, &set(&[1, 2, 5, 6, 7])).is_ok());
        let behind = compare(&known, &set(&[1, 2, 5])).unwrap_err().to_string();
        assert!(behind.contains("at migration 5, without 6"), "{behind}");
        assert!(behind.contains("streamvault migrate"), "{behind}");
        let empty = compare(&known, &set(&[])).unwrap_err().to_string();
        assert!(empty.contains("no schema"), "{empty}");
        assert!(matches!(
            compare(&known, &set(&[1, 2, 5, 6, 7, 8])),
            Err(ReadOpenError::Ahead { version: 8 })
        ));
    }
}
