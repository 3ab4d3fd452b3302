//! The bounded memory of past statuses: a ring of recent top-level statuses, a pool of
//! originals to retweet or quote, and the ids announced by a `delete` before their status.

use rand::Rng;

use super::StreamGenerator;
use super::world::{WORKER_UNSEEN_STATUS, snowflake};

/// How many top-level statuses (id, author) are remembered for deletes, replies and withholdings.
pub(super) const RING_CAP: usize = 100_000;
/// How many recent originals are remembered as candidates for retweets and quotes.
pub(super) const POOL_CAP: usize = 4_096;
/// Slots of "trending" originals that get most of the retweets, so that some originals are
/// retweeted many times, as in real traffic.
pub(super) const TRENDING: usize = 32;
/// At most this many ids may be announced by a `delete` before their status is emitted.
pub(super) const PENDING_CAP: usize = 256;

/// An announced status: its id went out in a `delete`, the status itself is due at `ms`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    pub(super) id: u64,
    pub(super) ms: i64,
    pub(super) user: u32,
    pub(super) seed: u64,
}

/// Everything needed to regenerate a status identically: content comes from `seed`.
#[derive(Clone, Copy, Debug)]
pub(super) struct StatusSpec {
    pub(super) id: u64,
    pub(super) ms: i64,
    pub(super) user: u32,
    pub(super) seed: u64,
    pub(super) reply: Option<(u64, u32)>,
    /// quote_count, reply_count, retweet_count, favorite_count.
    pub(super) counts: [u32; 4],
}

impl StatusSpec {
    pub(super) fn new(id: u64, ms: i64, user: u32, seed: u64, reply: Option<(u64, u32)>) -> Self {
        StatusSpec {
            id,
            ms,
            user,
            seed,
            reply,
            counts: [0; 4],
        }
    }
}

impl StreamGenerator {
    /// A remembered top-level status, biased towards recent ones (deletions mostly concern
    /// fresh statuses).
    pub(super) fn ring_pick(&mut self) -> (u64, u32) {
        let len = self.ring_ids.len();
        let back = if self.rng.random_bool(0.5) {
            self.rng.random_range(0..len.min(2_000))
        } else {
            self.rng.random_range(0..len)
        };
        let i = (self.ring_head + len - 1 - back) % len;
        (self.ring_ids[i], self.ring_users[i])
    }

    /// The status a reply answers: mostly one seen in the stream, else one it never showed.
    pub(super) fn reply_target(&mut self) -> (u64, u32) {
        if !self.ring_ids.is_empty() && self.rng.random_bool(0.7) {
            self.ring_pick()
        } else {
            let ago = self.rng.random_range(60_000..3 * 86_400_000);
            let worker = WORKER_UNSEEN_STATUS + self.rng.random_range(0..256);
            let id = snowflake(self.clock_ms - ago, worker, self.rng.random_range(0..4096));
            (id, self.world.zipf(&mut self.rng))
        }
    }

    /// An original to retweet or quote: mostly one emitted earlier (a few "trending" ones get
    /// most retweets), sometimes one the stream never showed. Its counters are bumped so that
    /// the embedded copy shows a growing `retweet_count`, as real embedded statuses do.
    pub(super) fn pick_original(&mut self) -> StatusSpec {
        let u: f64 = self.rng.random();
        if self.pool.is_empty() || u < 0.15 {
            let ago = self.rng.random_range(60_000..3 * 86_400_000);
            let worker = WORKER_UNSEEN_STATUS + self.rng.random_range(0..256);
            let id = snowflake(self.clock_ms - ago, worker, self.rng.random_range(0..4096));
            let user = self.world.zipf(&mut self.rng);
            let mut spec = StatusSpec::new(id, self.clock_ms - ago, user, self.rng.random(), None);
            let rts = self.rng.random_range(1..5_000u32);
            spec.counts = [
                rts / 40,
                rts / 25 + self.rng.random_range(0..20u32),
                rts,
                rts * self.rng.random_range(2..9u32),
            ];
            return spec;
        }
        let i = if u < 0.70 {
            let slot = self.rng.random_range(0..TRENDING);
            let t = self.trending[slot] as usize;
            if t >= self.pool.len() || self.rng.random_bool(0.03) {
                let fresh = self.rng.random_range(0..self.pool.len());
                self.trending[slot] = fresh as u32;
                fresh
            } else {
                t
            }
        } else {
            self.rng.random_range(0..self.pool.len())
        };
        let extra_favs = self.rng.random_range(0..6u32);
        let e = &mut self.pool[i];
        e.counts[2] += 1;
        e.counts[3] += extra_favs;
        if extra_favs == 0 {
            e.counts[1] += 1;
        }
        if extra_favs == 5 {
            e.counts[0] += 1;
        }
        *e
    }

    /// Records an emitted top-level status for later deletes, scrubs, withholdings, replies and
    /// (for originals) retweets and quotes.
    pub(super) fn remember(&mut self, spec: &StatusSpec, original: bool) {
        self.last_id = self.last_id.max(spec.id);
        if self.ring_ids.len() < self.ring_cap {
            self.ring_ids.push(spec.id);
            self.ring_users.push(spec.user);
        } else {
            self.ring_ids[self.ring_head] = spec.id;
            self.ring_users[self.ring_head] = spec.user;
        }
        self.ring_head = (self.ring_head + 1) % self.ring_cap;
        let u = spec.user as usize;
        self.world.last_status[u] = spec.id;
        self.world.posted[u] = self.world.posted[u].saturating_add(1);
        if original {
            let mut entry = *spec;
            entry.counts = [0; 4];
            if self.pool.len() < POOL_CAP {
                self.pool.push(entry);
            } else {
                self.pool[self.pool_head] = entry;
            }
            self.pool_head = (self.pool_head + 1) % POOL_CAP;
        }
    }
}
