//! Portable randomness: float math without the platform's libm, splitmix hashing and
//! weighted picks, so that output depends only on the seed.

use rand::Rng;
use rand::rngs::SmallRng;

use super::words::SOURCES;

// The three functions below use only IEEE-754 basic operations (exactly rounded everywhere), so
// that the output does not depend on the last bits of the platform libm's `ln`, `exp`, `powf`.

/// log2(x) for finite x > 0 (subnormals excepted), to about 2^-24: plenty for drawing delays.
pub(super) fn log2(x: f64) -> f64 {
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
pub(super) fn exp2(y: f64) -> f64 {
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
pub(super) fn pow10(y: f64) -> f64 {
    exp2(y * std::f64::consts::LOG2_10)
}

/// One splitmix64 step from state `z`: a portable hash for seeds and per-item details.
pub(super) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A splitmix64 stream: cheap, portable derivation of per-user and per-link details.
pub(super) struct Split(pub(super) u64);

impl Split {
    /// The next 64 random bits.
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// A number in `0..n`, by multiplication rather than modulo.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    /// A number in `[0, 1)`.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An index into `weights`, drawn in proportion to them.
pub(super) fn pick_weighted(rng: &mut SmallRng, weights: &[u32]) -> usize {
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

/// An index into [`SOURCES`], drawn by the clients' shares.
pub(super) fn pick_source(rng: &mut SmallRng) -> usize {
    let mut r = rng.random_range(0..100u32);
    for (i, s) in SOURCES.iter().enumerate() {
        if r < s.1 {
            return i;
        }
        r -= s.1;
    }
    0
}
