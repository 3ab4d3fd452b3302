//! The stop/reload signal every stream task watches: one `watch` channel per stream, set by
//! the daemon on SIGTERM/SIGINT (shutdown) or when a reload changes or removes the stream.

use tokio::sync::watch;

/// What the daemon asks of its streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Run,
    /// The stream's settings changed (or it was removed): end the connection as `reload`.
    Reload,
    /// SIGTERM/SIGINT: end the connection as `shutdown`.
    Shutdown,
}

/// Resolves once `control` leaves [`Control::Run`] (or the daemon is gone); returns the request.
pub async fn stop_requested(control: &mut watch::Receiver<Control>) -> Control {
    match control.wait_for(|c| *c != Control::Run).await {
        Ok(c) => *c,
        Err(_) => Control::Shutdown,
    }
}
