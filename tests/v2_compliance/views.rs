//! Reading the views meant for showing and sharing, with and without a viewer country: the
//! `viewer_country` table on SQLite, the `streamvault.country` session setting on PostgreSQL.
#![allow(dead_code)]

use super::common::TestDb;
use streamvault::store::Backend;

/// The ids a query returns as text, sorted.
pub async fn ids_of(db: &TestDb, sql: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = db
        .rows(sql)
        .await
        .iter()
        .map(|r| r[0].as_ref().unwrap().parse().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// `tweets_visible`, no country chosen.
pub async fn visible(db: &TestDb) -> Vec<i64> {
    ids_of(db, "SELECT CAST(tweet_id AS TEXT) FROM tweets_visible").await
}

/// `users_visible`, no country chosen.
pub async fn visible_users(db: &TestDb) -> Vec<i64> {
    ids_of(db, "SELECT CAST(user_id AS TEXT) FROM users_visible").await
}

/// `tweets_visible` as shown in `country`, by each backend's documented mechanism.
pub async fn visible_in(db: &TestDb, country: &str) -> Vec<i64> {
    let sql = "SELECT CAST(tweet_id AS TEXT) FROM tweets_visible";
    let mut ids: Vec<i64> = match &db.backend {
        Backend::Sqlite(s) => {
            let mut conn = s.pool().acquire().await.unwrap();
            sqlx::query("INSERT INTO viewer_country (country) VALUES ($1)")
                .bind(country)
                .execute(&mut *conn)
                .await
                .unwrap();
            let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut *conn).await.unwrap();
            sqlx::query("DELETE FROM viewer_country")
                .execute(&mut *conn)
                .await
                .unwrap();
            rows.iter().map(|r| r.parse().unwrap()).collect()
        }
        Backend::Postgres(s) => {
            let mut conn = s.pool().acquire().await.unwrap();
            sqlx::query("SELECT set_config('streamvault.country', $1, false)")
                .bind(country)
                .execute(&mut *conn)
                .await
                .unwrap();
            let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut *conn).await.unwrap();
            sqlx::query("SELECT set_config('streamvault.country', '', false)")
                .execute(&mut *conn)
                .await
                .unwrap();
            rows.iter().map(|r| r.parse().unwrap()).collect()
        }
    };
    ids.sort_unstable();
    ids
}
