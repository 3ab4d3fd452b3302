//! Where a benchmark run archives to: a fresh SQLite file or a fresh PostgreSQL schema, removed
//! again after the run.

use crate::common::{fresh_sqlite, remove_sqlite_files};
use std::path::{Path, PathBuf};

/// A fresh archive of one backend.
pub struct Target {
    pub name: &'static str,
    pub url: String,
    pub schema: Option<String>,
    pub file: Option<PathBuf>,
}

impl Target {
    pub fn sqlite(dir: &Path, tag: &str) -> Target {
        let (file, url) = fresh_sqlite(dir, tag);
        Target {
            name: "sqlite",
            url,
            schema: None,
            file: Some(file),
        }
    }

    pub async fn postgres(admin: &str, tag: &str) -> Target {
        let schema = format!("sv_bench_{tag}");
        let pool = sqlx::PgPool::connect(admin)
            .await
            .expect("PostgreSQL for the benchmark (BENCH_PG=none to skip)");
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let sep = if admin.contains('?') { '&' } else { '?' };
        Target {
            name: "postgres",
            url: format!("{admin}{sep}options=-c%20search_path%3D{schema}"),
            schema: Some(schema),
            file: None,
        }
    }

    /// Removes the archive: the SQLite files, or the PostgreSQL schema.
    pub async fn discard(&self, admin: &str) {
        if let Some(file) = &self.file {
            remove_sqlite_files(file);
        }
        if let Some(schema) = &self.schema {
            let pool = sqlx::PgPool::connect(admin).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}
