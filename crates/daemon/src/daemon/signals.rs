//! Signals with signal-hook: caught on a thread of its own and handed to the async main loop,
//! so that handlers never run arbitrary code in signal context.

use super::RunError;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use tokio::sync::mpsc;

/// Signals handed from signal-hook's thread to the async main loop.
pub(super) fn signal_channel()
-> Result<(mpsc::Receiver<i32>, signal_hook::iterator::Handle), RunError> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1])
        .map_err(RunError::Signals)?;
    let handle = signals.handle();
    let (sender, receiver) = mpsc::channel(16);
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if sender.blocking_send(signal).is_err() {
                    break;
                }
            }
        })
        .map_err(RunError::Signals)?;
    Ok((receiver, handle))
}
