//! The world the stream talks about: snowflake ids and the user population, whose identities
//! are pure functions of the seed and whose posting is Zipf-skewed.

use rand::Rng;
use rand::rngs::SmallRng;

use super::random::{Split, exp2, log2, mix64};
use super::words::{BASE36, CJK_NAMES, EMOJI, FIRST_NAMES, HANDLE_A, HANDLE_B, LAST_NAMES};

/// Twitter's snowflake epoch (2010-11-04T01:42:54.657Z), in Unix milliseconds.
pub(super) const TWEPOCH_MS: i64 = 1_288_834_974_657;
/// Roughly the first status id of a stream: above 2^53 so that float-parsing bugs show.
pub(super) const FIRST_ID: u64 = 1_500_000_000_000_000_000;
/// The stream's clock at its first line (2022-03-05), so that the first ids are near [`FIRST_ID`].
pub(super) const START_MS: i64 = TWEPOCH_MS + (FIRST_ID >> 22) as i64;
/// First worker number of ids that are only ever deleted, never emitted.
pub(super) const WORKER_UNSEEN_DELETE: u64 = 512;
/// First worker number of originals that are only ever embedded, never emitted at the top level.
pub(super) const WORKER_UNSEEN_STATUS: u64 = 768;

/// A snowflake id: milliseconds since [`TWEPOCH_MS`], worker and sequence number.
pub(super) fn snowflake(ms: i64, worker: u64, seq: u64) -> u64 {
    (((ms - TWEPOCH_MS) as u64) << 22) | (worker << 12) | seq
}

/// The user population: identities are pure functions of (seed, index); only the counters
/// change as users post.
pub(super) struct World {
    seed: u64,
    pub(super) users: u32,
    /// log2((users + ZIPF_C) / ZIPF_C), for the log-uniform (Zipf s=1) sampler.
    zipf_span: f64,
    /// Milliseconds between the creation times of consecutive "new" accounts.
    new_step_ms: i64,
    pub(super) posted: Vec<u32>,
    pub(super) last_status: Vec<u64>,
}

const ZIPF_C: f64 = 25.0;
/// 2007-03-01, the oldest accounts of the population.
const T2007_MS: i64 = 1_172_707_200_000;
/// 2016-01-01, from when accounts get snowflake ids.
const T2016_MS: i64 = 1_451_606_400_000;

impl World {
    pub(super) fn new(seed: u64, users: u32) -> Self {
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
    pub(super) fn zipf(&self, rng: &mut SmallRng) -> u32 {
        let u: f64 = rng.random();
        let x = ZIPF_C * exp2(u * self.zipf_span) - ZIPF_C;
        (x as u32).min(self.users - 1)
    }

    /// The hash every detail of a user is derived from.
    pub(super) fn user_hash(&self, idx: u32) -> u64 {
        mix64(self.seed ^ (idx as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Most accounts of a real sample predate 2016 and have small ids.
    fn is_old_account(h: u64) -> bool {
        h % 100 < 62
    }

    /// Accounts from before 2016 have small ids, newer ones snowflake ids (above 2^53).
    pub(super) fn user_id(&self, idx: u32) -> u64 {
        let h = self.user_hash(idx);
        if Self::is_old_account(h) {
            10_000 + idx as u64 * 50_000 + (h >> 16) % 50_000
        } else {
            let ms = self.new_account_ms(idx, h);
            (((ms - TWEPOCH_MS) as u64) << 22) | ((h >> 8) & 0x3F_FFFF)
        }
    }

    /// Creation time of an account from 2016 on: spread evenly by index, then jittered.
    fn new_account_ms(&self, idx: u32, h: u64) -> i64 {
        T2016_MS + idx as i64 * self.new_step_ms + ((h >> 32) as i64 % self.new_step_ms)
    }

    /// The account's `created_at`, consistent with the kind of id it has.
    pub(super) fn user_created_ms(&self, idx: u32) -> i64 {
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
    pub(super) fn screen_name(&self, idx: u32, s: &mut String) {
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
    pub(super) fn name(&self, idx: u32, s: &mut String) {
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
