//! Connection ids given without the database, so that a stream reconnecting during a database
//! outage names its new connection at once and reads on into the spool.
//!
//! Why this design: a connection's id must be known before its first event is read (every
//! event carries it), and the connection log travels through the writer with the events, in
//! order, spooled with them while the database cannot take writes (see `pipeline`). So the id
//! cannot come from the `INSERT` any more:
//! - SQLite: the archive has a single writer (the lock file, `streamvault_store::lock`), and
//!   the spool is drained before any stream connects, so every id above the highest the
//!   archive has ever used is this process's: one read at start, then a counter.
//! - PostgreSQL: several daemons may share the archive, so ids come from the identity's
//!   sequence, [`RESERVE`] at a time, taken again in the background while the database
//!   answers once fewer than half are left. A daemon that used them all during one outage
//!   (hundreds of reconnects) waits for the database before its next attempt, without
//!   ending. Ids a daemon reserved and did not use are gaps, as a sequence's cache leaves.

use crate::shutdown::{Control, stop_requested};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use streamvault_store::{ReservedIds, Store, StoreError};
use tokio::sync::watch;

/// Ids a PostgreSQL daemon reserves at a time.
pub const RESERVE: u32 = 256;

/// How often a daemon that ran out of ids asks the database again.
const WAIT: Duration = Duration::from_secs(1);

/// The ids of one daemon, shared by its streams.
#[derive(Clone, Default)]
pub struct ConnectionIds {
    inner: Arc<Mutex<Ids>>,
}

#[derive(Default)]
struct Ids {
    /// SQLite: the next id, and every one after it.
    next: Option<i64>,
    /// PostgreSQL: ids reserved from the sequence, smallest first.
    taken: VecDeque<i64>,
    /// A reservation is under way in the background.
    refilling: bool,
}

impl ConnectionIds {
    /// The first reservation, at start (the database answers: the archive was just migrated).
    pub async fn reserve<S: Store>(store: &S, retry_for: Duration) -> Result<Self, StoreError> {
        let ids = ConnectionIds::default();
        let got =
            crate::pipeline::retrying_for(retry_for, || store.reserve_connection_ids(RESERVE))
                .await?;
        ids.add(got);
        Ok(ids)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ids> {
        // A panic while holding the lock leaves plain numbers behind: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, got: ReservedIds) {
        let mut ids = self.lock();
        match got {
            ReservedIds::From(first) => {
                ids.next = Some(ids.next.map_or(first, |n| n.max(first)));
            }
            ReservedIds::Taken(taken) => ids.taken.extend(taken),
        }
    }

    /// The next id if one is at hand; whether to reserve more.
    fn take(&self) -> (Option<i64>, bool) {
        let mut ids = self.lock();
        if let Some(next) = ids.next {
            ids.next = Some(next + 1);
            return (Some(next), false);
        }
        let id = ids.taken.pop_front();
        let refill = ids.taken.len() < RESERVE as usize / 2 && !ids.refilling;
        if refill {
            ids.refilling = true;
        }
        (id, refill)
    }

    /// The next connection id; `None` when a stop came first (only possible while a
    /// PostgreSQL daemon that used up its ids waits for the database).
    pub async fn next<S: Store>(
        &self,
        store: &S,
        stream: &str,
        control: &mut watch::Receiver<Control>,
    ) -> Option<i64> {
        let mut warned = false;
        loop {
            let (id, refill) = self.take();
            if refill {
                let (ids, store) = (self.clone(), store.clone());
                tokio::spawn(async move { ids.refill(&store).await });
            }
            if let Some(id) = id {
                return Some(id);
            }
            if !warned {
                tracing::warn!(
                    stream,
                    "every reserved connection id is used and the database does not answer: \
                     the stream waits for it before reconnecting"
                );
                warned = true;
            }
            tokio::select! {
                biased;
                _ = stop_requested(control) => return None,
                _ = tokio::time::sleep(WAIT) => {}
            }
        }
    }

    /// One reservation attempt (the next [`ConnectionIds::take`] tries again if it fails).
    async fn refill<S: Store>(&self, store: &S) {
        let got = store.reserve_connection_ids(RESERVE).await;
        match got {
            Ok(got) => self.add(got),
            Err(e) => tracing::debug!(error = %e, "cannot reserve connection ids now"),
        }
        self.lock().refilling = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_writer_counts_on_from_the_highest_id() {
        let ids = ConnectionIds::default();
        ids.add(ReservedIds::From(8));
        assert_eq!(ids.take(), (Some(8), false));
        assert_eq!(ids.take(), (Some(9), false));
    }

    #[test]
    fn reserved_ids_are_used_in_order_and_refilled_before_they_run_out() {
        let ids = ConnectionIds::default();
        let half = RESERVE as i64 / 2;
        ids.add(ReservedIds::Taken((1..=half + 1).collect()));
        assert_eq!(ids.take(), (Some(1), false)); // half left: no refill yet
        assert_eq!(ids.take(), (Some(2), true)); // fewer than half: one refill
        assert_eq!(ids.take(), (Some(3), false)); // already under way
        ids.lock().refilling = false;
        ids.lock().taken.clear();
        assert_eq!(ids.take(), (None, true));
    }
}
