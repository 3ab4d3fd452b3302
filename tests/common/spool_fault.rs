//! The database made unable to take writes while a spooled daemon reads (PostgreSQL: a TCP
//! proxy refuses it; SQLite: the test process holds the write lock), and what the tests of the
//! spool count: archived rows, duplicates, segments, spooled records.

use super::TestDb;
use super::daemon::{scenario_toml, simulator, stream};
use super::process::ProcConfig;
use super::proxy::*;
use super::sqlite_inspect::*;
use std::path::Path;
use streamvault::spool::{Spool, SpoolConfig};

pub const PATH: &str = "/1.1/statuses/filter.json";

/// Events + rejects archived.
pub async fn archived(db: &TestDb) -> i64 {
    db.int("SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM rejects)")
        .await
}

pub async fn duplicates(db: &TestDb) -> i64 {
    db.int("SELECT COUNT(*) - COUNT(DISTINCT tweet_id) FROM events WHERE kind = 'tweet'")
        .await
}

/// Segment files in the spool directory.
pub fn segments(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| e.as_ref().unwrap().path().extension() == Some("seg".as_ref()))
                .count()
        })
        .unwrap_or(0)
}

/// Records the spool holds, read without committing them.
pub fn spooled(dir: &Path) -> usize {
    let mut spool = Spool::open(SpoolConfig::new(dir), Default::default()).unwrap();
    let mut n = 0;
    while spool.has_unread() {
        n += spool.read_batch(10_000, 64 << 20).unwrap().0.len();
    }
    n
}

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

/// A daemon reading `sends` events at `rate` on one connection (then keep-alives; a second
/// connection sends nothing), its spool in `work/spool`.
pub async fn setup(
    work: &Path,
    db_url: &str,
    rate: f64,
    sends: u64,
    extra: &str,
) -> (streamvault::simulate::Simulator, ProcConfig) {
    let scenario = format!(
        "name = \"burst\"\nrate = {rate}\n[[connection]]\nsteps = [{{ send = {sends} }}, {{ idle = \"forever\" }}]\n\
         [[connection]]\nsteps = [{{ idle = \"forever\" }}]\n"
    );
    let sim = simulator(scenario_toml(work, &scenario), rate).await;
    let mut spec = stream("main", &sim, PATH, "burst");
    spec.url = format!("http://{}{PATH}", sim.addr());
    let mut config = ProcConfig::new(db_url, vec![spec]);
    config.extra = format!(
        "\n[spool]\ndir = {:?}\n{extra}",
        work.join("spool").display().to_string()
    );
    (sim, config)
}
