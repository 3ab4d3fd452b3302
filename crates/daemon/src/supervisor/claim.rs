//! Before a stream connects: its claim (one daemon per stream), then the rows a crash left open;
//! and while it runs, a watch on the claim.
//!
//! A second daemon on a PostgreSQL archive waits for the first to let go of a stream rather than
//! connect it beside it (a real server would drop one as a duplicate stream) or close the
//! first's live connection rows as `crash`. Only once the stream is claimed are its open rows
//! known to be a dead holder's, and closed.
//!
//! The claim is a session advisory lock: it goes, silently, with its session (a server restart,
//! a network cut, `pg_terminate_backend`). So the session is asked every [`CHECK_EVERY`]
//! whether it still answers. When it does not, the stream is claimed again at once, on a new
//! session:
//! - granted: no other daemon holds the stream, so none runs it now (a daemon holds the claim
//!   for as long as it is connected); the connection goes on, with a warning;
//! - another daemon holds it: this daemon's connection is closed (`claim_lost`) and the
//!   stream waits, like a standby, until the other lets go, then reconnects;
//! - the database does not answer: nobody can be granted the claim through it then either
//!   (short of a network cut between this daemon and the database alone), and stopping would
//!   lose what the stream sends during the outage; so the stream reads on into the spool, and
//!   the claim is asked for again at every check until the database answers.

use crate::pipeline::retrying_for;
use crate::shutdown::{Control, stop_requested};
use std::time::Duration;
use streamvault_store::{ClaimHolder, Store, StoreError, StreamClaim};
use tokio::sync::watch;

/// How often a waiting daemon asks again for a stream another one holds.
const CLAIM_RETRY: Duration = Duration::from_secs(2);

/// How often a held claim's session is checked.
pub(super) const CHECK_EVERY: Duration = Duration::from_secs(3);

/// How long claiming again may take before the database counts as not answering.
const RECLAIM_TIMEOUT: Duration = Duration::from_secs(5);

/// Claims `name`, waiting while another daemon holds it (logged once); `None` when a stop or
/// reload came first. The stream's rows left open by a crash are closed once it is claimed.
pub(super) async fn claim<S: Store>(
    store: &S,
    name: &str,
    control: &mut watch::Receiver<Control>,
    retry_for: Duration,
) -> Result<Option<StreamClaim>, StoreError> {
    let mut waited = false;
    let claim = loop {
        if *control.borrow() != Control::Run {
            return Ok(None);
        }
        match retrying_for(retry_for, || store.claim_stream(name)).await? {
            Ok(claim) => break claim,
            Err(holder) => {
                if !waited {
                    tracing::warn!(
                        stream = %name,
                        %holder,
                        "another daemon runs this stream; waiting until it lets go"
                    );
                    waited = true;
                }
                tokio::select! {
                    biased;
                    _ = stop_requested(control) => return Ok(None),
                    _ = tokio::time::sleep(CLAIM_RETRY) => {}
                }
            }
        }
    };
    if waited {
        tracing::info!(stream = %name, "stream claimed: the other daemon let go");
    }
    let closed = retrying_for(retry_for, || store.close_abandoned(name)).await?;
    if closed > 0 {
        tracing::warn!(stream = %name, rows = closed, "connections left open by a crash are now closed as `crash`");
    }
    Ok(Some(claim))
}

/// A held claim, watched (see the module documentation).
pub(super) struct Held {
    claim: StreamClaim,
    /// Whether the claim is a session's, which can be lost (PostgreSQL).
    watched: bool,
    /// The claim is lost and the database did not answer (logged once per outage).
    unanswered: bool,
    /// The claim is lost and another daemon holds the stream (found by [`Held::taken`]).
    taken: bool,
}

impl Held {
    pub(super) fn new(claim: StreamClaim) -> Held {
        Held {
            watched: claim.has_session(),
            claim,
            unanswered: false,
            taken: false,
        }
    }

    /// Lets go of the stream.
    pub(super) async fn release(self) {
        self.claim.release().await;
    }

    /// Resolves once another daemon holds the stream (checked every [`CHECK_EVERY`]); a lost
    /// claim nobody else took is taken again on the way. Never resolves for a claim that
    /// cannot be lost (SQLite's, implied by the archive's lock).
    pub(super) async fn taken<S: Store>(&mut self, store: &S, name: &str) -> ClaimHolder {
        if !self.watched {
            return std::future::pending().await;
        }
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            if let Some(holder) = self.check(store, name).await {
                self.taken = true;
                return holder;
            }
        }
    }

    /// Before a connection attempt: `Ok(true)` once the stream is this daemon's (waiting like a
    /// standby while another daemon holds it), `Ok(false)` when a stop came first.
    pub(super) async fn ensure<S: Store>(
        &mut self,
        store: &S,
        name: &str,
        control: &mut watch::Receiver<Control>,
        retry_for: Duration,
    ) -> Result<bool, StoreError> {
        let taken = std::mem::take(&mut self.taken);
        if !self.watched || (!taken && self.check(store, name).await.is_none()) {
            return Ok(true);
        }
        match claim(store, name, control, retry_for).await? {
            Some(claim) => {
                self.claim = claim;
                self.unanswered = false;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// One check: who holds the stream when another daemon does; `None` when it is (still, or
    /// again) this daemon's, or the database cannot say.
    async fn check<S: Store>(&mut self, store: &S, name: &str) -> Option<ClaimHolder> {
        if self.claim.alive().await {
            return None;
        }
        let again = tokio::time::timeout(RECLAIM_TIMEOUT, store.claim_stream(name)).await;
        match again {
            Ok(Ok(Ok(claim))) => {
                tracing::warn!(
                    stream = %name,
                    "the stream's claim was lost (its database session ended) and is taken again: \
                     no other daemon holds it, the connection goes on"
                );
                self.claim = claim;
                self.unanswered = false;
                None
            }
            Ok(Ok(Err(holder))) => {
                tracing::warn!(
                    stream = %name,
                    %holder,
                    "the stream's claim was lost (its database session ended) and another daemon \
                     holds it now: closing this daemon's connection and waiting until it lets go"
                );
                Some(holder)
            }
            Ok(Err(_)) | Err(_) => {
                if !self.unanswered {
                    tracing::warn!(
                        stream = %name,
                        "the stream's claim was lost (its database session ended) and cannot be \
                         taken again while the database does not answer: reading on, and asking \
                         again every few seconds"
                    );
                    self.unanswered = true;
                }
                None
            }
        }
    }
}
