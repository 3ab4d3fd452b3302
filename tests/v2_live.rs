//! `streamvault run` against the simulator's X API v2 streams (issue 19), on both backends:
//! rules kept as configuration, exact counts (filtered, sample, a partitioned firehose), every
//! way a v2 connection ends with the wait of its class, and backfill after a gap.

mod common;

#[path = "v2_live/support.rs"]
mod support;

#[path = "v2_live/rules.rs"]
mod rules;

#[path = "v2_live/counts.rs"]
mod counts;

#[path = "v2_live/disconnects.rs"]
mod disconnects;

#[path = "v2_live/backfill.rs"]
mod backfill;
