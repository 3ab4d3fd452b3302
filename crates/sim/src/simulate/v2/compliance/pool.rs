//! The pool of Posts a prefix's v2 Post streams delivered, which compliance events are drawn
//! from, and the small random tools the drawing uses.

use std::collections::{HashMap, HashSet};

/// Most Posts a prefix's pool holds; later ones replace earlier ones at a position their
/// position's hash picks, so that memory stays bounded (about 40 bytes each).
pub const POOL_CAP: usize = 500_000;

/// The finaliser of splitmix64: a cheap, well-spread hash.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random sequence.
pub(crate) struct Rng(pub u64);

impl Rng {
    /// The next number of the sequence.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A set of ids drawn from at random: O(1) insert, remove and draw, in an order that only
/// depends on the operations made.
#[derive(Debug, Default)]
pub(crate) struct PickSet {
    items: Vec<u64>,
    at: HashMap<u64, usize>,
}

impl PickSet {
    /// Adds `id` (once).
    pub fn insert(&mut self, id: u64) {
        if !self.at.contains_key(&id) {
            self.at.insert(id, self.items.len());
            self.items.push(id);
        }
    }

    /// Removes `id`, if there.
    pub fn remove(&mut self, id: u64) {
        if let Some(i) = self.at.remove(&id) {
            self.items.swap_remove(i);
            if let Some(moved) = self.items.get(i) {
                self.at.insert(*moved, i);
            }
        }
    }

    /// Whether `id` is in.
    pub fn contains(&self, id: u64) -> bool {
        self.at.contains_key(&id)
    }

    /// One id at random, if any.
    pub fn draw(&self, rng: &mut Rng) -> Option<u64> {
        (!self.items.is_empty()).then(|| self.items[rng.below(self.items.len() as u64) as usize])
    }
}

/// The Posts delivered under one prefix, by global position.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    /// Global positions, in the order they were added (until the cap).
    pub posts: Vec<u64>,
    seen: HashSet<u64>,
}

impl Pool {
    /// Adds a delivered Post (once, however often it was delivered).
    pub fn add(&mut self, k: u64) {
        if !self.seen.insert(k) {
            return;
        }
        if self.posts.len() < POOL_CAP {
            self.posts.push(k);
        } else {
            let i = (mix64(k) % POOL_CAP as u64) as usize;
            self.seen.remove(&self.posts[i]);
            self.posts[i] = k;
        }
    }

    /// Posts it holds.
    pub fn len(&self) -> usize {
        self.posts.len()
    }
}
