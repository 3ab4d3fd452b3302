//! Test harness: real SQLite files and a real PostgreSQL schema per test.
//!
//! PostgreSQL is found at `STREAMVAULT_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`).
//! Without it a PostgreSQL test is skipped with a note, except under CI (`CI=true`), where it fails.
#![allow(dead_code)]

pub mod capability;
pub mod daemon;
pub mod fault;
pub mod logs;
pub mod migrations;
pub mod pg_pages;
pub mod process;
pub mod proxy;
pub mod reference;
pub mod scrape;
pub mod spool_fault;
pub mod sqlite_inspect;
pub mod tmpfs;

use chrono::Utc;
use sqlx::Row;
use std::io::Write;
use std::path::PathBuf;
use streamvault::pipeline::PipelineConfig;
use streamvault::replay::{self, ReplayOptions, ReplaySummary};
use streamvault::store::Backend;
use streamvault::with_store;

/// Runs a test body on SQLite and on PostgreSQL: `both_backends!(name, |db| async move { .. });`
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$db:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $db = $crate::common::TestDb::sqlite().await;
                $body.await;
                $db.cleanup().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($db) = $crate::common::TestDb::postgres().await else {
                    return;
                };
                $body.await;
                $db.cleanup().await;
            }
        }
    };
}

pub const BIG: i64 = 1_234_567_890_123_456_789;

/// A fresh, migrated archive.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    schema: Option<String>,
    admin_url: String,
}

fn pg_admin_url() -> String {
    std::env::var("STREAMVAULT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A pool on PostgreSQL's admin URL and that URL; `None`, with a `SKIPPED` note, when it is not
/// reachable outside CI (under CI that is a failure).
pub async fn pg_admin() -> Option<(sqlx::PgPool, String)> {
    let admin_url = pg_admin_url();
    match sqlx::PgPool::connect(&admin_url).await {
        Ok(pool) => Some((pool, admin_url)),
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: PostgreSQL not reachable at {admin_url}: {e}");
            None
        }
        Err(e) => panic!("PostgreSQL required under CI at {admin_url}: {e}"),
    }
}

/// `admin_url` with every statement's `search_path` set to `schema`.
pub fn url_in_schema(admin_url: &str, schema: &str) -> String {
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    format!("{admin_url}{sep}options=-c%20search_path%3D{schema}")
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("archive.db").display());
        let backend = streamvault::cli::open_migrated(&url).await.unwrap();
        TestDb {
            url,
            backend,
            dir,
            schema: None,
            admin_url: String::new(),
        }
    }

    /// The SQLite archive `archive.db` an older streamvault left in `dir`, migrated now.
    pub async fn sqlite_in(dir: tempfile::TempDir) -> TestDb {
        let url = format!("sqlite://{}", dir.path().join("archive.db").display());
        let backend = streamvault::cli::open_migrated(&url).await.unwrap();
        TestDb {
            url,
            backend,
            dir,
            schema: None,
            admin_url: String::new(),
        }
    }

    pub async fn postgres() -> Option<TestDb> {
        let (admin, admin_url) = pg_admin().await?;
        let schema = format!("sv_test_{}", rand_suffix());
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let url = url_in_schema(&admin_url, &schema);
        let backend = streamvault::cli::open_migrated(&url).await.unwrap();
        Some(TestDb {
            url,
            backend,
            dir: tempfile::tempdir().unwrap(),
            schema: Some(schema),
            admin_url,
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.schema.is_some()
    }

    pub async fn cleanup(&self) {
        self.backend.close().await;
        if let Some(schema) = &self.schema {
            let admin = sqlx::PgPool::connect(&self.admin_url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
        }
    }

    /// Replays lines (joined with `\n`) as one file through the real pipeline.
    pub async fn replay_lines(&self, lines: &[&str]) -> ReplaySummary {
        self.replay_bytes(lines.join("\n").as_bytes(), PipelineConfig::default())
            .await
    }

    /// Replays raw bytes with a given pipeline configuration.
    pub async fn replay_bytes(&self, bytes: &[u8], config: PipelineConfig) -> ReplaySummary {
        let path = self
            .dir
            .path()
            .join(format!("input-{}.jsonl", rand_suffix()));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        self.replay_files(vec![path], config).await
    }

    pub async fn replay_files(
        &self,
        inputs: Vec<PathBuf>,
        config: PipelineConfig,
    ) -> ReplaySummary {
        self.replay_files_with(inputs, config, Default::default())
            .await
    }

    /// Replays lines as one file, the store following `policy` (the `[compliance]` choices).
    pub async fn replay_with(
        &self,
        lines: &[&str],
        policy: streamvault::compliance::Policy,
    ) -> ReplaySummary {
        let path = self
            .dir
            .path()
            .join(format!("input-{}.jsonl", rand_suffix()));
        std::fs::write(&path, lines.join("\n")).unwrap();
        self.replay_files_with(vec![path], PipelineConfig::default(), policy)
            .await
    }

    /// [`TestDb::replay_files`] with a compliance policy.
    pub async fn replay_files_with(
        &self,
        inputs: Vec<PathBuf>,
        config: PipelineConfig,
        policy: streamvault::compliance::Policy,
    ) -> ReplaySummary {
        let options = ReplayOptions {
            inputs,
            stream: "test".into(),
            max_line_bytes: 65536,
            max_reject_bytes: 1 << 20,
            progress_bar: false,
        };
        with_store!(self.backend.clone(), s => replay::replay(streamvault::store::Store::with_policy(s, policy), config, options).await).unwrap()
    }

    /// One integer from a query (portable SQL only).
    pub async fn int(&self, sql: &str) -> i64 {
        match &self.backend {
            Backend::Sqlite(s) => sqlx::query(sql)
                .fetch_one(s.pool())
                .await
                .unwrap()
                .get::<i64, _>(0),
            Backend::Postgres(s) => {
                let row = sqlx::query(sql)
                    .fetch_one(s.pool())
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                row.try_get::<i64, _>(0)
                    .or_else(|_| row.try_get::<i32, _>(0).map(i64::from))
                    .unwrap()
            }
        }
    }

    /// Every row of a query, each column cast to text by the caller's SQL (`CAST(x AS TEXT)`).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        macro_rules! collect {
            ($pool:expr) => {
                sqlx::query(sql)
                    .fetch_all($pool)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.get::<Option<String>, _>(i))
                            .collect()
                    })
                    .collect()
            };
        }
        match &self.backend {
            Backend::Sqlite(s) => collect!(s.pool()),
            Backend::Postgres(s) => collect!(s.pool()),
        }
    }

    /// A single text value (or None).
    pub async fn text(&self, sql: &str) -> Option<String> {
        self.rows(sql)
            .await
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
    }

    /// A JSON column parsed (`raw`, `place`, ...), as text in the query.
    pub async fn json(&self, sql: &str) -> Option<serde_json::Value> {
        self.text(sql)
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
    }

    /// Every file of the SQLite archive (database, WAL, shared memory, and the segments of its
    /// spool, `archive.db.spool/`) that contains `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if !path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("archive.db")
            {
                continue;
            }
            if path.is_dir() {
                walk(&path, &mut files);
            } else {
                files.push(path);
            }
        }
        files
            .into_iter()
            .filter(|p| {
                let bytes = std::fs::read(p).unwrap();
                bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            })
            .map(|p| p.display().to_string())
            .collect()
    }

    /// `compliance_actions` as (kind, target, rows affected, deferred), in order.
    pub async fn actions(&self) -> Vec<(String, i64, i64, bool)> {
        self.rows(
            "SELECT kind, CAST(target_id AS TEXT), CAST(rows_affected AS TEXT), \
             CASE WHEN deferred THEN 'y' ELSE 'n' END FROM compliance_actions ORDER BY action_id",
        )
        .await
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].as_ref().unwrap().parse().unwrap(),
                r[2].as_ref().unwrap().parse().unwrap(),
                r[3].as_deref() == Some("y"),
            )
        })
        .collect()
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.int(&format!("SELECT COUNT(*) FROM {table}")).await
    }
}

pub fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0) % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A status line for tests.
pub fn tweet(id: i64, user: i64, text: &str) -> String {
    serde_json::json!({
        "id": id, "id_str": id.to_string(), "text": text, "lang": "en",
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "user": {"id": user, "id_str": user.to_string(), "screen_name": format!("u{user}")},
        "coordinates": null, "geo": null, "place": null
    })
    .to_string()
}

/// A located status line.
pub fn geo_tweet(id: i64, user: i64, text: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&tweet(id, user, text)).unwrap();
    v["coordinates"] = serde_json::json!({"type": "Point", "coordinates": [13.405, 52.52]});
    v["geo"] = serde_json::json!({"type": "Point", "coordinates": [52.52, 13.405]});
    v["place"] = serde_json::json!({"id": "3078869807f9dd36", "full_name": "Berlin, Germany"});
    v.to_string()
}

/// A retweet of `original` (a status line) by `user`.
pub fn retweet(id: i64, user: i64, original: &str) -> String {
    let orig: serde_json::Value = serde_json::from_str(original).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&tweet(id, user, "RT")).unwrap();
    v["text"] = format!("RT @x: {}", orig["text"].as_str().unwrap()).into();
    v["retweeted_status"] = orig;
    v.to_string()
}

/// A quote of `original` by `user`.
pub fn quote(id: i64, user: i64, original: &str) -> String {
    let orig: serde_json::Value = serde_json::from_str(original).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&tweet(id, user, "quoting")).unwrap();
    v["quoted_status_id_str"] = orig["id_str"].clone();
    v["is_quote_status"] = true.into();
    v["quoted_status"] = orig;
    v.to_string()
}

pub fn delete(id: i64, user: i64) -> String {
    serde_json::json!({"delete": {"status": {"id": id, "id_str": id.to_string(), "user_id": user, "user_id_str": user.to_string()}}}).to_string()
}

pub fn scrub_geo(user: i64, up_to: i64) -> String {
    serde_json::json!({"scrub_geo": {"user_id": user, "user_id_str": user.to_string(), "up_to_status_id": up_to, "up_to_status_id_str": up_to.to_string()}}).to_string()
}

pub fn status_withheld(id: i64, user: i64, countries: &[&str]) -> String {
    serde_json::json!({"status_withheld": {"id": id, "user_id": user, "withheld_in_countries": countries}}).to_string()
}

pub fn user_withheld(user: i64, countries: &[&str]) -> String {
    serde_json::json!({"user_withheld": {"id": user, "withheld_in_countries": countries}})
        .to_string()
}
