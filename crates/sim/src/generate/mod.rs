//! Deterministic generator of realistic v1.1 stream traffic, for benchmarks, the simulator and tests
//! ([`posts`] holds the X API v2 Posts of the simulator's v2 streams).
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

mod content;
mod entities;
mod json;
mod links;
mod memory;
mod notices;
pub mod posts;
mod random;
mod status;
mod tweets;
mod user;
mod words;
mod world;

#[cfg(test)]
mod tests;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, VecDeque};
use std::io;

use content::Scratch;
use memory::{POOL_CAP, Pending, RING_CAP, StatusSpec, TRENDING};
use random::{log2, mix64};
use world::{START_MS, World};

/// Mean time between two lines: 50 lines per second, like a busy filter connection.
const MEAN_GAP_MS: f64 = 20.0;
/// Share of lines (percent) that are blank keep-alive lines. Real connections send them during
/// lulls; a few of them exercise the consumer's keep-alive path without a knob of their own.
const KEEPALIVE_PCT: f64 = 0.1;
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
                self.write_limit(out);
                "limit"
            }
            _ => {
                self.write_tweet(out);
                "tweet"
            }
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
