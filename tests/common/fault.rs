//! The archive's database made unable to take writes, and given back: PostgreSQL refused by a
//! TCP proxy in front of it ([`super::proxy::Proxy`]), or an SQLite archive's write lock held
//! by this test process (another process, as far as the daemon can tell).

use super::proxy::{Outage, Proxy, pg_server};
use super::sqlite_inspect::sqlite_pool;
use std::path::PathBuf;

/// A database outage a test switches on and off.
pub enum Fault {
    Proxy(Proxy),
    /// The SQLite file, and the connection holding its write lock while cut.
    Lock(PathBuf, Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>),
}

impl Fault {
    /// The fault for the archive at `db_url`, and the URL the daemon must be given (through the
    /// proxy for PostgreSQL).
    pub async fn new(db_url: &str) -> (Fault, String) {
        match db_url.strip_prefix("sqlite://") {
            Some(path) => (Fault::Lock(path.into(), None), db_url.to_owned()),
            None => {
                let proxy = Proxy::start(pg_server(db_url).await).await;
                let url = proxy.url_for(db_url);
                (Fault::Proxy(proxy), url)
            }
        }
    }

    /// The database stops taking writes: PostgreSQL refused (connections cut, the port
    /// closed), or `BEGIN IMMEDIATE` held on the SQLite file.
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

    /// The database takes writes again (a no-op when it was not cut).
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
