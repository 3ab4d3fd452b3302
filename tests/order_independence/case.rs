//! One property case ([`Case`]): a world, a permutation of its lines, and the batch size each
//! replay cuts its stream into.

use super::scenario::scenario;
use super::world::{Line, World, resolve};
use proptest::prelude::*;
use std::fmt;

/// One property case: the universe, a permutation of its lines, and a batch size per replay.
#[derive(Clone)]
pub struct Case {
    pub world: World,
    pub order: Vec<usize>,
    pub canonical_batch: usize,
    pub permuted_batch: usize,
}

impl Case {
    pub fn canonical(&self) -> Vec<&Line> {
        self.world.lines.iter().collect()
    }

    pub fn permuted(&self) -> Vec<&Line> {
        self.order.iter().map(|&i| &self.world.lines[i]).collect()
    }
}

fn labels(lines: &[&Line]) -> String {
    lines
        .iter()
        .map(|l| l.label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        writeln!(
            f,
            "  canonical (batch {}): [{}]",
            self.canonical_batch,
            labels(&self.canonical())
        )?;
        writeln!(
            f,
            "  permuted  (batch {}): [{}]",
            self.permuted_batch,
            labels(&self.permuted())
        )?;
        writeln!(f, "  lines:")?;
        for l in &self.world.lines {
            writeln!(f, "    {}: {}", l.label, l.json)?;
        }
        Ok(())
    }
}

fn batch_size() -> impl Strategy<Value = usize> {
    // 1..=5 cuts the stream into many transactions; 1000 takes it whole.
    prop_oneof![3 => 1..=5usize, 1 => Just(1000usize)]
}

/// Most lines a scenario has: 8 originals, 4 retweets or quotes, 6 notices, 3 repeats.
const MAX_LINES: usize = 21;

pub fn case() -> impl Strategy<Value = Case> {
    // The permutation sorts the lines by a random key each (ties keep the canonical order), so
    // that it shrinks independently of the scenario, towards the canonical order.
    (
        scenario(),
        prop::collection::vec(0..32u8, MAX_LINES),
        batch_size(),
        batch_size(),
    )
        .prop_map(|(s, keys, canonical_batch, permuted_batch)| {
            let world = resolve(&s);
            let mut order: Vec<usize> = (0..world.lines.len()).collect();
            order.sort_by_key(|&i| (keys[i], i));
            Case {
                world,
                order,
                canonical_batch,
                permuted_batch,
            }
        })
}
