//! The script steps every v2 stream serves the same way (Post streams and compliance streams):
//! everything but sending its own events.

use super::problems;
use crate::simulate::body::{BodyWriter, End};
use crate::simulate::file;
use crate::simulate::lines;
use crate::simulate::pace::{Pacer, deadline};
use crate::simulate::registry::Tally;
use crate::simulate::scenario::Step;
use std::time::Duration;

/// What a step may touch of its stream's runner.
pub(super) struct StepContext<'a> {
    pub writer: &'a mut BodyWriter,
    pub pacer: &'a mut Pacer,
    pub keepalive: Duration,
    /// Names the stream in the refusal of a step it has no meaning for (`v2`, `compliance`).
    pub family: &'static str,
}

/// Serves `step`, which is not `Send` (the runner sends its own events).
pub(super) async fn serve(step: &Step, cx: StepContext<'_>) -> Result<(), End> {
    let writer = cx.writer;
    match step {
        Step::OperationalDisconnect {
            disconnect_type,
            detail,
        } => {
            let line = problems::operational_disconnect(disconnect_type, detail.as_deref());
            notice(writer, line, "operational_disconnect").await?;
            Err(End::Eof)
        }
        Step::Reset { .. } => {
            writer.arm_reset().await?;
            Err(End::Reset)
        }
        Step::Stall(period) => writer.pause(deadline(*period), None).await,
        Step::Idle(period) => writer.pause(deadline(*period), Some(cx.keepalive)).await,
        Step::Oversize(bytes) => notice(writer, lines::oversize(*bytes), "oversize").await,
        Step::Malformed(count) => {
            for n in 0..*count {
                notice(writer, lines::malformed(n), "malformed").await?;
            }
            Ok(())
        }
        Step::Keepalive(count) => {
            for _ in 0..*count {
                writer.keepalive().await?;
            }
            writer.flush().await
        }
        Step::Raw(text) => notice(writer, text.clone().into_bytes(), "raw").await,
        Step::File(path) => file::serve(path, writer, cx.pacer, cx.keepalive).await,
        Step::Unterminated(bytes) => {
            writer.unterminated(b"", *bytes).await?;
            Err(End::Eof)
        }
        Step::Close => Err(End::Eof),
        // Answered instead of a stream before the runner started; other steps are refused
        // then too (see `Step::fits_v2`).
        Step::Http { .. } | Step::UsageCapped { .. } => Ok(()),
        other => Err(End::Error(format!(
            "a `{}` step has no meaning on a {} stream",
            other.kind(),
            cx.family
        ))),
    }
}

/// One line of our own, with its terminator, once the client has taken it.
pub(super) async fn notice(
    writer: &mut BodyWriter,
    mut line: Vec<u8>,
    kind: &'static str,
) -> Result<(), End> {
    line.extend_from_slice(b"\r\n");
    let mut tally = Tally::default();
    tally.line(kind);
    writer.write(line, &tally).await
}
