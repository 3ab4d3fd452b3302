//! Before a stream connects: its claim (one daemon per stream), then the rows a crash left open.
//!
//! A second daemon on a PostgreSQL archive waits for the first to let go of a stream rather than
//! connect it beside it (a real server would drop one as a duplicate stream) or close the
//! first's live connection rows as `crash`. Only once the stream is claimed are its open rows
//! known to be a dead holder's, and closed.

use crate::pipeline::retrying_for;
use crate::shutdown::{Control, stop_requested};
use std::time::Duration;
use streamvault_store::{Store, StoreError, StreamClaim};
use tokio::sync::watch;

/// How often a waiting daemon asks again for a stream another one holds.
const CLAIM_RETRY: Duration = Duration::from_secs(2);

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
