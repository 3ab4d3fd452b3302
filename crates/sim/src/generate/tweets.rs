//! Choosing the next top-level status: an announced one that is due, a retweet, a quote or an
//! original.

use rand::Rng;

use super::StreamGenerator;
use super::json::Esc;
use super::memory::StatusSpec;
use super::random::pick_source;
use super::status::{Shape, write_status};
use super::world::{WORKER_UNSEEN_DELETE, snowflake};

impl StreamGenerator {
    /// The next top-level status: an announced one if it is due, else a retweet, a quote or an
    /// original (sometimes a reply), with an id above every id emitted so far.
    pub(super) fn write_tweet(&mut self, out: &mut Vec<u8>) {
        let mut ms = self.clock_ms;
        let mut id = snowflake(
            ms,
            self.rng.random_range(0..WORKER_UNSEEN_DELETE),
            self.rng.random_range(0..4096),
        );
        if id <= self.last_id {
            // Same millisecond as the previous status: take a larger id among the workers of
            // emitted statuses, or move to the next millisecond if this one is full.
            let end = snowflake(ms, WORKER_UNSEEN_DELETE, 0);
            if self.last_id + 1 < end {
                let room = (end - self.last_id - 1).min(1024);
                id = self.last_id + 1 + self.rng.random_range(0..room);
            } else {
                self.clock_ms += 1;
                ms += 1;
                id = snowflake(ms, self.rng.random_range(0..WORKER_UNSEEN_DELETE), 0);
            }
        }
        let esc = Esc {
            slash: self.rng.random_bool(0.9),
            ascii: self.rng.random_bool(0.2),
        };
        let due = self
            .pending
            .front()
            .copied()
            .filter(|p| p.ms <= ms || p.id <= id);
        if let Some(p) = due {
            // An announced status is due: emit it now, with the id its delete carried.
            self.pending.pop_front();
            let spec = StatusSpec::new(p.id, p.ms, p.user, p.seed, None);
            self.write_original(out, &spec, esc);
            self.remember(&spec, true);
            return;
        }
        self.last_id = id;
        let r = self.rng.random::<f64>() * 100.0;
        if r < self.mix.retweet_pct {
            self.write_retweet(out, id, ms, esc);
        } else if r < self.mix.retweet_pct + self.mix.quote_pct {
            self.write_quote(out, id, ms, esc);
        } else {
            let author = self.world.zipf(&mut self.rng);
            let reply = if self.rng.random_bool(0.12) {
                Some(self.reply_target())
            } else {
                None
            };
            let spec = StatusSpec::new(id, ms, author, self.rng.random(), reply);
            self.write_original(out, &spec, esc);
            self.remember(&spec, true);
        }
    }

    /// An original status (or an announced one), written from its spec.
    fn write_original(&mut self, out: &mut Vec<u8>, spec: &StatusSpec, esc: Esc) {
        self.own.fill(&self.world, spec, None, self.p_geo);
        write_status(
            &self.world,
            out,
            &mut self.tmp,
            spec,
            &self.own,
            Shape::Plain,
            true,
            esc,
        );
    }

    /// A retweet by another user, carrying its original in full.
    fn write_retweet(&mut self, out: &mut Vec<u8>, id: u64, ms: i64, esc: Esc) {
        let orig = self.pick_original();
        self.embedded.fill(&self.world, &orig, None, self.p_geo);
        let mut user = self.world.zipf(&mut self.rng);
        if user == orig.user {
            user = (user + 1) % self.world.users;
        }
        let source = pick_source(&mut self.rng);
        self.retweet
            .fill_retweet(&self.world, &self.embedded, orig.user, source);
        let spec = StatusSpec::new(id, ms, user, 0, None);
        write_status(
            &self.world,
            out,
            &mut self.tmp,
            &spec,
            &self.retweet,
            Shape::Retweet(&orig, &self.embedded),
            true,
            esc,
        );
        self.remember(&spec, false);
    }

    /// A status quoting another, carrying the quoted one in full.
    fn write_quote(&mut self, out: &mut Vec<u8>, id: u64, ms: i64, esc: Esc) {
        let quoted = self.pick_original();
        self.embedded.fill(&self.world, &quoted, None, self.p_geo);
        let author = self.world.zipf(&mut self.rng);
        let spec = StatusSpec::new(id, ms, author, self.rng.random(), None);
        self.own.fill(
            &self.world,
            &spec,
            Some((quoted.id, quoted.user)),
            self.p_geo,
        );
        write_status(
            &self.world,
            out,
            &mut self.tmp,
            &spec,
            &self.own,
            Shape::Quote(&quoted, &self.embedded),
            true,
            esc,
        );
        self.remember(&spec, false);
    }
}
