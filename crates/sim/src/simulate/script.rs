//! Runs one ndjson request's script into its body: each step's lines, paced at the connection's
//! rate, with keep-alive lines in the silences that call for them. (Topics sessions have their
//! own runner, `session`.)

use super::body::{BodyWriter, End};
use super::file;
use super::hostile;
use super::lines;
use super::pace::{Pacer, deadline};
use super::registry::{Registry, Tally};
use super::scenario::{Amount, Step};
use crate::generate::StreamGenerator;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Largest body chunk the runner builds: big enough for socket speed when unpaced, small
/// enough that "sent" is never far behind what the client has.
const CHUNK_BYTES: usize = 256 * 1024;
/// Writes per second of a `trickle` step.
const TRICKLE_WRITES_PER_SEC: u64 = 10;

/// What a runner needs besides its steps and its body.
pub(crate) struct Settings {
    /// The simulator's generator, shared so that ids never repeat across connections.
    pub generator: Arc<Mutex<StreamGenerator>>,
    /// Events per second; 0 = unpaced.
    pub rate: f64,
    /// Silence before a keep-alive line.
    pub keepalive: Duration,
    /// `stream_name` of disconnect messages that do not name one.
    pub stream_name: String,
}

/// Runs `steps` into `writer`, then records in the stats how the request ended.
#[tracing::instrument(skip_all, fields(index = index))]
pub(crate) async fn run(
    steps: Vec<Step>,
    settings: Settings,
    writer: BodyWriter,
    registry: Arc<Registry>,
    index: usize,
) {
    let mut runner = Runner {
        pacer: Pacer::new(settings.rate),
        settings,
        writer,
    };
    tracing::debug!(steps = steps.len(), "simulated stream started");
    let mut end = End::Eof;
    for step in &steps {
        if let Err(ended) = runner.step(step).await {
            end = ended;
            break;
        }
    }
    runner
        .writer
        .conclude(end, &registry, index, "stream")
        .await;
}

struct Runner {
    settings: Settings,
    writer: BodyWriter,
    pacer: Pacer,
}

impl Runner {
    /// Runs one step. `Err` is how the connection ends, a scripted clean end (`Eof`) included.
    async fn step(&mut self, step: &Step) -> Result<(), End> {
        match step {
            Step::Send(amount) | Step::Live(amount) => self.send(*amount).await,
            Step::File(path) => self.file(path).await,
            Step::Disconnect {
                code,
                reason,
                stream_name,
            } => {
                let name = stream_name.as_deref().unwrap_or(&self.settings.stream_name);
                let line = lines::disconnect(*code, name, reason.as_deref());
                self.line(line, "disconnect").await?;
                Err(End::Eof)
            }
            // Answered instead of a stream before the runner started.
            Step::Http { .. } => Ok(()),
            Step::Reset { mid_line } => {
                if *mid_line {
                    self.half_line().await?;
                }
                self.writer.arm_reset().await?;
                Err(End::Reset)
            }
            Step::Stall(period) => self.writer.pause(deadline(*period), None).await,
            Step::Idle(period) => {
                let keepalive = Some(self.settings.keepalive);
                self.writer.pause(deadline(*period), keepalive).await
            }
            Step::Trickle {
                count,
                bytes_per_sec,
            } => self.trickle(*count, *bytes_per_sec).await,
            Step::Oversize(bytes) => self.line(lines::oversize(*bytes), "oversize").await,
            Step::Malformed(count) => self.repeat(*count, true).await,
            Step::Warning {
                code,
                message,
                percent_full,
                user_id,
            } => {
                let line = lines::warning(code, message.as_deref(), *percent_full, *user_id);
                self.line(line, "warning").await
            }
            Step::Keepalive(count) => self.repeat(*count, false).await,
            Step::Close => Err(End::Eof),
            Step::Hostile { case, count, bytes } => self.hostile(case, *count, *bytes).await,
            Step::Raw(text) => self.line(text.clone().into_bytes(), "raw").await,
            Step::Unterminated(bytes) => {
                self.writer.unterminated(b"", *bytes).await?;
                Err(End::Eof)
            }
            // Refused before the runner started (see `Step::fits_ndjson`).
            Step::UnknownPayload(_)
            | Step::ForgetSession
            | Step::SubscriptionsEvent
            | Step::OperationalDisconnect { .. }
            | Step::UsageCapped { .. } => Err(End::Error(format!(
                "a `{}` step has no meaning on an ndjson stream",
                step.kind()
            ))),
        }
    }

    /// `amount` generated events, as many per chunk as the pace allows.
    async fn send(&mut self, amount: Amount) -> Result<(), End> {
        let mut left = amount.events();
        self.pacer.restart();
        while left > 0 {
            let due = self.pace().await?;
            let mut out = Vec::with_capacity(CHUNK_BYTES.min(64 * 1024));
            let mut tally = Tally::default();
            let events = self.generate(left.min(due), &mut out, &mut tally);
            self.writer.offer(out, &tally).await?;
            self.pacer.consumed(events);
            left -= events;
        }
        Ok(())
    }

    /// Generates up to `max_events` events (and the keep-alive lines the generator mixes in)
    /// into `out`, stopping at about [`CHUNK_BYTES`]; returns the number of events.
    fn generate(&self, max_events: u64, out: &mut Vec<u8>, tally: &mut Tally) -> u64 {
        let mut generator = self
            .settings
            .generator
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut events = 0;
        while events < max_events && out.len() < CHUNK_BYTES {
            let kind = generator.next_line(out);
            out.extend_from_slice(b"\r\n");
            if kind == "keepalive" {
                tally.keepalive();
            } else {
                tally.line(kind);
                events += 1;
            }
        }
        events
    }

    /// Waits until at least one event is due, with keep-alives in a long silence; returns how
    /// many are due.
    async fn pace(&mut self) -> Result<u64, End> {
        loop {
            let due = self.pacer.due(Instant::now());
            if due > 0 {
                return Ok(due);
            }
            let keepalive = Some(self.settings.keepalive);
            self.writer
                .pause(Some(self.pacer.next_due), keepalive)
                .await?;
        }
    }

    /// The lines of a file, paced like generated events.
    async fn file(&mut self, path: &Path) -> Result<(), End> {
        let keepalive = self.settings.keepalive;
        file::serve(path, &mut self.writer, &mut self.pacer, keepalive).await
    }

    /// One line of our own, with its terminator.
    async fn line(&mut self, mut line: Vec<u8>, kind: &'static str) -> Result<(), End> {
        line.extend_from_slice(b"\r\n");
        let mut tally = Tally::default();
        tally.line(kind);
        self.writer.write(line, &tally).await
    }

    /// `count` malformed lines, or `count` keep-alive lines, in as few chunks as possible.
    async fn repeat(&mut self, count: u64, malformed: bool) -> Result<(), End> {
        let mut n = 0;
        while n < count {
            let mut out = Vec::new();
            let mut tally = Tally::default();
            while n < count && out.len() < CHUNK_BYTES {
                if malformed {
                    out.extend_from_slice(&lines::malformed(n));
                    tally.line("malformed");
                } else {
                    tally.keepalive();
                }
                out.extend_from_slice(b"\r\n");
                n += 1;
            }
            self.writer.write(out, &tally).await?;
        }
        Ok(())
    }

    /// `count` times the lines of a hostile `case` (`all`: every case but `oversize`), each
    /// counted as `hostile/<label>`.
    async fn hostile(&mut self, case: &str, count: u64, bytes: u64) -> Result<(), End> {
        let cases: Vec<&str> = if case == "all" {
            hostile::CASES
                .iter()
                .copied()
                .filter(|c| *c != "oversize")
                .collect()
        } else {
            vec![case]
        };
        for _ in 0..count {
            let mut out = Vec::new();
            let mut tally = Tally::default();
            for case in &cases {
                let lines = hostile::lines(case, bytes)
                    .ok_or_else(|| End::Error(format!("unknown hostile case `{case}`")))?;
                for (label, line) in lines {
                    out.extend_from_slice(&line);
                    out.extend_from_slice(b"\r\n");
                    tally.line(label);
                }
            }
            self.writer.write(out, &tally).await?;
        }
        Ok(())
    }

    /// The first half of a generated event, without terminator: what a reset leaves behind.
    async fn half_line(&mut self) -> Result<(), End> {
        let mut line = Vec::new();
        loop {
            let mut generator = self
                .settings
                .generator
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if generator.next_line(&mut line) != "keepalive" {
                break;
            }
        }
        line.truncate(line.len().div_ceil(2));
        let tally = Tally::partial(line.len() as u64);
        self.writer.write(line, &tally).await
    }

    /// `count` events written a few bytes at a time, at `bytes_per_sec` overall.
    async fn trickle(&mut self, count: u64, bytes_per_sec: u64) -> Result<(), End> {
        let piece = (bytes_per_sec / TRICKLE_WRITES_PER_SEC).clamp(1, 64 * 1024);
        let gap = Duration::from_secs_f64(piece as f64 / bytes_per_sec as f64);
        for _ in 0..count {
            let mut line = Vec::new();
            let mut tally = Tally::default();
            self.generate(1, &mut line, &mut tally);
            let mut pieces = line.chunks(piece as usize).peekable();
            while let Some(chunk) = pieces.next() {
                // The line counts once its last piece, holding the terminator, is taken.
                let counted = match pieces.peek() {
                    Some(_) => Tally::default(),
                    None => std::mem::take(&mut tally),
                };
                self.writer.write(chunk.to_vec(), &counted).await?;
                self.writer.sleep(gap).await?;
            }
        }
        Ok(())
    }
}
