//! A Bloom filter of the keys compliance notices concern (deleted, withheld and dropped tweets,
//! scrubbed and withheld users, users with a state), so that a batch none of whose statuses or users any notice concerns
//! skips the compliance lookup: four indexed queries over every id of the batch, the largest
//! cost a batch has beyond its inserts.
//!
//! The filter follows the archive's `notice_keys` table (kept by triggers, whoever writes):
//! each batch first reads the keys added since the filter's last sequence number, inside its
//! own transaction, so another process's notices are seen as soon as they are committed. A
//! false positive only costs the lookup the filter exists to avoid; there are no false
//! negatives.

/// Bits in the filter: 8 MiB, about 1% false positives at 7 million keys.
const BITS: usize = 1 << 26;
/// Probes per key.
const PROBES: u64 = 5;

/// What a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i64)]
pub enum KeyKind {
    DeletedTweet = 0,
    ScrubbedUser = 1,
    WithheldTweet = 2,
    WithheldUser = 3,
    /// A Post a `drop`/`undrop` event concerns.
    StatedTweet = 4,
    /// A user a user-state event (`user_delete`, `user_protect`, ...) concerns.
    StatedUser = 5,
}

/// The filter and how far it has read `notice_keys`.
#[derive(Debug)]
pub struct NoticeFilter {
    bits: Vec<u64>,
    /// The last `notice_keys.seq` taken in.
    pub seen: i64,
}

impl Default for NoticeFilter {
    fn default() -> Self {
        NoticeFilter {
            bits: vec![0; BITS / 64],
            seen: 0,
        }
    }
}

impl NoticeFilter {
    /// Takes in one key (`kind` as stored in `notice_keys`).
    pub fn insert(&mut self, kind: i64, key: i64) {
        for bit in probes(kind, key) {
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// False only if no notice of this kind concerns `key`.
    pub fn may_contain(&self, kind: KeyKind, key: i64) -> bool {
        probes(kind as i64, key).all(|bit| self.bits[bit / 64] & (1 << (bit % 64)) != 0)
    }
}

/// Bit positions of a key: double hashing over a 64-bit mix.
fn probes(kind: i64, key: i64) -> impl Iterator<Item = usize> {
    let h = mix((key as u64) ^ (kind as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let (a, b) = (h, mix(h) | 1);
    (0..PROBES).map(move |i| (a.wrapping_add(i.wrapping_mul(b)) % BITS as u64) as usize)
}

/// SplitMix64's finalizer: every input bit moves every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let mut f = NoticeFilter::default();
        for id in (0..100_000i64).map(|i| i * 7919 + 1_234_567_890_123) {
            f.insert(KeyKind::DeletedTweet as i64, id);
        }
        for id in (0..100_000i64).map(|i| i * 7919 + 1_234_567_890_123) {
            assert!(f.may_contain(KeyKind::DeletedTweet, id));
        }
        let false_positives = (0..100_000i64)
            .filter(|i| f.may_contain(KeyKind::DeletedTweet, i * 7919 + 1_234_567_890_124))
            .count();
        assert!(false_positives < 10, "{false_positives}");
        // Kinds are separate: a deleted tweet id is not a withheld one.
        let crossed = (0..100_000i64)
            .filter(|i| f.may_contain(KeyKind::WithheldTweet, i * 7919 + 1_234_567_890_123))
            .count();
        assert!(crossed < 10, "{crossed}");
    }
}
