//! Archives as an older streamvault left them: the schema migrated only up to a given version,
//! so that a test can fill it with old rows and then run the migrations that came after.

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{PgPool, SqlitePool};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Copies the migrations of `dialect` (`sqlite`, `postgres`) older than `before` (`"0006"`) into
/// a fresh folder under `dir`, and returns it.
pub fn migrations_before(dir: &Path, dialect: &str, before: &str) -> PathBuf {
    let old = dir.join(format!("migrations-{dialect}"));
    std::fs::create_dir(&old).unwrap();
    let all = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    for entry in std::fs::read_dir(all).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < before {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    old
}

/// A migrator of the migrations of `dialect` older than `before` (copied under `dir`).
async fn migrator_before(dir: &Path, dialect: &str, before: &str) -> Migrator {
    let old = migrations_before(dir, dialect, before);
    Migrator::new(old.as_path()).await.unwrap()
}

/// A SQLite archive (`archive.db` in `dir`) migrated only up to, not including, `before`: its
/// pool and URL.
pub async fn sqlite_archive_before(dir: &Path, before: &str) -> (SqlitePool, String) {
    let migrator = migrator_before(dir, "sqlite", before).await;
    let url = format!("sqlite://{}", dir.join("archive.db").display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    migrator.run(&pool).await.unwrap();
    (pool, url)
}

/// The PostgreSQL archive at `url` (an empty schema) migrated only up to, not including,
/// `before`; the migrations are copied under `dir`.
pub async fn postgres_archive_before(url: &str, dir: &Path, before: &str) -> PgPool {
    let migrator = migrator_before(dir, "postgres", before).await;
    let pool = PgPool::connect(url).await.unwrap();
    migrator.run(&pool).await.unwrap();
    pool
}
