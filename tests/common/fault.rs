//! The archive's database made unable to take writes, and given back: PostgreSQL refused by a
//! TCP proxy, SQLite's write lock held by this test process.

use super::TestDb;
use super::proxy::{Outage, Proxy, pg_server};
use super::sqlite_inspect::sqlite_pool;

/// The database made unable to take writes, and given back.
pub enum Fault {
    Proxy(Proxy),
    /// The SQLite file, and the connection holding its write lock while cut.
    Lock(
        std::path::PathBuf,
        Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
    ),
}

impl Fault {
    pub async fn new(db: &TestDb) -> (Fault, String) {
        match db.url.strip_prefix("sqlite://") {
            Some(path) => (Fault::Lock(path.into(), None), db.url.clone()),
            None => {
                let proxy = Proxy::start(pg_server(&db.url).await).await;
                let url = proxy.url_for(&db.url);
                (Fault::Proxy(proxy), url)
            }
        }
    }

    pub async fn cut(&mut self) {
        match self {
            Fault::Proxy(p) => p.cut(Outage::Refuse),
            Fault::Lock(path, held) => {
                let pool = sqlite_pool(path).await;
                let mut conn = pool.acquire().await.unwrap();
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                *held = Some(conn);
            }
        }
    }

    pub async fn restore(&mut self) {
        match self {
            Fault::Proxy(p) => p.restore(),
            Fault::Lock(_, held) => {
                if let Some(mut conn) = held.take() {
                    sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
                }
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Fault::Proxy(_) => "PostgreSQL refused by the proxy",
            Fault::Lock(..) => "SQLite write lock held by another process",
        }
    }
}
