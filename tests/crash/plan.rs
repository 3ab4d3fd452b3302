//! Which trials run: the seed picks, for each, the backend, the phase the daemon is in when it
//! is killed, and the kill's moment within that phase.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What the daemon is doing when it is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Archiving a live stream straight into the database.
    Steady,
    /// The database cannot take writes (PostgreSQL refused, the SQLite lock held elsewhere):
    /// what is read goes to the spool.
    Spooling,
    /// The database is back after an outage and the spool is being committed, live records
    /// appended behind it.
    Draining,
    /// A status was deleted (the delete committed, its purge owed) and the purge is not due
    /// yet.
    DeleteBeforePurge,
}

impl Phase {
    pub const ALL: [Phase; 4] = [
        Phase::Steady,
        Phase::Spooling,
        Phase::Draining,
        Phase::DeleteBeforePurge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Steady => "steady",
            Phase::Spooling => "spooling",
            Phase::Draining => "draining",
            Phase::DeleteBeforePurge => "delete→purge",
        }
    }
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// One trial to run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub n: usize,
    pub backend: Backend,
    pub phase: Phase,
    /// From the start of the phase (the stream flowing; spooling seen; the drain seen; the
    /// delete committed) to the kill.
    pub delay_ms: u64,
    /// `Draining`: how long the outage lasts once spooling is seen (the backlog to drain).
    pub outage_ms: u64,
}

/// `trials` plans from `seed`. The first eight cover every (backend, phase) pair once, in a
/// seeded order; the rest pick both at random. Kill moments are drawn per phase.
pub fn plans(seed: u64, trials: usize, purge_within_secs: u64) -> Vec<Plan> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cells: Vec<(Backend, Phase)> = [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .flat_map(|b| Phase::ALL.into_iter().map(move |p| (b, p)))
        .collect();
    cells.shuffle(&mut rng);
    (1..=trials)
        .map(|n| {
            let (backend, phase) = match cells.get(n - 1) {
                Some(cell) => *cell,
                None => (
                    if rng.random_bool(0.5) {
                        Backend::Sqlite
                    } else {
                        Backend::Postgres
                    },
                    Phase::ALL[rng.random_range(0..Phase::ALL.len())],
                ),
            };
            let delay_ms = match phase {
                Phase::Steady => rng.random_range(200..=1500),
                Phase::Spooling => rng.random_range(0..=3000),
                Phase::Draining => rng.random_range(0..=600),
                // Well before the purge falls due.
                Phase::DeleteBeforePurge => rng.random_range(0..=purge_within_secs * 1000 / 2),
            };
            let outage_ms = match phase {
                Phase::Draining => rng.random_range(1500..=4000),
                _ => 0,
            };
            Plan {
                n,
                backend,
                phase,
                delay_ms,
                outage_ms,
            }
        })
        .collect()
}
