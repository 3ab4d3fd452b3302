//! Counting records into the metrics allocates nothing once a stream's series exist: the
//! writer's per-batch update and a source's or supervisor's per-chunk and per-connection
//! updates are measured with a counting allocator.
//!
//! `unsafe` here only implements `GlobalAlloc` by forwarding to the system allocator (the one
//! way to count allocations); nothing else in this file uses it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;
use streamvault::metrics::Metrics;
use streamvault::protocol::Kind;

/// The system allocator, counting the allocations of a thread while it is armed.
struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: a thread being torn down has no thread-locals left.
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract; the
// counting touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's guarantees for `layout` are passed on as they are.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    COUNT.with(|c| c.get())
}

#[test]
fn the_counter_works() {
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);
}

#[test]
fn the_writer_counts_a_batch_without_allocating() {
    let metrics = Metrics::new();
    let streams: Vec<Arc<str>> = ["main", "second", "third"].map(Arc::from).into();
    let kinds = [Kind::Tweet, Kind::Delete, Kind::Limit, Kind::ScrubGeo];
    let events: Vec<(&Arc<str>, Kind)> = (0..3_000)
        .map(|i| (&streams[i % 3], kinds[i % kinds.len()]))
        .collect();
    let rejects: Vec<&Arc<str>> = (0..300).map(|i| &streams[i % 3]).collect();
    let commit = |metrics: &Metrics| {
        metrics.committed(
            events.iter().copied(),
            rejects.iter().copied(),
            Some(1_700_000_000_000),
        );
        metrics.batches.inc();
        metrics.batch_latency.observe(Duration::from_millis(12));
        metrics.compliance_actions.inc_by(7);
        metrics.notice_latency.observe(Duration::from_millis(40));
    };
    // The first batch makes the series (this is where allocating is allowed).
    commit(&metrics);
    assert_eq!(allocations(|| commit(&metrics)), 0);
    // i ≡ 1 (mod 12): 250 a batch, two batches.
    assert_eq!(metrics.events_committed("second", Kind::Delete), 500);
}

#[test]
fn a_stream_counts_its_reads_and_connections_without_allocating() {
    let metrics = Metrics::new();
    let state = metrics.stream("main");
    // A code's first disconnect makes its series.
    state.note_disconnect(7);
    let n = allocations(|| {
        for _ in 0..10_000 {
            state.read(3, 1_200);
        }
        state.connections.inc();
        state.set_connected(true);
        state.set_connected(false);
        state.stalls.inc();
        state.set_backoff(Duration::from_secs(5));
        state.note_disconnect(7);
        metrics.channel_depth.set(3);
        metrics.spool.spooled_records.inc_by(10);
        metrics.spool.bytes.set(4096);
    });
    assert_eq!(n, 0);
    assert_eq!(state.messages.get(), 30_000);
    assert_eq!(state.disconnect_codes(), vec![(7, 2)]);
}
