//! Deterministic generator of realistic v1.1 stream traffic, for benchmarks, the simulator and tests.
//!
//! The output imitates what a `statuses/filter` or `statuses/sample` connection delivers: full
//! status objects of 3–6 KB (a complete author object, entities, sometimes `extended_tweet`,
//! media, places, retweets carrying their original, quotes carrying the quoted status) mixed with
//! the compliance notices the archive must act on (`delete`, `scrub_geo`, `status_withheld`,
//! `user_withheld`), `limit` notices and blank keep-alive lines.
//!
//! Everything is a function of the seed and the [`Mix`], so a benchmark or a failing test can be
//! replayed byte for byte (with the same `rand` version and pointer width: `SmallRng` is not a
//! portable generator; no float function of the platform's libm is involved). JSON is written
//! straight into the caller's buffer (no `serde_json` values) so that generating is never the
//! bottleneck of what it measures.
//!
//! The stream has its own clock: lines are ~20 ms apart on average (exponential gaps, 50 lines
//! per second), so `created_at` and `timestamp_ms` increase like a live connection's and a
//! simulator can pace replay by them.
//!
//! # Ids
//!
//! Ids are Twitter snowflakes, `((ms - 1288834974657) << 22) | (worker << 12) | sequence`,
//! starting near 1.5e18 (March 2022, well above 2^53) and strictly increasing in output order;
//! the time part of a status id is its `timestamp_ms`. The 10-bit worker field tells where an id
//! comes from, which lets tests and the integrator classify any id without keeping state:
//!
//! * workers `0..512`: statuses emitted at the top level of the stream, including the "future"
//!   ids that a `delete` announces up to 60 s (of stream time) before the status arrives;
//! * workers `512..768`: ids that only ever appear in `delete` notices (statuses the stream never
//!   showed, as when a deletion concerns a status that did not match the filter);
//! * workers `768..1024`: originals that appear only embedded (`retweeted_status`,
//!   `quoted_status`) or as `in_reply_to_status_id`, never at the top level.
//!
//! A "future" id announced in the last minute of stream time before generation stops is never
//! emitted: its delete stays unresolved, as it would on a connection closed at that moment.
//!
//! # Bounded memory
//!
//! The generator remembers the last 100,000 top-level statuses (id and author) for deletes,
//! withholdings and replies, the last 4,096 originals for retweets and quotes, at most 256
//! announced-but-not-yet-emitted ids, and two counters per user of the population (at most
//! 20 million users). None of this grows with the number of lines generated.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, VecDeque};
use std::io;

/// Twitter's snowflake epoch (2010-11-04T01:42:54.657Z), in Unix milliseconds.
const TWEPOCH_MS: i64 = 1_288_834_974_657;
/// Roughly the first status id of a stream: above 2^53 so that float-parsing bugs show.
const FIRST_ID: u64 = 1_500_000_000_000_000_000;
/// The stream's clock at its first line (2022-03-05), so that the first ids are near [`FIRST_ID`].
const START_MS: i64 = TWEPOCH_MS + (FIRST_ID >> 22) as i64;
/// Mean time between two lines: 50 lines per second, like a busy filter connection.
const MEAN_GAP_MS: f64 = 20.0;
/// How many top-level statuses (id, author) are remembered for deletes, replies and withholdings.
const RING_CAP: usize = 100_000;
/// How many recent originals are remembered as candidates for retweets and quotes.
const POOL_CAP: usize = 4_096;
/// Slots of "trending" originals that get most of the retweets, so that some originals are
/// retweeted many times, as in real traffic.
const TRENDING: usize = 32;
/// At most this many ids may be announced by a `delete` before their status is emitted.
const PENDING_CAP: usize = 256;
/// Share of lines (percent) that are blank keep-alive lines. Real connections send them during
/// lulls; a few of them exercise the consumer's keep-alive path without a knob of their own.
const KEEPALIVE_PCT: f64 = 0.1;
/// First worker number of ids that are only ever deleted, never emitted.
const WORKER_UNSEEN_DELETE: u64 = 512;
/// First worker number of originals that are only ever embedded, never emitted at the top level.
const WORKER_UNSEEN_STATUS: u64 = 768;
/// Beyond this many users the per-user counters would dominate memory; larger mixes are clamped.
const MAX_USERS: u64 = 20_000_000;

/// Proportions of each message type, in percent.
///
/// `delete_pct`, `scrub_geo_pct`, `withheld_pct` and `limit_pct` are percentages of all lines;
/// everything not taken by them (nor by the 0.1% of keep-alive lines) is a status. `retweet_pct`,
/// `quote_pct` and `geo_pct` are percentages of those statuses, because that is how real traffic
/// is usually described ("a fifth of the statuses are retweets").
#[derive(Debug, Clone)]
pub struct Mix {
    /// Statuses that are retweets, carrying the full original in `retweeted_status`.
    pub retweet_pct: f64,
    /// Statuses that quote another status (`is_quote_status`, `quoted_status`).
    pub quote_pct: f64,
    /// Statuses with `coordinates`, `geo` and a `place`.
    pub geo_pct: f64,
    /// `delete` notices: ~80% for ids emitted earlier, ~15% for ids never emitted, ~5% for ids
    /// whose status is emitted later in the stream.
    pub delete_pct: f64,
    /// `scrub_geo` notices, for users who have posted, up to their latest status.
    pub scrub_geo_pct: f64,
    /// Withholding notices, half `status_withheld` and half `user_withheld`.
    pub withheld_pct: f64,
    /// `limit` notices, with a cumulative, increasing `track`.
    pub limit_pct: f64,
    /// Size of the user population; who posts is Zipf-skewed, so a few users post a lot.
    pub users: u64,
}

impl Default for Mix {
    /// Proportions close to a real sample stream, so that a benchmark measures realistic work.
    fn default() -> Self {
        Mix {
            retweet_pct: 20.0,
            quote_pct: 3.0,
            geo_pct: 2.0,
            delete_pct: 5.0,
            scrub_geo_pct: 0.2,
            withheld_pct: 0.2,
            limit_pct: 0.2,
            users: 50_000,
        }
    }
}

/// Counts of what was generated, by kind name ("tweet", "delete", "scrub_geo",
/// "status_withheld", "user_withheld", "limit", "keepalive"), so that a benchmark can report
/// and check what it replayed.
///
/// `bytes` counts line contents only for [`StreamGenerator::generated`]; the result of
/// [`write_stream`] also counts the line terminators, i.e. it is the number of bytes written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Generated {
    /// Lines generated, keep-alive lines included.
    pub lines: u64,
    /// Bytes generated (see the type's documentation for terminators).
    pub bytes: u64,
    /// Lines per kind name; a kind never generated has no entry.
    pub by_kind: BTreeMap<&'static str, u64>,
}

/// The generator: a seeded state machine that yields one stream line at a time, so that a
/// benchmark can write millions of lines and a simulator can pace them.
pub struct StreamGenerator {
    mix: Mix,
    rng: SmallRng,
    world: World,
    /// Probability that an original (non-retweet) status carries a location.
    p_geo: f64,
    /// The stream's clock, in Unix milliseconds; advances with every line.
    clock_ms: i64,
    /// Largest status id emitted at the top level so far.
    last_id: u64,
    /// Cumulative `limit.track`.
    track: u64,
    ring_ids: Vec<u64>,
    ring_users: Vec<u32>,
    ring_head: usize,
    ring_cap: usize,
    pool: Vec<StatusSpec>,
    pool_head: usize,
    trending: [u32; TRENDING],
    /// Ids announced by a `delete` and not yet emitted, sorted by id (hence by due time).
    pending: VecDeque<Pending>,
    own: Scratch,
    embedded: Scratch,
    retweet: Scratch,
    tmp: String,
    generated: Generated,
}

impl StreamGenerator {
    /// A generator whose whole output is determined by `seed` and `mix`, so that runs can be
    /// compared and replayed.
    pub fn new(seed: u64, mix: Mix) -> Self {
        Self::with_ring_cap(seed, mix, RING_CAP)
    }

    /// [`StreamGenerator::new`] with a smaller memory of past statuses, so that tests can see
    /// the ring wrap around without generating 100,000 statuses.
    fn with_ring_cap(seed: u64, mix: Mix, ring_cap: usize) -> Self {
        let ring_cap = ring_cap.max(1);
        let users = mix.users.clamp(1, MAX_USERS) as u32;
        let rt_share = (mix.retweet_pct.max(0.0) / 100.0).min(0.99);
        let p_geo = (mix.geo_pct.max(0.0) / 100.0 / (1.0 - rt_share)).min(1.0);
        StreamGenerator {
            rng: SmallRng::seed_from_u64(mix64(seed ^ 0x05EE_D0F5_7EA4)),
            world: World::new(mix64(seed.wrapping_add(0x0123_4567_89AB_CDEF)), users),
            mix,
            p_geo,
            clock_ms: START_MS,
            last_id: 0,
            track: 0,
            ring_ids: Vec::with_capacity(ring_cap),
            ring_users: Vec::with_capacity(ring_cap),
            ring_head: 0,
            ring_cap,
            pool: Vec::with_capacity(POOL_CAP),
            pool_head: 0,
            trending: [u32::MAX; TRENDING],
            pending: VecDeque::new(),
            own: Scratch::default(),
            embedded: Scratch::default(),
            retweet: Scratch::default(),
            tmp: String::with_capacity(256),
            generated: Generated::default(),
        }
    }

    /// Appends exactly one line to `out` (a JSON object without trailing newline, or nothing at
    /// all for a keep-alive line) and returns its kind name, so that callers choose their own
    /// framing and buffering.
    pub fn next_line(&mut self, out: &mut Vec<u8>) -> &'static str {
        let start = out.len();
        let u: f64 = self.rng.random();
        self.clock_ms += (-log2(1.0 - u) * std::f64::consts::LN_2 * MEAN_GAP_MS) as i64;
        let kind = self.write_line(out);
        self.generated.lines += 1;
        self.generated.bytes += (out.len() - start) as u64;
        *self.generated.by_kind.entry(kind).or_insert(0) += 1;
        kind
    }

    /// What was generated so far, so that a caller can report or check it.
    pub fn generated(&self) -> &Generated {
        &self.generated
    }

    fn write_line(&mut self, out: &mut Vec<u8>) -> &'static str {
        let m = &self.mix;
        let shares = [
            KEEPALIVE_PCT,
            m.delete_pct,
            m.scrub_geo_pct,
            m.withheld_pct / 2.0,
            m.withheld_pct / 2.0,
            m.limit_pct,
        ];
        let r = self.rng.random::<f64>() * 100.0;
        let mut acc = 0.0;
        let mut pick = shares.len();
        for (i, share) in shares.iter().enumerate() {
            acc += share.max(0.0);
            if r < acc {
                pick = i;
                break;
            }
        }
        // Scrubs and withholdings concern users who posted; before the first status, post one.
        if (2..=4).contains(&pick) && self.ring_ids.is_empty() {
            pick = shares.len();
        }
        match pick {
            0 => "keepalive",
            1 => {
                self.write_delete(out);
                "delete"
            }
            2 => {
                self.write_scrub_geo(out);
                "scrub_geo"
            }
            3 => {
                self.write_status_withheld(out);
                "status_withheld"
            }
            4 => {
                self.write_user_withheld(out);
                "user_withheld"
            }
            5 => {
                self.track += self.rng.random_range(1..=400);
                out.extend_from_slice(b"{\"limit\":{\"track\":");
                put_u64(out, self.track);
                out.extend_from_slice(b",\"timestamp_ms\":\"");
                put_u64(out, self.clock_ms as u64);
                out.extend_from_slice(b"\"}}");
                "limit"
            }
            _ => {
                self.write_tweet(out);
                "tweet"
            }
        }
    }

    // ----- notices -------------------------------------------------------------------------

    fn write_delete(&mut self, out: &mut Vec<u8>) {
        let u: f64 = self.rng.random();
        let (id, user) = if u < 0.80 && !self.ring_ids.is_empty() {
            self.ring_pick()
        } else if u < 0.95 || self.pending.len() >= PENDING_CAP {
            let ago = self.rng.random_range(60_000..7 * 86_400_000);
            let worker = WORKER_UNSEEN_DELETE + self.rng.random_range(0..256);
            let id = snowflake(self.clock_ms - ago, worker, self.rng.random_range(0..4096));
            (id, self.world.zipf(&mut self.rng))
        } else {
            // Announce a status that will be emitted once the clock reaches its time.
            let due = self.clock_ms + self.rng.random_range(1_000..60_000);
            let id = snowflake(
                due,
                self.rng.random_range(0..WORKER_UNSEEN_DELETE),
                self.rng.random_range(0..4096),
            );
            let user = self.world.zipf(&mut self.rng);
            let seed = self.rng.random();
            let at = self.pending.partition_point(|p| p.id < id);
            self.pending.insert(
                at,
                Pending {
                    id,
                    ms: due,
                    user,
                    seed,
                },
            );
            (id, user)
        };
        let uid = self.world.user_id(user);
        out.extend_from_slice(b"{\"delete\":{\"status\":{\"id\":");
        put_u64(out, id);
        out.extend_from_slice(b",\"id_str\":\"");
        put_u64(out, id);
        out.extend_from_slice(b"\",\"user_id\":");
        put_u64(out, uid);
        out.extend_from_slice(b",\"user_id_str\":\"");
        put_u64(out, uid);
        out.extend_from_slice(b"\"}},\"timestamp_ms\":\"");
        put_u64(out, self.clock_ms as u64);
        out.extend_from_slice(b"\"}");
    }

    fn write_scrub_geo(&mut self, out: &mut Vec<u8>) {
        let (_, user) = self.ring_pick();
        let uid = self.world.user_id(user);
        let up_to = self.world.last_status[user as usize];
        out.extend_from_slice(b"{\"scrub_geo\":{\"user_id\":");
        put_u64(out, uid);
        out.extend_from_slice(b",\"user_id_str\":\"");
        put_u64(out, uid);
        out.extend_from_slice(b"\",\"up_to_status_id\":");
        put_u64(out, up_to);
        out.extend_from_slice(b",\"up_to_status_id_str\":\"");
        put_u64(out, up_to);
        out.extend_from_slice(b"\"}}");
    }

    fn write_status_withheld(&mut self, out: &mut Vec<u8>) {
        let (id, user) = self.ring_pick();
        out.extend_from_slice(b"{\"status_withheld\":{\"id\":");
        put_u64(out, id);
        out.extend_from_slice(b",\"user_id\":");
        put_u64(out, self.world.user_id(user));
        out.extend_from_slice(b",\"withheld_in_countries\":");
        self.put_countries(out);
        out.extend_from_slice(b"}}");
    }

    fn write_user_withheld(&mut self, out: &mut Vec<u8>) {
        let (_, user) = self.ring_pick();
        out.extend_from_slice(b"{\"user_withheld\":{\"id\":");
        put_u64(out, self.world.user_id(user));
        out.extend_from_slice(b",\"withheld_in_countries\":");
        self.put_countries(out);
        out.extend_from_slice(b"}}");
    }

    fn put_countries(&mut self, out: &mut Vec<u8>) {
        let n = 1 + self
            .rng
            .random_range(0..3usize)
            .min(self.rng.random_range(0..3usize));
        let first = self.rng.random_range(0..WITHHELD_COUNTRIES.len());
        out.push(b'[');
        for k in 0..n {
            if k > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(
                WITHHELD_COUNTRIES[(first + k * 3) % WITHHELD_COUNTRIES.len()].as_bytes(),
            );
            out.push(b'"');
        }
        out.push(b']');
    }

    /// A remembered top-level status, biased towards recent ones (deletions mostly concern
    /// fresh statuses).
    fn ring_pick(&mut self) -> (u64, u32) {
        let len = self.ring_ids.len();
        let back = if self.rng.random_bool(0.5) {
            self.rng.random_range(0..len.min(2_000))
        } else {
            self.rng.random_range(0..len)
        };
        let i = (self.ring_head + len - 1 - back) % len;
        (self.ring_ids[i], self.ring_users[i])
    }

    // ----- statuses ------------------------------------------------------------------------

    fn write_tweet(&mut self, out: &mut Vec<u8>) {
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

    /// The status a reply answers: mostly one seen in the stream, else one it never showed.
    fn reply_target(&mut self) -> (u64, u32) {
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
    fn pick_original(&mut self) -> StatusSpec {
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
    fn remember(&mut self, spec: &StatusSpec, original: bool) {
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

/// Writes `n` lines, each terminated by `\n` (or `\r\n` if `crlf`), to `w` and returns the
/// counts, so that a benchmark input file is one call. Output is buffered here; `w` need not be.
/// The returned `bytes` include the terminators, i.e. they are the bytes written.
pub fn write_stream<W: io::Write>(
    mut w: W,
    seed: u64,
    mix: Mix,
    n: u64,
    crlf: bool,
) -> io::Result<Generated> {
    const CHUNK: usize = 1 << 20;
    let mut generator = StreamGenerator::new(seed, mix);
    let mut buf = Vec::with_capacity(CHUNK + 64 * 1024);
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    for _ in 0..n {
        generator.next_line(&mut buf);
        buf.extend_from_slice(eol);
        if buf.len() >= CHUNK {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    w.flush()?;
    let mut counts = generator.generated().clone();
    counts.bytes += n * eol.len() as u64;
    Ok(counts)
}

// ----- state shared by the writers --------------------------------------------------------

/// An announced status: its id went out in a `delete`, the status itself is due at `ms`.
#[derive(Clone, Copy, Debug)]
struct Pending {
    id: u64,
    ms: i64,
    user: u32,
    seed: u64,
}

/// Everything needed to regenerate a status identically: content comes from `seed`.
#[derive(Clone, Copy, Debug)]
struct StatusSpec {
    id: u64,
    ms: i64,
    user: u32,
    seed: u64,
    reply: Option<(u64, u32)>,
    /// quote_count, reply_count, retweet_count, favorite_count.
    counts: [u32; 4],
}

impl StatusSpec {
    fn new(id: u64, ms: i64, user: u32, seed: u64, reply: Option<(u64, u32)>) -> Self {
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

/// The user population: identities are pure functions of (seed, index); only the counters
/// change as users post.
struct World {
    seed: u64,
    users: u32,
    /// log2((users + ZIPF_C) / ZIPF_C), for the log-uniform (Zipf s=1) sampler.
    zipf_span: f64,
    /// Milliseconds between the creation times of consecutive "new" accounts.
    new_step_ms: i64,
    posted: Vec<u32>,
    last_status: Vec<u64>,
}

const ZIPF_C: f64 = 25.0;
/// 2007-03-01, the oldest accounts of the population.
const T2007_MS: i64 = 1_172_707_200_000;
/// 2016-01-01, from when accounts get snowflake ids.
const T2016_MS: i64 = 1_451_606_400_000;

impl World {
    fn new(seed: u64, users: u32) -> Self {
        let span = START_MS - 30 * 86_400_000 - T2016_MS;
        World {
            seed,
            users,
            zipf_span: log2((users as f64 + ZIPF_C) / ZIPF_C),
            new_step_ms: (span / users as i64).max(1),
            posted: vec![0; users as usize],
            last_status: vec![0; users as usize],
        }
    }

    /// A user index; index 0 posts most (about 0.5% of statuses with 50,000 users).
    fn zipf(&self, rng: &mut SmallRng) -> u32 {
        let u: f64 = rng.random();
        let x = ZIPF_C * exp2(u * self.zipf_span) - ZIPF_C;
        (x as u32).min(self.users - 1)
    }

    fn user_hash(&self, idx: u32) -> u64 {
        mix64(self.seed ^ (idx as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn is_old_account(h: u64) -> bool {
        h % 100 < 62
    }

    /// Accounts from before 2016 have small ids, newer ones snowflake ids (above 2^53).
    fn user_id(&self, idx: u32) -> u64 {
        let h = self.user_hash(idx);
        if Self::is_old_account(h) {
            10_000 + idx as u64 * 50_000 + (h >> 16) % 50_000
        } else {
            let ms = self.new_account_ms(idx, h);
            (((ms - TWEPOCH_MS) as u64) << 22) | ((h >> 8) & 0x3F_FFFF)
        }
    }

    fn new_account_ms(&self, idx: u32, h: u64) -> i64 {
        T2016_MS + idx as i64 * self.new_step_ms + ((h >> 32) as i64 % self.new_step_ms)
    }

    fn user_created_ms(&self, idx: u32) -> i64 {
        let h = self.user_hash(idx);
        if Self::is_old_account(h) {
            let id = (idx as u64 * 50_000 + (h >> 16) % 50_000) as u128;
            let range = self.users as u128 * 50_000;
            T2007_MS + (id * (T2016_MS - T2007_MS) as u128 / range) as i64
        } else {
            self.new_account_ms(idx, h)
        }
    }

    /// `[A-Za-z0-9_]{1,15}`, unique per index thanks to a base-36 suffix.
    fn screen_name(&self, idx: u32, s: &mut String) {
        let mut h = Split(self.user_hash(idx) ^ 0x5C4E);
        let mut suffix = [0u8; 8];
        let mut n = 0;
        let mut v = idx;
        loop {
            suffix[n] = BASE36[(v % 36) as usize];
            n += 1;
            v /= 36;
            if v == 0 {
                break;
            }
        }
        let start = s.len();
        let a = HANDLE_A[h.below(HANDLE_A.len() as u64) as usize];
        if h.below(100) < 30 {
            let mut c = a.chars();
            if let Some(first) = c.next() {
                s.push(first.to_ascii_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push_str(a);
        }
        if h.below(100) < 30 {
            s.push('_');
        }
        s.push_str(HANDLE_B[h.below(HANDLE_B.len() as u64) as usize]);
        s.truncate(start + 15 - n);
        for k in (0..n).rev() {
            s.push(suffix[k] as char);
        }
    }

    /// Display names with accents, CJK, emoji and the odd double quote.
    fn name(&self, idx: u32, s: &mut String) {
        let mut h = Split(self.user_hash(idx) ^ 0x4A3E);
        let first = FIRST_NAMES[h.below(FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[h.below(LAST_NAMES.len() as u64) as usize];
        match h.below(100) {
            0..=64 => {
                s.push_str(first);
                s.push(' ');
                s.push_str(last);
            }
            65..=74 => s.push_str(first),
            75..=86 => {
                s.push_str(first);
                s.push(' ');
                s.push_str(last);
                s.push(' ');
                s.push_str(EMOJI[h.below(EMOJI.len() as u64) as usize]);
            }
            87..=91 => {
                s.push_str(first);
                s.push_str(" \"");
                s.push_str(HANDLE_B[h.below(HANDLE_B.len() as u64) as usize]);
                s.push_str("\" ");
                s.push_str(last);
            }
            _ => s.push_str(CJK_NAMES[h.below(CJK_NAMES.len() as u64) as usize]),
        }
    }
}

// ----- status content ---------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum EntKind {
    Hashtag,
    Symbol,
    Mention(u32),
    Url { site: u8, path: u64 },
    QuoteLink { id: u64, user: u32 },
    Media,
}

/// An entity of a text: byte range in the text, and Twitter's code-point `indices`.
#[derive(Clone, Copy, Debug)]
struct Ent {
    kind: EntKind,
    b0: u32,
    b1: u32,
    c0: u32,
    c1: u32,
}

#[derive(Clone, Copy, Debug)]
struct Media {
    id: u64,
    w: u32,
    h: u32,
    key: u64,
}

#[derive(Clone, Copy, Debug)]
struct Geo {
    city: usize,
    lat: i64,
    lon: i64,
}

/// The content of one status (its full text and entities), rebuilt from a seed whenever the
/// status is written, so that a retweeted original looks the same every time.
#[derive(Default)]
struct Scratch {
    text: String,
    cps: u32,
    ents: Vec<Ent>,
    /// (byte, code point) offsets where the text may be cut: after each token.
    bounds: Vec<(u32, u32)>,
    lang: &'static str,
    source: usize,
    media: Option<Media>,
    /// Code points before the displayed text: a reply's leading `@mention `.
    display_start: u32,
    /// Code points of the text without a trailing media link.
    display_end: u32,
    geo: Option<Geo>,
    sensitive: bool,
    has_links: bool,
    /// Reused buffer for `@screen_name` tokens.
    name: String,
}

impl Scratch {
    fn clear(&mut self) {
        self.text.clear();
        self.cps = 0;
        self.ents.clear();
        self.bounds.clear();
        self.media = None;
        self.geo = None;
        self.display_start = 0;
        self.sensitive = false;
        self.has_links = false;
    }

    fn push_plain(&mut self, s: &str) {
        self.text.push_str(s);
        self.cps += s.chars().count() as u32;
    }

    fn mark(&mut self) {
        self.bounds.push((self.text.len() as u32, self.cps));
    }

    fn push_ent(&mut self, kind: EntKind, s: &str) {
        let b0 = self.text.len() as u32;
        let c0 = self.cps;
        self.push_plain(s);
        self.ents.push(Ent {
            kind,
            b0,
            b1: self.text.len() as u32,
            c0,
            c1: self.cps,
        });
    }

    fn push_tco(&mut self, kind: EntKind, key: u64) {
        let mut buf = [0u8; 23];
        buf[..13].copy_from_slice(b"https://t.co/");
        tco_code(key, &mut buf[13..]);
        // The buffer is ASCII by construction.
        self.push_ent(kind, std::str::from_utf8(&buf).unwrap_or_default());
    }

    /// Builds the text and entities of an original (or quoting) status from its seed.
    fn fill(&mut self, w: &World, spec: &StatusSpec, quote: Option<(u64, u32)>, p_geo: f64) {
        self.clear();
        let mut rng = SmallRng::seed_from_u64(spec.seed);
        let lang = &LANGS[pick_weighted(&mut rng, LANG_WEIGHTS)];
        self.lang = lang.code;
        self.source = pick_source(&mut rng);
        let mut name = std::mem::take(&mut self.name);
        name.clear();
        if let Some((_, user)) = spec.reply {
            name.push('@');
            w.screen_name(user, &mut name);
            self.push_ent(EntKind::Mention(user), &name);
            self.mark();
            self.push_plain(" ");
            self.display_start = self.cps;
        }
        // Code points of content, after a reply's leading mention.
        let target: u32 = self.cps
            + match rng.random_range(0..100) {
                0..=9 => rng.random_range(10..40),
                10..=77 => rng.random_range(40..120),
                _ => rng.random_range(140..230),
            };
        let mut first = true;
        while self.cps < target {
            if !first {
                match rng.random_range(0..100) {
                    0..=2 => self.push_plain("\n"),
                    3 => self.push_plain("\n\n"),
                    4..=5 if lang.code == "ja" => {}
                    _ => self.push_plain(" "),
                }
            }
            first = false;
            match rng.random_range(0..100) {
                0..=6 => self.push_plain(EMOJI[rng.random_range(0..EMOJI.len())]),
                7..=11 => {
                    let tag = HASHTAGS[rng.random_range(0..HASHTAGS.len())];
                    self.push_ent(EntKind::Hashtag, tag);
                }
                12..=14 => {
                    let user = w.zipf(&mut rng);
                    name.clear();
                    name.push('@');
                    w.screen_name(user, &mut name);
                    self.push_ent(EntKind::Mention(user), &name);
                }
                15 => {
                    let sym = SYMBOLS[rng.random_range(0..SYMBOLS.len())];
                    self.push_ent(EntKind::Symbol, sym);
                }
                16..=17 => {
                    let (open, close) = if rng.random_bool(0.7) {
                        ("\"", "\"")
                    } else {
                        ("\u{201c}", "\u{201d}")
                    };
                    self.push_plain(open);
                    self.push_plain(lang.words[rng.random_range(0..lang.words.len())]);
                    self.push_plain(close);
                }
                18..=19 => self.push_plain(SPECIALS[rng.random_range(0..SPECIALS.len())]),
                _ => self.push_plain(lang.words[rng.random_range(0..lang.words.len())]),
            }
            self.mark();
        }
        self.name = name;
        // Links are 23 code points; the displayed text stays within Twitter's 280.
        let room_for_links = if quote.is_some() {
            280 - 2 * 24
        } else {
            280 - 24
        };
        if self.cps <= room_for_links && rng.random_bool(0.3) {
            self.push_plain(" ");
            let site = rng.random_range(0..SITE_COUNT);
            let path = rng.random();
            self.push_tco(EntKind::Url { site, path }, path);
            self.mark();
            self.has_links = true;
        }
        if let Some((id, user)) = quote {
            self.push_plain(" ");
            self.push_tco(EntKind::QuoteLink { id, user }, id ^ 0x9107);
            self.mark();
            self.has_links = true;
        }
        self.display_end = self.cps;
        if rng.random_bool(0.22) {
            let ago = rng.random_range(1_000..600_000u64);
            let (mw, mh) = MEDIA_DIMS[rng.random_range(0..MEDIA_DIMS.len())];
            let media = Media {
                id: spec.id.saturating_sub(ago << 22) | rng.random_range(0..4096u64),
                w: mw,
                h: mh,
                key: rng.random(),
            };
            self.push_plain(" ");
            self.push_tco(EntKind::Media, media.id);
            self.mark();
            self.media = Some(media);
            self.has_links = true;
        }
        self.sensitive = self.has_links && rng.random_bool(0.03);
        if rng.random_bool(p_geo) {
            let city = rng.random_range(0..CITIES.len());
            let c = &CITIES[city];
            self.geo = Some(Geo {
                city,
                lat: c.lat + rng.random_range(-c.half..=c.half),
                lon: c.lon + rng.random_range(-c.half..=c.half),
            });
        }
    }

    /// Builds a retweet's `RT @user: ...` text, cut to 140 code points like the real thing.
    fn fill_retweet(&mut self, w: &World, orig: &Scratch, orig_user: u32, source: usize) {
        self.clear();
        self.lang = orig.lang;
        self.source = source;
        self.push_plain("RT ");
        let mut name = std::mem::take(&mut self.name);
        name.clear();
        name.push('@');
        w.screen_name(orig_user, &mut name);
        self.push_ent(EntKind::Mention(orig_user), &name);
        self.name = name;
        self.push_plain(": ");
        let (pb, pc) = (self.text.len() as u32, self.cps);
        let room = 140 - pc.min(139);
        let (cut_b, cut_c, ellipsis) = if orig.cps <= room {
            (orig.text.len() as u32, orig.cps, false)
        } else {
            let (b, c) = orig
                .bounds
                .iter()
                .copied()
                .take_while(|&(_, c)| c < room)
                .last()
                .unwrap_or((0, 0));
            (b, c, true)
        };
        self.text.push_str(&orig.text[..cut_b as usize]);
        self.cps += cut_c;
        for e in &orig.ents {
            if e.b1 <= cut_b && e.kind != EntKind::Media {
                self.ents.push(Ent {
                    kind: e.kind,
                    b0: e.b0 + pb,
                    b1: e.b1 + pb,
                    c0: e.c0 + pc,
                    c1: e.c1 + pc,
                });
                if matches!(e.kind, EntKind::Url { .. }) {
                    self.has_links = true;
                }
            }
        }
        if ellipsis {
            self.push_plain("\u{2026}");
        }
        self.display_end = self.cps;
    }
}

// ----- JSON writers -----------------------------------------------------------------------

/// How strings are escaped on one line. Twitter escaped `/` as `\/`, and some clients and
/// proxies re-encode everything non-ASCII as `\uXXXX`; consumers must accept both.
#[derive(Clone, Copy, Debug)]
struct Esc {
    slash: bool,
    ascii: bool,
}

enum Shape<'a> {
    Plain,
    /// The original and its content; the written status's own scratch holds the `RT @` text.
    Retweet(&'a StatusSpec, &'a Scratch),
    /// The quoted status and its content.
    Quote(&'a StatusSpec, &'a Scratch),
}

/// Where the compatibility `text` of a long status is cut.
const COMPAT_CUT: u32 = 113;

#[allow(clippy::too_many_arguments)]
fn write_status(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    st: &StatusSpec,
    sc: &Scratch,
    shape: Shape<'_>,
    top: bool,
    esc: Esc,
) {
    let extended = sc.cps > 140;
    out.extend_from_slice(b"{\"created_at\":\"");
    put_date(out, st.ms);
    out.extend_from_slice(b"\",\"id\":");
    put_u64(out, st.id);
    out.extend_from_slice(b",\"id_str\":\"");
    put_u64(out, st.id);
    out.extend_from_slice(b"\",\"text\":\"");
    // In compatibility mode a long text is cut and ends with a link to the full status.
    let (cut_b, cut_c) = if extended {
        sc.bounds
            .iter()
            .copied()
            .take_while(|&(_, c)| c <= COMPAT_CUT)
            .last()
            .unwrap_or((0, 0))
    } else {
        (sc.text.len() as u32, sc.cps)
    };
    put_str_body(out, &sc.text[..cut_b as usize], esc);
    if extended {
        put_str_body(out, "\u{2026} https://t.co/", esc);
        let mut code = [0u8; 10];
        tco_code(st.id ^ 0x5E1F, &mut code);
        out.extend_from_slice(&code);
    }
    out.extend_from_slice(b"\",\"source\":");
    let (src_name, src_url) = SOURCES[sc.source].0;
    tmp.clear();
    tmp.push_str("<a href=\"");
    tmp.push_str(src_url);
    tmp.push_str("\" rel=\"nofollow\">");
    tmp.push_str(src_name);
    tmp.push_str("</a>");
    put_str(out, tmp, esc);
    out.extend_from_slice(if extended {
        b",\"truncated\":true"
    } else {
        b",\"truncated\":false"
    });
    match st.reply {
        Some((rid, ruser)) => {
            let ruid = w.user_id(ruser);
            out.extend_from_slice(b",\"in_reply_to_status_id\":");
            put_u64(out, rid);
            out.extend_from_slice(b",\"in_reply_to_status_id_str\":\"");
            put_u64(out, rid);
            out.extend_from_slice(b"\",\"in_reply_to_user_id\":");
            put_u64(out, ruid);
            out.extend_from_slice(b",\"in_reply_to_user_id_str\":\"");
            put_u64(out, ruid);
            out.extend_from_slice(b"\",\"in_reply_to_screen_name\":");
            tmp.clear();
            w.screen_name(ruser, tmp);
            put_str(out, tmp, esc);
        }
        None => out.extend_from_slice(
            b",\"in_reply_to_status_id\":null,\"in_reply_to_status_id_str\":null,\
              \"in_reply_to_user_id\":null,\"in_reply_to_user_id_str\":null,\
              \"in_reply_to_screen_name\":null",
        ),
    }
    out.extend_from_slice(b",\"user\":");
    write_user(w, out, tmp, st.user, esc);
    match sc.geo {
        Some(g) => write_geo(out, tmp, g, esc),
        None => out.extend_from_slice(b",\"geo\":null,\"coordinates\":null,\"place\":null"),
    }
    out.extend_from_slice(b",\"contributors\":null");
    let mut is_quote = false;
    match shape {
        Shape::Plain => {}
        Shape::Retweet(orig, orig_sc) => {
            out.extend_from_slice(b",\"retweeted_status\":");
            write_status(w, out, tmp, orig, orig_sc, Shape::Plain, false, esc);
        }
        Shape::Quote(quoted, quoted_sc) => {
            is_quote = true;
            out.extend_from_slice(b",\"quoted_status_id\":");
            put_u64(out, quoted.id);
            out.extend_from_slice(b",\"quoted_status_id_str\":\"");
            put_u64(out, quoted.id);
            out.extend_from_slice(b"\",\"quoted_status\":");
            write_status(w, out, tmp, quoted, quoted_sc, Shape::Plain, false, esc);
            out.extend_from_slice(b",\"quoted_status_permalink\":{\"url\":");
            tmp.clear();
            tmp.push_str("https://t.co/");
            push_tco_code(tmp, quoted.id ^ 0x9107);
            put_str(out, tmp, esc);
            out.extend_from_slice(b",\"expanded\":");
            quote_url(w, quoted.id, quoted.user, tmp);
            put_str(out, tmp, esc);
            out.extend_from_slice(b",\"display\":");
            display_of(tmp);
            put_str(out, tmp, esc);
            out.push(b'}');
        }
    }
    out.extend_from_slice(if is_quote {
        b",\"is_quote_status\":true"
    } else {
        b",\"is_quote_status\":false"
    });
    if extended {
        out.extend_from_slice(b",\"extended_tweet\":{\"full_text\":");
        put_str(out, &sc.text, esc);
        out.extend_from_slice(b",\"display_text_range\":[");
        put_u64(out, sc.display_start as u64);
        out.push(b',');
        put_u64(out, sc.display_end as u64);
        out.extend_from_slice(b"],\"entities\":");
        write_entities(w, out, tmp, sc, st, u32::MAX, None, esc);
        if sc.media.is_some() {
            out.extend_from_slice(b",\"extended_entities\":{\"media\":[");
            write_media(w, out, tmp, sc, st, esc);
            out.extend_from_slice(b"]}");
        }
        out.push(b'}');
    }
    let names: [&[u8]; 4] = [
        b",\"quote_count\":",
        b",\"reply_count\":",
        b",\"retweet_count\":",
        b",\"favorite_count\":",
    ];
    for (name, count) in names.iter().zip(st.counts) {
        out.extend_from_slice(name);
        put_u64(out, count as u64);
    }
    out.extend_from_slice(b",\"entities\":");
    if extended {
        let link = (st.id, cut_c + 2);
        write_entities(w, out, tmp, sc, st, cut_c, Some(link), esc);
    } else {
        write_entities(w, out, tmp, sc, st, u32::MAX, None, esc);
        if sc.media.is_some() {
            out.extend_from_slice(b",\"extended_entities\":{\"media\":[");
            write_media(w, out, tmp, sc, st, esc);
            out.extend_from_slice(b"]}");
        }
    }
    out.extend_from_slice(b",\"favorited\":false,\"retweeted\":false");
    if sc.has_links {
        out.extend_from_slice(if sc.sensitive {
            b",\"possibly_sensitive\":true"
        } else {
            b",\"possibly_sensitive\":false"
        });
    }
    out.extend_from_slice(b",\"filter_level\":\"low\",\"lang\":\"");
    out.extend_from_slice(sc.lang.as_bytes());
    if top {
        out.extend_from_slice(b"\",\"timestamp_ms\":\"");
        put_u64(out, st.ms as u64);
    }
    out.extend_from_slice(b"\"}");
}

/// The `entities` object for the entities that end at or before code point `max_cp`, plus the
/// compatibility link to the full status when the text was cut.
#[allow(clippy::too_many_arguments)]
fn write_entities(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    sc: &Scratch,
    st: &StatusSpec,
    max_cp: u32,
    self_link: Option<(u64, u32)>,
    esc: Esc,
) {
    let visible = |e: &&Ent| e.c1 <= max_cp;
    out.extend_from_slice(b"{\"hashtags\":[");
    let mut sep = false;
    for e in sc.ents.iter().filter(visible) {
        if e.kind == EntKind::Hashtag {
            comma(out, &mut sep);
            out.extend_from_slice(b"{\"text\":");
            put_str(out, &sc.text[e.b0 as usize + 1..e.b1 as usize], esc);
            put_indices(out, e.c0, e.c1);
            out.push(b'}');
        }
    }
    out.extend_from_slice(b"],\"urls\":[");
    sep = false;
    for e in sc.ents.iter().filter(visible) {
        let expanded_done = match e.kind {
            EntKind::Url { site, path } => {
                expanded_url(site, path, tmp);
                true
            }
            EntKind::QuoteLink { id, user } => {
                quote_url(w, id, user, tmp);
                true
            }
            _ => false,
        };
        if expanded_done {
            comma(out, &mut sep);
            out.extend_from_slice(b"{\"url\":");
            put_str(out, &sc.text[e.b0 as usize..e.b1 as usize], esc);
            out.extend_from_slice(b",\"expanded_url\":");
            put_str(out, tmp, esc);
            out.extend_from_slice(b",\"display_url\":");
            display_of(tmp);
            put_str(out, tmp, esc);
            put_indices(out, e.c0, e.c1);
            out.push(b'}');
        }
    }
    if let Some((id, c0)) = self_link {
        comma(out, &mut sep);
        tmp.clear();
        tmp.push_str("https://t.co/");
        push_tco_code(tmp, id ^ 0x5E1F);
        out.extend_from_slice(b"{\"url\":");
        put_str(out, tmp, esc);
        tmp.clear();
        tmp.push_str("https://twitter.com/i/web/status/");
        push_u64_str(tmp, id);
        out.extend_from_slice(b",\"expanded_url\":");
        put_str(out, tmp, esc);
        out.extend_from_slice(b",\"display_url\":");
        display_of(tmp);
        put_str(out, tmp, esc);
        put_indices(out, c0, c0 + 23);
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"user_mentions\":[");
    sep = false;
    for e in sc.ents.iter().filter(visible) {
        if let EntKind::Mention(user) = e.kind {
            comma(out, &mut sep);
            let uid = w.user_id(user);
            out.extend_from_slice(b"{\"screen_name\":");
            put_str(out, &sc.text[e.b0 as usize + 1..e.b1 as usize], esc);
            out.extend_from_slice(b",\"name\":");
            tmp.clear();
            w.name(user, tmp);
            put_str(out, tmp, esc);
            out.extend_from_slice(b",\"id\":");
            put_u64(out, uid);
            out.extend_from_slice(b",\"id_str\":\"");
            put_u64(out, uid);
            out.push(b'"');
            put_indices(out, e.c0, e.c1);
            out.push(b'}');
        }
    }
    out.extend_from_slice(b"],\"symbols\":[");
    sep = false;
    for e in sc.ents.iter().filter(visible) {
        if e.kind == EntKind::Symbol {
            comma(out, &mut sep);
            out.extend_from_slice(b"{\"text\":");
            put_str(out, &sc.text[e.b0 as usize + 1..e.b1 as usize], esc);
            put_indices(out, e.c0, e.c1);
            out.push(b'}');
        }
    }
    out.push(b']');
    if sc.media.is_some() && sc.display_end < max_cp {
        out.extend_from_slice(b",\"media\":[");
        write_media(w, out, tmp, sc, st, esc);
        out.push(b']');
    }
    out.push(b'}');
}

fn write_media(
    w: &World,
    out: &mut Vec<u8>,
    tmp: &mut String,
    sc: &Scratch,
    st: &StatusSpec,
    esc: Esc,
) {
    let Some(m) = sc.media else { return };
    let Some(e) = sc.ents.iter().find(|e| e.kind == EntKind::Media) else {
        return;
    };
    out.extend_from_slice(b"{\"id\":");
    put_u64(out, m.id);
    out.extend_from_slice(b",\"id_str\":\"");
    put_u64(out, m.id);
    out.push(b'"');
    put_indices(out, e.c0, e.c1);
    tmp.clear();
    tmp.push_str("pbs.twimg.com/media/");
    push_media_key(tmp, m.key);
    tmp.push_str(".jpg");
    out.extend_from_slice(b",\"media_url\":\"http:");
    put_str_body(out, "//", esc);
    put_str_body(out, tmp, esc);
    out.extend_from_slice(b"\",\"media_url_https\":\"https:");
    put_str_body(out, "//", esc);
    put_str_body(out, tmp, esc);
    out.extend_from_slice(b"\",\"url\":");
    let link = &sc.text[e.b0 as usize..e.b1 as usize];
    put_str(out, link, esc);
    out.extend_from_slice(b",\"display_url\":\"pic.twitter.com");
    put_str_body(out, &link[12..], esc);
    out.extend_from_slice(b"\",\"expanded_url\":");
    tmp.clear();
    tmp.push_str("https://twitter.com/");
    w.screen_name(st.user, tmp);
    tmp.push_str("/status/");
    push_u64_str(tmp, st.id);
    tmp.push_str("/photo/1");
    put_str(out, tmp, esc);
    out.extend_from_slice(
        b",\"type\":\"photo\",\"sizes\":{\"thumb\":{\"w\":150,\"h\":150,\"resize\":\"crop\"}",
    );
    let sizes: [(&[u8], u32); 3] = [
        (b",\"medium\":{\"w\":", 1200),
        (b",\"small\":{\"w\":", 680),
        (b",\"large\":{\"w\":", 2048),
    ];
    for (name, max) in sizes {
        let scale = max.min(m.w.max(m.h));
        let (sw, sh) = if m.w >= m.h {
            (scale, m.h * scale / m.w)
        } else {
            (m.w * scale / m.h, scale)
        };
        out.extend_from_slice(name);
        put_u64(out, sw as u64);
        out.extend_from_slice(b",\"h\":");
        put_u64(out, sh as u64);
        out.extend_from_slice(b",\"resize\":\"fit\"}");
    }
    out.extend_from_slice(b"}}");
}

fn write_geo(out: &mut Vec<u8>, tmp: &mut String, g: Geo, esc: Esc) {
    let c = &CITIES[g.city];
    out.extend_from_slice(b",\"geo\":{\"type\":\"Point\",\"coordinates\":[");
    put_micro(out, g.lat);
    out.push(b',');
    put_micro(out, g.lon);
    out.extend_from_slice(b"]},\"coordinates\":{\"type\":\"Point\",\"coordinates\":[");
    put_micro(out, g.lon);
    out.push(b',');
    put_micro(out, g.lat);
    out.extend_from_slice(b"]},\"place\":{\"id\":\"");
    let pid = mix64(0x91ACE ^ g.city as u64);
    put_hex16(out, pid);
    out.extend_from_slice(b"\",\"url\":");
    tmp.clear();
    tmp.push_str("https://api.twitter.com/1.1/geo/id/");
    for k in (0..16).rev() {
        tmp.push(HEX[((pid >> (k * 4)) & 15) as usize] as char);
    }
    tmp.push_str(".json");
    put_str(out, tmp, esc);
    out.extend_from_slice(b",\"place_type\":\"city\",\"name\":");
    put_str(out, c.name, esc);
    out.extend_from_slice(b",\"full_name\":");
    put_str(out, c.full_name, esc);
    out.extend_from_slice(b",\"country_code\":\"");
    out.extend_from_slice(c.cc.as_bytes());
    out.extend_from_slice(b"\",\"country\":");
    put_str(out, c.country, esc);
    out.extend_from_slice(b",\"bounding_box\":{\"type\":\"Polygon\",\"coordinates\":[[");
    let (la0, la1, lo0, lo1) = (
        c.lat - c.half,
        c.lat + c.half,
        c.lon - c.half,
        c.lon + c.half,
    );
    for (k, (lo, la)) in [(lo0, la0), (lo0, la1), (lo1, la1), (lo1, la0)]
        .into_iter()
        .enumerate()
    {
        if k > 0 {
            out.push(b',');
        }
        out.push(b'[');
        put_micro(out, lo);
        out.push(b',');
        put_micro(out, la);
        out.push(b']');
    }
    out.extend_from_slice(b"]]},\"attributes\":{}}");
}

/// A full v1.1 user object (~1.2–1.5 KB), derived from the user's index; only the counters move.
fn write_user(w: &World, out: &mut Vec<u8>, tmp: &mut String, idx: u32, esc: Esc) {
    let uid = w.user_id(idx);
    let mut h = Split(w.user_hash(idx) ^ 0x0F11E);
    let posted = w.posted[idx as usize] as u64;
    out.extend_from_slice(b"{\"id\":");
    put_u64(out, uid);
    out.extend_from_slice(b",\"id_str\":\"");
    put_u64(out, uid);
    out.extend_from_slice(b"\",\"name\":");
    tmp.clear();
    w.name(idx, tmp);
    put_str(out, tmp, esc);
    out.extend_from_slice(b",\"screen_name\":");
    tmp.clear();
    w.screen_name(idx, tmp);
    put_str(out, tmp, esc);
    out.extend_from_slice(b",\"location\":");
    if h.below(100) < 72 {
        put_str(
            out,
            LOCATIONS[h.below(LOCATIONS.len() as u64) as usize],
            esc,
        );
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b",\"url\":");
    if h.below(100) < 38 {
        tmp.clear();
        tmp.push_str("https://t.co/");
        push_tco_code(tmp, h.next());
        put_str(out, tmp, esc);
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b",\"description\":");
    if h.below(100) < 92 {
        tmp.clear();
        let n = 2 + h.below(3);
        for k in 0..n {
            if k > 0 {
                tmp.push_str(DESC_SEPS[h.below(DESC_SEPS.len() as u64) as usize]);
            }
            tmp.push_str(DESCRIPTIONS[h.below(DESCRIPTIONS.len() as u64) as usize]);
        }
        put_str(out, tmp, esc);
    } else {
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(if h.below(100) < 2 {
        b",\"translator_type\":\"regular\",\"protected\":false"
    } else {
        b",\"translator_type\":\"none\",\"protected\":false"
    });
    let popular = idx < 500;
    let verified = h.below(1000) < if popular { 300 } else { 8 };
    out.extend_from_slice(if verified {
        b",\"verified\":true"
    } else {
        b",\"verified\":false"
    });
    let boost = if popular { 1_000.0 } else { 1.0 };
    let followers = (pow10(h.unit() * 4.2) * boost) as u64 + posted / 2;
    out.extend_from_slice(b",\"followers_count\":");
    put_u64(out, followers);
    out.extend_from_slice(b",\"friends_count\":");
    put_u64(out, pow10(h.unit() * 3.6) as u64);
    out.extend_from_slice(b",\"listed_count\":");
    put_u64(out, followers / (50 + h.below(400)));
    out.extend_from_slice(b",\"favourites_count\":");
    put_u64(out, pow10(h.unit() * 4.8) as u64);
    out.extend_from_slice(b",\"statuses_count\":");
    put_u64(out, pow10(1.0 + h.unit() * 4.3) as u64 + posted);
    out.extend_from_slice(b",\"created_at\":\"");
    put_date(out, w.user_created_ms(idx));
    out.extend_from_slice(b"\",\"utc_offset\":null,\"time_zone\":null");
    out.extend_from_slice(if h.below(100) < 35 {
        b",\"geo_enabled\":true"
    } else {
        b",\"geo_enabled\":false"
    });
    out.extend_from_slice(b",\"lang\":null,\"contributors_enabled\":false,\"is_translator\":false");
    let default_theme = h.below(100) < 55;
    let theme = if default_theme {
        &THEMES[0]
    } else {
        &THEMES[h.below(THEMES.len() as u64) as usize]
    };
    out.extend_from_slice(b",\"profile_background_color\":\"");
    out.extend_from_slice(theme.bg.as_bytes());
    for (key, scheme) in [
        (&b"\",\"profile_background_image_url\":\""[..], "http:"),
        (
            &b"\",\"profile_background_image_url_https\":\""[..],
            "https:",
        ),
    ] {
        out.extend_from_slice(key);
        out.extend_from_slice(scheme.as_bytes());
        tmp.clear();
        tmp.push_str("//abs.twimg.com/images/themes/theme");
        push_u64_str(tmp, theme.number as u64);
        tmp.push_str("/bg.png");
        put_str_body(out, tmp, esc);
    }
    out.extend_from_slice(b"\",\"profile_background_tile\":false,\"profile_link_color\":\"");
    out.extend_from_slice(theme.link.as_bytes());
    out.extend_from_slice(b"\",\"profile_sidebar_border_color\":\"");
    out.extend_from_slice(theme.border.as_bytes());
    out.extend_from_slice(b"\",\"profile_sidebar_fill_color\":\"");
    out.extend_from_slice(theme.fill.as_bytes());
    out.extend_from_slice(b"\",\"profile_text_color\":\"");
    out.extend_from_slice(theme.text.as_bytes());
    out.extend_from_slice(if theme.use_image {
        b"\",\"profile_use_background_image\":true"
    } else {
        b"\",\"profile_use_background_image\":false"
    });
    let default_image = h.below(100) < 3;
    tmp.clear();
    if default_image {
        tmp.push_str("//abs.twimg.com/sticky/default_profile_images/default_profile_normal.png");
    } else {
        tmp.push_str("//pbs.twimg.com/profile_images/");
        push_u64_str(tmp, FIRST_ID - 400_000_000_000_000_000 + (h.next() >> 5));
        tmp.push('/');
        push_media_key(tmp, h.next());
        tmp.push_str("_normal.jpg");
    }
    out.extend_from_slice(b",\"profile_image_url\":\"http:");
    put_str_body(out, tmp, esc);
    out.extend_from_slice(b"\",\"profile_image_url_https\":\"https:");
    put_str_body(out, tmp, esc);
    out.push(b'"');
    if h.below(100) < 70 {
        out.extend_from_slice(b",\"profile_banner_url\":");
        tmp.clear();
        tmp.push_str("https://pbs.twimg.com/profile_banners/");
        push_u64_str(tmp, uid);
        tmp.push('/');
        push_u64_str(tmp, 1_400_000_000 + h.below(240_000_000));
        put_str(out, tmp, esc);
    }
    out.extend_from_slice(if default_theme {
        b",\"default_profile\":true"
    } else {
        b",\"default_profile\":false"
    });
    out.extend_from_slice(if default_image {
        b",\"default_profile_image\":true"
    } else {
        b",\"default_profile_image\":false"
    });
    out.extend_from_slice(
        b",\"following\":null,\"follow_request_sent\":null,\"notifications\":null",
    );
    out.extend_from_slice(if h.below(1000) < 2 {
        b",\"withheld_in_countries\":[\"DE\"]"
    } else {
        b",\"withheld_in_countries\":[]"
    });
    out.push(b'}');
}

fn expanded_url(site: u8, path: u64, s: &mut String) {
    let mut h = Split(path);
    s.clear();
    match site {
        0 => {
            s.push_str("https://www.nytimes.com/2022/0");
            push_u64_str(s, 1 + h.below(9));
            s.push('/');
            push_u64_str(s, 10 + h.below(18));
            s.push_str("/world/");
            push_slug(s, &mut h);
            s.push_str(".html");
        }
        1 => {
            s.push_str("https://github.com/");
            s.push_str(HANDLE_B[h.below(HANDLE_B.len() as u64) as usize]);
            s.push('/');
            push_slug(s, &mut h);
        }
        2 => {
            s.push_str("https://www.youtube.com/watch?v=");
            push_chars(s, &mut h, 11, B64URL);
        }
        3 => {
            s.push_str("https://www.bbc.co.uk/news/world-europe-");
            push_u64_str(s, 60_000_000 + h.below(9_999_999));
        }
        4 => {
            s.push_str("https://medium.com/@");
            s.push_str(HANDLE_A[h.below(HANDLE_A.len() as u64) as usize]);
            s.push('/');
            push_slug(s, &mut h);
            s.push('-');
            push_chars(s, &mut h, 12, HEX);
        }
        5 => {
            s.push_str("https://www.instagram.com/p/");
            push_chars(s, &mut h, 11, B64URL);
            s.push('/');
        }
        6 => {
            s.push_str("https://open.spotify.com/track/");
            push_chars(s, &mut h, 22, &B64URL[..62]);
            s.push_str("?si=");
            push_chars(s, &mut h, 16, HEX);
        }
        7 => {
            s.push_str("https://www.google.com/search?q=caf%C3%A9+");
            s.push_str(SLUG_WORDS[h.below(SLUG_WORDS.len() as u64) as usize]);
            s.push_str("&hl=fr&oq=caf%C3%A9");
        }
        _ => {
            s.push_str("https://www.amazon.de/dp/B0");
            push_chars(s, &mut h, 8, &B64URL[26..62]);
            s.push_str("?ref_=ast_sto_dp&th=1&psc=1");
        }
    }
}

const SITE_COUNT: u8 = 9;

fn quote_url(w: &World, id: u64, user: u32, s: &mut String) {
    s.clear();
    s.push_str("https://twitter.com/");
    w.screen_name(user, s);
    s.push_str("/status/");
    push_u64_str(s, id);
}

/// Twitter's `display_url`: no scheme, no `www.`, cut with an ellipsis past 26 characters.
fn display_of(s: &mut String) {
    let mut start = s.find("://").map_or(0, |i| i + 3);
    if s[start..].starts_with("www.") {
        start += 4;
    }
    s.drain(..start);
    if let Some((cut, _)) = s.char_indices().nth(26) {
        s.truncate(cut);
        s.push('\u{2026}');
    }
}

fn push_slug(s: &mut String, h: &mut Split) {
    let n = 2 + h.below(5);
    for k in 0..n {
        if k > 0 {
            s.push('-');
        }
        s.push_str(SLUG_WORDS[h.below(SLUG_WORDS.len() as u64) as usize]);
    }
}

fn push_chars(s: &mut String, h: &mut Split, n: usize, alphabet: &[u8]) {
    for _ in 0..n {
        s.push(alphabet[h.below(alphabet.len() as u64) as usize] as char);
    }
}

// ----- low-level output -------------------------------------------------------------------

fn comma(out: &mut Vec<u8>, sep: &mut bool) {
    if *sep {
        out.push(b',');
    }
    *sep = true;
}

fn put_indices(out: &mut Vec<u8>, c0: u32, c1: u32) {
    out.extend_from_slice(b",\"indices\":[");
    put_u64(out, c0 as u64);
    out.push(b',');
    put_u64(out, c1 as u64);
    out.push(b']');
}

/// Writes `s` as a JSON string literal, quotes included.
fn put_str(out: &mut Vec<u8>, s: &str, esc: Esc) {
    out.push(b'"');
    put_str_body(out, s, esc);
    out.push(b'"');
}

/// Writes the escaped contents of a JSON string literal: `"`, `\` and control characters always
/// escaped; `/` as `\/` and non-ASCII as `\uXXXX` (surrogate pairs above U+FFFF) when `esc` asks.
fn put_str_body(out: &mut Vec<u8>, s: &str, esc: Esc) {
    let table = &ESCAPE_TABLES[usize::from(esc.slash) | usize::from(esc.ascii) << 1];
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        while i < bytes.len() && !table[bytes[i] as usize] {
            i += 1;
        }
        out.extend_from_slice(&bytes[start..i]);
        let Some(&b) = bytes.get(i) else { break };
        if b >= 0x80 {
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                put_u_escape(out, *unit);
            }
            i += ch.len_utf8();
        } else {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'/' => out.extend_from_slice(b"\\/"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                _ => put_u_escape(out, b as u16),
            }
            i += 1;
        }
        start = i;
    }
}

/// Which bytes need escaping, indexed by `slash | ascii << 1`.
const ESCAPE_TABLES: [[bool; 256]; 4] = [
    escape_table(false, false),
    escape_table(true, false),
    escape_table(false, true),
    escape_table(true, true),
];

const fn escape_table(slash: bool, ascii: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b < 0x20
            || b == b'"' as usize
            || b == b'\\' as usize
            || (slash && b == b'/' as usize)
            || (ascii && b >= 0x80);
        b += 1;
    }
    t
}

fn put_u_escape(out: &mut Vec<u8>, unit: u16) {
    out.extend_from_slice(b"\\u");
    for k in (0..4).rev() {
        out.push(HEX[((unit >> (k * 4)) & 15) as usize]);
    }
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let start = fmt_u64(v, &mut buf);
    out.extend_from_slice(&buf[start..]);
}

/// Formats `v` at the end of `buf`, two digits at a time; returns where the digits start.
fn fmt_u64(mut v: u64, buf: &mut [u8; 20]) -> usize {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut i = buf.len();
    while v >= 100 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    }
    if v >= 10 {
        let d = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    i
}

fn push_u64_str(s: &mut String, v: u64) {
    let mut buf = [0u8; 20];
    let start = fmt_u64(v, &mut buf);
    s.extend(buf[start..].iter().map(|&b| b as char));
}

/// Micro-degrees as a decimal number without trailing zeros, e.g. `13.404954` or `-3.7`.
fn put_micro(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    let a = v.unsigned_abs();
    put_u64(out, a / 1_000_000);
    let mut frac = a % 1_000_000;
    out.push(b'.');
    let mut digits = 6;
    while digits > 1 && frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    let mut buf = [b'0'; 6];
    for k in (0..digits).rev() {
        buf[k] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&buf[..digits]);
}

fn put_hex16(out: &mut Vec<u8>, v: u64) {
    for k in (0..16).rev() {
        out.push(HEX[((v >> (k * 4)) & 15) as usize]);
    }
}

fn put_2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// Twitter's date format, `Wed Oct 10 20:19:24 +0000 2018`, always UTC.
fn put_date(out: &mut Vec<u8>, ms: i64) {
    const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as usize;
    let year = yoe + era * 400 + i64::from(month <= 2);
    out.extend_from_slice(DAYS[(days + 4).rem_euclid(7) as usize]);
    out.push(b' ');
    out.extend_from_slice(MONTHS[month - 1]);
    out.push(b' ');
    put_2(out, day);
    out.push(b' ');
    put_2(out, sod / 3600);
    out.push(b':');
    put_2(out, sod / 60 % 60);
    out.push(b':');
    put_2(out, sod % 60);
    out.extend_from_slice(b" +0000 ");
    put_u64(out, year as u64);
}

fn tco_code(key: u64, dst: &mut [u8]) {
    let mut h = Split(key);
    for b in dst.iter_mut() {
        *b = B64URL[h.below(62) as usize];
    }
}

fn push_tco_code(s: &mut String, key: u64) {
    let mut code = [0u8; 10];
    tco_code(key, &mut code);
    s.extend(code.iter().map(|&b| b as char));
}

fn push_media_key(s: &mut String, key: u64) {
    let mut h = Split(key);
    push_chars(s, &mut h, 15, B64URL);
}

fn snowflake(ms: i64, worker: u64, seq: u64) -> u64 {
    (((ms - TWEPOCH_MS) as u64) << 22) | (worker << 12) | seq
}

// The three functions below use only IEEE-754 basic operations (exactly rounded everywhere), so
// that the output does not depend on the last bits of the platform libm's `ln`, `exp`, `powf`.

/// log2(x) for finite x > 0 (subnormals excepted), to about 2^-24: plenty for drawing delays.
fn log2(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut result = ((bits >> 52) & 0x7FF) as f64 - 1023.0;
    // The mantissa in [1, 2): square it repeatedly; each overflow past 2 is one more bit.
    let mut m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    let mut bit = 0.5;
    for _ in 0..24 {
        m *= m;
        if m >= 2.0 {
            m *= 0.5;
            result += bit;
        }
        bit *= 0.5;
    }
    result
}

/// 2^y for -1000 < y < 1000, to about 1e-14 relative.
fn exp2(y: f64) -> f64 {
    let k = y.floor();
    let f = (y - k) * std::f64::consts::LN_2;
    // e^f for f in [0, ln 2): its Taylor series converges fast.
    let (mut term, mut sum) = (1.0, 1.0);
    for i in 1..=14 {
        term *= f / f64::from(i);
        sum += term;
    }
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}

/// 10^y, for counters spread over orders of magnitude.
fn pow10(y: f64) -> f64 {
    exp2(y * std::f64::consts::LOG2_10)
}

fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A splitmix64 stream: cheap, portable derivation of per-user and per-link details.
struct Split(u64);

impl Split {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn pick_weighted(rng: &mut SmallRng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut r = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if r < w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

fn pick_source(rng: &mut SmallRng) -> usize {
    let mut r = rng.random_range(0..100u32);
    for (i, s) in SOURCES.iter().enumerate() {
        if r < s.1 {
            return i;
        }
        r -= s.1;
    }
    0
}

// ----- vocabulary -------------------------------------------------------------------------

const HEX: &[u8; 16] = b"0123456789abcdef";
const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const B64URL: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

struct Lang {
    code: &'static str,
    words: &'static [&'static str],
}

const LANG_WEIGHTS: &[u32] = &[52, 12, 10, 8, 6, 4, 5, 3];
#[rustfmt::skip]
const LANGS: &[Lang] = &[
    Lang {
        code: "en",
        words: &[
            "the", "a", "is", "this", "that", "just", "really", "new", "today", "tomorrow", "love",
            "great", "amazing", "can't", "believe", "what", "happened", "we", "you", "I", "they",
            "going", "to", "be", "with", "for", "and", "but", "so", "not", "my", "your", "best",
            "day", "night", "week", "time", "people", "world", "game", "music", "news", "think",
            "know", "want", "need", "get", "got", "see", "look", "finally", "again", "thanks",
            "everyone", "who", "why", "how", "when", "here", "there", "don't", "it's", "I'm",
            "lol", "omg", "wow", "yes", "no", "ever", "never", "always", "still", "more", "free",
            "live", "now", "big", "little", "team", "city", "home", "work", "life", "happy", "sad",
            "crazy", "weekend", "coffee", "pizza", "party", "song", "movie", "book", "story",
            "thread", "naïve", "café", "résumé",
        ],
    },
    Lang {
        code: "es",
        words: &[
            "hoy", "mañana", "qué", "está", "también", "corazón", "año", "niño", "más", "pero",
            "muy", "bien", "gracias", "todos", "vamos", "fútbol", "partido", "canción", "mejor",
            "día", "noche", "amigo", "familia", "siempre", "nunca", "¿por", "qué?", "¡increíble!",
            "después", "aquí", "sí", "el", "la", "los", "las", "de", "que", "y", "en", "un", "una",
            "es",
        ],
    },
    Lang {
        code: "ja",
        words: &[
            "今日は", "東京", "ありがとう", "天気", "楽しい", "日本", "明日", "ラーメン", "かわいい", "すごい", "本当に", "みんな",
            "おはよう", "おやすみ", "仕事", "映画", "音楽", "友達", "猫", "桜", "新しい", "最高", "頑張る", "。", "、", "！",
            "？", "ｗｗｗ",
        ],
    },
    Lang {
        code: "pt",
        words: &[
            "não", "coração", "você", "ação", "amanhã", "hoje", "muito", "obrigado", "obrigada",
            "também", "já", "está", "são", "pão", "irmão", "mãe", "pai", "jogo", "futebol",
            "saudade", "boa", "noite", "dia", "feliz", "sempre", "nunca", "o", "a", "os", "as",
            "de", "que", "e", "em", "um", "uma",
        ],
    },
    Lang {
        code: "fr",
        words: &[
            "très", "été", "déjà", "où", "français", "c'est", "l'équipe", "aujourd'hui", "demain",
            "merci", "beaucoup", "voilà", "ça", "va", "être", "avoir", "fête", "île", "garçon",
            "cœur", "nous", "vous", "ils", "elle", "le", "la", "les", "de", "et", "mais", "pour",
            "avec", "pas", "plus", "rien", "toujours", "jamais", "«", "»",
        ],
    },
    Lang {
        code: "de",
        words: &[
            "schön", "für", "über", "Straße", "Grüße", "heute", "morgen", "müssen", "können", "wir",
            "ihr", "sie", "der", "die", "das", "und", "aber", "nicht", "sehr", "gut", "danke",
            "Fußball", "Spiel", "Mädchen", "Brötchen", "Käse", "zurück", "groß", "klein", "immer",
            "nie", "endlich",
        ],
    },
    Lang {
        code: "ar",
        words: &[
            "مرحبا", "شكرا", "اليوم", "غدا", "جميل", "الله", "حب", "كرة", "القدم", "صباح", "الخير",
            "مساء", "السلام", "عليكم", "في", "من", "على", "إلى", "هذا", "كل",
        ],
    },
    Lang {
        code: "und",
        words: &[
            "😂😂😂", "🔥🔥", "❤️", "👀", "💯", "🙏🏽", "😭😭", "✨", "🎉🎉", "👏👏👏",
        ],
    },
];

#[rustfmt::skip]
const EMOJI: &[&str] = &[
    "😀", "😂", "🤣", "❤️", "🔥", "👍", "🙏", "🎉", "✨", "😍", "😭", "🥺", "🚀", "💯", "👀", "🤔", "😎", "🌍", "⚽",
    "🍕", "☕", "🇧🇷", "🇩🇪", "👨‍💻", "👩‍👩‍👧", "🏳️‍🌈", "✅", "⚡", "🌸", "🎶",
];

#[rustfmt::skip]
const HASHTAGS: &[&str] = &[
    "#Rust", "#100DaysOfCode", "#MondayMotivation", "#café", "#日本", "#FelizLunes",
    "#ThrowbackThursday", "#WorldCup", "#NowPlaying", "#COVID19", "#Bitcoin", "#ClimateAction",
    "#MachineLearning", "#AI", "#OpenSource", "#BTS", "#K_POP", "#Fútbol", "#München", "#Paris2024",
    "#StarWars", "#Halloween", "#TBT", "#Photography", "#Travel", "#NFT", "#Eurovision", "#Ramadan",
    "#Oscars", "#NBA", "#F1", "#Música", "#İstanbul", "#Wordle", "#science", "#art",
];

#[rustfmt::skip]
const SYMBOLS: &[&str] = &["$AAPL", "$TSLA", "$BTC", "$ETH", "$GME", "$AMZN", "$NVDA"];

const SPECIALS: &[&str] = &[
    "&amp;",
    "&lt;3",
    "¯\\_(ツ)_/¯",
    "...",
    "!!",
    "?!",
    "\u{2014}",
    "\u{2026}",
    "(1/3)",
    "C:\\Users\\me",
    "\"quoted\"",
    "\t",
    "x\u{200d}y",
];

#[rustfmt::skip]
const SLUG_WORDS: &[&str] = &[
    "how", "to", "why", "the", "new", "best", "guide", "rust", "climate", "election", "market",
    "report", "season", "final", "review", "city", "story", "data", "music", "world", "cup",
    "launch", "release", "notes", "2022", "update",
];

#[rustfmt::skip]
const HANDLE_A: &[&str] = &[
    "the", "real", "its", "mr", "ms", "dr", "just", "hey", "official", "daily", "team", "club",
    "news", "fan", "love", "cool", "happy", "lazy", "night", "sunny", "tech", "code", "music",
    "art", "foto", "futbol", "gamer", "vegan", "travel", "coffee",
];

#[rustfmt::skip]
const HANDLE_B: &[&str] = &[
    "cat", "dog", "coder", "writer", "girl", "guy", "maker", "dev", "nerd", "fox", "owl", "wolf",
    "bear", "panda", "rider", "chef", "pixel", "byte", "star", "moon", "sky", "wave", "rocks",
    "life", "vibes", "daily", "hq", "tv", "fm", "bot",
];

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "María", "José", "Jürgen", "Zoë", "Chloé", "Ahmed", "Yuki", "Oluwaseun", "Priya", "Liam",
    "Olivia", "Noah", "Emma", "Mateo", "Sofía", "Lukas", "Léa", "Hiroshi", "Aiko", "Fatima", "Omar",
    "Ana", "João", "Chen", "Wei", "Ingrid", "Søren", "Björn", "Dmitri", "Ayşe", "Mehmet", "Anaïs",
    "Raphaël", "Grace", "Kwame", "Nia", "Mia", "Lucas", "Gabriel", "Isabella",
];

#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "García", "Müller", "Smith", "Nakamura", "Silva", "Dubois", "Okafor", "Sharma", "Johnson",
    "Rossi", "Kowalski", "Öztürk", "Nguyen", "Kim", "Hansen", "Pérez", "O'Brien", "da Costa",
    "Ivanov", "Schröder", "Fernández", "Tanaka", "Li", "Brown", "Dupont",
];

#[rustfmt::skip]
const CJK_NAMES: &[&str] = &[
    "山田太郎", "佐藤花子", "김민준", "李小龙", "محمد علي", "Ελένη", "Иван Петров",
];

#[rustfmt::skip]
const LOCATIONS: &[&str] = &[
    "Berlin, Deutschland", "São Paulo, Brasil", "London", "NYC", "Los Angeles, CA", "Tokyo", "東京都",
    "Paris, France", "Madrid", "México", "Lagos, Nigeria", "Mumbai", "Earth 🌍",
    "somewhere over the rainbow 🌈", "Toronto, Ontario", "Zürich", "Kraków, Polska", "İstanbul",
    "Buenos Aires", "at home", "\"the cloud\"", "Sydney 🇦🇺", "Seoul, Korea", "Montréal, QC",
];

const DESC_SEPS: &[&str] = &[" | ", " • ", ". ", "\n", " / ", " 🌟 "];

const DESCRIPTIONS: &[&str] = &[
    "Coffee addict ☕",
    "Opinions are my own",
    "she/her",
    "he/him",
    "Dad of 3 👨‍👩‍👧",
    "Software engineer @ \"Acme Corp\"",
    "Photographer 📷 Traveler ✈️",
    "Fan of #Rust and good food",
    "Periodista. Opiniones propias.",
    "Étudiante en médecine 🩺",
    "Fußball ist unser Leben ⚽",
    "東京在住のエンジニア",
    "RT ≠ endorsement",
    "Life is short. Eat dessert first 🍰",
    "Not financial advice",
    "Living my best life 🌴",
    "Proud member of the \"night owls\" club 🦉",
    "Backslash fan: C:\\Users\\me",
    "Writer, reader, occasional runner",
    "Official account of a totally real company",
    "Breaking news and analysis from around the world",
    "Música, cine y más",
    "Ich mag Züge 🚆",
    "Je tweete en français et en anglais",
    "Building things on the internet since 1999",
];

struct Theme {
    bg: &'static str,
    number: u32,
    link: &'static str,
    border: &'static str,
    fill: &'static str,
    text: &'static str,
    use_image: bool,
}

#[rustfmt::skip]
const THEMES: &[Theme] = &[
    Theme { bg: "C0DEED", number: 1, link: "1DA1F2", border: "C0DEED", fill: "DDEEF6", text: "333333", use_image: true },
    Theme { bg: "000000", number: 1, link: "1B95E0", border: "000000", fill: "000000", text: "000000", use_image: false },
    Theme { bg: "F5F8FA", number: 1, link: "FF691F", border: "FFFFFF", fill: "DDEEF6", text: "333333", use_image: true },
    Theme { bg: "022330", number: 15, link: "0084B4", border: "A8C7F7", fill: "C0DFEC", text: "333333", use_image: true },
    Theme { bg: "352726", number: 5, link: "D02B55", border: "829D5E", fill: "99CC33", text: "3E4415", use_image: true },
    Theme { bg: "1A1B1F", number: 9, link: "2FC2EF", border: "181A1E", fill: "252429", text: "666666", use_image: true },
    Theme { bg: "FFF04D", number: 19, link: "0099CC", border: "FFF8AD", fill: "F6FFD1", text: "333333", use_image: true },
    Theme { bg: "642D8B", number: 10, link: "FF0000", border: "65B0DA", fill: "7AC3EE", text: "3D1957", use_image: true },
];

/// (name, url) of the client, and its share of statuses in percent (shares sum to 100).
const SOURCES: &[((&str, &str), u32)] = &[
    (
        ("Twitter for iPhone", "http://twitter.com/download/iphone"),
        35,
    ),
    (
        ("Twitter for Android", "http://twitter.com/download/android"),
        33,
    ),
    (("Twitter Web App", "https://mobile.twitter.com"), 16),
    (
        ("Twitter for iPad", "http://twitter.com/#!/download/ipad"),
        3,
    ),
    (
        ("TweetDeck", "https://about.twitter.com/products/tweetdeck"),
        3,
    ),
    (("IFTTT", "https://ifttt.com"), 2),
    (("Buffer", "https://buffer.com"), 2),
    (("Hootsuite Inc.", "https://www.hootsuite.com"), 3),
    (("dlvr.it", "https://dlvr.it"), 2),
    (("Echobox", "https://www.echobox.com"), 1),
];

#[rustfmt::skip]
const MEDIA_DIMS: &[(u32, u32)] = &[
    (1080, 1080),
    (1920, 1080),
    (1080, 1350),
    (750, 1334),
    (4032, 3024),
];

#[rustfmt::skip]
const WITHHELD_COUNTRIES: &[&str] = &["DE", "AR", "FR", "TR", "IN", "RU", "BR", "GB", "JP", "KR"];

struct City {
    name: &'static str,
    full_name: &'static str,
    country: &'static str,
    cc: &'static str,
    /// Centre, in micro-degrees.
    lat: i64,
    lon: i64,
    /// Half the side of the bounding box, in micro-degrees.
    half: i64,
}

const fn city(
    name: &'static str,
    full_name: &'static str,
    country: &'static str,
    cc: &'static str,
    lat: i64,
    lon: i64,
    half: i64,
) -> City {
    City {
        name,
        full_name,
        country,
        cc,
        lat,
        lon,
        half,
    }
}

#[rustfmt::skip]
const CITIES: &[City] = &[
    city("Berlin", "Berlin, Deutschland", "Deutschland", "DE", 52_520_008, 13_404_954, 170_000),
    city("Paris", "Paris, France", "France", "FR", 48_856_613, 2_352_222, 90_000),
    city("Madrid", "Madrid, España", "España", "ES", 40_416_775, -3_703_790, 150_000),
    city("São Paulo", "São Paulo, Brasil", "Brasil", "BR", -23_550_520, -46_633_308, 300_000),
    city("Buenos Aires", "Buenos Aires, Argentina", "Argentina", "AR", -34_603_722, -58_381_592, 120_000),
    city("Shinjuku-ku", "Shinjuku-ku, Tokyo", "日本", "JP", 35_689_487, 139_691_711, 30_000),
    city("Manhattan", "Manhattan, NY", "United States", "US", 40_783_058, -73_971_252, 100_000),
    city("Los Angeles", "Los Angeles, CA", "United States", "US", 34_052_235, -118_243_683, 300_000),
    city("London", "London, England", "United Kingdom", "GB", 51_507_351, -127_758, 250_000),
    city("Ciudad de México", "Ciudad de México, México", "México", "MX", 19_432_608, -99_133_209, 200_000),
    city("İstanbul", "İstanbul, Türkiye", "Türkiye", "TR", 41_008_240, 28_978_359, 300_000),
    city("Mumbai", "Mumbai, India", "India", "IN", 19_075_983, 72_877_655, 150_000),
    city("Lagos", "Lagos, Nigeria", "Nigeria", "NG", 6_524_379, 3_379_206, 200_000),
    city("Sydney", "Sydney, New South Wales", "Australia", "AU", -33_868_820, 151_209_290, 400_000),
    city("Toronto", "Toronto, Ontario", "Canada", "CA", 43_653_225, -79_383_186, 200_000),
    city("Jakarta", "Jakarta, Indonesia", "Indonesia", "ID", -6_208_763, 106_845_599, 200_000),
    city("Seoul", "Seoul, Republic of Korea", "Republic of Korea", "KR", 37_566_536, 126_977_966, 150_000),
    city("Montréal", "Montréal, Québec", "Canada", "CA", 45_501_690, -73_567_253, 150_000),
    city("Zürich", "Zürich, Schweiz", "Schweiz", "CH", 47_376_888, 8_541_694, 60_000),
    city("Kraków", "Kraków, Polska", "Polska", "PL", 50_064_651, 19_944_981, 100_000),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::{HashMap, HashSet};
    use std::sync::OnceLock;

    const TWO_53: u64 = 1 << 53;

    /// 20,000 lines of the default mix, generated once and shared by the tests that only read.
    fn sample() -> &'static [(&'static str, Vec<u8>)] {
        static SAMPLE: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
        SAMPLE.get_or_init(|| {
            let mut g = StreamGenerator::new(2024, Mix::default());
            (0..20_000)
                .map(|_| {
                    let mut line = Vec::new();
                    let kind = g.next_line(&mut line);
                    (kind, line)
                })
                .collect()
        })
    }

    fn parse(line: &[u8]) -> Value {
        serde_json::from_slice(line).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(line));
        })
    }

    fn tweets() -> impl Iterator<Item = (&'static [u8], Value)> {
        sample()
            .iter()
            .filter(|(k, _)| *k == "tweet")
            .map(|(_, l)| (l.as_slice(), parse(l)))
    }

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    fn u(v: &Value) -> u64 {
        v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
    }

    fn s(v: &Value) -> &str {
        v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
    }

    fn worker(id: u64) -> u64 {
        (id >> 12) & 0x3FF
    }

    /// Substring search through `str::find`, which stays fast in debug builds.
    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        let hay = std::str::from_utf8(hay).expect("lines are UTF-8");
        hay.find(std::str::from_utf8(needle).unwrap())
    }

    /// Every `"id":DIGITS,"id_str":"DIGITS"` pair in a raw line, read as text.
    fn raw_id_pairs(line: &[u8]) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut rest = line;
        while let Some(p) = find(rest, b"\"id\":") {
            rest = &rest[p + 5..];
            let digits: Vec<u8> = rest
                .iter()
                .copied()
                .take_while(u8::is_ascii_digit)
                .collect();
            let after = &rest[digits.len()..];
            if digits.is_empty() || !after.starts_with(b",\"id_str\":\"") {
                continue;
            }
            let after = &after[11..];
            let quoted: Vec<u8> = after.iter().copied().take_while(|&b| b != b'"').collect();
            pairs.push((
                String::from_utf8(digits).unwrap(),
                String::from_utf8(quoted).unwrap(),
            ));
        }
        pairs
    }

    #[test]
    fn default_mix_is_documented_one() {
        let m = Mix::default();
        assert_eq!(
            (m.retweet_pct, m.quote_pct, m.geo_pct, m.delete_pct),
            (20.0, 3.0, 2.0, 5.0)
        );
        assert_eq!(
            (m.scrub_geo_pct, m.withheld_pct, m.limit_pct, m.users),
            (0.2, 0.2, 0.2, 50_000)
        );
    }

    #[test]
    fn every_line_is_json_of_the_kind_reported() {
        for (kind, line) in sample() {
            if *kind == "keepalive" {
                assert!(line.is_empty());
                continue;
            }
            assert!(!line.contains(&b'\n'), "raw newline inside a line");
            let v = parse(line);
            match *kind {
                "tweet" => {
                    for k in ["created_at", "id", "id_str", "text", "user", "entities"] {
                        assert!(v.get(k).is_some(), "tweet without {k}");
                    }
                    assert!(v["timestamp_ms"].is_string());
                }
                "delete" => {
                    assert_eq!(keys(&v), ["delete", "timestamp_ms"]);
                    assert_eq!(keys(&v["delete"]), ["status"]);
                    assert_eq!(
                        keys(&v["delete"]["status"]),
                        ["id", "id_str", "user_id", "user_id_str"]
                    );
                }
                "scrub_geo" => {
                    assert_eq!(keys(&v), ["scrub_geo"]);
                    assert_eq!(
                        keys(&v["scrub_geo"]),
                        [
                            "up_to_status_id",
                            "up_to_status_id_str",
                            "user_id",
                            "user_id_str"
                        ]
                    );
                }
                "status_withheld" => {
                    assert_eq!(keys(&v), ["status_withheld"]);
                    let w = &v["status_withheld"];
                    assert_eq!(keys(w), ["id", "user_id", "withheld_in_countries"]);
                    let c = w["withheld_in_countries"].as_array().unwrap();
                    assert!(!c.is_empty() && c.iter().all(|c| s(c).len() == 2));
                }
                "user_withheld" => {
                    assert_eq!(keys(&v), ["user_withheld"]);
                    assert_eq!(keys(&v["user_withheld"]), ["id", "withheld_in_countries"]);
                }
                "limit" => {
                    assert_eq!(keys(&v), ["limit"]);
                    assert_eq!(keys(&v["limit"]), ["timestamp_ms", "track"]);
                }
                other => panic!("unexpected kind {other}"),
            }
        }
    }

    #[test]
    fn ids_are_exact_increasing_snowflakes_above_2_53() {
        let mut last = 0u64;
        let mut pairs_checked = 0;
        for (line, v) in tweets() {
            // The top-level id, read as raw digits: never through a float.
            let at = find(line, b"\",\"id\":").unwrap() + 7;
            let digits: String = line[at..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .map(|&b| b as char)
                .collect();
            assert_eq!(digits, s(&v["id_str"]));
            let id: u64 = digits.parse().unwrap();
            assert!(id > TWO_53, "id {id} below 2^53");
            assert!(id >= FIRST_ID, "id {id}");
            assert!(id > last, "ids must increase: {id} after {last}");
            assert!(worker(id) < WORKER_UNSEEN_DELETE);
            last = id;
            // Every id/id_str pair in the line (users, mentions, embedded statuses, media).
            for (num, text) in raw_id_pairs(line) {
                assert_eq!(num, text);
                pairs_checked += 1;
            }
            let uid = &v["user"];
            assert_eq!(u(&uid["id"]).to_string(), s(&uid["id_str"]));
        }
        assert!(pairs_checked > 40_000);
        for (kind, line) in sample() {
            if *kind == "delete" {
                let v = parse(line);
                let st = &v["delete"]["status"];
                assert_eq!(u(&st["id"]).to_string(), s(&st["id_str"]));
                assert_eq!(u(&st["user_id"]).to_string(), s(&st["user_id_str"]));
                assert!(u(&st["id"]) > TWO_53);
            }
        }
    }

    #[test]
    fn user_ids_span_small_and_snowflake_ranges_and_users_are_stable() {
        let mut names: HashMap<u64, String> = HashMap::new();
        let (mut small, mut big) = (0, 0);
        let mut per_user: HashMap<u64, u32> = HashMap::new();
        for (_, v) in tweets() {
            *per_user.entry(u(&v["user"]["id"])).or_default() += 1;
            let mut users = vec![&v["user"]];
            if let Some(rt) = v.get("retweeted_status") {
                users.push(&rt["user"]);
            }
            for user in users {
                let id = u(&user["id"]);
                if id > TWO_53 {
                    big += 1
                } else {
                    small += 1
                }
                let name = s(&user["screen_name"]).to_string();
                assert!(
                    name.len() <= 15
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                );
                let prev = names.entry(id).or_insert_with(|| name.clone());
                assert_eq!(*prev, name, "user {id} changed screen_name");
                let created = s(&user["created_at"]);
                assert!(
                    chrono::DateTime::parse_from_str(created, "%a %b %d %H:%M:%S %z %Y").is_ok()
                );
            }
        }
        assert!(
            small > 1_000 && big > 1_000,
            "{small} small, {big} big user ids"
        );
        let distinct_names: HashSet<&String> = names.values().collect();
        assert_eq!(
            distinct_names.len(),
            names.len(),
            "screen names must be unique"
        );
        // Zipf skew: the most active user posts far more than the average one.
        let max = *per_user.values().max().unwrap();
        let mean = per_user.values().sum::<u32>() as f64 / per_user.len() as f64;
        assert!(max as f64 > 20.0 * mean, "max {max}, mean {mean}");
    }

    fn close(what: &str, got: f64, want: f64, tol: f64) {
        assert!(
            (got - want).abs() <= tol,
            "{what}: {got:.3}% not within {tol} of {want}%"
        );
    }

    #[test]
    fn mix_proportions_are_respected() {
        let lines = sample().len() as f64;
        let count = |k: &str| sample().iter().filter(|(kind, _)| *kind == k).count() as f64;
        close("delete", count("delete") * 100.0 / lines, 5.0, 0.6);
        close("scrub_geo", count("scrub_geo") * 100.0 / lines, 0.2, 0.12);
        close(
            "status_withheld",
            count("status_withheld") * 100.0 / lines,
            0.1,
            0.08,
        );
        close(
            "user_withheld",
            count("user_withheld") * 100.0 / lines,
            0.1,
            0.08,
        );
        close("limit", count("limit") * 100.0 / lines, 0.2, 0.12);
        close(
            "keepalive",
            count("keepalive") * 100.0 / lines,
            KEEPALIVE_PCT,
            0.1,
        );
        let (mut n, mut rt, mut quote, mut geo) = (0.0, 0.0, 0.0, 0.0);
        for (_, v) in tweets() {
            n += 1.0;
            rt += f64::from(u8::from(v.get("retweeted_status").is_some()));
            quote += f64::from(u8::from(v["is_quote_status"] == Value::Bool(true)));
            geo += f64::from(u8::from(!v["coordinates"].is_null()));
        }
        close("tweet", n * 100.0 / lines, 94.3, 0.8);
        close("retweet", rt * 100.0 / n, 20.0, 1.5);
        close("quote", quote * 100.0 / n, 3.0, 0.6);
        close("geo", geo * 100.0 / n, 2.0, 0.5);
    }

    #[test]
    fn other_mixes_are_respected() {
        let mix = Mix {
            retweet_pct: 50.0,
            quote_pct: 10.0,
            geo_pct: 0.0,
            delete_pct: 30.0,
            scrub_geo_pct: 0.0,
            withheld_pct: 0.0,
            limit_pct: 5.0,
            users: 100,
        };
        let mut g = StreamGenerator::new(5, mix);
        let (mut rt, mut quote, mut users) = (0, 0, HashSet::new());
        let mut line = Vec::new();
        for _ in 0..5_000 {
            line.clear();
            if g.next_line(&mut line) == "tweet" {
                let v = parse(&line);
                assert!(v["coordinates"].is_null());
                rt += usize::from(v.get("retweeted_status").is_some());
                quote += usize::from(v.get("quoted_status").is_some());
                users.insert(u(&v["user"]["id"]));
            }
        }
        let by = &g.generated().by_kind;
        let tweets = by["tweet"] as f64;
        close("delete", by["delete"] as f64 / 50.0, 30.0, 2.5);
        close("limit", by["limit"] as f64 / 50.0, 5.0, 1.0);
        assert!(!by.contains_key("scrub_geo") && !by.contains_key("user_withheld"));
        close("retweet", rt as f64 * 100.0 / tweets, 50.0, 3.0);
        close("quote", quote as f64 * 100.0 / tweets, 10.0, 2.0);
        assert!(users.len() <= 100 && users.len() > 50);
    }

    #[test]
    fn tweet_sizes_are_realistic() {
        let sizes: Vec<usize> = sample()
            .iter()
            .filter(|(k, _)| *k == "tweet")
            .map(|(_, l)| l.len())
            .collect();
        let avg = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        assert!(
            (3_000.0..5_000.0).contains(&avg),
            "average tweet {avg} bytes"
        );
        assert!(*sizes.iter().min().unwrap() > 1_500);
        assert!(*sizes.iter().max().unwrap() < 16_000);
        let mut user_bytes = 0;
        let mut n = 0;
        for (_, v) in tweets().take(2_000) {
            user_bytes += serde_json::to_string(&v["user"]).unwrap().len();
            n += 1;
        }
        let avg_user = user_bytes as f64 / n as f64;
        assert!(
            (1_000.0..1_700.0).contains(&avg_user),
            "average user {avg_user} bytes"
        );
    }

    #[test]
    fn same_seed_same_bytes_different_seed_different_bytes() {
        let run = |seed| {
            let mut out = Vec::new();
            let counts = write_stream(&mut out, seed, Mix::default(), 3_000, false).unwrap();
            (out, counts)
        };
        let (a, ca) = run(11);
        let (b, cb) = run(11);
        let (c, _) = run(12);
        assert_eq!(ca, cb);
        assert!(a == b, "same seed must give the same bytes");
        assert!(a != c, "another seed must give other bytes");
        // The first lines already differ, not just later ones.
        let first = |x: &[u8]| x.split(|&b| b == b'\n').next().unwrap().to_vec();
        assert_ne!(first(&a), first(&c));
    }

    #[test]
    fn write_stream_frames_and_counts() {
        for crlf in [false, true] {
            let mut out = Vec::new();
            let counts = write_stream(&mut out, 3, Mix::default(), 2_000, crlf).unwrap();
            assert_eq!(counts.lines, 2_000);
            assert_eq!(counts.bytes, out.len() as u64);
            assert_eq!(counts.by_kind.values().sum::<u64>(), 2_000);
            let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
            assert!(out.ends_with(eol));
            let mut lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
            assert_eq!(lines.pop(), Some(&b""[..]));
            assert_eq!(lines.len(), 2_000);
            for line in lines {
                let body = if crlf {
                    line.strip_suffix(b"\r").expect("missing \\r")
                } else {
                    line
                };
                assert!(!body.contains(&b'\r'));
                if !body.is_empty() {
                    parse(body);
                }
            }
        }
    }

    /// The top-level status id and its author's id, read from the raw line (cheaper than
    /// parsing the whole status, which this test does for 60,000 lines).
    fn raw_status_and_user(line: &[u8]) -> (u64, u64) {
        let number_after = |key: &[u8]| -> u64 {
            let at = find(line, key).unwrap() + key.len();
            let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
            std::str::from_utf8(&line[at..at + digits])
                .unwrap()
                .parse()
                .unwrap()
        };
        (
            number_after(b"\",\"id\":"),
            number_after(b"\"user\":{\"id\":"),
        )
    }

    #[test]
    fn deletes_target_seen_unseen_and_future_ids() {
        let mut g = StreamGenerator::new(99, Mix::default());
        let mut emitted: HashMap<u64, u64> = HashMap::new();
        let mut deletes: Vec<(u64, u64)> = Vec::new();
        let (mut seen, mut unseen) = (0, 0);
        let mut line = Vec::new();
        let mut future: HashMap<u64, u64> = HashMap::new();
        for _ in 0..40_000 {
            line.clear();
            match g.next_line(&mut line) {
                "tweet" => {
                    let (id, author) = raw_status_and_user(&line);
                    emitted.insert(id, author);
                    if let Some(uid) = future.remove(&id) {
                        assert_eq!(uid, author, "announced status by another user");
                    }
                }
                "delete" => {
                    let v = parse(&line);
                    let st = &v["delete"]["status"];
                    let (id, uid) = (u(&st["id"]), u(&st["user_id"]));
                    deletes.push((id, uid));
                    if let Some(&author) = emitted.get(&id) {
                        assert_eq!(author, uid, "delete with the wrong user");
                        seen += 1;
                    } else if g.pending.iter().any(|p| p.id == id) {
                        assert!(worker(id) < WORKER_UNSEEN_DELETE);
                        future.insert(id, uid);
                    } else {
                        let w = worker(id);
                        assert!((WORKER_UNSEEN_DELETE..WORKER_UNSEEN_STATUS).contains(&w));
                        unseen += 1;
                    }
                }
                _ => {}
            }
        }
        let total = deletes.len() as f64;
        let announced = total - seen as f64 - unseen as f64;
        close("seen", seen as f64 * 100.0 / total, 80.0, 4.0);
        close("unseen", unseen as f64 * 100.0 / total, 15.0, 3.5);
        close("future", announced * 100.0 / total, 5.0, 2.0);
        // Announced statuses still outstanding are all pending, and they all come out later.
        assert!(future.len() <= g.pending.len() && g.pending.len() <= PENDING_CAP);
        for _ in 0..20_000 {
            if future.is_empty() {
                break;
            }
            line.clear();
            if g.next_line(&mut line) == "tweet" {
                let (id, author) = raw_status_and_user(&line);
                if let Some(uid) = future.remove(&id) {
                    assert_eq!(uid, author);
                }
            }
        }
        assert!(future.is_empty(), "announced ids never emitted: {future:?}");
    }

    #[test]
    fn scrubs_and_withholdings_target_users_who_posted() {
        let mut latest: HashMap<u64, u64> = HashMap::new();
        let mut authors: HashMap<u64, u64> = HashMap::new();
        let mut track = 0;
        let mut checked = 0;
        for (kind, line) in sample() {
            if line.is_empty() {
                continue;
            }
            let v = parse(line);
            match *kind {
                "tweet" => {
                    let (id, uid) = (u(&v["id"]), u(&v["user"]["id"]));
                    latest.insert(uid, id);
                    authors.insert(id, uid);
                }
                "scrub_geo" => {
                    let sg = &v["scrub_geo"];
                    let uid = u(&sg["user_id"]);
                    assert_eq!(latest.get(&uid), Some(&u(&sg["up_to_status_id"])));
                    assert_eq!(uid.to_string(), s(&sg["user_id_str"]));
                    assert_eq!(
                        u(&sg["up_to_status_id"]).to_string(),
                        s(&sg["up_to_status_id_str"])
                    );
                    checked += 1;
                }
                "status_withheld" => {
                    let w = &v["status_withheld"];
                    assert_eq!(authors.get(&u(&w["id"])), Some(&u(&w["user_id"])));
                    checked += 1;
                }
                "user_withheld" => {
                    assert!(latest.contains_key(&u(&v["user_withheld"]["id"])));
                    checked += 1;
                }
                "limit" => {
                    let t = u(&v["limit"]["track"]);
                    assert!(t > track, "limit.track must increase");
                    track = t;
                }
                _ => {}
            }
        }
        assert!(checked > 40);
    }

    #[test]
    fn retweets_and_quotes_carry_consistent_originals() {
        let mut originals: HashMap<u64, (String, u64)> = HashMap::new();
        let mut times_retweeted: HashMap<u64, u32> = HashMap::new();
        let (mut unseen, mut quotes) = (0, 0);
        for (_, v) in tweets() {
            let id = u(&v["id"]);
            if let Some(orig) = v.get("retweeted_status") {
                let oid = u(&orig["id"]);
                let screen = s(&orig["user"]["screen_name"]);
                assert!(s(&v["text"]).starts_with(&format!("RT @{screen}: ")));
                assert!(s(&v["text"]).chars().count() <= 140);
                assert!(orig.get("timestamp_ms").is_none());
                assert_eq!(
                    v["entities"]["user_mentions"][0]["screen_name"],
                    orig["user"]["screen_name"]
                );
                if worker(oid) >= WORKER_UNSEEN_STATUS {
                    unseen += 1;
                } else {
                    let (text, uid) = originals.get(&oid).expect("retweet of an id never emitted");
                    assert_eq!(s(&orig["text"]), text, "original changed between copies");
                    assert_eq!(u(&orig["user"]["id"]), *uid);
                    *times_retweeted.entry(oid).or_default() += 1;
                    assert!(u(&orig["retweet_count"]) >= u64::from(times_retweeted[&oid]));
                }
                assert!(oid < id);
            } else if v["is_quote_status"] == Value::Bool(true) {
                quotes += 1;
                let q = &v["quoted_status"];
                assert_eq!(u(&v["quoted_status_id"]), u(&q["id"]));
                assert_eq!(s(&v["quoted_status_id_str"]), s(&q["id_str"]));
                let expanded = s(&v["quoted_status_permalink"]["expanded"]);
                assert!(expanded.ends_with(&format!("/status/{}", s(&q["id_str"]))));
            } else {
                assert!(v.get("quoted_status").is_none());
                let text = s(&v["text"]).to_string();
                originals.insert(id, (text, u(&v["user"]["id"])));
            }
        }
        assert!(unseen > 100, "{unseen} retweets of unseen originals");
        assert!(quotes > 200);
        let max = times_retweeted.values().max().copied().unwrap_or(0);
        assert!(max >= 5, "no original retweeted repeatedly (max {max})");
    }

    #[test]
    fn replies_name_their_target() {
        let mut authors: HashMap<u64, u64> = HashMap::new();
        let (mut replies, mut to_seen) = (0, 0);
        for (_, v) in tweets() {
            if let Some(target) = v["in_reply_to_status_id"].as_u64() {
                replies += 1;
                assert_eq!(target.to_string(), s(&v["in_reply_to_status_id_str"]));
                let uid = u(&v["in_reply_to_user_id"]);
                assert_eq!(uid.to_string(), s(&v["in_reply_to_user_id_str"]));
                let full = v
                    .get("extended_tweet")
                    .map_or_else(|| s(&v["text"]), |e| s(&e["full_text"]));
                let screen = s(&v["in_reply_to_screen_name"]);
                assert!(full.starts_with(&format!("@{screen} ")), "{full:?}");
                if let Some(ext) = v.get("extended_tweet") {
                    let start = u(&ext["display_text_range"][0]) as usize;
                    assert_eq!(start, screen.chars().count() + 2);
                }
                if let Some(&author) = authors.get(&target) {
                    assert_eq!(author, uid, "reply names the wrong author");
                    to_seen += 1;
                } else {
                    assert!(
                        worker(target) >= WORKER_UNSEEN_STATUS,
                        "reply to an unknown id"
                    );
                }
            } else {
                assert!(v["in_reply_to_user_id"].is_null());
            }
            authors.insert(u(&v["id"]), u(&v["user"]["id"]));
        }
        assert!(
            replies > 1_000 && to_seen > replies / 2,
            "{replies} replies, {to_seen} seen"
        );
    }

    #[test]
    fn geo_statuses_have_point_orders_and_place() {
        let mut n = 0;
        for (_, v) in tweets() {
            let coords = &v["coordinates"];
            if coords.is_null() {
                assert!(v["geo"].is_null() && v["place"].is_null());
                continue;
            }
            n += 1;
            let lonlat = coords["coordinates"].as_array().unwrap();
            let latlon = v["geo"]["coordinates"].as_array().unwrap();
            assert_eq!(coords["type"], "Point");
            assert_eq!(lonlat[0], latlon[1]);
            assert_eq!(lonlat[1], latlon[0]);
            let (lon, lat) = (lonlat[0].as_f64().unwrap(), lonlat[1].as_f64().unwrap());
            let place = &v["place"];
            assert_eq!(s(&place["id"]).len(), 16);
            assert_eq!(s(&place["country_code"]).len(), 2);
            assert!(!s(&place["full_name"]).is_empty());
            let ring = &place["bounding_box"]["coordinates"][0];
            let xs: Vec<f64> = (0..4).map(|i| ring[i][0].as_f64().unwrap()).collect();
            let ys: Vec<f64> = (0..4).map(|i| ring[i][1].as_f64().unwrap()).collect();
            let inside = |x: f64, v: &[f64]| {
                let (lo, hi) = v
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
                (lo - 1e-9..=hi + 1e-9).contains(&x)
            };
            assert!(
                inside(lon, &xs) && inside(lat, &ys),
                "point outside its place"
            );
        }
        assert!(n > 100);
    }

    /// `indices` count code points, and point at the entity's text.
    fn check_entities(text: &str, entities: &Value) -> usize {
        let chars: Vec<char> = text.chars().collect();
        let at = |e: &Value| -> String {
            let i = e["indices"].as_array().unwrap();
            chars[u(&i[0]) as usize..u(&i[1]) as usize].iter().collect()
        };
        let mut n = 0;
        for e in entities["hashtags"].as_array().unwrap() {
            assert_eq!(at(e), format!("#{}", s(&e["text"])));
            n += 1;
        }
        for e in entities["symbols"].as_array().unwrap() {
            assert_eq!(at(e), format!("${}", s(&e["text"])));
            n += 1;
        }
        for e in entities["user_mentions"].as_array().unwrap() {
            assert_eq!(at(e), format!("@{}", s(&e["screen_name"])));
            n += 1;
        }
        for e in entities["urls"].as_array().unwrap() {
            assert_eq!(at(e), s(&e["url"]));
            assert!(s(&e["expanded_url"]).starts_with("https://"));
            n += 1;
        }
        if let Some(media) = entities.get("media") {
            for e in media.as_array().unwrap() {
                assert_eq!(at(e), s(&e["url"]));
                n += 1;
            }
        }
        n
    }

    #[test]
    fn entity_indices_point_at_their_text() {
        let (mut n, mut extended, mut truncated_links) = (0, 0, 0);
        for (_, v) in tweets() {
            let mut statuses = vec![&v];
            statuses.extend(v.get("retweeted_status"));
            statuses.extend(v.get("quoted_status"));
            for st in statuses {
                n += check_entities(s(&st["text"]), &st["entities"]);
                assert!(s(&st["text"]).chars().count() <= 140);
                if let Some(ext) = st.get("extended_tweet") {
                    extended += 1;
                    assert_eq!(st["truncated"], true);
                    let full = s(&ext["full_text"]);
                    let range = ext["display_text_range"].as_array().unwrap();
                    assert!(u(&range[1]) <= 280, "displayed text over 280");
                    assert!(full.chars().count() > 140 && full.chars().count() <= 305);
                    n += check_entities(full, &ext["entities"]);
                    let link = st["entities"]["urls"].as_array().unwrap().last().unwrap();
                    assert!(s(&link["expanded_url"]).ends_with(s(&st["id_str"])));
                    truncated_links += 1;
                } else {
                    assert_eq!(st["truncated"], false);
                }
            }
        }
        assert!(n > 20_000 && extended > 1_000 && truncated_links == extended);
    }

    #[test]
    fn escaping_round_trips() {
        let tricky = [
            "plain",
            "quote \" backslash \\ slash / newline \n tab \t cr \r",
            "control \u{1} \u{8} \u{c} \u{1f} del \u{7f}",
            "é ü ß 日本語 😀 👩‍👩‍👧 🇩🇪 \u{2028} \u{fffd}",
            "",
        ];
        for slash in [false, true] {
            for ascii in [false, true] {
                let esc = Esc { slash, ascii };
                for t in tricky {
                    let mut out = Vec::new();
                    put_str(&mut out, t, esc);
                    let back: String = serde_json::from_slice(&out).unwrap();
                    assert_eq!(back, t);
                    if ascii {
                        assert!(out.is_ascii());
                    }
                    assert_eq!(slash && t.contains('/'), find(&out, b"\\/").is_some());
                }
            }
        }
        let mut out = Vec::new();
        put_str(
            &mut out,
            "😀",
            Esc {
                slash: false,
                ascii: true,
            },
        );
        assert_eq!(out, b"\"\\ud83d\\ude00\"");
    }

    #[test]
    fn stream_texts_exercise_escaping() {
        let (mut quotes, mut newlines, mut astral, mut backslashes) = (0, 0, 0, 0);
        let (mut raw_emoji, mut escaped_emoji, mut escaped_slash) = (0, 0, 0);
        for (line, v) in tweets() {
            let text = v
                .get("extended_tweet")
                .map_or_else(|| s(&v["text"]), |e| s(&e["full_text"]));
            quotes += usize::from(text.contains('"'));
            newlines += usize::from(text.contains('\n'));
            backslashes += usize::from(text.contains('\\'));
            astral += usize::from(text.chars().any(|c| c > '\u{ffff}'));
            // Raw 4-byte UTF-8 (all astral characters here are emoji); `contains` is a memchr.
            raw_emoji += usize::from(line.contains(&0xF0));
            escaped_emoji += usize::from(find(line, b"\\ud83").is_some());
            escaped_slash += usize::from(find(line, b"https:\\/\\/").is_some());
        }
        for (what, n) in [
            ("quotes", quotes),
            ("newlines", newlines),
            ("backslashes", backslashes),
            ("astral characters", astral),
            ("raw emoji", raw_emoji),
            ("escaped emoji", escaped_emoji),
            ("escaped slashes", escaped_slash),
        ] {
            assert!(n > 200, "only {n} statuses with {what}");
        }
    }

    #[test]
    fn created_at_matches_timestamp_and_increases() {
        let mut last = 0;
        for (_, v) in tweets() {
            let ms: i64 = s(&v["timestamp_ms"]).parse().unwrap();
            assert!(ms >= last, "time went backwards");
            last = ms;
            let expected = chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .format("%a %b %d %H:%M:%S +0000 %Y")
                .to_string();
            assert_eq!(s(&v["created_at"]), expected);
            let id = u(&v["id"]);
            assert_eq!(
                ((id >> 22) as i64) + TWEPOCH_MS,
                ms,
                "snowflake time != created_at"
            );
        }
        assert!(last > START_MS + 60_000);
        // put_date agrees with chrono far from the stream's dates too (leap years, epoch).
        let mut rng = SmallRng::seed_from_u64(1);
        for ms in [0, 951_782_400_000, 1_709_208_000_000, 4_107_542_400_000]
            .into_iter()
            .chain((0..2_000).map(|_| rng.random_range(0..4_000_000_000_000i64)))
        {
            let mut out = Vec::new();
            put_date(&mut out, ms);
            let expected = chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .format("%a %b %d %H:%M:%S +0000 %Y")
                .to_string();
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }

    #[test]
    fn portable_math_matches_libm() {
        let mut rng = SmallRng::seed_from_u64(3);
        for _ in 0..10_000 {
            let x: f64 = rng.random_range(1e-12..1e6);
            assert!((log2(x) - x.log2()).abs() < 1e-6, "log2({x})");
            let y: f64 = rng.random_range(-40.0..40.0);
            assert!((exp2(y) / y.exp2() - 1.0).abs() < 1e-12, "exp2({y})");
            assert!((pow10(y / 8.0) / 10f64.powf(y / 8.0) - 1.0).abs() < 1e-12);
        }
        assert_eq!(log2(1.0), 0.0);
        assert_eq!(exp2(0.0), 1.0);
    }

    #[test]
    fn numbers_format_exactly() {
        let mut rng = SmallRng::seed_from_u64(2);
        for v in [0, 9, 10, 99, 100, 101, u64::MAX, FIRST_ID]
            .into_iter()
            .chain((0..1_000).map(|_| rng.random::<u64>() >> rng.random_range(0..64)))
        {
            let mut out = Vec::new();
            put_u64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
        for (micro, text) in [
            (13_404_954, "13.404954"),
            (-127_758, "-0.127758"),
            (-3_700_000, "-3.7"),
            (0, "0.0"),
        ] {
            let mut out = Vec::new();
            put_micro(&mut out, micro);
            assert_eq!(out, text.as_bytes());
        }
    }

    #[test]
    fn memory_stays_bounded_as_the_ring_wraps() {
        let mut g = StreamGenerator::with_ring_cap(8, Mix::default(), 500);
        let mut line = Vec::new();
        let mut deleted_known = 0;
        for _ in 0..6_000 {
            line.clear();
            if g.next_line(&mut line) == "delete" {
                let id = u(&parse(&line)["delete"]["status"]["id"]);
                deleted_known += usize::from(g.ring_ids.contains(&id));
            }
            assert!(g.ring_ids.len() <= 500 && g.ring_users.len() <= 500);
            assert!(g.pool.len() <= POOL_CAP && g.pending.len() <= PENDING_CAP);
        }
        assert_eq!(g.ring_ids.len(), 500);
        assert_eq!(g.ring_ids.capacity(), 500, "the ring must not reallocate");
        assert!(deleted_known > 100);
        assert_eq!(g.world.posted.len(), 50_000);
    }
}
