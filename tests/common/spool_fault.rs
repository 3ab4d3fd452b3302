//! The database made unable to take writes while a spooled daemon reads (PostgreSQL: a TCP
//! proxy refuses it; SQLite: the test process holds the write lock), and what the tests of the
//! spool count: archived rows, duplicates, segments, spooled records.

use super::TestDb;
use super::daemon::{scenario_toml, simulator, stream};
use super::process::ProcConfig;
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
